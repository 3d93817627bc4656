/**
 * QUIC variable-length integers (RFC 9000 §16) for the HTTP/3 layer: frame types and lengths,
 * settings, stream types and push IDs are all encoded this way (RFC 9114 §7.1).
 *
 * A small local copy so that src/h3 does not depend on src/quic: the two-bit prefix of the first
 * byte gives the length (1, 2, 4 or 8 bytes), the rest is the value in network byte order.
 *
 * Values are JavaScript numbers. 8-byte values above 2^53 lose precision when read; HTTP/3 only
 * needs them exactly for identifiers that we then ignore (reserved frame/setting/stream types).
 */
import { DecodeError } from '../core/errors.js';

/** Largest value a varint can carry: 2^62 - 1 (RFC 9000 §16). */
export const MAX_VARINT = 2 ** 62 - 1;

export interface VarintRead {
  value: number;
  /** Bytes the varint occupied. */
  length: number;
}

/** Encoded size of `value`: the shortest of 1, 2, 4 or 8 bytes (RFC 9000 §16, Table 4). */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value < 0 || !Number.isInteger(value) || value > MAX_VARINT) {
    throw new RangeError(`varint out of range: ${value}`);
  }
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** Writes `value` at `offset` in its shortest form; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  const length = varintLength(value);
  switch (length) {
    case 1:
      buf[offset] = value;
      break;
    case 2:
      buf[offset] = 0x40 | (value >>> 8);
      buf[offset + 1] = value & 0xff;
      break;
    case 4:
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      break;
    case 8: {
      const high = Math.floor(value / 2 ** 32);
      const low = value - high * 2 ** 32;
      buf[offset] = 0xc0 | (high >>> 24);
      buf[offset + 1] = (high >>> 16) & 0xff;
      buf[offset + 2] = (high >>> 8) & 0xff;
      buf[offset + 3] = high & 0xff;
      buf[offset + 4] = low >>> 24;
      buf[offset + 5] = (low >>> 16) & 0xff;
      buf[offset + 6] = (low >>> 8) & 0xff;
      buf[offset + 7] = low & 0xff;
      break;
    }
  }
  return offset + length;
}

export function encodeVarint(value: number): Buffer {
  const out = Buffer.allocUnsafe(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Reads the varint at `offset`, or returns null when `buf` ends before it does (the caller waits
 * for more bytes). Never throws: every byte pattern is a valid varint.
 */
export function readVarint(buf: Uint8Array, offset: number): VarintRead | null {
  if (offset >= buf.length) return null;
  const first = buf[offset]!;
  const length = 1 << (first >> 6);
  if (offset + length > buf.length) return null;
  let value = first & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + buf[offset + i]!;
  return { value, length };
}

/** Reads a varint that must be complete: running out of bytes is a DecodeError. */
export function readVarintStrict(buf: Uint8Array, offset: number): VarintRead {
  const read = readVarint(buf, offset);
  if (!read) throw new DecodeError('varint truncated');
  return read;
}
