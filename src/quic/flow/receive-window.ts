/**
 * Receive-side flow control (RFC 9000 §4.1, §4.2) for one stream or a whole connection: the limit
 * we advertised (initial_max_* then MAX_STREAM_DATA / MAX_DATA), checked against what the peer
 * sends, and raised as the application consumes data.
 *
 * Auto-tuning (RFC 9000 §4.2 leaves the strategy to the receiver): a new limit is announced once
 * half of the window has been consumed. If that moment comes less than two round trips after the
 * previous one, the window is what throttles the sender, so it doubles, up to `maxWindow`.
 * A reader slower than the network never triggers the doubling.
 */
import { StreamError, TransportErrorCode } from '../stream/errors.js';

export interface ReceiveWindowOptions {
  /** The window we start with: the initial_max_data / initial_max_stream_data_* we sent. */
  initialWindow: number;
  /** The window never grows past this. */
  maxWindow: number;
  /** Names the flow controller in error messages, e.g. "connection" or "stream 4". */
  label?: string | number;
}

export class ReceiveWindow {
  private _limit: number;
  private _window: number;
  private readonly maxWindow: number;
  private readonly label: string | number;
  private _received = 0;
  private _consumed = 0;
  private updatePending = false;
  /** When the last update was made (auto-tuning measures the time between updates). */
  private epochStart: number | undefined;

  constructor(options: ReceiveWindowOptions) {
    this._window = options.initialWindow;
    this._limit = options.initialWindow;
    this.maxWindow = Math.max(options.maxWindow, options.initialWindow);
    this.label = options.label ?? 'connection';
  }

  /** The highest limit advertised: the peer may send up to this (MAX_DATA / MAX_STREAM_DATA value). */
  get limit(): number {
    return this._limit;
  }

  /** Current window size: the credit granted ahead of the consumed offset. */
  get window(): number {
    return this._window;
  }

  /** Credit the peer has used: highest offset received (stream) or their sum (connection). */
  get received(): number {
    return this._received;
  }

  /** Bytes the application has consumed (read, or discarded after a reset). */
  get consumed(): number {
    return this._consumed;
  }

  /**
   * The peer used `bytes` more credit. RFC 9000 §4.1: "A receiver MUST close the connection with
   * an error of type FLOW_CONTROL_ERROR if the sender violates the advertised connection or stream
   * data limits."
   */
  onReceived(bytes: number): void {
    if (bytes <= 0) return;
    const received = this._received + bytes;
    if (received > this._limit) {
      throw new StreamError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `${typeof this.label === 'number' ? `stream ${this.label}` : this.label}: peer sent up to ${received} bytes, limit is ${this._limit}`,
        'RFC 9000 §4.1',
      );
    }
    this._received = received;
  }

  /**
   * The application consumed `bytes`. `now` (ms) and `rttMs` (smoothed RTT, 0 when unknown) drive
   * auto-tuning. Queues a new limit once half the window is used up.
   */
  onConsumed(bytes: number, now: number, rttMs: number): void {
    if (bytes <= 0) return;
    this._consumed += bytes;
    if (!this.halfUsed()) return;
    // RFC 9000 §4.2: a receiver sends updates before the sender blocks; doubling when updates
    // come faster than 2 RTTs apart keeps up with a bandwidth-delay product larger than the window.
    // The first update only starts the clock.
    if (this.epochStart !== undefined && rttMs > 0 && now - this.epochStart < 2 * rttMs) {
      this._window = Math.min(this._window * 2, this.maxWindow);
    }
    this.epochStart = now;
    this.raiseLimit(this._consumed + this._window);
  }

  /**
   * Bytes that will never be read (dropped after a reset or STOP_SENDING) give their credit back
   * like consumed ones, without counting as reading speed for auto-tuning.
   */
  release(bytes: number): void {
    if (bytes <= 0) return;
    this._consumed += bytes;
    if (this.halfUsed()) this.raiseLimit(this._consumed + this._window);
  }

  private halfUsed(): boolean {
    return this._limit - this._consumed <= this._window / 2;
  }

  /** Grows the window to at least `bytes` (e.g. a connection window kept above its streams'). */
  ensureWindow(bytes: number): void {
    const target = Math.min(bytes, this.maxWindow);
    if (target <= this._window) return;
    this._window = target;
    this.raiseLimit(this._consumed + this._window);
  }

  private raiseLimit(limit: number): void {
    if (limit <= this._limit) return;
    this._limit = limit;
    this.updatePending = true;
  }

  /** The new limit for a MAX_DATA / MAX_STREAM_DATA frame, once per raise. */
  takeUpdate(): number | undefined {
    if (!this.updatePending) return undefined;
    this.updatePending = false;
    return this._limit;
  }

  /** Whether an update is waiting to be sent. */
  get hasUpdate(): boolean {
    return this.updatePending;
  }

  /** Stop announcing updates: the final size is known, no more credit is needed (RFC 9000 §3.2). */
  cancelUpdate(): void {
    this.updatePending = false;
  }

  /**
   * A MAX_DATA / MAX_STREAM_DATA frame carrying `maximum` was lost. RFC 9000 §13.3: the most recent
   * value is sent again when the packet with the most recently sent one is lost; an older value
   * was already superseded.
   */
  onUpdateLost(maximum: number): void {
    if (maximum === this._limit) this.updatePending = true;
  }

  /**
   * The peer says it is blocked at `maximum` (DATA_BLOCKED / STREAM_DATA_BLOCKED). If we allow more,
   * it missed our update: queue the current limit again.
   */
  resendIfAbove(maximum: number): void {
    if (this._limit > maximum) this.updatePending = true;
  }
}
