import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../../src/core/errors.js';
import { ByteWriter } from '../../../src/h3/qpack/byte-writer.js';
import {
  baseFromPrefix,
  decodeRequiredInsertCount,
  encodeRequiredInsertCount,
  maxEntries,
  parseFieldLine,
  readFieldSectionPrefix,
  writeFieldLine,
  writeFieldSectionPrefix,
  type FieldLineRepresentation,
} from '../../../src/h3/qpack/field-lines.js';

describe('Required Insert Count (RFC 9204 §4.5.1.1)', () => {
  it('follows the RFC example: 100-byte table, 10 inserts, encoded 4 → 9', () => {
    expect(maxEntries(100)).toBe(3);
    expect(decodeRequiredInsertCount(4, 3, 10)).toBe(9);
    expect(encodeRequiredInsertCount(9, 3)).toBe(4);
    expect(encodeRequiredInsertCount(0, 3)).toBe(0);
  });

  it('rejects encodings no encoder could produce', () => {
    expect(() => decodeRequiredInsertCount(7, 3, 10)).toThrow(DecodeError); // > 2 * MaxEntries
    expect(() => decodeRequiredInsertCount(1, 0, 0)).toThrow(DecodeError); // no dynamic table
    // With no inserts, MaxValue = 3: an encoded 6 gives 5 > 3 and cannot wrap back.
    expect(() => decodeRequiredInsertCount(6, 3, 0)).toThrow(DecodeError);
    // 6 inserts: MaxValue 9, FullRange 6, MaxWrapped 6; encoded 1 → 6 + 0 = 6 ok; a value of 0 → error.
    expect(decodeRequiredInsertCount(1, 3, 6)).toBe(6);
    expect(() => decodeRequiredInsertCount(1, 3, 0)).toThrow(DecodeError);
  });

  it('decodes what it encodes for every count the decoder can see (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(100_000), fc.nat(), (entries, totalInserts, pick) => {
        // Any Required Insert Count in (totalInserts - entries, totalInserts + entries] that is > 0
        // is possible: the decoder holds at most `entries` entries, and an encoder runs at most
        // `entries` inserts ahead (RFC 9204 §4.5.1.1).
        const low = Math.max(1, totalInserts - entries + 1);
        const high = totalInserts + entries;
        const required = low + (pick % (high - low + 1));
        expect(decodeRequiredInsertCount(encodeRequiredInsertCount(required, entries), entries, totalInserts)).toBe(required);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Base (RFC 9204 §4.5.1.2)', () => {
  it('follows the RFC example: RIC 9, S=1, Delta Base 2 → Base 6', () => {
    expect(baseFromPrefix(9, true, 2)).toBe(6);
    expect(baseFromPrefix(9, false, 2)).toBe(11);
    expect(() => baseFromPrefix(2, true, 2)).toThrow(DecodeError);
    expect(() => baseFromPrefix(0, true, 0)).toThrow(DecodeError);
  });

  it('round-trips the prefix, with the sign bit when Base < RIC', () => {
    for (const [ric, base] of [[0, 0], [5, 5], [5, 9], [5, 0], [5, 4]] as const) {
      const w = new ByteWriter();
      writeFieldSectionPrefix(w, ric, base, 100);
      const prefix = readFieldSectionPrefix(w.take());
      const required = decodeRequiredInsertCount(prefix.encodedInsertCount, 100, ric);
      expect(required).toBe(ric);
      expect(baseFromPrefix(required, prefix.sign, prefix.deltaBase)).toBe(ric === 0 ? 0 : base);
      expect(prefix.sign).toBe(base < ric);
    }
    expect(() => readFieldSectionPrefix(Buffer.of(0x00))).toThrow(DecodeError);
  });
});

describe('field line representations (RFC 9204 §4.5.2–§4.5.6)', () => {
  const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
  const lineArb: fc.Arbitrary<FieldLineRepresentation> = fc.oneof(
    fc.record({ type: fc.constant('indexed' as const), isStatic: fc.boolean(), index: fc.nat(5000) }),
    fc.record({ type: fc.constant('indexed_post_base' as const), index: fc.nat(5000) }),
    fc.record({ type: fc.constant('literal_name_ref' as const), neverIndex: fc.boolean(), isStatic: fc.boolean(), nameIndex: fc.nat(5000), value: latin1 }),
    fc.record({ type: fc.constant('literal_post_base_name_ref' as const), neverIndex: fc.boolean(), nameIndex: fc.nat(5000), value: latin1 }),
    fc.record({ type: fc.constant('literal' as const), neverIndex: fc.boolean(), name: latin1, value: latin1 }),
  );

  it('writes the bit patterns of each representation', () => {
    const bytes = (line: FieldLineRepresentation) => {
      const w = new ByteWriter();
      writeFieldLine(w, line, false);
      return w.take().toString('hex');
    };
    expect(bytes({ type: 'indexed', isStatic: true, index: 17 })).toBe('d1');
    expect(bytes({ type: 'indexed', isStatic: false, index: 2 })).toBe('82');
    expect(bytes({ type: 'indexed_post_base', index: 3 })).toBe('13');
    expect(bytes({ type: 'literal_name_ref', neverIndex: true, isStatic: true, nameIndex: 84, value: 'x' })).toBe('7f45' + '0178');
    expect(bytes({ type: 'literal_post_base_name_ref', neverIndex: true, nameIndex: 1, value: '' })).toBe('09' + '00');
    expect(bytes({ type: 'literal', neverIndex: false, name: 'a', value: 'b' })).toBe('2161' + '0162');
  });

  it('parses what it writes (property)', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 10 }), fc.boolean(), (lines, huffman) => {
        const w = new ByteWriter();
        for (const line of lines) writeFieldLine(w, line, huffman);
        const bytes = w.take();
        const parsed: FieldLineRepresentation[] = [];
        for (let offset = 0; offset < bytes.length; ) {
          const { value, next } = parseFieldLine(bytes, offset, 1000);
          parsed.push(value);
          offset = next;
        }
        expect(parsed).toEqual(lines);
      }),
      { numRuns: 300 },
    );
  });

  it('treats a line cut short as a DecodeError', () => {
    expect(() => parseFieldLine(Buffer.from('5f', 'hex'), 0, 100)).toThrow(DecodeError);
    expect(() => parseFieldLine(Buffer.from('5103616263', 'hex').subarray(0, 4), 0, 100)).toThrow(DecodeError);
  });
});
