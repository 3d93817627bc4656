/**
 * The QUIC endpoint over node:dgram: one UDP socket (IPv4 or IPv6) for many connections, server and
 * client. It is the only QUIC code that touches a socket or a timer — the thin driver of
 * DESIGN.md: datagrams in go to the sans-I/O ConnectionRouter (connection/router.ts: routing by
 * connection ID, server connections from valid Initials, Version Negotiation, Retry, stateless
 * reset, connection and handshake limits), datagrams out go to `socket.send`, and one timer per
 * endpoint fires at the earliest deadline of all its connections. After a client's rebind()
 * (RFC 9000 §9.2), the socket it replaced keeps receiving for a few PTOs (§9.3) before it closes.
 *
 * Work is batched per event-loop turn: every datagram that arrived in one turn is processed (as one
 * batch, in arrival order), the application's events are delivered, and then each connection
 * transmits once (a send per datagram, without callbacks, is the cheapest path node:dgram offers).
 * Only a connection that received handshake datagrams answers inside the batch (receiveArrived).
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { ClientTlsSettings, Connection, ConnectionEvent } from './connection.js';
import { ConnectionRouter, type RouterOptions } from './connection/router.js';
import { receiveBatch } from './connection/receive-lookahead.js';
import type { OutgoingDatagram, PeerAddress } from './connection/types.js';
import { qlogSinks } from './qlog.js';
import { appendFileSync } from 'node:fs';

/**
 * When SSLKEYLOGFILE names a file, TLS secrets are appended to it in the NSS key log format, so
 * Wireshark can decrypt captures of our QUIC connections (as browsers and curl do).
 */
function keylogFromEnvironment(): ((line: string) => void) | undefined {
  const file = process.env['SSLKEYLOGFILE'];
  if (!file) return undefined;
  return (line) => {
    try { appendFileSync(file, line + '\n', { mode: 0o600 }); } catch { /* a log that cannot be written is not the connection's problem */ }
  };
}

/**
 * node:dgram resolves the address of every send with dns.lookup, which answers even an IP literal
 * one tick later: a bound callback and a nextTick per datagram. QUIC peers are addresses, so
 * literals are answered at once (as dns.lookup would, with their own family) and names still go
 * to dns.lookup.
 */
function literalFirstLookup(
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options, callback);
}

export interface EndpointOptions extends RouterOptions {
  /** Address to bind; default '::' for IPv6 sockets, '0.0.0.0' otherwise. */
  host?: string;
  /** Port to bind; 0 (the default) picks a free one. */
  port?: number;
  type?: 'udp4' | 'udp6';
  /** Application events of every connection. */
  onEvent?: (conn: Connection, event: ConnectionEvent) => void;
  /** A new server connection (a client's Initial arrived). */
  onConnection?: (conn: Connection) => void;
  /** Clock; default Date.now (the one place a real clock enters). */
  clock?: () => number;
}

function socketType(options: EndpointOptions): 'udp4' | 'udp6' {
  return options.type ?? (options.host !== undefined && isIPv6(options.host) ? 'udp6' : 'udp4');
}

/** A bound UDP socket with room for bursts of a window's worth of datagrams. */
async function bindSocket(type: 'udp4' | 'udp6', host: string | undefined, port: number | undefined): Promise<Socket> {
  const socket = createSocket({ type, reuseAddr: false, lookup: literalFirstLookup });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port ?? 0, host ?? (type === 'udp6' ? '::' : '0.0.0.0'), () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    socket.setRecvBufferSize(4 * 1024 * 1024);
    socket.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    // not permitted on every system; the defaults work, only slower
  }
  return socket;
}

/**
 * How long a socket that rebind() replaced keeps receiving, at most (RFC 9000 §9.3: an endpoint
 * keeps accepting packets on the old path for a while). It covers a path validation that takes its
 * full time: three PTOs at kInitialRtt is about 2 s (§8.2.4).
 */
export const REBIND_DRAIN_CAP_MS = 3_000;

/** A socket rebind() replaced, still receiving until `until` (endpoint clock). */
interface DrainingSocket {
  socket: Socket;
  timer: NodeJS.Timeout | undefined;
  /** When the drain began and when it ends at the latest (endpoint clock). */
  since: number;
  until: number;
  /** The longest PTO of the connections when it began: one more is granted while the peer still sends here. */
  pto: number;
  /** When the last datagram arrived on it. */
  lastArrival: number;
  /** Marks the datagrams that arrive on it, and the answers that must leave through it (PeerAddress.via). */
  generation: number;
}

export class QuicEndpoint {
  readonly router: ConnectionRouter;
  private socket: Socket;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private flushScheduled = false;
  /** Datagrams received in this event-loop turn and their senders, for the next pump. */
  private arrived: Buffer[] = [];
  private arrivedFrom: PeerAddress[] = [];
  /** Connections the router forgot in this pump, whose last events are still to be delivered. */
  private readonly forgotten: Connection[] = [];
  private closed = false;
  /** Whether the socket and the timer keep the process alive (net.Socket's ref()/unref()). */
  private referenced = true;
  /** The socket the last rebind() replaced, while it drains (at most one: a second rebind closes it). */
  private draining: DrainingSocket | undefined;
  /** How many sockets rebind() has replaced: the next draining socket's mark. */
  private replacedSockets = 0;

  private constructor(socket: Socket, private readonly options: EndpointOptions) {
    this.socket = socket;
    this.clock = options.clock ?? Date.now;
    // qlog files when QLOGDIR is set (qlog.ts), unless the caller brought its own sink.
    this.router = new ConnectionRouter({ qlog: qlogSinks(undefined, this.clock), keylog: keylogFromEnvironment(), ...options });
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.on('message', (msg, rinfo) => {
      // A socket that rebind() replaced still receives while it drains (RFC 9000 §9.3): what the
      // peer sent to the old address before it learned of the new one is not lost. The router
      // routes by connection ID, so such a datagram is taken as any other from that peer.
      if (socket !== this.socket) {
        const draining = this.draining;
        if (draining?.socket !== socket) return;
        draining.lastArrival = this.clock();
        // Marked with the socket it came in on: a PATH_RESPONSE to it must leave through it (RFC 9000 §8.2.2).
        this.onMessage(msg, { address: rinfo.address, port: rinfo.port, via: draining.generation });
        return;
      }
      this.onMessage(msg, { address: rinfo.address, port: rinfo.port });
    });
    socket.on('error', () => {
      // ICMP errors surface here on some platforms; QUIC recovers by itself (RFC 9000 §14.2).
    });
  }

  /**
   * Binds a UDP socket and starts the endpoint. Options the router refuses (e.g. `cidLength: 0`
   * with `server`, router.ts) reject, and the socket is closed again.
   */
  static async listen(options: EndpointOptions = {}): Promise<QuicEndpoint> {
    const socket = await bindSocket(socketType(options), options.host, options.port);
    try {
      return new QuicEndpoint(socket, options);
    } catch (err) {
      socket.close();
      throw err;
    }
  }

  /**
   * Client connection migration (RFC 9000 §9.2): moves every connection to a new local socket, on
   * `host` (default: the same local address) and `port` (default: any). Each connection probes the
   * new path with PATH_CHALLENGE under a fresh connection ID (§9.5) and keeps its congestion, RTT
   * and datagram-size state if only the port changed (§9.4); otherwise it starts them over once the
   * path is validated. A server cannot migrate (§9: only clients initiate migration), and nothing
   * migrates before handshake confirmation (§9).
   *
   * The old socket keeps receiving for a while (§9.3; §9.2: the old path may still carry packets
   * until the new one is validated): the peer sends there until a packet from the new address
   * reaches it, and what it sent meanwhile would otherwise be lost and retransmitted. It drains for
   * three PTOs of the slowest connection, then one PTO more each time datagrams still arrived there
   * in the last one (the peer has not moved yet: its validation or our packets are late), up to
   * REBIND_DRAIN_CAP_MS; then it is closed. A second rebind() closes a socket still draining.
   */
  async rebind(options: { host?: string; port?: number } = {}): Promise<void> {
    if (this.options.server !== undefined) throw new Error('a server endpoint cannot migrate (RFC 9000 §9)');
    if (this.closing !== undefined) throw new Error('the endpoint is closed');
    this.assertAllCanMigrate();
    const before = this.address.address;
    const socket = await bindSocket(socketType(this.options), options.host ?? before, options.port);
    if (this.closing !== undefined) {
      // close() began while the new socket was being bound: it closes the socket it knows.
      socket.close();
      throw new Error('the endpoint is closed');
    }
    try {
      this.assertAllCanMigrate(); // a connection may have started while the socket was being bound
    } catch (err) {
      socket.close();
      throw err;
    }
    const old = this.socket;
    this.socket = socket;
    this.attach(socket);
    if (!this.referenced) socket.unref();
    this.drain(old);
    const portOnly = this.address.address === before;
    for (const conn of this.router.connections) conn.migrate({ portOnly });
    this.scheduleFlush();
  }

  /**
   * A new local socket is a new local address for every connection on it, so each must be allowed
   * to migrate (Connection.canMigrate): not before its handshake is confirmed (RFC 9000 §9), not to
   * a server that sent disable_active_migration (§18.2) or uses a zero-length connection ID (§9.5).
   * Moving such a connection anyway would leave the server unable to route to it.
   */
  private assertAllCanMigrate(): void {
    for (const conn of this.router.connections) {
      const live = conn.state === 'handshake' || conn.state === 'established';
      if (live && !conn.canMigrate) {
        throw new Error('a connection on this endpoint cannot migrate (handshake not confirmed, or the server disabled migration or uses zero-length connection IDs; RFC 9000 §9, §9.5, §18.2)');
      }
    }
  }

  /** Keeps `old` receiving for the drain period (see rebind()), closing the one that drained before. */
  private drain(old: Socket): void {
    this.stopDraining();
    let pto = 0;
    // RFC 9002 §6.2.1: each connection's PTO period without backoff, as it computes it.
    for (const conn of this.router.connections) pto = Math.max(pto, conn.recovery.ptoPeriod);
    // No connection: nothing can be on its way to the old socket.
    if (pto === 0) {
      old.close();
      return;
    }
    const now = this.clock();
    this.draining = { socket: old, timer: undefined, since: now, until: now + Math.min(3 * pto, REBIND_DRAIN_CAP_MS), pto, lastArrival: -Infinity, generation: ++this.replacedSockets };
    this.armDrainTimer();
  }

  /**
   * The drain timer; the endpoint's clock decides when the period is over (a timer that fires
   * early by that clock is armed again for the rest).
   */
  private armDrainTimer(): void {
    const draining = this.draining!;
    draining.timer = setTimeout(() => {
      draining.timer = undefined;
      const now = this.clock();
      if (now < draining.until) return this.armDrainTimer();
      // Still hearing from the peer there within the last PTO: it has not moved to the new address.
      const capped = draining.since + REBIND_DRAIN_CAP_MS;
      if (draining.lastArrival > now - draining.pto && now < capped) {
        draining.until = Math.min(now + draining.pto, capped);
        return this.armDrainTimer();
      }
      this.stopDraining();
    }, Math.max(0, Math.ceil(draining.until - this.clock())));
    if (!this.referenced) draining.timer.unref();
  }

  /** Closes the draining socket, if any, and clears its timer. */
  private stopDraining(): void {
    const draining = this.draining;
    if (draining === undefined) return;
    this.draining = undefined;
    if (draining.timer !== undefined) clearTimeout(draining.timer);
    draining.socket.close();
  }

  get address(): PeerAddress {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /**
   * Opens a client connection to `remote`. With `cidLength: 0` the endpoint routes by the server's
   * address (RFC 9000 §5.2.1): `remote` must be an IP address, and one connection per server
   * address and port is open at a time (router.ts connect throws otherwise).
   */
  connect(remote: PeerAddress, tls: ClientTlsSettings, token?: Buffer): Connection {
    const conn = this.router.connect(remote, tls, this.clock(), token);
    this.scheduleFlush();
    return conn;
  }

  /**
   * Lets the process exit while only this endpoint is active, as net.Socket's unref(): the UDP
   * socket and the endpoint's timer no longer keep the event loop alive (an idle pooled client).
   */
  unref(): this {
    this.referenced = false;
    this.socket.unref();
    this.timer?.unref();
    this.draining?.socket.unref();
    this.draining?.timer?.unref();
    return this;
  }

  /** Undoes unref(): the endpoint keeps the process alive again. */
  ref(): this {
    this.referenced = true;
    this.socket.ref();
    this.timer?.ref();
    this.draining?.socket.ref();
    this.draining?.timer?.ref();
    return this;
  }

  /** Call after writing to a connection outside an event callback: sends within this tick. */
  flush(): void {
    this.scheduleFlush();
  }

  private onMessage(datagram: Buffer, from: PeerAddress): void {
    if (this.closed) return;
    // Held until the pump of this turn, which hands the whole batch to the router in arrival order.
    this.arrived.push(datagram);
    this.arrivedFrom.push(from);
    this.scheduleFlush();
  }

  /**
   * The datagrams of this turn, to the router in arrival order, shown to the connections as one
   * batch (receive-lookahead.ts: a connection computes the header protection masks of its
   * datagrams in one call, RFC 9001 §5.4); then the new server connections to the application.
   *
   * A connection whose handshake datagrams (long headers) have all been received answers at once,
   * before the rest of the batch: a handshake flight costs about a millisecond of CPU, and a batch
   * of twenty clients' flights held every answer back for twenty, while the peers sat idle.
   */
  private receiveArrived(now: number): void {
    const datagrams = this.arrived;
    const from = this.arrivedFrom;
    this.arrived = [];
    this.arrivedFrom = [];
    let answerDue: Connection | undefined;
    receiveBatch(datagrams, (datagram, i) => {
      const conn = this.router.receive(datagram, from[i]!, now);
      // Consecutive datagrams of one connection are taken together, so that the answer covers them all.
      if (answerDue !== undefined && answerDue !== conn) this.answerNow(answerDue);
      answerDue = (datagram[0]! & 0x80) !== 0 && conn !== undefined && datagrams.length > 1 ? conn : undefined;
    });
    this.acceptNew();
  }

  /** The new server connections, to the application. */
  private acceptNew(): void {
    for (let conn = this.router.accept(); conn !== undefined; conn = this.router.accept()) this.options.onConnection?.(conn);
  }

  /**
   * One connection's events and datagrams, ahead of the pump (as the pump would do them: the
   * application learns of new connections first, then of this one's events, then it transmits).
   */
  private answerNow(conn: Connection): void {
    this.acceptNew();
    const onEvent = this.options.onEvent;
    for (let event = conn.poll(); event !== undefined; event = conn.poll()) onEvent?.(conn, event);
    if (this.closed) return;
    for (const datagram of conn.transmit(this.clock())) this.send(datagram);
  }

  /**
   * Sends from the current socket, or, for an answer marked with a draining socket (PeerAddress.via),
   * from that one: RFC 9000 §8.2.2 puts a PATH_RESPONSE on the path its challenge came in on. Once
   * that socket has closed the path is gone, and the answer is dropped rather than sent on another.
   */
  private send(datagram: OutgoingDatagram): void {
    const { to } = datagram;
    if (to.via === undefined) this.socket.send(datagram.data, to.port, to.address);
    else if (this.draining !== undefined && this.draining.generation === to.via) this.draining.socket.send(datagram.data, to.port, to.address);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate runs after the pending I/O callbacks of this turn: one batch per turn.
    setImmediate(() => {
      this.flushScheduled = false;
      this.pump();
    });
  }

  /** Delivers events, sends what every connection has, and re-arms the timer. */
  private pump(): void {
    if (this.closed) return;
    // The turn's datagrams first, then the clock for timers and sending: receiving takes time, and
    // a transmit() on the clock read before it would take a pacing release already due for a later one.
    if (this.arrived.length > 0) this.receiveArrived(this.clock());
    const now = this.clock();
    this.router.handleTimeout(now, this.forgotten);
    this.deliverEvents();
    const datagrams = this.router.transmit(now);
    for (const datagram of datagrams) this.send(datagram);
    this.armTimer(datagrams.length > 0);
  }

  private deliverEvents(): void {
    const onEvent = this.options.onEvent;
    // Connections the router has just forgotten may still hold their 'closed' event (issue 5: a
    // client that timed out never reported it, and whoever awaited it waited for ever).
    if (this.forgotten.length > 0) {
      for (const conn of this.forgotten.splice(0)) {
        for (let event = conn.poll(); event !== undefined; event = conn.poll()) onEvent?.(conn, event);
      }
    }
    // Quiet connections have no event (Connection.isQuiet): only the awake ones are asked.
    for (const conn of this.router.awake) {
      for (let event = conn.poll(); event !== undefined; event = conn.poll()) onEvent?.(conn, event);
    }
  }

  /** `sent`: the pump that calls this sent something. */
  private armTimer(sent: boolean): void {
    const next = this.router.nextTimeout();
    if (next === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    // A deadline already due after a pump that sent (a transmit() cut short by its per-call cap
    // asks for one) is served on the next turn, after the I/O that arrived meanwhile: a timer would
    // wait at least 1 ms. A due deadline after a pump that sent nothing (e.g. an ACK owed while the
    // amplification limit holds everything back, RFC 9000 §8.1) goes to the timer as before, so
    // that the endpoint never spins.
    if (sent && next <= this.clock()) {
      this.scheduleFlush();
      return;
    }
    if (this.timer !== undefined && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, Math.ceil(next - this.clock())));
    if (!this.referenced) this.timer.unref();
  }

  /**
   * Closes every connection gracefully (each waits until its data is acknowledged, then sends
   * CONNECTION_CLOSE), waits up to `timeoutMs` for them to finish, then closes the socket. A call
   * while a close runs (e.g. from an event callback of the pump that close() runs) gets the same
   * promise: the socket is closed once.
   */
  close(code = 0, reason = '', timeoutMs = 5_000): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    // Set before closeOnce() starts: its first pump may already deliver a 'closed' event.
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    this.closing = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.closeOnce(code, reason, timeoutMs).then(resolve, reject);
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async closeOnce(code: number, reason: string, timeoutMs: number): Promise<void> {
    // This turn's datagrams arrived before close() was called: closeAll must reach the connections
    // they open (a held client Initial would otherwise open one after it, never asked to close).
    if (this.arrived.length > 0) this.receiveArrived(this.clock());
    this.router.closeAll(code, reason);
    this.pump();
    const deadline = this.clock() + timeoutMs;
    while ([...this.router.connections].some((c) => c.state === 'handshake' || c.state === 'established') && this.clock() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const conn of this.router.connections) conn.close(code, reason);
    this.pump();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopDraining();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
