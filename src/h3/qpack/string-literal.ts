/**
 * String literals (RFC 7541 §5.2 as extended by RFC 9204 §4.1.2): an H bit (Huffman-coded or
 * not), the encoded length as an (N-1)-bit prefixed integer, then the bytes. An "N-bit prefix"
 * string starts mid-byte, with the upper 8-N bits belonging to the instruction before it.
 *
 * Field names and values are handled as latin1 strings, so that every byte maps to one char and
 * back unchanged, and the RFC's size rule (bytes of name + value + 32) is just string lengths.
 */
import { DecodeError } from '../../core/errors.js';
import type { ByteWriter } from './byte-writer.js';
import { huffmanDecode, huffmanEncodeInto, huffmanEncodedLength } from './huffman.js';
import { readPrefixedInt, writePrefixedInt } from './prefixed-int.js';

export interface StringRead {
  value: string;
  next: number;
}

/** What a partial read still needs: at least `need` bytes from the start of the read. */
export interface Incomplete {
  need: number;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Reads an N-bit prefix string literal at `offset`. Returns Incomplete when the bytes end first
 * (with how many bytes from `offset` are needed, when known); throws DecodeError when the encoded
 * length exceeds `maxLength` (RFC 9204 §7.4) or the Huffman code is invalid.
 */
export function readStringLiteral(
  bytes: Uint8Array,
  offset: number,
  prefixBits: number,
  maxLength: number,
): StringRead | Incomplete {
  const length = readPrefixedInt(bytes, offset, prefixBits - 1);
  if (!length) return { need: bytes.length - offset + 1 };
  if (length.value > maxLength) {
    throw new DecodeError(`string literal of ${length.value} bytes over the ${maxLength}-byte limit (RFC 9204 §7.4)`);
  }
  const end = length.next + length.value;
  if (end > bytes.length) return { need: end - offset };
  const huffman = (bytes[offset]! & (1 << (prefixBits - 1))) !== 0;
  const buf = asBuffer(bytes);
  const value = huffman
    ? huffmanDecode(buf.subarray(length.next, end)).toString('latin1')
    : buf.toString('latin1', length.next, end);
  return { value, next: end };
}

/**
 * Writes `value` as an N-bit prefix string literal, Huffman-coded when that is shorter (unless
 * `huffman` is false). `flags` holds the bits above the H bit in the first byte.
 */
export function writeStringLiteral(w: ByteWriter, flags: number, prefixBits: number, value: string, huffman = true): void {
  const huffmanLength = huffman ? huffmanEncodedLength(value) : Infinity;
  const hBit = 1 << (prefixBits - 1);
  if (huffmanLength < value.length) {
    writePrefixedInt(w, flags | hBit, prefixBits - 1, huffmanLength);
    const buf = w.reserve(huffmanLength);
    w.length = huffmanEncodeInto(value, buf, w.length);
  } else {
    writePrefixedInt(w, flags, prefixBits - 1, value.length);
    const buf = w.reserve(value.length);
    w.length += buf.write(value, w.length, 'latin1');
  }
}

export function isIncomplete<T extends object>(read: T | Incomplete): read is Incomplete {
  return 'need' in read;
}
