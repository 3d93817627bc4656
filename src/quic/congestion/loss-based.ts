/**
 * What every loss-based QUIC congestion controller shares (RFC 9002 §7, Appendix B): bytes in
 * flight, the initial and minimum windows, slow start, the recovery period, persistent congestion,
 * ECN-CE as a congestion signal, and not growing an under-utilized window (§7.8). NewReno and
 * CUBIC differ only in how they reduce the window and grow it in congestion avoidance.
 */
import type { CongestionController, CongestionPacket, RttView } from './controller.js';
import { checkDatagramSize, initialWindow, minimumWindow } from './window.js';

export abstract class LossBasedController implements CongestionController {
  protected cwnd: number;
  protected inFlight = 0;
  protected threshold = Infinity; // RFC 9002 Appendix B.3: ssthresh starts infinite.
  /** congestion_recovery_start_time; undefined (not 0) so that a packet sent at t=0 is not "in recovery". */
  protected recoveryStartTime: number | undefined = undefined;
  protected appLimited = false;
  /** RFC 9002 §7.3.2: one packet may be sent right after the window is cut on entering recovery. */
  private recoveryPacketAllowed = false;
  protected mds: number;

  constructor(maxDatagramSize: number) {
    this.mds = checkDatagramSize(maxDatagramSize);
    this.cwnd = initialWindow(this.mds);
  }

  get congestionWindow(): number {
    return this.cwnd;
  }

  get bytesInFlight(): number {
    return this.inFlight;
  }

  get ssthresh(): number {
    return this.threshold;
  }

  get maxDatagramSize(): number {
    return this.mds;
  }

  /** Whether the controller is in a recovery period that began after `sentTime` (Appendix B.5). */
  inRecovery(sentTime: number): boolean {
    return this.recoveryStartTime !== undefined && sentTime <= this.recoveryStartTime;
  }

  /** RFC 9002 §7.3.1: slow start while the window is below ssthresh. */
  get inSlowStart(): boolean {
    return this.cwnd < this.threshold;
  }

  canSend(bytes: number): boolean {
    return this.recoveryPacketAllowed || this.inFlight + bytes <= this.cwnd;
  }

  onPacketSent(bytes: number, _now: number): void {
    this.inFlight += bytes;
    this.recoveryPacketAllowed = false;
  }

  onPacketsAcked(packets: readonly CongestionPacket[], now: number, rtt: RttView): void {
    for (const packet of packets) {
      if (!packet.inFlight) continue;
      this.removeFromFlight(packet.sentBytes);
      // RFC 9002 §7.8: an under-utilized window is not grown.
      if (this.appLimited) continue;
      // RFC 9002 §7.3.2: no growth for packets sent before the recovery period began.
      if (this.inRecovery(packet.timeSent)) continue;
      if (this.inSlowStart) this.growInSlowStart(packet, now, rtt);
      else this.growInCongestionAvoidance(packet, now, rtt);
    }
    this.afterAcks(packets, now, rtt);
  }

  onPacketsLost(packets: readonly CongestionPacket[], now: number): void {
    let lastLossSentTime: number | undefined;
    for (const packet of packets) {
      if (!packet.inFlight) continue;
      this.removeFromFlight(packet.sentBytes);
      lastLossSentTime = lastLossSentTime === undefined ? packet.timeSent : Math.max(lastLossSentTime, packet.timeSent);
    }
    // RFC 9002 Appendix B.8: a congestion event if in-flight packets were lost.
    if (lastLossSentTime !== undefined) this.onCongestionEvent(lastLossSentTime, now);
  }

  onEcnCe(sentTime: number, now: number): void {
    // RFC 9002 §7.1 / Appendix B.7: an ECN-CE increase is a congestion event like a loss.
    this.onCongestionEvent(sentTime, now);
  }

  onPersistentCongestion(now: number): void {
    // RFC 9002 §7.6.2: collapse to kMinimumWindow; slow start up to ssthresh follows.
    this.cwnd = minimumWindow(this.mds);
    this.recoveryStartTime = undefined;
    this.recoveryPacketAllowed = false;
    this.afterPersistentCongestion(now);
  }

  onPacketsDiscarded(packets: readonly CongestionPacket[]): void {
    // RFC 9002 §6.4 / Appendix B.9: discarded packets leave flight without a congestion signal.
    for (const packet of packets) if (packet.inFlight) this.removeFromFlight(packet.sentBytes);
  }

  setAppLimited(limited: boolean): void {
    this.appLimited = limited;
  }

  setMaxDatagramSize(bytes: number): void {
    const previous = this.mds;
    this.mds = checkDatagramSize(bytes);
    // RFC 9002 §7.2: a window still at its initial value is recomputed with the new size. §7.2's
    // reset to the new initial window is for a size decreased to complete the handshake; here a
    // decrease comes only after it (DPLPMTUD's black-hole fallback, RFC 8899 §4.3, which a complete
    // outage of two PTOs can also set off), so a window that grew keeps its bytes: the losses that
    // revealed the black hole have already reduced it as congestion.
    if (this.cwnd === initialWindow(previous)) this.cwnd = initialWindow(bytes);
    this.cwnd = Math.max(this.cwnd, minimumWindow(bytes));
  }

  /**
   * RFC 9002 Appendix B.6 OnCongestionEvent: at most one reduction per recovery period; a packet
   * sent before the current period began cannot start another.
   */
  protected onCongestionEvent(sentTime: number, now: number): void {
    if (this.inRecovery(sentTime)) return;
    this.recoveryStartTime = now;
    this.reduceWindow(now);
    this.recoveryPacketAllowed = true;
  }

  /** RFC 9002 §7.3.1: slow start grows the window by the bytes acknowledged. */
  protected growInSlowStart(packet: CongestionPacket, _now: number, _rtt: RttView): void {
    this.cwnd += packet.sentBytes;
  }

  abstract fresh(maxDatagramSize: number): CongestionController;

  /** Sets ssthresh and the reduced window on entering recovery. */
  protected abstract reduceWindow(now: number): void;
  protected abstract growInCongestionAvoidance(packet: CongestionPacket, now: number, rtt: RttView): void;
  /** Hook after a whole ACK's packets were processed (e.g. HyStart++ round tracking). */
  protected afterAcks(_packets: readonly CongestionPacket[], _now: number, _rtt: RttView): void {}
  protected afterPersistentCongestion(_now: number): void {}

  private removeFromFlight(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
  }
}
