import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../../src/core/errors.js';
import { ByteWriter } from '../../../src/h3/qpack/byte-writer.js';
import { MAX_PREFIXED_INT, readPrefixedInt, writePrefixedInt } from '../../../src/h3/qpack/prefixed-int.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function intBytes(flags: number, prefixBits: number, value: number): Buffer {
  const w = new ByteWriter(4);
  writePrefixedInt(w, flags, prefixBits, value);
  return w.take();
}

/** Encodes any non-negative integer, even beyond what the writer accepts. */
function bigIntBytes(prefixBits: number, value: bigint): Buffer {
  const max = (1n << BigInt(prefixBits)) - 1n;
  if (value < max) return Buffer.of(Number(value));
  const bytes = [Number(max)];
  let rest = value - max;
  while (rest >= 128n) {
    bytes.push(Number(rest % 128n) | 0x80);
    rest /= 128n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

describe('prefixed integers (RFC 7541 §5.1, RFC 9204 §4.1.1)', () => {
  it('matches RFC 7541 Appendix C.1', () => {
    // C.1.1: 10 with a 5-bit prefix; C.1.2: 1337 with a 5-bit prefix; C.1.3: 42 at a byte boundary.
    expect(intBytes(0, 5, 10).toString('hex')).toBe('0a');
    expect(intBytes(0, 5, 1337).toString('hex')).toBe('1f9a0a');
    expect(intBytes(0, 8, 42).toString('hex')).toBe('2a');
    expect(readPrefixedInt(hex('e0 1f9a0a'), 1, 5)).toEqual({ value: 1337, next: 4 });
    // Flags above the prefix are kept and ignored by the reader.
    expect(readPrefixedInt(hex('ea'), 0, 5)).toEqual({ value: 10, next: 1 });
  });

  it('returns null for every strict prefix of an encoding', () => {
    const bytes = intBytes(0x40, 6, 2 ** 40 + 12345);
    for (let i = 0; i < bytes.length; i++) expect(readPrefixedInt(bytes.subarray(0, i), 0, 6)).toBeNull();
    expect(readPrefixedInt(bytes, 0, 6)).toEqual({ value: 2 ** 40 + 12345, next: bytes.length });
  });

  it('rejects values of 2^62 and above, and endless continuation bytes', () => {
    expect(readPrefixedInt(intBytes(0, 7, MAX_PREFIXED_INT), 0, 7)!.value).toBe(MAX_PREFIXED_INT);
    expect(() => intBytes(0, 7, MAX_PREFIXED_INT + 2)).toThrow(RangeError);
    expect(() => readPrefixedInt(bigIntBytes(7, 2n ** 62n), 0, 7)).toThrow(DecodeError);
    expect(() => readPrefixedInt(bigIntBytes(3, 2n ** 64n), 0, 3)).toThrow(DecodeError);
    expect(readPrefixedInt(bigIntBytes(3, 2n ** 62n - 1n), 0, 3)!.value).toBe(2 ** 62);
    expect(() => readPrefixedInt(hex('1f' + '80'.repeat(20) + '00'), 0, 5)).toThrow(DecodeError);
    expect(() => intBytes(0, 5, 2 ** 62)).toThrow(RangeError);
  });

  it('round-trips every prefix size (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.oneof(fc.nat(300), fc.maxSafeNat()), (prefixBits, value) => {
        const flags = prefixBits === 8 ? 0 : (0xff << prefixBits) & 0xff;
        const bytes = intBytes(flags, prefixBits, value);
        expect(bytes[0]! & ~((1 << prefixBits) - 1) & 0xff).toBe(flags);
        expect(readPrefixedInt(bytes, 0, prefixBits)).toEqual({ value, next: bytes.length });
      }),
      { numRuns: 400 },
    );
  });

  it('gives random bytes a value, null or a DecodeError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.integer({ min: 1, max: 8 }), (bytes, prefixBits) => {
        try {
          const read = readPrefixedInt(bytes, 0, prefixBits);
          if (read) expect(read.value).toBeLessThanOrEqual(2 ** 62);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 400 },
    );
  });
});
