/**
 * Well-known field names and methods, recognised in the received bytes so that the common ones
 * cost no new string per request (RFC 9110 §5.1: field names are case-insensitive, and are handed
 * on in lower case; RFC 9110 §9.1: methods are case-sensitive).
 *
 * Both functions take bytes that the caller has already checked to be a token (RFC 9110 §5.6.2);
 * for a token, `byte | 0x20` equals a lower-case letter, digit or "-" exactly when the byte is that
 * character in either case (the other bytes that map there are CTLs, which a token cannot hold).
 */

/** Field names that requests commonly carry, in lower case: the ones framing reads come first. */
const FIELD_NAMES = [
  'host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'te', 'upgrade', 'http2-settings',
  'accept', 'accept-encoding', 'accept-language', 'user-agent', 'cookie', 'authorization', 'content-type',
  'cache-control', 'pragma', 'referer', 'origin', 'if-none-match', 'if-modified-since', 'range', 'keep-alive',
  'trailer', 'via', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id', 'dnt', 'priority',
  'upgrade-insecure-requests', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user',
  'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'last-event-id', 'content-encoding', 'date',
];

/** Methods registered in RFC 9110 §9 and RFC 5789 (PATCH). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** Candidates by length, so that a name is compared with at most a few of them. */
function byLength(names: readonly string[]): (readonly string[] | undefined)[] {
  const table: string[][] = [];
  for (const name of names) (table[name.length] ??= []).push(name);
  return table;
}

const NAMES_BY_LENGTH = byLength(FIELD_NAMES);
const METHODS_BY_LENGTH = byLength(METHODS);

/**
 * The field name in `bytes[start..end)` (a token) in lower case: a shared string for a well-known
 * name, else a new one.
 */
export function fieldNameOf(bytes: Buffer, start: number, end: number): string {
  const candidates = NAMES_BY_LENGTH[end - start];
  if (candidates !== undefined) {
    next: for (const name of candidates) {
      for (let i = 0; i < name.length; i++) {
        if ((bytes[start + i]! | 0x20) !== name.charCodeAt(i)) continue next;
      }
      return name;
    }
  }
  return bytes.toString('latin1', start, end).toLowerCase();
}

/** The method in `bytes[start..end)` (a token), exactly as sent: a shared string for a registered one. */
export function methodOf(bytes: Buffer, start: number, end: number): string {
  const candidates = METHODS_BY_LENGTH[end - start];
  if (candidates !== undefined) {
    next: for (const name of candidates) {
      for (let i = 0; i < name.length; i++) {
        if (bytes[start + i] !== name.charCodeAt(i)) continue next;
      }
      return name;
    }
  }
  return bytes.toString('latin1', start, end);
}
