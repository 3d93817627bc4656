/**
 * A small DER writer (ITU-T X.690 §8, §10, §11): the handful of ASN.1 types an X.509 certificate
 * (RFC 5280) needs. Every function is pure and returns the complete encoding (tag, length,
 * contents) of one value, so that structures are built by nesting calls. `readElement` is the
 * one reading tool: enough to step through a structure and lift a field out unchanged.
 */
import { DecodeError } from '../core/errors.js';

/** Universal class tag numbers (X.680 §8.4) with the constructed bit where DER requires it. */
const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Length octets (X.690 §8.1.3, §10.1): short form below 128, else the fewest long-form octets. */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`DER length ${length}`);
  if (length < 0x80) return Buffer.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** One tag-length-value from a single identifier octet (tag numbers 0..30) and its contents. */
export function tlv(tag: number, contents: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(tag), encodeLength(contents.length), contents]);
}

export function sequence(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(elements));
}

/** SET OF: DER orders the elements by their encodings, as octet strings (X.690 §11.6). */
export function setOf(...elements: Uint8Array[]): Buffer {
  const sorted = elements.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength)).sort(Buffer.compare);
  return tlv(TAG.SET, Buffer.concat(sorted));
}

/** BOOLEAN: DER TRUE is 0xff (X.690 §11.1). */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.of(value ? 0xff : 0x00));
}

export function nullValue(): Buffer {
  return tlv(TAG.NULL, Buffer.alloc(0));
}

/** INTEGER in minimal two's complement (X.690 §8.3.2: no redundant leading 0x00 or 0xff octet). */
export function integer(value: bigint | number): Buffer {
  let n = BigInt(value);
  const octets: number[] = [];
  // Emit low octets until the rest is pure sign extension of the top octet's sign bit.
  for (;;) {
    const octet = Number(n & 0xffn);
    octets.unshift(octet);
    n >>= 8n;
    if ((n === 0n && (octet & 0x80) === 0) || (n === -1n && (octet & 0x80) !== 0)) break;
  }
  return tlv(TAG.INTEGER, Buffer.from(octets));
}

/** A non-negative INTEGER given as big-endian magnitude bytes (serial numbers): leading zeros dropped, 0x00 added if the top bit is set. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.length === 0 ? Buffer.of(0) : Buffer.from(magnitude.subarray(start));
  return tlv(TAG.INTEGER, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed);
}

/** OBJECT IDENTIFIER from dotted form (X.690 §8.19): first two arcs as 40·a + b, arcs in base 128. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`bad OID arc in ${dotted}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new RangeError(`bad OID ${dotted}`);
  const subidentifiers = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const octets: number[] = [];
  for (const sub of subidentifiers) {
    const group: number[] = [Number(sub & 0x7fn)];
    for (let rest = sub >> 7n; rest > 0n; rest >>= 7n) group.unshift(Number(rest & 0x7fn) | 0x80);
    octets.push(...group);
  }
  return tlv(TAG.OID, Buffer.from(octets));
}

/** BIT STRING of whole octets, or with `unusedBits` (0..7) padding bits at the end (X.690 §8.6). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (unusedBits > 0 && bytes.length === 0)) {
    throw new RangeError('BIT STRING unused bits must be 0..7, and 0 when empty');
  }
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.of(unusedBits), bytes]));
}

/**
 * BIT STRING of named bits, e.g. KeyUsage (RFC 5280 §4.2.1.3): bit 0 is the most significant bit of
 * the first octet, and DER drops trailing zero bits (X.690 §11.2.2).
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0) throw new RangeError(`bad named bit ${bit}`);
    bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  }
  return bitString(bytes, 7 - (highest & 7));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

/** PrintableString: A-Z a-z 0-9 space ' ( ) + , - . / : = ? only (X.680 §41.4). */
export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError(`not a PrintableString: ${JSON.stringify(text)}`);
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

/** IA5String: 7-bit ASCII (X.680 §41.1). */
export function ia5String(text: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new RangeError(`not an IA5String: ${JSON.stringify(text)}`);
  return tlv(TAG.IA5_STRING, Buffer.from(text, 'latin1'));
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "YYMMDDHHMMSS" plus "Z" at whole seconds in UTC (X.690 §11.8; RFC 5280 §4.1.2.5.1). */
function utcDigits(date: Date): string {
  return (
    pad2(date.getUTCMonth() + 1) + pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) + pad2(date.getUTCMinutes()) + pad2(date.getUTCSeconds()) + 'Z'
  );
}

/** UTCTime: years 1950..2049 (RFC 5280 §4.1.2.5.1), YYMMDDHHMMSSZ. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError('UTCTime holds years 1950..2049 (RFC 5280 §4.1.2.5.1)');
  return tlv(TAG.UTC_TIME, Buffer.from(pad2(year % 100) + utcDigits(date), 'latin1'));
}

/** GeneralizedTime: YYYYMMDDHHMMSSZ, no fractional seconds (RFC 5280 §4.1.2.5.2). */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError('GeneralizedTime holds years 0000..9999');
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(String(year).padStart(4, '0') + utcDigits(date), 'latin1'));
}

/** Certificate validity time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function time(date: Date): Buffer {
  return date.getUTCFullYear() < 2050 ? utcTime(date) : generalizedTime(date);
}

/** [n] EXPLICIT: a constructed context-specific tag around a complete encoding (X.690 §8.14). */
export function explicit(tagNumber: number, encoding: Uint8Array): Buffer {
  return tlv(0xa0 | contextTagNumber(tagNumber), encoding);
}

/** [n] IMPLICIT over a primitive type: the contents octets under a context-specific tag. */
export function implicitPrimitive(tagNumber: number, contents: Uint8Array): Buffer {
  return tlv(0x80 | contextTagNumber(tagNumber), contents);
}

function contextTagNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError('context tag numbers 0..30 fit in one octet');
  return n;
}

export interface DerElement {
  /** Identifier octet (tag numbers 0..30 only). */
  tag: number;
  /** The contents octets. */
  contents: Buffer;
  /** The whole encoding, tag through contents. */
  encoding: Buffer;
  /** Offset just past this element in the input. */
  end: number;
}

/** Reads the element at `offset` (X.690 §8.1, definite lengths only as DER requires, §10.1). */
export function readElement(input: Uint8Array, offset = 0): DerElement {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (offset + 2 > bytes.length) throw new DecodeError('DER: truncated element');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DecodeError('DER: multi-octet tags are not supported');
  let length = bytes[offset + 1]!;
  let headerLength = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new DecodeError('DER: indefinite or oversized length');
    if (offset + 2 + octets > bytes.length) throw new DecodeError('DER: truncated length');
    length = bytes.readUIntBE(offset + 2, octets);
    headerLength += octets;
  }
  const end = offset + headerLength + length;
  if (end > bytes.length) throw new DecodeError('DER: contents run past the input');
  return { tag, contents: bytes.subarray(offset + headerLength, end), encoding: bytes.subarray(offset, end), end };
}
