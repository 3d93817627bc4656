/** Final response heads on the wire (src/h1/response-head.ts; RFC 9112 §4, §5, §6.1, §9.6). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderList } from '../../src/core/headers.js';
import { serializeResponseHead } from '../../src/h1/response-head.js';

type Args = Parameters<typeof serializeResponseHead>;

/** The head written out longhand, for comparison. */
function expected(status: number, headers: HeaderList, keepCl: boolean, chunked: boolean, connection: string | null, date: string | null): string {
  const reasons: Record<number, string> = { 200: 'OK', 204: 'No Content', 404: 'Not Found', 299: '' };
  const lines = [`HTTP/1.1 ${status} ${reasons[status]}`];
  for (const [n, v] of headers) {
    if (n === 'transfer-encoding' || (n === 'content-length' && !keepCl) || (n === 'connection' && connection !== null)) continue;
    lines.push(`${n}: ${v}`);
  }
  if (chunked) lines.push('transfer-encoding: chunked');
  if (connection !== null) lines.push(`connection: ${connection}`);
  if (date !== null) lines.push(`date: ${date}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('serializeResponseHead', () => {
  it('writes the status line, the handler’s fields and the framing fields', () => {
    const headers = new HeaderList({ 'content-type': 'text/plain', 'transfer-encoding': 'gzip', 'content-length': 'x', connection: 'upgrade' });
    const bytes = serializeResponseHead(200, headers, false, true, 'close', 'Sun, 06 Nov 1994 08:49:37 GMT');
    expect(bytes.toString('latin1')).toBe(
      'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nconnection: close\r\n' +
      'date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n',
    );
  });

  it('writes obs-text values as single octets (latin1)', () => {
    const bytes = serializeResponseHead(200, new HeaderList({ 'x-a': 'caf\u00e9' }), true, false, null, null);
    expect([...bytes.subarray(bytes.indexOf('caf') + 3, bytes.indexOf('caf') + 4)]).toEqual([0xe9]);
  });

  it('hands out the same bytes for the same head, and never stale bytes for a different one (property)', () => {
    const name = fc.constantFrom('content-type', 'content-length', 'connection', 'x-a', 'transfer-encoding', 'date');
    const value = fc.constantFrom('1', '2', 'text/plain', 'close', 'v');
    const call = fc.tuple(
      fc.constantFrom(200, 204, 404, 299),
      fc.array(fc.tuple(name, value), { maxLength: 4 }),
      fc.boolean(), fc.boolean(),
      fc.constantFrom(null, 'close', 'keep-alive'),
      fc.constantFrom(null, 'Sun, 06 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:38 GMT'),
    );
    // "again" repeats the call before with a new list of the same fields: the cache's hit path.
    const script = fc.array(fc.oneof(call, fc.constant('again' as const)), { minLength: 1, maxLength: 8 });
    fc.assert(fc.property(script, (steps) => {
      let previous: { key: string; bytes: Buffer } | null = null;
      type Step = (typeof steps)[number];
      let before: Step = 'again';
      for (const step of steps) {
        const current: Step = step === 'again' ? before : step;
        before = current;
        if (current === 'again') continue;
        const [status, pairs, keepCl, chunked, connection, date] = current;
        const headers = new HeaderList(pairs);
        const args: Args = [status, headers, keepCl, chunked, connection, date];
        const bytes = serializeResponseHead(...args);
        const text = expected(status, headers, keepCl, chunked, connection, date);
        if (bytes.toString('latin1') !== text) return false;
        // The same inputs as the call before: the same bytes, not a new serialisation.
        const key = JSON.stringify([status, pairs, keepCl, chunked, connection, date]);
        if (previous !== null && previous.key === key && previous.bytes !== bytes) return false;
        previous = { key, bytes };
      }
      return true;
    }), { numRuns: 300 });
  });

  it('does not reuse a head whose field list changed after it was written', () => {
    const headers = new HeaderList({ 'x-a': '1' });
    const first = serializeResponseHead(200, headers, true, false, null, null).toString('latin1');
    headers.set('x-a', '2');
    const second = serializeResponseHead(200, headers, true, false, null, null).toString('latin1');
    expect(first).toContain('x-a: 1');
    expect(second).toContain('x-a: 2');
  });
});
