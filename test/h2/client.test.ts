/**
 * The h123 HTTP/2 client (src/h2/client.ts) against h123's server and against node:http2: one
 * multiplexed connection per origin, streamed bodies both ways, trailers, cancellation, --trace.
 */
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevCertificate, type DevCertificate } from '../../src/cert/dev-cert.js';
import { readAll } from '../../src/core/body.js';
import type { Handler } from '../../src/core/types.js';
import { demoHandler } from '../../src/demo/routes.js';
import { serve, type RunningServer } from '../../src/serve.js';
import { request } from '../../src/client.js';
import { closeH2Connections, h2Request } from '../../src/h2/client.js';

let dir: string;
let cert: DevCertificate;
let server: RunningServer;
const ports = new Map<string, number>();
const handler: Handler = (req, res) => {
  ports.set(req.path, req.remotePort);
  return demoHandler(req, res);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h123-h2c-'));
  cert = loadOrCreateDevCertificate(dir);
  server = await serve(handler, { host: '127.0.0.1', port: 0, httpPort: 0, h3: false, cert: cert.certPem, key: cert.keyPem });
});
afterAll(async () => {
  closeH2Connections();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const tlsUrl = (path: string): URL => new URL(`https://localhost:${server.port}${path}`);

describe('h2Request against h123', () => {
  it('streams a response and reports protocol h2', async () => {
    const res = await request(tlsUrl('/stream?n=3&interval=5'), { protocol: 'h2', ca: cert.caCertPem });
    expect(res.protocol).toBe('h2');
    expect(res.status).toBe(200);
    expect((await readAll(res.body)).toString()).toBe('chunk 1\nchunk 2\nchunk 3\n');
    expect(await res.trailers).toBeNull();
  });

  it('multiplexes concurrent requests over one connection', async () => {
    const paths = Array.from({ length: 8 }, (_, i) => `/bytes?size=200000&m=${i}`);
    const bodies = await Promise.all(paths.map(async (p) => readAll((await h2Request(tlsUrl(p), { ca: cert.caCertPem })).body)));
    for (const b of bodies) expect(b.length).toBe(200_000);
    expect(new Set(paths.map((p) => ports.get(p))).size).toBe(1);
  });

  it('sends a streamed request body and reads the echo; trailers resolve', async () => {
    async function* parts(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 5; i++) yield Buffer.from(`part ${i};`);
    }
    const res = await h2Request(tlsUrl('/echo'), { method: 'POST', body: parts(), ca: cert.caCertPem });
    expect((await readAll(res.body)).toString()).toBe('part 0;part 1;part 2;part 3;part 4;');
    const withTrailers = await h2Request(tlsUrl('/trailers'), { ca: cert.caCertPem });
    await readAll(withTrailers.body);
    expect((await withTrailers.trailers)?.get('x-checksum')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('h2c by prior knowledge for http: URLs', async () => {
    const res = await h2Request(new URL(`http://127.0.0.1:${server.httpPort}/bytes?size=1000`), {});
    expect(res.protocol).toBe('h2');
    expect((await readAll(res.body)).length).toBe(1000);
  });

  it('an aborted request fails its body', async () => {
    const controller = new AbortController();
    const res = await h2Request(tlsUrl('/stream?n=5&interval=200'), { ca: cert.caCertPem, signal: controller.signal });
    const iterator = res.body[Symbol.asyncIterator]();
    expect(Buffer.from((await iterator.next()).value!).toString()).toBe('chunk 1\n');
    controller.abort(new Error('stop'));
    await expect(iterator.next()).rejects.toThrow('stop');
  });

  it('--trace prints each frame sent and received', async () => {
    const lines: string[] = [];
    const res = await h2Request(tlsUrl('/stream?n=1&interval=1'), { ca: cert.caCertPem, trace: (l) => lines.push(l) });
    await readAll(res.body);
    const text = lines.join('\n');
    expect(text).toMatch(/send SETTINGS stream=0/);
    expect(text).toMatch(/recv SETTINGS stream=0 flags=ACK/);
    expect(text).toMatch(/send HEADERS stream=1 flags=END_STREAM\|END_HEADERS/);
    expect(text).toMatch(/recv HEADERS stream=1 flags=END_HEADERS length=\d+/);
    expect(text).toMatch(/ {2}:status: 200/);
    expect(text).toMatch(/recv DATA stream=1 length=8/);
  });
});

describe('h2Request against node:http2', () => {
  it('reads a response with trailers', async () => {
    const node = http2.createServer();
    node.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': 'yes' }));
      stream.end('from node');
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    const { port } = node.address() as { port: number };
    try {
      const res = await h2Request(new URL(`http://127.0.0.1:${port}/`), {});
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect((await readAll(res.body)).toString()).toBe('from node');
      expect((await res.trailers)?.get('x-done')).toBe('yes');
    } finally {
      closeH2Connections();
      await new Promise((r) => node.close(r));
    }
  });

  it('retries a request the server refused with REFUSED_STREAM, once (RFC 9113 §8.7)', async () => {
    const node = http2.createServer();
    let seen = 0;
    node.on('stream', (stream) => {
      seen++;
      stream.on('error', () => { /* the refused stream reports its own reset */ });
      if (seen === 1) {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      stream.respond({ ':status': 200 });
      stream.end('second try');
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    const { port } = node.address() as { port: number };
    try {
      const res = await h2Request(new URL(`http://127.0.0.1:${port}/`), { body: 'again', method: 'POST' });
      expect((await readAll(res.body)).toString()).toBe('second try');
      expect(seen).toBe(2);
    } finally {
      closeH2Connections();
      await new Promise((r) => node.close(r));
    }
  });
});
