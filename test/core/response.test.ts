import { describe, expect, it } from 'vitest';
import { HeaderList } from '../../src/core/headers.js';
import { StreamingResponse } from '../../src/core/response.js';
import type { ResponseHead, ResponseSink } from '../../src/core/sink.js';

interface Flush { head: ResponseHead | null; body: string; end: boolean; trailers: [string, string][] | null }

function fakeSink(opts: { trailersAllowed?: boolean } = {}) {
  const flushes: Flush[] = [];
  const sink: ResponseSink & { buffered: number; resets: Error[] } = {
    buffered: 0,
    resets: [],
    get bufferedBytes() { return this.buffered; },
    trailersAllowed: opts.trailersAllowed ?? true,
    sendInformational() {},
    send(head, body, _bytes, end, trailers) {
      flushes.push({ head, body: Buffer.concat(body).toString(), end, trailers: trailers ? [...trailers] : null });
    },
    reset(reason) { this.resets.push(reason); },
  };
  return { sink, flushes };
}

function make(method = 'GET', hwm = 16, trailersAllowed = true) {
  const { sink, flushes } = fakeSink({ trailersAllowed });
  const controller = new AbortController();
  const res = new StreamingResponse(sink, { method, signal: controller.signal, highWaterMark: hwm });
  return { res, sink, flushes, controller };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('StreamingResponse', () => {
  it('coalesces writes made in one tick into one flush', async () => {
    const { res, flushes } = make('GET', 1 << 20);
    res.write('a'); res.write('b'); res.write('c');
    expect(flushes).toHaveLength(0);
    await tick();
    expect(flushes).toHaveLength(1);
    expect(flushes[0]!.body).toBe('abc');
    expect(flushes[0]!.end).toBe(false);
    expect(flushes[0]!.head!.headers.has('content-length')).toBe(false);
  });

  it('flush() sends at once', () => {
    const { res, flushes } = make('GET', 1 << 20);
    res.write('x');
    res.flush();
    expect(flushes.map((f) => f.body)).toEqual(['x']);
    res.write('y');
    res.flush();
    expect(flushes.map((f) => f.body)).toEqual(['x', 'y']);
    expect(flushes[1]!.head).toBeNull();
  });


  it('sets Content-Length from the whole body when ended in the first tick', async () => {
    const { res, flushes } = make('GET', 1 << 20);
    res.write('hello ');
    void res.end('world');
    await tick();
    expect(flushes).toHaveLength(1);
    expect(flushes[0]!.head!.headers.get('content-length')).toBe('11');
    expect(flushes[0]!.end).toBe(true);
    expect(flushes[0]!.body).toBe('hello world');
  });

  it('write() returns false over the high-water mark and drain() waits for the transport', async () => {
    const { res, sink } = make('GET', 10);
    expect(res.write('12345')).toBe(true);
    expect(res.write('67890')).toBe(false);
    sink.buffered = 100; // the transport has not written it yet
    let drained = false;
    void res.drain().then(() => { drained = true; });
    await tick();
    expect(drained).toBe(false);
    sink.buffered = 0;
    res.notifyDrain();
    await tick();
    expect(drained).toBe(true);
  });

  it('drops the body of HEAD, 204 and 304 responses', async () => {
    for (const [method, status] of [['HEAD', 200], ['GET', 204], ['GET', 304]] as const) {
      const { res, flushes } = make(method, 1 << 20);
      res.writeHead(status);
      void res.end('body');
      await tick();
      expect(flushes[0]!.body).toBe('');
      expect(flushes[0]!.head!.status).toBe(status);
    }
  });

  it('sends trailers only where the client accepts them, and then without Content-Length', async () => {
    const a = make('GET', 1 << 20, true);
    void a.res.end('x', { 'x-checksum': 'abc' });
    await tick();
    expect(a.flushes[0]!.trailers).toEqual([['x-checksum', 'abc']]);
    expect(a.flushes[0]!.head!.headers.has('content-length')).toBe(false);
    const b = make('GET', 1 << 20, false);
    void b.res.end('x', { 'x-checksum': 'abc' });
    await tick();
    expect(b.flushes[0]!.trailers).toBeNull();
    expect(b.flushes[0]!.head!.headers.get('content-length')).toBe('1');
  });

  it('drops writes after an abort, resolves end() and drain(), and never throws', async () => {
    const { res, flushes, controller } = make('GET', 4);
    res.write('12345678');
    const drained = res.drain();
    controller.abort(new Error('client gone'));
    await drained;
    expect(res.write('more')).toBe(false);
    await res.end('x');
    await tick();
    expect(flushes).toHaveLength(0);
  });

  it('end() resolves only when the protocol reports the response finished', async () => {
    const { res } = make('GET', 1 << 20);
    let done = false;
    void res.end('x').then(() => { done = true; });
    await tick();
    expect(done).toBe(false);
    res.notifyFinished();
    await tick();
    expect(done).toBe(true);
  });

  it('destroy() after the head resets the stream instead of ending it', async () => {
    const { res, sink, flushes } = make('GET', 1 << 20);
    res.write('partial');
    res.flush();
    res.destroy(new Error('boom'));
    expect(sink.resets).toHaveLength(1);
    expect(flushes.some((f) => f.end)).toBe(false);
  });

  it('destroy() before the head becomes a 500', async () => {
    const { res, flushes } = make('GET', 1 << 20);
    res.setHeader('content-length', '99');
    res.write('partial');
    res.destroy(new Error('boom'));
    await tick();
    expect(flushes[0]!.head!.status).toBe(500);
    expect(flushes[0]!.end).toBe(true);
  });

  it('rejects header values that would split the response', () => {
    const { res } = make();
    expect(() => res.setHeader('x-a', 'a\r\nx-b: b')).toThrow(TypeError);
    expect(() => res.setHeader('bad name', 'v')).toThrow(TypeError);
  });

  it('writeHead takes fields as an object, pairs or a HeaderList, lower-casing names and keeping order', async () => {
    for (const fields of [
      { 'X-A': 'one', 'x-n': 5, 'x-list': ['1', '2'], skipped: undefined },
      [['X-A', 'one'], ['x-n', '5'], ['x-list', '1'], ['x-list', '2']] as [string, string][],
      new HeaderList([['X-A', 'one'], ['x-n', '5'], ['x-list', '1'], ['x-list', '2']]),
    ]) {
      const { res, flushes } = make();
      res.setHeader('x-first', '0');
      res.writeHead(201, fields);
      void res.end();
      await tick();
      expect(flushes[0]!.head!.status).toBe(201);
      expect([...flushes[0]!.head!.headers].filter(([n]) => n !== 'content-length')).toEqual([
        ['x-first', '0'], ['x-a', 'one'], ['x-n', '5'], ['x-list', '1'], ['x-list', '2'],
      ]);
    }
  });

  it('writeHead with an invalid field throws and changes nothing (RFC 9110 §5.5)', async () => {
    const { res, flushes } = make();
    expect(() => res.writeHead(404, { 'x-ok': 'fine', 'x-bad': 'a\r\nset-cookie: b' })).toThrow(TypeError);
    expect(() => res.writeHead(404, { 'x-ok': 'fine', 'x-bad': ['a', 'b\n'] })).toThrow(TypeError);
    expect(() => res.writeHead(404, { 'bad name': 'v' })).toThrow(TypeError);
    expect(res.statusCode).toBe(200);
    void res.end();
    await tick();
    expect(flushes[0]!.head!.headers.has('x-ok')).toBe(false);
  });

  it('adds default headers (Alt-Svc) unless the handler set them', async () => {
    const { sink, flushes } = fakeSink();
    const defaults = new HeaderList({ 'alt-svc': 'h3=":8443"' });
    const res = new StreamingResponse(sink, { method: 'GET', signal: new AbortController().signal, highWaterMark: 100, defaultHeaders: defaults });
    void res.end();
    await tick();
    expect(flushes[0]!.head!.headers.get('alt-svc')).toBe('h3=":8443"');
  });
});

describe('trailers', () => {
  it('refuses trailer fields that must not be trailers (RFC 9110 §6.5.1), leaving the response usable', async () => {
    const { res, flushes } = make('GET', 1 << 20);
    expect(() => res.end('x', { 'content-length': '1' })).toThrow(TypeError);
    void res.end('y', { 'x-ok': '1' });
    await tick();
    expect(flushes[0]!.body).toBe('y');
    expect(flushes[0]!.trailers).toEqual([['x-ok', '1']]);
  });
});
