/**
 * HTTP/3 field sections as messages (RFC 9114 §4.2, §4.3): turning decoded field lines into a
 * request head, a response head or trailers, and back. Anything that makes a message malformed
 * (RFC 9114 §4.1.2) throws an H3Error H3_MESSAGE_ERROR of stream scope:
 *   - uppercase or invalid characters in a name, CR/LF/NUL or edge whitespace in a value (§4.2);
 *   - connection-specific fields, TE other than "trailers" (§4.2);
 *   - unknown pseudo-headers, repeated ones, request ones in responses or the reverse,
 *     pseudo-headers after regular fields or in trailers (§4.3);
 *   - missing :method/:scheme/:path, empty :path, :authority/Host rules, CONNECT rules (§4.3.1, §4.4);
 *   - a missing or invalid :status (§4.3.2).
 */
import { HeaderList } from '../../core/headers.js';
import { H3Error, H3ErrorCode } from '../errors.js';
import type { FieldLine } from '../qpack/decoder.js';

export interface RequestHead {
  method: string;
  /** Absent only for CONNECT (RFC 9114 §4.4). */
  scheme: string | undefined;
  authority: string | undefined;
  path: string | undefined;
  headers: HeaderList;
}

export interface ResponseHead {
  status: number;
  headers: HeaderList;
}

/** RFC 9114 §4.2: these have no meaning in HTTP/3 and make a message malformed. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);
const RESPONSE_PSEUDO = new Set([':status']);
const NO_PSEUDO = new Set<string>();

// RFC 9110 §5.1 token, lowercase only (RFC 9114 §4.2: uppercase names are malformed).
const LOWER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// RFC 9110 §5.5: no NUL, CR or LF anywhere; no leading or trailing SP/HTAB.
const BAD_VALUE = /[\0\r\n]|^[ \t]|[ \t]$/;
const STATUS = /^[1-9][0-9]{2}$/;

export function malformed(message: string, section = 'RFC 9114 §4.1.2'): H3Error {
  return new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, message, section, 'stream');
}

function checkRegularField(name: string, value: string): void {
  if (!LOWER_TOKEN.test(name)) throw malformed(`invalid field name ${JSON.stringify(name)}`, 'RFC 9114 §4.2');
  if (BAD_VALUE.test(value)) throw malformed(`invalid value for field ${name}`, 'RFC 9114 §4.2');
  if (CONNECTION_SPECIFIC.has(name)) throw malformed(`connection-specific field ${name}`, 'RFC 9114 §4.2');
}

/** The pseudo-header fields of one message (RFC 9114 §4.3); undefined when absent. */
interface PseudoHeaders {
  ':method': string | undefined;
  ':scheme': string | undefined;
  ':authority': string | undefined;
  ':path': string | undefined;
  ':status': string | undefined;
}

/**
 * Splits pseudo-headers from regular fields, checking order, repeats and the regular fields.
 * `allowed` is the set of pseudo-headers this kind of message may carry (all of them are keys of
 * PseudoHeaders). The regular field lines are adopted as they are, not copied one by one.
 */
function splitFields(lines: FieldLine[], allowed: ReadonlySet<string>): { pseudo: PseudoHeaders; headers: HeaderList } {
  const pseudo: PseudoHeaders = { ':method': undefined, ':scheme': undefined, ':authority': undefined, ':path': undefined, ':status': undefined };
  let first = 0;
  for (; first < lines.length; first++) {
    const [name, value] = lines[first]!;
    if (!name.startsWith(':')) break;
    // RFC 9114 §4.3: pseudo-headers come first, are defined for this message kind, once each.
    if (!allowed.has(name)) throw malformed(`pseudo-header ${name} not allowed here`, 'RFC 9114 §4.3');
    const key = name as keyof PseudoHeaders;
    if (pseudo[key] !== undefined) throw malformed(`repeated pseudo-header ${name}`, 'RFC 9114 §4.3');
    if (BAD_VALUE.test(value)) throw malformed(`invalid value for ${name}`, 'RFC 9114 §4.2');
    pseudo[key] = value;
  }
  for (let i = first; i < lines.length; i++) {
    const [name, value] = lines[i]!;
    if (name.startsWith(':')) throw malformed(`pseudo-header ${name} after regular fields`, 'RFC 9114 §4.3');
    checkRegularField(name, value);
  }
  return { pseudo, headers: HeaderList.fromPairs(lines.slice(first)) };
}

/** A request header section (RFC 9114 §4.3.1, §4.4). */
export function parseRequestHead(lines: FieldLine[]): RequestHead {
  const { pseudo, headers } = splitFields(lines, REQUEST_PSEUDO);
  const method = pseudo[':method'];
  const scheme = pseudo[':scheme'];
  const authority = pseudo[':authority'];
  const path = pseudo[':path'];
  if (method === undefined) throw malformed('missing :method', 'RFC 9114 §4.3.1');
  if (!LOWER_TOKEN.test(method.toLowerCase())) throw malformed('invalid :method', 'RFC 9114 §4.3.1');
  // RFC 9114 §4.2: TE may appear in a request, with no value other than "trailers".
  for (const te of headers.getAll('te')) {
    if (te.trim().toLowerCase() !== 'trailers') throw malformed('TE other than "trailers"', 'RFC 9114 §4.2');
  }
  if (method === 'CONNECT') {
    // RFC 9114 §4.4: :scheme and :path omitted, :authority is the host and port to connect to.
    if (scheme !== undefined || path !== undefined) throw malformed('CONNECT with :scheme or :path', 'RFC 9114 §4.4');
    if (!authority) throw malformed('CONNECT without :authority', 'RFC 9114 §4.4');
    return { method, scheme, authority, path, headers };
  }
  if (scheme === undefined) throw malformed('missing :scheme', 'RFC 9114 §4.3.1');
  if (path === undefined) throw malformed('missing :path', 'RFC 9114 §4.3.1');
  const isHttp = scheme === 'http' || scheme === 'https';
  if (isHttp) {
    // RFC 9114 §4.3.1: not empty for http(s); "*" only in OPTIONS requests.
    if (path === '') throw malformed('empty :path', 'RFC 9114 §4.3.1');
    if (path === '*' ? method !== 'OPTIONS' : !path.startsWith('/')) throw malformed(`invalid :path ${JSON.stringify(path)}`, 'RFC 9114 §4.3.1');
    // RFC 9114 §4.3.1: :authority or Host, not empty, and the same when both are present.
    const hosts = headers.getAll('host');
    if (hosts.length > 1) throw malformed('repeated Host', 'RFC 9114 §4.3.1');
    const host = hosts[0];
    if (authority === undefined && host === undefined) throw malformed('neither :authority nor Host', 'RFC 9114 §4.3.1');
    if (authority === '' || host === '') throw malformed('empty :authority or Host', 'RFC 9114 §4.3.1');
    if (authority !== undefined && host !== undefined && authority !== host) throw malformed(':authority and Host differ', 'RFC 9114 §4.3.1');
  }
  if (authority !== undefined && /[\s@]/.test(authority)) throw malformed('invalid :authority', 'RFC 9114 §4.3.1');
  return { method, scheme, authority, path, headers };
}

/** A response header section, interim or final (RFC 9114 §4.3.2). */
export function parseResponseHead(lines: FieldLine[]): ResponseHead {
  const { pseudo, headers } = splitFields(lines, RESPONSE_PSEUDO);
  const status = pseudo[':status'];
  if (status === undefined) throw malformed('missing :status', 'RFC 9114 §4.3.2');
  if (!STATUS.test(status)) throw malformed(`invalid :status ${JSON.stringify(status)}`, 'RFC 9114 §4.3.2');
  // 101 Switching Protocols does not exist in HTTP/3 (RFC 9114 §4.5).
  if (status === '101') throw malformed('101 Switching Protocols', 'RFC 9114 §4.5');
  return { status: Number(status), headers };
}

/** A trailer section: regular fields only (RFC 9114 §4.3). */
export function parseTrailers(lines: FieldLine[]): HeaderList {
  return splitFields(lines, NO_PSEUDO).headers;
}

/**
 * The Content-Length of a message, or undefined (RFC 9110 §8.6). Repeats must agree; anything
 * else makes the message malformed (RFC 9114 §4.1.2).
 */
export function contentLength(headers: HeaderList): number | undefined {
  const values = headers.getAll('content-length');
  if (values.length === 0) return undefined;
  let length: number | undefined;
  for (const value of values) {
    for (const part of value.split(',')) {
      const trimmed = part.trim();
      if (!/^[0-9]{1,15}$/.test(trimmed)) throw malformed('invalid Content-Length', 'RFC 9110 §8.6');
      const n = Number(trimmed);
      if (length !== undefined && n !== length) throw malformed('conflicting Content-Length values', 'RFC 9110 §8.6');
      length = n;
    }
  }
  return length;
}

// ---- sending ----

/** Size of a field section as SETTINGS_MAX_FIELD_SECTION_SIZE counts it: name + value + 32 per line (RFC 9114 §4.2.2). */
export function fieldSectionSize(lines: Iterable<readonly [string, string]>): number {
  let size = 0;
  for (const [name, value] of lines) size += Buffer.byteLength(name) + Buffer.byteLength(value) + 32;
  return size;
}

/**
 * fieldSectionSize(lines) <= limit, usually without measuring UTF-8: a string of n UTF-16 code
 * units is at most 3n bytes, so sections far below the limit pass on their lengths alone.
 */
export function fieldSectionFits(lines: readonly (readonly [string, string])[], limit: number): boolean {
  let bound = 0;
  for (const [name, value] of lines) bound += 3 * (name.length + value.length) + 32;
  return bound <= limit || fieldSectionSize(lines) <= limit;
}

/** A field line to send; lines already in the right form are passed on, not copied. */
export type OutgoingLine = readonly [name: string, value: string];

/** Fields we never send: connection-specific (RFC 9114 §4.2). */
function sendable(headers: Iterable<readonly [string, string]>, out: OutgoingLine[]): OutgoingLine[] {
  for (const field of headers) {
    const [name, value] = field;
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower)) continue;
    if (lower === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    if (lower === 'host') continue; // :authority carries it (RFC 9114 §4.3.1)
    out.push(lower === name ? field : [lower, value]);
  }
  return out;
}

/**
 * Pseudo-header lines that recur in every message, made once: outgoing lines only go to the QPACK
 * encoder, which reads them, so one shared line serves every message (not frozen: V8 destructures
 * frozen arrays through the slow iterator).
 */
const STATUS_LINES = new Map<number, OutgoingLine>();
const METHOD_LINES = new Map<string, OutgoingLine>(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH'].map((m) => [m, [':method', m]]));
const SCHEME_HTTPS: OutgoingLine = [':scheme', 'https'];
const SCHEME_HTTP: OutgoingLine = [':scheme', 'http'];

function statusLine(status: number): OutgoingLine {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = [':status', String(status)];
    // Status codes are three digits (RFC 9110 §15): at most 900 entries.
    if (Number.isInteger(status) && status >= 100 && status <= 999) STATUS_LINES.set(status, line);
  }
  return line;
}

export function responseFieldLines(status: number, headers: Iterable<readonly [string, string]>): OutgoingLine[] {
  return sendable(headers, [statusLine(status)]);
}

export function requestFieldLines(head: { method: string; scheme: string; authority: string; path: string }, headers: Iterable<readonly [string, string]>): OutgoingLine[] {
  const method = METHOD_LINES.get(head.method) ?? [':method', head.method];
  // RFC 9114 §4.4: CONNECT carries neither :scheme nor :path.
  if (head.method === 'CONNECT') return sendable(headers, [method, [':authority', head.authority]]);
  const scheme = head.scheme === 'https' ? SCHEME_HTTPS : head.scheme === 'http' ? SCHEME_HTTP : [':scheme', head.scheme] as const;
  return sendable(headers, [method, scheme, [':authority', head.authority], [':path', head.path]]);
}

export function trailerFieldLines(trailers: Iterable<readonly [string, string]>): OutgoingLine[] {
  return sendable(trailers, []);
}
