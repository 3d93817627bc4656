/**
 * Incremental frame decoder: bytes in, whole frames out, for any split of the input (RFC 9113 §4.1).
 *
 * - A frame that lies within one received chunk is returned as views into that chunk (no copy);
 *   only a frame split across chunks is gathered into a fresh buffer.
 * - The length is checked against our SETTINGS_MAX_FRAME_SIZE as soon as the 9-octet header is in,
 *   so an oversized frame is refused before its payload is buffered (RFC 9113 §4.2).
 * - A server decoder first checks the 24-octet client preface (RFC 9113 §3.4).
 *
 * `next()` throws H2Error. A stream-scope error (e.g. a PRIORITY of the wrong length, §6.3) consumes
 * its frame, so the caller resets that stream and keeps calling `next()`. A connection-scope error
 * is final: every later call throws it again.
 */
import { ErrorCode, H2Error, connectionError } from '../errors.js';
import { decodeFrame } from './decode.js';
import { CONNECTION_PREFACE, DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_LENGTH, readFrameHeader, type FrameHeader } from './header.js';
import type { Frame } from './types.js';

export interface FrameDecoderOptions {
  /** The SETTINGS_MAX_FRAME_SIZE we advertised (RFC 9113 §6.5.2); default 16384. */
  maxFrameSize?: number;
  /** Expect the client connection preface before the first frame (server side, RFC 9113 §3.4). */
  expectPreface?: boolean;
}

export class FrameDecoder {
  /** Frames longer than this are a FRAME_SIZE_ERROR; raise it once our larger SETTINGS is sent. */
  maxFrameSize: number;
  private chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private offset = 0;
  private buffered = 0;
  private prefaceLeft: number;
  private header: FrameHeader | null = null;
  private failure: H2Error | null = null;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.prefaceLeft = options.expectPreface ? CONNECTION_PREFACE.length : 0;
  }

  /** Octets received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.chunks.push(buf);
    this.buffered += buf.length;
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(): Frame | null {
    if (this.failure) throw this.failure;
    try {
      return this.step();
    } catch (error) {
      if (error instanceof H2Error && error.scope === 'connection') this.failure = error;
      throw error;
    }
  }

  /** All complete frames buffered now (stops at, and throws, the first error). */
  *frames(): Generator<Frame> {
    for (let frame = this.next(); frame; frame = this.next()) yield frame;
  }

  private step(): Frame | null {
    if (this.prefaceLeft > 0 && !this.checkPreface()) return null;
    if (!this.header) {
      if (this.buffered < FRAME_HEADER_LENGTH) return null;
      const header = readFrameHeader(this.take(FRAME_HEADER_LENGTH));
      if (header.length > this.maxFrameSize) {
        throw connectionError(
          ErrorCode.FRAME_SIZE_ERROR,
          `frame of ${header.length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`,
          'RFC 9113 §4.2',
        );
      }
      this.header = header;
    }
    if (this.buffered < this.header.length) return null;
    const header = this.header;
    this.header = null;
    return decodeFrame(header, this.take(header.length));
  }

  /** Consumes the preface as it arrives; false while more of it is needed. */
  private checkPreface(): boolean {
    const start = CONNECTION_PREFACE.length - this.prefaceLeft;
    const count = Math.min(this.prefaceLeft, this.buffered);
    const got = this.take(count);
    if (!got.equals(CONNECTION_PREFACE.subarray(start, start + count))) {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, 'invalid connection preface', 'RFC 9113 §3.4');
    }
    this.prefaceLeft -= count;
    return this.prefaceLeft === 0;
  }

  /** Removes `n` buffered octets: a view when they lie in the first chunk, else a gathered copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0 || !first) return Buffer.alloc(0);
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) {
        this.chunks.shift();
        this.offset = 0;
      }
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const count = Math.min(n - filled, chunk.length - this.offset);
      chunk.copy(out, filled, this.offset, this.offset + count);
      filled += count;
      this.offset += count;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    return out;
  }
}
