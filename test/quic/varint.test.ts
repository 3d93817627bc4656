import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../src/core/errors.js';
import {
  encodeVarint,
  MAX_VARINT,
  readVarint,
  readVarintBigInt,
  Reader,
  varintLength,
  Writer,
  writeVarint,
  writeVarintBigInt,
} from '../../src/quic/varint.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('varint (RFC 9000 §16)', () => {
  // RFC 9000 §16 / Appendix A.1 examples.
  it('decodes the RFC examples', () => {
    expect(readVarintBigInt(hex('c2197c5eff14e88c'))).toEqual({ value: 151288809941952652n, length: 8 });
    expect(readVarint(hex('9d7f3e7d'))).toEqual({ value: 494878333, length: 4 });
    expect(readVarint(hex('7bbd'))).toEqual({ value: 15293, length: 2 });
    expect(readVarint(hex('25'))).toEqual({ value: 37, length: 1 });
    // "the two-byte sequence 0x4025 decodes to 37 as well"
    expect(readVarint(hex('4025'))).toEqual({ value: 37, length: 2 });
  });

  it('encodes the RFC examples in their shortest form', () => {
    expect(encodeVarint(494878333).toString('hex')).toBe('9d7f3e7d');
    expect(encodeVarint(15293).toString('hex')).toBe('7bbd');
    expect(encodeVarint(37).toString('hex')).toBe('25');
    const out = Buffer.alloc(8);
    expect(writeVarintBigInt(out, 0, 151288809941952652n)).toBe(8);
    expect(out.toString('hex')).toBe('c2197c5eff14e88c');
  });

  it('uses the length boundaries of Table 4', () => {
    expect([0, 63, 64, 16383, 16384, 1073741823, 1073741824, Number.MAX_SAFE_INTEGER].map(varintLength))
      .toEqual([1, 1, 2, 2, 4, 4, 8, 8]);
    expect(() => varintLength(-1)).toThrow(RangeError);
    expect(() => varintLength(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
    expect(() => varintLength(1.5)).toThrow(RangeError);
    expect(() => encodeVarint(NaN)).toThrow(RangeError);
  });

  it('writes a forced length (Length placeholders) and refuses one too short', () => {
    const out = Buffer.alloc(4);
    expect(writeVarint(out, 0, 37, 2)).toBe(2);
    expect(out.subarray(0, 2).toString('hex')).toBe('4025');
    expect(() => writeVarint(out, 0, 64, 1)).toThrow(RangeError);
  });

  it('rounds values above 2^53-1 up, so bounds stay exact', () => {
    // 2^60 + 1 must compare above 2^60 (MAX_STREAMS, §19.11).
    const b = Buffer.alloc(8);
    writeVarintBigInt(b, 0, (1n << 60n) + 1n);
    expect(readVarint(b).value).toBeGreaterThan(2 ** 60);
    writeVarintBigInt(b, 0, 1n << 60n);
    expect(readVarint(b).value).toBe(2 ** 60);
    writeVarintBigInt(b, 0, MAX_VARINT);
    expect(readVarint(b).value).toBe(2 ** 62);
    expect(readVarint(hex('c2197c5eff14e88c')).value).toBeGreaterThanOrEqual(151288809941952652);
  });

  it('round-trips every safe value (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (value) => {
        const encoded = encodeVarint(value);
        expect(encoded.length).toBe(varintLength(value));
        expect(readVarint(encoded)).toEqual({ value, length: encoded.length });
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips the full 62-bit range as bigint, and the number decode never understates (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_VARINT }), (value) => {
        const b = Buffer.alloc(8);
        const length = writeVarintBigInt(b, 0, value);
        expect(readVarintBigInt(b, 0, length)).toEqual({ value, length });
        const asNumber = readVarint(b, 0, length).value;
        expect(BigInt(asNumber) >= value).toBe(true);
        if (value <= BigInt(Number.MAX_SAFE_INTEGER)) expect(BigInt(asNumber)).toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  it('throws DecodeError on truncation, at every cut', () => {
    const full = hex('c2197c5eff14e88c');
    for (let cut = 0; cut < full.length; cut++) {
      expect(() => readVarint(full.subarray(0, cut))).toThrow(DecodeError);
      expect(() => readVarintBigInt(full.subarray(0, cut))).toThrow(DecodeError);
    }
  });
});

describe('Reader', () => {
  it('reads fixed-size integers, varints and views', () => {
    const data = hex('01020304050607c2197c5eff14e88c25aabb');
    const r = new Reader(data);
    expect(r.u8()).toBe(1);
    expect(r.u16()).toBe(0x0203);
    expect(r.u32()).toBe(0x04050607);
    r.skip(8);
    expect(r.varint()).toBe(37);
    const view = r.bytes(2);
    expect(view.toString('hex')).toBe('aabb');
    expect(view.buffer).toBe(data.buffer); // a view, not a copy
    expect(r.remaining).toBe(0);
    expect(() => r.u8()).toThrow(DecodeError);
  });

  it('respects an end bound and takes plain Uint8Arrays', () => {
    const r = new Reader(new Uint8Array([0x25, 0x40, 0x25, 0x99]), 1, 3);
    expect(r.peekVarintLength()).toBe(2);
    expect(r.varint()).toBe(37);
    expect(() => r.u8()).toThrow(DecodeError);
    expect(() => new Reader(new Uint8Array(2), 0, 3)).toThrow(RangeError);
  });

  it('gives a value or DecodeError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const r = new Reader(bytes);
        try {
          while (r.remaining > 0) r.varint();
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('Writer', () => {
  it('grows when it owns its buffer', () => {
    const w = new Writer(16);
    for (let i = 0; i < 100; i++) w.varint(i * 1000);
    const r = new Reader(w.finish());
    for (let i = 0; i < 100; i++) expect(r.varint()).toBe(i * 1000);
  });

  it('refuses to overflow a fixed buffer', () => {
    const w = new Writer(Buffer.alloc(3));
    w.u16(0xabcd);
    expect(w.remaining).toBe(1);
    expect(() => w.u16(1)).toThrow(RangeError);
    w.u8(7);
    expect(w.finish().toString('hex')).toBe('abcd07');
  });
});
