/**
 * Types for the parts of `hpack.js` 2.1 (RFC 7541) that src/h2/hpack.ts uses: its bit-level
 * encoder/decoder (integers §5.1, strings and Huffman §5.2), its header table (§2.3, §4), the static
 * table (Appendix A), the Huffman code (Appendix B), and the stream-shaped Compressor/Decompressor
 * (kept for tests of its traps).
 * Strings in hpack.js are "byte strings": one char per octet (latin1).
 */
declare module 'hpack.js' {
  namespace hpack {
    interface TableEntry {
      name: string;
      value: string;
      nameSize: number;
      /** nameSize + valueSize + 32 (RFC 7541 §4.1). */
      totalSize: number;
    }

    interface StaticTable {
      table: TableEntry[];
      map: Record<string, { index: number; values: Record<string, number> }>;
    }

    interface TableOptions {
      /** The table's maximum size. (Its README's `size` is not read: eviction is then disabled.) */
      maxSize?: number;
      /** How many recent dynamic entries reverseLookup scans (default 32). */
      lookupDepth?: number;
      /** Not an option hpack.js reads; typed so that a test can show the README trap. */
      size?: number;
    }

    interface Table {
      static: StaticTable;
      dynamic: TableEntry[];
      /** Current size of the dynamic table in octets. */
      size: number;
      /** Current maximum size (changed by updateSize). */
      maxSize: number;
      /** Upper bound for updateSize (asserted). */
      protocolMaxSize: number;
      /** Static plus dynamic entries. */
      length: number;
      /** Entry at a 1-based index (static, then dynamic); throws when out of range. */
      lookup(index: number): TableEntry;
      /** > 0: full match index; < 0: name-only match (negated); 0: none. */
      reverseLookup(name: string, value: string): number;
      add(name: string, value: string, nameSize: number, valueSize: number): void;
      updateSize(size: number): void;
    }

    interface OffsetBuffer {
      has(n: number): boolean;
      peekUInt8(): number;
      isEmpty(): boolean;
    }

    interface Decoder {
      buffer: OffsetBuffer;
      push(chunk: Buffer): void;
      isEmpty(): boolean;
      decodeBit(): number;
      decodeInt(): number;
      /** Raw octets (a Buffer) or Huffman-decoded octets (a number[]). */
      decodeStr(): Buffer | number[];
    }

    interface Encoder {
      encodeBit(bit: number): void;
      encodeBits(bits: number, length: number): void;
      encodeInt(value: number): void;
      encodeStr(octets: ArrayLike<number>, huffman: boolean): void;
      render(): Buffer[];
    }

    interface HeaderInput {
      name: string;
      value: string;
      neverIndex?: boolean;
      huffman?: boolean;
      incremental?: boolean;
    }

    interface DecodedHeader {
      name: string;
      value: string;
      neverIndex: boolean;
    }

    interface Compressor {
      write(headers: HeaderInput[]): boolean;
      read(): Buffer | null;
      updateTableSize(size: number): void;
      _table: Table;
    }

    interface Decompressor {
      write(block: Buffer): boolean;
      execute(callback?: (error: Error | null) => void): void;
      read(): DecodedHeader | null;
      updateTableSize(size: number): void;
      on(event: 'error', listener: (error: Error) => void): this;
      _table: Table;
    }
  }

  const hpack: {
    decoder: { create(): hpack.Decoder };
    encoder: { create(): hpack.Encoder };
    table: { create(options: hpack.TableOptions): hpack.Table };
    'static-table': hpack.StaticTable;
    /** RFC 7541 Appendix B: `encode[octet]` is [code length in bits, code]; `decode` is a state table. */
    huffman: { encode: Array<[bits: number, code: number]>; decode: number[] };
    compressor: { create(options: { table: hpack.TableOptions }): hpack.Compressor };
    decompressor: { create(options: { table: hpack.TableOptions }): hpack.Decompressor };
  };
  export = hpack;
}
