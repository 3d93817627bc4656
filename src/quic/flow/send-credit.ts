/**
 * Send-side flow control credit (RFC 9000 §4.1): how many bytes the peer lets us send, on one
 * stream (MAX_STREAM_DATA, initial_max_stream_data_*) or on the whole connection (MAX_DATA,
 * initial_max_data). The limit only grows; a sender that has data but no credit says so once per
 * limit with STREAM_DATA_BLOCKED / DATA_BLOCKED.
 */
import { StreamUsageError } from '../stream/errors.js';

export class SendCredit {
  private _limit: number;
  private _used = 0;
  /** The limit at which we last reported being blocked, so each limit is reported once. */
  private blockedReportedAt: number | undefined;
  private blockedPending = false;

  constructor(initialLimit = 0) {
    this._limit = initialLimit;
  }

  /** Highest offset (stream) or byte count (connection) the peer allows. */
  get limit(): number {
    return this._limit;
  }

  /** Bytes of new data sent so far. */
  get used(): number {
    return this._used;
  }

  get available(): number {
    return Math.max(0, this._limit - this._used);
  }

  /**
   * A new maximum from the peer. RFC 9000 §4.1: "A sender MUST ignore any MAX_STREAM_DATA or
   * MAX_DATA frames that do not increase flow control limits." Returns whether the limit grew.
   */
  update(maximum: number): boolean {
    if (maximum <= this._limit) return false;
    this._limit = maximum;
    this.blockedPending = false;
    return true;
  }

  /** Spends credit on new data (retransmissions cost none: RFC 9000 §4.1 counts offsets). */
  consume(bytes: number): void {
    if (bytes > this.available) {
      throw new StreamUsageError(`sending ${bytes} bytes with only ${this.available} bytes of credit`);
    }
    this._used += bytes;
  }

  /**
   * The sender has data it cannot send for lack of credit. RFC 9000 §4.1: it SHOULD send a
   * STREAM_DATA_BLOCKED or DATA_BLOCKED frame; one per limit value is enough.
   */
  noteBlocked(): void {
    if (this.available > 0 || this.blockedReportedAt === this._limit) return;
    this.blockedReportedAt = this._limit;
    this.blockedPending = true;
  }

  /** The limit to put in a *_BLOCKED frame (RFC 9000 §19.12, §19.13), once. */
  takeBlocked(): number | undefined {
    if (!this.blockedPending) return undefined;
    this.blockedPending = false;
    return this._limit;
  }

  /**
   * RFC 9000 §4.1: "a sender that is flow control limited SHOULD periodically send a
   * STREAM_DATA_BLOCKED or DATA_BLOCKED frame when it has no ack-eliciting packets in flight", so
   * that the peer's idle timeout does not close the connection. Repeats the signal if still blocked.
   */
  repeatBlocked(): void {
    if (this.available === 0 && this.blockedReportedAt === this._limit) this.blockedPending = true;
  }

  /** A *_BLOCKED frame was lost: repeat it if we are still blocked at that limit (RFC 9000 §13.3). */
  onBlockedLost(maximum: number): void {
    if (maximum === this._limit && this.available === 0) this.blockedPending = true;
  }
}
