/**
 * The response an H3ClientConnection hands out (src/h3/connection/client.ts): its trailers
 * promise, made only when read (RFC 9114 §4.1: trailers are a HEADERS frame after the DATA), and
 * the body's backpressure hook, set the first time the body fills up — also when reading is
 * paused already for a QPACK-blocked field section (RFC 9204 §2.2.1).
 */
import { describe, expect, it } from 'vitest';
import { readAll } from '../../../src/core/body.js';
import type { Limits } from '../../../src/core/limits.js';
import type { Handler } from '../../../src/core/types.js';
import { H3ClientConnection, H3ServerConnection } from '../../../src/h3/connection.js';
import { MemoryLink, seededRandom, type LinkOptions } from '../connection-harness.js';

function connect(handler: Handler, opts: LinkOptions & { limits?: Partial<Limits> } = {}) {
  const link = new MemoryLink(opts);
  const server = new H3ServerConnection(link.server, { clock: Date.now, handler, remoteAddress: '::1', remotePort: 4433, random: seededRandom(3), limits: opts.limits, onHandlerError: () => {} });
  const client = new H3ClientConnection(link.client, { random: seededRandom(4), limits: opts.limits });
  link.server.app = server;
  link.client.app = client;
  server.start();
  client.start();
  return { link, client, server };
}

const get = (client: H3ClientConnection, path: string) => client.request({ method: 'GET', scheme: 'https', authority: 'localhost', path });

async function idle(link: MemoryLink): Promise<void> {
  for (let quiet = 0; quiet < 3;) {
    await new Promise((r) => setTimeout(r, 1));
    quiet = link.client.ready().length === 0 && link.server.ready().length === 0 ? quiet + 1 : 0;
  }
}

/** A handler that sends `body`, then ends (with `trailers` when given) once `gate` resolves. */
function withTrailers(body: string, trailers?: Record<string, string>, gate: Promise<void> = Promise.resolve()): Handler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(body);
    res.flush();
    await gate;
    await res.end(undefined, trailers);
  };
}

describe('H3 client response: trailers', () => {
  it('read before the body ends: resolves with the trailer section once it arrives', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const { client, link } = connect(withTrailers('abc', { 'x-sum': '42' }, gate), { seed: 5 });
    const res = await get(client, '/');
    const trailers = res.trailers; // asked while the handler has not ended the response
    expect(res.trailers).toBe(trailers); // one promise, however often it is read
    let settled = false;
    void trailers.then(() => { settled = true; });
    await idle(link);
    expect(settled).toBe(false);
    open();
    expect((await readAll(res.body)).toString()).toBe('abc');
    expect((await trailers)?.get('x-sum')).toBe('42');
  });

  it('read after the body ended: resolves with the trailers, the same promise each time', async () => {
    const { client } = connect(withTrailers('abc', { 'x-sum': '42' }), { seed: 6 });
    const res = await get(client, '/');
    await readAll(res.body);
    const trailers = res.trailers;
    expect(res.trailers).toBe(trailers);
    expect((await trailers)?.get('x-sum')).toBe('42');
  });

  it('no trailers: null whether read before or after the body ends', async () => {
    const { client } = connect(withTrailers('abc'), { seed: 7 });
    const early = await get(client, '/');
    const earlyTrailers = early.trailers;
    await readAll(early.body);
    expect(await earlyTrailers).toBeNull();
    const late = await get(client, '/');
    await readAll(late.body);
    expect(await late.trailers).toBeNull();
  });

  it('a response reset after its head: trailers resolve null, never reject', async () => {
    let headSeen!: () => void;
    const seen = new Promise<void>((r) => { headSeen = r; });
    const { client } = connect(async (_req, res) => {
      res.writeHead(200);
      res.write('part');
      res.flush();
      await seen; // reset only once the client has the head
      (res as unknown as { sink: { reset(): void } }).sink.reset();
    }, { seed: 8 });
    const res = await get(client, '/');
    const trailers = res.trailers;
    headSeen();
    await expect(readAll(res.body)).rejects.toThrow();
    expect(await trailers).toBeNull();
    expect(await res.trailers).toBeNull();
  });
});

describe('H3 client response: body backpressure', () => {
  it('a body over its high-water mark pauses reading; reading it resumes, every byte arrives', async () => {
    const size = 200_000;
    const { client, link } = connect((_req, res) => { void res.end(Buffer.alloc(size, 7)); }, { seed: 9, maxPiece: 64 * 1024, limits: { requestBodyHighWaterMark: 8 * 1024 } });
    const res = await get(client, '/');
    await idle(link);
    // The client stopped reading: the response stream has bytes waiting at the link.
    expect(link.client.inbound.get(0)?.paused).toBe(true);
    expect((await readAll(res.body)).length).toBe(size);
  });

  it('DATA queued behind a QPACK-blocked HEADERS fills the body while reading is paused: it still resumes (RFC 9204 §2.2.1)', async () => {
    // A small body goes out in the same write as its HEADERS (server.ts coalesces it), so the
    // piece that brings the blocked section brings DATA too; a 16-byte high-water mark makes that
    // DATA fill the body while the stream is paused for QPACK. Several seeds: several split points.
    const size = 1000;
    for (let seed = 1; seed <= 12; seed++) {
      const { client, link } = connect((req, res) => {
        res.writeHead(200, { 'x-repeated-field': 'a value worth indexing', 'x-path': req.path });
        void res.end(Buffer.alloc(size, 1));
      }, { seed, maxPiece: 4096, limits: { requestBodyHighWaterMark: 16 } });
      // A first response makes the server's encoder insert the field; then its encoder stream waits.
      await readAll((await get(client, '/warm')).body);
      await idle(link);
      link.client.pauseReading(7); // the server's QPACK encoder stream
      const pending = get(client, '/r');
      await idle(link);
      expect(client.decoder.blockedStreamCount).toBe(1);
      link.client.resumeReading(7);
      const res = await pending;
      expect(res.headers.get('x-path')).toBe('/r');
      const stalled = new Promise<'stalled'>((r) => setTimeout(() => r('stalled'), 1000));
      const body = await Promise.race([readAll(res.body), stalled]);
      expect(body === 'stalled' ? `seed ${seed}: stalled` : body.length).toBe(size);
    }
  });
});
