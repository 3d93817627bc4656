/**
 * The HTTP/2 driver: pumps a `node:tls` (ALPN h2) or cleartext `node:net` (h2c) socket and one timer
 * into an H2ServerConnection, and the `h2Extension` serve() uses. This file is the only h2 server
 * code that touches sockets or time.
 *
 * - h2c by prior knowledge (RFC 9113 §3.3): `sniffCleartext` reads the first octets; the 24-octet
 *   preface means HTTP/2, anything else is HTTP/1.1 (handed over with the octets already read).
 * - h2c by `Upgrade: h2c` (RFC 7540 §3.2): 101 Switching Protocols, then the server preface; the
 *   upgraded request is stream 1.
 * - Output of one tick is written as one write: small frames copied into one buffer, larger
 *   output gathered (cork/uncork → writev).
 */
import net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_LIMITS } from '../core/limits.js';
import type { TrackedConnection } from '../h1/server.js';
import type { RequestHead as H1RequestHead } from '../h1/parse.js';
import type { H2Extension, StreamServerOptions } from '../protocols.js';
import { CONNECTION_PREFACE } from './frame.js';
import { H2ServerConnection } from './connection/server-session.js';
import { atTickEnd, writeCoalesced, type TickEndTask } from '../core/socket-output.js';
import { DeadlineTimer } from '../core/deadline-timer.js';

export interface AttachH2Options extends StreamServerOptions {
  trace?: (line: string) => void;
}

/** Runs HTTP/2 on a connected socket; `setup` may act on the connection before the first read. */
export function attachH2(
  socket: net.Socket,
  options: AttachH2Options,
  initialData?: Uint8Array,
  setup?: (conn: H2ServerConnection) => void,
): TrackedConnection {
  const conn = new H2ServerConnection({
    handler: options.handler,
    scheme: socket instanceof tls.TLSSocket ? 'https' : 'http',
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    limits: options.limits,
    defaultHeaders: options.defaultHeaders,
    onHandlerError: options.onHandlerError,
    now: Date.now(),
    trace: options.trace,
  });
  socket.setNoDelay(true);
  const stallTimeoutMs = options.limits?.zeroWindowTimeoutMs ?? DEFAULT_LIMITS.zeroWindowTimeoutMs;
  const deadline = new DeadlineTimer((now) => {
    conn.handleTimeout(now);
    pump();
  });
  let ended = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => { resolveClosed = r; });

  const pump = (): void => {
    if (ended) return;
    conn.transportBuffered = socket.writableLength;
    const out = conn.transmit();
    writeCoalesced(socket, out);
    conn.transportBuffered = socket.writableLength;
    watchWriteStall();
    if (conn.shouldClose) {
      ended = true;
      clearTimer();
      if (!socket.destroyed) socket.end();
      // A peer that never reads must not hold the socket open forever.
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    armTimer();
  };

  /**
   * A peer that stops reading the socket while output waits (a TCP-level stall, where flow-control
   * windows may still be open) is dropped after limits.zeroWindowTimeoutMs without progress.
   */
  let stallWatched = false;
  const watchWriteStall = (): void => {
    const waiting = socket.writableLength > 0;
    if (waiting === stallWatched) return;
    stallWatched = waiting;
    socket.setTimeout(waiting ? stallTimeoutMs : 0);
  };
  socket.on('timeout', () => {
    if (socket.writableLength > 0) socket.destroy();
  });

  /**
   * Output queued from handler code: one pump at the end of the tick, so that the tick's frames go
   * out together. A microtask that queues a nextTick runs after the microtasks pending now (a
   * handler's `await res.end()` after its writes) and still before the event loop moves on.
   */
  const pumpAtTickEnd: TickEndTask = { tickEndDue: false, runAtTickEnd: () => pump() };
  const wake = (): void => atTickEnd(pumpAtTickEnd);

  const armTimer = (): void => {
    const at = conn.nextTimeout();
    if (at === undefined) deadline.clear();
    else deadline.arm(at);
  };
  const clearTimer = (): void => deadline.clear();


  conn.onWake = wake;
  setup?.(conn);
  socket.on('data', (data: Buffer) => {
    conn.receive(data, Date.now());
    pump();
  });
  socket.on('drain', () => {
    conn.transportBuffered = socket.writableLength;
    pump();
    conn.transportDrained();
  });
  socket.on('end', () => {
    conn.transportClosed();
    pump();
  });
  socket.on('close', () => {
    conn.transportClosed();
    clearTimer();
    resolveClosed();
  });
  socket.on('error', () => { /* 'close' follows */ });
  if (initialData && initialData.length > 0) conn.receive(initialData, Date.now());
  socket.resume();
  pump();

  return {
    closed,
    shutdown() { conn.shutdown(); pump(); },
    destroy() { conn.transportClosed(); socket.destroy(); },
  };
}

/** Decides h2 (prior knowledge) or HTTP/1.1 from the first octets of a cleartext connection. */
export function sniffCleartext(socket: net.Socket, route: { h2: () => void; h1: (initial: Uint8Array) => void }): void {
  let received: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), DEFAULT_LIMITS.headersTimeoutMs);
  timer.unref();
  const finish = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
  };
  const onData = (data: Buffer): void => {
    socket.pause();
    received = received.length === 0 ? data : Buffer.concat([received, data]);
    const n = Math.min(received.length, CONNECTION_PREFACE.length);
    const prefixMatches = received.subarray(0, n).equals(CONNECTION_PREFACE.subarray(0, n));
    if (prefixMatches && received.length < CONNECTION_PREFACE.length) {
      socket.resume(); // a partial preface: wait for the rest
      return;
    }
    finish();
    if (prefixMatches) {
      // RFC 9113 §3.3: prior knowledge. The octets go back so that the h2 driver reads them.
      socket.unshift(received);
      route.h2();
    } else {
      route.h1(received);
    }
    socket.resume();
  };
  const onEnd = (): void => {
    finish();
    if (received.length > 0) route.h1(received);
    else socket.destroy();
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', () => { /* 'close' follows */ });
}

const SWITCHING_PROTOCOLS = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n', 'latin1');
const BAD_SETTINGS = Buffer.from('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n', 'latin1');
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * `Upgrade: h2c` (RFC 7540 §3.2): the request (already checked by the h1 layer: one HTTP2-Settings,
 * Connection lists it, no body) is answered by 101 and then over HTTP/2 as stream 1.
 */
export function upgradeH2c(socket: net.Socket, head: H1RequestHead, rest: Uint8Array, options: AttachH2Options): TrackedConnection | null {
  const value = head.headers.find(([name]) => name === 'http2-settings')?.[1] ?? '';
  // RFC 7540 §3.2.1: token68 in base64url; a payload that is not whole SETTINGS entries is refused.
  const payload = BASE64URL.test(value) ? Buffer.from(value, 'base64url') : null;
  if (payload === null || payload.length % 6 !== 0) {
    socket.end(BAD_SETTINGS);
    return { closed: new Promise((r) => socket.once('close', () => r())), shutdown() {}, destroy() { socket.destroy(); } };
  }
  socket.write(SWITCHING_PROTOCOLS);
  const host = head.headers.find(([name]) => name === 'host')?.[1] ?? '';
  const path = head.target.startsWith('/') ? head.target : (() => {
    try { const url = new URL(head.target); return url.pathname + url.search; } catch { return '/'; }
  })();
  return attachH2(socket, options, rest, (conn) => {
    conn.acceptUpgrade({ method: head.method, path, authority: host, headers: head.headers.map(([n, v]) => [n, v] as [string, string]) }, payload);
  });
}

export const h2Extension: H2Extension = {
  attach: (socket, options, initialData) => attachH2(socket, options, initialData),
  sniffCleartext,
  upgrade: (socket, head, rest, options) => upgradeH2c(socket, head, rest, options),
};
