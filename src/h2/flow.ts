/**
 * HTTP/2 flow control (RFC 9113 §5.2, §6.9): the peer's windows that limit what we send, and our
 * windows that limit what the peer sends, with a WINDOW_UPDATE policy for the latter.
 *
 * Receive policy, chosen to keep fast transfers at full speed: the connection window is raised at
 * once from the fixed 65,535 (§6.9.2) to a large target (16 MiB by default) with a WINDOW_UPDATE on
 * stream 0; streams get a large initial window through SETTINGS_INITIAL_WINDOW_SIZE; credit is
 * returned as the application consumes data, in one WINDOW_UPDATE once half a window is consumed, so
 * the sender never stalls on a round trip and small updates are not sent (§5.2.2).
 */
import { ErrorCode, connectionError, streamError, type H2Error } from './errors.js';
import type { DataFrame } from './frames/types.js';

/** RFC 9113 §6.9.1: no window may exceed 2^31-1. */
export const MAX_WINDOW_SIZE = 2 ** 31 - 1;
/** RFC 9113 §6.9.2: initial connection and stream windows. */
export const DEFAULT_WINDOW_SIZE = 65_535;

/** Octets of a DATA frame that count against flow control: the whole payload, padding included (§6.1). */
export function flowControlledLength(frame: DataFrame): number {
  return frame.data.length + (frame.padLength === undefined ? 0 : frame.padLength + 1);
}

function windowError(streamId: number, code: number, message: string, section: string): H2Error {
  return streamId === 0 ? connectionError(code, message, section) : streamError(code, streamId, message, section);
}

/** One window the peer granted us: a stream's or the connection's (streamId 0). */
export class SendWindow {
  constructor(readonly streamId: number, private size: number) {}

  /** May be negative after SETTINGS_INITIAL_WINDOW_SIZE shrank (§6.9.2). */
  get available(): number {
    return this.size;
  }

  /** A WINDOW_UPDATE for this window (RFC 9113 §6.9, §6.9.1). */
  increase(increment: number): void {
    if (increment === 0) {
      // §6.9: a stream error on a stream, a connection error on the connection window.
      throw windowError(this.streamId, ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE increment of 0', 'RFC 9113 §6.9');
    }
    if (this.size + increment > MAX_WINDOW_SIZE) {
      throw windowError(this.streamId, ErrorCode.FLOW_CONTROL_ERROR, `window ${this.size} + ${increment} exceeds 2^31-1`, 'RFC 9113 §6.9.1');
    }
    this.size += increment;
  }

  /**
   * We sent `length` flow-controlled octets; more than available is a bug of the caller. An empty
   * DATA frame is always allowed, even on a window at or below zero (§6.9.1).
   */
  consume(length: number): void {
    if (length > 0 && length > this.size) throw new Error(`sent ${length} octets on a window of ${this.size} (RFC 9113 §6.9.1)`);
    this.size -= length;
  }

  /** SETTINGS_INITIAL_WINDOW_SIZE changed by `delta` (§6.9.2); the result may be negative. */
  adjust(delta: number): void {
    if (this.size + delta > MAX_WINDOW_SIZE) {
      throw connectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE change takes stream ${this.streamId} past 2^31-1`, 'RFC 9113 §6.9.2');
    }
    this.size += delta;
  }
}

/** What we may send: the connection window and one window per stream we still send on. */
export class SendFlow {
  readonly connection = new SendWindow(0, DEFAULT_WINDOW_SIZE);
  private initialWindowSize = DEFAULT_WINDOW_SIZE;
  private readonly streams = new Map<number, SendWindow>();

  /** A stream we may send DATA on (open or half-closed (remote)) gets the current initial window. */
  openStream(streamId: number): SendWindow {
    const window = new SendWindow(streamId, this.initialWindowSize);
    this.streams.set(streamId, window);
    return window;
  }

  /** We will send no more DATA on it (we sent END_STREAM, or it was reset). */
  closeStream(streamId: number): void {
    this.streams.delete(streamId);
  }

  stream(streamId: number): SendWindow | undefined {
    return this.streams.get(streamId);
  }

  /** Octets of DATA we may send on `streamId` now: the smaller window, never below 0 (§6.9.1). */
  sendable(streamId: number): number {
    const window = this.streams.get(streamId);
    return window ? Math.max(0, Math.min(window.available, this.connection.available)) : 0;
  }

  /** We sent a DATA frame of `length` flow-controlled octets on `streamId`. */
  consume(streamId: number, length: number): void {
    const window = this.streams.get(streamId);
    if (!window) throw new Error(`no send window for stream ${streamId}`);
    window.consume(length);
    this.connection.consume(length);
  }

  /**
   * A received WINDOW_UPDATE. Updates for streams we no longer send on are ignored (they may come
   * after our END_STREAM, §6.9); the stream state machine has already refused impossible ones.
   */
  windowUpdate(streamId: number, increment: number): void {
    if (streamId === 0) return this.connection.increase(increment);
    const window = this.streams.get(streamId);
    if (window) window.increase(increment);
    else if (increment === 0) throw windowError(streamId, ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE increment of 0', 'RFC 9113 §6.9');
  }

  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE: every stream window moves by the difference (§6.9.2). */
  setInitialWindowSize(size: number): void {
    const delta = size - this.initialWindowSize;
    for (const window of this.streams.values()) window.adjust(delta);
    this.initialWindowSize = size;
  }
}

export interface WindowUpdate {
  streamId: number;
  increment: number;
}

/** One window we granted the peer. */
class ReceiveWindow {
  /** Octets the peer may still send. */
  available: number;
  /** Octets received and consumed by the application, not yet given back. */
  unreturned = 0;
  constructor(size: number) {
    this.available = size;
  }
}

export interface ReceiveFlowOptions {
  /** The SETTINGS_INITIAL_WINDOW_SIZE we advertise for streams (default 1 MiB). */
  streamWindowSize?: number;
  /** The connection window we keep open (default 16 MiB). */
  connectionWindowSize?: number;
}

/**
 * What the peer may send us, and when to give credit back. Every octet passed to `receive` must
 * later go to `consume`: when the application reads it, or when the connection discards it (DATA
 * on a closed or reset stream), or the connection window shrinks for good.
 */
export class ReceiveFlow {
  readonly connectionWindowSize: number;
  private streamWindowSize: number;
  private readonly connection = new ReceiveWindow(DEFAULT_WINDOW_SIZE);
  private readonly streams = new Map<number, ReceiveWindow>();
  /** The stream window the peer currently works with (our SETTINGS as far as it has seen it). */
  private effectiveStreamWindow = DEFAULT_WINDOW_SIZE;

  constructor(options: ReceiveFlowOptions = {}) {
    this.connectionWindowSize = options.connectionWindowSize ?? 16 * 1024 * 1024;
    this.streamWindowSize = options.streamWindowSize ?? 1024 * 1024;
    for (const size of [this.connectionWindowSize, this.streamWindowSize]) {
      if (!Number.isInteger(size) || size < 0 || size > MAX_WINDOW_SIZE) throw new RangeError(`window ${size} outside 0..2^31-1`);
    }
  }

  /** The SETTINGS_INITIAL_WINDOW_SIZE to advertise. */
  get initialWindowSize(): number {
    return this.streamWindowSize;
  }

  /**
   * The WINDOW_UPDATE on stream 0 to send with our first SETTINGS: the connection window starts at
   * 65,535 and only WINDOW_UPDATE changes it (RFC 9113 §6.9.2). Null when no raise is needed.
   */
  initialConnectionUpdate(): WindowUpdate | null {
    const increment = this.connectionWindowSize - DEFAULT_WINDOW_SIZE;
    if (increment <= 0) return null;
    this.connection.available += increment;
    return { streamId: 0, increment };
  }

  /**
   * Until the peer acknowledges our SETTINGS, streams it opens get the default 65,535 window
   * (§6.9.2: "an endpoint can only use the default initial window size"). Call this when our
   * SETTINGS goes out: a larger window takes effect at once (the peer may use it as soon as it reads
   * it), a smaller one only at `settingsAcknowledged` (§6.9.3).
   */
  settingsSent(size = this.streamWindowSize): void {
    if (size > this.effectiveStreamWindow) this.applyStreamWindow(size);
  }

  /** The peer acknowledged the SETTINGS carrying `size` as SETTINGS_INITIAL_WINDOW_SIZE. */
  settingsAcknowledged(size = this.streamWindowSize): void {
    if (size !== this.effectiveStreamWindow) this.applyStreamWindow(size);
  }

  private applyStreamWindow(size: number): void {
    const delta = size - this.effectiveStreamWindow;
    for (const window of this.streams.values()) window.available += delta;
    this.effectiveStreamWindow = size;
    this.streamWindowSize = size;
  }

  /** A stream the peer may send DATA on. */
  openStream(streamId: number): void {
    this.streams.set(streamId, new ReceiveWindow(this.effectiveStreamWindow));
  }

  /** The peer will send no more DATA (END_STREAM or reset): no more stream updates. */
  closeStream(streamId: number): void {
    this.streams.delete(streamId);
  }

  /**
   * A DATA frame of `length` flow-controlled octets arrived on `streamId`. It always counts against
   * the connection window, even on a stream that is closed (§6.9). Throws FLOW_CONTROL_ERROR.
   */
  receive(streamId: number, length: number): void {
    if (length > this.connection.available) {
      throw connectionError(ErrorCode.FLOW_CONTROL_ERROR, `${length} octets of DATA on a connection window of ${this.connection.available}`, 'RFC 9113 §6.9.1');
    }
    const window = this.streams.get(streamId);
    if (window && length > window.available) {
      // Still charge the connection: the sender did (§6.9). The discarded octets go to consume().
      this.connection.available -= length;
      throw streamError(ErrorCode.FLOW_CONTROL_ERROR, streamId, `${length} octets of DATA on a stream window of ${window.available}`, 'RFC 9113 §6.9.1');
    }
    this.connection.available -= length;
    if (window) window.available -= length;
  }

  /**
   * The application consumed (or we discarded) `length` octets received on `streamId`. Returns the
   * WINDOW_UPDATEs to send: each window's credit goes back once half of that window is consumed.
   */
  consume(streamId: number, length: number): WindowUpdate[] {
    const updates: WindowUpdate[] = [];
    const window = this.streams.get(streamId);
    if (window) {
      window.unreturned += length;
      const update = this.release(streamId, window, this.effectiveStreamWindow);
      if (update) updates.push(update);
    }
    this.connection.unreturned += length;
    const update = this.release(0, this.connection, this.connectionWindowSize);
    if (update) updates.push(update);
    return updates;
  }

  /** Octets the peer may still send on `streamId` (0: the connection). */
  available(streamId: number): number {
    return streamId === 0 ? this.connection.available : (this.streams.get(streamId)?.available ?? 0);
  }

  private release(streamId: number, window: ReceiveWindow, target: number): WindowUpdate | null {
    // §5.2.2: no tiny updates. Never grant past the target (after a shrink the window may be negative).
    const room = target - window.available;
    if (window.unreturned < target / 2 || room <= 0) return null;
    const increment = Math.min(window.unreturned, room);
    window.unreturned -= increment;
    window.available += increment;
    return { streamId, increment };
  }
}
