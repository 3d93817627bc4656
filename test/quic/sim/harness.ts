/**
 * A client router and a server router (src/quic/connection/router.ts) talking over a SimulatedLink
 * with a fake clock: the whole QUIC stack in memory. `run(done)` advances time event by event —
 * datagram arrivals and connection timers — until `done()` holds or the deadline passes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConnectionRouter, type RouterOptions } from '../../../src/quic/connection/router.js';
import type { Connection, ConnectionEvent, OutgoingDatagram, PeerAddress } from '../../../src/quic/connection.js';
import { SimulatedLink, type LinkConditions } from './link.js';

const certFile = (name: string) => readFileSync(fileURLToPath(new URL(`../tls/certs/${name}`, import.meta.url)), 'utf8');
export const CA = certFile('ca.pem');
export const CERT = certFile('ecdsa.pem');
export const KEY = certFile('ecdsa.key');
/** Inside the test certificates' validity window. */
export const START = Date.parse('2030-01-01T00:00:00Z');

export const CLIENT_ADDR: PeerAddress = { address: '10.0.0.1', port: 50000 };
export const SERVER_ADDR: PeerAddress = { address: '10.0.0.2', port: 443 };

/** Deterministic bytes: SHA-256 in counter mode over a seed. */
export function seededBytes(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n: number) => {
    const out = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; ) filled += createHash('sha256').update(`${seed}/${counter++}`).digest().copy(out, filled);
    return out;
  };
}

export interface PairOptions {
  link?: LinkConditions;
  seed?: number;
  server?: Partial<RouterOptions['server']>;
  client?: Partial<RouterOptions>;
  serverRouter?: Partial<RouterOptions>;
  suites?: number[];
}

export class Pair {
  now = START;
  readonly link: SimulatedLink<PeerAddress>;
  readonly clientRouter: ConnectionRouter;
  serverRouter: ConnectionRouter;
  readonly client: Connection;
  server: Connection | undefined;
  clientAddr: PeerAddress = CLIENT_ADDR;
  /** Earlier client addresses that still reach the client (a NAT that keeps an old binding a while). */
  readonly clientAliases: PeerAddress[] = [];
  /** Every datagram the server sent, for the amplification test. */
  readonly serverSent: (OutgoingDatagram & { at: number })[] = [];
  /** Every datagram the server received, with its time. */
  readonly serverReceived: { at: number; length: number }[] = [];
  readonly clientSent: Buffer[] = [];
  readonly clientEvents: ConnectionEvent[] = [];
  readonly serverEvents: ConnectionEvent[] = [];
  /** Called for each event as it is polled. */
  onClientEvent: (e: ConnectionEvent) => void = () => {};
  onServerEvent: (e: ConnectionEvent) => void = () => {};

  constructor(options: PairOptions = {}) {
    const seed = options.seed ?? 1;
    this.link = new SimulatedLink<PeerAddress>(options.link ?? { delay: 10 }, seed, (to) => to.address === SERVER_ADDR.address);
    this.serverRouter = new ConnectionRouter({
      random: seededBytes(`server-${seed}`),
      server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'], suites: options.suites, ...options.server },
      ...options.serverRouter,
    });
    this.clientRouter = new ConnectionRouter({ random: seededBytes(`client-${seed}`), ...options.client });
    this.client = this.clientRouter.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA], suites: options.suites }, this.now);
  }

  /** Sends what both sides have, then moves the clock to the next event and processes it. Returns false when nothing is scheduled. */
  step(until = Infinity): boolean {
    this.pollEvents();
    this.flush();
    const times = [this.link.nextArrival(), this.clientRouter.nextTimeout(), this.serverRouter.nextTimeout()].filter((t): t is number => t !== undefined);
    if (times.length === 0) return false;
    const next = Math.min(...times);
    if (next > until) {
      // Nothing happens before `until`: the clock stops there.
      this.now = Math.max(this.now, until);
      return false;
    }
    this.now = Math.max(this.now, next);
    for (const d of this.link.deliver(this.now)) {
      if (d.to.address === SERVER_ADDR.address) {
        this.serverReceived.push({ at: this.now, length: d.data.length });
        this.serverRouter.receive(d.data, d.from, this.now);
        for (let c = this.serverRouter.accept(); c !== undefined; c = this.serverRouter.accept()) this.server ??= c;
      } else if ([this.clientAddr, ...this.clientAliases].some((a) => d.to.address === a.address && d.to.port === a.port)) {
        this.clientRouter.receive(d.data, d.from, this.now);
      }
    }
    this.clientRouter.handleTimeout(this.now);
    this.serverRouter.handleTimeout(this.now);
    this.pollEvents();
    return true;
  }

  flush(): void {
    for (const d of this.clientRouter.transmit(this.now)) {
      this.clientSent.push(d.data);
      this.link.send(d.data, this.clientAddr, d.to, this.now);
    }
    for (const d of this.serverRouter.transmit(this.now)) {
      this.serverSent.push({ ...d, at: this.now });
      this.link.send(d.data, SERVER_ADDR, d.to, this.now);
    }
  }

  pollEvents(): void {
    for (let e = this.client.poll(); e !== undefined; e = this.client.poll()) {
      this.clientEvents.push(e);
      this.onClientEvent(e);
    }
    if (this.server) {
      for (let e = this.server.poll(); e !== undefined; e = this.server.poll()) {
        this.serverEvents.push(e);
        this.onServerEvent(e);
      }
    }
  }

  /** Runs until `done()` or `maxMs` of simulated time. Returns whether `done()` held. */
  run(done: () => boolean, maxMs = 60_000): boolean {
    const deadline = this.now + maxMs;
    let stalled = 0;
    while (!done()) {
      if (this.now > deadline) return false;
      const before = this.now;
      if (!this.step(deadline)) return done();
      // A connection whose timer fires again at the same instant without progress is a bug.
      stalled = this.now === before ? stalled + 1 : 0;
      if (stalled > 10_000) throw new Error(`no progress at t=${this.now - START} ms`);
    }
    this.flush();
    return true;
  }

  handshake(maxMs = 30_000): boolean {
    return this.run(() => this.client.isHandshakeComplete && this.server !== undefined && this.server.isHandshakeComplete && this.server.state === 'established', maxMs);
  }

  /**
   * Runs until nothing is due within 100 ms (at most 200 steps): the ACKs, HANDSHAKE_DONE,
   * NEW_CONNECTION_IDs and PMTU probes that follow a handshake, or what the test queued, have
   * settled; then sends what is left.
   */
  settle(): void {
    for (let i = 0; i < 200 && this.step(this.now + 100); i++);
    this.flush();
  }
}

/** A pair whose handshake completed and whose after-handshake exchange settled (Pair.settle). */
export function establishedPair(options: PairOptions = {}): Pair {
  const pair = new Pair(options);
  if (!pair.handshake()) throw new Error('the handshake did not complete');
  pair.settle();
  return pair;
}

/** Bytes 0..n-1 of the test pattern (byte i = i mod 251, as the /bytes demo route). */
export function pattern(n: number, from = 0): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (from + i) % 251;
  return out;
}

/** Collects the data of each stream from events, checking order and single delivery. */
export class StreamSink {
  readonly received = new Map<number, Buffer[]>();
  readonly finished = new Set<number>();
  readonly resets = new Map<number, number>();

  onEvent(e: ConnectionEvent): void {
    if (e.type === 'stream-data') {
      if (this.finished.has(e.id)) throw new Error(`data after fin on stream ${e.id}`);
      const parts = this.received.get(e.id) ?? [];
      if (e.data.length > 0) parts.push(Buffer.from(e.data));
      this.received.set(e.id, parts);
      if (e.fin) this.finished.add(e.id);
    } else if (e.type === 'stream-reset') {
      this.resets.set(e.id, e.code);
    }
  }

  data(id: number): Buffer {
    return Buffer.concat(this.received.get(id) ?? []);
  }
}

/** The deadline a connection computes, bypassing the quiet state's cached answer (connection.ts nextTimeout). */
export function computedTimeout(conn: Connection): number | undefined {
  const c = conn as unknown as { quiet: boolean };
  const wasQuiet = c.quiet;
  c.quiet = false;
  const t = conn.nextTimeout();
  c.quiet = wasQuiet;
  return t;
}

/** The earliest of the deadlines a router's connections compute (what router.nextTimeout() must equal). */
export function earliestOf(router: ConnectionRouter): number | undefined {
  let earliest: number | undefined;
  for (const conn of router.connections) {
    const t = computedTimeout(conn);
    if (t !== undefined && (earliest === undefined || t < earliest)) earliest = t;
  }
  return earliest;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes `data` to a stream in 16 KiB pieces, respecting backpressure ('writable' resumes it). */
export class StreamWriter {
  private offset = 0;
  constructor(private readonly conn: Connection, readonly id: number, private readonly data: Buffer, private readonly piece = 16 * 1024) {}

  pump(): void {
    while (this.offset < this.data.length) {
      const end = Math.min(this.offset + this.piece, this.data.length);
      const more = this.conn.write(this.id, this.data.subarray(this.offset, end), end === this.data.length);
      this.offset = end;
      if (!more) return;
    }
  }

  get done(): boolean {
    return this.offset >= this.data.length;
  }
}

/**
 * The client asks on a new stream; the server answers `size` bytes of the pattern on the same
 * stream. Returns what the client received and whether it finished within `maxMs`.
 */
export function download(pair: Pair, size: number, maxMs = 120_000): { ok: boolean; data: Buffer } {
  const serverWriters = new Map<number, StreamWriter>();
  const sink = new StreamSink();
  const body = pattern(size);
  pair.onServerEvent = (e) => {
    if (e.type === 'stream-data' && e.fin) {
      const w = new StreamWriter(pair.server!, e.id, body);
      serverWriters.set(e.id, w);
      w.pump();
    } else if (e.type === 'writable') {
      serverWriters.get(e.id)?.pump();
    }
  };
  pair.onClientEvent = (e) => sink.onEvent(e);
  if (!pair.handshake(maxMs)) return { ok: false, data: Buffer.alloc(0) };
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from(`GET ${size}`), true);
  const ok = pair.run(() => sink.finished.has(id), maxMs);
  return { ok, data: sink.data(id) };
}
