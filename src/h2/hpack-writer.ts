/**
 * The octet writer under HpackEncoder: prefixed integers (RFC 7541 §5.1) and string literals, raw
 * or Huffman-coded (§5.2, with the code of Appendix B), written into one buffer that an encoder
 * keeps for the life of its connection.
 *
 * hpack.js has the same pieces, but its encoder is made per block over `wbuf`, which allocates
 * with the deprecated `new Buffer()` (a deprecation check on every call) and renders a list of
 * pieces: about a tenth of the server's CPU on small responses. Here a block costs one allocation,
 * the copy that `finish()` returns.
 */
import hpack from 'hpack.js';

/** RFC 7541 Appendix B: for each octet, [code length in bits, code (right-aligned)]. */
const HUFFMAN_CODES: ReadonlyArray<readonly [bits: number, code: number]> = hpack.huffman.encode;

/** Octets a §5.1 integer may take past its prefix: enough for any value below 2^35. */
const MAX_INT_TAIL = 5;

export class FieldBlockWriter {
  private buffer = Buffer.allocUnsafe(512);
  private length = 0;

  /** Starts a new block (the buffer is reused). */
  reset(): void {
    this.length = 0;
  }

  /** The block written since reset(), as its own Buffer. */
  finish(): Buffer {
    const block = Buffer.allocUnsafe(this.length);
    this.buffer.copy(block, 0, 0, this.length);
    return block;
  }

  /**
   * RFC 7541 §5.1: `value` with an N-bit prefix; `pattern` holds the representation's bits above
   * the prefix (0x80 indexed, 0x40 incremental, 0x20 size update, 0x10 never indexed, 0 literal).
   */
  writeInt(pattern: number, prefixBits: number, value: number): void {
    this.ensure(1 + MAX_INT_TAIL);
    const buffer = this.buffer;
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      buffer[this.length++] = pattern | value;
      return;
    }
    buffer[this.length++] = pattern | max;
    let rest = value - max;
    while (rest >= 0x80) {
      buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    buffer[this.length++] = rest;
  }

  /**
   * RFC 7541 §5.2: a string literal of a byte string (one char per octet, as hpack.js tables hold
   * them), Huffman-coded when `huffman` is set.
   */
  writeString(octets: string, huffman: boolean): void {
    if (!huffman) {
      this.writeInt(0x00, 7, octets.length);
      this.ensure(octets.length);
      this.length += this.buffer.write(octets, this.length, 'latin1');
      return;
    }
    let bits = 0;
    for (let i = 0; i < octets.length; i++) bits += HUFFMAN_CODES[octets.charCodeAt(i)]![0];
    const size = (bits + 7) >>> 3;
    this.writeInt(0x80, 7, size);
    this.ensure(size);
    this.writeHuffman(octets);
  }

  /** Appendix B codes, most significant bit first, padded with the EOS prefix (all ones, §5.2). */
  private writeHuffman(octets: string): void {
    const buffer = this.buffer;
    let at = this.length;
    // `pending` holds fewer than 8 bits not yet written; a code of up to 24 bits joins them within
    // 31 bits, so the longer codes (30 bits at most) are added in two parts.
    let pending = 0;
    let pendingBits = 0;
    for (let i = 0; i < octets.length; i++) {
      const [length, code] = HUFFMAN_CODES[octets.charCodeAt(i)]!;
      if (length > 24) {
        pending = (pending << (length - 8)) | (code >>> 8);
        pendingBits += length - 8;
        while (pendingBits >= 8) {
          pendingBits -= 8;
          buffer[at++] = (pending >>> pendingBits) & 0xff;
        }
        pending &= (1 << pendingBits) - 1;
        pending = (pending << 8) | (code & 0xff);
        pendingBits += 8;
      } else {
        pending = (pending << length) | code;
        pendingBits += length;
      }
      while (pendingBits >= 8) {
        pendingBits -= 8;
        buffer[at++] = (pending >>> pendingBits) & 0xff;
      }
      pending &= (1 << pendingBits) - 1;
    }
    if (pendingBits > 0) buffer[at++] = ((pending << (8 - pendingBits)) | (0xff >>> pendingBits)) & 0xff;
    this.length = at;
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
