/**
 * HTTP/2 field and control-data rules (RFC 9113 §8.1–§8.3, §8.5; RFC 8441 §4): what makes a
 * request, response or trailer section malformed, and the content-length check of §8.1.1.
 *
 * Every violation is a stream error of type PROTOCOL_ERROR (RFC 9113 §8.1.1: "Malformed requests
 * or responses that are detected MUST be treated as a stream error of type PROTOCOL_ERROR").
 * A server may first answer 400; the error's section says which rule failed.
 */
import { ErrorCode, H2Error, streamError } from './errors.js';
import type { HeaderField } from './hpack.js';

export interface RequestHead {
  method: string;
  /** Absent only for CONNECT (RFC 9113 §8.5). */
  scheme?: string;
  authority?: string;
  /** Absent only for CONNECT. */
  path?: string;
  /** Extended CONNECT's :protocol (RFC 8441 §4), e.g. "websocket". */
  protocol?: string;
  /** Regular fields in received order, pseudo-header fields removed. */
  headers: HeaderField[];
}

export interface ResponseHead {
  status: number;
  headers: HeaderField[];
}

export interface RequestRules {
  /** We sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, so :protocol is allowed (RFC 8441 §4). */
  enableConnectProtocol?: boolean;
}

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
const RESPONSE_PSEUDO = new Set([':status']);

/** RFC 9113 §8.2.2: connection-specific fields make a message malformed. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** RFC 9110 §5.1 token, lower case only (RFC 9113 §8.2.1: no 0x41–0x5a in names). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** RFC 9113 §8.2.1 forbids NUL, CR, LF; RFC 9110 §5.5 (field-vchar) the other controls but HTAB. */
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
/** :scheme, :authority and :path are URI parts (RFC 3986): no whitespace or controls at all. */
const BAD_URI_CHAR = /[\x00-\x20\x7f]/;
const STATUS = /^[1-5][0-9]{2}$/;
const CONTENT_LENGTH = /^[0-9]+$/;

/** RFC 9113 §8.2.1: no SP or HTAB at either end of a value (two char codes, cheaper than a regex). */
function hasEdgeWhitespace(value: string): boolean {
  if (value.length === 0) return false;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09;
}

function malformed(streamId: number, message: string, section: string): H2Error {
  return streamError(ErrorCode.PROTOCOL_ERROR, streamId, `malformed: ${message}`, section);
}

/** RFC 9113 §8.2.1 (and §8.2.2 for names that have no place in HTTP/2) for one regular field. */
export function checkField(name: string, value: string, streamId: number): void {
  if (!FIELD_NAME.test(name)) {
    throw malformed(streamId, `invalid field name ${JSON.stringify(name)}`, 'RFC 9113 §8.2.1');
  }
  if (BAD_VALUE_CHAR.test(value)) {
    throw malformed(streamId, `control character in the value of ${name}`, 'RFC 9113 §8.2.1');
  }
  if (hasEdgeWhitespace(value)) {
    throw malformed(streamId, `leading or trailing whitespace in the value of ${name}`, 'RFC 9113 §8.2.1');
  }
  if (CONNECTION_SPECIFIC.has(name)) {
    throw malformed(streamId, `connection-specific field ${name}`, 'RFC 9113 §8.2.2');
  }
}

/**
 * Splits a field block into pseudo-header fields and regular fields, checking the rules shared by
 * requests and responses (RFC 9113 §8.3): only `allowed` pseudo-headers, each once, all first.
 */
function splitControlData(
  fields: readonly HeaderField[],
  allowed: ReadonlySet<string>,
  streamId: number,
): { pseudo: Map<string, string>; headers: HeaderField[] } {
  const pseudo = new Map<string, string>();
  const headers: HeaderField[] = [];
  for (const field of fields) {
    const [name, value] = field;
    if (name.startsWith(':')) {
      if (headers.length > 0) throw malformed(streamId, `${name} after a regular field`, 'RFC 9113 §8.3');
      if (!allowed.has(name)) throw malformed(streamId, `pseudo-header field ${name} not defined here`, 'RFC 9113 §8.3');
      if (pseudo.has(name)) throw malformed(streamId, `repeated ${name}`, 'RFC 9113 §8.3');
      if (BAD_VALUE_CHAR.test(value) || hasEdgeWhitespace(value) || (name !== ':method' && name !== ':protocol' && BAD_URI_CHAR.test(value))) {
        throw malformed(streamId, `invalid value of ${name}`, 'RFC 9113 §8.2.1');
      }
      pseudo.set(name, value);
    } else {
      checkField(name, value, streamId);
      headers.push(field);
    }
  }
  return { pseudo, headers };
}

/** RFC 9113 §8.2.2: TE may only say "trailers". */
function checkTe(headers: readonly HeaderField[], streamId: number): void {
  for (const [name, value] of headers) {
    if (name === 'te' && value.toLowerCase() !== 'trailers') {
      throw malformed(streamId, `te: ${value}`, 'RFC 9113 §8.2.2');
    }
  }
}

/** Host and port of an authority, normalized by scheme (RFC 9110 §4.2.3): lower case, default port dropped. */
function normalizeAuthority(authority: string, scheme: string | undefined): string {
  const lower = authority.toLowerCase();
  const defaultPort = scheme === 'https' ? ':443' : scheme === 'http' ? ':80' : null;
  return defaultPort && lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}

/** Checks a request header section and returns its control data (RFC 9113 §8.3.1, §8.5; RFC 8441 §4). */
export function validateRequestHeaders(fields: readonly HeaderField[], streamId: number, rules: RequestRules = {}): RequestHead {
  const { pseudo, headers } = splitControlData(fields, REQUEST_PSEUDO, streamId);
  checkTe(headers, streamId);
  const method = pseudo.get(':method');
  const scheme = pseudo.get(':scheme');
  const authority = pseudo.get(':authority');
  const path = pseudo.get(':path');
  const protocol = pseudo.get(':protocol');
  if (method === undefined || !FIELD_NAME.test(method.toLowerCase())) {
    throw malformed(streamId, 'missing or invalid :method', 'RFC 9113 §8.3.1');
  }
  if (protocol !== undefined) {
    // RFC 8441 §4: only on CONNECT, only when we enabled it; then :scheme and :path are required.
    if (!rules.enableConnectProtocol) throw malformed(streamId, ':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL', 'RFC 8441 §4');
    if (method !== 'CONNECT') throw malformed(streamId, `:protocol on ${method}`, 'RFC 8441 §4');
  }
  if (method === 'CONNECT' && protocol === undefined) {
    // RFC 9113 §8.5: :authority only.
    if (scheme !== undefined || path !== undefined) throw malformed(streamId, 'CONNECT with :scheme or :path', 'RFC 9113 §8.5');
    if (!authority) throw malformed(streamId, 'CONNECT without :authority', 'RFC 9113 §8.5');
  } else {
    if (scheme === undefined || path === undefined) {
      throw malformed(streamId, 'missing :scheme or :path', 'RFC 9113 §8.3.1');
    }
    if (path === '') throw malformed(streamId, 'empty :path', 'RFC 9113 §8.3.1');
    if ((scheme === 'http' || scheme === 'https') && !path.startsWith('/') && !(path === '*' && method === 'OPTIONS')) {
      throw malformed(streamId, `:path ${JSON.stringify(path)} is not an absolute path`, 'RFC 9113 §8.3.1');
    }
    if (protocol !== undefined && authority === undefined) throw malformed(streamId, 'extended CONNECT without :authority', 'RFC 8441 §4');
  }
  if (authority !== undefined) {
    if ((scheme === 'http' || scheme === 'https') && authority.includes('@')) {
      throw malformed(streamId, ':authority with userinfo', 'RFC 9113 §8.3.1');
    }
    for (const [name, value] of headers) {
      if (name === 'host' && normalizeAuthority(value, scheme) !== normalizeAuthority(authority, scheme)) {
        throw malformed(streamId, `host ${value} differs from :authority ${authority}`, 'RFC 9113 §8.3.1');
      }
    }
  }
  return {
    method,
    ...(scheme !== undefined && { scheme }),
    ...(authority !== undefined && { authority }),
    ...(path !== undefined && { path }),
    ...(protocol !== undefined && { protocol }),
    headers,
  };
}

/**
 * Checks a response header section (RFC 9113 §8.3.2). `endStream`: the HEADERS frame ends the
 * stream, which an interim (1xx) response may not do (§8.1).
 */
export function validateResponseHeaders(fields: readonly HeaderField[], streamId: number, endStream = false): ResponseHead {
  const { pseudo, headers } = splitControlData(fields, RESPONSE_PSEUDO, streamId);
  const status = pseudo.get(':status');
  if (status === undefined || !STATUS.test(status)) {
    throw malformed(streamId, `missing or invalid :status ${status ?? ''}`, 'RFC 9113 §8.3.2');
  }
  const code = Number(status);
  if (code === 101) throw malformed(streamId, '101 Switching Protocols', 'RFC 9113 §8.6');
  if (code < 200 && endStream) throw malformed(streamId, 'interim response with END_STREAM', 'RFC 9113 §8.1');
  return { status: code, headers };
}

/** Checks a trailer section: regular fields only (RFC 9113 §8.1). */
export function validateTrailers(fields: readonly HeaderField[], streamId: number): HeaderField[] {
  for (const [name, value] of fields) {
    if (name.startsWith(':')) throw malformed(streamId, `pseudo-header field ${name} in trailers`, 'RFC 9113 §8.1');
    checkField(name, value, streamId);
  }
  return fields.slice();
}

/**
 * The content-length of a header section, or null when there is none (RFC 9110 §8.6). Repeated
 * lines or a list must all carry the same number; anything else is malformed.
 */
export function contentLengthOf(headers: readonly HeaderField[], streamId: number): number | null {
  let length: number | null = null;
  for (const [name, value] of headers) {
    if (name !== 'content-length') continue;
    for (const item of value.split(',')) {
      const digits = item.trim();
      const parsed = CONTENT_LENGTH.test(digits) ? Number(digits) : NaN;
      if (!Number.isSafeInteger(parsed) || (length !== null && parsed !== length)) {
        throw malformed(streamId, `content-length ${JSON.stringify(value)}`, 'RFC 9110 §8.6');
      }
      length = parsed;
    }
  }
  return length;
}

/**
 * Counts DATA payload octets against content-length (RFC 9113 §8.1.1). A message defined to have
 * no content (a response to HEAD, 204, 304) gets `expected` 0 whatever its content-length says.
 */
export class ContentLengthCheck {
  private received = 0;
  constructor(readonly streamId: number, readonly expected: number | null) {}

  /** Octets of DATA so far (padding excluded). */
  get receivedBytes(): number {
    return this.received;
  }

  /** A DATA frame's data length; throws as soon as the total passes content-length. */
  data(length: number): void {
    this.received += length;
    if (this.expected !== null && this.received > this.expected) {
      throw malformed(this.streamId, `${this.received} octets of DATA exceed content-length ${this.expected}`, 'RFC 9113 §8.1.1');
    }
  }

  /** END_STREAM seen: the total must equal content-length. */
  end(): void {
    if (this.expected !== null && this.received !== this.expected) {
      throw malformed(this.streamId, `${this.received} octets of DATA, content-length ${this.expected}`, 'RFC 9113 §8.1.1');
    }
  }
}

/** RFC 9113 §8.2.3: cookie lines split for compression are joined with "; " for the application. */
export function joinCookies(headers: readonly HeaderField[]): HeaderField[] {
  const cookies: string[] = [];
  const out: HeaderField[] = [];
  let at = -1;
  for (const field of headers) {
    if (field[0] !== 'cookie') {
      out.push(field);
      continue;
    }
    if (at < 0) {
      at = out.length;
      out.push(field);
    }
    cookies.push(field[1]);
  }
  if (cookies.length > 1) out[at] = ['cookie', cookies.join('; ')];
  return out;
}
