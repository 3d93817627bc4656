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

/** 2^(8 × length): a table, since `2 ** n` with a variable n is a call per packet. */
const PN_MODULUS = [1, 0x100, 0x1_0000, 0x100_0000, 0x1_0000_0000] as const;

/** The low `length` bytes of `fullPn`, as sent (RFC 9000 §17.1). */
export function truncatePacketNumber(fullPn: number, length: 1 | 2 | 3 | 4): number {
  return fullPn % PN_MODULUS[length];
}

/**
 * Writes the low `length` bytes of `fullPn` big-endian at `at` (RFC 9000 §17.1) and returns the
 * offset after them; `buf` must hold them. The same bytes as writeUIntBE(truncatePacketNumber(…)),
 * without its checks and division, once per packet sent.
 */
export function writeTruncatedPacketNumber(buf: Uint8Array, at: number, fullPn: number, length: 1 | 2 | 3 | 4): number {
  // ToUint32 is fullPn mod 2^32, which holds every byte a 4-byte field takes (packet numbers < 2^62).
  const low = fullPn >>> 0;
  switch (length) {
    case 1:
      buf[at] = low;
      return at + 1;
    case 2:
      buf[at] = low >>> 8;
      buf[at + 1] = low;
      return at + 2;
    case 3:
      buf[at] = low >>> 16;
      buf[at + 1] = low >>> 8;
      buf[at + 2] = low;
      return at + 3;
    default:
      buf[at] = low >>> 24;
      buf[at + 1] = low >>> 16;
      buf[at + 2] = low >>> 8;
      buf[at + 3] = low;
      return at + 4;
  }
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
