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

/** Builds a structure from parts; lengths are filled in when a vector closes. */
export class TlsWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  u8(v: number): this {
    return this.push(Buffer.of(v & 0xff));
  }

  u16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(v & 0xffff);
    return this.push(b);
  }

  u24(v: number): this {
    const b = Buffer.allocUnsafe(3);
    b.writeUIntBE(v, 0, 3);
    return this.push(b);
  }

  u32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }

  bytes(b: Uint8Array): this {
    return this.push(Buffer.isBuffer(b) ? b : Buffer.from(b));
  }

  /** opaque v<..> with a length prefix; throws RangeError if the content does not fit. */
  vector(lengthBytes: 1 | 2 | 3, content: Uint8Array | ((w: TlsWriter) => void)): this {
    let body: Buffer;
    if (typeof content === 'function') {
      const inner = new TlsWriter();
      content(inner);
      body = inner.finish();
    } else {
      body = Buffer.isBuffer(content) ? content : Buffer.from(content);
    }
    if (body.length >= 2 ** (8 * lengthBytes)) throw new RangeError(`vector of ${body.length} bytes does not fit a ${lengthBytes}-byte length`);
    if (lengthBytes === 1) this.u8(body.length);
    else if (lengthBytes === 2) this.u16(body.length);
    else this.u24(body.length);
    return this.push(body);
  }

  u16List(lengthBytes: 1 | 2, values: readonly number[]): this {
    const b = Buffer.allocUnsafe(values.length * 2);
    values.forEach((v, i) => b.writeUInt16BE(v, 2 * i));
    return this.vector(lengthBytes, b);
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}
