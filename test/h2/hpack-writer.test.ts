import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import hpack from 'hpack.js';
import { FieldBlockWriter } from '../../src/h2/hpack-writer.js';

function written(write: (w: FieldBlockWriter) => void): string {
  const writer = new FieldBlockWriter();
  writer.reset();
  write(writer);
  return writer.finish().toString('hex');
}

/** hpack.js's own bit writer, the reference the octets must match. */
function reference(write: (e: hpack.Encoder) => void): string {
  const encoder = hpack.encoder.create();
  write(encoder);
  return Buffer.concat(encoder.render()).toString('hex');
}

const byteString = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1'));

describe('FieldBlockWriter', () => {
  it('writes the prefixed integers of RFC 7541 C.1', () => {
    expect(written((w) => w.writeInt(0x00, 5, 10))).toBe('0a'); // C.1.1
    expect(written((w) => w.writeInt(0x00, 5, 1337))).toBe('1f9a0a'); // C.1.2
    expect(written((w) => w.writeInt(0x00, 8, 42))).toBe('2a'); // C.1.3
    expect(written((w) => w.writeInt(0xe0, 5, 31))).toBe('ff00'); // a value equal to 2^N−1 takes a second octet
  });

  it('Huffman-codes the strings of RFC 7541 C.4.1 and C.4.3', () => {
    expect(written((w) => w.writeString('www.example.com', true))).toBe('8cf1e3c2e5f23a6ba0ab90f4ff');
    expect(written((w) => w.writeString('custom-value', true))).toBe('8925a849e95bb8e8b4bf');
    expect(written((w) => w.writeString('custom-key', false))).toBe('0a637573746f6d2d6b6579');
  });

  it('writes integers as hpack.js does, for every prefix and pattern', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.nat(), fc.nat({ max: 2 ** 30 }) /* hpack.js loops on ≥ 2^31 */, (prefix, patternSeed, value) => {
      const pattern = (patternSeed << prefix) & 0xff;
      const expected = reference((e) => { if (prefix < 8) e.encodeBits(pattern >>> prefix, 8 - prefix); e.encodeInt(value); });
      expect(written((w) => w.writeInt(pattern, prefix, value))).toBe(expected);
    }), { numRuns: 400 });
  });

  it('writes raw and Huffman strings (every octet, codes up to 30 bits) as hpack.js does', () => {
    fc.assert(fc.property(byteString, fc.boolean(), (octets, huffman) => {
      const expected = reference((e) => e.encodeStr(Buffer.from(octets, 'latin1'), huffman));
      expect(written((w) => w.writeString(octets, huffman))).toBe(expected);
    }), { numRuns: 400 });
  });

  it('keeps earlier blocks intact when its buffer grows or is reused', () => {
    const writer = new FieldBlockWriter();
    writer.reset();
    writer.writeString('a'.repeat(1000), false);
    const first = writer.finish();
    writer.reset();
    writer.writeInt(0x80, 7, 2);
    expect(writer.finish().toString('hex')).toBe('82');
    expect(first.length).toBe(1003); // 7f e9 06: 1000 with a 7-bit prefix
    expect(first.subarray(3).toString('latin1')).toBe('a'.repeat(1000));
  });
});
