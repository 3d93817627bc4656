/**
 * Stream concurrency limits (RFC 9000 §4.6), one instance per direction (bidi, uni):
 *
 * - `StreamOpenCredit`: how many streams of a type we may open, from the peer's
 *   initial_max_streams_* and MAX_STREAMS frames; STREAMS_BLOCKED when we hit it.
 * - `StreamAcceptLimit`: how many streams of a type the peer may open. A stream beyond the limit we
 *   sent is a STREAM_LIMIT_ERROR; as peer streams close, the limit rises so that at most
 *   `maxConcurrent` of them are open at once, and MAX_STREAMS tells the peer.
 */
import { StreamError, StreamUsageError, TransportErrorCode } from '../stream/errors.js';
import { MAX_STREAM_COUNT } from '../stream/stream-id.js';

export class StreamOpenCredit {
  private _limit: number;
  private _opened = 0;
  private blockedReportedAt: number | undefined;
  private blockedPending = false;

  constructor(initialLimit = 0) {
    this._limit = Math.min(initialLimit, MAX_STREAM_COUNT);
  }

  get limit(): number {
    return this._limit;
  }

  /** Streams of this type opened so far; also the index of the next one. */
  get opened(): number {
    return this._opened;
  }

  get canOpen(): boolean {
    return this._opened < this._limit;
  }

  /** Takes one stream of credit; returns the new stream's index. RFC 9000 §4.6: never exceed the peer's limit. */
  open(): number {
    if (!this.canOpen) throw new StreamUsageError(`stream limit ${this._limit} reached`);
    return this._opened++;
  }

  /**
   * A MAX_STREAMS frame (RFC 9000 §19.11). RFC 9000 §4.6: a value above 2^60 received in a frame is
   * a FRAME_ENCODING_ERROR, and a value that does not raise the limit is ignored. Returns whether
   * the limit grew.
   */
  update(maximum: number): boolean {
    if (!Number.isInteger(maximum) || maximum < 0 || maximum > MAX_STREAM_COUNT) {
      throw new StreamError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `MAX_STREAMS ${maximum} exceeds 2^60`,
        'RFC 9000 §4.6',
      );
    }
    if (maximum <= this._limit) return false;
    this._limit = maximum;
    this.blockedPending = false;
    return true;
  }

  /** We wanted to open a stream but could not: RFC 9000 §4.6 says to send STREAMS_BLOCKED. */
  noteBlocked(): void {
    if (this.canOpen || this.blockedReportedAt === this._limit) return;
    this.blockedReportedAt = this._limit;
    this.blockedPending = true;
  }

  /** The limit for a STREAMS_BLOCKED frame (RFC 9000 §19.14), once per limit. */
  takeBlocked(): number | undefined {
    if (!this.blockedPending) return undefined;
    this.blockedPending = false;
    return this._limit;
  }

  onBlockedLost(maximum: number): void {
    if (maximum === this._limit && !this.canOpen) this.blockedPending = true;
  }
}

export class StreamAcceptLimit {
  private _limit: number;
  private advertised: number;
  private _opened = 0;
  private closed = 0;
  private updatePending = false;
  /** Raise the advertised limit in steps of this many streams, not one MAX_STREAMS per close. */
  private readonly step: number;

  constructor(private readonly maxConcurrent: number) {
    this._limit = Math.min(maxConcurrent, MAX_STREAM_COUNT);
    this.advertised = this._limit;
    this.step = Math.max(1, Math.floor(maxConcurrent / 8));
  }

  /** The limit we allow (what initial_max_streams_* and MAX_STREAMS carry). */
  get limit(): number {
    return this._limit;
  }

  /** Count of peer streams of this type opened so far (highest index + 1). */
  get opened(): number {
    return this._opened;
  }

  /**
   * The peer used stream `index` of this type. RFC 9000 §4.6: "An endpoint that receives a frame
   * with a stream ID exceeding the limit it has sent MUST treat this as a connection error of type
   * STREAM_LIMIT_ERROR."
   */
  onPeerStream(index: number): void {
    if (index >= this._limit) {
      throw new StreamError(
        TransportErrorCode.STREAM_LIMIT_ERROR,
        `peer opened stream number ${index + 1} of a type limited to ${this._limit}`,
        'RFC 9000 §4.6',
      );
    }
    this._opened = Math.max(this._opened, index + 1);
  }

  /** A peer stream of this type is closed and forgotten: its slot can be given back (RFC 9000 §4.6). */
  onStreamClosed(): void {
    this.closed++;
    this._limit = Math.min(this.closed + this.maxConcurrent, MAX_STREAM_COUNT);
    const gained = this._limit - this.advertised;
    // Announce in steps, or at once if the peer has used up what we advertised.
    if (gained >= this.step || (gained > 0 && this._opened >= this.advertised)) this.updatePending = true;
  }

  /** The value for a MAX_STREAMS frame (RFC 9000 §19.11), once per raise. */
  takeUpdate(): number | undefined {
    if (!this.updatePending) return undefined;
    this.updatePending = false;
    this.advertised = this._limit;
    return this._limit;
  }

  /** A MAX_STREAMS frame was lost: send the latest value again unless a newer one went out (RFC 9000 §13.3). */
  onUpdateLost(maximum: number): void {
    if (maximum === this.advertised) this.updatePending = true;
  }

  /** The peer sent STREAMS_BLOCKED at `maximum` (RFC 9000 §19.14): repeat our limit if it is higher. */
  resendIfAbove(maximum: number): void {
    if (this._limit > maximum) this.updatePending = true;
  }
}
