/**
 * Receiver side of acknowledgments for one packet number space (RFC 9000 §13.2): records received
 * packet numbers (reporting duplicates, RFC 9000 §12.3), counts ECN codepoints (RFC 9000 §13.4.1),
 * decides when an ACK frame is due (RFC 9000 §13.2.1, §13.2.2), builds the frame's content and
 * forgets what an acknowledged ACK already covered (RFC 9000 §13.2.4).
 *
 * ACK decimation (optional, `enableDecimation`): RFC 9000 §13.2.2 asks for an ACK after every
 * second ack-eliciting packet only as a SHOULD, and RFC 9002 lets a receiver acknowledge less often
 * within max_ack_delay. In a bulk transfer an ACK per two packets costs each end a packet of its
 * own, so once enough packets have arrived (the sender's slow start has begun), one ACK covers
 * `every` packets, as Chromium's QUIC does and the ACK frequency extension allows. So that a sender
 * whose window is smaller than that group is not left waiting, a group of two or more is
 * acknowledged within `delay` ms (a fraction of the RTT) rather than max_ack_delay. Out-of-order
 * and CE-marked packets are still acknowledged at once (RFC 9000 §13.2.1).
 *
 * Sans-I/O: the connection asks `nextAckDeadline()` for its timer and `ackFrame(now)` when it
 * builds a packet, then reports `onAckSent(now)`.
 */
import type { AckFrameInfo, EcnCounts } from './ack-frame.js';
import { ReceivedRanges } from './received-ranges.js';
import { PacketNumberSpace } from './space.js';

/** ECN codepoint of the IP header a packet arrived with (RFC 3168 §5). */
export type EcnCodepoint = 'not-ect' | 'ect0' | 'ect1' | 'ce';

export interface AckTrackerOptions {
  /** Our max_ack_delay transport parameter in ms (RFC 9000 §18.2, default 25). */
  maxAckDelay?: number;
  /** Ack-eliciting packets received before an ACK is sent at once (RFC 9000 §13.2.2: 2). */
  ackElicitingThreshold?: number;
  /** Most ACK ranges remembered (RFC 9000 §13.2.3). */
  maxRanges?: number;
}

export const DEFAULT_MAX_ACK_DELAY = 25;

/** How a receiver acknowledges less often in a long transfer (see the module comment). */
export interface AckDecimation {
  /** Ack-eliciting packets received before decimation starts. */
  after: number;
  /** Ack-eliciting packets one ACK may cover once decimating. */
  every: number;
  /** Longest wait, ms, for a group of at least `ackElicitingThreshold` packets (≤ max_ack_delay). */
  delay: number;
}

export class AckTracker {
  readonly maxAckDelay: number;
  readonly ackElicitingThreshold: number;
  private readonly received: ReceivedRanges;
  private readonly ecn: EcnCounts = { ect0: 0, ect1: 0, ce: 0 };
  private ecnSeen = false;
  /** Receive time of the largest packet number, for the ACK Delay field (RFC 9000 §13.2.5). */
  private largestReceivedTime = 0;
  /** Largest ack-eliciting packet number received so far (for the out-of-order rule). */
  private largestAckEliciting = -1;
  /** Ack-eliciting packets received since the last ACK frame was sent. */
  private unackedAckEliciting = 0;
  /** Something new (ack-eliciting or not) has arrived since the last ACK frame. */
  private hasNewRanges = false;
  /** When the pending ACK must be sent; undefined when no ACK is owed. */
  private deadline: number | undefined = undefined;
  /** Ack-eliciting packets received in all (decimation starts after `decimation.after`). */
  private ackElicitingReceived = 0;
  private decimation: AckDecimation | undefined;

  constructor(readonly space: PacketNumberSpace, options: AckTrackerOptions = {}) {
    this.maxAckDelay = options.maxAckDelay ?? DEFAULT_MAX_ACK_DELAY;
    this.ackElicitingThreshold = options.ackElicitingThreshold ?? 2;
    this.received = new ReceivedRanges(options.maxRanges ?? 64);
  }

  /** Acknowledge less often in long transfers (RFC 9000 §13.2.2 is a SHOULD); see the module comment. */
  enableDecimation(decimation: AckDecimation): void {
    if (!(decimation.every >= this.ackElicitingThreshold) || !(decimation.after >= 0) || !(decimation.delay >= 0)) {
      throw new RangeError('ACK decimation: every ≥ the threshold, after ≥ 0 and delay ≥ 0');
    }
    // A copy of its own (setDecimationDelay changes it), as a literal: a spread followed by a
    // property is copied in V8's runtime, about 1 µs per connection (issue 5).
    this.decimation = { after: decimation.after, every: decimation.every, delay: Math.min(decimation.delay, this.maxAckDelay) };
  }

  /** A new longest wait for a decimated group (the connection follows its RTT estimate). */
  setDecimationDelay(delay: number): void {
    if (this.decimation !== undefined && delay >= 0) this.decimation.delay = Math.min(delay, this.maxAckDelay);
  }

  /**
   * Records a successfully decrypted packet. Returns false if its number was already seen: the
   * caller MUST then drop the packet (RFC 9000 §12.3); duplicates change no state.
   */
  onPacketReceived(pn: number, now: number, ackEliciting: boolean, ecn: EcnCodepoint = 'not-ect'): boolean {
    // RFC 9000 §17.1: decoded packet numbers are in 0..2^62−1; anything else is a caller bug.
    if (!Number.isSafeInteger(pn) || pn < 0) throw new RangeError(`invalid packet number ${pn}`);
    const largestBefore = this.received.largest;
    if (!this.received.add(pn)) return false;
    this.hasNewRanges = true;
    if (largestBefore === undefined || pn > largestBefore) this.largestReceivedTime = now;

    // RFC 9000 §13.4.1: count each codepoint once per (non-duplicate) packet.
    if (ecn !== 'not-ect') {
      this.ecn[ecn]++;
      this.ecnSeen = true;
    }
    if (!ackEliciting) return true; // RFC 9000 §13.2.1: non-ack-eliciting packets never trigger an ACK.

    this.unackedAckEliciting++;
    this.ackElicitingReceived++;
    const decimation = this.decimation !== undefined && this.ackElicitingReceived > this.decimation.after ? this.decimation : undefined;
    const immediate =
      // RFC 9000 §13.2.1: Initial and Handshake ack-eliciting packets are acknowledged without delay.
      this.space !== PacketNumberSpace.ApplicationData ||
      // RFC 9000 §13.2.2: after receiving at least two ack-eliciting packets (or a decimated group).
      this.unackedAckEliciting >= (decimation !== undefined ? decimation.every : this.ackElicitingThreshold) ||
      // RFC 9000 §13.2.1: a packet older than another ack-eliciting one arrived (out of order) …
      pn < this.largestAckEliciting ||
      // … or a newer one arrived with packets missing since the largest ack-eliciting one.
      (this.largestAckEliciting >= 0 && pn > this.largestAckEliciting && this.missingBelow(pn)) ||
      // RFC 9000 §13.2.1: CE-marked packets SHOULD be acknowledged immediately.
      ecn === 'ce';
    this.largestAckEliciting = Math.max(this.largestAckEliciting, pn);
    // RFC 9000 §13.2.1: otherwise within max_ack_delay of the first unacknowledged one; a decimated
    // group of two or more within the shorter decimation delay.
    const wait = decimation !== undefined && this.unackedAckEliciting >= this.ackElicitingThreshold ? decimation.delay : this.maxAckDelay;
    const due = immediate ? now : now + wait;
    this.deadline = this.deadline === undefined ? due : Math.min(this.deadline, due);
    return true;
  }

  /** Whether a packet number between the largest ack-eliciting one and `pn` is missing. */
  private missingBelow(pn: number): boolean {
    const start = this.received.rangeStartOf(pn) ?? pn;
    return start > Math.max(this.largestAckEliciting + 1, this.received.duplicateFloor);
  }

  /** Time by which an ACK frame must be sent, or undefined if none is owed. */
  nextAckDeadline(): number | undefined {
    return this.deadline;
  }

  /** Whether an ACK frame is due at `now`. */
  ackDue(now: number): boolean {
    return this.deadline !== undefined && now >= this.deadline;
  }

  /**
   * Whether there is anything an ACK frame could report that the peer has not been told. A
   * connection may piggyback such an ACK on any packet it sends anyway (RFC 9000 §13.2.1).
   */
  hasUnreportedPackets(): boolean {
    return this.hasNewRanges;
  }

  /** Whether `pn` counts as received (including via the duplicate floor). */
  hasReceived(pn: number): boolean {
    return this.received.has(pn);
  }

  /**
   * Content of an ACK frame for everything remembered, or undefined if there is nothing to
   * acknowledge. `ackDelay` is ms since the largest packet arrived (RFC 9000 §13.2.5); the
   * frame codec scales it by ack_delay_exponent.
   */
  ackFrame(now: number): AckFrameInfo | undefined {
    const largest = this.received.largest;
    if (largest === undefined) return undefined;
    const frame: AckFrameInfo = {
      largest,
      ackDelay: Math.max(0, now - this.largestReceivedTime),
      ranges: this.received.toArray(),
    };
    // RFC 9000 §19.3.2: ECN counts are reported once ECN-marked packets have been received.
    if (this.ecnSeen) frame.ecn = { ...this.ecn };
    return frame;
  }

  /** The connection sent an ACK frame built by `ackFrame`: nothing is owed until new packets arrive. */
  onAckSent(): void {
    this.unackedAckEliciting = 0;
    this.hasNewRanges = false;
    this.deadline = undefined;
  }

  /**
   * A packet carrying our ACK frame with this Largest Acknowledged was itself acknowledged: stop
   * reporting packet numbers up to it (RFC 9000 §13.2.4).
   */
  onAckOfAck(largestAcked: number): void {
    this.received.forgetUpTo(largestAcked);
  }
}
