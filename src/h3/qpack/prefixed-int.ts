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

/** Values must stay below 2^62 (RFC 9204 §4.1.1). */
export const MAX_PREFIXED_INT = 2 ** 62 - 1;
/** 62 bits need at most 9 continuation bytes of 7 bits after any prefix of at least 1 bit. */
const MAX_CONTINUATION_BYTES = 9;

export interface IntRead {
  value: number;
  /** Offset just after the integer. */
  next: number;
}

/**
 * Reads the integer whose prefix is the low `prefixBits` bits of buf[offset]. Returns null when
 * the bytes end before the integer does; throws DecodeError on overflow.
 */
export function readPrefixedInt(buf: Uint8Array, offset: number, prefixBits: number): IntRead | null {
  if (offset >= buf.length) return null;
  const max = (1 << prefixBits) - 1;
  let value = buf[offset]! & max;
  if (value < max) return { value, next: offset + 1 };
  let multiplier = 1;
  for (let i = 1; i <= MAX_CONTINUATION_BYTES + 1; i++) {
    if (offset + i >= buf.length) return null;
    const byte = buf[offset + i]!;
    if (i > MAX_CONTINUATION_BYTES) break;
    value += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if (value > MAX_PREFIXED_INT) break;
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  throw new DecodeError('prefixed integer of more than 62 bits (RFC 9204 §4.1.1)');
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
