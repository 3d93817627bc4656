/**
 * HPACK (RFC 7541) for HTTP/2 field blocks (RFC 9113 §4.3), as an adapter over `hpack.js`.
 *
 * hpack.js supplies the header table with eviction (§2.3, §4), the Huffman code (Appendix B) and
 * the bit-level decoder (§5.1, §5.2); hpack-writer.ts writes the encoder's octets. This file
 * chooses and reads the field representations (§6) itself, because hpack.js's own Compressor/Decompressor fall
 * into these traps (each has a test in test/h2/hpack.test.ts):
 *
 * - Its table option is `maxSize`; the README's `{ size }` leaves maxSize undefined, so nothing is
 *   ever evicted and every size update throws.
 * - Its Compressor never emits a Dynamic Table Size Update when the peer lowers
 *   SETTINGS_HEADER_TABLE_SIZE (nghttp2 then fails the connection). HpackEncoder emits it at the
 *   start of the next block, as the smallest-then-final pair when lowered then raised (§4.2).
 * - Its Decompressor accepts a size update in the middle of a block (§4.2 forbids it), and checks
 *   a size update only against the size it was created with, not the SETTINGS_HEADER_TABLE_SIZE in
 *   force (§6.3). Here both are COMPRESSION_ERROR.
 * - It cannot resume a truncated block: whole blocks only (HEADERS + CONTINUATION joined).
 * - It has no header-list size limit. HpackDecoder counts the §4.1 size of each field as it
 *   decodes (a bomb of references to a large dynamic entry stops growing memory at the limit) but
 *   still decodes the whole block so the table stays in sync (RFC 9113 §10.5.1).
 * - Its static-table map is a plain object: a field named "__proto__" throws, and a name
 *   "constructor" or a value such as "toString" on a known name encodes a garbage index. The tables
 *   here get a null-prototype copy.
 * - It keeps strings as one char per octet (latin1). Values here are UTF-8 on the wire: strings are
 *   encoded as UTF-8 octets, and decoded as UTF-8 (or kept as latin1 octets-as-chars on request) so
 *   that bytes round trip exactly.
 *
 * Any other throw from hpack.js while decoding is a COMPRESSION_ERROR (RFC 9113 §4.3), and after
 * one the decoder refuses further blocks: the compression context is lost.
 */
import hpack from 'hpack.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { ErrorCode, H2Error, connectionError } from './errors.js';
import { FieldBlockWriter } from './hpack-writer.js';

/** A decoded field line: lower-case name as received, value as a string. */
export type HeaderField = [name: string, value: string];

/** A field to encode; `sensitive` forces a never-indexed literal (RFC 7541 §6.2.3, §7.1.3). */
export type FieldInput = readonly [name: string, value: string | Uint8Array, sensitive?: boolean];

/** SETTINGS_HEADER_TABLE_SIZE initial value (RFC 9113 §6.5.2) both sides assume at first. */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;

/** RFC 7541 §4.1: a field's size is its name and value octets plus 32. */
export const ENTRY_OVERHEAD = 32;

/** Static table lookups that a field named "constructor" or a value "toString" cannot confuse. */
const SAFE_STATIC: hpack.StaticTable = (() => {
  const original = hpack['static-table'];
  const map: hpack.StaticTable['map'] = Object.create(null);
  for (const [name, entry] of Object.entries(original.map)) {
    map[name] = { index: entry.index, values: Object.assign(Object.create(null), entry.values) };
  }
  return { table: original.table, map };
})();

function createTable(maxSize: number): hpack.Table {
  const table = hpack.table.create({ maxSize });
  table.static = SAFE_STATIC;
  return table;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The octets of a name or value as a "byte string" (one char per octet), the form hpack.js tables
 * compare and size: ASCII strings as they are, other strings as their UTF-8 octets.
 */
function byteString(input: string | Uint8Array): string {
  if (typeof input === 'string') {
    return NON_ASCII.test(input) ? Buffer.from(input, 'utf8').toString('latin1') : input;
  }
  return Buffer.from(input.buffer, input.byteOffset, input.length).toString('latin1');
}

export interface HpackEncoderOptions {
  /** Most dynamic table space this encoder uses, whatever the peer allows (default 4096; 0 = none). */
  maxTableSize?: number;
  /** More names always sent as never-indexed literals (lower case). */
  sensitiveNames?: Iterable<string>;
  /** Huffman-code ASCII strings (default true); strings with octets ≥ 0x80 are sent raw, shorter. */
  huffman?: boolean;
}

/** Encodes header lists into field blocks, keeping the dynamic table in step with the peer. */
export class HpackEncoder {
  private readonly table: hpack.Table;
  private readonly capacity: number;
  private readonly sensitiveNames: ReadonlySet<string>;
  private readonly huffman: boolean;
  /** Reused for every block: the dynamic table persists per connection (§2.3.2), so does this. */
  private readonly writer = new FieldBlockWriter();
  /** Smallest and latest table size since the last block, not yet signalled (RFC 7541 §4.2). */
  private pendingMin: number | null = null;
  private pendingFinal: number | null = null;

  constructor(options: HpackEncoderOptions = {}) {
    this.capacity = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    this.sensitiveNames = new Set(options.sensitiveNames ?? []);
    this.huffman = options.huffman ?? true;
    this.table = createTable(Math.max(this.capacity, DEFAULT_HEADER_TABLE_SIZE));
    this.table.updateSize(DEFAULT_HEADER_TABLE_SIZE);
    this.table.protocolMaxSize = this.capacity;
    if (this.capacity < DEFAULT_HEADER_TABLE_SIZE) this.setPeerMaxTableSize(DEFAULT_HEADER_TABLE_SIZE);
  }

  /** Octets in the dynamic table now. */
  get tableSize(): number {
    return this.table.size;
  }

  /** The table's current maximum size (as last signalled, or assumed). */
  get maxTableSize(): number {
    return this.table.maxSize;
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE changed (RFC 9113 §6.5.2). The next block starts with the
   * size update(s) RFC 7541 §4.2 requires.
   */
  setPeerMaxTableSize(size: number): void {
    const effective = Math.min(size, this.capacity);
    this.pendingMin = Math.min(this.pendingMin ?? this.table.maxSize, effective);
    this.pendingFinal = effective;
  }

  /** One complete field block for a HEADERS/PUSH_PROMISE (+ CONTINUATION) sequence. */
  encode(fields: Iterable<FieldInput>): Buffer {
    const writer = this.writer;
    writer.reset();
    this.signalSizeChange(writer);
    for (const [name, value, sensitive] of fields) this.encodeField(writer, name, value, sensitive);
    return writer.finish();
  }

  /** RFC 7541 §4.2, §6.3: "001" + 5-bit prefix size, smallest first, then the final size. */
  private signalSizeChange(writer: FieldBlockWriter): void {
    if (this.pendingFinal === null) return;
    const min = this.pendingMin!;
    const final = this.pendingFinal;
    this.pendingMin = this.pendingFinal = null;
    if (min < this.table.maxSize && min < final) this.writeSizeUpdate(writer, min);
    if (final !== this.table.maxSize) this.writeSizeUpdate(writer, final);
  }

  private writeSizeUpdate(writer: FieldBlockWriter, size: number): void {
    writer.writeInt(0x20, 5, size);
    this.table.updateSize(size);
  }

  private encodeField(writer: FieldBlockWriter, nameInput: string, valueInput: string | Uint8Array, sensitive?: boolean): void {
    const name = byteString(nameInput);
    const value = byteString(valueInput);
    const index = this.table.reverseLookup(name, value);
    const nameIndex = Math.abs(index);
    if (sensitive ?? this.isSensitive(name, value.length)) {
      // RFC 7541 §6.2.3: literal never indexed, "0001" + 4-bit prefix name index.
      writer.writeInt(0x10, 4, nameIndex);
    } else if (index > 0) {
      // RFC 7541 §6.1: indexed field, "1" + 7-bit prefix index.
      writer.writeInt(0x80, 7, index);
      return;
    } else if (name.length + value.length + ENTRY_OVERHEAD > this.table.maxSize) {
      // Would evict the whole table for nothing (RFC 7541 §4.4): literal without indexing, §6.2.2.
      writer.writeInt(0x00, 4, nameIndex);
    } else {
      // RFC 7541 §6.2.1: literal with incremental indexing, "01" + 6-bit prefix name index.
      writer.writeInt(0x40, 6, nameIndex);
      this.table.add(name, value, name.length, value.length);
    }
    if (nameIndex === 0) this.writeString(writer, name);
    this.writeString(writer, value);
  }

  /** RFC 7541 §5.2 string literal of a byte string. */
  private writeString(writer: FieldBlockWriter, string: string): void {
    // Octets ≥ 0x80 have 19–30 bit Huffman codes (RFC 7541 Appendix B): raw is shorter.
    writer.writeString(string, this.huffman && !NON_ASCII.test(string));
  }

  /**
   * RFC 7541 §7.1.3: credentials are never indexed, and neither are short cookies, whose low
   * entropy makes them guessable through the dynamic table (the threshold 20 follows nghttp2).
   */
  private isSensitive(name: string, valueLength: number): boolean {
    return (
      name === 'authorization' ||
      name === 'proxy-authorization' ||
      (name === 'cookie' && valueLength < 20) ||
      this.sensitiveNames.has(name)
    );
  }
}

export interface HpackDecoderOptions {
  /**
   * The SETTINGS_HEADER_TABLE_SIZE both sides already agree on (default 4096, the initial value).
   * A connection keeps the default and calls setMaxTableSize() once its SETTINGS is acknowledged.
   */
  maxTableSize?: number;
  /** The SETTINGS_MAX_HEADER_LIST_SIZE we enforce, in RFC 7541 §4.1 octets. */
  maxHeaderListSize?: number;
  /** 'utf8' (default) decodes value octets as UTF-8; 'latin1' keeps one char per octet, exactly. */
  valueEncoding?: 'utf8' | 'latin1';
}

/**
 * The decoded header list exceeded our SETTINGS_MAX_HEADER_LIST_SIZE. The block was still decoded in
 * full, so the compression context is intact and the connection goes on: a server answers 431
 * (RFC 6585 §5) or resets the stream, a client resets it (RFC 9113 §10.5.1, §6.5.2).
 */
export class HeaderListTooLargeError extends H2Error {
  override readonly name = 'HeaderListTooLargeError';
  constructor(readonly listSize: number, readonly limit: number) {
    super(ErrorCode.PROTOCOL_ERROR, `header list of at least ${listSize} octets exceeds ${limit}`, 'RFC 9113 §10.5.1', 'stream');
  }
}

function compressionError(message: string, section = 'RFC 9113 §4.3'): H2Error {
  return connectionError(ErrorCode.COMPRESSION_ERROR, message, section);
}

/** Decodes whole field blocks into header lists. */
export class HpackDecoder {
  /** Fields beyond this total size are counted but not kept; the block then throws HeaderListTooLargeError. */
  maxHeaderListSize: number;
  private readonly table: hpack.Table;
  private readonly reader = hpack.decoder.create();
  private readonly valueEncoding: 'utf8' | 'latin1';
  /** Our SETTINGS_HEADER_TABLE_SIZE in force: the most a size update may ask for. */
  private limit: number;
  /** Set when our limit dropped below the table's size: the next block must start with an update. */
  private updateRequired = false;
  private failure: H2Error | null = null;

  constructor(options: HpackDecoderOptions = {}) {
    this.limit = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    this.maxHeaderListSize = options.maxHeaderListSize ?? DEFAULT_LIMITS.maxHeaderListBytes;
    this.valueEncoding = options.valueEncoding ?? 'utf8';
    this.table = createTable(this.limit);
  }

  /** Octets in the dynamic table now. */
  get tableSize(): number {
    return this.table.size;
  }

  /** The table's current maximum size, as last set by the peer's encoder. */
  get maxTableSize(): number {
    return this.table.maxSize;
  }

  /** Dynamic table entries, newest first (index 62 first), with their §4.1 sizes. */
  entries(): Array<{ name: string; value: string; size: number }> {
    return this.table.dynamic.map((e) => ({ name: e.name, value: e.value, size: e.totalSize })).reverse();
  }

  /**
   * Our SETTINGS_HEADER_TABLE_SIZE changed and the peer acknowledged it. When it is below the
   * table's current size, the peer's next block must begin with a size update (RFC 7541 §4.2).
   */
  setMaxTableSize(size: number): void {
    this.limit = size;
    if (this.table.maxSize > size) this.updateRequired = true;
  }

  /** Decodes one complete field block. Throws H2Error: COMPRESSION_ERROR or HeaderListTooLargeError. */
  decode(block: Uint8Array): HeaderField[] {
    if (this.failure) throw this.failure;
    const fields: HeaderField[] = [];
    let listSize = 0;
    let atStart = true;
    try {
      this.reader.push(Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.length));
      while (!this.reader.isEmpty()) {
        // Representations end on octet boundaries, so the next one starts at a whole octet.
        if ((this.reader.buffer.peekUInt8() & 0xe0) === 0x20) {
          if (!atStart) throw compressionError('dynamic table size update after a field line', 'RFC 7541 §4.2');
          this.readSizeUpdate();
          continue;
        }
        if (atStart) {
          atStart = false;
          this.checkRequiredUpdate();
        }
        const [name, value, size] = this.readField();
        listSize += size;
        if (listSize <= this.maxHeaderListSize) fields.push([name, value]);
      }
      if (atStart) this.checkRequiredUpdate();
    } catch (error) {
      this.failure = error instanceof H2Error ? error : compressionError(`undecodable field block: ${(error as Error).message}`);
      throw this.failure;
    }
    if (listSize > this.maxHeaderListSize) throw new HeaderListTooLargeError(listSize, this.maxHeaderListSize);
    return fields;
  }

  private checkRequiredUpdate(): void {
    if (this.updateRequired && this.table.maxSize > this.limit) {
      throw compressionError(`block lacks the size update down to ${this.limit}`, 'RFC 7541 §4.2');
    }
    this.updateRequired = false;
  }

  /** RFC 7541 §6.3: "001" + 5-bit prefix new maximum size, at most the SETTINGS limit. */
  private readSizeUpdate(): void {
    this.reader.decodeBit();
    this.reader.decodeBit();
    this.reader.decodeBit();
    const size = this.reader.decodeInt();
    if (size > this.limit) {
      throw compressionError(`table size update to ${size} exceeds SETTINGS_HEADER_TABLE_SIZE ${this.limit}`, 'RFC 7541 §6.3');
    }
    this.table.protocolMaxSize = this.limit;
    this.table.updateSize(size);
  }

  /** One field line (RFC 7541 §6.1, §6.2) as [name, value, §4.1 size]. */
  private readField(): [string, string, number] {
    const reader = this.reader;
    if (reader.decodeBit()) {
      // §6.1 indexed field; lookup throws on index 0 or past the table (→ COMPRESSION_ERROR).
      const entry = this.table.lookup(reader.decodeInt());
      return [entry.name, entry.value, entry.totalSize];
    }
    const incremental = reader.decodeBit() === 1; // §6.2.1 "01"
    if (!incremental) {
      reader.decodeBit(); // the "0" of §6.2.2 "0000" / §6.2.3 "0001" (size updates were taken above)
      reader.decodeBit(); // never-indexed flag: this decoder does not re-encode, so nothing to keep
    }
    const index = reader.decodeInt();
    let name: string;
    let nameSize: number;
    if (index === 0) {
      const bytes = toBuffer(reader.decodeStr());
      name = bytes.toString('latin1');
      nameSize = bytes.length;
    } else {
      const entry = this.table.lookup(index);
      name = entry.name;
      nameSize = entry.nameSize;
    }
    const valueBytes = toBuffer(reader.decodeStr());
    const value = valueBytes.toString(this.valueEncoding);
    if (incremental) this.table.add(name, value, nameSize, valueBytes.length);
    return [name, value, nameSize + valueBytes.length + ENTRY_OVERHEAD];
  }
}

function toBuffer(octets: Buffer | number[]): Buffer {
  return Buffer.isBuffer(octets) ? octets : Buffer.from(octets);
}
