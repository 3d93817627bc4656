/**
 * A table from QUIC stream ID (RFC 9000 §2.1) to the state of that stream, for state that comes
 * and goes with every request: the streams of a QUIC connection (quic/stream/stream-manager.ts),
 * the HTTP/3 exchanges of a connection, the QPACK sections awaiting acknowledgment per stream.
 *
 * Why not a Map: V8 moves a Map's entries into a new hash table as entries come and go, and once
 * the Map has lived long enough for its table to be in the old generation, the new tables are
 * allocated there too. Each table it leaves behind is garbage that still points at the entries
 * it held, and until a full collection the young-generation collector takes those pointers as
 * live: the per-request objects they reach survive and are promoted, whole object graphs at a
 * time. A long-lived Map with ten entries coming and going made every young collection copy and
 * promote about a fifth of everything allocated, at 20-40 ms a collection instead of 0.2 ms.
 *
 * Here the entries sit in two arrays, open addressing with linear probing, and a deleted entry
 * is cleared in place (backward-shift deletion, no tombstones): no reference outlives its entry.
 * The arrays are replaced only when the table grows (at most half full), never on deletes.
 * Stream IDs of one kind step by 4, so `id / 4` spreads consecutive streams over consecutive
 * slots.
 */
const EMPTY = -1;
const INITIAL_CAPACITY = 16;

export class StreamTable<T> {
  private ids: number[];
  private entries: (T | undefined)[];
  private mask: number;
  private count = 0;

  constructor() {
    this.ids = new Array<number>(INITIAL_CAPACITY).fill(EMPTY);
    this.entries = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
    this.mask = INITIAL_CAPACITY - 1;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const ids = this.ids;
    for (let slot = this.home(id); ; slot = (slot + 1) & this.mask) {
      const at = ids[slot]!;
      if (at === id) return this.entries[slot];
      if (at === EMPTY) return undefined;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds or replaces the entry of stream `id` (a non-negative integer). */
  set(id: number, value: T): void {
    if (!(id >= 0) || !Number.isInteger(id)) throw new RangeError(`stream ID ${id} is not a non-negative integer`);
    const ids = this.ids;
    let slot = this.home(id);
    for (; ids[slot] !== EMPTY; slot = (slot + 1) & this.mask) {
      if (ids[slot] === id) {
        this.entries[slot] = value;
        return;
      }
    }
    if (2 * (this.count + 1) > ids.length) {
      this.grow();
      this.set(id, value);
      return;
    }
    ids[slot] = id;
    this.entries[slot] = value;
    this.count++;
  }

  /** Removes the entry of stream `id`; returns whether there was one. */
  delete(id: number): boolean {
    const ids = this.ids;
    const entries = this.entries;
    const mask = this.mask;
    let slot = this.home(id);
    for (; ids[slot] !== id; slot = (slot + 1) & mask) {
      if (ids[slot] === EMPTY) return false;
    }
    // Backward-shift deletion: later entries of the same probe run move up into the hole, so
    // that every entry stays reachable from its home slot without tombstones.
    let hole = slot;
    for (let next = (hole + 1) & mask; ids[next] !== EMPTY; next = (next + 1) & mask) {
      const home = this.home(ids[next]!);
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const homeAfterHole = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (homeAfterHole) continue;
      ids[hole] = ids[next]!;
      entries[hole] = entries[next];
      hole = next;
    }
    ids[hole] = EMPTY;
    entries[hole] = undefined;
    this.count--;
    return true;
  }

  /** The entries now, in no particular order (a copy: the caller may delete while it walks them). */
  values(): T[] {
    const out: T[] = [];
    const ids = this.ids;
    for (let slot = 0; slot < ids.length; slot++) if (ids[slot] !== EMPTY) out.push(this.entries[slot]!);
    return out;
  }

  clear(): void {
    this.ids.fill(EMPTY);
    this.entries.fill(undefined);
    this.count = 0;
  }

  private home(id: number): number {
    // Not `>>> 2`: stream IDs go up to 2^62 (RFC 9000 §2.1).
    return Math.floor(id / 4) % (this.mask + 1);
  }

  private grow(): void {
    const ids = this.ids;
    const entries = this.entries;
    const capacity = ids.length * 2;
    this.ids = new Array<number>(capacity).fill(EMPTY);
    this.entries = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < ids.length; slot++) if (ids[slot] !== EMPTY) this.set(ids[slot]!, entries[slot]!);
  }
}
