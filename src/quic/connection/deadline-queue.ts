/**
 * The quiet connections of a router and the deadline each had when it went quiet, ordered by
 * deadline: a binary min-heap, so that finding the earliest deadline and taking the due ones cost
 * O(log n) per connection, not a pass over every quiet connection.
 *
 * A server holds up to its connection limit of quiet connections (10,000 by default), each with an
 * idle timeout (RFC 9000 §10.1) and, once closing, three PTOs of closing period (§10.2). With a
 * scan, every deadline that came due, and every wake of the connection that held the earliest one,
 * cost a pass over all of them: some 0.05 µs per connection each time, ~0.5 ms per timer at 10,000.
 *
 * Items leave the queue lazily: delete() forgets the item's entry, and the heap drops entries it no
 * longer knows when they reach its top. A queue whose items wake and sleep again faster than their
 * deadlines come would otherwise grow, so the heap is rebuilt from the live entries once it holds
 * more than twice as many as they are. Until one of those, a stale entry keeps its item reachable:
 * a router's are connections it has let go of (Connection.release(), a few KB each), so the heap
 * holds at most about twice the live ones of those.
 */

interface Entry<T> {
  readonly item: T;
  readonly deadline: number;
}

export class DeadlineQueue<T> {
  /** Every item in the queue and its live entry; undefined for an item without a deadline. */
  private readonly entries = new Map<T, Entry<T> | undefined>();
  /** Entries by deadline (heap[0] the earliest), live and stale. */
  private heap: Entry<T>[] = [];

  get size(): number {
    return this.entries.size;
  }

  has(item: T): boolean {
    return this.entries.has(item);
  }

  /** Puts `item` in the queue with `deadline` (none: it waits to be deleted), replacing what it had. */
  set(item: T, deadline: number | undefined): void {
    if (deadline === undefined) {
      this.entries.set(item, undefined);
      return;
    }
    const entry = { item, deadline };
    this.entries.set(item, entry);
    this.push(entry);
    if (this.heap.length > 2 * this.entries.size + 32) this.rebuild();
  }

  /** Takes `item` out of the queue; false when it was not in it. */
  delete(item: T): boolean {
    return this.entries.delete(item);
  }

  /** The earliest deadline of the items in the queue, if any has one. */
  earliest(): number | undefined {
    return this.top()?.deadline;
  }

  /** Takes out the items whose deadline is at or before `now` and hands each to `take`, earliest first. */
  takeDue(now: number, take: (item: T) => void): void {
    for (let entry = this.top(); entry !== undefined && entry.deadline <= now; entry = this.top()) {
      this.pop();
      this.entries.delete(entry.item);
      take(entry.item);
    }
  }

  /** The earliest live entry, after dropping the stale ones above it. */
  private top(): Entry<T> | undefined {
    const heap = this.heap;
    while (heap.length > 0 && this.entries.get(heap[0]!.item) !== heap[0]) this.pop();
    return heap[0];
  }

  private push(entry: Entry<T>): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    // Sift up: the parent of i is (i - 1) >> 1.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.deadline <= entry.deadline) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length > 0) this.siftDown(last, 0);
  }

  /** Puts `entry` at `i` and moves it down below its children while one is earlier. */
  private siftDown(entry: Entry<T>, i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]!.deadline < heap[child]!.deadline) child++;
      if (heap[child]!.deadline >= entry.deadline) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }

  /** The heap of the live entries only, built bottom-up in O(n). */
  private rebuild(): void {
    const live: Entry<T>[] = [];
    for (const entry of this.entries.values()) if (entry !== undefined) live.push(entry);
    this.heap = live;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(live[i]!, i);
  }
}
