/**
 * An in-memory QUIC stand-in for HTTP/3 tests: two endpoints implementing QuicStreams
 * (src/h3/transport.ts), wired to each other. Bytes written on a stream reach the peer in order
 * (RFC 9000 §2.2) but split at random points, with streams interleaved at random and delivered
 * over later event-loop turns, all from a seeded generator so that a failure replays. Paused
 * streams are not delivered (flow control), so backpressure is real: bufferedAmount stays up
 * and write() returns false until the peer reads.
 */
import type { QuicStreamEvent, QuicStreams } from '../../src/h3/transport.js';

/** Deterministic 32-bit generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

type Item =
  | { kind: 'data'; data: Uint8Array; fin: boolean }
  | { kind: 'reset'; code: number }
  | { kind: 'stop'; code: number };

interface InboundStream {
  items: Item[];
  paused: boolean;
  announced: boolean;
}

export interface LinkOptions {
  seed?: number;
  /** Most bytes in one delivered piece (random split points up to it). */
  maxPiece?: number;
  /** High-water mark per stream for write()'s return value. */
  highWaterMark?: number;
}

export interface EventSink {
  handleEvent(event: QuicStreamEvent): void;
}

export class MemoryEndpoint implements QuicStreams {
  peer!: MemoryEndpoint;
  app: EventSink | null = null;
  private nextBidi: number;
  private nextUni: number;
  readonly inbound = new Map<number, InboundStream>();
  /** Our bytes the peer has not consumed yet, per stream. */
  private readonly buffered = new Map<number, number>();
  private readonly wantWritable = new Set<number>();
  private readonly resetSent = new Set<number>();
  private readonly finSent = new Set<number>();
  /** The peer asked us to stop: later writes are dropped. */
  private readonly stopped = new Set<number>();
  closed: { code: number; reason: string } | null = null;
  private gracefulClose: { code: number; reason: string } | null = null;
  /** Everything written, per stream, for assertions about the wire. */
  readonly written = new Map<number, Uint8Array[]>();
  readonly resets: { id: number; code: number }[] = [];
  readonly stopSendings: { id: number; code: number }[] = [];

  constructor(readonly role: 'client' | 'server', private readonly link: MemoryLink) {
    this.nextBidi = role === 'client' ? 0 : 1;
    this.nextUni = role === 'client' ? 2 : 3;
  }

  openStream(bidi: boolean): number | null {
    if (this.closed) return null;
    const id = bidi ? this.nextBidi : this.nextUni;
    if (bidi) this.nextBidi += 4;
    else this.nextUni += 4;
    return id;
  }

  write(id: number, data: Uint8Array, fin = false): boolean {
    if (this.closed || this.resetSent.has(id) || this.finSent.has(id)) return false;
    if (this.stopped.has(id)) return true;
    if (fin) this.finSent.add(id);
    let log = this.written.get(id);
    if (!log) this.written.set(id, (log = []));
    log.push(data);
    this.buffered.set(id, (this.buffered.get(id) ?? 0) + data.length);
    this.peer.enqueue(id, { kind: 'data', data, fin });
    const below = (this.buffered.get(id) ?? 0) < this.link.highWaterMark;
    if (!below) this.wantWritable.add(id);
    return below;
  }

  resetStream(id: number, code: number): void {
    if (this.closed || this.resetSent.has(id)) return;
    this.resetSent.add(id);
    this.resets.push({ id, code });
    this.buffered.delete(id);
    this.peer.dropData(id);
    this.peer.enqueue(id, { kind: 'reset', code });
  }

  stopSending(id: number, code: number): void {
    if (this.closed) return;
    this.stopSendings.push({ id, code });
    const stream = this.inbound.get(id);
    if (stream) stream.items = stream.items.filter((i) => i.kind !== 'data');
    this.peer.enqueueStop(id, code);
  }

  pauseReading(id: number): void {
    this.stream(id).paused = true;
  }

  resumeReading(id: number): void {
    this.stream(id).paused = false;
    this.link.schedule();
  }

  bufferedAmount(id: number): number {
    return this.buffered.get(id) ?? 0;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    this.link.closeBoth(this, code, reason);
  }

  closeGracefully(code: number, reason: string): void {
    this.gracefulClose = { code, reason };
    this.link.schedule();
  }

  // ---- link side ----

  enqueue(id: number, item: Item): void {
    this.stream(id).items.push(item);
    this.link.schedule();
  }

  enqueueStop(id: number, code: number): void {
    // Ours to deliver as an event; like QUIC, the sending part is then reset with the same code.
    // A control frame: it may overtake stream data still queued.
    this.stream(id).items.unshift({ kind: 'stop', code });
    this.link.schedule();
  }

  dropData(id: number): void {
    const stream = this.inbound.get(id);
    if (stream) stream.items = stream.items.filter((i) => i.kind !== 'data');
  }

  /** Streams with something deliverable now. */
  ready(): number[] {
    const ids: number[] = [];
    for (const [id, s] of this.inbound) {
      if (s.items.length === 0) continue;
      if (s.paused && s.items[0]!.kind === 'data') continue;
      ids.push(id);
    }
    return ids;
  }

  /** Delivers the next piece of stream `id` to the application. */
  deliver(id: number, random: () => number): void {
    const stream = this.inbound.get(id)!;
    const item = stream.items[0]!;
    if (!stream.announced && this.isPeerStream(id)) {
      stream.announced = true;
      this.emit({ type: 'stream-opened', id });
    }
    switch (item.kind) {
      case 'reset':
        stream.items.shift();
        this.emit({ type: 'stream-reset', id, code: item.code });
        return;
      case 'stop':
        stream.items.shift();
        if (!this.resetSent.has(id) && !this.finSentAndDelivered(id)) {
          this.stopped.add(id);
          this.resetStream(id, item.code);
        }
        this.emit({ type: 'stop-sending', id, code: item.code });
        return;
      case 'data': {
        const size = item.data.length === 0 ? 0 : 1 + (random() % Math.min(item.data.length, this.link.maxPiece));
        const piece = item.data.subarray(0, size);
        const last = size === item.data.length;
        if (last) stream.items.shift();
        else item.data = item.data.subarray(size);
        this.peer.consumed(id, size);
        this.emit({ type: 'stream-data', id, data: piece, fin: last && item.fin });
        return;
      }
    }
  }

  /** The peer's application read `bytes` of our stream `id`. */
  consumed(id: number, bytes: number): void {
    const left = (this.buffered.get(id) ?? 0) - bytes;
    this.buffered.set(id, left);
    if (this.wantWritable.has(id) && left < this.link.highWaterMark) {
      this.wantWritable.delete(id);
      this.emit({ type: 'writable', id });
    }
  }

  get idle(): boolean {
    for (const s of this.inbound.values()) if (s.items.length > 0) return false;
    return true;
  }

  checkGracefulClose(): void {
    if (this.gracefulClose && !this.closed && this.peer.idle) this.close(this.gracefulClose.code, this.gracefulClose.reason);
  }

  emit(event: QuicStreamEvent): void {
    this.app?.handleEvent(event);
  }

  private finSentAndDelivered(id: number): boolean {
    return this.finSent.has(id) && (this.buffered.get(id) ?? 0) === 0;
  }

  private isPeerStream(id: number): boolean {
    return (id % 2 === 0) !== (this.role === 'client');
  }

  private stream(id: number): InboundStream {
    let s = this.inbound.get(id);
    if (!s) this.inbound.set(id, (s = { items: [], paused: false, announced: !this.isPeerStream(id) }));
    return s;
  }
}

/** Two endpoints and the scheduler that moves bytes between them. */
export class MemoryLink {
  readonly client: MemoryEndpoint;
  readonly server: MemoryEndpoint;
  readonly random: () => number;
  readonly maxPiece: number;
  readonly highWaterMark: number;
  private scheduled = false;
  /** Pieces delivered so far (tests use it to bound work). */
  deliveries = 0;

  constructor(options: LinkOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.maxPiece = options.maxPiece ?? 1500;
    this.highWaterMark = options.highWaterMark ?? 64 * 1024;
    this.client = new MemoryEndpoint('client', this);
    this.server = new MemoryEndpoint('server', this);
    this.client.peer = this.server;
    this.server.peer = this.client;
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.step();
    });
  }

  /** A few random deliveries per event-loop turn, so handlers run in between. */
  private step(): void {
    const turns = 1 + (this.random() % 8);
    for (let i = 0; i < turns; i++) {
      const choices: [MemoryEndpoint, number][] = [];
      for (const ep of [this.client, this.server]) {
        if (ep.closed) continue;
        for (const id of ep.ready()) choices.push([ep, id]);
      }
      if (choices.length === 0) break;
      const [ep, id] = choices[this.random() % choices.length]!;
      ep.deliver(id, this.random);
      this.deliveries++;
    }
    this.client.checkGracefulClose();
    this.server.checkGracefulClose();
    if (this.client.ready().length > 0 || this.server.ready().length > 0) this.schedule();
  }

  closeBoth(from: MemoryEndpoint, code: number, reason: string): void {
    const to = from.peer;
    from.emit({ type: 'closed', error: { code, application: true, reason, source: 'local' } });
    if (!to.closed) {
      to.closed = { code, reason };
      to.emit({ type: 'closed', error: { code, application: true, reason, source: 'peer' } });
    }
  }
}
