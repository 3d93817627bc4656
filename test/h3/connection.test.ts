/**
 * HTTP/3 client and server connections (RFC 9114) talking in memory over the fake QUIC link
 * (connection-harness.ts): random split points, interleaved streams, delivery over later turns.
 * The demo routes end to end, streamed bodies with backpressure, trailers, push, cancellation
 * and graceful shutdown.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { readAll } from '../../src/core/body.js';
import type { Handler } from '../../src/core/types.js';
import { demoHandler } from '../../src/demo/routes.js';
import type { ClientResponse } from '../../src/h1/client.js';
import { H3ClientConnection, H3RequestRejected, H3ServerConnection, type H3ClientOptions, type H3Push } from '../../src/h3/connection.js';
import { H3Error, H3ErrorCode } from '../../src/h3/errors.js';
import { FrameReader } from '../../src/h3/frame.js';
import type { Limits } from '../../src/core/limits.js';
import { MemoryLink, seededRandom, type LinkOptions } from './connection-harness.js';

interface Pair {
  link: MemoryLink;
  client: H3ClientConnection;
  server: H3ServerConnection;
}

function connect(handler: Handler, opts: LinkOptions & { client?: H3ClientOptions; limits?: Partial<Limits> } = {}): Pair {
  const link = new MemoryLink(opts);
  const server = new H3ServerConnection(link.server, { clock: Date.now,
    handler,
    remoteAddress: '::1',
    remotePort: 4433,
    random: seededRandom(7),
    limits: opts.limits,
    onHandlerError: () => {},
  });
  const client = new H3ClientConnection(link.client, { random: seededRandom(8), limits: opts.limits, ...opts.client });
  link.server.app = server;
  link.client.app = client;
  server.start();
  client.start();
  return { link, client, server };
}

/** Waits until the link has nothing left to deliver. */
async function idle(link: MemoryLink): Promise<void> {
  for (let quiet = 0; quiet < 3;) {
    await new Promise((r) => setTimeout(r, 1));
    // Nothing deliverable (a paused stream's bytes may wait).
    quiet = link.client.ready().length === 0 && link.server.ready().length === 0 ? quiet + 1 : 0;
  }
}

const get = (client: H3ClientConnection, path: string, extra: Partial<Parameters<H3ClientConnection['request']>[0]> = {}) =>
  client.request({ method: 'GET', scheme: 'https', authority: 'localhost', path, ...extra });

async function text(res: ClientResponse): Promise<string> {
  return (await readAll(res.body)).toString('utf8');
}

function patternChecksum(size: number): string {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return createHash('sha256').update(b).digest('hex');
}

describe('HTTP/3 over the in-memory link: demo routes', () => {
  it('GET / returns the demo page with h3 as the protocol', async () => {
    const { client } = connect(demoHandler);
    const res = await get(client, '/');
    expect(res.protocol).toBe('h3');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const body = await text(res);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    expect(body).toContain('h3');
    expect(await res.trailers).toBeNull();
  });

  it('/stream delivers one DATA frame per flush, in order', async () => {
    const { client, link } = connect(demoHandler);
    const res = await get(client, '/stream?n=5&interval=5');
    const chunks: string[] = [];
    for await (const c of res.body) chunks.push(Buffer.from(c).toString());
    expect(chunks.join('')).toBe('chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n');
    // On the wire: HEADERS, then for each flush one DATA frame of 8 bytes, then FIN.
    const wire = Buffer.concat(link.server.written.get(0)!);
    const frames = new FrameReader({ stream: 'request', receiver: 'client' }).push(wire);
    expect(frames.map((f) => f.type)).toEqual(['headers', 'data', 'data', 'data', 'data', 'data']);
    expect(frames.slice(1).map((f) => (f.type === 'data' ? Buffer.from(f.data).toString() : ''))).toEqual(['chunk 1\n', 'chunk 2\n', 'chunk 3\n', 'chunk 4\n', 'chunk 5\n']);
  });

  it('/sse sends events with ids', async () => {
    const { client } = connect(demoHandler);
    const res = await get(client, '/sse?n=3&interval=1');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await text(res);
    expect(body).toContain('id: 1\ndata: message 1\n\n');
    expect(body).toContain('id: 3\ndata: message 3\n\n');
  });

  it('/bytes of 1 MB arrives whole (checksum) with backpressure on a small window', async () => {
    const { client, link } = connect(demoHandler, { highWaterMark: 16 * 1024, maxPiece: 4000, seed: 3 });
    const size = 1_000_000;
    const res = await get(client, `/bytes?size=${size}`);
    expect(res.headers.get('content-length')).toBe(String(size));
    const body = await readAll(res.body);
    expect(body.length).toBe(size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(patternChecksum(size));
    expect(link.server.bufferedAmount(0)).toBe(0);
  });

  it('/trailers ends with a trailing HEADERS carrying x-checksum', async () => {
    const { client } = connect(demoHandler);
    const res = await get(client, '/trailers');
    const body = await text(res);
    const trailers = await res.trailers;
    expect(trailers?.get('x-checksum')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('POST /echo is full duplex: each piece comes back before the next is sent', async () => {
    const { client } = connect(demoHandler);
    let release: (() => void) | null = null;
    const pieces = ['one ', 'two ', 'three'];
    async function* source(): AsyncIterable<Uint8Array> {
      for (const p of pieces) {
        yield Buffer.from(p);
        await new Promise<void>((r) => { release = r; });
      }
    }
    const res = await client.request({ method: 'POST', scheme: 'https', authority: 'localhost', path: '/echo', body: source() });
    expect(res.status).toBe(200);
    const it = res.body[Symbol.asyncIterator]();
    let echoed = '';
    for (const p of pieces) {
      while (echoed.length < pieces.slice(0, pieces.indexOf(p) + 1).join('').length) {
        const r = await it.next();
        expect(r.done).toBe(false);
        echoed += Buffer.from(r.value as Uint8Array).toString();
      }
      release!();
    }
    expect(echoed).toBe('one two three');
    expect((await it.next()).done).toBe(true);
  });

  it('POST /echo of 512 KB with a slow reader keeps both directions flowing', async () => {
    const { client } = connect(demoHandler, { highWaterMark: 8 * 1024, seed: 11 });
    const input = Buffer.alloc(512 * 1024);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7) % 256;
    async function* source(): AsyncIterable<Uint8Array> {
      for (let o = 0; o < input.length; o += 10_000) yield input.subarray(o, o + 10_000);
    }
    const res = await client.request({ method: 'POST', scheme: 'https', authority: 'localhost', path: '/echo', body: source() });
    const parts: Buffer[] = [];
    for await (const c of res.body) {
      parts.push(Buffer.from(c));
      if (parts.length % 16 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    expect(Buffer.concat(parts).equals(input)).toBe(true);
  });

  it('many requests at once, interleaved on one connection', async () => {
    const { client } = connect(demoHandler, { seed: 99, maxPiece: 7 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => get(client, `/bytes?size=${1000 + i}`).then((r) => readAll(r.body))));
    results.forEach((body, i) => expect(body.length).toBe(1000 + i));
  });

  it('QPACK: responses wait while the encoder stream is held back, then all complete (RFC 9204 §2.2.1)', async () => {
    const { client, link } = connect((req, res) => {
      res.writeHead(200, { 'x-repeated-field': 'a value worth indexing', 'x-path': req.path });
      void res.end('ok');
    });
    // Let the first response through so that the server's encoder starts using the table.
    expect(await text(await get(client, '/warm'))).toBe('ok');
    await idle(link);
    link.client.pauseReading(7); // the server's QPACK encoder stream
    const pending = Array.from({ length: 5 }, (_, i) => get(client, `/r${i}`));
    await idle(link);
    expect(client.decoder.blockedStreamCount).toBeGreaterThan(0);
    link.client.resumeReading(7);
    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.headers.get('x-path'))).toEqual(['/r0', '/r1', '/r2', '/r3', '/r4']);
    expect(responses.every((r) => r.headers.get('x-repeated-field') === 'a value worth indexing')).toBe(true);
    expect(client.decoder.blockedStreamCount).toBe(0);
  });

  it('HEAD gets the head and no body; unknown route 404', async () => {
    const { client } = connect(demoHandler);
    const head = await client.request({ method: 'HEAD', scheme: 'https', authority: 'localhost', path: '/bytes?size=50' });
    expect(head.headers.get('content-length')).toBe('50');
    expect((await readAll(head.body)).length).toBe(0);
    const missing = await get(client, '/nope');
    expect(missing.status).toBe(404);
    expect(await text(missing)).toBe('not found\n');
  });
});

describe('HTTP/3 requests: bodies, headers and the handler interface', () => {
  it('the handler sees method, path, authority, scheme, headers and protocol h3', async () => {
    let seen: Record<string, unknown> = {};
    const { client } = connect((req, res) => {
      seen = { method: req.method, path: req.path, authority: req.authority, scheme: req.scheme, protocol: req.protocol, x: req.headers.get('x-test'), addr: req.remoteAddress };
      void res.end('ok');
    });
    const res = await get(client, '/p?q=1', { headers: [['x-test', 'yes'], ['connection', 'close']] });
    expect(await text(res)).toBe('ok');
    expect(seen).toEqual({ method: 'GET', path: '/p?q=1', authority: 'localhost', scheme: 'https', protocol: 'h3', x: 'yes', addr: '::1' });
  });

  it('a streamed request body is read with backpressure (the client waits for the handler)', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    let total = 0;
    const { client, link } = connect(async (req, res) => {
      await gate;
      for await (const c of req.body) total += c.length;
      await res.end(String(total));
    }, { highWaterMark: 8 * 1024, limits: { requestBodyHighWaterMark: 16 * 1024 } });
    let produced = 0;
    async function* source(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < 64; i++) {
        produced += 4096;
        yield Buffer.alloc(4096, i);
      }
    }
    const pending = client.request({ method: 'POST', scheme: 'https', authority: 'localhost', path: '/', body: source() });
    // Until the link has nothing it may deliver: the client waits for 'writable', the server's
    // stream is paused (a fixed sleep was too short on a loaded machine).
    await idle(link);
    // Server body buffer (16 KB) + link window (8 KB) + one piece: far less than the 256 KB body.
    expect(produced).toBeLessThan(64 * 1024);
    expect(link.server.inbound.get(0)?.paused).toBe(true);
    release();
    const res = await pending;
    expect(await text(res)).toBe(String(64 * 4096));
  });

  it('interim 103 responses reach the client before the final response', async () => {
    const { client } = connect((_req, res) => {
      res.writeHead(103, { link: '</style.css>; rel=preload' });
      void res.end('final');
    });
    const hints: number[] = [];
    const res = await get(client, '/', { onInformational: (status) => hints.push(status) });
    expect(hints).toEqual([103]);
    expect(res.status).toBe(200);
    expect(await text(res)).toBe('final');
  });

  it('a handler that throws after the head resets the stream with H3_INTERNAL_ERROR', async () => {
    // The handler throws once the client holds the head (a fixed 5 ms let a slow turn of the link
    // see the reset first, which discards the unread head: RFC 9000 §3.2, then no response at all).
    let headArrived!: () => void;
    const headSeen = new Promise<void>((r) => (headArrived = r));
    const { client, link } = connect(async (_req, res) => {
      res.write('partial');
      res.flush();
      await headSeen;
      throw new Error('boom');
    });
    const res = await get(client, '/');
    expect(res.status).toBe(200);
    headArrived();
    await expect(readAll(res.body)).rejects.toMatchObject({ code: H3ErrorCode.H3_INTERNAL_ERROR });
    expect(link.server.resets).toContainEqual({ id: 0, code: H3ErrorCode.H3_INTERNAL_ERROR });
  });

  it('client abort: RESET_STREAM + STOP_SENDING H3_REQUEST_CANCELLED, req.signal aborts', async () => {
    let aborted: Promise<unknown> = Promise.resolve();
    const { client, link } = connect((req, res) => {
      aborted = new Promise((r) => req.signal.addEventListener('abort', () => r(req.signal.reason)));
      res.write('start');
      res.flush();
    });
    const controller = new AbortController();
    const res = await get(client, '/', { signal: controller.signal });
    expect(res.status).toBe(200);
    controller.abort();
    const reason = await aborted;
    expect(reason).toMatchObject({ name: 'AbortError' });
    expect(link.client.resets).toContainEqual({ id: 0, code: H3ErrorCode.H3_REQUEST_CANCELLED });
    expect(link.client.stopSendings).toContainEqual({ id: 0, code: H3ErrorCode.H3_REQUEST_CANCELLED });
    await expect(readAll(res.body)).rejects.toBeDefined();
  });

  it('a response that ends before the request body stops the body with H3_NO_ERROR, not failing the response', async () => {
    const { client, link } = connect((_req, res) => void res.end('early'));
    async function* slow(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < 100; i++) {
        yield Buffer.alloc(1000);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const res = await client.request({ method: 'POST', scheme: 'https', authority: 'localhost', path: '/', body: slow() });
    expect(await text(res)).toBe('early');
    // The STOP_SENDING crosses the link in later turns: wait for it, not for a fixed time.
    await vi.waitFor(() => {
      expect(link.server.stopSendings).toContainEqual({ id: 0, code: H3ErrorCode.H3_NO_ERROR });
      expect(client.activeRequests).toBe(0);
    }, { timeout: 10_000, interval: 2 });
  });
});

describe('HTTP/3 server push (RFC 9114 §4.6)', () => {
  const pushing: Handler = (_req, res) => {
    const pushed = res.push('/pushed.css', { 'x-pushed': '1' });
    if (pushed) {
      pushed.writeHead(200, { 'content-type': 'text/css' });
      void pushed.end('body{}');
    }
    void res.end(pushed ? 'with push' : 'no push');
  };

  it('no push without MAX_PUSH_ID: res.push() returns null', async () => {
    const { client } = connect(pushing);
    expect(await text(await get(client, '/'))).toBe('no push');
  });

  it('with MAX_PUSH_ID the client gets PUSH_PROMISE and the pushed response', async () => {
    const pushes: H3Push[] = [];
    const { client, link } = connect(pushing, { client: { maxPushes: 4, onPush: (p) => pushes.push(p) } });
    // SETTINGS and MAX_PUSH_ID must reach the server before the request.
    await idle(link);
    expect(await text(await get(client, '/'))).toBe('with push');
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.request).toMatchObject({ method: 'GET', path: '/pushed.css', authority: 'localhost' });
    const pushed = await pushes[0]!.response;
    expect(pushed.headers.get('content-type')).toBe('text/css');
    expect(await text(pushed)).toBe('body{}');
  });

  it('pushes beyond MAX_PUSH_ID are not made', async () => {
    let nulls = 0;
    const { client, link } = connect((_req, res) => {
      for (let i = 0; i < 3; i++) {
        const p = res.push(`/p${i}`);
        if (p) void p.end('x');
        else nulls++;
      }
      void res.end('ok');
    }, { client: { maxPushes: 2, onPush: () => {} } });
    await idle(link);
    await text(await get(client, '/'));
    expect(nulls).toBe(1);
  });

  it('a client without onPush cancels promised pushes (CANCEL_PUSH)', async () => {
    const { client, server, link } = connect(pushing, { client: { maxPushes: 1 } });
    await idle(link);
    expect(await text(await get(client, '/'))).toBe('with push');
    await idle(link);
    expect(link.client.written.get(2)!.some((w) => w[0] === 0x03)).toBe(true); // CANCEL_PUSH
    expect(server.closed).toBe(false);
    expect(server.activeRequests).toBe(0);
  });
});

describe('HTTP/3 graceful shutdown (RFC 9114 §5.2)', () => {
  it('GOAWAY: accepted requests finish, later ones are rejected as retryable, then the connection closes', async () => {
    const releases: (() => void)[] = [];
    const { client, server, link } = connect(async (_req, res) => {
      await new Promise<void>((r) => releases.push(r));
      await res.end('done');
    });
    const first = [get(client, '/a'), get(client, '/b')];
    while (releases.length < 2) await new Promise((r) => setTimeout(r, 1));
    server.shutdown();
    // A request sent after GOAWAY left but before it arrived: the server rejects it.
    const late = get(client, '/late');
    // Rejected while the accepted requests are still open (not by the connection's end).
    await expect(late).rejects.toBeInstanceOf(H3RequestRejected);
    releases.forEach((r) => r());
    const bodies = await Promise.all(first.map(async (p) => text(await p)));
    expect(bodies).toEqual(['done', 'done']);
    await expect(late).rejects.toBeInstanceOf(H3RequestRejected);
    await expect(get(client, '/after')).rejects.toBeInstanceOf(H3RequestRejected);
    await idle(link);
    // Whichever side finishes first closes, without error.
    expect(link.server.closed?.code).toBe(H3ErrorCode.H3_NO_ERROR);
    expect(link.client.closed?.code).toBe(H3ErrorCode.H3_NO_ERROR);
  });

  it('a shutdown with nothing in flight closes at once with H3_NO_ERROR', async () => {
    const { server, link } = connect(demoHandler);
    server.shutdown();
    await idle(link);
    expect(link.client.closed?.code).toBe(H3ErrorCode.H3_NO_ERROR);
  });

  it('the connection closing aborts requests in flight on both sides', async () => {
    const seen: { signal?: AbortSignal } = {};
    const { client, server } = connect((req) => { seen.signal = req.signal; });
    const pending = get(client, '/');
    while (!seen.signal) await new Promise((r) => setTimeout(r, 1));
    server.fail(new H3Error(H3ErrorCode.H3_INTERNAL_ERROR, 'test', 'RFC 9114 §8'));
    expect(seen.signal.aborted).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: H3ErrorCode.H3_INTERNAL_ERROR });
  });
});
