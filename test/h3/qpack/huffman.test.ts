import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../../src/core/errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from '../../../src/h3/qpack/huffman.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 7541 Appendix C.4 and C.6: Huffman-coded strings.
const vectors: [string, string][] = [
  ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
  ['no-cache', 'a8eb 1064 9cbf'],
  ['custom-key', '25a8 49e9 5ba9 7d7f'],
  ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
  ['302', '6402'],
  ['private', 'aec3 771a 4b'],
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
  ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ['gzip', '9bd9 ab'],
  ['foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1', '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07'],
];

describe('Huffman code (RFC 7541 Appendix B)', () => {
  for (const [text, coded] of vectors) {
    it(`encodes and decodes ${JSON.stringify(text)} as in RFC 7541 Appendix C`, () => {
      expect(huffmanEncode(Buffer.from(text, 'latin1')).toString('hex')).toBe(hex(coded).toString('hex'));
      expect(huffmanEncodedLength(text)).toBe(hex(coded).length);
      expect(huffmanDecode(hex(coded)).toString('latin1')).toBe(text);
    });
  }

  it('decodes the empty string', () => {
    expect(huffmanDecode(Buffer.alloc(0)).length).toBe(0);
    expect(huffmanEncode(Buffer.alloc(0)).length).toBe(0);
  });

  it('rejects padding longer than 7 bits (RFC 7541 §5.2)', () => {
    // "0" is 00000 (5 bits) + 3 bits of padding = 0x07 is fine; a whole extra 0xff byte is not.
    expect(huffmanDecode(hex('07')).toString()).toBe('0');
    expect(() => huffmanDecode(hex('07ff'))).toThrow(DecodeError);
    expect(() => huffmanDecode(hex('ff'))).toThrow(DecodeError);
  });

  it('rejects padding that is not all ones', () => {
    // "0" (00000) followed by 011 instead of 111.
    expect(() => huffmanDecode(hex('03'))).toThrow(DecodeError);
  });

  it('rejects an EOS symbol inside the string', () => {
    // EOS is 30 ones: 0xfffffffc holds it plus two zero bits.
    expect(() => huffmanDecode(hex('fffffffc'))).toThrow(DecodeError);
    expect(() => huffmanDecode(hex('ffffffff'))).toThrow(DecodeError);
  });

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const coded = huffmanEncode(bytes);
        expect(coded.length).toBe(huffmanEncodedLength(Buffer.from(bytes).toString('latin1')));
        expect(huffmanDecode(coded).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('gives random bytes a value or a DecodeError, never another throw (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        try {
          const decoded = huffmanDecode(bytes);
          // Whatever decodes must encode back to the same bytes (the code is prefix-free).
          expect(huffmanEncode(decoded).equals(Buffer.from(bytes))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
