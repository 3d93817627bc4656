/**
 * The HTTP/3 client's connection pool (src/h3/client-pool.ts) over fake connections: reuse per
 * origin and TLS trust, idle expiry with a clean close, GOAWAY and rejected requests (RFC 9114
 * §5.2, §4.1.1), dedicated connections for traced requests.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeaderList } from '../../src/core/headers.js';
import type { ClientRequestOptions, ClientResponse } from '../../src/h1/client.js';
import type { H3ClientHandle } from '../../src/h3/client.js';
import { H3ConnectionPool } from '../../src/h3/client-pool.js';
import { H3RequestRejected } from '../../src/h3/connection.js';

/** A connection that answers each request at once; its response ends when the test says so. */
class FakeConnection {
  available = true;
  closed = 0;
  requests = 0;
  /** Whether the connection would keep the process alive (ref/unref), as the pool last set it. */
  referenced = true;
  /** Ends the response bodies (resolves their trailers). */
  readonly ends: (() => void)[] = [];
  reject: Error | null = null;
  readonly handle: H3ClientHandle;

  constructor(readonly url: URL, readonly options: ClientRequestOptions) {
    const self = this;
    this.handle = {
      session: undefined as never,
      get available() { return self.available && self.closed === 0; },
      async close() { self.closed++; },
      ref() { self.referenced = true; },
      unref() { self.referenced = false; },
      async request(): Promise<ClientResponse> {
        self.requests++;
        if (self.reject) throw self.reject;
        let end!: () => void;
        const trailers = new Promise<HeaderList | null>((resolve) => { end = () => resolve(null); });
        self.ends.push(end);
        return { protocol: 'h3', status: 200, headers: new HeaderList(), body: (async function* () {})(), trailers };
      },
    };
  }

  endAll(): void {
    for (const end of this.ends.splice(0)) end();
  }
}

function pool(idleTimeoutMs = 1000) {
  const opened: FakeConnection[] = [];
  const p = new H3ConnectionPool({
    idleTimeoutMs,
    connect: async (url, options) => {
      const c = new FakeConnection(url, options);
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

describe('H3ConnectionPool', () => {
  it('requests to one origin share one connection, the first ones waiting for the same handshake', async () => {
    const { pool: p, opened } = pool();
    await Promise.all([p.request(A), p.request(A), p.request(new URL('https://a.example:8443/y'))]);
    await p.request(A);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.requests).toBe(4);
    expect(p.size).toBe(1);
  });

  it('other origins and other TLS trust get connections of their own', async () => {
    const { pool: p, opened } = pool();
    await p.request(A);
    await p.request(new URL('https://a.example:9443/'));
    await p.request(new URL('https://b.example:8443/'));
    await p.request(A, { ca: 'PEM' });
    await p.request(A, { insecure: true });
    await p.request(A);
    expect(opened).toHaveLength(5);
  });

  it('closes a connection idle for idleTimeoutMs (GOAWAY, H3_NO_ERROR), and opens a new one afterwards', async () => {
    vi.useFakeTimers();
    const { pool: p, opened } = pool(1000);
    await p.request(A);
    await p.request(A);
    vi.advanceTimersByTime(5000);
    expect(opened[0]!.closed).toBe(0); // responses still streaming: not idle
    opened[0]!.endAll();
    await vi.advanceTimersByTimeAsync(999);
    expect(opened[0]!.closed).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(opened[0]!.closed).toBe(1);
    expect(p.size).toBe(0);
    await p.request(A);
    expect(opened).toHaveLength(2);
  });

  it('an idle connection does not keep the process alive; one carrying a request, or closing, does', async () => {
    const { pool: p, opened } = pool(1000);
    const first = p.request(A);
    await first;
    expect(opened[0]!.referenced).toBe(true); // its response is still streaming
    opened[0]!.endAll();
    await settle();
    expect(opened[0]!.referenced).toBe(false);
    await p.request(A);
    expect(opened[0]!.referenced).toBe(true);
    opened[0]!.endAll();
    await settle();
    expect(opened[0]!.referenced).toBe(false);
    await p.closeAll();
    expect(opened[0]!.closed).toBe(1);
    expect(opened[0]!.referenced).toBe(true); // the clean close is sent before the process may exit
  });

  it('a request before the idle expiry keeps the connection', async () => {
    vi.useFakeTimers();
    const { pool: p, opened } = pool(1000);
    await p.request(A);
    opened[0]!.endAll();
    await vi.advanceTimersByTimeAsync(900);
    await p.request(A);
    await vi.advanceTimersByTimeAsync(900);
    expect(opened[0]!.closed).toBe(0);
    opened[0]!.endAll();
    await vi.advanceTimersByTimeAsync(1000);
    expect(opened[0]!.closed).toBe(1);
    expect(opened).toHaveLength(1);
  });

  it('after a GOAWAY the next request opens a new connection; the old one closes when its responses end (RFC 9114 §5.2)', async () => {
    const { pool: p, opened } = pool();
    await p.request(A);
    opened[0]!.available = false;
    await p.request(A);
    expect(opened).toHaveLength(2);
    expect(opened[0]!.closed).toBe(0);
    opened[0]!.endAll();
    await settle();
    expect(opened[0]!.closed).toBe(1);
    expect(opened[1]!.closed).toBe(0);
  });

  it('a rejected request is retried once on a new connection when its body can be sent again (RFC 9114 §4.1.1)', async () => {
    const { pool: p, opened } = pool();
    await p.request(A);
    opened[0]!.endAll();
    opened[0]!.reject = new H3RequestRejected('not processed');
    const res = await p.request(A, { method: 'POST', body: 'again' });
    expect(res.status).toBe(200);
    expect(opened).toHaveLength(2);
    await settle();
    expect(opened[0]!.closed).toBe(1);
    // A streamed body cannot be sent twice: the rejection goes to the caller.
    opened[1]!.reject = new H3RequestRejected('not processed');
    await expect(p.request(A, { method: 'POST', body: (async function* () { yield Buffer.from('x'); })() })).rejects.toBeInstanceOf(H3RequestRejected);
    expect(opened).toHaveLength(2);
  });

  it('other request errors are not retried', async () => {
    const { pool: p, opened } = pool();
    await p.request(A);
    opened[0]!.reject = new Error('boom');
    await expect(p.request(A)).rejects.toThrow('boom');
    expect(opened).toHaveLength(1);
  });

  it('a failed handshake is not kept: the next request tries again', async () => {
    let attempts = 0;
    const p = new H3ConnectionPool({
      connect: async (url, options) => {
        if (++attempts === 1) throw new Error('handshake failed');
        return new FakeConnection(url, options).handle;
      },
    });
    await expect(p.request(A)).rejects.toThrow('handshake failed');
    expect(p.size).toBe(0);
    expect((await p.request(A)).status).toBe(200);
    expect(attempts).toBe(2);
  });

  it('traced requests get a connection of their own, closed when the response ends', async () => {
    const { pool: p, opened } = pool();
    await p.request(A, { trace: () => {} });
    await p.request(A, { trace: () => {} });
    expect(opened).toHaveLength(2);
    expect(p.size).toBe(0);
    opened[0]!.endAll();
    await settle();
    expect(opened[0]!.closed).toBe(1);
    expect(opened[1]!.closed).toBe(0);
  });

  it('closeAll closes idle connections now and busy ones when their responses end', async () => {
    const { pool: p, opened } = pool();
    await p.request(A);
    await p.request(new URL('https://b.example/'));
    opened[0]!.endAll();
    await settle();
    await p.closeAll();
    expect(opened[0]!.closed).toBe(1);
    expect(opened[1]!.closed).toBe(0);
    expect(p.size).toBe(0);
    opened[1]!.endAll();
    await settle();
    expect(opened[1]!.closed).toBe(1);
  });
});
