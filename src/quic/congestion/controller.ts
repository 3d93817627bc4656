/**
 * The congestion controller interface that QUIC loss detection drives (RFC 9002 §7, Appendix B),
 * and the factory for the two algorithms: NewReno (RFC 9002 §7) and CUBIC (RFC 9438).
 * Sans-I/O: every event carries `now` in milliseconds.
 */
import { Cubic } from './cubic.js';
import { NewReno } from './new-reno.js';

/** What a controller needs to know about a sent packet (a subset of recovery's SentPacket). */
export interface CongestionPacket {
  readonly sentBytes: number;
  readonly timeSent: number;
  readonly inFlight: boolean;
}

/** RTT estimates as the controller sees them (recovery's RttEstimator satisfies this). */
export interface RttView {
  readonly latestRtt: number;
  readonly minRtt: number;
  readonly smoothedRtt: number;
}

export interface CongestionController {
  /** An in-flight packet of `bytes` was sent (RFC 9002 Appendix B.4 OnPacketSentCC). */
  onPacketSent(bytes: number, now: number): void;
  /** Packets newly acknowledged by one ACK frame (RFC 9002 Appendix B.5). */
  onPacketsAcked(packets: readonly CongestionPacket[], now: number, rtt: RttView): void;
  /** Packets newly declared lost (RFC 9002 Appendix B.8); starts a recovery period if needed. */
  onPacketsLost(packets: readonly CongestionPacket[], now: number): void;
  /** RFC 9002 §7.6.2: collapse to the minimum window. Called after onPacketsLost. */
  onPersistentCongestion(now: number): void;
  /** RFC 9002 §7.1/Appendix B.7: the peer's ECN-CE count rose; `sentTime` of the largest newly acked. */
  onEcnCe?(sentTime: number, now: number): void;
  /** RFC 9002 §6.4: packets of a discarded space leave bytes in flight without any signal. */
  onPacketsDiscarded(packets: readonly CongestionPacket[]): void;
  /** RFC 9002 §7.2: DPLPMTUD changed the maximum datagram size. */
  setMaxDatagramSize(bytes: number): void;
  /**
   * RFC 9002 §7.8: the sender is limited by the application or flow control, not by the window;
   * while true, acknowledgments do not grow the window. The connection sets it whenever it stops
   * (or resumes) filling the window for reasons other than pacing.
   */
  setAppLimited(limited: boolean): void;
  /**
   * A controller of the same algorithm and options at its initial values (RFC 9002 Appendix B.3)
   * for `maxDatagramSize`: the state of a new path (RFC 9000 §9.4).
   */
  fresh(maxDatagramSize: number): CongestionController;
  readonly congestionWindow: number;
  readonly bytesInFlight: number;
  readonly maxDatagramSize: number;
  /** Slow start threshold in bytes (Infinity before the first congestion event). */
  readonly ssthresh: number;
  /** RFC 9002 §7: whether a packet of `bytes` fits in the window now. */
  canSend(bytes: number): boolean;
}

export type CongestionAlgorithm = 'cubic' | 'newreno';

export function createController(algorithm: CongestionAlgorithm, maxDatagramSize: number): CongestionController {
  switch (algorithm) {
    case 'cubic':
      return new Cubic(maxDatagramSize);
    case 'newreno':
      return new NewReno(maxDatagramSize);
  }
}
