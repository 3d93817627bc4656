/**
 * CUBIC congestion control (RFC 9438) on QUIC's loss recovery (RFC 9002 §7): after a congestion
 * event the window follows W_cubic(t) = C × (t − K)³ + W_max (§4.2), concave up to W_max (§4.4)
 * and convex beyond it (§4.5), never slower than the Reno-friendly estimate W_est (§4.3); the
 * window is cut to β = 0.7 of its value (§4.6) with fast convergence (§4.7), and a persistent
 * congestion (QUIC's retransmission timeout) restarts with K = 0 (§4.8). Initial slow start may
 * end early through HyStart++ (RFC 9406, §4.10 of RFC 9438).
 *
 * Windows are kept in bytes; the RFC's formulas are in segments (max_datagram_size) and seconds,
 * so they are converted at the edges.
 */
import type { CongestionPacket, RttView } from './controller.js';
import { HyStartPlusPlus } from './hystart.js';
import { LossBasedController } from './loss-based.js';
import { minimumWindow } from './window.js';

/** RFC 9438 §5.1: C = 0.4 (segments / second³). */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6: β_cubic = 0.7. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: α_cubic = 3 × (1 − β) / (1 + β), Reno-friendly additive increase. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** RFC 9438 §4.2 Figure 2: K = ∛((W_max − cwnd_epoch) / C), windows in segments, K in seconds. */
export function cubicK(wMaxSegments: number, cwndEpochSegments: number): number {
  return Math.cbrt(Math.max(0, wMaxSegments - cwndEpochSegments) / CUBIC_C);
}

/** RFC 9438 §4.2 Figure 1: W_cubic(t) = C × (t − K)³ + W_max, in segments, t and K in seconds. */
export function wCubic(tSeconds: number, kSeconds: number, wMaxSegments: number): number {
  return CUBIC_C * (tSeconds - kSeconds) ** 3 + wMaxSegments;
}

export interface CubicOptions {
  /** RFC 9438 §4.7: fast convergence (default on). */
  fastConvergence?: boolean;
  /** RFC 9438 §4.10: HyStart++ (RFC 9406) in the initial slow start (default on). */
  hystart?: boolean;
  /** Whether the sender paces (RFC 9406 §4.3 L). Default false. */
  paced?: boolean;
}

export class Cubic extends LossBasedController {
  private readonly fastConvergence: boolean;
  /** W_max in bytes: the window just before the last reduction (0 before any). */
  private wMax = 0;
  /** t_epoch: start of the current congestion avoidance stage, undefined until it begins. */
  private epochStart: number | undefined = undefined;
  /** K in seconds for the current epoch. */
  private k = 0;
  /** cwnd_prior in bytes: the window when ssthresh was last set (§4.3 α switch). */
  private cwndPrior = 0;
  /** W_est in bytes (§4.3). */
  private wEst = 0;
  /** RFC 9438 §4.8: the next epoch follows a timeout (persistent congestion). */
  private afterTimeout = false;
  private readonly hystart: HyStartPlusPlus | undefined;

  constructor(maxDatagramSize: number, private readonly options: CubicOptions = {}) {
    super(maxDatagramSize);
    this.fastConvergence = options.fastConvergence ?? true;
    this.hystart = (options.hystart ?? true) ? new HyStartPlusPlus(options.paced ?? false) : undefined;
  }

  fresh(maxDatagramSize: number): Cubic {
    return new Cubic(maxDatagramSize, this.options);
  }

  /** HyStart++ phase, or 'off' (for tests and qlog). */
  get hystartPhase(): string {
    return this.hystart?.phase ?? 'off';
  }

  /** Current W_max in bytes (for tests and qlog). */
  get lastMaxWindow(): number {
    return this.wMax;
  }

  /** Current K in seconds (valid once congestion avoidance has started). */
  get kSeconds(): number {
    return this.k;
  }

  protected reduceWindow(): void {
    this.hystart?.stop();
    this.cwndPrior = this.cwnd;
    // RFC 9438 §4.7: fast convergence — if the window did not recover to the last W_max, another
    // flow is probably taking bandwidth, so release some by lowering W_max further.
    if (this.fastConvergence && this.cwnd < this.wMax) {
      this.wMax = (this.cwnd * (1 + CUBIC_BETA)) / 2;
    } else {
      this.wMax = this.cwnd;
    }
    // RFC 9438 §4.6: ssthresh = cwnd × β and cwnd = max(ssthresh, kMinimumWindow). §4.6 allows cwnd
    // in place of flight_size because the window never grows while under-utilized (RFC 9002 §7.8).
    this.threshold = Math.max(this.cwnd * CUBIC_BETA, minimumWindow(this.mds));
    this.cwnd = this.threshold;
    this.epochStart = undefined;
  }

  protected override afterPersistentCongestion(): void {
    // RFC 9438 §4.8: after a timeout the first congestion avoidance stage uses K = 0 and
    // W_max = the window at its start. (ssthresh was already set by the loss event.)
    this.epochStart = undefined;
    this.afterTimeout = true;
  }

  override setAppLimited(limited: boolean): void {
    // t counts from the epoch start in wall-clock time, so an idle or app-limited stretch would make
    // W_cubic(t) leap on the next ACK. Start a new epoch from the current window when the sender
    // fills the window again (the RFC 9002 §7.8 rule keeps the window itself from growing meanwhile).
    if (this.appLimited && !limited) this.epochStart = undefined;
    super.setAppLimited(limited);
  }

  protected override growInSlowStart(packet: CongestionPacket): void {
    this.cwnd += this.hystart === undefined ? packet.sentBytes : this.hystart.increase(packet.sentBytes, this.mds);
  }

  protected override afterAcks(packets: readonly CongestionPacket[], now: number, rtt: RttView): void {
    if (this.hystart === undefined || this.hystart.phase === 'off' || !this.inSlowStart || this.appLimited) return;
    let newestSent = -Infinity;
    for (const packet of packets) if (packet.inFlight) newestSent = Math.max(newestSent, packet.timeSent);
    if (newestSent === -Infinity) return;
    // RFC 9406 §4.3: after CSS_ROUNDS rounds of CSS, enter congestion avoidance at this window.
    if (this.hystart.onAck(newestSent, now, rtt.latestRtt)) this.threshold = this.cwnd;
  }

  protected growInCongestionAvoidance(packet: CongestionPacket, now: number, rtt: RttView): void {
    const mds = this.mds;
    if (this.epochStart === undefined) this.startEpoch(now);
    const t = (now - this.epochStart!) / 1000;
    const wMaxSegments = this.wMax / mds;

    // RFC 9438 §4.3: W_est grows like Reno with α_cubic, or α = 1 once it reaches cwnd_prior.
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * mds * packet.sentBytes) / this.cwnd;

    const cubicNow = wCubic(t, this.k, wMaxSegments) * mds;
    if (cubicNow < this.wEst) {
      // RFC 9438 §4.3: Reno-friendly region — follow W_est.
      this.cwnd = Math.max(this.cwnd, this.wEst);
      return;
    }
    // RFC 9438 §4.4/§4.5: aim at W_cubic one RTT ahead, clamped to [cwnd, 1.5 × cwnd], and move
    // (target − cwnd) / cwnd segments per segment acknowledged.
    const ahead = wCubic(t + rtt.smoothedRtt / 1000, this.k, wMaxSegments) * mds;
    const target = Math.min(Math.max(ahead, this.cwnd), 1.5 * this.cwnd);
    this.cwnd += ((target - this.cwnd) * packet.sentBytes) / this.cwnd;
  }

  /** RFC 9438 §4.2: a congestion avoidance stage begins; fix t_epoch, cwnd_epoch, K and W_est. */
  private startEpoch(now: number): void {
    this.epochStart = now;
    // RFC 9438 §4.8 after a timeout, or §4.2 when slow start ended above W_max (no loss yet):
    // the curve starts at its plateau with K = 0.
    if (this.afterTimeout || this.cwnd >= this.wMax) {
      this.wMax = this.cwnd;
      this.afterTimeout = false;
    }
    this.k = cubicK(this.wMax / this.mds, this.cwnd / this.mds);
    this.wEst = this.cwnd;
  }
}
