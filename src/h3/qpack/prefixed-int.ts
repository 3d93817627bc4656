/**
 * Prefixed integers (RFC 7541 §5.1, used unmodified by RFC 9204 §4.1.1): an N-bit prefix in the
 * low bits of the first byte, then, when the prefix is all ones, 7 bits per continuation byte,
 * least significant group first.
 *
 * QPACK must decode integers of up to 62 bits (RFC 9204 §4.1.1); anything at or above 2^62, or an
 * encoding with more continuation bytes than 62 bits need, is a DecodeError (RFC 9204 §7.4).
 */
import { DecodeError } from '../../core/errors.js';
import type { ByteWriter } from './byte-writer.js';

/** Integers must stay below 2^62 (RFC 9204 §4.1.1). */
const LIMIT = 2n ** 62n;
/** Largest value written: exact as a JavaScript number. */
export const MAX_PREFIXED_INT = Number.MAX_SAFE_INTEGER;
/** 62 bits need at most 9 continuation bytes of 7 bits after any prefix of at least 1 bit. */
const MAX_CONTINUATION_BYTES = 9;
/** Up to this shift the running sum stays below 2^53, exact in a double. */
const MAX_EXACT_SHIFT = 42;

export interface IntRead {
  value: number;
  /** Offset just after the integer. */
  next: number;
}

function overflow(): DecodeError {
  return new DecodeError('prefixed integer of more than 62 bits (RFC 9204 §4.1.1)');
}

/**
 * Reads the integer whose prefix is the low `prefixBits` bits of buf[offset]. Returns null when
 * the bytes end before the integer does; throws DecodeError on 2^62 or more. Values above 2^53
 * come back rounded: no size or index that large can be valid anyway.
 */
export function readPrefixedInt(buf: Uint8Array, offset: number, prefixBits: number): IntRead | null {
  if (offset >= buf.length) return null;
  const max = (1 << prefixBits) - 1;
  let value = buf[offset]! & max;
  if (value < max) return { value, next: offset + 1 };
  for (let i = 1, shift = 0; ; i++, shift += 7) {
    if (offset + i >= buf.length) return null;
    if (shift > MAX_EXACT_SHIFT) return readLargePrefixedInt(buf, offset, prefixBits);
    const byte = buf[offset + i]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
}

/** The rare long form, in BigInt so that the 2^62 limit is checked exactly. */
function readLargePrefixedInt(buf: Uint8Array, offset: number, prefixBits: number): IntRead | null {
  let value = BigInt((1 << prefixBits) - 1);
  for (let i = 1; ; i++) {
    if (offset + i >= buf.length) return null;
    if (i > MAX_CONTINUATION_BYTES) throw overflow();
    const byte = buf[offset + i]!;
    value += BigInt(byte & 0x7f) << BigInt(7 * (i - 1));
    if (value >= LIMIT) throw overflow();
    if ((byte & 0x80) === 0) return { value: Number(value), next: offset + i + 1 };
  }
}

/**
 * Writes `value` with an N-bit prefix; `flags` holds the bits above the prefix in the first byte.
 */
export function writePrefixedInt(w: ByteWriter, flags: number, prefixBits: number, value: number): void {
  if (value < 0 || value > MAX_PREFIXED_INT || !Number.isInteger(value)) {
    throw new RangeError(`prefixed integer out of range: ${value}`);
  }
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    w.byte(flags | value);
    return;
  }
  w.byte(flags | max);
  value -= max;
  while (value >= 128) {
    w.byte(0x80 | (value % 128));
    value = Math.floor(value / 128);
  }
  w.byte(value);
}
