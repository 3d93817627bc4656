/**
 * The two start-lines of HTTP/1.1: request-line (RFC 9112 §3) and status-line (RFC 9112 §4), with
 * HTTP-version (RFC 9112 §2.3).
 *
 *   request-line = method SP request-target SP HTTP-version
 *   status-line  = HTTP-version SP status-code SP [ reason-phrase ]
 *   HTTP-version = "HTTP" "/" DIGIT "." DIGIT        ("HTTP" is case-sensitive)
 */
import { H1Error } from '../../core/errors.js';
import { allIn, FIELD_VALUE_CHAR, isToken } from '../syntax.js';
import { parseTarget, type ParsedTarget } from './target.js';
import { methodOf } from './field-names.js';

export type HttpVersion = '1.0' | '1.1';

export interface RequestLine extends ParsedTarget {
  method: string;
  /** The request-target exactly as received. */
  target: string;
  version: HttpVersion;
}

export interface StatusLine {
  version: HttpVersion;
  status: number;
  reason: string;
}

const SP = 0x20;
/** "HTTP" as a big-endian 32-bit number. */
const HTTP = 0x48545450;
const CR = 0x0d;

/** VCHAR = %x21-7E: the bytes a request-target may contain (RFC 3986 has no SP, CTL or non-ASCII). */
const VCHAR = new Uint8Array(256).fill(1, 0x21, 0x7f);

/**
 * Reads an HTTP-version (RFC 9112 §2.3). Returns null when it is not one syntactically; throws 505
 * for a well-formed version whose major is not 1 (RFC 9110 §15.6.6). A 1.x minor above 1 is
 * handled as 1.1 (RFC 9110 §6.2: "the highest minor version within that major version").
 */
function parseVersion(line: Buffer, start: number, end: number, status505: number): HttpVersion | null {
  if (end - start !== 8) return null;
  // "HTTP" (case-sensitive) and "/" compared as bytes, not as a string made per request.
  if (line.readUInt32BE(start) !== HTTP || line[start + 4] !== 0x2f || line[start + 6] !== 0x2e) return null;
  const major = line[start + 5]! - 0x30;
  const minor = line[start + 7]! - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return null;
  if (major !== 1) throw new H1Error(status505, `HTTP/${major}.${minor} is not supported`, 'RFC 9110 §15.6.6');
  return minor === 0 ? '1.0' : '1.1';
}

/** Parses a request-line, `line[start..end)` without CRLF. Throws H1Error 400 or 505. */
export function parseRequestLine(line: Buffer, start = 0, end = line.length): RequestLine {
  // RFC 9112 §3: exactly one SP between the three parts. The target holds no SP, so the first
  // and last SP delimit it; a doubled SP leaves a SP inside the target and fails its check.
  const sp1 = line.indexOf(SP, start);
  const sp2 = end > start ? line.lastIndexOf(SP, end - 1) : -1;
  // RFC 9112 §2.2: a bare CR is invalid; say so rather than blame whichever part holds it.
  const cr = line.indexOf(CR, start);
  if (cr !== -1 && cr < end) throw new H1Error(400, 'bare CR in request-line', 'RFC 9112 §2.2');
  if (sp1 <= start || sp1 >= end || sp2 === sp1) throw new H1Error(400, 'malformed request-line', 'RFC 9112 §3');
  if (line.indexOf(SP, sp1 + 1) !== sp2) throw new H1Error(400, 'more than two SP in request-line', 'RFC 9112 §3');
  if (!isToken(line, start, sp1)) throw new H1Error(400, 'method is not a token', 'RFC 9112 §3.1');
  if (sp2 === sp1 + 1 || !allIn(VCHAR, line, sp1 + 1, sp2)) {
    throw new H1Error(400, 'invalid request-target', 'RFC 9112 §3.2');
  }
  const version = parseVersion(line, sp2 + 1, end, 505);
  if (version === null) throw new H1Error(400, 'invalid HTTP-version', 'RFC 9112 §2.3');
  const method = methodOf(line, start, sp1);
  const target = line.toString('latin1', sp1 + 1, sp2);
  const { form, path, authority } = parseTarget(method, target);
  return { method, target, version, form, path, authority };
}

/**
 * When a request-line outgrows the limit: 414 if it starts like a request-line (a method token and
 * SP, so the target is what is long; RFC 9112 §3), else 400 for a line that is just garbage.
 */
export function requestLineTooLong(prefix: Buffer, limit: number): H1Error {
  const sp = prefix.indexOf(SP);
  if (sp > 0 && isToken(prefix, 0, sp)) {
    return new H1Error(414, `request-target longer than the ${limit}-byte request-line limit`, 'RFC 9112 §3');
  }
  return new H1Error(400, `request-line longer than ${limit} bytes`, 'RFC 9112 §3');
}

/**
 * Parses a status-line (without CRLF). Errors are H1Error with `badStatus` (the client uses 502:
 * the server sent an invalid response). The SP before an empty reason-phrase is optional here:
 * a client SHOULD ignore the reason-phrase (RFC 9112 §4), and several servers omit both.
 */
export function parseStatusLine(line: Buffer, start = 0, end = line.length, badStatus = 502): StatusLine {
  const sp = line.indexOf(SP, start);
  if (sp === -1 || sp >= end) throw new H1Error(badStatus, 'malformed status-line', 'RFC 9112 §4');
  const version = parseVersion(line, start, sp, badStatus);
  if (version === null) throw new H1Error(badStatus, 'invalid HTTP-version in status-line', 'RFC 9112 §2.3');
  // status-code = 3DIGIT (RFC 9112 §4), in 100..599 (RFC 9110 §15).
  const after = sp + 4;
  const code = after <= end ? line.toString('latin1', sp + 1, after) : '';
  if (!/^[1-5][0-9][0-9]$/.test(code)) throw new H1Error(badStatus, 'invalid status-code', 'RFC 9112 §4');
  if (after < end && line[after] !== SP) throw new H1Error(badStatus, 'malformed status-line', 'RFC 9112 §4');
  // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
  if (!allIn(FIELD_VALUE_CHAR, line, after, end)) {
    throw new H1Error(badStatus, 'invalid character in reason-phrase', 'RFC 9112 §4');
  }
  return { version, status: Number(code), reason: after < end ? line.toString('latin1', after + 1, end) : '' };
}
