/**
 * Reader and writer for TLS's presentation language (RFC 8446 §3): big-endian integers and
 * vectors with a 1-, 2- or 3-byte length prefix. Every read is bounds-checked and throws
 * DecodeError, so a codec built on these never reads past its input or allocates from a
 * length it has not checked against the bytes actually present.
 */
import { DecodeError } from '../../core/errors.js';

export class TlsReader {
  private offset = 0;
  private readonly buf: Buffer;

  constructor(bytes: Uint8Array, private readonly what = 'structure') {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): void {
    if (n > this.remaining) throw new DecodeError(`${this.what}: truncated (need ${n} bytes, have ${this.remaining})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.offset, 3);
    this.offset += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** The next n bytes, as a view (no copy). */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** opaque v<min..max> with a `lengthBytes`-byte length prefix (RFC 8446 §3.4). */
  vector(lengthBytes: 1 | 2 | 3, min = 0, max = 2 ** (8 * lengthBytes) - 1): Buffer {
    const n = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    if (n < min || n > max) throw new DecodeError(`${this.what}: vector length ${n} outside ${min}..${max}`);
    return this.bytes(n);
  }

  /** A sub-reader over a length-prefixed vector, for vectors of structures. */
  sub(lengthBytes: 1 | 2 | 3, min = 0, max?: number, what = this.what): TlsReader {
    return new TlsReader(this.vector(lengthBytes, min, max), what);
  }

  /** A list of u16 values in a vector whose byte length is even (e.g. cipher_suites). */
  u16List(lengthBytes: 1 | 2, min = 0, max?: number): number[] {
    const v = this.vector(lengthBytes, min, max);
    if (v.length % 2 !== 0) throw new DecodeError(`${this.what}: odd length for a list of uint16`);
    const out: number[] = new Array(v.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = v.readUInt16BE(2 * i);
    return out;
  }

  /** The structure must end exactly here: trailing bytes are a decode_error (RFC 8446 §6.2). */
  end(): void {
    if (this.remaining !== 0) throw new DecodeError(`${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}

/**
 * Builds a structure in one growing buffer. A vector given as a function is written in place and
 * its length prefix filled in when it closes, so nesting costs no intermediate buffers.
 */
export class TlsWriter {
  private buf: Buffer;
  private size = 0;

  constructor(initialCapacity = 128) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  /** Makes room for `n` more bytes (doubling, so a message is copied O(1) times on average). */
  private reserve(n: number): void {
    const needed = this.size + n;
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.buf.length));
    this.buf.copy(grown, 0, 0, this.size);
    this.buf = grown;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.size++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.buf.writeUInt16BE(v & 0xffff, this.size);
    this.size += 2;
    return this;
  }

  u24(v: number): this {
    this.reserve(3);
    this.buf.writeUIntBE(v, this.size, 3);
    this.size += 3;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.buf.writeUInt32BE(v >>> 0, this.size);
    this.size += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.size);
    this.size += b.length;
    return this;
  }

  /** opaque v<..> with a length prefix; throws RangeError if the content does not fit. */
  vector(lengthBytes: 1 | 2 | 3, content: Uint8Array | ((w: TlsWriter) => void)): this {
    if (typeof content !== 'function') {
      this.writeLength(lengthBytes, content.length);
      return this.bytes(content);
    }
    this.reserve(lengthBytes);
    const lengthAt = this.size;
    this.size += lengthBytes;
    content(this);
    const length = this.size - lengthAt - lengthBytes;
    if (length >= 2 ** (8 * lengthBytes)) throw new RangeError(`vector of ${length} bytes does not fit a ${lengthBytes}-byte length`);
    this.buf.writeUIntBE(length, lengthAt, lengthBytes);
    return this;
  }

  u16List(lengthBytes: 1 | 2, values: readonly number[]): this {
    this.writeLength(lengthBytes, values.length * 2);
    this.reserve(values.length * 2);
    for (const v of values) {
      this.buf.writeUInt16BE(v, this.size);
      this.size += 2;
    }
    return this;
  }

  /** The bytes written so far (a view: the writer is not to be used after this). */
  finish(): Buffer {
    return this.buf.subarray(0, this.size);
  }

  private writeLength(lengthBytes: 1 | 2 | 3, length: number): void {
    if (length >= 2 ** (8 * lengthBytes)) throw new RangeError(`vector of ${length} bytes does not fit a ${lengthBytes}-byte length`);
    this.reserve(lengthBytes);
    this.buf.writeUIntBE(length, this.size, lengthBytes);
    this.size += lengthBytes;
  }
}
