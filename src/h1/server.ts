/**
 * The HTTP/1.1 driver: pumps a `node:net` or `node:tls` socket and one timer into an
 * H1ServerConnection. This file and its siblings are the only h1 code that touches sockets or time.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Handler } from '../core/types.js';
import type { HeaderList } from '../core/headers.js';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.js';
import type { ErrorReporter } from '../core/dispatch.js';
import { H1ServerConnection } from './connection.js';
import { tickEndScheduler, writeCoalesced } from '../core/socket-output.js';
import { DeadlineTimer } from '../core/deadline-timer.js';
import type { RequestHead } from './parse.js';

export interface H1ServeOptions {
  handler: Handler;
  limits?: Partial<Limits>;
  defaultHeaders?: HeaderList;
  onHandlerError?: ErrorReporter;
  /** Takes over the socket for `Upgrade: h2c` (set by serve() when h2 is enabled). */
  onUpgradeH2c?: (socket: net.Socket, head: RequestHead, rest: Uint8Array) => boolean;
}

const EMPTY = Buffer.alloc(0);

/** A live connection as serve() tracks it for graceful shutdown. */
export interface TrackedConnection {
  shutdown(): void;
  destroy(): void;
  readonly closed: Promise<void>;
}

/** Runs HTTP/1.1 on a connected socket (plain or TLS). */
export function attachH1(socket: net.Socket, options: H1ServeOptions, initialData?: Uint8Array): TrackedConnection {
  const scheme = socket instanceof tls.TLSSocket ? 'https' : 'http';
  const conn = new H1ServerConnection({
    clock: Date.now,
    handler: options.handler,
    scheme,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    limits: options.limits,
    defaultHeaders: options.defaultHeaders,
    onHandlerError: options.onHandlerError,
    onUpgrade: options.onUpgradeH2c
      ? (head, rest) => {
          detach();
          return options.onUpgradeH2c!(socket, head, rest);
        }
      : undefined,
  });
  socket.setNoDelay(true);
  const deadline = new DeadlineTimer((now) => {
    conn.handleTimeout(now);
    pump();
  });
  let paused = false;
  let detached = false;
  /** socket.end() was called: the rest is the kernel's (and the linger timer's). */
  let ending = false;
  /** Bytes handed to socket.write so far (for the send watchdog). */
  let bytesQueued = 0;
  const lingerMs = Math.max(1000, Math.min(options.limits?.keepAliveTimeoutMs ?? 5000, 30_000));
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => { resolveClosed = r; });

  // All output of one tick (several res.flush() calls, a response's end) leaves in one write.
  const schedulePump = tickEndScheduler(() => pump());

  const pump = (): void => {
    if (detached) return;
    const out = conn.transmit();
    for (const piece of out) bytesQueued += piece.length;
    writeCoalesced(socket, out);
    conn.transportBuffered = socket.writableLength;
    // When the kernel took the bytes at once, the handler may go on now instead of after a
    // 'drain' event: a response writing in a loop keeps the socket busy, as with node:http.
    if (out.length > 0 && !ending) conn.onTransportDrain();
    if (ending) return;
    if (conn.shouldClose) {
      // RFC 9112 §9.6: close in stages — send what is buffered, then FIN, keep reading (and
      // discarding) so the client's late bytes do not turn our close into a reset, and destroy
      // after a bounded linger so a client that never closes cannot hold the socket.
      ending = true;
      conn.state = 'closed';
      clearTimer();
      if (!socket.destroyed) {
        socket.end();
        if (paused) { paused = false; socket.resume(); }
        // The linger starts once everything we wrote has left ('finish'): a slow reader of the
        // last response is not cut; one that reads nothing at all is the send watchdog's.
        socket.once('finish', () => {
          const linger = setTimeout(() => socket.destroy(), lingerMs);
          linger.unref();
          socket.once('close', () => clearTimeout(linger));
        });
        watchSending();
      }
      return;
    }
    if (conn.state === 'closed') {
      clearTimer();
      if (!socket.destroyed) socket.destroy();
      return;
    }
    const want = conn.wantsInput;
    if (want && paused) { paused = false; socket.resume(); }
    else if (!want && !paused) { paused = true; socket.pause(); }
    armTimer();
    watchSending();
  };

  // Send watchdog: a client that stops reading while we have output buffered gets
  // limits.bodyTimeoutMs (the same "no progress on a body" budget as for request bodies) between
  // signs of progress, then the connection is destroyed and the exchange aborted. Without it, a
  // client could hold a connection and its buffers forever by never reading.
  const stallMs = options.limits?.bodyTimeoutMs ?? DEFAULT_LIMITS.bodyTimeoutMs;
  let watchdog: NodeJS.Timeout | null = null;
  let flushedAtLastCheck = 0;
  /** Bytes the socket has passed on to the kernel: progress, however the handler refills. */
  const flushedBytes = (): number => bytesQueued - socket.writableLength;
  function watchSending(): void {
    if (socket.destroyed || socket.writableLength === 0) return;
    if (!flushWatch && !socket.writableEnded) {
      // An empty write completes after every write before it: then the output is out, and the
      // connection hears of it even when no 'drain' comes (writes that never filled the buffer).
      flushWatch = true;
      socket.write(EMPTY, onFlushed);
    }
    if (watchdog) return;
    flushedAtLastCheck = flushedBytes();
    watchdog = setInterval(() => {
      if (socket.destroyed || socket.writableLength === 0) {
        clearInterval(watchdog!);
        watchdog = null;
        return;
      }
      const flushed = flushedBytes();
      if (flushed === flushedAtLastCheck) {
        clearInterval(watchdog!);
        watchdog = null;
        socket.destroy();
      } else {
        flushedAtLastCheck = flushed;
      }
    }, stallMs);
    watchdog.unref();
  }
  let flushWatch = false;
  function onFlushed(): void {
    flushWatch = false;
    conn.transportBuffered = socket.writableLength;
    conn.onTransportDrain();
    if (!ending) pump();
  }

  const armTimer = (): void => {
    const at = conn.nextTimeout();
    // No deadline now (a request in progress): a pending timer may stay; when it fires,
    // handleTimeout sees nothing due and the pump arms for whatever deadline holds then.
    if (at !== undefined) deadline.arm(at);
  };
  const clearTimer = (): void => deadline.clear();


  const onData = (data: Buffer): void => {
    conn.receive(data, Date.now());
    schedulePump();
  };
  const onDrain = (): void => {
    conn.transportBuffered = socket.writableLength;
    conn.onTransportDrain();
    pump();
  };
  const onEnd = (): void => {
    // RFC 9112 §9.6: a half-close from the client ends its requests; a response in progress can
    // still be written, but node sockets with allowHalfOpen=false close both ways, so abort.
    conn.peerClosed();
    pump();
  };
  const onClose = (): void => {
    conn.peerClosed('connection closed');
    clearTimer();
    if (watchdog) { clearInterval(watchdog); watchdog = null; }
    resolveClosed();
  };
  const onError = (): void => { /* 'close' follows */ };

  function detach(): void {
    detached = true;
    clearTimer();
    socket.off('data', onData);
    socket.off('drain', onDrain);
    socket.off('end', onEnd);
    socket.off('close', onClose);
    socket.off('error', onError);
    resolveClosed();
  }

  conn.onWake = schedulePump;
  socket.on('data', onData);
  socket.on('drain', onDrain);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  socket.on('error', onError);
  if (initialData && initialData.length > 0) conn.receive(initialData, Date.now());
  pump();

  return {
    closed,
    shutdown() { conn.shutdown(); pump(); },
    destroy() { conn.destroy(); socket.destroy(); },
  };
}
