/**
 * The head of a final response on the wire (RFC 9112 §4 status line, §5 field lines), with the
 * fields the connection adds or replaces for framing (RFC 9112 §6.1, §9.6; RFC 9110 §6.6.1, §8.6).
 *
 * The last head written is kept: a server answers most requests with the same status and fields
 * (and the same Date within a second), and then the same bytes are handed out again instead of
 * being serialised anew. The Buffer is shared, so nobody may write into it.
 */
import type { HeaderList } from '../core/headers.js';
import { statusText } from '../core/status.js';

/** The inputs of the last head written, compared field by field with the next one, and its bytes. */
interface WrittenHead {
  status: number;
  fields: [string, string][];
  keepContentLength: boolean;
  chunked: boolean;
  connection: string | null;
  date: string | null;
  bytes: Buffer;
}

let last: WrittenHead | null = null;

/**
 * A final response head: status line, the handler's fields except those the framing replaces,
 * then the fields the connection adds, in one latin1 write (field values hold only octets: they
 * were checked when set):
 * - Transfer-Encoding is ours to set (RFC 9112 §6.1): the handler's is never sent, and
 *   `chunked` adds `transfer-encoding: chunked`;
 * - `keepContentLength` false drops the handler's Content-Length (204, or not a valid length);
 * - `connection` replaces the handler's Connection field (null keeps it);
 * - `date` is added when the handler set none (RFC 9110 §6.6.1; null otherwise).
 */
export function serializeResponseHead(
  status: number, headers: HeaderList, keepContentLength: boolean, chunked: boolean, connection: string | null, date: string | null,
): Buffer {
  if (last !== null && last.status === status && last.keepContentLength === keepContentLength && last.chunked === chunked &&
      last.connection === connection && last.date === date && sameFields(last.fields, headers)) {
    return last.bytes;
  }
  let s = `HTTP/1.1 ${status} ${statusText(status)}\r\n`;
  for (const [n, v] of headers) {
    if (n === 'transfer-encoding') continue;
    if (n === 'content-length' && !keepContentLength) continue;
    if (n === 'connection' && connection !== null) continue;
    s += `${n}: ${v}\r\n`;
  }
  if (chunked) s += 'transfer-encoding: chunked\r\n';
  if (connection !== null) s += `connection: ${connection}\r\n`;
  if (date !== null) s += `date: ${date}\r\n`;
  const bytes = Buffer.from(s + '\r\n', 'latin1');
  // Copies of the pairs: the handler's list may change after this head is written.
  last = { status, fields: Array.from(headers, ([n, v]) => [n, v]), keepContentLength, chunked, connection, date, bytes };
  return bytes;
}

function sameFields(fields: [string, string][], headers: HeaderList): boolean {
  if (fields.length !== headers.size) return false;
  let i = 0;
  for (const [n, v] of headers) {
    const f = fields[i++]!;
    if (f[0] !== n || f[1] !== v) return false;
  }
  return true;
}
