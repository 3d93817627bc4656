/**
 * Review of the HTTP/3 client pool (src/h3/client-pool.ts) for behaviour the one-connection-per-
 * request client had and the pool could lose: a retried request (RFC 9114 §4.1.1) must be the same
 * request, connections are shared only under the same TLS trust, and closing a pooled connection
 * never leaves a rejected promise nobody handles.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeaderList } from '../../../src/core/headers.js';
import type { ClientRequestOptions, ClientResponse } from '../../../src/h1/client.js';
import type { H3ClientHandle } from '../../../src/h3/client.js';
import { H3ConnectionPool } from '../../../src/h3/client-pool.js';
import { H3RequestRejected } from '../../../src/h3/connection.js';

/** A connection that reads each request's headers as connectH3 does (one pass over the iterable). */
class FakeConnection {
  readonly seenHeaders: [string, string][][] = [];
  rejectNext: Error | null = null;
  closeError: Error | null = null;
  closed = 0;
  readonly handle: H3ClientHandle;

  constructor(readonly options: ClientRequestOptions) {
    const self = this;
    this.handle = {
      session: undefined as never,
      get available() { return self.closed === 0; },
      ref() {},
      unref() {},
      async close() {
        self.closed++;
        if (self.closeError) throw self.closeError;
      },
      async request(_url, requestOptions = {}): Promise<ClientResponse> {
        const headers: [string, string][] = [];
        for (const [n, v] of requestOptions.headers ?? []) headers.push([n, v]);
        self.seenHeaders.push(headers);
        const err = self.rejectNext;
        self.rejectNext = null;
        if (err) throw err;
        return { protocol: 'h3', status: 200, headers: new HeaderList(), body: (async function* () {})(), trailers: Promise.resolve(null) };
      },
    };
  }
}

function pool(setup: (c: FakeConnection, n: number) => void = () => {}, idleTimeoutMs = 50) {
  const opened: FakeConnection[] = [];
  const p = new H3ConnectionPool({
    idleTimeoutMs,
    connect: async (_url, options) => {
      const c = new FakeConnection(options);
      setup(c, opened.length);
      opened.push(c);
      return c.handle;
    },
  });
  return { pool: p, opened };
}

const A = new URL('https://a.example:8443/x');
const settle = () => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('H3ConnectionPool review', () => {
  it('a retried request carries the same header fields, even when they were given as a one-shot iterable (RFC 9114 §4.1.1)', async () => {
    const { pool: p, opened } = pool((c, n) => {
      if (n === 0) c.rejectNext = new H3RequestRejected('not processed');
    });
    function* fields(): Generator<[string, string]> {
      yield ['content-type', 'text/plain'];
      yield ['authorization', 'Bearer t'];
    }
    const res = await p.request(A, { method: 'POST', body: 'hello', headers: fields() });
    expect(res.status).toBe(200);
    expect(opened).toHaveLength(2);
    const expected = [['content-type', 'text/plain'], ['authorization', 'Bearer t']];
    expect(opened[0]!.seenHeaders).toEqual([expected]);
    expect(opened[1]!.seenHeaders).toEqual([expected]);
  });

  it('CA lists that join to the same text are different trust: no shared connection', async () => {
    const { pool: p, opened } = pool();
    await p.request(A, { ca: ['a.pem', 'b.pem'] });
    await p.request(A, { ca: 'a.pem\nb.pem' });
    await p.request(A, { ca: ['a.pem', 'b.pem'] });
    expect(opened.map((c) => c.options.ca)).toEqual([['a.pem', 'b.pem'], 'a.pem\nb.pem']);
  });

  it('a pooled connection whose close fails leaves no unhandled rejection behind (idle expiry)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { pool: p, opened } = pool((c) => {
        c.closeError = new Error('socket already closed');
      }, 1);
      await p.request(A);
      await new Promise((r) => setTimeout(r, 30));
      await settle();
      expect(opened[0]!.closed).toBe(1);
      expect(p.size).toBe(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a traced request on its own connection whose close fails leaves no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { pool: p, opened } = pool((c, n) => {
        c.closeError = new Error('socket already closed');
        if (n === 1) c.rejectNext = new Error('H3_MESSAGE_ERROR');
      });
      await p.request(A, { trace: () => {} });
      await expect(p.request(A, { trace: () => {} })).rejects.toThrow('H3_MESSAGE_ERROR');
      await new Promise((r) => setTimeout(r, 10));
      expect(opened.map((c) => c.closed)).toEqual([1, 1]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('closeAll still settles when closing a connection fails', async () => {
    const { pool: p, opened } = pool((c) => {
      c.closeError = new Error('socket already closed');
    });
    await p.request(A);
    await settle();
    await expect(p.closeAll()).resolves.toBeUndefined();
    expect(opened[0]!.closed).toBe(1);
  });

  it('a request made while closeAll is closing the connection goes to a new one, not the closing one (RFC 9114 §5.2)', async () => {
    const { pool: p, opened } = pool();
    await p.request(A);
    await settle();
    const closing = p.closeAll();
    const res = await p.request(A);
    await closing;
    expect(res.status).toBe(200);
    expect(opened).toHaveLength(2);
    expect(opened[0]!.seenHeaders).toHaveLength(1);
    expect(opened[1]!.seenHeaders).toHaveLength(1);
    await p.closeAll();
  });

  it('a request that fails for another reason than rejection is neither retried nor leaves its connection busy', async () => {
    vi.useFakeTimers();
    const { pool: p, opened } = pool((c) => {
      c.rejectNext = new Error('H3_MESSAGE_ERROR');
    }, 100);
    await expect(p.request(A, { method: 'POST', body: 'x' })).rejects.toThrow('H3_MESSAGE_ERROR');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.seenHeaders).toHaveLength(1);
    // Nothing in flight: the connection is closed after the idle time.
    await vi.advanceTimersByTimeAsync(100);
    expect(opened[0]!.closed).toBe(1);
    expect(p.size).toBe(0);
  });
});
