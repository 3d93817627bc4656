/**
 * Packet numbers on the wire (RFC 9000 §17.1): how many bytes to send (Appendix A.2) and how to
 * recover the full number from the truncated one received (Appendix A.3).
 */
import { DecodeError } from '../../core/errors.js';

/** Packet numbers run from 0 to 2^62-1 (RFC 9000 §12.3). */
const PN_LIMIT = 2 ** 62;

/**
 * Bytes (1–4) needed to send `fullPn` when the peer has acknowledged up to `largestAcked`
 * (undefined before any acknowledgment). RFC 9000 §17.1 / Appendix A.2: the encoding must cover at
 * least twice the number of packets in flight, i.e. num_unacked ≤ 2^(8·bytes − 1).
 */
export function packetNumberLength(fullPn: number, largestAcked: number | undefined): 1 | 2 | 3 | 4 {
  const numUnacked = largestAcked === undefined ? fullPn + 1 : fullPn - largestAcked;
  if (numUnacked <= 0x80) return 1;
  if (numUnacked <= 0x8000) return 2;
  if (numUnacked <= 0x800000) return 3;
  if (numUnacked <= 0x80000000) return 4;
  throw new RangeError(`${numUnacked} packets unacknowledged: more than a 4-byte packet number can cover`);
}

/** The low `length` bytes of `fullPn`, as sent (RFC 9000 §17.1). */
export function truncatePacketNumber(fullPn: number, length: 1 | 2 | 3 | 4): number {
  return fullPn % 2 ** (8 * length);
}

/** Reads a `length`-byte packet number field (after header protection is removed). */
export function readTruncatedPacketNumber(buf: Uint8Array, offset: number, length: 1 | 2 | 3 | 4): number {
  if (offset + length > buf.length) throw new DecodeError('truncated packet number');
  const b0 = buf[offset]!;
  switch (length) {
    case 1: return b0;
    case 2: return (b0 << 8) | buf[offset + 1]!;
    case 3: return (b0 << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!;
    default: return ((b0 << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
  }
}

/**
 * The full packet number closest to the next expected one (RFC 9000 Appendix A.3).
 * `largestPn` is the largest packet number successfully processed in this space (undefined if none).
 */
export function decodePacketNumber(largestPn: number | undefined, truncatedPn: number, length: 1 | 2 | 3 | 4): number {
  const expected = largestPn === undefined ? 0 : largestPn + 1;
  const window = 2 ** (8 * length);
  const halfWindow = window / 2;
  // (expected & ~mask) | truncated, in arithmetic because packet numbers exceed 32 bits.
  const candidate = expected - (expected % window) + truncatedPn;
  if (candidate <= expected - halfWindow && candidate < PN_LIMIT - window) return candidate + window;
  if (candidate > expected + halfWindow && candidate >= window) return candidate - window;
  return candidate;
}
