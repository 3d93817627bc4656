/**
 * A growable output buffer for QPACK's encoders: instructions and field lines are written
 * byte by byte and string by string, then taken out as one Buffer without a final copy.
 */
export class ByteWriter {
  private buf: Buffer;
  length = 0;

  constructor(initialSize = 256) {
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
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafe(Math.max(64, this.buf.length - this.length));
    this.length = 0;
    return out;
  }
}
