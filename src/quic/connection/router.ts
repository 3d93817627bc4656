/**
 * Many connections behind one UDP port, sans-I/O (RFC 9000 §5.2, §5.2.2, §6.1, §8.1.2, §10.3):
 * routes each datagram to its connection by Destination Connection ID (short headers carry no
 * length, so every ID we issue has the same length) — or, for a client that uses zero-length IDs,
 * by the server's address (§5.2.1, address-routes.ts) — creates server connections from valid client
 * Initials (in datagrams of at least 1200 bytes, §14.1), answers unknown versions with Version
 * Negotiation (§6.1), asks for address validation with Retry when configured (§8.1.2), and answers
 * short-header packets for unknown connections with a stateless reset (§10.3).
 *
 * endpoint.ts drives this over node:dgram; the tests drive it over a simulated link.
 */
import { DEFAULT_LIMITS } from '../../core/limits.js';
import { statelessResetToken } from '../cid.js';
import { retryIntegrityTag } from '../crypto/retry.js';
import { parsePacketHeader, type LongHeader } from '../packet/header.js';
import { pooledRandomBytes } from '../random-pool.js';
import { appendRetryIntegrityTag, buildRetryWithoutTag } from '../packet/retry.js';
import { buildVersionNegotiation } from '../packet/version-negotiation.js';
import { SingleUseTicketStore, type TicketStore } from '../tls/tickets.js';
import { claimedTokenKind, openToken, sealToken } from '../token.js';
import { buildInvalidTokenClose, buildRefusedClose, initialOpens } from './stateless-close.js';
import { AddressRoutes } from './address-routes.js';
import { samePeer } from './path-change.js';
import { QUIC_V1, SUPPORTED_VERSIONS, greaseVersion } from '../version.js';
import {
  Connection,
  MIN_INITIAL_DATAGRAM,
  type AeadLimits,
  type ClientTlsSettings,
  type ServerTlsSettings,
  type TransportSettings,
  type QlogEvent,
} from '../connection.js';
import type { CongestionAlgorithm } from '../congestion/controller.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { OutgoingDatagram, PeerAddress } from './types.js';

export interface RouterOptions {
  /** Server settings; without them the router only makes client connections. */
  server?: ServerTlsSettings & {
    /**
     * When a new client without a valid token is asked to prove its address with Retry (RFC 9000
     * §8.1.2): `true` always, `false` never, or while at least `whenHandshakesInProgress`
     * handshakes are in progress. Default: from half of maxHandshakes on (see retryThreshold).
     */
    retry?: boolean | { whenHandshakesInProgress: number };
    /** Send NEW_TOKEN after the handshake (RFC 9000 §8.1.3). Default true. */
    newTokens?: boolean;
  };
  random?: (n: number) => Buffer;
  /**
   * Length of the connection IDs we issue, 0 to 20 (RFC 9000 §17.2). Default 8. 0 only for a
   * client router: its connections are then told apart by their server's address (§5.2,
   * address-routes.ts: one connection per server address and port). A server refuses 0: it tells
   * many clients apart by the IDs it issued (see ZERO_LENGTH_SERVER).
   */
  cidLength?: number;
  transport?: Partial<TransportSettings>;
  congestion?: CongestionAlgorithm;
  /** Bytes a stream may buffer before write() returns false (Connection's default follows the congestion window: 256 KiB to connectionHighWaterMark). */
  streamHighWaterMark?: number;
  /** Bytes all streams of a connection together may buffer before write() returns false. */
  connectionHighWaterMark?: number;
  /** Versions for compatible version negotiation, most preferred first (RFC 9368). */
  versions?: number[];
  /** AEAD usage limits for every connection (RFC 9001 §6.6); the negotiated suite's by default. */
  aeadLimits?: AeadLimits;
  /** Datagrams one connection's transmit() returns at most per call (Connection's default: 64). */
  maxDatagramsPerTransmit?: number;
  /** DPLPMTUD timers for every connection in ms (RFC 8899 §5.1.1): PMTU_RAISE_TIMER (600 s) and PROBE_TIMER (20 s). */
  pmtuRaiseTimer?: number;
  pmtuProbeTimer?: number;
  maxConnections?: number;
  maxHandshakes?: number;
  /** How long address validation tokens stay valid. Default 10 s (Retry), 24 h (NEW_TOKEN). */
  retryTokenLifetimeMs?: number;
  newTokenLifetimeMs?: number;
  /** qlog sink factory: one sink per connection (qlog.ts). */
  qlog?: (odcid: Buffer, role: 'client' | 'server') => ((event: QlogEvent) => void) | undefined;
  keylog?: (line: string) => void;
}

/**
 * Why a server router refuses zero-length connection IDs. Every client would send short headers
 * with an empty Destination Connection ID, leaving only its address to route by (RFC 9000 §5.2),
 * which NAT rebinding and migration change mid-connection (§5.1: "MUST NOT use the same IP address
 * and port for multiple concurrent connections with zero-length connection IDs"); and the stateless
 * reset token, derived from the connection ID of a packet, needs an ID to derive from (§10.3.2).
 */
const ZERO_LENGTH_SERVER = 'cidLength 0: a server tells its clients apart by the connection IDs it issues; with zero-length IDs only their addresses would be left, which NAT rebinding and migration change (RFC 9000 §5.1, §5.2), and no stateless reset token could be derived (§10.3.2)';

/** Smallest stateless reset: 5 unpredictable bytes and the 16-byte token (RFC 9000 §10.3). */
const MIN_STATELESS_RESET = 21;
/** CONNECTION_REFUSED answers sent at most per second (see refuse()); past it, refused Initials are only dropped. */
export const MAX_REFUSALS_PER_SECOND = 100;

/**
 * A connection ID as a route key: its bytes one to a character (latin1), a string half as long as
 * hex and, on the per-datagram path, read straight from the datagram without a view.
 */
function routeKey(cid: Buffer): string {
  return cid.toString('latin1');
}

export class ConnectionRouter {
  /** Connections by connection ID (routeKey). */
  private readonly routes = new Map<string, Connection>();
  /** Every connection the router holds, until it is closed and forgotten. */
  readonly connections = new Set<Connection>();
  /**
   * The connections that may have something to do: every connection but the quiet ones
   * (Connection.isQuiet), which have nothing to send or deliver until an input, an application call
   * or their deadline. transmit(), handleTimeout(), nextTimeout() and a driver's polling visit only
   * these (issue 5: a server holds each closed connection for three PTOs, RFC 9000 §10.2, and an
   * idle client many more), so a pump costs what the busy connections cost.
   */
  private readonly awakeSet = new Set<Connection>();
  get awake(): ReadonlySet<Connection> {
    return this.awakeSet;
  }
  /** Quiet connections by the deadline each had when it went quiet (fixed while quiet). */
  private readonly sleeping = new DeadlineQueue<Connection>();
  private readonly stateless: OutgoingDatagram[] = [];
  private readonly random: (n: number) => Buffer;
  private readonly cidLength: number;
  private readonly resetKey: Buffer;
  private readonly tokenKey: Buffer;
  private readonly maxConnections: number;
  private readonly maxHandshakes: number;
  /**
   * Handshakes in progress from which a new client without a valid token gets Retry (RFC 9000
   * §8.1.2, §21.1.1.2): 0 means always, Infinity never. By default half of maxHandshakes: below
   * it every client is served at once; above it a flood of
   * Initials from spoofed addresses, which never completes and holds its places until the idle
   * timeout, is answered by Retry packets that cost the server no state and under a tenth of the
   * CPU of a first flight (a token sealed and an integrity tag), while clients at real addresses
   * come back with a token one round trip later and are served up to maxHandshakes.
   */
  private readonly retryThreshold: number;
  /** Session tickets are sealed with one key and checked against one store for all connections. */
  private readonly ticketKey: Buffer;
  private readonly ticketStore: TicketStore = new SingleUseTicketStore();
  /** New server connections, for the application to take. */
  private readonly accepted: Connection[] = [];
  /** Datagrams dropped: unroutable, too small, over a limit. */
  dropped = 0;
  /** Of those, client Initials answered with CONNECTION_REFUSED (RFC 9000 §5.2.2). */
  refused = 0;
  /** When the current one-second window of refusals began, and how many it has sent. */
  private refusalWindowStart = -Infinity;
  private refusalsInWindow = 0;

  constructor(private readonly options: RouterOptions = {}) {
    // Many small unpredictable values per handshake: drawn from a pool (random-pool.ts).
    this.random = options.random ?? pooledRandomBytes();
    this.cidLength = options.cidLength ?? 8;
    if (this.cidLength === 0 && options.server !== undefined) throw new RangeError(ZERO_LENGTH_SERVER);
    if (!Number.isInteger(this.cidLength) || this.cidLength < 0 || this.cidLength > 20) {
      throw new RangeError(`cidLength ${this.cidLength}: connection IDs are 0 to 20 bytes (RFC 9000 §5.1, §17.2)`);
    }
    if (this.cidLength === 0) this.byServerAddress = new AddressRoutes();
    this.resetKey = this.random(32);
    this.tokenKey = this.random(32);
    this.ticketKey = options.server?.ticketKey ?? this.random(32);
    this.maxConnections = options.maxConnections ?? DEFAULT_LIMITS.maxQuicConnections;
    this.maxHandshakes = options.maxHandshakes ?? DEFAULT_LIMITS.maxQuicHandshakes;
    const retry = options.server?.retry;
    this.retryThreshold = retry === true ? 0 : retry === false ? Infinity : retry?.whenHandshakesInProgress ?? Math.ceil(this.maxHandshakes / 2);
  }

  /**
   * Starts a client connection to `remote`. With zero-length connection IDs, `remote` must be an IP
   * address that no open connection of this router uses (address-routes.ts; throws otherwise).
   */
  connect(remote: PeerAddress, tls: ClientTlsSettings, now: number, token?: Buffer): Connection {
    const holder: RouteHolder = { keys: new Set() };
    // RFC 9000 §7.2: an unpredictable first DCID of at least 8 bytes; it also names the qlog file.
    const initialDcid = this.random(Math.max(8, this.cidLength));
    // Checked before the connection exists: a refused one must leave nothing behind.
    // A draining connection sends nothing and may drop what comes (RFC 9000 §10.2.2): its server
    // address is free for a new connection. A closing one still answers with CONNECTION_CLOSE (§10.2.1).
    this.byServerAddress?.add(remote, holder, (other) => other.conn !== undefined && other.conn.state !== 'closed' && other.conn.state !== 'draining');
    let conn: Connection;
    try {
      conn = new Connection(Object.assign(this.common(remote, now, holder, initialDcid, 'client'), { role: 'client' as const, tls, token, initialDcid }));
    } catch (err) {
      this.byServerAddress?.delete(holder);
      throw err;
    }
    this.bind(holder, conn);
    return conn;
  }

  /** The next server connection created by a client's Initial. */
  accept(): Connection | undefined {
    return this.accepted.shift();
  }

  /**
   * Options every connection of this router shares; `holder` learns the connection once it exists.
   * Callers add their role's options with Object.assign: spreading these fifteen into a new
   * literal costs microseconds per connection in V8, adding five to this one a few hundred ns.
   */
  private common(remote: PeerAddress, now: number, holder: RouteHolder, odcid: Buffer | undefined, role: 'client' | 'server') {
    const routes = this.routes;
    return {
      remote,
      now,
      random: this.random,
      cidLength: this.cidLength,
      statelessResetKey: this.resetKey,
      transport: this.options.transport,
      congestion: this.options.congestion,
      streamHighWaterMark: this.options.streamHighWaterMark,
      connectionHighWaterMark: this.options.connectionHighWaterMark,
      versions: this.options.versions,
      aeadLimits: this.options.aeadLimits,
      maxDatagramsPerTransmit: this.options.maxDatagramsPerTransmit,
      pmtuRaiseTimer: this.options.pmtuRaiseTimer,
      pmtuProbeTimer: this.options.pmtuProbeTimer,
      keylog: this.options.keylog,
      qlog: odcid !== undefined ? this.options.qlog?.(odcid, role) : undefined,
      onWake: this.onWake,
      onConnectionId(cid: Buffer, added: boolean) {
        // A zero-length ID routes by address (byServerAddress), never by the empty key.
        if (cid.length === 0) return;
        const key = routeKey(cid);
        if (!added) {
          holder.keys.delete(key);
          if (routes.get(key) === holder.conn) routes.delete(key);
        } else {
          holder.keys.add(key);
          if (holder.conn !== undefined) routes.set(key, holder.conn);
        }
      },
    };
  }

  /** Routes the IDs a connection registered while it was being constructed. */
  private bind(holder: RouteHolder, conn: Connection): void {
    holder.conn = conn;
    for (const key of holder.keys) this.routes.set(key, conn);
    this.holders.set(conn, holder);
    this.connections.add(conn);
    this.awakeSet.add(conn);
    if (conn.state === 'handshake') this.handshaking.add(conn);
  }

  /** A quiet connection has something to do again: back among those the pumps visit. */
  private readonly onWake = (conn: Connection): void => {
    if (this.sleeping.delete(conn) && this.connections.has(conn)) this.awakeSet.add(conn);
  };

  /** After its transmit(): a quiet connection leaves the pumps until it wakes (onWake) or its deadline. */
  private sleepIfQuiet(conn: Connection): void {
    if (!conn.isQuiet) return;
    const deadline = conn.nextTimeout();
    this.awakeSet.delete(conn);
    this.sleeping.set(conn, deadline);
  }

  private readonly wakeAtDeadline = (conn: Connection): void => void this.awakeSet.add(conn);

  /** Quiet connections whose deadline has come join the awake ones, whose timers and output are then run as before. */
  private wakeDue(now: number): void {
    this.sleeping.takeDue(now, this.wakeAtDeadline);
  }

  /** Each connection's route holder, so that forgetting a connection touches only its own routes. */
  private readonly holders = new Map<Connection, RouteHolder>();
  /**
   * With zero-length connection IDs (a client router only): the connections by their server's
   * address (RFC 9000 §5.2.1). Keyed by route holder, which exists before its connection does.
   */
  private readonly byServerAddress: AddressRoutes<RouteHolder> | undefined;

  /** A datagram arrived from `from`; returns the connection that took it, if one did. */
  receive(datagram: Buffer, from: PeerAddress, now: number): Connection | undefined {
    if (datagram.length === 0) return;
    const isLong = (datagram[0]! & 0x80) !== 0;
    // RFC 8999 §5.1: version and connection IDs are at fixed places in every version; a short
    // header's DCID has the length of the IDs we issue.
    const dcidStart = isLong ? 6 : 1;
    if (isLong && datagram.length < 7) return this.drop();
    const dcidEnd = dcidStart + (isLong ? datagram[5]! : this.cidLength);
    if (datagram.length < dcidEnd) return this.drop();
    // RFC 9000 §5.2.1: a zero-length Destination Connection ID is matched by the sender's address.
    if (dcidEnd === dcidStart && this.byServerAddress !== undefined) return this.receiveByAddress(datagram, from, now);
    const conn = this.routes.get(datagram.toString('latin1', dcidStart, dcidEnd)); // = routeKey(DCID)
    if (conn !== undefined) {
      conn.receive(datagram, from, now);
      return conn;
    }
    if (!isLong) {
      // A stateless reset to a client carries an unpredictable DCID: let the connections on that path check it.
      let matched = false;
      for (const c of this.connections) {
        // The server's address in either IPv4 form (RFC 4291 §2.5.5.2), as the connection checks it.
        if (c.role === 'client' && samePeer(c.remote, from)) {
          c.receive(datagram, from, now);
          matched = true;
        }
      }
      if (!matched && this.options.server !== undefined) this.sendStatelessReset(datagram, datagram.subarray(dcidStart, dcidEnd), from);
      return;
    }
    if (this.options.server !== undefined) return this.onNewLongHeader(datagram, from, now);
    return this.drop();
  }

  /**
   * RFC 9000 §5.2.1: "Packets that do not match an existing connection -- based on Destination
   * Connection ID or, if this value is zero length, local IP address and port -- are discarded."
   * The local address is this router's socket; the server's address picks the connection. A
   * stateless reset from the server (§10.3) comes this way too, and its connection checks it.
   */
  private receiveByAddress(datagram: Buffer, from: PeerAddress, now: number): Connection | undefined {
    const conn = this.byServerAddress!.get(from)?.conn;
    if (conn === undefined) return this.drop();
    conn.receive(datagram, from, now);
    return conn;
  }

  private drop(): undefined {
    this.dropped++;
    return undefined;
  }

  /**
   * An Initial whose connection is refused: no state is kept (counted as dropped), and the client
   * is told with CONNECTION_CLOSE CONNECTION_REFUSED in an Initial (RFC 9000 §5.2.2, a SHOULD)
   * instead of timing out. Only an Initial that opens with its Initial keys is answered (anyone
   * can make one, but random bytes get nothing), and at most MAX_REFUSALS_PER_SECOND: each answer
   * costs deriving Initial keys, opening and sealing, while a flood of Initials at a full server
   * must cost no more than dropping them.
   */
  private refuse(datagram: Buffer, header: LongHeader, from: PeerAddress, now: number): undefined {
    this.drop();
    if (now - this.refusalWindowStart >= 1000) {
      this.refusalWindowStart = now;
      this.refusalsInWindow = 0;
    }
    if (this.refusalsInWindow >= MAX_REFUSALS_PER_SECOND || !initialOpens(datagram, header)) return;
    this.refusalsInWindow++;
    this.refused++;
    this.stateless.push({ data: buildRefusedClose(header, this.random(this.cidLength)), to: from });
  }

  private onNewLongHeader(datagram: Buffer, from: PeerAddress, now: number): Connection | undefined {
    const server = this.options.server!;
    const version = datagram.readUInt32BE(1);
    // RFC 9000 §14.1: a server discards an Initial in a datagram smaller than 1200 bytes.
    if (datagram.length < MIN_INITIAL_DATAGRAM) return this.drop();
    if (version !== 0 && !SUPPORTED_VERSIONS.includes(version)) {
      // RFC 9000 §6.1: answer an unknown version with Version Negotiation (the datagram is ≥ 1200 bytes).
      const scidStart = 6 + datagram[5]!;
      if (datagram.length < scidStart + 1) return this.drop();
      const dcid = datagram.subarray(6, 6 + datagram[5]!);
      const scid = datagram.subarray(scidStart + 1, scidStart + 1 + datagram[scidStart]!);
      const grease = greaseVersion(this.random(4).readUInt32BE(0));
      this.stateless.push({ data: buildVersionNegotiation({ dcid: scid, scid: dcid, versions: [...SUPPORTED_VERSIONS, grease] }), to: from });
      return;
    }
    let header;
    try {
      header = parsePacketHeader(datagram, 0, { shortDcidLength: this.cidLength, receiver: 'server' });
    } catch {
      return this.drop();
    }
    // RFC 9000 §7.2: a client's first DCID is at least 8 bytes.
    if (header.type !== 'initial' || header.dcid.length < 8) return this.drop();
    // RFC 9000 §5.2.2: a server may refuse a new connection; it does past its limits and once
    // closeAll() has begun closing (a connection opened then would never be asked to close, §10.2).
    // A full handshake table refuses only after the token check: a client without one is first
    // asked for Retry, and may find a place when it comes back.
    if (this.closing || this.connections.size >= this.maxConnections) return this.refuse(datagram, header, from, now);

    let originalDcid = Buffer.from(header.dcid);
    let retryScid: Buffer | undefined;
    let addressValidated = false;
    if (header.token.length > 0) {
      const retry = openToken(this.tokenKey, from.address, header.token, now, this.options.retryTokenLifetimeMs ?? 10_000);
      if (retry?.kind === 'retry' && retry.retryScid !== undefined && retry.retryScid.equals(header.dcid)) {
        originalDcid = Buffer.from(retry.originalDcid!);
        retryScid = Buffer.from(retry.retryScid);
        addressValidated = true;
      } else if (claimedTokenKind(header.token) === 'retry') {
        // RFC 9000 §8.1.2: a Retry token that does not validate (expired, altered, for another
        // address or connection ID). The client will not take a second Retry, so close at once
        // with INVALID_TOKEN rather than let it time out — if the Initial is otherwise valid.
        if (initialOpens(datagram, header)) this.stateless.push({ data: buildInvalidTokenClose(header, this.random(this.cidLength)), to: from });
        else this.drop();
        return;
      } else {
        const newToken = openToken(this.tokenKey, from.address, header.token, now, this.options.newTokenLifetimeMs ?? 86_400_000);
        if (newToken?.kind === 'new-token') addressValidated = true;
      }
    }
    const inProgress = this.handshakesInProgress();
    if (!addressValidated && inProgress >= this.retryThreshold) {
      this.sendRetry(header.version, header.dcid, header.scid, from, now);
      return;
    }
    if (inProgress >= this.maxHandshakes) return this.refuse(datagram, header, from, now);

    const localCid = this.random(this.cidLength);
    const holder: RouteHolder = { keys: new Set() };
    const conn = new Connection(Object.assign(this.common(from, now, holder, originalDcid, 'server'), {
      role: 'server' as const,
      tls: (this.serverTls ??= { ticketKey: this.ticketKey, ticketStore: this.ticketStore, ...server }),
      localCid,
      handshake: { originalDcid, initialDcid: Buffer.from(header.dcid), clientScid: Buffer.from(header.scid), retryScid, addressValidated, version: header.version },
      makeNewToken: server.newTokens === false ? undefined : () => sealToken(this.tokenKey, from.address, { kind: 'new-token', issuedAt: now }, this.random),
    }));
    this.bind(holder, conn);
    // Retransmitted Initials still carry the client's chosen DCID: route it until the handshake ends.
    const initialRoute = routeKey(header.dcid);
    this.routes.set(initialRoute, conn);
    this.initialRoutes.set(conn, initialRoute);
    this.accepted.push(conn);
    conn.receive(datagram, from, now);
    return conn;
  }

  private readonly initialRoutes = new Map<Connection, string>();
  /** The TLS settings every server connection shares, made once (a spread per connection costs ~1 µs). */
  private serverTls: ServerTlsSettings | undefined;

  /**
   * Connections that were in the handshake when last looked at: every connection starts there and
   * never returns, so counting walks only these, not every connection the router holds.
   */
  private readonly handshaking = new Set<Connection>();

  private handshakesInProgress(): number {
    for (const c of this.handshaking) if (c.state !== 'handshake' || !this.connections.has(c)) this.handshaking.delete(c);
    return this.handshaking.size;
  }

  /** RFC 9000 §8.1.2, §17.2.5: a Retry with a token binding address, time and original DCID. */
  private sendRetry(version: number, odcid: Buffer, clientScid: Buffer, to: PeerAddress, now: number): void {
    const retryScid = this.random(this.cidLength);
    const token = sealToken(this.tokenKey, to.address, { kind: 'retry', issuedAt: now, originalDcid: odcid, retryScid }, this.random);
    const withoutTag = buildRetryWithoutTag({ version, dcid: clientScid, scid: retryScid, token });
    const packet = appendRetryIntegrityTag(withoutTag, retryIntegrityTag(version, odcid, withoutTag));
    this.stateless.push({ data: packet, to });
  }

  /** RFC 9000 §10.3: a packet that looks like a short header, ending in the token for `dcid`. */
  private sendStatelessReset(datagram: Buffer, dcid: Buffer, to: PeerAddress): void {
    // RFC 9000 §10.3.3: smaller than what triggered it, so that two endpoints cannot loop.
    const size = Math.min(datagram.length - 1, 43);
    if (size < MIN_STATELESS_RESET) return this.drop();
    const packet = this.random(size);
    packet[0] = (packet[0]! & 0x3f) | 0x40; // short header form, fixed bit set (§10.3)
    statelessResetToken(this.resetKey, dcid).copy(packet, size - 16);
    this.stateless.push({ data: packet, to });
  }

  /** Everything to send now, from every connection and the stateless answers. */
  transmit(now: number): OutgoingDatagram[] {
    const out = this.stateless.splice(0);
    this.wakeDue(now);
    for (const conn of this.awakeSet) {
      for (const d of conn.transmit(now)) out.push(d);
      this.sleepIfQuiet(conn);
    }
    return out;
  }

  nextTimeout(): number | undefined {
    let earliest = this.sleeping.earliest();
    for (const conn of this.awakeSet) {
      const t = conn.nextTimeout();
      if (t !== undefined && (earliest === undefined || t < earliest)) earliest = t;
    }
    return earliest;
  }

  /**
   * Runs the timers that are due and forgets closed connections. A connection can close with its
   * 'closed' event not yet polled (idle timeout here; stateless reset or Version Negotiation in
   * receive()): a driver that polls events through `connections` passes `forgotten`, which gets
   * every connection this call forgot, so that their last events still reach the application.
   */
  handleTimeout(now: number, forgotten?: Connection[]): void {
    this.wakeDue(now);
    for (const conn of this.awakeSet) {
      const t = conn.nextTimeout();
      if (t !== undefined && t <= now) conn.handleTimeout(now);
      if (this.sweep(conn)) forgotten?.push(conn);
    }
  }

  /** Forgets a closed connection and, after the handshake, its original-DCID route; true when it forgot it. */
  private sweep(conn: Connection): boolean {
    const initialRoute = this.initialRoutes.get(conn);
    if (initialRoute !== undefined && conn.state !== 'handshake') {
      this.routes.delete(initialRoute);
      this.initialRoutes.delete(conn);
    }
    if (conn.state === 'closed') {
      this.connections.delete(conn);
      this.awakeSet.delete(conn);
      this.sleeping.delete(conn);
      this.handshaking.delete(conn);
      const holder = this.holders.get(conn);
      for (const key of holder?.keys ?? []) if (this.routes.get(key) === conn) this.routes.delete(key);
      if (holder !== undefined) this.byServerAddress?.delete(holder);
      this.holders.delete(conn);
      return true;
    }
    return false;
  }

  /** Set by closeAll(): client Initials no longer open connections. */
  private closing = false;

  /**
   * Closes every connection gracefully (each waits for its data to be acknowledged), and refuses
   * new connections from then on (the endpoint is shutting down).
   */
  closeAll(code = 0, reason = ''): void {
    this.closing = true;
    for (const conn of this.connections) conn.closeGracefully(code, reason);
  }

  /** Default version for new client connections. */
  static readonly version = QUIC_V1;
}

interface RouteHolder {
  conn?: Connection;
  /** The connection IDs (routeKey) the connection has asked to be routed to it, before and after it exists. */
  keys: Set<string>;
}
