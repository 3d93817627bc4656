/**
 * Review (session 5) of 472a719: the truncated packet number is written byte by byte
 * (writeTruncatedPacketNumber) and truncated with a table of moduli, in place of
 * writeUIntBE(fullPn % 2 ** (8 * length)). Checked against RFC 9000 §17.1 and Appendix A.2 over
 * the whole packet number range (0 … 2^62 − 1, §12.3), with BigInt as the reference and the
 * replaced code as the second reference. No defect found.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeShortHeaderAt } from '../../../src/quic/packet/build.js';
import {
  packetNumberLength,
  readTruncatedPacketNumber,
  truncatePacketNumber,
  writeTruncatedPacketNumber,
} from '../../../src/quic/packet/number.js';

type PnLength = 1 | 2 | 3 | 4;

/** RFC 9000 §17.1: the low `length` bytes of the packet number, big-endian, computed exactly. */
function referenceBytes(fullPn: number, length: PnLength): number[] {
  let low = BigInt(fullPn) % (1n << BigInt(8 * length));
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    out.unshift(Number(low & 0xffn));
    low >>= 8n;
  }
  return out;
}

/** The code 472a719 replaced. */
function replacedWrite(buf: Buffer, at: number, fullPn: number, length: PnLength): number {
  return buf.writeUIntBE(fullPn % 2 ** (8 * length), at, length);
}

/** RFC 9000 Appendix A.2, with exact integers: the bytes needed to cover twice the unacknowledged range. */
function referenceLength(fullPn: bigint, largestAcked: bigint | undefined): number {
  const numUnacked = largestAcked === undefined ? fullPn + 1n : fullPn - largestAcked;
  // min_bits = log2(num_unacked) + 1, num_bytes = ceil(min_bits / 8): the smallest n with num_unacked ≤ 2^(8n − 1).
  for (let n = 1; n <= 8; n++) if (numUnacked <= 1n << BigInt(8 * n - 1)) return n;
  return 9;
}

/** Packet numbers over the whole range, weighted towards the byte and 2^32 boundaries and 2^53. */
const packetNumbers = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }),
  fc.bigInt({ min: 0n, max: 1n << 34n }),
  fc.constantFrom(0n, 0xffn, 0x100n, 0xffffn, 0x10000n, 0xffffffn, 0x1000000n, 0xffffffffn, 0x100000000n,
    (1n << 53n) - 1n, 1n << 53n, (1n << 62n) - 1n),
).map((n) => Number(n));
const lengths = fc.constantFrom<PnLength>(1, 2, 3, 4);

describe('writeTruncatedPacketNumber (RFC 9000 §17.1) over 0 … 2^62 − 1', () => {
  it('writes the exact low bytes, the same as the replaced writeUIntBE, touching nothing else', () => {
    fc.assert(
      fc.property(packetNumbers, lengths, fc.nat(12), (fullPn, length, at) => {
        const buf = Buffer.alloc(20, 0xa5);
        const end = writeTruncatedPacketNumber(buf, at, fullPn, length);
        expect(end).toBe(at + length);
        expect([...buf.subarray(at, end)]).toEqual(referenceBytes(fullPn, length));
        const old = Buffer.alloc(20, 0xa5);
        expect(replacedWrite(old, at, fullPn, length)).toBe(end);
        expect(buf.equals(old)).toBe(true);
        expect(readTruncatedPacketNumber(buf, at, length)).toBe(truncatePacketNumber(fullPn, length));
        expect(truncatePacketNumber(fullPn, length)).toBe(fullPn % 2 ** (8 * length));
      }),
      { numRuns: 500 },
    );
  });

  it('a short header carries the same packet number bytes as before', () => {
    fc.assert(
      fc.property(packetNumbers, lengths, fc.uint8Array({ minLength: 0, maxLength: 20 }), (fullPn, length, dcid) => {
        const buf = Buffer.alloc(1 + 20 + 4 + 3, 0x5a);
        const end = writeShortHeaderAt(buf, 2, dcid, fullPn, length, 0, false, true);
        expect(end).toBe(2 + 1 + dcid.length + length);
        expect([...buf.subarray(end - length, end)]).toEqual(referenceBytes(fullPn, length));
        expect(buf[end]).toBe(0x5a);
        expect(buf[1]).toBe(0x5a);
      }),
      { numRuns: 300 },
    );
  });

  it('RFC 9000 Appendix A.2 lengths, and the examples of §17.1', () => {
    // §17.1 / A.2: 0xabe8b3 acknowledged, sending 0xac5c02 needs 16 bits; 0xace8fe needs 24.
    expect(packetNumberLength(0xac5c02, 0xabe8b3)).toBe(2);
    expect(packetNumberLength(0xace8fe, 0xabe8b3)).toBe(3);
    fc.assert(
      fc.property(packetNumbers, fc.option(fc.bigInt({ min: 0n, max: 1n << 33n }), { nil: undefined }), (fullPn, gap) => {
        const pn = BigInt(fullPn);
        const largest = gap === undefined ? undefined : pn - 1n - (gap % (pn === 0n ? 1n : pn));
        if (largest !== undefined && largest < 0n) return;
        if (!Number.isSafeInteger(fullPn)) return; // the length rule is exercised where numbers are exact
        const expected = referenceLength(pn, largest);
        if (expected > 4) {
          expect(() => packetNumberLength(fullPn, largest === undefined ? undefined : Number(largest))).toThrow(RangeError);
        } else {
          expect(packetNumberLength(fullPn, largest === undefined ? undefined : Number(largest))).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
