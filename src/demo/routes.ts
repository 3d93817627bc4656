/**
 * The demo routes (pinned in DESIGN.md), served identically over h1, h2 and h3. They are what the
 * interop tests, the benchmarks and `h123 get` exercise, so their output is exact and documented.
 */
import { createHash } from 'node:crypto';
import { sse } from '../core/sse.js';
import type { Handler, ServerRequest, ServerResponse } from '../core/types.js';
import { demoPage } from './page.js';

/** /bytes writes pieces of this size. */
export const BYTES_PIECE = 16 * 1024;

/** Byte i of /bytes is i mod 251; a window of this buffer starting at (offset mod 251) is any piece. */
const PATTERN = (() => {
  const b = Buffer.allocUnsafe(BYTES_PIECE + 251);
  for (let i = 0; i < b.length; i++) b[i] = i % 251;
  return b;
})();

/** The /bytes body for [offset, offset+length), without copying (length ≤ BYTES_PIECE). */
export function patternSlice(offset: number, length: number): Buffer {
  const start = offset % 251;
  return PATTERN.subarray(start, start + length);
}

function intParam(url: URL, name: string, def: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n)) return def;
  return Math.min(max, Math.max(min, Math.floor(n)));
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });

async function stream(req: ServerRequest, res: ServerResponse, url: URL): Promise<void> {
  const n = intParam(url, 'n', 5, 0, 100_000);
  const interval = intParam(url, 'interval', 1000, 0, 60_000);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.flush();
  for (let i = 1; i <= n && !req.signal.aborted; i++) {
    if (i > 1 && interval > 0) await sleep(interval, req.signal);
    if (req.signal.aborted) break;
    res.write(`chunk ${i}\n`);
    res.flush();
  }
  await res.end();
}

async function events(req: ServerRequest, res: ServerResponse, url: URL): Promise<void> {
  const n = intParam(url, 'n', 5, 0, 100_000);
  const interval = intParam(url, 'interval', 1000, 0, 60_000);
  const events = sse(res, { req, heartbeatMs: 15_000 });
  // Resume after the last event the client saw (HTML §9.2.4 reconnection).
  const last = Number(events.lastEventId ?? 0);
  const first = Number.isInteger(last) && last >= 0 ? last + 1 : 1;
  for (let i = first; i <= n && !req.signal.aborted; i++) {
    if (i > first && interval > 0) await sleep(interval, req.signal);
    if (req.signal.aborted) break;
    events.send({ data: `message ${i}`, id: i });
    res.flush();
  }
  await events.close();
}

async function bytes(req: ServerRequest, res: ServerResponse, url: URL): Promise<void> {
  const size = intParam(url, 'size', 1024, 0, 2 ** 40);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
  for (let offset = 0; offset < size && !req.signal.aborted;) {
    const length = Math.min(BYTES_PIECE, size - offset);
    const more = res.write(patternSlice(offset, length));
    offset += length;
    if (!more) await res.drain();
  }
  await res.end();
}

async function echo(req: ServerRequest, res: ServerResponse): Promise<void> {
  // Start reading before the head goes out: on h1 that is what sends `100 Continue` to a client
  // that asked for it (RFC 9110 §10.1.1), which must come before the final status.
  const body = req.body[Symbol.asyncIterator]();
  res.writeHead(200, { 'content-type': req.headers.get('content-type') ?? 'application/octet-stream' });
  res.flush();
  for (let r = await body.next(); !r.done; r = await body.next()) {
    if (!res.write(r.value)) await res.drain();
  }
  await res.end();
}

async function trailers(_req: ServerRequest, res: ServerResponse): Promise<void> {
  const parts = ['h123 trailers demo\n', 'the checksum of this body follows as a trailer\n'];
  const hash = createHash('sha256');
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', trailer: 'x-checksum' });
  for (const p of parts) {
    hash.update(p);
    res.write(p);
    res.flush();
  }
  await res.end(undefined, { 'x-checksum': hash.digest('hex') });
}

/** The demo application: every pinned route, then 404/405. */
export const demoHandler: Handler = async (req, res) => {
  const url = new URL(req.path, 'http://demo');
  const route = url.pathname;
  const isRead = req.method === 'GET' || req.method === 'HEAD';
  if (route === '/' && isRead) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    await res.end(demoPage(req.protocol));
  } else if (route === '/stream' && isRead) await stream(req, res, url);
  else if (route === '/sse' && isRead) await events(req, res, url);
  else if (route === '/bytes' && isRead) await bytes(req, res, url);
  else if (route === '/trailers' && isRead) await trailers(req, res);
  else if (route === '/echo' && req.method === 'POST') await echo(req, res);
  else if (['/', '/stream', '/sse', '/bytes', '/trailers', '/echo'].includes(route)) {
    res.writeHead(405, { 'content-type': 'text/plain', allow: route === '/echo' ? 'POST' : 'GET, HEAD' });
    await res.end('method not allowed\n');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    await res.end('not found\n');
  }
};
