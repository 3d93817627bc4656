import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../src/core/errors.js';
import { MAX_VARINT, encodeVarint, readVarint, readVarintStrict, varintLength } from '../../src/h3/varint.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('varint (RFC 9000 §16)', () => {
  it('decodes the RFC 9000 Appendix A.1 examples', () => {
    expect(readVarint(hex('c2197c5eff14e88c'), 0)).toEqual({ value: 151288809941952652, length: 8 });
    expect(readVarint(hex('9d7f3e7d'), 0)).toEqual({ value: 494878333, length: 4 });
    expect(readVarint(hex('7bbd'), 0)).toEqual({ value: 15293, length: 2 });
    expect(readVarint(hex('25'), 0)).toEqual({ value: 37, length: 1 });
    expect(readVarint(hex('4025'), 0)).toEqual({ value: 37, length: 2 });
  });

  it('encodes in the shortest form', () => {
    expect(encodeVarint(37).toString('hex')).toBe('25');
    expect(encodeVarint(15293).toString('hex')).toBe('7bbd');
    expect(encodeVarint(494878333).toString('hex')).toBe('9d7f3e7d');
    expect([63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30].map(varintLength)).toEqual([1, 2, 2, 4, 4, 8]);
    expect(() => varintLength(-1)).toThrow(RangeError);
    expect(() => varintLength(MAX_VARINT * 2)).toThrow(RangeError);
  });

  it('returns null, or a DecodeError when strict, for a truncated varint', () => {
    expect(readVarint(hex('9d7f3e'), 0)).toBeNull();
    expect(readVarint(hex(''), 0)).toBeNull();
    expect(() => readVarintStrict(hex('c2'), 0)).toThrow(DecodeError);
  });

  it('round-trips every exact value (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(4), (value, offset) => {
        const bytes = Buffer.concat([Buffer.alloc(offset), encodeVarint(value)]);
        expect(readVarint(bytes, offset)).toEqual({ value, length: varintLength(value) });
      }),
      { numRuns: 400 },
    );
  });
});
