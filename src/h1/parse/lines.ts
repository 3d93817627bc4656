/**
 * Incremental CRLF line reader shared by the head parsers and the chunked decoder (RFC 9112 §2.2).
 *
 * Lines are found with `indexOf(LF)`; a line that arrives in one piece is returned as a subarray of
 * the input (no copy); only a line split across pushes is joined. The partial line is bounded: the
 * caller passes the longest line it accepts and gets its own error as soon as that is exceeded, so
 * a peer cannot make us buffer an endless line.
 *
 * Line endings: RFC 9112 §2.2 lets a recipient accept a bare LF as a line terminator, and requires
 * a bare CR to be treated as invalid (or replaced by SP). We accept neither: a bare LF or CR is the
 * classic request-smuggling lever when two parsers on the path disagree about where a line ends
 * (RFC 9112 §11.2), and CRLF is what every conforming sender generates. A bare LF therefore raises
 * the caller's error here; a bare CR inside the line is left to the caller's character validation
 * (CR is outside every class that a line may contain).
 */
import { H1Error } from '../../core/errors.js';

/** A Buffer view of `bytes` (no copy), so that indexOf and toString('latin1') are at hand. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const LF = 0x0a;
const CR = 0x0d;
const NO_INPUT = Buffer.alloc(0);

export class LineReader {
  /** The last line read: its content is `buffer[start..end)`, CRLF excluded. Read it before the
   *  next call (no subarray is made per line: creating one costs more than parsing a short line). */
  buffer: Buffer = NO_INPUT;
  start = 0;
  end = 0;

  /** Pieces of the line begun in earlier pushes, and their total length. */
  private pieces: Buffer[] = [];
  private pendingBytes = 0;

  /** Bytes held for a partial line. */
  get pending(): number {
    return this.pendingBytes;
  }

  /**
   * Reads the next line from `input` starting at `pos`.
   *
   * Returns the offset just past the LF and sets `buffer`/`start`/`end` to the line, or -1 when
   * `input` holds no LF from `pos` on (the rest is kept for the next call). `maxLine` bounds the
   * line content (CRLF excluded); `tooLong(prefix)` builds the error thrown when it is exceeded,
   * given the start of the line.
   */
  next(input: Buffer, pos: number, maxLine: number, tooLong: (prefix: Buffer) => H1Error): number {
    const lf = input.indexOf(LF, pos);
    if (lf === -1) {
      const rest = input.length - pos;
      // +1: a CR that ends this piece may belong to the CRLF, not to the content.
      if (this.pendingBytes + rest > maxLine + 1) throw tooLong(this.prefix(input, pos));
      if (rest > 0) {
        // Copy: the caller's buffer may be reused once push() returns.
        this.pieces.push(Buffer.from(input.subarray(pos)));
        this.pendingBytes += rest;
      }
      return -1;
    }
    if (this.pendingBytes === 0) {
      this.buffer = input;
      this.start = pos;
      this.end = lf;
    } else {
      if (this.pendingBytes + (lf - pos) > maxLine + 1) throw tooLong(this.prefix(input, pos));
      this.buffer = Buffer.concat([...this.pieces, input.subarray(pos, lf + 1)]);
      this.start = 0;
      this.end = this.buffer.length - 1;
      this.pieces = [];
      this.pendingBytes = 0;
    }
    // RFC 9112 §2.2: the line terminator is CRLF; a bare LF is rejected (see the file comment).
    if (this.end === this.start || this.buffer[this.end - 1] !== CR) {
      throw new H1Error(400, 'bare LF line terminator', 'RFC 9112 §2.2');
    }
    this.end--;
    if (this.end - this.start > maxLine) throw tooLong(this.buffer.subarray(this.start, this.end));
    return lf + 1;
  }

  /** The start of the line being read: what is held, plus a little of `input` (error path only). */
  private prefix(input: Buffer, pos: number): Buffer {
    return Buffer.concat([...this.pieces, input.subarray(pos, pos + 64)]);
  }

  /** Drops any partial line (after an error, or when the stream is handed to someone else). */
  clear(): void {
    this.pieces = [];
    this.pendingBytes = 0;
    this.release();
  }

  /** Lets go of the last line's buffer (the caller has read it), so an idle reader holds no input. */
  release(): void {
    this.buffer = NO_INPUT;
    this.start = 0;
    this.end = 0;
  }
}
