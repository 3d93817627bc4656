/**
 * The wire format of an encoded field section (RFC 9204 §4.5): the prefix with Required Insert
 * Count and Base (§4.5.1), and the five field line representations (§4.5.2–§4.5.6):
 *
 *   1Txxxxxx  Indexed Field Line (6+)                                   §4.5.2
 *   0001xxxx  Indexed Field Line with Post-Base Index (4+)              §4.5.3
 *   01NTxxxx  Literal with Name Reference (4+), value (8+)              §4.5.4
 *   0000Nxxx  Literal with Post-Base Name Reference (3+), value (8+)    §4.5.5
 *   001NHxxx  Literal with Literal Name, name (4+), value (8+)          §4.5.6
 *
 * Only the shapes live here; what an index refers to is the decoder's and encoder's business.
 * A field section arrives whole (one HEADERS frame), so running out of bytes is a DecodeError.
 */
import { DecodeError } from '../../core/errors.js';
import type { ByteWriter } from './byte-writer.js';
import { readPrefixedInt, writePrefixedInt, type IntRead } from './prefixed-int.js';
import { isIncomplete, readStringLiteral, writeStringLiteral, type StringRead } from './string-literal.js';

export type FieldLineRepresentation =
  /** Dynamic `index` is relative to Base: absolute = Base - 1 - index (§3.2.5). */
  | { type: 'indexed'; isStatic: boolean; index: number }
  /** absolute = Base + index (§3.2.6). */
  | { type: 'indexed_post_base'; index: number }
  | { type: 'literal_name_ref'; neverIndex: boolean; isStatic: boolean; nameIndex: number; value: string }
  | { type: 'literal_post_base_name_ref'; neverIndex: boolean; nameIndex: number; value: string }
  | { type: 'literal'; neverIndex: boolean; name: string; value: string };

// ---------------------------------------------------------------------------------------------
// Required Insert Count (RFC 9204 §4.5.1.1)

/** MaxEntries = floor(MaxTableCapacity / 32), from the decoder's advertised maximum. */
export function maxEntries(maxTableCapacity: number): number {
  return Math.floor(maxTableCapacity / 32);
}

/** RFC 9204 §4.5.1.1: EncInsertCount = (ReqInsertCount mod (2 * MaxEntries)) + 1, or 0. */
export function encodeRequiredInsertCount(requiredInsertCount: number, entries: number): number {
  if (requiredInsertCount === 0) return 0;
  return (requiredInsertCount % (2 * entries)) + 1;
}

/**
 * RFC 9204 §4.5.1.1: reconstructs Required Insert Count from its encoding and the decoder's
 * total number of inserts. Values no conformant encoder could produce are a DecodeError.
 */
export function decodeRequiredInsertCount(encoded: number, entries: number, totalInserts: number): number {
  if (encoded === 0) return 0;
  const fullRange = 2 * entries;
  if (encoded > fullRange) throw new DecodeError(`encoded Required Insert Count ${encoded} exceeds ${fullRange}`);
  const maxValue = totalInserts + entries;
  const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
  let required = maxWrapped + encoded - 1;
  // If the value exceeds MaxValue, the encoder's value wrapped one fewer time.
  if (required > maxValue) {
    if (required <= fullRange) throw new DecodeError('encoded Required Insert Count cannot be reached');
    required -= fullRange;
  }
  // A Required Insert Count of 0 must be encoded as 0.
  if (required === 0) throw new DecodeError('Required Insert Count 0 encoded as non-zero');
  return required;
}

// ---------------------------------------------------------------------------------------------
// Prefix (RFC 9204 §4.5.1)

export interface FieldSectionPrefix {
  encodedInsertCount: number;
  /** Base relative to the Required Insert Count: S bit and Delta Base (§4.5.1.2). */
  sign: boolean;
  deltaBase: number;
  /** Offset of the first field line. */
  next: number;
}

export function readFieldSectionPrefix(bytes: Uint8Array): FieldSectionPrefix {
  const ric = complete(readPrefixedInt(bytes, 0, 8));
  const delta = complete(readPrefixedInt(bytes, ric.next, 7));
  return { encodedInsertCount: ric.value, sign: (bytes[ric.next]! & 0x80) !== 0, deltaBase: delta.value, next: delta.next };
}

/** RFC 9204 §4.5.1.2: Base from Required Insert Count, S and Delta Base; never negative. */
export function baseFromPrefix(requiredInsertCount: number, sign: boolean, deltaBase: number): number {
  if (!sign) return requiredInsertCount + deltaBase;
  if (requiredInsertCount <= deltaBase) throw new DecodeError('negative Base (RFC 9204 §4.5.1.2)');
  return requiredInsertCount - deltaBase - 1;
}

export function writeFieldSectionPrefix(w: ByteWriter, requiredInsertCount: number, base: number, entries: number): void {
  writePrefixedInt(w, 0, 8, encodeRequiredInsertCount(requiredInsertCount, entries));
  if (base >= requiredInsertCount) writePrefixedInt(w, 0x00, 7, base - requiredInsertCount);
  else writePrefixedInt(w, 0x80, 7, requiredInsertCount - base - 1);
}

// ---------------------------------------------------------------------------------------------
// Field lines (RFC 9204 §4.5.2–§4.5.6)

function complete(read: IntRead | null): IntRead {
  if (!read) throw new DecodeError('field section ends inside an integer');
  return read;
}

function completeString(read: StringRead | { need: number }): StringRead {
  if (isIncomplete(read)) throw new DecodeError('field section ends inside a string');
  return read;
}

/** Parses the field line at `offset`; strings over `maxStringLength` are a DecodeError. */
export function parseFieldLine(
  bytes: Uint8Array,
  offset: number,
  maxStringLength: number,
): { value: FieldLineRepresentation; next: number } {
  const first = bytes[offset]!;
  if (first & 0x80) {
    const index = complete(readPrefixedInt(bytes, offset, 6));
    return { value: { type: 'indexed', isStatic: (first & 0x40) !== 0, index: index.value }, next: index.next };
  }
  if (first & 0x40) {
    const nameIndex = complete(readPrefixedInt(bytes, offset, 4));
    const value = completeString(readStringLiteral(bytes, nameIndex.next, 8, maxStringLength));
    return {
      value: {
        type: 'literal_name_ref',
        neverIndex: (first & 0x20) !== 0,
        isStatic: (first & 0x10) !== 0,
        nameIndex: nameIndex.value,
        value: value.value,
      },
      next: value.next,
    };
  }
  if (first & 0x20) {
    const name = completeString(readStringLiteral(bytes, offset, 4, maxStringLength));
    const value = completeString(readStringLiteral(bytes, name.next, 8, maxStringLength));
    return { value: { type: 'literal', neverIndex: (first & 0x10) !== 0, name: name.value, value: value.value }, next: value.next };
  }
  if (first & 0x10) {
    const index = complete(readPrefixedInt(bytes, offset, 4));
    return { value: { type: 'indexed_post_base', index: index.value }, next: index.next };
  }
  const nameIndex = complete(readPrefixedInt(bytes, offset, 3));
  const value = completeString(readStringLiteral(bytes, nameIndex.next, 8, maxStringLength));
  return {
    value: { type: 'literal_post_base_name_ref', neverIndex: (first & 0x08) !== 0, nameIndex: nameIndex.value, value: value.value },
    next: value.next,
  };
}

/** Writes one field line; `huffman: false` sends strings as they are (as RFC 9204 Appendix B does). */
export function writeFieldLine(w: ByteWriter, line: FieldLineRepresentation, huffman = true): void {
  switch (line.type) {
    case 'indexed':
      writePrefixedInt(w, line.isStatic ? 0xc0 : 0x80, 6, line.index);
      return;
    case 'indexed_post_base':
      writePrefixedInt(w, 0x10, 4, line.index);
      return;
    case 'literal_name_ref':
      writePrefixedInt(w, 0x40 | (line.neverIndex ? 0x20 : 0) | (line.isStatic ? 0x10 : 0), 4, line.nameIndex);
      writeStringLiteral(w, 0, 8, line.value, huffman);
      return;
    case 'literal_post_base_name_ref':
      writePrefixedInt(w, line.neverIndex ? 0x08 : 0, 3, line.nameIndex);
      writeStringLiteral(w, 0, 8, line.value, huffman);
      return;
    case 'literal':
      writeStringLiteral(w, 0x20 | (line.neverIndex ? 0x10 : 0), 4, line.name, huffman);
      writeStringLiteral(w, 0, 8, line.value, huffman);
      return;
  }
}
