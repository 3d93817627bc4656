/**
 * The QPACK decoder (RFC 9204 §2.2): applies the peer encoder's instructions to the dynamic
 * table, decodes field sections (blocking those whose Required Insert Count is not reached yet,
 * §2.2.1), and produces the decoder stream: Section Acknowledgment, Stream Cancellation and
 * Insert Count Increment (§4.4). Pure and sans-I/O: bytes in, values and bytes out.
 *
 * Errors (all H3Error):
 *   QPACK_DECOMPRESSION_FAILED  a field section that cannot be decoded, or one stream too many
 *                               blocked (§2.2.1, §2.2.3, §4.5) — connection scope
 *   QPACK_ENCODER_STREAM_ERROR  a bad encoder instruction (§3.2.2, §3.2.3, §4.3) — connection scope
 *   H3_EXCESSIVE_LOAD           decoded field section over our limit (RFC 9114 §4.2.2) — stream scope;
 *                               the caller may answer 431 instead of resetting the stream
 */
import { DecodeError } from '../../core/errors.js';
import { DEFAULT_LIMITS } from '../../core/limits.js';
import { H3Error, H3ErrorCode, QpackErrorCode } from '../errors.js';
import { ByteWriter } from './byte-writer.js';
import { DynamicTable, ENTRY_OVERHEAD, type TableEntry } from './dynamic-table.js';
import {
  baseFromPrefix,
  decodeRequiredInsertCount,
  FieldLineReader,
  maxEntries,
  readFieldSectionPrefix,
} from './field-lines.js';
import { InstructionReader, parseEncoderInstruction, writeDecoderInstruction, type EncoderInstruction } from './instructions.js';
import { STATIC_TABLE } from './static-table.js';

/** A decoded field line: lower-case name (as sent) and value, latin1. */
export type FieldLine = [name: string, value: string];

export interface QpackDecoderOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertise (RFC 9204 §3.2.3). */
  maxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS we advertise (RFC 9204 §2.1.2). */
  maxBlockedStreams: number;
  /** Largest decoded field section: sum of name + value + 32 per line (RFC 9114 §4.2.2). */
  maxFieldSectionSize?: number;
  /** Field sections that may wait behind a blocked one on the same stream. */
  maxQueuedSectionsPerStream?: number;
}

export type DecodeResult = { headers: FieldLine[] } | { blocked: true };
/** A field section decoded after its stream was unblocked. */
export type ResumedSection = { headers: FieldLine[] } | { error: H3Error };

interface BlockedSection {
  requiredInsertCount: number;
  bytes: Buffer;
}

function decompressionFailed(message: string, section = 'RFC 9204 §4.5'): H3Error {
  return new H3Error(QpackErrorCode.QPACK_DECOMPRESSION_FAILED, message, section);
}

function encoderStreamError(message: string, section = 'RFC 9204 §4.3'): H3Error {
  return new H3Error(QpackErrorCode.QPACK_ENCODER_STREAM_ERROR, message, section);
}

export class QpackDecoder {
  readonly table = new DynamicTable();
  readonly maxTableCapacity: number;
  readonly maxBlockedStreams: number;
  private readonly maxFieldSectionSize: number;
  private readonly maxQueuedSections: number;
  private readonly maxEntries: number;
  private readonly encoderStream: InstructionReader<EncoderInstruction>;
  private readonly decoderStream = new ByteWriter(64);
  /** Inserts the encoder knows we received: acknowledged or announced by increments (§2.1.4). */
  private knownReceivedCount = 0;
  /** Sections waiting for inserts, per stream, in arrival order (§2.2.1). */
  private readonly blocked = new Map<number, BlockedSection[]>();
  private readonly resumed = new Map<number, ResumedSection[]>();

  constructor(options: QpackDecoderOptions) {
    this.maxTableCapacity = options.maxTableCapacity;
    this.maxBlockedStreams = options.maxBlockedStreams;
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? DEFAULT_LIMITS.maxHeaderListBytes;
    this.maxQueuedSections = options.maxQueuedSectionsPerStream ?? 4;
    this.maxEntries = maxEntries(this.maxTableCapacity);
    // No string can be longer than the capacity allows a whole entry to be (§3.2.2).
    this.encoderStream = new InstructionReader((bytes, offset) =>
      parseEncoderInstruction(bytes, offset, Math.max(0, this.table.capacity - ENTRY_OVERHEAD)),
    );
  }

  /** Streams whose field sections wait for encoder instructions. */
  get blockedStreamCount(): number {
    return this.blocked.size;
  }

  /**
   * Decodes the field section of a HEADERS or PUSH_PROMISE frame on `streamId`. Returns the
   * field lines, or `{ blocked: true }` when the section needs inserts that have not arrived
   * (then `onEncoderStreamData` reports the stream and `takeResumed` gives the result).
   */
  decodeFieldSection(streamId: number, bytes: Uint8Array): DecodeResult {
    const section = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let requiredInsertCount: number;
    try {
      const prefix = readFieldSectionPrefix(section);
      requiredInsertCount = decodeRequiredInsertCount(prefix.encodedInsertCount, this.maxEntries, this.table.insertCount);
    } catch (err) {
      throw this.asDecompressionFailed(err, 'RFC 9204 §4.5.1.1');
    }
    const queue = this.blocked.get(streamId);
    if (queue) {
      // Sections on one stream are decoded in order: this one waits behind the blocked one.
      if (queue.length >= this.maxQueuedSections) {
        throw new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `more than ${this.maxQueuedSections} field sections queued on a blocked stream`, 'RFC 9204 §2.2.1');
      }
      queue.push({ requiredInsertCount, bytes: Buffer.from(section) });
      return { blocked: true };
    }
    if (requiredInsertCount > this.table.insertCount) {
      // RFC 9204 §2.2.1: more blocked streams than we allowed is a connection error.
      if (this.blocked.size >= this.maxBlockedStreams) {
        throw decompressionFailed(`stream ${streamId} would be blocked stream number ${this.blocked.size + 1} of ${this.maxBlockedStreams}`, 'RFC 9204 §2.2.1');
      }
      // Copied: the section may sit here while the caller reuses its buffer.
      this.blocked.set(streamId, [{ requiredInsertCount, bytes: Buffer.from(section) }]);
      return { blocked: true };
    }
    return { headers: this.decodeUnblocked(streamId, section, requiredInsertCount) };
  }

  /**
   * Applies bytes received on the peer's encoder stream. Returns the streams that became
   * unblocked; their sections are decoded already and wait in `takeResumed(streamId)`.
   */
  onEncoderStreamData(bytes: Uint8Array): number[] {
    try {
      this.encoderStream.pushEach(bytes, (instruction) => this.apply(instruction));
    } catch (err) {
      if (err instanceof DecodeError) throw encoderStreamError(err.message, 'RFC 9204 §4.1');
      throw err;
    }
    return this.resumeUnblocked();
  }

  /** The oldest section decoded after its stream unblocked, if any. */
  takeResumed(streamId: number): ResumedSection | undefined {
    const list = this.resumed.get(streamId);
    const first = list?.shift();
    if (list && list.length === 0) this.resumed.delete(streamId);
    return first;
  }

  /**
   * The stream was reset or its reading abandoned before all its field sections were decoded:
   * forget its blocked sections and tell the encoder (RFC 9204 §4.4.2). A decoder whose maximum
   * capacity is 0 may skip the instruction, since no reference can exist (§2.2.2.2).
   */
  cancelStream(streamId: number): void {
    this.blocked.delete(streamId);
    this.resumed.delete(streamId);
    if (this.maxTableCapacity > 0) writeDecoderInstruction(this.decoderStream, { type: 'stream_cancel', streamId });
  }

  /**
   * Bytes to send on our decoder stream. Inserts not yet covered by a Section Acknowledgment are
   * announced here with one Insert Count Increment (RFC 9204 §2.2.2.3, §4.4.3), so that
   * increments coalesce and acknowledgments make them unnecessary when they can.
   */
  takeDecoderStreamData(): Buffer {
    if (this.table.insertCount > this.knownReceivedCount) {
      writeDecoderInstruction(this.decoderStream, {
        type: 'insert_count_increment',
        increment: this.table.insertCount - this.knownReceivedCount,
      });
      this.knownReceivedCount = this.table.insertCount;
    }
    return this.decoderStream.take();
  }

  // -------------------------------------------------------------------------------------------

  private asDecompressionFailed(err: unknown, section: string): unknown {
    return err instanceof DecodeError ? decompressionFailed(err.message, section) : err;
  }

  /** One encoder instruction (RFC 9204 §4.3). */
  private apply(instruction: EncoderInstruction): void {
    const table = this.table;
    switch (instruction.type) {
      case 'set_capacity':
        // RFC 9204 §4.3.1: above our advertised maximum is an encoder stream error.
        if (instruction.capacity > this.maxTableCapacity) {
          throw encoderStreamError(`capacity ${instruction.capacity} over the maximum ${this.maxTableCapacity}`, 'RFC 9204 §4.3.1');
        }
        table.setCapacity(instruction.capacity);
        return;
      case 'insert_name_ref': {
        const name = instruction.isStatic
          ? this.staticEntry(instruction.nameIndex, encoderStreamError)[0]
          : this.encoderStreamEntry(instruction.nameIndex).name;
        this.insert(name, instruction.value);
        return;
      }
      case 'insert_literal_name':
        this.insert(instruction.name, instruction.value);
        return;
      case 'duplicate': {
        const entry = this.encoderStreamEntry(instruction.index);
        this.insert(entry.name, entry.value);
        return;
      }
    }
  }

  /** Relative index on the encoder stream: 0 is the newest entry (RFC 9204 §3.2.5). */
  private encoderStreamEntry(relative: number): TableEntry {
    const entry = this.table.get(this.table.insertCount - 1 - relative);
    // RFC 9204 §3.2.5, §2.2.3: an evicted or nonexistent entry is an encoder stream error.
    if (!entry) throw encoderStreamError(`encoder stream references missing dynamic entry ${relative}`, 'RFC 9204 §2.2.3');
    return entry;
  }

  /**
   * A dynamic table entry a field line references. RFC 9204 §2.2.3: a reference at or above the
   * Required Insert Count, or to an evicted entry, is invalid.
   */
  private dynamicEntry(absolute: number, requiredInsertCount: number): TableEntry {
    const entry = absolute < requiredInsertCount ? this.table.get(absolute) : undefined;
    if (!entry) throw decompressionFailed(`invalid dynamic table reference ${absolute}`, 'RFC 9204 §2.2.3');
    return entry;
  }

  private staticEntry(index: number, error: (message: string, section: string) => H3Error): readonly [string, string] {
    const entry = STATIC_TABLE[index];
    // RFC 9204 §3.1: an invalid static index is an error of the stream it came on.
    if (!entry) throw error(`static index ${index} out of range`, 'RFC 9204 §3.1');
    return entry;
  }

  private insert(name: string, value: string): void {
    // RFC 9204 §3.2.2: an entry larger than the capacity is an encoder stream error.
    if (this.table.insert(name, value) < 0) {
      throw encoderStreamError(`entry of ${name.length + value.length + ENTRY_OVERHEAD} bytes over capacity ${this.table.capacity}`, 'RFC 9204 §3.2.2');
    }
  }

  /** Decodes sections of streams whose Required Insert Count is now reached, in stream order. */
  private resumeUnblocked(): number[] {
    const unblocked: number[] = [];
    for (const [streamId, queue] of this.blocked) {
      while (queue.length > 0 && queue[0]!.requiredInsertCount <= this.table.insertCount) {
        const { bytes, requiredInsertCount } = queue.shift()!;
        let result: ResumedSection;
        try {
          result = { headers: this.decodeUnblocked(streamId, bytes, requiredInsertCount) };
        } catch (err) {
          if (err instanceof H3Error && err.scope === 'stream') result = { error: err };
          else throw err;
        }
        const list = this.resumed.get(streamId);
        if (list) list.push(result);
        else this.resumed.set(streamId, [result]);
      }
      if (queue.length === 0) {
        this.blocked.delete(streamId);
        unblocked.push(streamId);
      }
    }
    return unblocked;
  }

  /** Decodes a section whose Required Insert Count is reached, then acknowledges it (§4.4.1). */
  private decodeUnblocked(streamId: number, section: Buffer, requiredInsertCount: number): FieldLine[] {
    const headers: FieldLine[] = [];
    let size = 0;
    let maxReference = -1;
    try {
      const prefix = readFieldSectionPrefix(section);
      const base = baseFromPrefix(requiredInsertCount, prefix.sign, prefix.deltaBase);
      // One reader for the whole section: the line just read is in its fields.
      const line = new FieldLineReader(section, prefix.next, section.length);
      while (!line.done) {
        line.next();
        let name: string;
        let value: string;
        let absolute = -1;
        switch (line.type) {
          case 'indexed':
            if (line.isStatic) {
              const entry = this.staticEntry(line.index, decompressionFailed);
              name = entry[0];
              value = entry[1];
              break;
            }
            absolute = base - 1 - line.index;
            ({ name, value } = this.dynamicEntry(absolute, requiredInsertCount));
            break;
          case 'indexed_post_base':
            absolute = base + line.index;
            ({ name, value } = this.dynamicEntry(absolute, requiredInsertCount));
            break;
          case 'literal_name_ref':
            if (line.isStatic) {
              name = this.staticEntry(line.index, decompressionFailed)[0];
            } else {
              absolute = base - 1 - line.index;
              name = this.dynamicEntry(absolute, requiredInsertCount).name;
            }
            value = line.value;
            break;
          case 'literal_post_base_name_ref':
            absolute = base + line.index;
            name = this.dynamicEntry(absolute, requiredInsertCount).name;
            value = line.value;
            break;
          case 'literal':
            name = line.name;
            value = line.value;
            break;
        }
        if (absolute > maxReference) maxReference = absolute;
        // RFC 9114 §4.2.2: size = name + value + 32 per field line. Past the limit, the rest is
        // still checked (it may hold invalid references) but no longer kept.
        size += name.length + value.length + ENTRY_OVERHEAD;
        if (size <= this.maxFieldSectionSize) headers.push([name, value]);
      }
    } catch (err) {
      throw this.asDecompressionFailed(err, 'RFC 9204 §4.5');
    }
    // RFC 9204 §2.2.1: the Required Insert Count must be exactly the largest reference + 1
    // (smaller is caught above; larger is allowed to be treated as an error, and is).
    if (requiredInsertCount !== maxReference + 1) {
      throw decompressionFailed(`Required Insert Count ${requiredInsertCount} but largest reference ${maxReference}`, 'RFC 9204 §2.2.1');
    }
    if (requiredInsertCount > 0) {
      writeDecoderInstruction(this.decoderStream, { type: 'section_ack', streamId });
      if (requiredInsertCount > this.knownReceivedCount) this.knownReceivedCount = requiredInsertCount;
    }
    if (size > this.maxFieldSectionSize) {
      throw new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `field section of ${size} bytes over the ${this.maxFieldSectionSize}-byte limit`, 'RFC 9114 §4.2.2', 'stream');
    }
    return headers;
  }
}
