/**
 * The HTTP/1.1 driver: pumps a `node:net` or `node:tls` socket and one timer into an
 * H1ServerConnection. This file and its siblings are the only h1 code that touches sockets or time.
 *
 * One H1SocketDriver object per connection holds the driver's state, and the socket's listeners
 * are functions shared by every connection that find their driver through the socket: an idle
 * keep-alive connection costs one object here, not a closure per listener and timer.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Handler } from '../core/types.js';
import type { HeaderList } from '../core/headers.js';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.js';
import type { ErrorReporter } from '../core/dispatch.js';
import { H1ServerConnection } from './connection.js';
import { atTickEnd, writeCoalesced, type TickEndTask } from '../core/socket-output.js';
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

/** Where a socket's shared listeners find the driver of their connection. */
const DRIVER = Symbol('h1 driver');
type DrivenSocket = net.Socket & { [DRIVER]?: H1SocketDriver };

/** Runs HTTP/1.1 on a connected socket (plain or TLS). */
export function attachH1(socket: net.Socket, options: H1ServeOptions, initialData?: Uint8Array): TrackedConnection {
  return new H1SocketDriver(socket, options, initialData);
}

class H1SocketDriver implements TrackedConnection, TickEndTask {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly conn: H1ServerConnection;
  private readonly deadline: DeadlineTimer;
  private paused = false;
  private detached = false;
  /** socket.end() was called: the rest is the kernel's (and the linger timer's). */
  private ending = false;
  /** Bytes handed to socket.write so far (for the send watchdog). */
  private bytesQueued = 0;
  /** A pump is due at the end of this tick (atTickEnd). */
  tickEndDue = false;
  /** The send watchdog (see watchSending) and its last reading. */
  private watchdog: NodeJS.Timeout | null = null;
  private flushedAtLastCheck = 0;
  /** An empty write is pending whose callback says that the output before it is out. */
  private flushWatch = false;

  constructor(private readonly socket: net.Socket, private readonly options: H1ServeOptions, initialData?: Uint8Array) {
    this.closed = new Promise<void>((resolve) => { this.resolveClosed = resolve; });
    this.conn = new H1ServerConnection({
      clock: Date.now,
      handler: options.handler,
      scheme: socket instanceof tls.TLSSocket ? 'https' : 'http',
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      limits: options.limits,
      defaultHeaders: options.defaultHeaders,
      onHandlerError: options.onHandlerError,
      onUpgrade: options.onUpgradeH2c ? (head, rest) => this.upgrade(head, rest) : undefined,
    });
    socket.setNoDelay(true);
    this.deadline = new DeadlineTimer((now) => {
      this.conn.handleTimeout(now);
      this.pump();
    });
    // All output of one tick (several res.flush() calls, a response's end) leaves in one write.
    this.conn.onWake = () => atTickEnd(this);
    (socket as DrivenSocket)[DRIVER] = this;
    socket.on('data', onData);
    socket.on('drain', onDrain);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    if (initialData && initialData.length > 0) this.conn.receive(initialData, Date.now());
    this.pump();
  }

  shutdown(): void {
    this.conn.shutdown();
    this.pump();
  }

  destroy(): void {
    this.conn.destroy();
    this.socket.destroy();
  }

  runAtTickEnd(): void {
    this.pump();
  }

  received(data: Buffer): void {
    this.conn.receive(data, Date.now());
    atTickEnd(this);
  }

  drained(): void {
    this.conn.transportBuffered = this.socket.writableLength;
    this.conn.onTransportDrain();
    this.pump();
  }

  peerEnded(): void {
    // RFC 9112 §9.6: a half-close from the client ends its requests; a response in progress can
    // still be written, but node sockets with allowHalfOpen=false close both ways, so abort.
    this.conn.peerClosed();
    this.pump();
  }

  socketClosed(): void {
    this.conn.peerClosed('connection closed');
    this.deadline.clear();
    if (this.watchdog) { clearInterval(this.watchdog); this.watchdog = null; }
    this.resolveClosed();
  }

  private pump(): void {
    if (this.detached) return;
    const { conn, socket } = this;
    const out = conn.transmit();
    for (const piece of out) this.bytesQueued += piece.length;
    writeCoalesced(socket, out);
    conn.transportBuffered = socket.writableLength;
    // When the kernel took the bytes at once, the handler may go on now instead of after a
    // 'drain' event: a response writing in a loop keeps the socket busy, as with node:http.
    if (out.length > 0 && !this.ending) conn.onTransportDrain();
    if (this.ending) return;
    if (conn.shouldClose) {
      this.endGracefully();
      return;
    }
    if (conn.state === 'closed') {
      this.deadline.clear();
      if (!socket.destroyed) socket.destroy();
      return;
    }
    const want = conn.wantsInput;
    if (want && this.paused) { this.paused = false; socket.resume(); }
    else if (!want && !this.paused) { this.paused = true; socket.pause(); }
    // No deadline now (a request in progress): a pending timer may stay; when it fires,
    // handleTimeout sees nothing due and the pump arms for whatever deadline holds then.
    const at = conn.nextTimeout();
    if (at !== undefined) this.deadline.arm(at);
    this.watchSending();
  }

  /**
   * RFC 9112 §9.6: close in stages — send what is buffered, then FIN, keep reading (and
   * discarding) so the client's late bytes do not turn our close into a reset, and destroy after
   * a bounded linger so a client that never closes cannot hold the socket.
   */
  private endGracefully(): void {
    const socket = this.socket;
    this.ending = true;
    this.conn.state = 'closed';
    this.deadline.clear();
    if (socket.destroyed) return;
    socket.end();
    if (this.paused) { this.paused = false; socket.resume(); }
    // The linger starts once everything we wrote has left ('finish'): a slow reader of the last
    // response is not cut; one that reads nothing at all is the send watchdog's.
    const lingerMs = Math.max(1000, Math.min(this.options.limits?.keepAliveTimeoutMs ?? 5000, 30_000));
    socket.once('finish', () => {
      const linger = setTimeout(() => socket.destroy(), lingerMs);
      linger.unref();
      socket.once('close', () => clearTimeout(linger));
    });
    this.watchSending();
  }

  /**
   * Send watchdog: a client that stops reading while we have output buffered gets
   * limits.bodyTimeoutMs (the same "no progress on a body" budget as for request bodies) between
   * signs of progress, then the connection is destroyed and the exchange aborted. Without it, a
   * client could hold a connection and its buffers forever by never reading.
   */
  private watchSending(): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableLength === 0) return;
    if (!this.flushWatch && !socket.writableEnded) {
      // An empty write completes after every write before it: then the output is out, and the
      // connection hears of it even when no 'drain' comes (writes that never filled the buffer).
      this.flushWatch = true;
      socket.write(EMPTY, () => this.flushed());
    }
    if (this.watchdog) return;
    this.flushedAtLastCheck = this.flushedBytes();
    const stallMs = this.options.limits?.bodyTimeoutMs ?? DEFAULT_LIMITS.bodyTimeoutMs;
    this.watchdog = setInterval(() => this.checkProgress(), stallMs);
    this.watchdog.unref();
  }

  private checkProgress(): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableLength === 0) {
      clearInterval(this.watchdog!);
      this.watchdog = null;
      return;
    }
    const flushed = this.flushedBytes();
    if (flushed === this.flushedAtLastCheck) {
      clearInterval(this.watchdog!);
      this.watchdog = null;
      socket.destroy();
    } else {
      this.flushedAtLastCheck = flushed;
    }
  }

  /** Bytes the socket has passed on to the kernel: progress, however the handler refills. */
  private flushedBytes(): number {
    return this.bytesQueued - this.socket.writableLength;
  }

  private flushed(): void {
    this.flushWatch = false;
    this.conn.transportBuffered = this.socket.writableLength;
    this.conn.onTransportDrain();
    if (!this.ending) this.pump();
  }

  private upgrade(head: RequestHead, rest: Uint8Array): boolean {
    this.detach();
    return this.options.onUpgradeH2c!(this.socket, head, rest);
  }

  private detach(): void {
    const socket = this.socket;
    this.detached = true;
    this.deadline.clear();
    socket.off('data', onData);
    socket.off('drain', onDrain);
    socket.off('end', onEnd);
    socket.off('close', onClose);
    socket.off('error', onError);
    (socket as DrivenSocket)[DRIVER] = undefined;
    this.resolveClosed();
  }
}

// The socket's listeners, shared by every connection (`this` is the socket that emitted).
function onData(this: DrivenSocket, data: Buffer): void { this[DRIVER]?.received(data); }
function onDrain(this: DrivenSocket): void { this[DRIVER]?.drained(); }
function onEnd(this: DrivenSocket): void { this[DRIVER]?.peerEnded(); }
function onClose(this: DrivenSocket): void { this[DRIVER]?.socketClosed(); }
function onError(): void { /* 'close' follows */ }
