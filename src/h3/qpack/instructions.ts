/**
 * QPACK encoder instructions (RFC 9204 §4.3) and decoder instructions (RFC 9204 §4.4): their
 * wire format, and `InstructionReader`, which cuts an unframed instruction stream split anywhere
 * into whole instructions.
 *
 * Encoder stream (encoder → decoder):
 *   001xxxxx  Set Dynamic Table Capacity (5+)                    §4.3.1
 *   1Txxxxxx  Insert with Name Reference (6+), value string (8+)  §4.3.2
 *   01Hxxxxx  Insert with Literal Name, name (6+), value (8+)     §4.3.3
 *   000xxxxx  Duplicate (5+)                                      §4.3.4
 * Decoder stream (decoder → encoder):
 *   1xxxxxxx  Section Acknowledgment, stream ID (7+)               §4.4.1
 *   01xxxxxx  Stream Cancellation, stream ID (6+)                  §4.4.2
 *   00xxxxxx  Insert Count Increment (6+)                          §4.4.3
 *
 * Parsers throw DecodeError on bytes they cannot decode; the encoder or decoder maps it to
 * QPACK_ENCODER_STREAM_ERROR or QPACK_DECODER_STREAM_ERROR.
 */
import { ByteWriter } from './byte-writer.js';
import { readPrefixedInt, writePrefixedInt } from './prefixed-int.js';
import { isIncomplete, readStringLiteral, writeStringLiteral, type Incomplete } from './string-literal.js';

export type EncoderInstruction =
  | { type: 'set_capacity'; capacity: number }
  /** `nameIndex` is a static index, or a dynamic index relative to the newest entry (§3.2.5). */
  | { type: 'insert_name_ref'; isStatic: boolean; nameIndex: number; value: string }
  | { type: 'insert_literal_name'; name: string; value: string }
  /** `index` is relative to the newest entry (§3.2.5). */
  | { type: 'duplicate'; index: number };

export type DecoderInstruction =
  | { type: 'section_ack'; streamId: number }
  | { type: 'stream_cancel'; streamId: number }
  | { type: 'insert_count_increment'; increment: number };

/** A parsed instruction and the offset after it, or what is still missing. */
export type ParseResult<T> = { value: T; next: number } | Incomplete;

// ---------------------------------------------------------------------------------------------
// Encoder instructions

/** Writes one instruction; `huffman: false` sends strings as they are (as RFC 9204 Appendix B does). */
export function writeEncoderInstruction(w: ByteWriter, instruction: EncoderInstruction, huffman = true): void {
  switch (instruction.type) {
    case 'set_capacity':
      writePrefixedInt(w, 0x20, 5, instruction.capacity);
      return;
    case 'insert_name_ref':
      writePrefixedInt(w, instruction.isStatic ? 0xc0 : 0x80, 6, instruction.nameIndex);
      writeStringLiteral(w, 0, 8, instruction.value, huffman);
      return;
    case 'insert_literal_name':
      writeStringLiteral(w, 0x40, 6, instruction.name, huffman);
      writeStringLiteral(w, 0, 8, instruction.value, huffman);
      return;
    case 'duplicate':
      writePrefixedInt(w, 0x00, 5, instruction.index);
      return;
  }
}

export function encodeEncoderInstructions(instructions: EncoderInstruction[], huffman = true): Buffer {
  const w = new ByteWriter();
  for (const instruction of instructions) writeEncoderInstruction(w, instruction, huffman);
  return w.take();
}

/**
 * Parses one encoder instruction at `offset`. Strings longer than `maxStringLength` are refused
 * before they are buffered: no entry can be larger than the table capacity (RFC 9204 §3.2.2).
 */
export function parseEncoderInstruction(
  bytes: Uint8Array,
  offset: number,
  maxStringLength: number,
): ParseResult<EncoderInstruction> {
  const first = bytes[offset]!;
  const more = { need: bytes.length - offset + 1 };
  if (first & 0x80) {
    const nameIndex = readPrefixedInt(bytes, offset, 6);
    if (!nameIndex) return more;
    const value = readStringLiteral(bytes, nameIndex.next, 8, maxStringLength);
    if (isIncomplete(value)) return { need: nameIndex.next - offset + value.need };
    return {
      value: { type: 'insert_name_ref', isStatic: (first & 0x40) !== 0, nameIndex: nameIndex.value, value: value.value },
      next: value.next,
    };
  }
  if (first & 0x40) {
    const name = readStringLiteral(bytes, offset, 6, maxStringLength);
    if (isIncomplete(name)) return name;
    const value = readStringLiteral(bytes, name.next, 8, maxStringLength);
    if (isIncomplete(value)) return { need: name.next - offset + value.need };
    return { value: { type: 'insert_literal_name', name: name.value, value: value.value }, next: value.next };
  }
  const int = readPrefixedInt(bytes, offset, 5);
  if (!int) return more;
  if (first & 0x20) return { value: { type: 'set_capacity', capacity: int.value }, next: int.next };
  return { value: { type: 'duplicate', index: int.value }, next: int.next };
}

// ---------------------------------------------------------------------------------------------
// Decoder instructions

export function writeDecoderInstruction(w: ByteWriter, instruction: DecoderInstruction): void {
  switch (instruction.type) {
    case 'section_ack':
      writePrefixedInt(w, 0x80, 7, instruction.streamId);
      return;
    case 'stream_cancel':
      writePrefixedInt(w, 0x40, 6, instruction.streamId);
      return;
    case 'insert_count_increment':
      writePrefixedInt(w, 0x00, 6, instruction.increment);
      return;
  }
}

export function encodeDecoderInstructions(instructions: DecoderInstruction[]): Buffer {
  const w = new ByteWriter(16);
  for (const instruction of instructions) writeDecoderInstruction(w, instruction);
  return w.take();
}

export function parseDecoderInstruction(bytes: Uint8Array, offset: number): ParseResult<DecoderInstruction> {
  const first = bytes[offset]!;
  const prefixBits = first & 0x80 ? 7 : 6;
  const int = readPrefixedInt(bytes, offset, prefixBits);
  if (!int) return { need: bytes.length - offset + 1 };
  if (first & 0x80) return { value: { type: 'section_ack', streamId: int.value }, next: int.next };
  if (first & 0x40) return { value: { type: 'stream_cancel', streamId: int.value }, next: int.next };
  return { value: { type: 'insert_count_increment', increment: int.value }, next: int.next };
}

// ---------------------------------------------------------------------------------------------
// Stream reader

/**
 * Cuts a stream of instructions, split anywhere, into whole instructions. A partial instruction
 * waits in a list of chunks until as many bytes as the parser said it needs have arrived, so
 * a large instruction fed byte by byte is concatenated a bounded number of times, not per byte.
 */
export class InstructionReader<T> {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Bytes the partial instruction needs before it is worth parsing again. */
  private need = 0;

  constructor(private readonly parse: (bytes: Uint8Array, offset: number) => ParseResult<T>) {}

  /** True when no partial instruction is waiting: the stream may end here. */
  get atBoundary(): boolean {
    return this.pendingLength === 0;
  }

  /** Instructions completed by this chunk, in order. Parser errors propagate. */
  push(chunk: Uint8Array): T[] {
    const out: T[] = [];
    this.pushEach(chunk, (instruction) => out.push(instruction));
    return out;
  }

  /** Like push, but calls `onInstruction` for each one as soon as it is parsed. */
  pushEach(chunk: Uint8Array, onInstruction: (instruction: T) => void): void {
    let bytes: Uint8Array = chunk;
    if (this.pendingLength > 0) {
      this.pending.push(Buffer.from(chunk));
      this.pendingLength += chunk.length;
      if (this.pendingLength < this.need) return;
      bytes = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
    }
    let offset = 0;
    while (offset < bytes.length) {
      const result = this.parse(bytes, offset);
      if ('need' in result) {
        // Keep a copy: the caller may reuse its chunk.
        this.pending = [Buffer.from(bytes.subarray(offset))];
        this.pendingLength = bytes.length - offset;
        this.need = result.need;
        return;
      }
      offset = result.next;
      onInstruction(result.value);
    }
  }
}
