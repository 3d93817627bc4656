import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../../src/core/errors.js';
import { ByteWriter } from '../../../src/h3/qpack/byte-writer.js';
import { isIncomplete, readStringLiteral, writeStringLiteral } from '../../../src/h3/qpack/string-literal.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('string literals (RFC 9204 §4.1.2)', () => {
  function stringBytes(flags: number, prefixBits: number, value: string, huffman = true): Buffer {
    const w = new ByteWriter(4);
    writeStringLiteral(w, flags, prefixBits, value, huffman);
    return w.take();
  }

  it('uses Huffman only when shorter, and sets the H bit above an N-bit prefix', () => {
    // RFC 7541 C.4.1: "www.example.com" Huffman-coded, H bit set, length 12.
    expect(stringBytes(0, 8, 'www.example.com').toString('hex')).toBe('8cf1e3c2e5f23a6ba0ab90f4ff');
    expect(stringBytes(0, 8, 'www.example.com', false).toString('hex')).toBe('0f7777772e6578616d706c652e636f6d');
    // 4-bit prefix string after the '001N' bits of a literal-name field line: H is bit 0x08.
    expect(stringBytes(0x20, 4, 'a', false).toString('hex')).toBe('2161');
    expect(stringBytes(0x20, 4, 'custom-key')[0]! & 0x08).toBe(0x08);
    // Bytes that Huffman would lengthen are sent as they are.
    expect(stringBytes(0, 8, '\u00ff\u00fe')[0]! & 0x80).toBe(0);
  });

  it('reports how many bytes a partial string needs and refuses over-long strings', () => {
    const bytes = stringBytes(0, 8, 'hello world', false);
    expect(readStringLiteral(bytes.subarray(0, 5), 0, 8, 100)).toEqual({ need: bytes.length });
    expect(isIncomplete(readStringLiteral(Buffer.alloc(0), 0, 8, 100))).toBe(true);
    expect(() => readStringLiteral(bytes, 0, 8, 10)).toThrow(DecodeError);
    expect(() => readStringLiteral(hex('81ff'), 0, 8, 10)).toThrow(DecodeError); // Huffman padding of 8 bits
  });

  it('round-trips latin1 strings at every prefix size (property)', () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 80 });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), latin1, fc.boolean(), (prefixBits, value, huffman) => {
        const bytes = stringBytes(0, prefixBits, value, huffman);
        expect(readStringLiteral(bytes, 0, prefixBits, 1000)).toEqual({ value, next: bytes.length });
      }),
      { numRuns: 400 },
    );
  });
});
