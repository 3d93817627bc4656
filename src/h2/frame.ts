/**
 * HTTP/2 frame codec (RFC 9113 §4, §6; RFC 9218 §7.1): the public face of src/h2/frames/.
 *
 * - frames/types.ts    frame values, type codes, flags
 * - frames/header.ts   9-octet header, preface, size limits
 * - frames/decode.ts   payload decoders with each type's rules
 * - frames/encode.ts   encoders; DATA as pieces for writev; field blocks split into CONTINUATION
 * - frames/decoder.ts  incremental FrameDecoder over a byte stream
 * - frames/field-block.ts  HEADERS/PUSH_PROMISE + CONTINUATION joined into whole field blocks
 * - frames/format.ts  one-line frame descriptions for traces
 */
export * from './frames/types.js';
export * from './frames/header.js';
export { checkPriority, decodeFrame } from './frames/decode.js';
export * from './frames/encode.js';
export * from './frames/decoder.js';
export * from './frames/field-block.js';
export { formatFrame } from './frames/format.js';
