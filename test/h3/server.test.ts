/**
 * HTTP/3 over real UDP on loopback: the h3 server driver (QUIC endpoints on IPv4 and IPv6, one
 * port) and the h3 client driver, with the demo routes: page, /stream chunks, /bytes checksum,
 * POST /echo, /trailers, and graceful close (RFC 9114 §5.2).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../../src/core/body.js';
import { resolveLimits } from '../../src/core/limits.js';
import { demoHandler } from '../../src/demo/routes.js';
import { closeH3Connections, h3Request } from '../../src/h3/client.js';
import { listenH3 } from '../../src/h3/server.js';
import type { H3Listener } from '../../src/protocols.js';
import { testCertificate } from '../helpers/cert.js';
import type { Handler } from '../../src/core/types.js';

let server: H3Listener;
const cert = testCertificate();

/** Server-side write times of /stream responses, by the x-probe-id each one is given. */
const streamWrites = new Map<string, { chunk: string; at: number }[]>();
let probes = 0;

/** The release of the /gated route: the test calls it with the count of chunks it has read. */
const gate: { release?: (read: number) => void } = {};

/**
 * The demo routes, with /stream's writes timed where they happen, and /gated: n chunks, each
 * written once the client has read the one before.
 */
const handler: Handler = async (req, res) => {
  if (req.path.startsWith('/stream')) {
    const id = String(++probes);
    const log: { chunk: string; at: number }[] = [];
    streamWrites.set(id, log);
    res.setHeader('x-probe-id', id);
    const write = res.write.bind(res);
    res.write = (chunk) => {
      log.push({ chunk: Buffer.from(chunk).toString(), at: Date.now() });
      return write(chunk);
    };
  } else if (req.path.startsWith('/gated')) {
    const n = Number(new URL(req.path, 'https://x').searchParams.get('n'));
    let read = 0;
    let wake: (() => void) | undefined;
    gate.release = (count) => {
      read = count;
      wake?.();
    };
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 1; i <= n; i++) {
      res.write(`chunk ${i}\n`);
      res.flush();
      if (i < n) while (read < i) await new Promise<void>((r) => (wake = r));
    }
    await res.end();
    return;
  }
  return demoHandler(req, res);
};

beforeAll(async () => {
  server = await listenH3({
    addresses: ['127.0.0.1', '::1'],
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
    handler,
    limits: resolveLimits({ shutdownTimeoutMs: 2000 }),
  });
});

afterAll(async () => {
  await server?.close();
});

const url = (path: string, host = '127.0.0.1') => new URL(`https://${host.includes(':') ? `[${host}]` : host}:${server.port}${path}`);
const opts = () => ({ ca: [cert.caCertPem] });

function patternSha(size: number): string {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return createHash('sha256').update(b).digest('hex');
}

describe('h3 server and client over loopback UDP', () => {
  it('GET / over IPv4 and IPv6 (Chromium tries ::1 first)', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const res = await h3Request(url('/', host), { insecure: true });
      expect(res.protocol).toBe('h3');
      expect(res.status).toBe(200);
      expect((await readAll(res.body)).toString()).toContain('h3');
    }
  });

  it('verifies the certificate against the given CA (server name localhost)', async () => {
    const res = await h3Request(new URL(`https://localhost:${server.port}/`), opts());
    expect(res.status).toBe(200);
    await readAll(res.body);
  });

  it('/bytes?size=1000000 arrives whole (checksum)', async () => {
    const size = 1_000_000;
    const res = await h3Request(url(`/bytes?size=${size}`), { insecure: true });
    const body = await readAll(res.body);
    expect(body.length).toBe(size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(patternSha(size));
  }, 20_000);

  it('/stream chunks arrive one by one, spaced by the interval', async () => {
    // Wall-clock facts that hold however loaded the machine is. The server writes chunk i+1 at
    // least `interval` after chunk i (the route's promise, observed where it is kept: the handler
    // runs in this process); a chunk reaches the client after it was written, so the last one
    // arrives at least (n - 1) * interval after the request left. The client-side gap between two
    // chunks is not asserted: a stall of the process before chunk 1 is read shrinks it to nothing.
    // A timer may fire up to a millisecond early by Date.now (libuv counts whole milliseconds).
    const n = 3;
    const interval = 100;
    const slack = interval / 10;
    const started = Date.now();
    const res = await h3Request(url(`/stream?n=${n}&interval=${interval}`), { insecure: true });
    const times: number[] = [];
    const chunks: string[] = [];
    for await (const c of res.body) {
      times.push(Date.now());
      chunks.push(Buffer.from(c).toString());
    }
    expect(chunks.join('')).toBe('chunk 1\nchunk 2\nchunk 3\n');
    // One flush, one chunk: each arrives as its own read (never two flushes merged), in order.
    expect(chunks).toEqual(['chunk 1\n', 'chunk 2\n', 'chunk 3\n']);
    const written = streamWrites.get(res.headers.get('x-probe-id')!)!;
    expect(written.map((w) => w.chunk)).toEqual(chunks);
    for (let i = 1; i < n; i++) expect(written[i]!.at - written[i - 1]!.at).toBeGreaterThanOrEqual(interval - slack);
    for (let i = 0; i < n; i++) expect(times[i]!).toBeGreaterThanOrEqual(written[i]!.at);
    expect(times[n - 1]! - started).toBeGreaterThanOrEqual((n - 1) * (interval - slack));
  });

  it('/stream: each flushed chunk reaches the client before the next is written (no buffering)', async () => {
    // Ordered by events, not by time: the handler writes chunk i+1 only once the client has read
    // chunk i, so a chunk held back anywhere (server coalescing, endpoint, client body) hangs here.
    const res = await h3Request(url('/gated?n=4'), { insecure: true });
    const chunks: string[] = [];
    for await (const c of res.body) {
      chunks.push(Buffer.from(c).toString());
      gate.release?.(chunks.length);
    }
    expect(chunks).toEqual(['chunk 1\n', 'chunk 2\n', 'chunk 3\n', 'chunk 4\n']);
  });

  it('POST /echo streams the body back; /trailers carries x-checksum', async () => {
    const input = Buffer.alloc(200_000, 'abc');
    const echo = await h3Request(url('/echo'), { insecure: true, method: 'POST', body: input });
    expect((await readAll(echo.body)).equals(input)).toBe(true);
    const t = await h3Request(url('/trailers'), { insecure: true });
    const body = await readAll(t.body);
    expect((await t.trailers)?.get('x-checksum')).toBe(createHash('sha256').update(body).digest('hex'));
  }, 20_000);
});

describe('h3Request pools one connection per origin', () => {
  it('one-shot requests to the same origin share a QUIC connection; closeH3Connections ends it cleanly', async () => {
    const listener = await listenH3({
      addresses: ['127.0.0.1'],
      port: 0,
      cert: cert.certPem,
      key: cert.keyPem,
      handler: (req, res) => void res.end(`${req.remotePort}`),
      limits: resolveLimits({ shutdownTimeoutMs: 2000 }),
    });
    try {
      const origin = `https://localhost:${listener.port}`;
      const port = async (path: string) => (await readAll((await h3Request(new URL(path, origin), opts())).body)).toString();
      const first = await port('/a');
      const later = [await port('/b'), ...(await Promise.all(['/c', '/d', '/e'].map(port)))];
      // One client UDP socket per QUIC connection: the same remote port means the same connection.
      expect(later).toEqual([first, first, first, first]);
      await closeH3Connections();
      expect(await port('/f')).not.toBe(first);
      await closeH3Connections();
    } finally {
      await listener.close();
    }
  }, 20_000);
});
