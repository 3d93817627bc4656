/**
 * Pacing of in-flight packets (RFC 9002 §7.7) as a token bucket: tokens (bytes) refill at
 * rate = N × congestion_window / smoothed_rtt with N = 1.25, and the bucket holds at most a burst
 * of `burstPackets` max-sized datagrams (10 by default: RFC 9002 §7.7 "limit bursts to the initial
 * congestion window"), or what the rate brings in `burstInterval` when that is more, and never
 * more than the window.
 * Packets carrying only ACK frames SHOULD NOT be paced (§7.7); the caller does not ask for them.
 *
 * Why the interval: a sender woken by a timer can wait no less than the timer's granularity (1 ms
 * for a Node.js timer), and in a busy event loop it wakes later still. A bucket smaller than what
 * the rate brings in that time drops the rest, and the sender then runs below the rate it was
 * given, however much window it has (§7.7: "scheduling delays ... can cause a sender to deviate
 * from this rate" over periods much shorter than an RTT; quic-go sizes its bursts the same way).
 * Over loopback that was the limit of a bulk transfer: 4,753 of 4,777 transmit() calls of a 200 MB
 * transfer ended held back by the pacer, with a 32-datagram bucket.
 */

/** RFC 9002 §7.7: N, small but at least 1. */
export const PACING_GAIN = 1.25;
/** Datagrams that may leave back to back at any rate: the initial window's ten (RFC 9002 §7.2). */
export const DEFAULT_BURST_PACKETS = 10;
/**
 * Milliseconds of the rate that may leave back to back when that is more than the packets above:
 * a timer's granularity (1 ms) and as much again for a timer that fires late.
 */
export const DEFAULT_BURST_INTERVAL = 2;

export interface PacerOptions {
  gain?: number;
  burstPackets?: number;
  burstInterval?: number;
}

export class Pacer {
  private readonly gain: number;
  private readonly burstPackets: number;
  private readonly burstInterval: number;
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
    this.burstInterval = options.burstInterval ?? DEFAULT_BURST_INTERVAL;
    this.maxDatagramSize = maxDatagramSize;
    this.congestionWindow = congestionWindow;
    this.smoothedRtt = smoothedRtt;
    this.tokens = this.capacity;
  }

  /** Bytes per millisecond: N × cwnd / smoothed_rtt (RFC 9002 §7.7); Infinity without an RTT. */
  get rate(): number {
    return this.smoothedRtt > 0 ? (this.gain * this.congestionWindow) / this.smoothedRtt : Infinity;
  }

  /** Largest burst in bytes: the burst packets or the burst interval's worth of the rate, within the window. */
  get capacity(): number {
    const burst = Math.max(this.burstPackets * this.maxDatagramSize, this.burstInterval * this.rate);
    return Math.min(burst, Math.max(this.congestionWindow, this.maxDatagramSize));
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
