/**
 * ECN validation (RFC 9000 §13.4.2, following the sample algorithm of RFC 9000 Appendix A.4): the
 * sender marks its first packets ECT(0), checks the ECN counts the peer reports in ACK frames
 * against the markings of the packets they newly acknowledge, and stops marking if the path or
 * the peer mangles them. Only counts that pass validation are used as congestion signals
 * (RFC 9002 §7.1).
 */
import type { AckFrameInfo, EcnCounts } from './ack-frame.js';
import type { SentPacket } from './sent-packets.js';
import { ALL_SPACES, type PacketNumberSpace } from './space.js';

/** ECN codepoint a packet was sent with. */
export type SentEcn = 'not-ect' | 'ect0' | 'ect1';

/**
 * RFC 9000 Appendix A.4: 'testing' marks packets; 'unknown' stops marking while waiting for
 * validation; 'capable' keeps marking; 'failed' never marks again on this path.
 */
export type EcnState = 'testing' | 'unknown' | 'capable' | 'failed';

/** RFC 9000 Appendix A.4: marked packets sent while testing (10) or PTOs spent testing (3). */
export const ECN_TESTING_PACKETS = 10;
export const ECN_TESTING_PTOS = 3;

export class EcnValidator {
  state: EcnState = 'testing';
  private testingPackets = 0;
  private testingPtos = 0;
  private sentEct0 = false;
  private sentEct1 = false;
  /** Counts from the last validated ACK frame, per space (RFC 9000 §13.4.2.1). */
  private readonly counts: EcnCounts[] = ALL_SPACES.map(() => ({ ect0: 0, ect1: 0, ce: 0 }));
  /** Largest Acknowledged of the last ACK frame validated, per space. */
  private readonly largestValidated: number[] = ALL_SPACES.map(() => -1);

  /** Codepoint for the next packet: ECT(0) while testing or once capable. */
  codepointToSend(): SentEcn {
    return this.state === 'testing' || this.state === 'capable' ? 'ect0' : 'not-ect';
  }

  onPacketSent(ecn: SentEcn): void {
    if (ecn === 'ect0') this.sentEct0 = true;
    if (ecn === 'ect1') this.sentEct1 = true;
    if (this.state === 'testing' && ecn !== 'not-ect' && ++this.testingPackets >= ECN_TESTING_PACKETS) {
      this.state = 'unknown';
    }
  }

  /** A probe timeout: loss of marked packets may mean the path drops ECT packets (Appendix A.4). */
  onProbeTimeout(): void {
    if (this.state === 'testing' && ++this.testingPtos >= ECN_TESTING_PTOS) this.state = 'unknown';
  }

  /**
   * Validates an ACK frame's ECN counts against the packets it newly acknowledges. Returns true
   * when the validated ECN-CE count increased: a congestion signal (RFC 9002 §7.1).
   */
  onAck(space: PacketNumberSpace, ack: AckFrameInfo, newlyAcked: readonly SentPacket<unknown>[]): boolean {
    if (this.state === 'failed') return false;
    // RFC 9000 §13.4.2.1: counts of reordered ACK frames can look like a failure; skip ACK frames
    // that do not increase the Largest Acknowledged.
    if (ack.largest <= this.largestValidated[space]!) return false;
    let ackedEct0 = 0;
    let ackedEct1 = 0;
    for (const packet of newlyAcked) {
      if (packet.ecn === 'ect0') ackedEct0++;
      else if (packet.ecn === 'ect1') ackedEct1++;
    }
    const reported = ack.ecn;
    if (reported === undefined) {
      // RFC 9000 §13.4.2.1: ECT-marked packets newly acknowledged without ECN counts.
      if (ackedEct0 + ackedEct1 > 0) this.state = 'failed';
      return false;
    }
    const last = this.counts[space]!;
    const more0 = reported.ect0 - last.ect0;
    const more1 = reported.ect1 - last.ect1;
    const moreCe = reported.ce - last.ce;
    if (
      // Counts only grow (RFC 9000 §13.4.1).
      more0 < 0 || more1 < 0 || moreCe < 0 ||
      // RFC 9000 §13.4.2.1: each newly acknowledged ECT(x) packet is counted as ECT(x) or CE.
      more0 + moreCe < ackedEct0 ||
      more1 + moreCe < ackedEct1 ||
      // RFC 9000 §13.4.2.1: a non-zero count for a codepoint never sent.
      (reported.ect0 > 0 && !this.sentEct0) ||
      (reported.ect1 > 0 && !this.sentEct1)
    ) {
      this.state = 'failed';
      return false;
    }
    this.counts[space] = { ...reported };
    this.largestValidated[space] = ack.largest;
    if (ackedEct0 + ackedEct1 > 0 && (this.state === 'testing' || this.state === 'unknown')) this.state = 'capable';
    return moreCe > 0;
  }
}
