/**
 * A growable output buffer for QPACK's encoders: instructions and field lines are written
 * byte by byte and string by string, then taken out as one Buffer without a final copy.
 *
 * Allocation matters here: the encoder and decoder streams are polled after every field section,
 * so taking out nothing allocates nothing, and after a take the unused rest of the buffer is kept
 * for the next bytes (the taken view and the rest never overlap).
 */
const EMPTY = Buffer.alloc(0);
/** Below this much room left after a take, a fresh buffer is cheaper than many small ones. */
const MIN_ROOM = 64;

export class ByteWriter {
  private buf: Buffer;
  length = 0;

  constructor(private readonly initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Makes room for `n` more bytes and returns the buffer to write them into at `length`. */
  reserve(n: number): Buffer {
    if (this.length + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    return this.buf;
  }

  byte(b: number): void {
    this.reserve(1)[this.length++] = b;
  }

  /** Everything written so far; the writer starts over empty. */
  take(): Buffer {
    if (this.length === 0) return EMPTY;
    const out = this.buf.subarray(0, this.length);
    const rest = this.buf.length - this.length;
    this.buf = rest >= MIN_ROOM ? this.buf.subarray(this.length) : Buffer.allocUnsafe(Math.max(MIN_ROOM, this.initialSize));
    this.length = 0;
    return out;
  }

  /** What was written so far, as a view valid until the next write or reset (for scratch use). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Copies what was written so far into `target` at `offset`; returns the offset after it. */
  copyTo(target: Uint8Array, offset: number): number {
    return offset + this.buf.copy(target, offset, 0, this.length);
  }

  /** Forgets what was written and keeps the buffer: a scratch writer whose bytes were copied out. */
  reset(): void {
    this.length = 0;
  }
}
