/**
 * Review of writeHead(status, { ... }) after the performance pass (src/core/response.ts): the fields
 * of a plain object are read once, and exactly what was checked goes on the wire (RFC 9110 §5.5: no
 * CR, LF or NUL in a field value; RFC 9112 §11.1: a value that held CRLF would split the response).
 */
import { describe, expect, it } from 'vitest';
import { StreamingResponse } from '../../../src/core/response.js';
import type { ResponseHead, ResponseSink } from '../../../src/core/sink.js';

function make() {
  const heads: ResponseHead[] = [];
  const sink: ResponseSink = {
    bufferedBytes: 0,
    trailersAllowed: false,
    sendInformational() {},
    send(head) { if (head) heads.push(head); },
    reset() {},
  };
  const res = new StreamingResponse(sink, { method: 'GET', signal: new AbortController().signal, highWaterMark: 1 << 16 });
  return { res, heads };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('writeHead with a plain object of fields', () => {
  it('sends the value it checked, not a second read of a getter (no response splitting)', async () => {
    const { res, heads } = make();
    let reads = 0;
    const fields = {
      get 'x-a'() { return reads++ === 0 ? 'checked' : 'x\r\nset-cookie: injected=1'; },
    };
    try {
      res.writeHead(200, fields);
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError); // refusing it is fine too
    }
    void res.end();
    await tick();
    const sent = [...heads[0]!.headers];
    for (const [, value] of sent) expect(value).not.toMatch(/[\r\n\0]/);
    expect(sent.filter(([n]) => n === 'set-cookie')).toEqual([]);
    expect(reads).toBe(1);
  });

  it('adds every value of a one-shot iterable value, as before the pass (nothing silently dropped)', async () => {
    const { res, heads } = make();
    function* values(): Generator<string> { yield 'a'; yield 'b'; }
    res.writeHead(200, { 'x-list': values() as unknown as string[] });
    void res.end();
    await tick();
    expect(heads[0]!.headers.getAll('x-list')).toEqual(['a', 'b']);
  });

  it('still refuses a bad value in an iterable and changes nothing', async () => {
    const { res, heads } = make();
    function* values(): Generator<string> { yield 'a'; yield 'b\r\nx: y'; }
    expect(() => res.writeHead(404, { 'x-ok': '1', 'x-list': values() as unknown as string[] })).toThrow(TypeError);
    expect(res.statusCode).toBe(200);
    void res.end();
    await tick();
    expect(heads[0]!.headers.has('x-ok')).toBe(false);
    expect(heads[0]!.headers.has('x-list')).toBe(false);
  });
});
