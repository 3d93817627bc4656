/**
 * HyStart++ (RFC 9406): leaves slow start before the first loss when the minimum RTT of a round
 * rises noticeably (queues are building), through Conservative Slow Start (CSS), which grows a
 * quarter as fast for a few rounds and returns to slow start if the rise was a false alarm.
 * Rounds are delimited by send times: a round ends when a packet sent after it began is
 * acknowledged (RFC 9406 §4.2 windowEnd). RTT samples are taken once per ACK frame.
 */

/** RFC 9406 §4.3 constants. */
export const MIN_RTT_THRESH = 4;
export const MAX_RTT_THRESH = 16;
export const MIN_RTT_DIVISOR = 8;
export const N_RTT_SAMPLE = 8;
export const CSS_GROWTH_DIVISOR = 4;
export const CSS_ROUNDS = 5;
/** RFC 9406 §4.3: L, the per-ACK growth cap in segments for a sender that does not pace. */
export const UNPACED_BURST_LIMIT = 8;

export type HyStartPhase = 'slow-start' | 'css' | 'off';

export class HyStartPlusPlus {
  phase: HyStartPhase = 'slow-start';
  private roundStart: number | undefined = undefined;
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSampleCount = 0;
  private cssBaselineMinRtt = Infinity;
  private cssRounds = 0;

  /** @param paced whether packets are paced (RFC 9406 §4.3: L = infinity when paced, else 8). */
  constructor(private readonly paced = false) {}

  /**
   * Bytes to add to the window for `ackedBytes` acknowledged in slow start (RFC 9406 §4.3):
   * min(N, L × SMSS), divided by CSS_GROWTH_DIVISOR during CSS.
   */
  increase(ackedBytes: number, maxDatagramSize: number): number {
    const capped = this.paced ? ackedBytes : Math.min(ackedBytes, UNPACED_BURST_LIMIT * maxDatagramSize);
    return this.phase === 'css' ? capped / CSS_GROWTH_DIVISOR : capped;
  }

  /**
   * One ACK frame arrived in slow start. `newestSentTime` is the latest send time among the newly
   * acknowledged packets. Returns true when CSS has run its rounds and slow start must end
   * (the caller sets ssthresh = cwnd, RFC 9406 §4.3).
   */
  onAck(newestSentTime: number, now: number, latestRtt: number): boolean {
    if (this.phase === 'off') return false;
    if (this.roundStart === undefined) this.startRound(now);
    this.currentRoundMinRtt = Math.min(this.currentRoundMinRtt, latestRtt);
    this.rttSampleCount++;
    const enoughSamples =
      this.rttSampleCount >= N_RTT_SAMPLE && this.currentRoundMinRtt !== Infinity && this.lastRoundMinRtt !== Infinity;

    if (this.phase === 'slow-start' && enoughSamples) {
      // RFC 9406 §4.3: RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms).
      const threshold = Math.max(MIN_RTT_THRESH, Math.min(this.lastRoundMinRtt / MIN_RTT_DIVISOR, MAX_RTT_THRESH));
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + threshold) {
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.phase = 'css';
        this.cssRounds = 0;
      }
    } else if (this.phase === 'css' && enoughSamples && this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      // RFC 9406 §4.3: the RTT fell back below the baseline: the exit was spurious.
      this.cssBaselineMinRtt = Infinity;
      this.phase = 'slow-start';
    }

    // RFC 9406 §4.2: the round ends once a packet sent after it began is acknowledged.
    if (newestSentTime >= this.roundStart!) {
      if (this.phase === 'css' && ++this.cssRounds >= CSS_ROUNDS) {
        this.phase = 'off';
        return true;
      }
      this.startRound(now);
    }
    return false;
  }

  /** A loss or ECN-CE ends slow start for good (RFC 9406 §4.3: standard reaction takes over). */
  stop(): void {
    this.phase = 'off';
  }

  private startRound(now: number): void {
    this.roundStart = now;
    this.lastRoundMinRtt = this.currentRoundMinRtt;
    this.currentRoundMinRtt = Infinity;
    this.rttSampleCount = 0;
  }
}
