/**
 * The HPACK Huffman code (RFC 7541 Appendix B), which QPACK uses unchanged for string literals
 * (RFC 9204 §4.1.2). The encoder packs codes into 32-bit words; the decoder is a
 * table-driven state machine that consumes 4 bits at a time (states are the 256 internal nodes
 * of the code tree), so no loop ever walks single bits.
 *
 * Decoding rules (RFC 7541 §5.2): padding is the most significant bits of EOS (all ones) and
 * shorter than 8 bits; a longer padding, padding that is not all ones, or an EOS symbol in the
 * string is an error (DecodeError).
 */
import { DecodeError } from '../../core/errors.js';

/** RFC 7541 Appendix B: the code of each symbol 0..255 and EOS (256), right-aligned. */
const CODES = new Uint32Array([
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
  0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
  0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
  0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
  0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
  0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
  0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
  0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
  0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
  0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
  0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
  0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
  0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
  0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
  0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
  0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
  0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
  0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
  0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
  0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
  0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
  0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
  0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
  0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
  0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
  0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
  0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
  0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
  0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
  0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
  0x3fffffff,
]);

/** RFC 7541 Appendix B: the code length in bits of each symbol. */
const LENGTHS = new Uint8Array([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
]);

const EOS = 256;

// ---------------------------------------------------------------------------------------------
// Encoding

/** Bytes that `str` (latin1: one byte per char) takes once Huffman-coded. */
export function huffmanEncodedLength(str: string): number {
  let bits = 0;
  for (let i = 0; i < str.length; i++) bits += LENGTHS[str.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman code of `str` (latin1) into `out` at `offset`; returns the offset after it.
 * `out` must have room for huffmanEncodedLength(str) bytes.
 */
export function huffmanEncodeInto(str: string, out: Uint8Array, offset: number): number {
  // `acc` holds `bits` (< 32) pending bits; whole 32-bit words are written as they fill up.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < str.length; i++) {
    const symbol = str.charCodeAt(i) & 0xff;
    const length = LENGTHS[symbol]!;
    const code = CODES[symbol]!;
    if (bits + length < 32) {
      acc = (acc << length) | code;
      bits += length;
      continue;
    }
    // The code straddles a word: its high (32 - bits) bits complete the word.
    const rest = bits + length - 32;
    const word = ((acc << (32 - bits)) | (code >>> rest)) >>> 0;
    out[offset] = word >>> 24;
    out[offset + 1] = word >>> 16;
    out[offset + 2] = word >>> 8;
    out[offset + 3] = word;
    offset += 4;
    acc = code & ((1 << rest) - 1);
    bits = rest;
  }
  while (bits >= 8) {
    bits -= 8;
    out[offset++] = acc >>> bits;
  }
  // Pad with the high bits of EOS, i.e. ones (RFC 7541 §5.2).
  if (bits > 0) out[offset++] = (acc << (8 - bits)) | (0xff >>> bits);
  return offset;
}

/** Huffman-codes raw bytes. */
export function huffmanEncode(bytes: Uint8Array): Buffer {
  const str = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const out = Buffer.allocUnsafe(huffmanEncodedLength(str));
  huffmanEncodeInto(str, out, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding: a 4-bit state machine built once from the code table

/**
 * STEP[state * 16 + nibble]: the state after reading the nibble (low 8 bits) and the symbol it
 * completes (bits 8 and up: 0 for none, symbol + 1 otherwise, so EOS is 257).
 */
const STEP = new Uint32Array(256 * 16);
const NO_SYMBOL = 0;
const EOS_STEP = (EOS + 1) << 8;
/** ACCEPT[state]: the string may end here (only ones read since the last symbol, fewer than 8). */
const ACCEPT = new Uint8Array(256);

function buildDecoder(): void {
  // Code tree: internal nodes 0..255 (0 is the root); a child is a node id or ~symbol for a leaf.
  const children: [number, number][] = [[0, 0]];
  const UNSET = 0;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = CODES[symbol]!;
    const length = LENGTHS[symbol]!;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const b = Math.floor(code / 2 ** bit) & 1;
      if (bit === 0) {
        children[node]![b] = ~symbol;
      } else {
        if (children[node]![b] === UNSET) {
          children.push([UNSET, UNSET]);
          children[node]![b] = children.length - 1;
        }
        node = children[node]![b]!;
      }
    }
  }
  // Depth of each node along the all-ones path from the root; other nodes are never accepting.
  ACCEPT[0] = 1;
  for (let node = 0, depth = 0; depth < 7; depth++) {
    node = children[node]![1]!;
    ACCEPT[node] = 1;
  }
  for (let state = 0; state < children.length; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let emit = -1;
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[node]![(nibble >> bit) & 1]!;
        if (child < 0) {
          // A leaf: at most one per nibble, since every code is at least 5 bits long.
          emit = ~child;
          node = 0;
        } else {
          node = child;
        }
      }
      STEP[state * 16 + nibble] = node | ((emit + 1) << 8);
    }
  }
}
buildDecoder();

/** Decodes a Huffman-coded string to its bytes. Throws DecodeError on EOS or bad padding. */
export function huffmanDecode(src: Uint8Array): Buffer {
  // The shortest code is 5 bits, so n bytes decode to at most 8n/5 symbols.
  const out = Buffer.allocUnsafe(Math.floor((src.length * 8) / 5));
  let length = 0;
  let state = 0;
  for (let i = 0; i < src.length; i++) {
    const byte = src[i]!;
    let step = STEP[(state << 4) | (byte >> 4)]!;
    if (step >>> 8 !== NO_SYMBOL) {
      if (step >= EOS_STEP) throw eosError();
      out[length++] = (step >>> 8) - 1;
    }
    step = STEP[((step & 0xff) << 4) | (byte & 0x0f)]!;
    if (step >>> 8 !== NO_SYMBOL) {
      if (step >= EOS_STEP) throw eosError();
      out[length++] = (step >>> 8) - 1;
    }
    state = step & 0xff;
  }
  if (!ACCEPT[state]) {
    throw new DecodeError('Huffman padding is longer than 7 bits or not all ones (RFC 7541 §5.2)');
  }
  return out.subarray(0, length);
}

function eosError(): DecodeError {
  return new DecodeError('Huffman string contains EOS (RFC 7541 §5.2)');
}
