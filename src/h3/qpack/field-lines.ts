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

/**
 * Reads field lines in place, one after the other: the decoder's hot path. The line just read is
 * in the reader's fields (overwritten by the next one), so decoding a section makes no object per
 * line. Strings over `maxStringLength` and lines cut short are a DecodeError.
 */
export class FieldLineReader {
  /** Representation of the line just read (RFC 9204 §4.5.2–§4.5.6). */
  type: FieldLineRepresentation['type'] = 'indexed';
  /** T bit: the index (or name index) is into the static table. */
  isStatic = false;
  /** N bit: an intermediary must not index this field (RFC 9204 §4.5.4). */
  neverIndex = false;
  /** Index of an indexed line, or the name index of a literal with a name reference. */
  index = 0;
  /** Name of a literal with literal name. */
  name = '';
  /** Value of any literal. */
  value = '';

  constructor(
    private readonly bytes: Uint8Array,
    /** Offset of the next line. */
    public offset: number,
    private readonly maxStringLength: number,
  ) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  /** Reads the line at `offset`. */
  next(): void {
    const first = this.bytes[this.offset]!;
    if (first & 0x80) {
      this.type = 'indexed';
      this.isStatic = (first & 0x40) !== 0;
      this.index = this.int(6);
    } else if (first & 0x40) {
      this.type = 'literal_name_ref';
      this.neverIndex = (first & 0x20) !== 0;
      this.isStatic = (first & 0x10) !== 0;
      this.index = this.int(4);
      this.value = this.string(8);
    } else if (first & 0x20) {
      this.type = 'literal';
      this.neverIndex = (first & 0x10) !== 0;
      this.name = this.string(4);
      this.value = this.string(8);
    } else if (first & 0x10) {
      this.type = 'indexed_post_base';
      this.index = this.int(4);
    } else {
      this.type = 'literal_post_base_name_ref';
      this.neverIndex = (first & 0x08) !== 0;
      this.index = this.int(3);
      this.value = this.string(8);
    }
  }

  /** The line just read as a representation value. */
  representation(): FieldLineRepresentation {
    switch (this.type) {
      case 'indexed':
        return { type: 'indexed', isStatic: this.isStatic, index: this.index };
      case 'indexed_post_base':
        return { type: 'indexed_post_base', index: this.index };
      case 'literal_name_ref':
        return { type: 'literal_name_ref', neverIndex: this.neverIndex, isStatic: this.isStatic, nameIndex: this.index, value: this.value };
      case 'literal_post_base_name_ref':
        return { type: 'literal_post_base_name_ref', neverIndex: this.neverIndex, nameIndex: this.index, value: this.value };
      case 'literal':
        return { type: 'literal', neverIndex: this.neverIndex, name: this.name, value: this.value };
    }
  }

  private int(prefixBits: number): number {
    const bytes = this.bytes;
    const offset = this.offset;
    // One byte is the common case (small indices): no IntRead object for it.
    if (offset < bytes.length) {
      const max = (1 << prefixBits) - 1;
      const small = bytes[offset]! & max;
      if (small < max) {
        this.offset = offset + 1;
        return small;
      }
    }
    const read = complete(readPrefixedInt(bytes, offset, prefixBits));
    this.offset = read.next;
    return read.value;
  }

  private string(prefixBits: number): string {
    const read = completeString(readStringLiteral(this.bytes, this.offset, prefixBits, this.maxStringLength));
    this.offset = read.next;
    return read.value;
  }
}

/** Parses the field line at `offset`; strings over `maxStringLength` are a DecodeError. */
export function parseFieldLine(
  bytes: Uint8Array,
  offset: number,
  maxStringLength: number,
): { value: FieldLineRepresentation; next: number } {
  const reader = new FieldLineReader(bytes, offset, maxStringLength);
  reader.next();
  return { value: reader.representation(), next: reader.offset };
}

/** Writes one field line; `huffman: false` sends strings as they are (as RFC 9204 Appendix B does). */
export function writeFieldLine(w: ByteWriter, line: FieldLineRepresentation, huffman = true): void {
  switch (line.type) {
    case 'indexed':
      writeIndexedLine(w, line.isStatic, line.index);
      return;
    case 'indexed_post_base':
      writeIndexedPostBaseLine(w, line.index);
      return;
    case 'literal_name_ref':
      writeLiteralNameRefLine(w, line.neverIndex, line.isStatic, line.nameIndex, line.value, huffman);
      return;
    case 'literal_post_base_name_ref':
      writeLiteralPostBaseNameRefLine(w, line.neverIndex, line.nameIndex, line.value, huffman);
      return;
    case 'literal':
      writeLiteralLine(w, line.neverIndex, line.name, line.value, huffman);
      return;
  }
}

// One writer per representation, for the encoder's hot path (no representation object per line).

/** Indexed Field Line (§4.5.2). */
export function writeIndexedLine(w: ByteWriter, isStatic: boolean, index: number): void {
  writePrefixedInt(w, isStatic ? 0xc0 : 0x80, 6, index);
}

/** Indexed Field Line with Post-Base Index (§4.5.3). */
export function writeIndexedPostBaseLine(w: ByteWriter, index: number): void {
  writePrefixedInt(w, 0x10, 4, index);
}

/** Literal Field Line with Name Reference (§4.5.4). */
export function writeLiteralNameRefLine(w: ByteWriter, neverIndex: boolean, isStatic: boolean, nameIndex: number, value: string, huffman = true): void {
  writePrefixedInt(w, 0x40 | (neverIndex ? 0x20 : 0) | (isStatic ? 0x10 : 0), 4, nameIndex);
  writeStringLiteral(w, 0, 8, value, huffman);
}

/** Literal Field Line with Post-Base Name Reference (§4.5.5). */
export function writeLiteralPostBaseNameRefLine(w: ByteWriter, neverIndex: boolean, nameIndex: number, value: string, huffman = true): void {
  writePrefixedInt(w, neverIndex ? 0x08 : 0, 3, nameIndex);
  writeStringLiteral(w, 0, 8, value, huffman);
}

/** Literal Field Line with Literal Name (§4.5.6). */
export function writeLiteralLine(w: ByteWriter, neverIndex: boolean, name: string, value: string, huffman = true): void {
  writeStringLiteral(w, 0x20 | (neverIndex ? 0x10 : 0), 4, name, huffman);
  writeStringLiteral(w, 0, 8, value, huffman);
}
