/**
 * The set of received packet numbers of one packet number space, kept as disjoint inclusive
 * ranges, highest first — the shape an ACK frame reports (RFC 9000 §19.3.1). The number of ranges
 * is bounded (RFC 9000 §13.2.3: a receiver limits the ACK ranges it remembers); ranges dropped for
 * that reason, or forgotten after an ACK of an ACK (RFC 9000 §13.2.4), raise a floor below which
 * every packet number counts as already received (RFC 9000 §12.3).
 */
import type { PacketRange } from './ack-frame.js';

export class ReceivedRanges {
  /** Disjoint, non-adjacent [start, end] ranges in descending order. */
  private ranges: [number, number][] = [];
  /** Every packet number below this is treated as seen (RFC 9000 §12.3 duplicate floor). */
  private floor = 0;

  constructor(readonly maxRanges = 64) {
    if (!(maxRanges >= 1)) throw new RangeError('maxRanges must be at least 1');
  }

  get largest(): number | undefined {
    return this.ranges[0]?.[1];
  }

  get rangeCount(): number {
    return this.ranges.length;
  }

  /** Lowest packet number that is not considered a duplicate by the floor rule. */
  get duplicateFloor(): number {
    return this.floor;
  }

  /** Ranges, highest first. The returned array is a snapshot. */
  toArray(): PacketRange[] {
    return this.ranges.map(([s, e]) => [s, e] as const);
  }

  has(pn: number): boolean {
    if (pn < this.floor) return true;
    const i = this.indexOfRangeAtOrBelow(pn);
    return i < this.ranges.length && this.ranges[i]![1] >= pn;
  }

  /** Start of the range holding `pn`, or undefined when `pn` is not in a range. */
  rangeStartOf(pn: number): number | undefined {
    const range = this.ranges[this.indexOfRangeAtOrBelow(pn)];
    return range !== undefined && range[1] >= pn ? range[0] : undefined;
  }

  /** Records `pn`; returns false when it was already recorded (or is below the floor). */
  add(pn: number): boolean {
    if (pn < this.floor) return false;
    const ranges = this.ranges;
    const first = ranges[0];
    // Fast path: in-order arrival extends the newest range.
    if (first !== undefined && pn === first[1] + 1) {
      first[1] = pn;
      return true;
    }
    const i = this.indexOfRangeAtOrBelow(pn);
    const below = ranges[i]; // highest range with start <= pn
    if (below !== undefined && below[1] >= pn) return false;
    const above = i > 0 ? ranges[i - 1] : undefined; // lowest range with start > pn
    const joinsBelow = below !== undefined && below[1] + 1 === pn;
    const joinsAbove = above !== undefined && above[0] - 1 === pn;
    if (joinsBelow && joinsAbove) {
      above[0] = below[0];
      ranges.splice(i, 1);
    } else if (joinsBelow) {
      below[1] = pn;
    } else if (joinsAbove) {
      above[0] = pn;
    } else {
      ranges.splice(i, 0, [pn, pn]);
      this.enforceLimit();
    }
    return true;
  }

  /**
   * RFC 9000 §13.2.4: once an ACK frame we sent is acknowledged, packet numbers up to its Largest
   * Acknowledged need not be reported again. They stay "seen" through the floor.
   */
  forgetUpTo(largestAcked: number): void {
    if (largestAcked < this.floor) return;
    this.floor = largestAcked + 1;
    const ranges = this.ranges;
    while (ranges.length > 0 && ranges[ranges.length - 1]![1] <= largestAcked) ranges.pop();
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[0] <= largestAcked) last[0] = largestAcked + 1;
  }

  /** Drops the oldest ranges beyond the limit; their packet numbers stay "seen" via the floor. */
  private enforceLimit(): void {
    while (this.ranges.length > this.maxRanges) {
      const dropped = this.ranges.pop()!;
      this.floor = Math.max(this.floor, dropped[1] + 1);
    }
  }

  /** Index of the highest range whose start is <= pn, or ranges.length if none (binary search). */
  private indexOfRangeAtOrBelow(pn: number): number {
    const ranges = this.ranges;
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ranges[mid]![0] <= pn) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
