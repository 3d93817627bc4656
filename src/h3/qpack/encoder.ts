/**
 * The QPACK encoder (RFC 9204 §2.1): turns field sections into field line representations,
 * inserting repeated fields into the dynamic table when the peer's decoder allows one, and
 * keeping the rules that make that safe:
 *   - never more blocked streams than SETTINGS_QPACK_BLOCKED_STREAMS (§2.1.2);
 *   - never evict an entry that is unacknowledged or referenced by an unacknowledged field
 *     section (§2.1.1); entries near eviction (below the draining index) are not referenced but
 *     duplicated (§2.1.1.1);
 *   - no encoder instruction at all while the peer's maximum capacity is 0 (§3.2.3);
 *   - sensitive fields go as never-indexed literals (N bit, §7.1.3).
 * The peer's decoder stream (§4.4) is read by `onDecoderStreamData`; errors there are
 * QPACK_DECODER_STREAM_ERROR.
 *
 * Single pass, as in RFC 9204 Appendix C: Base is the insert count when a section starts, so
 * entries inserted for the section are referenced with post-base indices.
 */
import { DecodeError } from '../../core/errors.js';
import { H3Error, QpackErrorCode } from '../errors.js';
import { ByteWriter } from './byte-writer.js';
import { DynamicTable, entrySize } from './dynamic-table.js';
import {
  maxEntries,
  writeFieldSectionPrefix,
  writeIndexedLine,
  writeIndexedPostBaseLine,
  writeLiteralLine,
  writeLiteralNameRefLine,
  writeLiteralPostBaseNameRefLine,
} from './field-lines.js';
import {
  InstructionReader,
  parseDecoderInstruction,
  writeEncoderInstruction,
  type DecoderInstruction,
  type EncoderInstruction,
} from './instructions.js';
import { staticIndexOf, staticNameIndex } from './static-table.js';
import { StreamTable } from '../../core/stream-table.js';

/** Fields whose values are secrets: never indexed, sent with the N bit (RFC 9204 §7.1.3). */
export const DEFAULT_SENSITIVE_NAMES: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/** Fields whose values rarely repeat: inserting them would only push useful entries out. */
const UNIQUE_VALUE_NAMES = new Set([
  'content-length',
  'content-range',
  'date',
  'etag',
  'expires',
  'last-modified',
  'if-modified-since',
  'if-none-match',
  'age',
  'location',
  'x-request-id',
  'traceparent',
]);

export interface QpackEncoderOptions {
  /** Largest table we use, even when the peer allows more (memory we keep per connection). */
  maxTableCapacity?: number;
  /** Names sent as never-indexed literals; default DEFAULT_SENSITIVE_NAMES. */
  sensitiveNames?: Iterable<string>;
  /** Whether a field is worth inserting into the dynamic table. */
  shouldIndex?: (name: string, value: string) => boolean;
  /** Huffman-code strings when shorter (default true). */
  huffman?: boolean;
}

/** A field section with dynamic references that the decoder has not acknowledged yet. */
interface OutstandingSection {
  requiredInsertCount: number;
  references: number[];
}

function decoderStreamError(message: string, section: string): H3Error {
  return new H3Error(QpackErrorCode.QPACK_DECODER_STREAM_ERROR, message, section);
}

export class QpackEncoder {
  readonly table = new DynamicTable();
  /** Inserts the decoder has acknowledged, directly or implied (RFC 9204 §2.1.4). */
  knownReceivedCount = 0;
  private readonly preferredCapacity: number;
  private readonly sensitiveNames: Set<string>;
  private readonly shouldIndex: (name: string, value: string) => boolean;
  private readonly huffman: boolean;
  private peerMaxTableCapacity = 0;
  private peerBlockedStreams = 0;
  private maxEntries = 0;
  private readonly encoderStream = new ByteWriter();
  /** Scratch for one field section's lines and prefix; copied out into one exact-size Buffer. */
  private readonly sectionLines = new ByteWriter(512);
  private readonly sectionPrefix = new ByteWriter(16);
  private readonly decoderStream = new InstructionReader<DecoderInstruction>(parseDecoderInstruction);
  /** Outstanding references per absolute index (RFC 9204 §2.1.1). */
  private readonly references = new Map<number, number>();
  /** Unacknowledged sections with references, per stream, oldest first (RFC 9204 §4.4.1); not a Map (stream-table.ts). */
  private readonly outstanding = new StreamTable<OutstandingSection[]>();

  constructor(options: QpackEncoderOptions = {}) {
    this.preferredCapacity = options.maxTableCapacity ?? 4096;
    this.sensitiveNames = new Set(options.sensitiveNames ?? DEFAULT_SENSITIVE_NAMES);
    this.huffman = options.huffman ?? true;
    this.shouldIndex =
      options.shouldIndex ??
      ((name, value) => !UNIQUE_VALUE_NAMES.has(name) && entrySize(name, value) <= this.table.capacity / 2);
  }

  /**
   * Takes the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS
   * (RFC 9204 §5). Until then both are 0: no dynamic table (RFC 9204 §3.2.3).
   */
  applyPeerSettings(settings: { qpackMaxTableCapacity: number; qpackBlockedStreams: number }): void {
    this.peerMaxTableCapacity = settings.qpackMaxTableCapacity;
    this.peerBlockedStreams = settings.qpackBlockedStreams;
    this.maxEntries = maxEntries(this.peerMaxTableCapacity);
    const capacity = Math.min(this.peerMaxTableCapacity, this.preferredCapacity);
    if (capacity > 0 && capacity !== this.table.capacity && this.table.setCapacity(capacity, (abs) => this.isEvictable(abs))) {
      this.writeInstruction({ type: 'set_capacity', capacity });
    }
  }

  /** Streams whose unacknowledged sections reference entries the decoder may not have (§2.1.2). */
  get blockedStreamCount(): number {
    let count = 0;
    for (const sections of this.outstanding.values()) if (this.blocks(sections)) count++;
    return count;
  }

  /**
   * Inserts a field without referencing it (a "speculative insert", RFC 9204 Appendix B.3).
   * Returns false when the table has no room that can be freed safely.
   */
  insert(name: string, value: string): boolean {
    return this.tryInsert(name, value, -1) >= 0;
  }

  /** Encodes one field section for `streamId`; encoder stream bytes wait in takeEncoderStreamData. */
  encodeFieldSection(streamId: number, fields: Iterable<readonly [string, string]>): Buffer {
    const out = Buffer.allocUnsafe(this.encodeToScratch(streamId, fields));
    this.copyEncoded(out, 0);
    return out;
  }

  /**
   * Encodes one field section for `streamId` into scratch space and returns its length; the
   * section stays there until the next encode, for copyEncoded() to put it straight behind the
   * caller's frame header (one buffer and one copy per frame instead of two).
   */
  encodeToScratch(streamId: number, fields: Iterable<readonly [string, string]>): number {
    const base = this.table.insertCount;
    const huffman = this.huffman;
    const lines = this.sectionLines;
    lines.reset();
    // RFC 9204 §2.1.2 (mayBlock): worked out when first needed, so that a section referencing
    // only acknowledged entries never counts the blocked streams.
    let mayBlockKnown = false;
    let mayBlock = false;
    let references: number[] | null = null;
    let requiredInsertCount = 0;

    for (const [name, value] of fields) {
      if (this.sensitiveNames.has(name)) {
        // RFC 9204 §7.1.3: never-indexed literal, never inserted.
        const nameIndex = staticNameIndex(name);
        if (nameIndex >= 0) writeLiteralNameRefLine(lines, true, true, nameIndex, value, huffman);
        else writeLiteralLine(lines, true, name, value, huffman);
        continue;
      }
      const staticIndex = staticIndexOf(name, value);
      if (staticIndex >= 0) {
        writeIndexedLine(lines, true, staticIndex);
        continue;
      }
      let absolute = this.table.findExact(name, value);
      // Whether what follows depends on mayBlock: an entry not yet acknowledged or draining, or a
      // new insert.
      const needsMayBlock = absolute >= 0 ? absolute >= this.knownReceivedCount || absolute < this.drainingIndex() : this.table.capacity > 0 && this.shouldIndex(name, value);
      if (needsMayBlock && !mayBlockKnown) {
        mayBlock = this.mayBlock(streamId);
        mayBlockKnown = true;
      }
      if (absolute >= 0 && !this.usable(absolute, mayBlock)) {
        // Draining or unacknowledged: duplicate it when we may block (§2.1.1.1), else a literal.
        absolute = mayBlock && absolute < this.drainingIndex() && this.shouldIndex(name, value) ? this.tryInsert(name, value, absolute) : -1;
      } else if (absolute < 0 && needsMayBlock) {
        absolute = this.tryInsert(name, value, -1);
        if (absolute >= 0 && !mayBlock) absolute = -1; // usable once acknowledged
      }
      if (absolute >= 0) {
        (references ??= []).push(absolute);
        this.addReference(absolute);
        if (absolute + 1 > requiredInsertCount) requiredInsertCount = absolute + 1;
        if (absolute < base) writeIndexedLine(lines, false, base - 1 - absolute);
        else writeIndexedPostBaseLine(lines, absolute - base);
        continue;
      }
      // A literal value, with the name from a table when one has it.
      const staticName = staticNameIndex(name);
      if (staticName >= 0) {
        writeLiteralNameRefLine(lines, false, true, staticName, value, huffman);
        continue;
      }
      const dynamicName = this.table.findName(name);
      if (dynamicName >= 0) {
        if (dynamicName >= this.knownReceivedCount && !mayBlockKnown) {
          mayBlock = this.mayBlock(streamId);
          mayBlockKnown = true;
        }
        if (this.usable(dynamicName, mayBlock)) {
          (references ??= []).push(dynamicName);
          this.addReference(dynamicName);
          if (dynamicName + 1 > requiredInsertCount) requiredInsertCount = dynamicName + 1;
          if (dynamicName < base) writeLiteralNameRefLine(lines, false, false, base - 1 - dynamicName, value, huffman);
          else writeLiteralPostBaseNameRefLine(lines, false, dynamicName - base, value, huffman);
          continue;
        }
      }
      writeLiteralLine(lines, false, name, value, huffman);
    }

    if (references !== null) {
      const list = this.outstanding.get(streamId);
      const section = { requiredInsertCount, references };
      if (list) list.push(section);
      else this.outstanding.set(streamId, [section]);
    }
    const prefix = this.sectionPrefix;
    prefix.reset();
    // RFC 9204 §4.5.1.2: without dynamic references any Base will do; 0 is the shortest.
    writeFieldSectionPrefix(prefix, requiredInsertCount, requiredInsertCount === 0 ? 0 : base, this.maxEntries);
    return prefix.length + lines.length;
  }

  /** Copies the section of the last encodeToScratch() into `out` at `offset`; returns the offset after it. */
  copyEncoded(out: Uint8Array, offset: number): number {
    return this.sectionLines.copyTo(out, this.sectionPrefix.copyTo(out, offset));
  }

  /**
   * RFC 9204 §2.1.2: a section on `streamId` may reference unacknowledged entries only if the
   * stream already blocks or one more blocked stream is allowed.
   */
  private mayBlock(streamId: number): boolean {
    return this.isBlocking(streamId) || this.blockedStreamCount < this.peerBlockedStreams;
  }

  /** Counted at once: a later insert in the same section must not evict it (§2.1.1). */
  private addReference(absolute: number): void {
    this.references.set(absolute, (this.references.get(absolute) ?? 0) + 1);
  }

  /**
   * Whether the section may reference entry `absolute`: not draining (§2.1.1.1), and either
   * acknowledged or allowed to block (§2.1.2).
   */
  private usable(absolute: number, mayBlock: boolean): boolean {
    return absolute >= this.drainingIndex() && (absolute < this.knownReceivedCount || mayBlock);
  }

  /** Bytes to send on our encoder stream. */
  takeEncoderStreamData(): Buffer {
    return this.encoderStream.take();
  }

  /** Applies bytes received on the peer's decoder stream (RFC 9204 §4.4). */
  onDecoderStreamData(bytes: Uint8Array): void {
    try {
      this.decoderStream.pushEach(bytes, (instruction) => this.apply(instruction));
    } catch (err) {
      if (err instanceof DecodeError) throw decoderStreamError(err.message, 'RFC 9204 §4.1.1');
      throw err;
    }
  }

  /** Outstanding references to an entry (for tests and tracing). */
  referenceCount(absolute: number): number {
    return this.references.get(absolute) ?? 0;
  }

  // -------------------------------------------------------------------------------------------

  private apply(instruction: DecoderInstruction): void {
    switch (instruction.type) {
      case 'section_ack': {
        // RFC 9204 §4.4.1: acknowledges the oldest unacknowledged section with references.
        const list = this.outstanding.get(instruction.streamId);
        const section = list?.shift();
        if (!section) {
          throw decoderStreamError(`Section Acknowledgment for stream ${instruction.streamId} with nothing outstanding`, 'RFC 9204 §4.4.1');
        }
        if (list!.length === 0) this.outstanding.delete(instruction.streamId);
        this.release(section);
        // RFC 9204 §2.1.4: an acknowledged section implies its inserts arrived.
        if (section.requiredInsertCount > this.knownReceivedCount) this.knownReceivedCount = section.requiredInsertCount;
        return;
      }
      case 'stream_cancel': {
        // RFC 9204 §4.4.2: all references on the stream are gone; no inserts are implied.
        for (const section of this.outstanding.get(instruction.streamId) ?? []) this.release(section);
        this.outstanding.delete(instruction.streamId);
        return;
      }
      case 'insert_count_increment':
        // RFC 9204 §4.4.3: zero, or beyond what we inserted, is a decoder stream error.
        if (instruction.increment === 0 || this.knownReceivedCount + instruction.increment > this.table.insertCount) {
          throw decoderStreamError(`Insert Count Increment of ${instruction.increment} with ${this.table.insertCount - this.knownReceivedCount} unacknowledged inserts`, 'RFC 9204 §4.4.3');
        }
        this.knownReceivedCount += instruction.increment;
        return;
    }
  }

  private release(section: OutstandingSection): void {
    for (const absolute of section.references) {
      const count = this.references.get(absolute)! - 1;
      if (count === 0) this.references.delete(absolute);
      else this.references.set(absolute, count);
    }
  }

  /** RFC 9204 §2.1.2: a stream blocks if a section of it needs inserts not acknowledged yet. */
  private isBlocking(streamId: number): boolean {
    const sections = this.outstanding.get(streamId);
    return sections !== undefined && this.blocks(sections);
  }

  private blocks(sections: OutstandingSection[]): boolean {
    for (const section of sections) {
      if (section.requiredInsertCount > this.knownReceivedCount) return true;
    }
    return false;
  }

  /** RFC 9204 §2.1.1: evictable once acknowledged and not referenced by unacknowledged sections. */
  private isEvictable(absolute: number): boolean {
    return absolute < this.knownReceivedCount && !this.references.has(absolute);
  }

  /**
   * RFC 9204 §2.1.1.1: the oldest entries that would have to go to keep a third of the table
   * free are not referenced any more, so that their references drain and they become evictable.
   */
  private drainingIndex(): number {
    const evictions = this.table.evictionsNeededFor(Math.floor(this.table.capacity / 3));
    return this.table.droppedCount + Math.max(0, evictions);
  }

  /**
   * Inserts name/value (as a Duplicate of `duplicateOf` when that is ≥ 0) if the entries it
   * evicts are evictable; writes the instruction and returns the new absolute index, or -1.
   */
  private tryInsert(name: string, value: string, duplicateOf: number): number {
    const table = this.table;
    const evictions = table.evictionsNeededFor(entrySize(name, value));
    if (evictions < 0) return -1;
    for (let i = 0; i < evictions; i++) if (!this.isEvictable(table.droppedCount + i)) return -1;
    let instruction: EncoderInstruction;
    if (duplicateOf >= 0) {
      instruction = { type: 'duplicate', index: table.insertCount - 1 - duplicateOf };
    } else {
      const staticName = staticNameIndex(name);
      const dynamicName = staticName < 0 ? table.findName(name) : -1;
      // Encoder-stream references are relative to the newest entry (§3.2.5) and may point at an
      // entry this very insert evicts (§3.2.2): the decoder reads the name first.
      if (staticName >= 0) instruction = { type: 'insert_name_ref', isStatic: true, nameIndex: staticName, value };
      else if (dynamicName >= 0) instruction = { type: 'insert_name_ref', isStatic: false, nameIndex: table.insertCount - 1 - dynamicName, value };
      else instruction = { type: 'insert_literal_name', name, value };
    }
    const absolute = table.insert(name, value, (abs) => this.isEvictable(abs));
    if (absolute >= 0) this.writeInstruction(instruction);
    return absolute;
  }

  private writeInstruction(instruction: EncoderInstruction): void {
    writeEncoderInstruction(this.encoderStream, instruction, this.huffman);
  }
}
