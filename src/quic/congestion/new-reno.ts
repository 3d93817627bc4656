/**
 * NewReno congestion control exactly as RFC 9002 §7 and Appendix B describe it: slow start,
 * a recovery period entered on loss or ECN-CE that halves the window (kLossReductionFactor 0.5),
 * congestion avoidance adding one max_datagram_size per window acknowledged, and the minimum
 * window of 2 × max_datagram_size. Shared parts live in LossBasedController.
 */
import type { CongestionPacket } from './controller.js';
import { LossBasedController } from './loss-based.js';
import { minimumWindow } from './window.js';

/** RFC 9002 §7.3.2 / Appendix B.1: kLossReductionFactor. */
export const LOSS_REDUCTION_FACTOR = 0.5;

export class NewReno extends LossBasedController {
  fresh(maxDatagramSize: number): NewReno {
    return new NewReno(maxDatagramSize);
  }

  protected reduceWindow(): void {
    // RFC 9002 §7.3.2: ssthresh = half the window; the window drops to it, not below kMinimumWindow.
    this.threshold = this.cwnd * LOSS_REDUCTION_FACTOR;
    this.cwnd = Math.max(this.threshold, minimumWindow(this.mds));
  }

  protected growInCongestionAvoidance(packet: CongestionPacket): void {
    // RFC 9002 §7.3.3: at most one max_datagram_size per congestion window acknowledged.
    this.cwnd += (this.mds * packet.sentBytes) / this.cwnd;
  }
}
