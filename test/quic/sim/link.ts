/**
 * A simulated network between QUIC endpoints, for in-memory conversations with a fake clock:
 * one-way delay, random loss, duplication, reordering (extra delay for some datagrams), single-bit
 * corruption, and black-hole windows during which everything is lost. Randomness comes from a
 * seeded generator so that every run of a test sees the same network.
 */

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LinkConditions {
  /** One-way delay, ms. */
  delay: number;
  loss?: number;
  duplicate?: number;
  /** Fraction of datagrams delayed by an extra `reorderDelay` ms (so later ones overtake them). */
  reorder?: number;
  reorderDelay?: number;
  /** Fraction of datagrams with one bit flipped. */
  corrupt?: number;
  /** [from, to) times (ms) during which every datagram is lost. */
  blackholes?: [number, number][];
  /** Datagrams larger than this are dropped (a path MTU, for DPLPMTUD). */
  mtu?: number;
  /** Only these directions suffer loss, corruption and black holes ('both' by default). */
  lossyDirection?: 'both' | 'to-server' | 'to-client';
  /**
   * Least ms between two arrivals in one direction (a bottleneck's serialization time): datagrams
   * sent together arrive one by one, so a receiver handles them one at a time. Default 0.
   */
  interval?: number;
}

export interface InFlight<A> {
  at: number;
  seq: number;
  data: Buffer;
  from: A;
  to: A;
}

export class SimulatedLink<A> {
  private queue: InFlight<A>[] = [];
  private seq = 0;
  /** Last arrival time per direction, for `interval`. */
  private lastArrival = { toServer: -Infinity, toClient: -Infinity };
  readonly rng: () => number;
  stats = { sent: 0, lost: 0, duplicated: 0, corrupted: 0, reordered: 0 };

  constructor(public conditions: LinkConditions, seed = 1, private readonly isToServer: (to: A) => boolean = () => true) {
    this.rng = seededRng(seed);
  }

  send(data: Buffer, from: A, to: A, now: number): void {
    this.stats.sent++;
    const c = this.conditions;
    const toServer = this.isToServer(to);
    const lossy = c.lossyDirection === undefined || c.lossyDirection === 'both' || (c.lossyDirection === 'to-server') === toServer;
    if (lossy && (c.blackholes ?? []).some(([start, end]) => now >= start && now < end)) {
      this.stats.lost++;
      return;
    }
    if ((c.mtu !== undefined && data.length > c.mtu) || (lossy && c.loss !== undefined && this.rng() < c.loss)) {
      this.stats.lost++;
      return;
    }
    const copies = c.duplicate !== undefined && this.rng() < c.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let payload = data;
      if (lossy && c.corrupt !== undefined && this.rng() < c.corrupt) {
        payload = Buffer.from(data);
        const bit = Math.floor(this.rng() * payload.length * 8);
        payload[bit >> 3]! ^= 1 << (bit & 7);
        this.stats.corrupted++;
      }
      let at = now + c.delay;
      if (c.interval !== undefined && c.interval > 0) {
        const key = toServer ? 'toServer' : 'toClient';
        at = Math.max(at, this.lastArrival[key] + c.interval);
        this.lastArrival[key] = at;
      }
      if (c.reorder !== undefined && this.rng() < c.reorder) {
        at += c.reorderDelay ?? c.delay;
        this.stats.reordered++;
      }
      this.insert({ at, seq: this.seq++, data: payload, from, to });
    }
  }

  private insert(item: InFlight<A>): void {
    // Sorted by arrival time, then by send order.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.at > item.at) i--;
    this.queue.splice(i, 0, item);
  }

  nextArrival(): number | undefined {
    return this.queue[0]?.at;
  }

  /** Datagrams arriving at or before `now`, in order. */
  deliver(now: number): InFlight<A>[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.at <= now) n++;
    return this.queue.splice(0, n);
  }
}
