/**
 * Round-trip time estimation for QUIC (RFC 9002 §5): latest_rtt, min_rtt, smoothed_rtt and rttvar,
 * updated from RTT samples taken by loss detection. Times are milliseconds (floats allowed).
 */

/** RFC 9002 §6.2.2: RTT assumed before the first sample. */
export const INITIAL_RTT = 333;
/** RFC 9002 §6.1.2: timer granularity (kGranularity). */
export const GRANULARITY = 1;

/** Read-only view of the estimator handed to congestion controllers and pacers. */
export interface RttSnapshot {
  readonly latestRtt: number;
  readonly minRtt: number;
  readonly smoothedRtt: number;
  readonly rttvar: number;
  readonly hasSample: boolean;
}

export class RttEstimator implements RttSnapshot {
  latestRtt = 0;
  minRtt = 0;
  // RFC 9002 §5.3: before any sample, smoothed_rtt = kInitialRtt and rttvar = kInitialRtt / 2.
  smoothedRtt: number;
  rttvar: number;
  /** Time of the first RTT sample, or undefined before it (first_rtt_sample in Appendix A). */
  firstSampleTime: number | undefined = undefined;

  constructor(readonly initialRtt: number = INITIAL_RTT) {
    this.smoothedRtt = initialRtt;
    this.rttvar = initialRtt / 2;
  }

  get hasSample(): boolean {
    return this.firstSampleTime !== undefined;
  }

  /**
   * Takes one RTT sample (RFC 9002 §5.1–§5.3, Appendix A.7 UpdateRtt).
   * @param latestRtt  now − time the largest newly acknowledged packet was sent
   * @param ackDelay   the peer's reported ACK delay (ms)
   * @param handshakeConfirmed  whether the handshake is confirmed (RFC 9001 §4.1.2)
   * @param maxAckDelay  the peer's max_ack_delay transport parameter (ms)
   */
  update(latestRtt: number, ackDelay: number, handshakeConfirmed: boolean, maxAckDelay: number, now: number): void {
    this.latestRtt = latestRtt;
    // RFC 9002 §5.2/§5.3: the first sample sets everything; min_rtt ignores ack delay.
    if (this.firstSampleTime === undefined) {
      this.minRtt = latestRtt;
      this.smoothedRtt = latestRtt;
      this.rttvar = latestRtt / 2;
      this.firstSampleTime = now;
      return;
    }
    // RFC 9002 §5.2: min_rtt is the minimum over samples, without ack delay adjustment.
    this.minRtt = Math.min(this.minRtt, latestRtt);
    // RFC 9002 §5.3: after handshake confirmation, ack_delay is at most max_ack_delay.
    const delay = handshakeConfirmed ? Math.min(ackDelay, maxAckDelay) : ackDelay;
    // RFC 9002 §5.3: subtract ack_delay only if that does not take the sample below min_rtt.
    const adjustedRtt = latestRtt >= this.minRtt + delay ? latestRtt - delay : latestRtt;
    this.rttvar = (3 / 4) * this.rttvar + (1 / 4) * Math.abs(this.smoothedRtt - adjustedRtt);
    this.smoothedRtt = (7 / 8) * this.smoothedRtt + (1 / 8) * adjustedRtt;
  }

  /**
   * RFC 9002 §5.2: endpoints SHOULD set min_rtt to the newest RTT sample after persistent
   * congestion is established, since the path may have changed.
   */
  resetMinRtt(): void {
    this.minRtt = this.latestRtt;
  }

  /** RFC 9002 §6.2.1: smoothed_rtt + max(4 × rttvar, kGranularity), before max_ack_delay and backoff. */
  ptoBase(): number {
    return this.smoothedRtt + Math.max(4 * this.rttvar, GRANULARITY);
  }
}
