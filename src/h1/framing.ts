/**
 * Message body length and connection persistence for HTTP/1.1 (RFC 9112 §6, §9.3): the request
 * smuggling defenses in one place, and one body reader per framing kind.
 *
 * Request side — anything ambiguous is an error, never a guess (RFC 9112 §6.3, §11.2):
 *   - Transfer-Encoding with Content-Length             → 400, close      (§6.1, §6.3 item 3)
 *   - Transfer-Encoding in an HTTP/1.0 request          → 400, close      (§6.1)
 *   - chunked twice, or not the final coding            → 400             (§6.1, §6.3 item 4)
 *   - any other transfer coding (gzip, …)               → 501             (§6.1)
 *   - Content-Length not 1*DIGIT, or differing values   → 400             (§6.3 item 5, RFC 9110 §8.6)
 *   - Content-Length or chunked total over maxBodyBytes → 413             (RFC 9110 §15.5.14)
 *   - HTTP/1.1 without exactly one valid Host           → 400             (§3.2)
 *   - Expect other than 100-continue                    → 417             (RFC 9110 §10.1.1)
 *
 * Content-Length lists: RFC 9112 §6.3 item 5 lets a recipient accept a comma-separated list whose
 * members are all the same valid value (and RFC 9110 §8.6 the same for repeated field lines). We
 * accept that case — every reader agrees on the length, so nothing can be smuggled — and reject
 * every other list, including empty members.
 *
 * Response side (the client): HEAD, 1xx, 204, 304 → no body; 2xx to CONNECT → tunnel; chunked;
 * Content-Length; else until close (§6.3 items 1–8). Errors there are H1Error(502).
 */
import { H1Error } from '../core/errors.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { ChunkedDecoder, type DecodedBody } from './chunked.js';
import type { FieldList } from './parse/fields.js';
import type { HttpVersion, RequestHead, ResponseHead } from './parse/head.js';
import { toBuffer } from './parse/lines.js';
import { isValidAuthority } from './parse/target.js';
import { splitList, TCHAR, trimOwsString } from './syntax.js';

export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  /** Response only: the body runs until the server closes (RFC 9112 §6.3 item 8). */
  | { kind: 'until-close' }
  /** Response only: a 2xx to CONNECT turns the connection into a tunnel (RFC 9112 §6.3 item 2). */
  | { kind: 'tunnel' };

export interface RequestFraming {
  version: HttpVersion;
  /** 'none', 'length' or 'chunked' for a request. */
  body: BodyFraming;
  /** Path and query (origin-form, or taken from an absolute-form target); "*" or "" otherwise. */
  path: string;
  /** From an absolute-/authority-form target, else the Host value; "" when there is none
   *  (HTTP/1.0 without Host, or an empty Host: RFC 9112 §3.3 says use the server's default). */
  authority: string;
  /** The connection stays open after this exchange (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** HTTP/1.1 request with content and `Expect: 100-continue` (RFC 9110 §10.1.1). */
  expectContinue: boolean;
  /** `TE: trailers`: the client accepts a trailer section (RFC 9110 §10.1.4). */
  acceptsTrailers: boolean;
  /** A valid `Upgrade: h2c` request over cleartext (RFC 7540 §3.2). */
  upgradeH2c: boolean;
  /** Lower-cased connection options of the Connection field (RFC 9110 §7.6.1). */
  connectionOptions: ReadonlySet<string>;
}

export interface ResponseFraming {
  body: BodyFraming;
  keepAlive: boolean;
}

/** All values of `name` (already lower-case) in field order. */
export function fieldValues(headers: FieldList, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(v);
  return out;
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). Several field lines or a list are accepted only when
 * every member is the same valid number (RFC 9112 §6.3 item 5). Returns null when invalid.
 * At most 15 digits, so the value stays a safe integer.
 */
export function parseContentLength(values: readonly string[]): number | null {
  let length: number | null = null;
  for (const value of values) {
    for (const member of value.split(',')) {
      const digits = trimOwsString(member);
      if (!/^[0-9]{1,15}$/.test(digits)) return null;
      const n = Number(digits);
      if (length !== null && n !== length) return null;
      length = n;
    }
  }
  return length;
}

/** One transfer-coding of a Transfer-Encoding list: its lower-case name and whether it had parameters. */
export interface TransferCoding {
  name: string;
  hasParameters: boolean;
}

// transfer-coding = token *( OWS ";" OWS transfer-parameter ),
// transfer-parameter = token BWS "=" BWS ( token / quoted-string )  (RFC 9112 §7)
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const PARAMETERS = new RegExp(`^(?:[ \\t]*;[ \\t]*${TOKEN}[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))*$`);

/** Parses Transfer-Encoding field values (RFC 9112 §6.1); null when one is malformed. */
export function parseTransferEncoding(values: readonly string[]): TransferCoding[] | null {
  const codings: TransferCoding[] = [];
  for (const value of values) {
    for (const member of splitList(value)) {
      let end = 0;
      while (end < member.length && TCHAR[member.charCodeAt(end)] === 1) end++;
      if (end === 0) return null;
      const parameters = member.slice(end);
      if (!PARAMETERS.test(parameters)) return null;
      // Transfer coding names are case-insensitive (RFC 9112 §7).
      codings.push({ name: member.slice(0, end).toLowerCase(), hasParameters: parameters.length > 0 });
    }
  }
  return codings;
}

/** Lower-cased tokens of the Connection field (RFC 9110 §7.6.1). */
export function connectionOptions(headers: FieldList): Set<string> {
  return optionsOf(fieldValues(headers, 'connection'));
}

function optionsOf(values: readonly string[]): Set<string> {
  const options = new Set<string>();
  for (const value of values) {
    for (const member of splitList(value)) options.add(member.toLowerCase());
  }
  return options;
}

/** The fields that decide framing, gathered in one pass over the field list (this runs per request). */
interface FramingFields {
  host: string[]; transferEncoding: string[]; contentLength: string[]; connection: string[];
  expect: string[]; te: string[]; upgrade: string[]; http2Settings: string[];
}

const NONE: readonly string[] = Object.freeze([]) as readonly string[];

function framingFields(headers: FieldList): FramingFields {
  const f = { host: NONE, transferEncoding: NONE, contentLength: NONE, connection: NONE, expect: NONE, te: NONE, upgrade: NONE, http2Settings: NONE } as unknown as FramingFields;
  for (const [name, value] of headers) {
    let key: keyof FramingFields;
    switch (name) {
      case 'host': key = 'host'; break;
      case 'transfer-encoding': key = 'transferEncoding'; break;
      case 'content-length': key = 'contentLength'; break;
      case 'connection': key = 'connection'; break;
      case 'expect': key = 'expect'; break;
      case 'te': key = 'te'; break;
      case 'upgrade': key = 'upgrade'; break;
      case 'http2-settings': key = 'http2Settings'; break;
      default: continue;
    }
    if (f[key] === NONE) f[key] = [value];
    else f[key].push(value);
  }
  return f;
}

/**
 * RFC 9112 §9.3: "close" ends the connection; otherwise HTTP/1.1 persists, and HTTP/1.0 persists
 * only with the "keep-alive" connection option (we are not a proxy).
 */
export function isPersistent(version: HttpVersion, options: ReadonlySet<string>): boolean {
  if (options.has('close')) return false;
  return version === '1.1' || options.has('keep-alive');
}

/**
 * Decides how the request body is delimited and whether the request can be served at all
 * (see the table at the top of this file). Throws H1Error with the status to answer; after any
 * of these errors the connection must be closed.
 */
export function requestFraming(
  head: RequestHead,
  limits?: Partial<Limits>,
  scheme: 'http' | 'https' = 'http',
): RequestFraming {
  const { maxBodyBytes } = resolveLimits(limits);
  const { version } = head;
  const fields = framingFields(head.headers);

  // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
  // request message that lacks a Host header field and to any request message that contains more
  // than one Host header field line or a Host header field with an invalid field value."
  const hosts = fields.host;
  if (hosts.length > 1) throw new H1Error(400, 'more than one Host field', 'RFC 9112 §3.2');
  if (hosts.length === 0 && version === '1.1') throw new H1Error(400, 'HTTP/1.1 request without Host', 'RFC 9112 §3.2');
  const host = hosts[0] ?? '';
  if (!isValidHost(host)) throw new H1Error(400, 'invalid Host field value', 'RFC 9112 §3.2');
  // RFC 9112 §3.2.2: with an absolute-form target the server MUST ignore Host and use the target's.
  const authority = head.authority ?? host;

  const body = requestBody(head, fields, maxBodyBytes);
  const options = fields.connection.length ? optionsOf(fields.connection) : EMPTY_OPTIONS;
  const expectContinue = expectation(head, fields) && body.kind !== 'none' && !(body.kind === 'length' && body.length === 0);
  const acceptsTrailers = fields.te.length > 0 &&
    fields.te.some((v) => splitList(v).some((m) => trimOwsString(m.split(';')[0]!).toLowerCase() === 'trailers'));
  return {
    version,
    body,
    path: head.path,
    authority,
    keepAlive: isPersistent(version, options),
    expectContinue,
    acceptsTrailers,
    upgradeH2c: scheme === 'http' && fields.upgrade.length > 0 && isH2cUpgrade(head, fields, options),
    connectionOptions: options,
  };
}

const EMPTY_OPTIONS: ReadonlySet<string> = new Set();
/** The framing of every request without content (most of them), shared. */
const NO_CONTENT: BodyFraming = Object.freeze({ kind: 'none' });

/** The last Host value found valid: the requests of a connection repeat it, so it is checked once. */
let lastValidHost: string | null = null;

/** uri-host [ ":" port ], or empty (RFC 9112 §3.2, RFC 9110 §7.2). */
function isValidHost(host: string): boolean {
  if (host === lastValidHost) return true;
  if (!isValidAuthority(host, false, true)) return false;
  lastValidHost = host;
  return true;
}

/** RFC 9112 §6.3 items 3–7 for a request. */
function requestBody(head: RequestHead, fields: FramingFields, maxBodyBytes: number): BodyFraming {
  const transferEncoding = fields.transferEncoding;
  const contentLength = fields.contentLength;

  if (transferEncoding.length > 0) {
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (head.version === '1.0') throw new H1Error(400, 'Transfer-Encoding in an HTTP/1.0 request', 'RFC 9112 §6.1');
    // RFC 9112 §6.1 / §6.3 item 3: both fields "ought to be handled as an error" (smuggling).
    if (contentLength.length > 0) throw new H1Error(400, 'both Transfer-Encoding and Content-Length', 'RFC 9112 §6.1');
    const codings = parseTransferEncoding(transferEncoding);
    if (codings === null) throw new H1Error(400, 'malformed Transfer-Encoding', 'RFC 9112 §6.1');
    const chunked = codings.filter((c) => c.name === 'chunked');
    // RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
    if (chunked.length > 1) throw new H1Error(400, 'chunked applied more than once', 'RFC 9112 §6.1');
    // RFC 9112 §6.3 item 4: in a request, chunked not final → length unknown → 400 and close.
    if (codings.length === 0 || codings[codings.length - 1]!.name !== 'chunked') {
      throw new H1Error(400, 'chunked is not the final transfer coding', 'RFC 9112 §6.3');
    }
    // chunked has no parameters (RFC 9112 §7.1); one that has them is not the chunked we know.
    if (chunked[0]!.hasParameters) throw new H1Error(400, 'parameters on the chunked coding', 'RFC 9112 §7.1');
    // RFC 9112 §6.1: a transfer coding the server does not understand SHOULD get 501.
    const other = codings.find((c) => c.name !== 'chunked');
    if (other !== undefined) throw new H1Error(501, `transfer coding "${other.name}" is not implemented`, 'RFC 9112 §6.1');
    return { kind: 'chunked' };
  }

  if (contentLength.length > 0) {
    const length = parseContentLength(contentLength);
    // RFC 9112 §6.3 item 5: an invalid Content-Length in a request → 400 and close.
    if (length === null) throw new H1Error(400, 'invalid Content-Length', 'RFC 9112 §6.3');
    if (length > maxBodyBytes) {
      throw new H1Error(413, `Content-Length ${length} exceeds ${maxBodyBytes} bytes`, 'RFC 9110 §15.5.14');
    }
    return { kind: 'length', length };
  }

  // RFC 9112 §6.3 item 7: a request with neither has no content.
  return NO_CONTENT;
}

/**
 * Expect (RFC 9110 §10.1.1): true for 100-continue. Any other expectation → 417 ("MAY respond
 * with 417"; we cannot meet an expectation we do not know). A 100-continue in an HTTP/1.0
 * request MUST be ignored.
 */
function expectation(head: RequestHead, fields: FramingFields): boolean {
  let hundredContinue = false;
  for (const value of fields.expect) {
    for (const member of splitList(value)) {
      if (member.toLowerCase() !== '100-continue') {
        throw new H1Error(417, `unsupported expectation "${member}"`, 'RFC 9110 §10.1.1');
      }
      hundredContinue = true;
    }
  }
  return hundredContinue && head.version === '1.1';
}

/**
 * RFC 7540 §3.2: Upgrade includes h2c, Connection lists Upgrade and HTTP2-Settings, and exactly
 * one HTTP2-Settings field is present (§3.2.1: "MUST NOT upgrade ... if more than one is present").
 */
function isH2cUpgrade(head: RequestHead, fields: FramingFields, options: ReadonlySet<string>): boolean {
  if (head.version !== '1.1') return false;
  const upgrade = fields.upgrade.flatMap(splitList).map((p) => p.toLowerCase());
  return (
    upgrade.includes('h2c') &&
    options.has('upgrade') &&
    options.has('http2-settings') &&
    fields.http2Settings.length === 1
  );
}

/**
 * How a response body is delimited (RFC 9112 §6.3), for the client that sent `requestMethod`.
 * Throws H1Error(502) when the framing is invalid or unsafe.
 */
export function responseFraming(head: ResponseHead, requestMethod: string): ResponseFraming {
  const options = connectionOptions(head.headers);
  const persistent = isPersistent(head.version, options);
  const { status } = head;
  // Item 1: HEAD responses, 1xx, 204 and 304 end with the header section.
  if (requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) {
    return { body: { kind: 'none' }, keepAlive: persistent };
  }
  // Item 2: a 2xx to CONNECT makes the connection a tunnel; framing fields are ignored.
  if (requestMethod === 'CONNECT' && status >= 200 && status < 300) {
    return { body: { kind: 'tunnel' }, keepAlive: false };
  }
  const transferEncoding = fieldValues(head.headers, 'transfer-encoding');
  const contentLength = fieldValues(head.headers, 'content-length');
  if (transferEncoding.length > 0) {
    if (head.version === '1.0') throw new H1Error(502, 'Transfer-Encoding in an HTTP/1.0 response', 'RFC 9112 §6.1');
    // Item 3: "ought to be handled as an error" (response splitting, RFC 9112 §11.1).
    if (contentLength.length > 0) throw new H1Error(502, 'both Transfer-Encoding and Content-Length', 'RFC 9112 §6.3');
    const codings = parseTransferEncoding(transferEncoding);
    if (codings === null) throw new H1Error(502, 'malformed Transfer-Encoding', 'RFC 9112 §6.1');
    const chunkedCount = codings.filter((c) => c.name === 'chunked').length;
    if (chunkedCount > 1) throw new H1Error(502, 'chunked applied more than once', 'RFC 9112 §6.1');
    // Item 4: chunked not final → the body runs until close.
    if (codings.length === 0 || codings[codings.length - 1]!.name !== 'chunked') {
      return { body: { kind: 'until-close' }, keepAlive: false };
    }
    if (codings.length > 1) throw new H1Error(502, 'transfer codings other than chunked are not implemented', 'RFC 9112 §6.1');
    return { body: { kind: 'chunked' }, keepAlive: persistent };
  }
  if (contentLength.length > 0) {
    const length = parseContentLength(contentLength);
    // Item 5: an invalid Content-Length is an unrecoverable error.
    if (length === null) throw new H1Error(502, 'invalid Content-Length', 'RFC 9112 §6.3');
    return { body: { kind: 'length', length }, keepAlive: persistent };
  }
  // Item 8: read until the server closes.
  return { body: { kind: 'until-close' }, keepAlive: false };
}

// ---------------------------------------------------------------------------------------------
// Body readers: one per framing kind, same interface (the chunked one lives in chunked.ts).
// ---------------------------------------------------------------------------------------------

export interface BodyDecoder {
  /** Takes bytes; returns the body data in them (subarrays) and, once done, the bytes after it. */
  push(bytes: Uint8Array): DecodedBody;
  readonly done: boolean;
  /** The connection ended: completes an until-close body, throws H1Error for a cut one (RFC 9112 §8). */
  end(): void;
}

const EMPTY = Buffer.alloc(0);

/** A body of exactly `length` bytes (Content-Length, RFC 9112 §6.2). */
export class LengthDecoder implements BodyDecoder {
  private remaining: number;

  constructor(length: number, private readonly badStatus = 400) {
    this.remaining = length;
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  push(bytes: Uint8Array): DecodedBody {
    const input = toBuffer(bytes);
    const take = Math.min(this.remaining, input.length);
    this.remaining -= take;
    return {
      data: take > 0 ? [input.subarray(0, take)] : [],
      done: this.remaining === 0,
      trailers: [],
      consumed: take,
      rest: take < input.length ? input.subarray(take) : EMPTY,
    };
  }

  end(): void {
    if (this.remaining > 0) {
      throw new H1Error(this.badStatus, `connection closed ${this.remaining} bytes before the end of the body`, 'RFC 9112 §8');
    }
  }
}

/** A response body delimited by the server closing the connection (RFC 9112 §6.3 item 8). */
export class UntilCloseDecoder implements BodyDecoder {
  private closed = false;

  get done(): boolean {
    return this.closed;
  }

  push(bytes: Uint8Array): DecodedBody {
    const input = toBuffer(bytes);
    return { data: input.length > 0 ? [input] : [], done: false, trailers: [], consumed: input.length, rest: EMPTY };
  }

  end(): void {
    this.closed = true;
  }
}

/**
 * The reader for `framing`. `badStatus` is the status of framing errors: 400 on the server, 502 on
 * the client. A tunnel is read like an until-close body.
 */
export function createBodyDecoder(framing: BodyFraming, limits?: Partial<Limits>, badStatus = 400): BodyDecoder {
  switch (framing.kind) {
    case 'none':
      return new LengthDecoder(0, badStatus);
    case 'length':
      return new LengthDecoder(framing.length, badStatus);
    case 'chunked':
      return new ChunkedDecoder(limits, badStatus);
    case 'until-close':
    case 'tunnel':
      return new UntilCloseDecoder();
  }
}
