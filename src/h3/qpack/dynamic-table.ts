/**
 * The QPACK dynamic table (RFC 9204 §3.2): a FIFO of field lines shared by encoder and decoder,
 * bounded by a capacity in bytes (entry size = name + value + 32, §3.2.1), with entries addressed
 * by absolute index (§3.2.4), relative index (§3.2.5) and post-base index (§3.2.6).
 *
 *      <-- newer entries               older entries -->
 *      +-----------+-----------------------+-----------+
 *      | insertCount-1  ...   absolute indices  ...  droppedCount |
 *      +-----------+-----------------------+-----------+
 *      ^ insertion point                  dropping point ^
 *
 * The table itself only stores and evicts. Whether an entry may be evicted (§2.1.1: acknowledged
 * and not referenced by an unacknowledged field section) is the encoder's knowledge: it asks
 * `evictionsNeededFor` first and passes a predicate when it inserts.
 */

/** Per-entry overhead in the size rule (RFC 9204 §3.2.1). */
export const ENTRY_OVERHEAD = 32;

export interface TableEntry {
  readonly name: string;
  readonly value: string;
  /** name + value bytes + 32; names and values are latin1, so bytes = chars (RFC 9204 §3.2.1). */
  readonly size: number;
}

export function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

export class DynamicTable {
  /** Current capacity, set by the encoder (RFC 9204 §3.2.2); starts at 0. */
  capacity = 0;
  /** Sum of entry sizes (RFC 9204 §3.2.1). */
  size = 0;
  /** Entries ever inserted: the absolute index the next insert gets (RFC 9204 §3.2.4). */
  insertCount = 0;
  /** Entries evicted so far: the absolute index of the oldest entry still present. */
  droppedCount = 0;

  /** Live entries, oldest first, from `head`: entries[head + (abs - droppedCount)]. */
  private entries: TableEntry[] = [];
  private head = 0;
  /** Newest absolute index per name then value, and per name, for the encoder's lookups. */
  private readonly byNameValue = new Map<string, Map<string, number>>();
  private readonly byName = new Map<string, number>();

  get length(): number {
    return this.insertCount - this.droppedCount;
  }

  /** The entry at an absolute index, or undefined if it was evicted or not inserted yet. */
  get(absolute: number): TableEntry | undefined {
    if (absolute < this.droppedCount || absolute >= this.insertCount) return undefined;
    return this.entries[this.head + absolute - this.droppedCount];
  }

  /** Absolute index of the newest entry with this exact name and value, or -1. */
  findExact(name: string, value: string): number {
    return this.byNameValue.get(name)?.get(value) ?? -1;
  }

  /** Absolute index of the newest entry with this name, or -1. */
  findName(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  /**
   * How many of the oldest entries must go so that `bytes` more fit within `capacity`, or -1 if
   * that can never be (larger than the capacity). RFC 9204 §3.2.2.
   */
  evictionsNeededFor(bytes: number, capacity = this.capacity): number {
    if (bytes > capacity) return -1;
    let size = this.size;
    let count = 0;
    while (size + bytes > capacity) {
      size -= this.get(this.droppedCount + count)!.size;
      count++;
    }
    return count;
  }

  /**
   * Changes the capacity, evicting the oldest entries until the table fits (RFC 9204 §3.2.2).
   * Returns false, changing nothing, if an entry that must go is not evictable.
   */
  setCapacity(capacity: number, canEvict: (absolute: number) => boolean = () => true): boolean {
    const evictions = this.evictionsNeededFor(0, capacity);
    if (!this.evictable(evictions, canEvict)) return false;
    this.evict(evictions);
    this.capacity = capacity;
    return true;
  }

  /**
   * Adds an entry, first evicting the oldest entries until it fits (RFC 9204 §3.2.2). Returns its
   * absolute index, or -1 (table unchanged) if it is larger than the capacity or an entry that
   * would have to go is not evictable.
   */
  insert(name: string, value: string, canEvict: (absolute: number) => boolean = () => true): number {
    const size = entrySize(name, value);
    const evictions = this.evictionsNeededFor(size);
    if (evictions < 0 || !this.evictable(evictions, canEvict)) return -1;
    this.evict(evictions);
    const absolute = this.insertCount++;
    this.entries.push({ name, value, size });
    this.size += size;
    let values = this.byNameValue.get(name);
    if (!values) this.byNameValue.set(name, (values = new Map()));
    values.set(value, absolute);
    this.byName.set(name, absolute);
    return absolute;
  }

  private evictable(count: number, canEvict: (absolute: number) => boolean): boolean {
    for (let i = 0; i < count; i++) if (!canEvict(this.droppedCount + i)) return false;
    return true;
  }

  private evict(count: number): void {
    for (let i = 0; i < count; i++) {
      const absolute = this.droppedCount;
      const entry = this.entries[this.head]!;
      const values = this.byNameValue.get(entry.name);
      if (values?.get(entry.value) === absolute) {
        values.delete(entry.value);
        if (values.size === 0) this.byNameValue.delete(entry.name);
      }
      if (this.byName.get(entry.name) === absolute) this.byName.delete(entry.name);
      this.size -= entry.size;
      this.head++;
      this.droppedCount++;
    }
    // Drop the evicted prefix now and then, so the array does not grow without bound.
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
