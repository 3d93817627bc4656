/**
 * The HTTP/2 server on real sockets: TLS with ALPN h2, h2c by prior knowledge (RFC 9113 §3.3) and
 * by Upgrade (RFC 7540 §3.2), HTTP/1.1 still served on the cleartext port, Node's http2.connect as
 * the client, and a graceful close that lets an in-flight stream finish.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevCertificate, type DevCertificate } from '../../src/cert/dev-cert.js';
import { demoHandler } from '../../src/demo/routes.js';
import type { Handler } from '../../src/core/types.js';
import { serve, type RunningServer } from '../../src/serve.js';
import { CONNECTION_PREFACE, FrameDecoder, encodeFrame, type Frame } from '../../src/h2/frame.js';
import { HpackDecoder, HpackEncoder } from '../../src/h2/hpack.js';
import { rawExchange, statusLines } from '../helpers/server.js';

let dir: string;
let cert: DevCertificate;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h123-h2-'));
  cert = loadOrCreateDevCertificate(dir);
  server = await serve(demoHandler, { host: '127.0.0.1', port: 0, httpPort: 0, h3: false, cert: cert.certPem, key: cert.keyPem });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(session: http2.ClientHttp2Session, path: string, method = 'GET', body?: string): Promise<{ status: number; body: string; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ':method': method });
    let status = 0;
    let text = '';
    let trailers: http2.IncomingHttpHeaders = {};
    req.setEncoding('utf8');
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (d: string) => { text += d; });
    req.on('end', () => resolve({ status, body: text, trailers }));
    req.on('error', reject);
    req.end(body);
  });
}

describe('node:http2 client', () => {
  it('over TLS with ALPN h2: stream, echo, trailers, concurrency on one session', async () => {
    const session = http2.connect(`https://localhost:${server.port}`, { ca: cert.caCertPem });
    try {
      const [stream, echo, trailers, ...bytes] = await Promise.all([
        get(session, '/stream?n=3&interval=5'),
        get(session, '/echo', 'POST', 'ping pong'),
        get(session, '/trailers'),
        ...Array.from({ length: 10 }, () => get(session, '/bytes?size=100000')),
      ]);
      expect(stream).toMatchObject({ status: 200, body: 'chunk 1\nchunk 2\nchunk 3\n' });
      expect(echo.body).toBe('ping pong');
      expect(trailers.trailers['x-checksum']).toMatch(/^[0-9a-f]{64}$/);
      for (const b of bytes) expect(b.body.length).toBe(100_000);
    } finally {
      session.close();
    }
  });

  it('h2c by prior knowledge on the cleartext port (RFC 9113 §3.3)', async () => {
    const session = http2.connect(`http://127.0.0.1:${server.httpPort}`);
    try {
      expect(await get(session, '/stream?n=2&interval=1')).toMatchObject({ status: 200, body: 'chunk 1\nchunk 2\n' });
    } finally {
      session.close();
    }
  });

  it('a preface split over several TCP segments is still recognized', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.httpPort! });
    await new Promise((r) => socket.once('connect', r));
    socket.setNoDelay(true);
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    socket.write(preface.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    socket.write(preface.subarray(3, 20));
    await new Promise((r) => setTimeout(r, 20));
    socket.write(preface.subarray(20));
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    const first = await new Promise<Buffer>((r) => socket.once('data', r));
    socket.destroy();
    expect(first[3]).toBe(0x4); // the server's SETTINGS
  });
});

describe('cleartext port', () => {
  it('still serves HTTP/1.1', async () => {
    const { data } = await rawExchange(server.httpPort!, ['GET /bytes?size=10 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n']);
    expect(statusLines(data)).toEqual([200]);
  });

  it('Upgrade: h2c → 101, the server preface, and the response on stream 1 (RFC 7540 §3.2)', async () => {
    const settings = Buffer.from([0, 3, 0, 0, 0, 100]).toString('base64url');
    const request = `GET /stream?n=1&interval=1 HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: ${settings}\r\n\r\n`;
    const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
    const socket = net.connect({ host: '127.0.0.1', port: server.httpPort! });
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(request), preface])));
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    const data = Buffer.concat(chunks);
    const headEnd = data.indexOf('\r\n\r\n') + 4;
    expect(data.subarray(0, headEnd).toString()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    const decoder = new FrameDecoder();
    decoder.push(data.subarray(headEnd));
    const frames: Frame[] = [...decoder.frames()];
    expect(frames[0]).toMatchObject({ type: 'SETTINGS', ack: false });
    const headers = frames.find((f) => f.type === 'HEADERS');
    expect(headers?.streamId).toBe(1);
    expect(new HpackDecoder().decode((headers as { fragment: Uint8Array }).fragment)).toContainEqual([':status', '200']);
    const body = frames.filter((f) => f.type === 'DATA' && f.streamId === 1).map((f) => Buffer.from((f as { data: Uint8Array }).data).toString()).join('');
    expect(body).toBe('chunk 1\n');
  });
});

describe('graceful close', () => {
  it('finishes an in-flight stream, then closes the session (RFC 9113 §6.8)', async () => {
    const own = await serve(demoHandler, { host: '127.0.0.1', port: 0, httpPort: false, h3: false, cert: cert.certPem, key: cert.keyPem });
    const session = http2.connect(`https://localhost:${own.port}`, { ca: cert.caCertPem });
    const pending = get(session, '/stream?n=3&interval=100');
    await new Promise((r) => setTimeout(r, 50));
    const goaways: number[] = [];
    session.on('goaway', (code) => goaways.push(code));
    const closed = own.close();
    const result = await pending;
    await closed;
    expect(result.body).toBe('chunk 1\nchunk 2\nchunk 3\n');
    expect(goaways[0]).toBe(0);
    session.destroy();
  });
});

describe('slow readers', () => {
  it('a client that stops reading the socket is dropped after zeroWindowTimeoutMs', async () => {
    let aborted!: () => void;
    const abortedPromise = new Promise<void>((r) => { aborted = r; });
    const watching: Handler = (req, res) => {
      req.signal.addEventListener('abort', () => aborted());
      return demoHandler(req, res);
    };
    const own = await serve(watching, { host: '127.0.0.1', port: 0, httpPort: 0, h3: false, limits: { zeroWindowTimeoutMs: 300 } });
    const socket = net.connect({ host: '127.0.0.1', port: own.httpPort! });
    await new Promise((r) => socket.once('connect', r));
    const block = new HpackEncoder().encode([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/bytes?size=200000000']]);
    socket.write(Buffer.concat([
      CONNECTION_PREFACE,
      // Windows wide open: only the socket can hold the server back.
      encodeFrame({ type: 'SETTINGS', streamId: 0, ack: false, settings: [[0x4, 0x7fffffff]] }),
      encodeFrame({ type: 'WINDOW_UPDATE', streamId: 0, increment: 0x7fffffff - 65_535 }),
      encodeFrame({ type: 'HEADERS', streamId: 1, endStream: true, endHeaders: true, fragment: block }),
    ]));
    socket.pause();
    const started = Date.now();
    // The server gives up on the connection: the handler's signal aborts.
    await abortedPromise;
    expect(Date.now() - started).toBeLessThan(10_000);
    socket.destroy();
    await own.close();
  });
});
