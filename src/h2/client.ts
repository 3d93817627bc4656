/**
 * HTTP/2 client driver (RFC 9113): a socket (TLS with ALPN h2, or cleartext with prior knowledge,
 * §3.3) pumped into an H2ClientConnection, one connection per origin shared by concurrent requests
 * (multiplexed streams). `h2Request` returns the same ClientResponse as the HTTP/1.1 client.
 * With `options.trace`, each frame sent and received is printed, on a connection of its own.
 */
import net from 'node:net';
import tls from 'node:tls';
import { StreamAbortedError } from '../core/errors.js';
import { connectTcp } from '../core/connect.js';
import { HeaderList } from '../core/headers.js';
import { ErrorCode } from './errors.js';
import type { ClientRequestOptions, ClientResponse } from '../h1/client.js';
import { H2ClientConnection } from './connection/client-session.js';

interface PooledConnection {
  session: H2ClientConnection;
  socket: net.Socket;
  closed: boolean;
}

const pool = new Map<string, Promise<PooledConnection>>();

/** A socket that speaks h2: TLS with ALPN h2 (RFC 9113 §3.2), or cleartext by prior knowledge (§3.3). */
async function connectSocket(url: URL, options: ClientRequestOptions): Promise<net.Socket> {
  const socket = await connectTcp(url, options, ['h2']);
  if (socket instanceof tls.TLSSocket && socket.alpnProtocol !== 'h2') {
    socket.destroy();
    throw new Error(`server did not negotiate h2 by ALPN (got ${socket.alpnProtocol || 'none'})`);
  }
  return socket;
}

/** Pumps one socket into one client session. */
function drive(socket: net.Socket, session: H2ClientConnection): PooledConnection {
  const entry: PooledConnection = { session, socket, closed: false };
  let timer: NodeJS.Timeout | null = null;
  let wakeScheduled = false;
  const pump = (): void => {
    if (entry.closed) return;
    session.transportBuffered = socket.writableLength;
    const out = session.transmit();
    if (out.length > 0 && !socket.destroyed) {
      socket.cork();
      for (const piece of out) socket.write(piece);
      socket.uncork();
    }
    session.transportBuffered = socket.writableLength;
    if (session.shouldClose) {
      entry.closed = true;
      socket.end();
      return;
    }
    // An idle pooled connection must not keep the process alive.
    if (session.activeStreams === 0) socket.unref();
    else socket.ref();
    if (timer) clearTimeout(timer);
    const at = session.nextTimeout();
    timer = at === undefined ? null : setTimeout(() => { session.handleTimeout(Date.now()); pump(); }, Math.max(0, at - Date.now()));
    timer?.unref();
  };
  session.onWake = () => {
    if (wakeScheduled) return;
    wakeScheduled = true;
    setImmediate(() => { wakeScheduled = false; pump(); });
  };
  socket.on('data', (data: Buffer) => { session.receive(data, Date.now()); pump(); });
  socket.on('drain', () => { pump(); session.transportDrained(); });
  socket.on('close', () => {
    entry.closed = true;
    if (timer) clearTimeout(timer);
    session.transportClosed();
  });
  socket.on('error', () => { /* 'close' follows */ });
  pump();
  return entry;
}

async function connection(url: URL, options: ClientRequestOptions): Promise<PooledConnection> {
  if (options.trace) {
    // A traced request gets a connection of its own, so that the trace shows only its frames.
    const socket = await connectSocket(url, options);
    return drive(socket, new H2ClientConnection({ limits: options.limits, now: Date.now(), trace: options.trace }));
  }
  const key = `${url.protocol}//${url.host}`;
  const existing = pool.get(key);
  if (existing) {
    const entry = await existing.catch(() => null);
    if (entry && !entry.closed && entry.session.usable) return entry;
    if (pool.get(key) === existing) pool.delete(key);
  }
  const created = connectSocket(url, options).then((socket) => {
    const entry = drive(socket, new H2ClientConnection({ limits: options.limits, now: Date.now() }));
    socket.once('close', () => { if (pool.get(key) === created) pool.delete(key); });
    return entry;
  });
  pool.set(key, created);
  created.catch(() => { if (pool.get(key) === created) pool.delete(key); });
  return created;
}

/**
 * One request over HTTP/2, on the origin's shared connection. A request the server provably did
 * not process (REFUSED_STREAM, or above a GOAWAY's last-stream-id) is retried once on a fresh
 * connection when its body can be sent again (RFC 9113 §8.7).
 */
export async function h2Request(url: URL, options: ClientRequestOptions = {}): Promise<ClientResponse> {
  const replayable = options.body === undefined || typeof options.body === 'string' || options.body instanceof Uint8Array;
  try {
    return await attempt(url, options);
  } catch (error) {
    const refused = error instanceof StreamAbortedError && error.code === ErrorCode.REFUSED_STREAM;
    if (!refused || !replayable || options.signal?.aborted) throw error;
    options.trace?.('request refused before processing; retrying on a new connection (RFC 9113 §8.7)');
    return attempt(url, options);
  }
}

async function attempt(url: URL, options: ClientRequestOptions): Promise<ClientResponse> {
  const entry = await connection(url, options);
  const { session } = entry;
  const method = (options.method ?? 'GET').toUpperCase();
  const headers = new HeaderList(options.headers ?? []);
  const body = options.body;
  const fixed = typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : null;
  if (fixed && !headers.has('content-length')) headers.set('content-length', String(fixed.length));
  const { streamId, response } = await session.open({
    method,
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    authority: url.host,
    path: `${url.pathname}${url.search}`,
    headers,
    hasBody: body !== undefined,
  });
  const onAbort = (): void => session.cancel(streamId, options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
  if (options.signal) {
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  }
  if (fixed) {
    session.writeBody(streamId, fixed);
    session.endBody(streamId);
  } else if (body !== undefined) {
    void (async () => {
      try {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          if (chunk.length === 0) continue;
          if (!session.writeBody(streamId, chunk)) await session.drain(streamId);
        }
        session.endBody(streamId);
      } catch (error) {
        session.cancel(streamId, error instanceof Error ? error : new Error(String(error)));
      }
    })();
  }
  const res = await response;
  const done = (): void => {
    options.signal?.removeEventListener('abort', onAbort);
    if (options.trace) session.shutdown();
  };
  res.trailers.then(done, done);
  return { protocol: 'h2', status: res.status, headers: res.headers, body: res.body, trailers: res.trailers };
}

/** Closes every pooled connection (GOAWAY NO_ERROR). */
export function closeH2Connections(): void {
  for (const [key, entry] of pool) {
    pool.delete(key);
    void entry.then((e) => { e.session.shutdown(); e.socket.end(); }, () => {});
  }
}
