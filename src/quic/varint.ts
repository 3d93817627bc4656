/**
 * QUIC variable-length integers (RFC 9000 §16) and the byte cursor every QUIC codec reads and
 * writes with.
 *
 * A varint's two high bits give its length (1, 2, 4 or 8 bytes) and the rest hold the value, so it
 * carries 0 … 2^62-1. Values are JS numbers here — the choice, and what it costs:
 *
 * - Decoding is exact up to Number.MAX_SAFE_INTEGER (2^53-1). A larger 8-byte value is returned
 *   rounded UP to the next representable double. Rounding up keeps every comparison against a
 *   representable bound exact (x > 2^60 for MAX_STREAMS, x > 2^62-1 … ) and never understates what
 *   a peer sent (a credit of 2^62-1 stays "more than anyone will use"). Such values only appear as
 *   effectively-unlimited credits, grease identifiers or opaque error codes; nothing in QUIC needs
 *   their low bits. `readVarintBigInt` gives the exact value where it is wanted.
 * - Encoding takes numbers up to 2^53-1 and throws RangeError above (a bug in the caller, never
 *   peer input); `writeVarintBigInt` covers the full range.
 */
import { DecodeError } from '../core/errors.js';

/** Largest value a varint holds, 2^62-1 (RFC 9000 §16). */
export const MAX_VARINT = (1n << 62n) - 1n;
const TWO_POW_32 = 2 ** 32;
/** Upper 30 bits below which an 8-byte value is still a safe integer (hi < 2^21). */
const SAFE_HIGH_LIMIT = 2 ** 21;

/** Bytes needed for `value`: 1, 2, 4 or 8 (RFC 9000 §16, Table 4). */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value >>> 0 === value) return value < 0x40 ? 1 : value < 0x4000 ? 2 : value < 0x40000000 ? 4 : 8;
  if (Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER) return 8;
  throw new RangeError(`varint value out of range: ${value}`);
}

/** Length of the varint whose first byte is `firstByte` (its two high bits, RFC 9000 §16). */
export function varintLengthOf(firstByte: number): 1 | 2 | 4 | 8 {
  return (1 << (firstByte >> 6)) as 1 | 2 | 4 | 8;
}

/**
 * Writes `value` at `offset` in the shortest encoding, or in exactly `length` bytes when given
 * (a Length field reserved before the payload is known, RFC 9000 §17.2). Returns the new offset.
 * The caller guarantees room; Writer does the bounds checking.
 */
export function writeVarint(buf: Uint8Array, offset: number, value: number, length?: 1 | 2 | 4 | 8): number {
  const minimal = varintLength(value);
  const n = length ?? minimal;
  if (n < minimal) throw new RangeError(`varint ${value} does not fit in ${n} bytes`);
  switch (n) {
    case 1:
      buf[offset] = value;
      return offset + 1;
    case 2:
      buf[offset] = 0x40 | (value >>> 8);
      buf[offset + 1] = value & 0xff;
      return offset + 2;
    case 4:
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      return offset + 4;
    default: {
      const hi = Math.floor(value / TWO_POW_32);
      const lo = value >>> 0;
      buf[offset] = 0xc0 | (hi >>> 24);
      buf[offset + 1] = (hi >>> 16) & 0xff;
      buf[offset + 2] = (hi >>> 8) & 0xff;
      buf[offset + 3] = hi & 0xff;
      buf[offset + 4] = lo >>> 24;
      buf[offset + 5] = (lo >>> 16) & 0xff;
      buf[offset + 6] = (lo >>> 8) & 0xff;
      buf[offset + 7] = lo & 0xff;
      return offset + 8;
    }
  }
}

/** Writes any value 0 … 2^62-1 exactly, in the shortest encoding. Returns the new offset. */
export function writeVarintBigInt(buf: Uint8Array, offset: number, value: bigint): number {
  if (value < 0n || value > MAX_VARINT) throw new RangeError(`varint value out of range: ${value}`);
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return writeVarint(buf, offset, Number(value));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setBigUint64(offset, value | (3n << 62n));
  return offset + 8;
}

/** A fresh buffer holding `value` as a varint. */
export function encodeVarint(value: number): Buffer {
  const out = Buffer.allocUnsafe(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Reads the varint at `offset` of `buf` as a number (see the file comment for values above
 * 2^53-1). Throws DecodeError when the buffer ends inside it. Use `Reader` in loops: this
 * allocates the result object.
 */
export function readVarint(buf: Uint8Array, offset = 0, end = buf.length): { value: number; length: number } {
  const r = new Reader(buf, offset, end);
  const value = r.varint();
  return { value, length: r.offset - offset };
}

/** Reads the varint at `offset` exactly, as a bigint. */
export function readVarintBigInt(buf: Uint8Array, offset = 0, end = buf.length): { value: bigint; length: number } {
  if (offset >= end) throw new DecodeError('truncated varint');
  const length = varintLengthOf(buf[offset]!);
  if (offset + length > end) throw new DecodeError('truncated varint');
  let value = BigInt(buf[offset]! & 0x3f);
  for (let i = 1; i < length; i++) value = (value << 8n) | BigInt(buf[offset + i]!);
  return { value, length };
}

/** The smallest double ≥ the exact 62-bit value hi·2^32 + lo (only called above 2^53). */
function ceilToDouble(hi: number, lo: number): number {
  const exact = (BigInt(hi) << 32n) | BigInt(lo);
  let d = Number(exact); // round-to-nearest
  if (BigInt(d) < exact) d += 2 ** (Math.floor(Math.log2(d)) - 52); // one ulp up
  return d;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A cursor over received bytes. Every read checks the end and throws DecodeError on truncation;
 * `bytes()` returns views into the input, never copies.
 */
export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(data: Uint8Array, offset = 0, end = data.length) {
    this.buf = asBuffer(data);
    if (offset < 0 || end > this.buf.length || offset > end) throw new RangeError('Reader bounds outside the buffer');
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): void {
    if (this.end - this.offset < n) {
      throw new DecodeError(`truncated: need ${n} bytes at offset ${this.offset}, have ${this.end - this.offset}`);
    }
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

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A varint (RFC 9000 §16) as a number; see the file comment for values above 2^53-1. */
  varint(): number {
    this.need(1);
    const buf = this.buf;
    const at = this.offset;
    const first = buf[at]!;
    switch (first >> 6) {
      case 0:
        this.offset = at + 1;
        return first;
      case 1:
        this.need(2);
        this.offset = at + 2;
        return ((first & 0x3f) << 8) | buf[at + 1]!;
      case 2:
        this.need(4);
        this.offset = at + 4;
        return buf.readUInt32BE(at) & 0x3fffffff;
      default: {
        this.need(8);
        this.offset = at + 8;
        const hi = buf.readUInt32BE(at) & 0x3fffffff;
        const lo = buf.readUInt32BE(at + 4);
        return hi < SAFE_HIGH_LIMIT ? hi * TWO_POW_32 + lo : ceilToDouble(hi, lo);
      }
    }
  }

  /** Encoded length of the varint at the cursor, without consuming it (for minimal-encoding checks). */
  peekVarintLength(): 1 | 2 | 4 | 8 {
    this.need(1);
    return varintLengthOf(this.buf[this.offset]!);
  }

  /** The next `n` bytes as a view into the input. */
  bytes(n: number): Buffer {
    this.need(n);
    const start = this.offset;
    this.offset = start + n;
    return this.buf.subarray(start, start + n);
  }

  /** Everything up to the end, as a view. */
  rest(): Buffer {
    const start = this.offset;
    this.offset = this.end;
    return this.buf.subarray(start, this.end);
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }
}

/**
 * A cursor for building wire bytes: over a caller's fixed buffer (a datagram being filled, where
 * overflow is a bug → RangeError) or over an internal buffer that doubles as needed.
 */
export class Writer {
  buf: Buffer;
  offset: number;
  private readonly growable: boolean;

  /** `new Writer(buffer)` writes into that buffer; `new Writer()` or `new Writer(n)` grows. */
  constructor(target: Uint8Array | number = 256, offset = 0) {
    if (typeof target === 'number') {
      this.buf = Buffer.allocUnsafe(Math.max(16, target));
      this.growable = true;
    } else {
      this.buf = asBuffer(target);
      this.growable = false;
    }
    this.offset = offset;
  }

  /** Bytes left in a fixed buffer (Infinity for a growing one). */
  get remaining(): number {
    return this.growable ? Infinity : this.buf.length - this.offset;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const needed = this.offset + n;
    if (needed <= this.buf.length) return;
    if (!this.growable) throw new RangeError(`Writer overflow: need ${n} bytes, ${this.buf.length - this.offset} left`);
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  u8(value: number): this {
    this.ensure(1);
    this.buf[this.offset++] = value;
    return this;
  }

  u16(value: number): this {
    this.ensure(2);
    this.offset = this.buf.writeUInt16BE(value, this.offset);
    return this;
  }

  u32(value: number): this {
    this.ensure(4);
    this.offset = this.buf.writeUInt32BE(value, this.offset);
    return this;
  }

  /** A varint in the shortest form, or exactly `length` bytes. */
  varint(value: number, length?: 1 | 2 | 4 | 8): this {
    this.ensure(length ?? varintLength(value));
    this.offset = writeVarint(this.buf, this.offset, value, length);
    return this;
  }

  bytes(data: Uint8Array): this {
    this.ensure(data.length);
    this.buf.set(data, this.offset);
    this.offset += data.length;
    return this;
  }

  /** `n` zero bytes (PADDING, placeholders). */
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.offset, this.offset + n);
    this.offset += n;
    return this;
  }

  /** The bytes written so far, as a view. */
  finish(): Buffer {
    return this.buf.subarray(0, this.offset);
  }
}
