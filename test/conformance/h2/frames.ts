/**
 * Hand-built bytes for the conformance cases: frames with any length, type, flags and stream
 * identifier (RFC 9113 §4.1), so that a case can send what the h123 encoder refuses to make, and
 * HPACK representations written bit by bit (RFC 7541 §5, §6) for malformed field blocks.
 */
import hpack from 'hpack.js';
import { ErrorCode } from '../../../src/h2/errors.js';
import { Flag, FrameType } from '../../../src/h2/frame.js';
import { SettingId } from '../../../src/h2/settings.js';

/** Short names for the codec's constants, so that cases read like the RFC's frame tables. */
export const T = FrameType; // RFC 9113 §6 frame types
export const F = Flag; // RFC 9113 §6 flags
export const E = ErrorCode; // RFC 9113 §7 error codes
export const S = SettingId; // RFC 9113 §6.5.2 settings

/**
 * One frame exactly as given: 24-bit length of `payload`, type, flags, and a 32-bit stream field
 * (`streamId` may carry the reserved bit, 0x8000_0000).
 */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId >>> 0, 5);
  out.set(payload, 9);
  return out;
}

/** A frame header claiming `length` octets, followed by exactly that many zero octets. */
export function frameOfLength(type: number, flags: number, streamId: number, length: number): Buffer {
  return frame(type, flags, streamId, Buffer.alloc(length));
}

export function u32(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, 4 * i));
  return out;
}

export function settingsPayload(...entries: [number, number][]): Buffer {
  const out = Buffer.allocUnsafe(6 * entries.length);
  entries.forEach(([id, value], i) => {
    out.writeUInt16BE(id, 6 * i);
    out.writeUInt32BE(value >>> 0, 6 * i + 2);
  });
  return out;
}

/** PRIORITY fields (RFC 9113 §6.3): E bit + 31-bit dependency, weight − 1. */
export function priorityFields(dependency: number, weight = 16, exclusive = false): Buffer {
  const out = Buffer.allocUnsafe(5);
  out.writeUInt32BE(((exclusive ? 0x8000_0000 : 0) | dependency) >>> 0, 0);
  out[4] = weight - 1;
  return out;
}

/** A padded payload (RFC 9113 §6.1): Pad Length octet, body, `padLength` zero octets. */
export function padded(body: Uint8Array, padLength: number): Buffer {
  return Buffer.concat([Buffer.from([padLength]), body, Buffer.alloc(padLength)]);
}

// --- HPACK representations (RFC 7541) ---

/** RFC 7541 §5.1 prefixed integer; `pattern` holds the bits above the prefix in the first octet. */
export function hpackInt(value: number, prefixBits: number, pattern: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([pattern | value]);
  const octets = [pattern | max];
  let rest = value - max;
  while (rest >= 128) {
    octets.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  octets.push(rest);
  return Buffer.from(octets);
}

/** RFC 7541 §5.2 string literal, raw or Huffman coded (Appendix B, through hpack.js). */
export function hpackString(text: string, huffman = false): Buffer {
  const octets = Buffer.from(text, 'latin1');
  if (!huffman) return Buffer.concat([hpackInt(octets.length, 7, 0x00), octets]);
  const encoder = hpack.encoder.create();
  encoder.encodeStr(octets, true);
  return Buffer.concat(encoder.render());
}

/** RFC 7541 §6.1 indexed field line. */
export const indexed = (index: number): Buffer => hpackInt(index, 7, 0x80);

export type LiteralKind = 'incremental' | 'without' | 'never';
const LITERAL_PREFIX: Record<LiteralKind, [bits: number, pattern: number]> = {
  incremental: [6, 0x40], // §6.2.1 "01"
  without: [4, 0x00], // §6.2.2 "0000"
  never: [4, 0x10], // §6.2.3 "0001"
};

/** RFC 7541 §6.2 literal with the name taken from index `nameIndex`. */
export function literalIndexedName(kind: LiteralKind, nameIndex: number, value: string, huffman = false): Buffer {
  const [bits, pattern] = LITERAL_PREFIX[kind];
  return Buffer.concat([hpackInt(nameIndex, bits, pattern), hpackString(value, huffman)]);
}

/** RFC 7541 §6.2 literal with a new name. */
export function literalNewName(kind: LiteralKind, name: string, value: string, huffman = false): Buffer {
  const [bits, pattern] = LITERAL_PREFIX[kind];
  return Buffer.concat([hpackInt(0, bits, pattern), hpackString(name, huffman), hpackString(value, huffman)]);
}

/** RFC 7541 §6.3 dynamic table size update. */
export const sizeUpdate = (size: number): Buffer => hpackInt(size, 5, 0x20);

/**
 * A request header block written without the dynamic table (static indexes and literals without
 * indexing), so it can be glued to hand-made representations in any order.
 */
export function plainBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.map(([name, value]) => literalNewName('without', name, value)));
}
