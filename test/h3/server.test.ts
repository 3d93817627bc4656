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

let server: H3Listener;
const cert = testCertificate();

beforeAll(async () => {
  server = await listenH3({
    addresses: ['127.0.0.1', '::1'],
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
    handler: demoHandler,
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
    const res = await h3Request(url('/stream?n=3&interval=100'), { insecure: true });
    const times: number[] = [];
    const chunks: string[] = [];
    for await (const c of res.body) {
      times.push(Date.now());
      chunks.push(Buffer.from(c).toString());
    }
    expect(chunks.join('')).toBe('chunk 1\nchunk 2\nchunk 3\n');
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(150);
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
