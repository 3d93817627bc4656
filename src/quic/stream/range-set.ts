/**
 * A set of byte offsets kept as sorted, disjoint, non-adjacent half-open ranges [start, end).
 * The send side uses it for acknowledged and lost stream data (RFC 9000 §3.1, §13.3): a range is
 * one array entry however many bytes it covers, and the count of entries is bounded by the number
 * of frames in flight.
 */

export interface ByteRange {
  start: number;
  end: number;
}

export class RangeSet {
  private readonly ranges: ByteRange[] = [];

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Number of disjoint ranges. */
  get count(): number {
    return this.ranges.length;
  }

  /** The lowest range, or undefined when empty. */
  first(): ByteRange | undefined {
    return this.ranges[0];
  }

  /** All ranges, lowest first (a copy, so callers may modify the set while iterating). */
  toArray(): ByteRange[] {
    return this.ranges.map((r) => ({ start: r.start, end: r.end }));
  }

  /** Total bytes covered. */
  get size(): number {
    let total = 0;
    for (const r of this.ranges) total += r.end - r.start;
    return total;
  }

  /** Index of the first range whose end is at or after `offset` (so it touches or follows offset). */
  private firstEndingAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid]!.end < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds [start, end), merging with ranges it overlaps or touches. Returns how many offsets were
   * not in the set before (the bytes an acknowledgment covers for the first time).
   */
  add(start: number, end: number): number {
    if (end <= start) return 0;
    // In-order arrivals and acknowledgments add at the tail: no search, no splice.
    const ranges = this.ranges;
    const last = ranges[ranges.length - 1];
    if (last === undefined || start > last.end) {
      ranges.push({ start, end });
      return end - start;
    }
    if (start >= last.start) {
      if (end <= last.end) return 0;
      ranges[ranges.length - 1] = { start: last.start, end };
      return end - last.end;
    }
    const i = this.firstEndingAtOrAfter(start);
    let j = i;
    let newStart = start;
    let newEnd = end;
    // The merged ranges lie inside [newStart, newEnd): what they covered is not new.
    let covered = 0;
    while (j < ranges.length && ranges[j]!.start <= end) {
      const r = ranges[j]!;
      newStart = Math.min(newStart, r.start);
      newEnd = Math.max(newEnd, r.end);
      covered += r.end - r.start;
      j++;
    }
    ranges.splice(i, j - i, { start: newStart, end: newEnd });
    return newEnd - newStart - covered;
  }

  /** Removes [start, end), splitting a range that straddles it. */
  remove(start: number, end: number): void {
    if (end <= start || this.ranges.length === 0) return;
    let i = this.firstEndingAtOrAfter(start);
    if (i < this.ranges.length && this.ranges[i]!.end === start) i++;
    const replacement: ByteRange[] = [];
    let j = i;
    while (j < this.ranges.length && this.ranges[j]!.start < end) {
      const r = this.ranges[j]!;
      if (r.start < start) replacement.push({ start: r.start, end: start });
      if (r.end > end) replacement.push({ start: end, end: r.end });
      j++;
    }
    this.ranges.splice(i, j - i, ...replacement);
  }

  /** Whether every offset of [start, end) is in the set. */
  containsRange(start: number, end: number): boolean {
    if (end <= start) return true;
    const r = this.ranges[this.firstEndingAtOrAfter(start + 1)];
    return r !== undefined && r.start <= start && r.end >= end;
  }

  /** The parts of [start, end) not in the set, lowest first. */
  gaps(start: number, end: number): ByteRange[] {
    const out: ByteRange[] = [];
    let cursor = start;
    for (let i = this.firstEndingAtOrAfter(start); i < this.ranges.length && cursor < end; i++) {
      const r = this.ranges[i]!;
      if (r.start >= end) break;
      if (r.start > cursor) out.push({ start: cursor, end: r.start });
      cursor = Math.max(cursor, r.end);
    }
    if (cursor < end) out.push({ start: cursor, end });
    return out;
  }

  /** Removes the lowest range. */
  removeFirst(): void {
    this.ranges.shift();
  }

  clear(): void {
    this.ranges.length = 0;
  }
}
