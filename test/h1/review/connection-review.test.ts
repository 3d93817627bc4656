/**
 * Review of the HTTP/1.1 connection logic (src/h1/connection.ts, server.ts, serve.ts, core/response.ts,
 * h1/client.ts). Each test asserts the behaviour RFC 9110/9112 (or the issue) requires.
 */
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from '../../../src/core/types.js';
import { readAll } from '../../../src/core/body.js';
import { H1Agent } from '../../../src/h1/client.js';
import { sleep, startCleartext, statusLines } from '../../helpers/server.js';

/** A raw client socket that records what it receives and whether the server closed. */
function rawClient(port: number, opts: { allowHalfOpen?: boolean } = {}) {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: opts.allowHalfOpen ?? false });
  const received: Buffer[] = [];
  let ended = false;
  let closed = false;
  socket.on('data', (d) => received.push(d));
  socket.on('end', () => { ended = true; });
  socket.on('close', () => { closed = true; });
  socket.on('error', () => {});
  const text = (): string => Buffer.concat(received).toString('latin1');
  return {
    socket,
    connected: new Promise<void>((r) => socket.once('connect', () => r())),
    text,
    get ended() { return ended; },
    get closed() { return closed; },
    async waitFor(pred: () => boolean, ms = 2000): Promise<boolean> {
      const t0 = Date.now();
      while (!pred()) {
        if (Date.now() - t0 > ms) return false;
        await sleep(10);
      }
      return true;
    },
  };
}

// serve() loads the protocol modules on first use: do that outside the timed tests.
beforeAll(async () => { const s = await startCleartext(() => {}, { h2: false }); await s.close(); });

describe('h1 connection review', () => {
  it('closes after a response whose handler sent Connection: close (RFC 9112 §9.6)', async () => {
    const seen: string[] = [];
    const handler: Handler = async (req, res) => {
      seen.push(req.path);
      res.setHeader('connection', 'close');
      await res.end('bye\n');
    };
    const s = await startCleartext(handler, { h2: false });
    try {
      const c = rawClient(s.httpPort!);
      await c.connected;
      c.socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitFor(() => c.ended || statusLines(Buffer.from(c.text(), 'latin1')).length >= 2, 1500);
      // "A server that sends a "close" connection option MUST initiate closure of the connection
      // ... after it sends the response containing close" and MUST NOT process further requests.
      expect(statusLines(Buffer.from(c.text(), 'latin1'))).toEqual([200]);
      expect(seen).toEqual(['/first']);
      expect(c.ended).toBe(true);
      c.socket.destroy();
    } finally { await s.close(); }
  });

  it('graceful shutdown closes a keep-alive connection as soon as its in-flight response ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const handler: Handler = async (_req, res) => {
      res.writeHead(200);
      res.write('part 1\n');
      res.flush(); // head on the wire (keep-alive) before shutdown starts
      await gate;
      await res.end('part 2\n');
    };
    const s = await startCleartext(handler, { h2: false, limits: { keepAliveTimeoutMs: 20_000, shutdownTimeoutMs: 20_000 } });
    const c = rawClient(s.httpPort!);
    let closing: Promise<void> | null = null;
    try {
      await c.connected;
      c.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await c.waitFor(() => c.text().includes('part 1'))).toBe(true);
      closing = s.close();
      await sleep(50);
      release();
      // The in-flight response is delivered in full...
      expect(await c.waitFor(() => c.text().endsWith('0\r\n\r\n'), 1000)).toBe(true);
      expect(c.text()).toContain('part 2');
      // ...and then the connection closes at once, not after keepAliveTimeoutMs/shutdownTimeoutMs.
      expect(await c.waitFor(() => c.ended, 1500)).toBe(true);
      const done = await Promise.race([closing.then(() => true), sleep(1000).then(() => false)]);
      expect(done).toBe(true);
    } finally {
      c.socket.destroy();
      await (closing ?? s.close());
    }
  });

  it('a slow reader of a keep-alive response gets all of it: the idle timeout does not cut it (RFC 9112 §9.6, §8)', async () => {
    const size = 8 * 1024 * 1024;
    const handler: Handler = async (_req, res) => { await res.end(Buffer.alloc(size, 0x63)); };
    const s = await startCleartext(handler, { h2: false, limits: { keepAliveTimeoutMs: 300 } });
    const c = rawClient(s.httpPort!);
    try {
      await c.connected;
      c.socket.pause(); // reads nothing for longer than keepAliveTimeoutMs
      c.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(800);
      c.socket.resume();
      await c.waitFor(() => c.closed, 3000);
      const text = c.text();
      const bodyStart = text.indexOf('\r\n\r\n') + 4;
      expect(text).toMatch(new RegExp(`content-length: ${size}\r\n`));
      expect(text.length - bodyStart).toBe(size);
    } finally {
      c.socket.destroy();
      await s.close();
    }
  });

  it('does not apply the body timeout while the server withholds 100 Continue (RFC 9110 §10.1.1)', async () => {
    const handler: Handler = async (req, res) => {
      await sleep(400); // e.g. an authorization lookup before accepting the upload
      const body = await readAll(req.body);
      await res.end(`got ${body.length}\n`);
    };
    const s = await startCleartext(handler, { h2: false, limits: { bodyTimeoutMs: 200 } });
    try {
      const c = rawClient(s.httpPort!);
      await c.connected;
      c.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
      // The client waits for 100 before sending content, as RFC 9110 §10.1.1 lets it.
      const got = await c.waitFor(() => /^HTTP\/1\.1 \d{3} /.test(c.text()), 2000);
      expect(got).toBe(true);
      if (c.text().startsWith('HTTP/1.1 100 ')) c.socket.write('hello');
      await c.waitFor(() => c.ended, 2000);
      expect(statusLines(Buffer.from(c.text(), 'latin1'))).toEqual([100, 200]);
      expect(c.text()).toContain('got 5');
      c.socket.destroy();
    } finally { await s.close(); }
  });

  it('frees the socket of a client that ignores the server\'s FIN after Connection: close (RFC 9112 §9.6)', async () => {
    const handler: Handler = async (_req, res) => { await res.end('ok\n'); };
    const s = await startCleartext(handler, {
      h2: false,
      limits: { headersTimeoutMs: 300, keepAliveTimeoutMs: 300, bodyTimeoutMs: 300, maxConnections: 1 },
    });
    const hostile = rawClient(s.httpPort!, { allowHalfOpen: true });
    try {
      await hostile.connected;
      hostile.socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(await hostile.waitFor(() => hostile.ended, 2000)).toBe(true); // response and FIN
      expect(statusLines(Buffer.from(hostile.text(), 'latin1'))).toEqual([200]);
      // The client never closes its side and sends nothing more. The server must not keep that
      // socket (and its connection slot) forever: after a bounded lingering close it is released,
      // and a second client gets served.
      let served = false;
      const t0 = Date.now();
      while (!served && Date.now() - t0 < 3000) {
        const c = rawClient(s.httpPort!);
        await c.connected;
        c.socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        await c.waitFor(() => c.closed, 1000);
        served = statusLines(Buffer.from(c.text(), 'latin1'))[0] === 200;
        c.socket.destroy();
        if (!served) await sleep(200);
      }
      expect(served).toBe(true);
    } finally {
      hostile.socket.destroy();
      await s.close();
    }
  });

  it('delivers a whole Connection: close response even when the client sends more bytes meanwhile (RFC 9112 §9.6)', async () => {
    const size = 8 * 1024 * 1024;
    const handler: Handler = async (_req, res) => { await res.end(Buffer.alloc(size, 0x62)); };
    const s = await startCleartext(handler, { h2: false });
    const c = rawClient(s.httpPort!);
    try {
      await c.connected;
      c.socket.pause(); // a slow reader: the response waits in the server's socket buffer
      c.socket.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await sleep(200);
      // More bytes from the client after the response was handed to the socket (a pipelined request,
      // the rest of an upload, a stray CRLF): they must be discarded, not end the response early.
      c.socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(100);
      c.socket.resume();
      await c.waitFor(() => c.closed, 4000);
      const text = c.text();
      const bodyStart = text.indexOf('\r\n\r\n') + 4;
      expect(text).toMatch(new RegExp(`content-length: ${size}\r\n`));
      expect(text.length - bodyStart).toBe(size);
    } finally {
      c.socket.destroy();
      await s.close();
    }
  });

  it('a HEAD response is complete with its head: the next request is not held behind a streaming handler (RFC 9112 §6.3 item 1)', async () => {
    const handler: Handler = async (req, res) => {
      if (req.path === '/events') {
        // An event stream (SSE-like): the same code answers GET and HEAD.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flush();
        for (let i = 0; i < 60 && !req.signal.aborted; i++) {
          await sleep(50);
          res.write(`data: ${i}\n\n`);
          res.flush();
        }
        await res.end();
        return;
      }
      await res.end('after\n');
    };
    const s = await startCleartext(handler, { h2: false, limits: { shutdownTimeoutMs: 300 } });
    const c = rawClient(s.httpPort!);
    try {
      await c.connected;
      c.socket.write('HEAD /events HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await c.waitFor(() => c.text().includes('\r\n\r\n'), 1000)).toBe(true);
      // The HEAD response ended with its header section; the client reuses the connection.
      c.socket.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
      const answered = await c.waitFor(() => c.text().includes('after\n'), 1000);
      expect(answered).toBe(true);
      expect(statusLines(Buffer.from(c.text(), 'latin1'))).toEqual([200, 200]);
    } finally {
      c.socket.destroy();
      await s.close();
    }
  });

  it('the lingering close does not cut a Connection: close response a slow reader is still downloading (RFC 9112 §9.6)', async () => {
    const size = 8 * 1024 * 1024;
    const handler: Handler = async (_req, res) => { await res.end(Buffer.alloc(size, 0x66)); };
    const s = await startCleartext(handler, { h2: false, limits: { keepAliveTimeoutMs: 300 } });
    const c = rawClient(s.httpPort!);
    try {
      await c.connected;
      c.socket.pause(); // a slow link: nothing read for a while
      c.socket.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await sleep(1500);
      c.socket.resume();
      await c.waitFor(() => c.closed, 3000);
      const text = c.text();
      const bodyStart = text.indexOf('\r\n\r\n') + 4;
      expect(text.length - bodyStart).toBe(size);
    } finally {
      c.socket.destroy();
      await s.close();
    }
  });

  it('a client that never reads a large response does not hold its connection forever', async () => {
    const handler: Handler = async (_req, res) => { await res.end(Buffer.alloc(8 * 1024 * 1024, 0x67)); };
    const s = await startCleartext(handler, {
      h2: false,
      limits: { headersTimeoutMs: 300, keepAliveTimeoutMs: 300, bodyTimeoutMs: 300, maxConnections: 1, shutdownTimeoutMs: 300 },
    });
    const hostile = rawClient(s.httpPort!);
    try {
      await hostile.connected;
      hostile.socket.pause(); // never reads: the response sits in the server's socket buffer
      hostile.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
      // Some timeout must eventually free the slot (the committed code used the keep-alive timer).
      let served = false;
      const t0 = Date.now();
      while (!served && Date.now() - t0 < 3500) {
        await sleep(300);
        const c = rawClient(s.httpPort!);
        await c.connected;
        c.socket.write('GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        await c.waitFor(() => c.closed || c.text().includes('\r\n\r\n'), 500);
        served = statusLines(Buffer.from(c.text(), 'latin1'))[0] === 200;
        c.socket.destroy();
      }
      expect(served).toBe(true);
    } finally {
      hostile.socket.destroy();
      await s.close();
    }
  });

  it('does not start pipelined requests while earlier responses are still buffered for a client that does not read', async () => {
    // One shared 4 MiB buffer: the server queues references, so the test itself stays small.
    const BIG = Buffer.alloc(4 * 1024 * 1024, 0x65);
    let started = 0;
    const handler: Handler = async (_req, res) => { started++; await res.end(BIG); };
    const s = await startCleartext(handler, { h2: false, limits: { shutdownTimeoutMs: 300 } });
    const c = rawClient(s.httpPort!);
    try {
      await c.connected;
      c.socket.pause(); // never reads
      c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(50));
      await sleep(800);
      // Backpressure must reach the request side: with responses stuck in the transport (well over
      // responseHighWaterMark), the next pipelined request waits. Otherwise a client that pipelines
      // and never reads makes the server buffer without bound (here 50 x 4 MiB).
      expect(started).toBeLessThanOrEqual(10);
    } finally {
      c.socket.destroy();
      await s.close();
    }
  });

  it('a 500 after a handler failure does not carry the failed response\'s content headers (RFC 9110 §8.4)', async () => {
    const handler: Handler = (_req, res) => {
      res.setHeader('content-encoding', 'gzip');
      res.setHeader('content-range', 'bytes 0-9/100');
      res.writeHead(206);
      throw new Error('failed before the head');
    };
    const s = await startCleartext(handler, { h2: false, onHandlerError: () => {} });
    try {
      const c = rawClient(s.httpPort!);
      await c.connected;
      c.socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await c.waitFor(() => c.ended, 2000);
      const text = c.text();
      expect(statusLines(Buffer.from(text, 'latin1'))).toEqual([500]);
      // "internal server error\n" is not gzip-coded and is not a byte range.
      expect(text).not.toMatch(/content-encoding:/i);
      expect(text).not.toMatch(/content-range:/i);
      c.socket.destroy();
    } finally { await s.close(); }
  });
});

describe('h1 client review', () => {
  it('does not add a close listener to a pooled socket on every reuse', async () => {
    const handler: Handler = async (_req, res) => { await res.end('ok'); };
    const s = await startCleartext(handler, { h2: false });
    const agent = new H1Agent();
    try {
      for (let i = 0; i < 15; i++) {
        const r = await agent.request(new URL(`${s.url}/`));
        await readAll(r.body);
        await sleep(0);
      }
      const idle = (agent as unknown as { idle: Map<string, { socket: net.Socket }[]> }).idle;
      const sockets = [...idle.values()].flat().map((p) => p.socket);
      expect(sockets.length).toBe(1);
      expect(sockets[0]!.listenerCount('close')).toBeLessThanOrEqual(2);
    } finally {
      agent.close();
      await s.close();
    }
  });

  it('a pooled socket released while paused (unread body over the high-water mark) still serves the next request', async () => {
    const handler: Handler = async (req, res) => {
      if (req.path === '/big') await res.end(Buffer.alloc(100_000, 0x64));
      else await res.end('small');
    };
    const s = await startCleartext(handler, { h2: false, limits: { shutdownTimeoutMs: 300 } });
    const agent = new H1Agent();
    try {
      const r1 = await agent.request(new URL(`${s.url}/big`));
      await sleep(300); // r1's whole body has arrived; nobody has read it yet
      const r2 = await Promise.race([
        agent.request(new URL(`${s.url}/small`)).then(async (r) => (await readAll(r.body)).toString()),
        sleep(2000).then(() => 'timed out'),
      ]);
      expect(r2).toBe('small');
      expect((await readAll(r1.body)).length).toBe(100_000);
    } finally {
      agent.close();
      await s.close();
    }
  });

  it('an idle pooled socket that fails (e.g. ECONNRESET) does not throw into the event loop', async () => {
    const handler: Handler = async (_req, res) => { await res.end('ok'); };
    const s = await startCleartext(handler, { h2: false });
    const agent = new H1Agent();
    try {
      const r = await agent.request(new URL(`${s.url}/`));
      await readAll(r.body);
      await sleep(10);
      const idle = (agent as unknown as { idle: Map<string, { socket: net.Socket }[]> }).idle;
      const socket = [...idle.values()].flat()[0]!.socket;
      // With no 'error' listener, a reset on an idle pooled socket is an uncaught exception.
      expect(socket.listenerCount('error')).toBeGreaterThan(0);
      expect(() => socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).not.toThrow();
    } finally {
      agent.close();
      await s.close();
    }
  });
});
