/**
 * HTTP/1.1 server over real sockets on loopback: framing, keep-alive, pipelining, 100-continue,
 * trailers, aborts, and the hostile corpus replayed over a socket.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from '../../src/core/types.js';
import { demoHandler } from '../../src/demo/routes.js';
import { rawExchange, sleep, startCleartext, statusLines } from '../helpers/server.js';

type Part = string | { repeat: string; count: number };
const load = <T>(file: string): T[] =>
  JSON.parse(readFileSync(new URL(`../../fixtures/h1-hostile/${file}`, import.meta.url), 'utf8')) as T[];
const bytesOf = (r: string | Part[]): Buffer =>
  Buffer.from((typeof r === 'string' ? [r] : r).map((p) => (typeof p === 'string' ? p : p.repeat.repeat(p.count))).join(''), 'latin1');

const seen: string[] = [];
const aborts: { path: string; at: number }[] = [];
const handler: Handler = async (req, res) => {
  seen.push(req.path);
  const url = new URL(req.path, 'http://x');
  if (url.pathname === '/hold') {
    req.signal.addEventListener('abort', () => aborts.push({ path: req.path, at: performance.now() }));
    res.writeHead(200);
    res.write('started\n');
    res.flush();
    return; // never ends: only an abort finishes it
  }
  if (url.pathname === '/nocontent') { res.writeHead(204); await res.end(); return; }
  if (url.pathname === '/notmodified') { res.writeHead(304, { etag: '"x"' }); await res.end(); return; }
  if (url.pathname === '/fail-late') { res.write('partial'); res.flush(); throw new Error('handler failed after the head'); }
  if (url.pathname === '/fail-early') throw new Error('handler failed before the head');
  return demoHandler(req, res);
};

let server: Awaited<ReturnType<typeof startCleartext>>;
beforeAll(async () => { server = await startCleartext(handler, { h2: false, onHandlerError: () => {} }); });
afterAll(async () => { await server.close(); });

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; trailers: NodeJS.Dict<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.httpPort!, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP/1.1 server', () => {
  it('serves /stream chunked, one chunk per flush', async () => {
    const r = await rawExchange(server.httpPort!, ['GET /stream?n=3&interval=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    const text = r.data.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\ntransfer-encoding: chunked\r\n/);
    expect(text.endsWith('8\r\nchunk 1\n\r\n8\r\nchunk 2\n\r\n8\r\nchunk 3\n\r\n0\r\n\r\n')).toBe(true);
    expect(r.closed).toBe(true);
  });

  it('uses Content-Length when the whole body is known at end()', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body, 'latin1')));
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.headers.date).toBeDefined();
  });

  it('answers node fetch and streams /bytes exactly', async () => {
    const res = await fetch(`${server.url}/bytes?size=100000`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(100000);
    for (let i = 0; i < body.length; i += 997) expect(body[i]).toBe(i % 251);
  });

  it('echoes a streamed chunked request body (POST /echo with node fetch)', async () => {
    const parts = ['alpha ', 'beta ', 'gamma'];
    const stream = new ReadableStream({ start(c) { for (const p of parts) c.enqueue(new TextEncoder().encode(p)); c.close(); } });
    const res = await fetch(`${server.url}/echo`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(await res.text()).toBe('alpha beta gamma');
  });

  it('keeps the connection alive and answers pipelined requests in order', async () => {
    const req = (p: string) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const r = await rawExchange(server.httpPort!, [req('/stream?n=1&interval=50') + req('/bytes?size=5') + 'GET /stream?n=2&interval=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    const text = r.data.toString('latin1');
    expect(statusLines(r.data)).toEqual([200, 200, 200]);
    const i1 = text.indexOf('chunk 1'), i2 = text.indexOf('\x00\x01\x02\x03\x04'), i3 = text.lastIndexOf('chunk 2');
    expect(i1).toBeGreaterThan(0);
    expect(i2).toBeGreaterThan(i1);
    expect(i3).toBeGreaterThan(i2);
    expect(r.closed).toBe(true);
  });

  it('sends 100 Continue when the handler reads the body', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.httpPort! });
    const received: Buffer[] = [];
    socket.on('data', (d) => received.push(d));
    await new Promise((r) => socket.on('connect', r));
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    await sleep(200);
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    socket.write('hello');
    await new Promise((r) => socket.on('close', r));
    const text = Buffer.concat(received).toString('latin1');
    expect(statusLines(Buffer.from(text, 'latin1'))).toEqual([100, 200]);
    expect(text).toContain('hello');
  });

  it('sends no body for HEAD, 204 and 304', async () => {
    const head = await rawExchange(server.httpPort!, ['HEAD /bytes?size=10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(head.data.toString('latin1')).toMatch(/content-length: 10\r\n/);
    expect(head.data.toString('latin1').endsWith('\r\n\r\n')).toBe(true);
    const nc = await rawExchange(server.httpPort!, ['GET /nocontent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(nc.data.toString('latin1')).not.toMatch(/content-length|transfer-encoding/i);
    const nm = await get('/notmodified');
    expect(nm.status).toBe(304);
    expect(nm.body).toBe('');
  });

  it('sends trailers when the client sent TE: trailers, and not otherwise', async () => {
    const withTe = await get('/trailers', { te: 'trailers' });
    expect(withTe.trailers['x-checksum']).toMatch(/^[0-9a-f]{64}$/);
    const { createHash } = await import('node:crypto');
    expect(withTe.trailers['x-checksum']).toBe(createHash('sha256').update(withTe.body, 'latin1').digest('hex'));
    const without = await get('/trailers');
    expect(without.trailers['x-checksum']).toBeUndefined();
    expect(without.body).toBe(withTe.body);
  });

  it('answers HTTP/1.0 without chunking and closes', async () => {
    const r = await rawExchange(server.httpPort!, ['GET /stream?n=2&interval=0 HTTP/1.0\r\n\r\n']);
    const text = r.data.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).not.toMatch(/transfer-encoding/i);
    expect(text.endsWith('chunk 1\nchunk 2\n')).toBe(true);
    expect(r.closed).toBe(true);
  });

  it('aborts req.signal within 100 ms of the client disconnecting mid-stream', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.httpPort! });
    await new Promise((r) => socket.on('connect', r));
    socket.write('GET /hold?id=abort1 HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => socket.once('data', r));
    const closedAt = performance.now();
    socket.destroy();
    for (let i = 0; i < 20 && !aborts.some((a) => a.path === '/hold?id=abort1'); i++) await sleep(10);
    const a = aborts.find((x) => x.path === '/hold?id=abort1');
    expect(a).toBeDefined();
    expect(a!.at - closedAt).toBeLessThan(100);
  });

  it('turns a handler failure into 500 before the head, and into a cut message after it', async () => {
    const early = await get('/fail-early');
    expect(early.status).toBe(500);
    const late = await rawExchange(server.httpPort!, ['GET /fail-late HTTP/1.1\r\nHost: x\r\n\r\n']);
    const text = late.data.toString('latin1');
    expect(text).toMatch(/transfer-encoding: chunked/);
    expect(text).toContain('partial');
    expect(text).not.toContain('0\r\n\r\n'); // no last chunk: the client sees an incomplete message
    expect(late.closed).toBe(true);
  });
});

describe('hostile corpus over a real socket', () => {
  const cases = load<{ name: string; status: number; request: string | Part[] }>('cases.json');
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const marker = `/after-${name}`;
    const r = await rawExchange(server.httpPort!, [bytesOf(c.request), `GET ${marker} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    const statuses = statusLines(r.data);
    expect(statuses.at(-1)).toBe(c.status);
    expect(r.data.toString('latin1')).toMatch(/connection: close/);
    expect(r.closed).toBe(true);
    expect(seen).not.toContain(marker); // nothing after the error is processed (RFC 9112 §11.2)
  });
});

describe('timeouts', () => {
  it('answers 408 and closes a connection whose head does not arrive in time (slowloris)', async () => {
    const s = await startCleartext(handler, { h2: false, limits: { headersTimeoutMs: 200 } });
    try {
      const r = await rawExchange(s.httpPort!, ['GET / HTTP/1.1\r\nHost: x\r\n'], 2000);
      expect(statusLines(r.data)).toEqual([408]);
      expect(r.closed).toBe(true);
    } finally { await s.close(); }
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    const s = await startCleartext(handler, { h2: false, limits: { keepAliveTimeoutMs: 150 } });
    try {
      const t0 = performance.now();
      const r = await rawExchange(s.httpPort!, ['GET /bytes?size=1 HTTP/1.1\r\nHost: x\r\n\r\n'], 2000);
      expect(statusLines(r.data)).toEqual([200]);
      expect(r.closed).toBe(true);
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally { await s.close(); }
  });
});
