/**
 * DER writer (X.690): encodings checked byte for byte against X.690's rules and well-known
 * encodings, and a property that every element reads back with readElement.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/core/errors.js';
import * as der from '../../src/cert/der.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('lengths (X.690 §8.1.3, §10.1)', () => {
  it('uses the short form below 128 and the fewest long-form octets above', () => {
    expect(hex(der.encodeLength(0))).toBe('00');
    expect(hex(der.encodeLength(127))).toBe('7f');
    expect(hex(der.encodeLength(128))).toBe('8180');
    expect(hex(der.encodeLength(255))).toBe('81ff');
    expect(hex(der.encodeLength(256))).toBe('820100');
    expect(hex(der.encodeLength(65536))).toBe('83010000');
  });

  it('round-trips through readElement for any content length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), fc.constantFrom(0x04, 0x30, 0xa3), (contents, tag) => {
        const encoded = der.tlv(tag, contents);
        const element = der.readElement(encoded);
        expect(element.tag).toBe(tag);
        expect(element.end).toBe(encoded.length);
        expect(element.contents.equals(Buffer.from(contents))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('primitive types', () => {
  it('INTEGER is minimal two\'s complement (X.690 §8.3.2)', () => {
    expect(hex(der.integer(0))).toBe('020100');
    expect(hex(der.integer(127))).toBe('02017f');
    expect(hex(der.integer(128))).toBe('02020080');
    expect(hex(der.integer(256))).toBe('02020100');
    expect(hex(der.integer(-1))).toBe('0201ff');
    expect(hex(der.integer(-128))).toBe('020180');
    expect(hex(der.integer(-129))).toBe('0202ff7f');
    expect(hex(der.integer(2n ** 64n))).toBe('0209010000000000000000');
  });

  it('an unsigned magnitude drops leading zeros and keeps the value positive', () => {
    expect(hex(der.unsignedInteger(Buffer.from('0000ff', 'hex')))).toBe('020200ff');
    expect(hex(der.unsignedInteger(Buffer.from('7f01', 'hex')))).toBe('02027f01');
    expect(hex(der.unsignedInteger(Buffer.from('0000', 'hex')))).toBe('020100');
    expect(hex(der.unsignedInteger(new Uint8Array(0)))).toBe('020100');
  });

  it('INTEGER contents never start with 9 redundant sign bits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (n) => {
        const { contents } = der.readElement(der.integer(n));
        if (contents.length > 1) {
          const top9 = (contents[0]! << 1) | (contents[1]! >> 7);
          expect(top9 === 0 || top9 === 0x1ff).toBe(false);
        }
        // Reading the two's complement back gives n.
        expect(BigInt.asIntN(contents.length * 8, BigInt('0x' + contents.toString('hex')))).toBe(n);
      }),
      { numRuns: 300 },
    );
  });

  it('OBJECT IDENTIFIER packs the first two arcs and uses base 128 (X.690 §8.19)', () => {
    expect(hex(der.oid('1.2.840.10045.2.1'))).toBe('06072a8648ce3d0201'); // id-ecPublicKey
    expect(hex(der.oid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302'); // ecdsa-with-SHA256
    expect(hex(der.oid('2.5.29.17'))).toBe('0603551d11'); // subjectAltName
    expect(hex(der.oid('2.999.3'))).toBe('0603883703'); // X.690 §8.19.5 example
    expect(() => der.oid('1')).toThrow(RangeError);
    expect(() => der.oid('1.40')).toThrow(RangeError);
    expect(() => der.oid('3.1')).toThrow(RangeError);
  });

  it('BOOLEAN TRUE is ff, NULL is empty', () => {
    expect(hex(der.boolean(true))).toBe('0101ff');
    expect(hex(der.boolean(false))).toBe('010100');
    expect(hex(der.nullValue())).toBe('0500');
  });

  it('named bit strings drop trailing zero bits (X.690 §11.2.2)', () => {
    expect(hex(der.namedBits([5, 6]))).toBe('03020106'); // keyCertSign | cRLSign
    expect(hex(der.namedBits([0]))).toBe('03020780'); // digitalSignature
    expect(hex(der.namedBits([0, 8]))).toBe('0303078080'); // digitalSignature | decipherOnly
    expect(hex(der.namedBits([]))).toBe('030100');
    expect(hex(der.bitString(Buffer.from('abcd', 'hex')))).toBe('030300abcd');
  });

  it('strings check their character sets', () => {
    expect(hex(der.printableString('US'))).toBe('13025553');
    expect(() => der.printableString('a@b')).toThrow(RangeError);
    expect(hex(der.utf8String('é'))).toBe('0c02c3a9');
    expect(() => der.ia5String('é')).toThrow(RangeError);
    expect(hex(der.octetString(Buffer.of(1, 2)))).toBe('04020102');
  });

  it('times: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
    const t2026 = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    expect(Buffer.from(der.readElement(der.time(t2026)).contents).toString()).toBe('260102030405Z');
    expect(der.time(t2026)[0]).toBe(0x17);
    const t2050 = new Date(Date.UTC(2050, 11, 31, 23, 59, 59));
    expect(der.time(t2050)[0]).toBe(0x18);
    expect(Buffer.from(der.readElement(der.time(t2050)).contents).toString()).toBe('20501231235959Z');
    expect(() => der.utcTime(t2050)).toThrow(RangeError);
  });
});

describe('constructed types', () => {
  it('SEQUENCE keeps order; SET OF sorts by encoding (X.690 §11.6)', () => {
    const a = der.integer(2);
    const b = der.integer(1);
    expect(hex(der.sequence(a, b))).toBe('3006020102020101');
    expect(hex(der.setOf(a, b))).toBe('3106020101020102');
  });

  it('context tags: [n] EXPLICIT is constructed, [n] IMPLICIT primitive keeps the contents', () => {
    expect(hex(der.explicit(0, der.integer(2)))).toBe('a003020102');
    expect(hex(der.implicitPrimitive(7, Buffer.of(127, 0, 0, 1)))).toBe('87047f000001');
    expect(() => der.explicit(31, der.integer(0))).toThrow(RangeError);
  });
});

describe('readElement on hostile input', () => {
  it('gives a DecodeError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 70 }), (bytes, offset) => {
        try {
          const element = der.readElement(bytes, offset);
          expect(element.end).toBeLessThanOrEqual(bytes.length);
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
    expect(() => der.readElement(Buffer.from('3080', 'hex'))).toThrow(DecodeError); // indefinite length
    expect(() => der.readElement(Buffer.from('0405aabb', 'hex'))).toThrow(DecodeError);
  });
});
