/**
 * Receive buffer that puts out-of-order, overlapping and duplicate pieces of a byte stream back in
 * order: STREAM data (RFC 9000 §2.2, §3.2) and CRYPTO data (RFC 9000 §7.5, §19.6).
 *
 * - Each offset is stored once: a new piece fills only the gaps between what is buffered, as
 *   subarrays of the caller's bytes (no copy, no merge). Reading hands those pieces out in order.
 * - How far ahead of the read offset data may reach is bounded (`maxAhead`); beyond it the peer gets
 *   the configured error (CRYPTO_BUFFER_EXCEEDED for CRYPTO). Stream flow control (flow.ts) keeps
 *   a well-behaved peer below this bound.
 * - The number of stored pieces is bounded too, and a tiny piece of a large datagram is copied, so
 *   that a peer sending one-byte frames with gaps cannot pin megabytes of datagrams (RFC 9000 §21.7).
 *   What is bounded is the count of small pieces (under SMALL_PIECE_BYTES bytes): at most
 *   `maxPieces` of them. A sender whose window holds thousands of full packets leaves that many
 *   pieces behind one lost packet and must not be taken for an attacker; pieces of
 *   SMALL_PIECE_BYTES bytes or more number at most maxAhead / SMALL_PIECE_BYTES, and what such a
 *   piece costs beyond its bytes stays a fraction of the data. (An average over all stored pieces
 *   let one large piece carry thousands of 1-byte ones, which outlived its read.)
 *   With `borrowSmallPieces` the copy waits: such a piece is kept as a view and counted in
 *   `pinnedBytes` until `adoptBorrowed()` copies it, so a piece read in the same pass is never copied;
 *   the owner (StreamManager) bounds the total pinned and adopts when it is over.
 * - Final size (RFC 9000 §4.5): once known it cannot change, and no data may reach beyond it.
 *
 * Callers must not modify a Uint8Array after handing it to `insert`: it may be kept until read.
 */
import { DEFAULT_LIMITS } from '../../core/limits.js';
import { copyOf, isSmallView } from '../../core/small-view.js';
import { StreamError, TransportErrorCode } from './errors.js';
import { VARINT_BOUND } from './stream-id.js';

export interface ReassemblerOptions {
  /** Data may end at most this many bytes past the read offset. */
  maxAhead: number;
  /** Error for data beyond `maxAhead`, with the RFC section that allows it. */
  limitError?: { code: TransportErrorCode; section: string };
  /** Most stored pieces (each gap between received ranges costs one). */
  maxPieces?: number;
  /** Whether a fin / final size is meaningful (false for CRYPTO, which has none: RFC 9000 §19.6). */
  hasFinalSize?: boolean;
  /** Keep small views of large buffers uncopied until `adoptBorrowed()` (see pinnedBytes). */
  borrowSmallPieces?: boolean;
}

interface Piece {
  offset: number;
  data: Uint8Array;
  /** Size of the buffer `data` views when it is a small view not yet copied, else 0. */
  pinned: number;
}

const FLOW_CONTROL_LIMIT = { code: TransportErrorCode.FLOW_CONTROL_ERROR, section: 'RFC 9000 §4.1' };

const DEFAULT_MAX_PIECES = 1024;
/**
 * A piece under this many bytes counts against `maxPieces`: a STREAM frame filling even a
 * 1200-byte packet carries more than twice this, and a piece's own objects take about a tenth of it.
 */
export const SMALL_PIECE_BYTES = 512;

export class Reassembler {
  private readonly pieces: Piece[] = [];
  private readonly maxAhead: number;
  private readonly limitError: { code: TransportErrorCode; section: string };
  private readonly maxPieces: number;
  private readonly hasFinalSize: boolean;
  private readonly borrowSmallPieces: boolean;
  private _pinnedBytes = 0;
  /** Stored pieces under SMALL_PIECE_BYTES bytes (the ones `maxPieces` bounds). */
  private smallPieces = 0;
  private _readOffset = 0;
  private _contiguousEnd = 0;
  private _highestOffset = 0;
  private _bufferedBytes = 0;
  private _finalSize: number | undefined;

  constructor(options: ReassemblerOptions) {
    this.maxAhead = options.maxAhead;
    this.limitError = options.limitError ?? FLOW_CONTROL_LIMIT;
    this.maxPieces = options.maxPieces ?? DEFAULT_MAX_PIECES;
    this.hasFinalSize = options.hasFinalSize ?? true;
    this.borrowSmallPieces = options.borrowSmallPieces ?? false;
  }

  /**
   * Total size of the buffers that stored small pieces view without a copy (only with
   * `borrowSmallPieces`): memory they keep alive beyond their own bytes (RFC 9000 §21.7).
   */
  get pinnedBytes(): number {
    return this._pinnedBytes;
  }

  /** Copies every borrowed piece still stored, so that no buffer is pinned; pinnedBytes becomes 0. */
  adoptBorrowed(): void {
    if (this._pinnedBytes === 0) return;
    for (const p of this.pieces) {
      if (p.pinned === 0) continue;
      p.data = copyOf(p.data);
      p.pinned = 0;
    }
    this._pinnedBytes = 0;
  }

  /** Bytes handed to the reader so far. */
  get readOffset(): number {
    return this._readOffset;
  }

  /** End of the data received without a gap from offset 0. */
  get contiguousEnd(): number {
    return this._contiguousEnd;
  }

  /** Largest offset + length received (what flow control counts, RFC 9000 §4.1). */
  get highestOffset(): number {
    return this._highestOffset;
  }

  /** Bytes stored and not yet read. */
  get bufferedBytes(): number {
    return this._bufferedBytes;
  }

  /** Bytes ready to read in order. */
  get readableBytes(): number {
    return this._contiguousEnd - this._readOffset;
  }

  /** The final size once a fin was received (RFC 9000 §4.5). */
  get finalSize(): number | undefined {
    return this._finalSize;
  }

  /** All bytes up to the final size were received (the stream's "Data Recvd", RFC 9000 §3.2). */
  get isComplete(): boolean {
    return this._finalSize !== undefined && this._contiguousEnd === this._finalSize;
  }

  /** All bytes up to the final size were read ("Data Read", RFC 9000 §3.2). */
  get isFinished(): boolean {
    return this._finalSize !== undefined && this._readOffset === this._finalSize;
  }

  /**
   * Checks a piece against the final-size and 2^62 rules without storing it (RFC 9000 §4.5, §19.8).
   * Also used for data that is discarded unread (after STOP_SENDING or a reset).
   */
  checkFinalSize(offset: number, length: number, fin: boolean): void {
    const end = offset + length;
    // RFC 9000 §19.8 / §19.6: offset + length cannot exceed 2^62-1.
    if (!Number.isInteger(offset) || offset < 0 || end >= VARINT_BOUND) {
      throw new StreamError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `data ends at ${end}, beyond 2^62-1`,
        'RFC 9000 §19.8',
      );
    }
    if (!this.hasFinalSize) return;
    if (this._finalSize !== undefined) {
      // RFC 9000 §4.5: once a final size is known, it cannot change, and data at or beyond it is an error.
      if (end > this._finalSize) {
        throw new StreamError(
          TransportErrorCode.FINAL_SIZE_ERROR,
          `data ends at ${end}, beyond the final size ${this._finalSize}`,
          'RFC 9000 §4.5',
        );
      }
      if (fin && end !== this._finalSize) {
        throw new StreamError(
          TransportErrorCode.FINAL_SIZE_ERROR,
          `final size changed from ${this._finalSize} to ${end}`,
          'RFC 9000 §4.5',
        );
      }
    } else if (fin && end < this._highestOffset) {
      // RFC 9000 §4.5: a final size lower than data already received is an error.
      throw new StreamError(
        TransportErrorCode.FINAL_SIZE_ERROR,
        `final size ${end} is below data already received up to ${this._highestOffset}`,
        'RFC 9000 §4.5',
      );
    }
  }

  /**
   * Records the final size given by a RESET_STREAM frame (RFC 9000 §4.5, §19.4): the same rules as
   * a fin. Returns how much it raised the highest offset (more flow-control credit consumed).
   */
  setFinalSize(finalSize: number): number {
    this.checkFinalSize(finalSize, 0, true);
    this._finalSize = finalSize;
    const grown = Math.max(0, finalSize - this._highestOffset);
    this._highestOffset = Math.max(this._highestOffset, finalSize);
    return grown;
  }

  /**
   * Adds a piece of the stream. Returns how much it raised the highest offset received, which is
   * the flow-control credit it consumed (RFC 9000 §4.1). With `discard`, the data is checked and
   * counted but not stored (a stream the application stopped reading).
   */
  insert(offset: number, data: Uint8Array, fin = false, discard = false): number {
    const end = offset + data.byteLength;
    this.checkFinalSize(offset, data.byteLength, fin);
    if (end > this._readOffset + this.maxAhead && !discard) {
      throw new StreamError(
        this.limitError.code,
        `data ends at ${end}, more than ${this.maxAhead} bytes past the read offset ${this._readOffset}`,
        this.limitError.section,
      );
    }
    if (fin && this.hasFinalSize) this._finalSize = end;
    const grown = Math.max(0, end - this._highestOffset);
    this._highestOffset = Math.max(this._highestOffset, end);
    if (discard) {
      this.skipTo(this._highestOffset);
      return grown;
    }
    const start = Math.max(offset, this._readOffset);
    // A view only when part of the piece was already read (a retransmission overlapping the read offset).
    if (start < end) this.store(start, start === offset ? data : data.subarray(start - offset), end);
    return grown;
  }

  /** Stores the parts of `data` (covering [start, end)) that fill gaps between stored pieces. */
  private store(start: number, data: Uint8Array, end: number): void {
    const pieces = this.pieces;
    const last = pieces[pieces.length - 1];
    if (last === undefined || last.offset + last.data.byteLength <= start) {
      // In-order arrival (a bulk transfer's every packet): nothing stored reaches `start`, so the
      // whole piece is new and goes at the end, without a search or a merge.
      this.append(start, data, end);
      return;
    }
    // First stored piece that ends after `start`: pieces before it are untouched.
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = pieces[mid]!;
      if (p.offset + p.data.byteLength <= start) lo = mid + 1;
      else hi = mid;
    }
    const merged: Piece[] = [];
    let cursor = start;
    let i = lo;
    while (cursor < end) {
      const next = pieces[i];
      if (next !== undefined && next.offset <= cursor) {
        merged.push(next);
        cursor = Math.max(cursor, next.offset + next.data.byteLength);
        i++;
        continue;
      }
      const gapEnd = next === undefined ? end : Math.min(end, next.offset);
      merged.push(this.piece(cursor, data.subarray(cursor - start, gapEnd - start)));
      this._bufferedBytes += gapEnd - cursor;
      cursor = gapEnd;
    }
    pieces.splice(lo, i - lo, ...merged);
    const touchesContiguous = start <= this._contiguousEnd;
    if (this.smallPieces > this.maxPieces) this.refuseSmallPieces();
    if (touchesContiguous) this.advanceContiguous(lo);
  }

  /** Stores [start, end) after every stored piece (the same outcome as the general merge). */
  private append(start: number, data: Uint8Array, end: number): void {
    const pieces = this.pieces;
    pieces.push(this.piece(start, data));
    this._bufferedBytes += end - start;
    if (this.smallPieces > this.maxPieces) this.refuseSmallPieces();
    if (start <= this._contiguousEnd) this.advanceContiguous(pieces.length - 1);
  }

  /**
   * RFC 9000 §21.7: a peer that leaves too many gaps with small pieces would make us keep unbounded
   * state. Called once more than `maxPieces` small pieces are stored.
   */
  private refuseSmallPieces(): never {
    throw new StreamError(
      this.limitError.code === TransportErrorCode.CRYPTO_BUFFER_EXCEEDED
        ? TransportErrorCode.CRYPTO_BUFFER_EXCEEDED
        : TransportErrorCode.PROTOCOL_VIOLATION,
      `more than ${this.maxPieces} separate pieces of out-of-order data under ${SMALL_PIECE_BYTES} bytes`,
      'RFC 9000 §21.7',
    );
  }

  /**
   * A stored piece. A small view of a large buffer is copied so the large buffer can be
   * garbage-collected, or, when borrowing, kept and counted as pinning that buffer.
   */
  private piece(offset: number, view: Uint8Array): Piece {
    if (view.byteLength < SMALL_PIECE_BYTES) this.smallPieces++;
    const bufferSize = view.buffer.byteLength;
    if (!isSmallView(view)) return { offset, data: view, pinned: 0 };
    if (!this.borrowSmallPieces) return { offset, data: copyOf(view), pinned: 0 };
    this._pinnedBytes += bufferSize;
    return { offset, data: view, pinned: bufferSize };
  }

  /** Moves `contiguousEnd` over stored pieces that now follow it without a gap. */
  private advanceContiguous(from: number): void {
    let i = from;
    while (i > 0 && this.pieces[i - 1]!.offset + this.pieces[i - 1]!.data.byteLength >= this._contiguousEnd) i--;
    for (; i < this.pieces.length; i++) {
      const p = this.pieces[i]!;
      if (p.offset > this._contiguousEnd) break;
      this._contiguousEnd = Math.max(this._contiguousEnd, p.offset + p.data.byteLength);
    }
  }

  /**
   * Hands out the next in-order bytes, at most `maxBytes`, as a view of received data (no copy).
   * Returns null when nothing is readable. Call again for more: one call returns one stored piece.
   */
  read(maxBytes = Infinity): Uint8Array | null {
    const first = this.pieces[0];
    if (first === undefined || first.offset !== this._readOffset || maxBytes <= 0) return null;
    let out: Uint8Array;
    if (first.data.byteLength <= maxBytes) {
      out = first.data;
      this.pieces.shift();
      this._pinnedBytes -= first.pinned;
      if (out.byteLength < SMALL_PIECE_BYTES) this.smallPieces--;
    } else {
      const wasSmall = first.data.byteLength < SMALL_PIECE_BYTES;
      out = first.data.subarray(0, maxBytes);
      first.data = first.data.subarray(maxBytes);
      first.offset += maxBytes;
      // A piece read in part may become a small one.
      if (!wasSmall && first.data.byteLength < SMALL_PIECE_BYTES) this.smallPieces++;
    }
    this._readOffset += out.byteLength;
    this._bufferedBytes -= out.byteLength;
    return out;
  }

  /** All readable bytes as one buffer (concatenated only when they span pieces), or null. */
  readAll(): Uint8Array | null {
    const parts: Uint8Array[] = [];
    for (let part = this.read(); part !== null; part = this.read()) parts.push(part);
    if (parts.length === 0) return null;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * Drops everything below `offset` as if read, and everything stored (used when the reader gives
   * up: STOP_SENDING or reset). Returns the bytes skipped past the old read offset.
   */
  skipTo(offset: number): number {
    const skipped = Math.max(0, offset - this._readOffset);
    this.pieces.length = 0;
    this.smallPieces = 0;
    this._bufferedBytes = 0;
    this._pinnedBytes = 0;
    this._readOffset += skipped;
    this._contiguousEnd = Math.max(this._contiguousEnd, this._readOffset);
    return skipped;
  }
}

/**
 * The receive buffer of one CRYPTO stream (one per encryption level, RFC 9000 §7.5, §19.6): no fin,
 * no flow control, and out-of-order data bounded by `maxBytes` (at least 4096, §7.5); beyond it the
 * connection closes with CRYPTO_BUFFER_EXCEEDED.
 */
export function createCryptoReassembler(maxBytes: number = DEFAULT_LIMITS.maxCryptoBufferBytes): Reassembler {
  return new Reassembler({ maxAhead: Math.max(maxBytes, 4096), hasFinalSize: false, limitError: CRYPTO_BUFFER_LIMIT });
}

/** Shared by every CRYPTO reassembler, three per connection (issue 5: objects a connection keeps for its life). */
const CRYPTO_BUFFER_LIMIT = { code: TransportErrorCode.CRYPTO_BUFFER_EXCEEDED, section: 'RFC 9000 §7.5' } as const;
