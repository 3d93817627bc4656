/**
 * Pacing of in-flight packets (RFC 9002 §7.7) as a token bucket: tokens (bytes) refill at
 * rate = N × congestion_window / smoothed_rtt with N = 1.25, and the bucket holds at most a burst
 * of 10 max-sized datagrams (never more than the window, RFC 9002 §7.7 "limit bursts to the
 * initial congestion window"). Packets carrying only ACK frames SHOULD NOT be paced (§7.7); the
 * caller simply does not ask the pacer for them.
 */

/** RFC 9002 §7.7: N, small but at least 1. */
export const PACING_GAIN = 1.25;
/** Datagrams that may leave back to back. */
export const DEFAULT_BURST_PACKETS = 10;

export interface PacerOptions {
  gain?: number;
  burstPackets?: number;
}

export class Pacer {
  private readonly gain: number;
  private readonly burstPackets: number;
  private maxDatagramSize: number;
  private congestionWindow: number;
  private smoothedRtt: number;
  /** Bytes that may be sent now. */
  private tokens: number;
  /** Time tokens were last brought up to date. */
  private lastUpdate: number | undefined = undefined;

  constructor(maxDatagramSize: number, congestionWindow: number, smoothedRtt: number, options: PacerOptions = {}) {
    this.gain = options.gain ?? PACING_GAIN;
    this.burstPackets = options.burstPackets ?? DEFAULT_BURST_PACKETS;
    this.maxDatagramSize = maxDatagramSize;
    this.congestionWindow = congestionWindow;
    this.smoothedRtt = smoothedRtt;
    this.tokens = this.capacity;
  }

  /** Bytes per millisecond: N × cwnd / smoothed_rtt (RFC 9002 §7.7); Infinity without an RTT. */
  get rate(): number {
    return this.smoothedRtt > 0 ? (this.gain * this.congestionWindow) / this.smoothedRtt : Infinity;
  }

  /** Largest burst in bytes. */
  get capacity(): number {
    return Math.min(this.burstPackets * this.maxDatagramSize, Math.max(this.congestionWindow, this.maxDatagramSize));
  }

  /** New congestion window, smoothed RTT or datagram size; call whenever one of them changes. */
  update(congestionWindow: number, smoothedRtt: number, maxDatagramSize = this.maxDatagramSize, now?: number): void {
    if (now !== undefined) this.refill(now);
    this.congestionWindow = congestionWindow;
    this.smoothedRtt = smoothedRtt;
    this.maxDatagramSize = maxDatagramSize;
    this.tokens = Math.min(this.tokens, this.capacity);
  }

  /** Milliseconds from `now` until a packet of `bytes` may be sent (0 = now). */
  timeUntilSend(now: number, bytes: number): number {
    this.refill(now);
    const needed = Math.min(bytes, this.capacity);
    if (this.tokens >= needed) return 0;
    return (needed - this.tokens) / this.rate;
  }

  /** A paced packet of `bytes` left at `now`. Tokens may go negative; the debt delays the next one. */
  onSend(now: number, bytes: number): void {
    this.refill(now);
    this.tokens -= bytes;
  }

  private refill(now: number): void {
    if (this.lastUpdate !== undefined && now > this.lastUpdate) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.lastUpdate) * this.rate);
    }
    if (this.lastUpdate === undefined || now > this.lastUpdate) this.lastUpdate = now;
  }
}
