/**
 * HTTP/1.1 message heads (RFC 9112 §2–§5): incremental request and response head parsers, and the
 * pieces they are built from. The implementation lives in ./parse/; this file is the public face.
 */
export { RequestHeadParser, ResponseHeadParser } from './parse/head.js';
export type { RequestHead, ResponseHead, HeadResult, HeadLimits, HttpVersion } from './parse/head.js';
export { FieldSectionReader } from './parse/fields.js';
export type { FieldList, FieldSectionOptions } from './parse/fields.js';
export { LineReader, toBuffer } from './parse/lines.js';
export { parseRequestLine, parseStatusLine } from './parse/start-line.js';
export type { RequestLine, StatusLine } from './parse/start-line.js';
export { parseTarget, isValidAuthority, isOriginForm } from './parse/target.js';
export type { ParsedTarget, TargetForm } from './parse/target.js';
