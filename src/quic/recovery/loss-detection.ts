/**
 * QUIC loss detection (RFC 9002 §6), modelled on the pseudocode of RFC 9002 Appendix A: tracks sent
 * packets per packet number space, processes ACK frames (RTT samples §5, packet and time threshold
 * loss §6.1, ECN-CE §7.1), runs the one loss detection timer (time threshold or probe timeout §6.2,
 * including the anti-deadlock and amplification rules), discards spaces (§6.4) and establishes
 * persistent congestion (§7.6). It drives a CongestionController; it never sends anything itself —
 * results tell the connection which packets were acknowledged or lost and which probes to send.
 *
 * Paths (RFC 9000 §9.4): the RTT estimator and the congestion controller belong to the path in use.
 * Every packet is tagged with the path state it was sent under (`pathId`); after startPath() the
 * packets sent before it are still acknowledged and declared lost — their frames count — but they
 * give no RTT sample, grow no window, cause no congestion event and leave the new path's bytes in
 * flight empty. One earlier state can be kept aside (the last validated path, while a migration
 * awaits validation) and brought back by restorePath() (RFC 9000 §9.3.2, §9.3).
 *
 * Errors: an ACK for a packet never sent throws ProtocolError PROTOCOL_VIOLATION (RFC 9000 §13.1);
 * a malformed range list throws ProtocolError FRAME_ENCODING_ERROR. State is unchanged when it throws.
 */
import { ProtocolError } from '../../core/errors.js';
import type { CongestionController } from '../congestion/controller.js';
import { type AckFrameInfo, validateAckFrame } from './ack-frame.js';
import { EcnValidator, type SentEcn } from './ecn-validation.js';
import { AckedSendTimes, inPersistentCongestion, persistentCongestionDuration } from './persistent-congestion.js';
import { GRANULARITY, RttEstimator } from './rtt.js';
import { type SentPacket, SentPacketTable } from './sent-packets.js';
import { ALL_SPACES, PacketNumberSpace, PROTOCOL_VIOLATION, spaceName } from './space.js';

/** RFC 9002 §6.1.1: kPacketThreshold. */
export const PACKET_THRESHOLD = 3;
/** RFC 9002 §6.1.2: kTimeThreshold. */
export const TIME_THRESHOLD = 9 / 8;
/** RFC 9000 §18.2: max_ack_delay default when the peer sends none. */
export const DEFAULT_PEER_MAX_ACK_DELAY = 25;

export interface LossDetectionOptions {
  isServer: boolean;
  congestion: CongestionController;
  /** kInitialRtt (RFC 9002 §6.2.2); default 333 ms. */
  initialRtt?: number;
  /** The peer's max_ack_delay in ms; can be updated once transport parameters arrive. */
  peerMaxAckDelay?: number;
}

/** What the connection passes for each packet it sends (RFC 9002 Appendix A.5). */
export interface PacketToTrack<T> {
  packetNumber: number;
  ackEliciting: boolean;
  inFlight: boolean;
  sentBytes: number;
  /** ECN codepoint the datagram carried; ask `ecn.codepointToSend()` (RFC 9000 §13.4.2). */
  ecn?: SentEcn;
  /**
   * Sent on another path than the one in use (a PATH_CHALLENGE to the previously active path, RFC
   * 9000 §9.3.3): tagged OFF_PATH, so that it feeds no path's RTT estimate or congestion state (§9.4).
   */
  offPath?: boolean;
  payload: T;
}

/** SentPacket.path of packets sent on another path than the one in use (PacketToTrack.offPath). */
export const OFF_PATH = -1;

export interface AckResult<T> {
  /** Newly acknowledged packets, ascending packet number. */
  acked: SentPacket<T>[];
  /** Packets newly declared lost in this space, ascending packet number: retransmit their frames. */
  lost: SentPacket<T>[];
  /** Whether this ACK took an RTT sample. */
  rttSampled: boolean;
  /** RFC 9002 §7.6: persistent congestion was established and the window collapsed. */
  persistentCongestion: boolean;
}

/** What the connection must do when the loss detection timer fires. */
export type TimeoutAction<T> =
  /** RFC 9002 §6.1.2: time threshold expired; these packets are lost. */
  | { kind: 'lost'; space: PacketNumberSpace; packets: SentPacket<T>[]; persistentCongestion: boolean }
  /** RFC 9002 §6.2.4: send one or two ack-eliciting packets in `space` (new data, old data or PING), not blocked by the window. */
  | { kind: 'probe'; space: PacketNumberSpace; maxPackets: 2 }
  /**
   * RFC 9002 §6.2.2.1: client anti-deadlock probe: one ack-eliciting Handshake packet if it has
   * Handshake keys, else one padded Initial packet.
   */
  | { kind: 'anti-deadlock'; space: PacketNumberSpace.Initial | PacketNumberSpace.Handshake }
  /** The timer was not due or not armed. */
  | { kind: 'none' };

/** The recovery state of one path (RFC 9000 §9.4): what a path change resets. */
interface PathState {
  /** Tags the packets sent under this state (SentPacket.path). */
  readonly id: number;
  readonly rtt: RttEstimator;
  readonly congestion: CongestionController;
}

interface SpaceState<T> {
  /** The packets outstanding; once the space is discarded, DISCARDED_TABLE (RFC 9001 §4.9). */
  sent: SentPacketTable<T>;
  /** largest_acked_packet; undefined while infinite (no ACK yet). */
  largestAcked: number | undefined;
  /** loss_time: when the earliest not-yet-lost packet crosses the time threshold. */
  lossTime: number | undefined;
  discarded: boolean;
}

/**
 * The sent table of every discarded space (RFC 9001 §4.9, RFC 9002 §6.4): empty, shared, frozen.
 * Nothing is sent in a discarded space (onPacketSent refuses) and its ACKs are not processed
 * (onAckReceived), so it is only read: no packets, none in flight.
 */
const DISCARDED_TABLE = new SentPacketTable<never>();
Object.freeze(DISCARDED_TABLE);

export class LossDetection<T = unknown> {
  readonly isServer: boolean;
  /** ECN validation for the path (RFC 9000 §13.4.2). */
  readonly ecn = new EcnValidator();
  peerMaxAckDelay: number;
  /** RFC 9002 §6.2.1: consecutive PTOs without an acknowledgment. */
  ptoCount = 0;
  private readonly spaces: SpaceState<T>[];
  private timer: number | undefined = undefined;
  /**
   * Set when packets were sent since the timer was last computed: the time of the latest such
   * send. Sending changes only what the timer is computed from, so onPacketSent leaves the
   * computation to the next read (SetLossDetectionTimer as of that send, RFC 9002 Appendix A.5)
   * — once per burst of packets instead of once per packet.
   */
  private timerStaleSince: number | undefined = undefined;
  private handshakeConfirmed = false;
  private hasHandshakeKeys = false;
  private receivedHandshakeAck = false;
  private amplificationLimited = false;
  private readonly ackedSendTimes = new AckedSendTimes();
  /** The path in use. */
  private path: PathState;
  /** The last validated path's state while a new path awaits validation (see restorePath). */
  private setAside: PathState | undefined = undefined;
  private lastPathId = 0;
  private readonly initialRtt: number | undefined;

  constructor(options: LossDetectionOptions) {
    this.isServer = options.isServer;
    this.initialRtt = options.initialRtt;
    this.path = { id: 0, rtt: new RttEstimator(options.initialRtt), congestion: options.congestion };
    this.peerMaxAckDelay = options.peerMaxAckDelay ?? DEFAULT_PEER_MAX_ACK_DELAY;
    this.spaces = ALL_SPACES.map(() => ({
      sent: new SentPacketTable<T>(),
      largestAcked: undefined,
      lossTime: undefined,
      discarded: false,
    }));
  }

  /** The RTT estimator of the path in use (RFC 9002 §5). */
  get rtt(): RttEstimator {
    return this.path.rtt;
  }

  /** The congestion controller of the path in use (RFC 9002 §7). */
  get congestion(): CongestionController {
    return this.path.congestion;
  }

  /** The tag of the packets sent now (SentPacket.path). */
  get pathId(): number {
    return this.path.id;
  }

  // ---- Paths (RFC 9000 §9.4) ------------------------------------------------------------------

  /**
   * RFC 9000 §9.4: the path changed. A new RTT estimator and congestion controller at their initial
   * values (RFC 9002 Appendices A.3, B.3) with `maxDatagramSize`; packets sent before now no longer
   * count for them, and the PTO backoff starts over. With `keep`, the state in use is kept aside
   * for restorePath() unless one already is (the kept one is always the last validated path's);
   * without it, any state kept aside is dropped too.
   */
  startPath(maxDatagramSize: number, keep: boolean, now: number): void {
    if (!keep) this.setAside = undefined;
    else this.setAside ??= this.path;
    const congestion = this.path.congestion.fresh(maxDatagramSize);
    this.path = { id: ++this.lastPathId, rtt: new RttEstimator(this.initialRtt), congestion };
    this.ptoCount = 0;
    this.pruneAckedSendTimes();
    this.setLossDetectionTimer(now);
  }

  /**
   * RFC 9000 §9.3.2, §9.3: back to the path whose state was kept aside (its validation succeeded
   * before): its RTT estimate and window come back as they were, less its packets acknowledged or
   * lost meanwhile. Packets sent on the abandoned path count for no state. Returns false when no
   * state was kept aside.
   */
  restorePath(now: number): boolean {
    const kept = this.setAside;
    if (kept === undefined) return false;
    this.setAside = undefined;
    this.path = kept;
    this.ptoCount = 0;
    this.setLossDetectionTimer(now);
    return true;
  }

  /** The state kept aside is not needed any more: its path is abandoned for good. */
  dropStateAside(): void {
    this.setAside = undefined;
  }

  /** Whether a state is kept aside for restorePath(). */
  get hasStateAside(): boolean {
    return this.setAside !== undefined;
  }

  // ---- Handshake progress the connection reports -------------------------------------------

  /** RFC 9001 §4.1.2: handshake confirmed; enables Application Data PTO and ack_delay clamping. */
  onHandshakeConfirmed(now: number): void {
    this.handshakeConfirmed = true;
    this.setLossDetectionTimer(now);
  }

  /** Client: Handshake keys are installed (RFC 9002 §6.2.2.1 anti-deadlock probe space). */
  onHandshakeKeysAvailable(now: number): void {
    this.hasHandshakeKeys = true;
    this.setLossDetectionTimer(now);
  }

  /**
   * Server: whether the anti-amplification limit (RFC 9000 §8.1) currently blocks sending.
   * While blocked the PTO is not armed (RFC 9002 §6.2.2.1). When a datagram unblocks it, call
   * with false and then run `onLossDetectionTimeout(now)` if `nextTimeout()` <= now (Appendix A.6).
   * Calling it again with the same value changes nothing (it does not push an armed timer back).
   */
  setAmplificationLimited(limited: boolean, now: number): void {
    if (this.amplificationLimited === limited) return;
    this.amplificationLimited = limited;
    this.setLossDetectionTimer(now);
  }

  /** The peer's max_ack_delay transport parameter (RFC 9000 §18.2), in ms. */
  setPeerMaxAckDelay(ms: number, now: number): void {
    this.peerMaxAckDelay = ms;
    this.setLossDetectionTimer(now);
  }

  // ---- Sending --------------------------------------------------------------------------------

  /** RFC 9002 Appendix A.5 OnPacketSent. */
  onPacketSent(space: PacketNumberSpace, packet: PacketToTrack<T>, now: number): SentPacket<T> {
    const state = this.spaces[space]!;
    if (state.discarded) throw new RangeError(`${spaceName(space)} space was discarded`);
    // One object literal of a fixed shape per packet (no spread): this runs for every packet sent.
    const sent: SentPacket<T> = {
      packetNumber: packet.packetNumber,
      space,
      timeSent: now,
      ackEliciting: packet.ackEliciting,
      inFlight: packet.inFlight,
      sentBytes: packet.sentBytes,
      ecn: packet.ecn,
      path: packet.offPath === true ? OFF_PATH : this.path.id,
      payload: packet.payload,
    };
    state.sent.add(sent);
    if (packet.ecn !== undefined) this.ecn.onPacketSent(packet.ecn);
    if (sent.inFlight) {
      // RFC 9000 §9.4: a packet on another path spends none of this path's window.
      if (sent.path === this.path.id) this.congestion.onPacketSent(sent.sentBytes, now);
      this.timerStaleSince = now; // RFC 9002 Appendix A.5: SetLossDetectionTimer(), on the next read
    }
    return sent;
  }

  /**
   * RFC 9000 §21.4: the connection skipped packet number `pn` (never sends it) to catch a peer
   * that acknowledges packets it did not receive; an ACK covering it is a PROTOCOL_VIOLATION.
   * Note that a gap weakens packet-threshold loss detection by one (RFC 9002 Appendix A.10).
   */
  skipPacketNumber(space: PacketNumberSpace, pn: number): void {
    this.spaces[space]!.sent.skip(pn);
  }

  // ---- Receiving an ACK -----------------------------------------------------------------------

  /** RFC 9002 Appendix A.7 OnAckReceived. Throws ProtocolError (see the file comment). */
  onAckReceived(space: PacketNumberSpace, ack: AckFrameInfo, now: number): AckResult<T> {
    const state = this.spaces[space]!;
    const result: AckResult<T> = { acked: [], lost: [], rttSampled: false, persistentCongestion: false };
    // RFC 9000 §17.2.2.1 / RFC 9002 §6.4: packets of a discarded space are not processed.
    if (state.discarded) return result;
    validateAckFrame(ack);
    // RFC 9000 §13.1: acknowledging a packet that was never sent is a PROTOCOL_VIOLATION.
    if (ack.largest > state.sent.largestSent) {
      throw new ProtocolError(
        PROTOCOL_VIOLATION,
        `ACK of unsent packet ${ack.largest} in ${spaceName(space)} (largest sent ${state.sent.largestSent})`,
        'RFC 9000 §13.1',
      );
    }
    // RFC 9000 §21.4 / §13.1: so is acknowledging a packet number that was skipped on purpose.
    const skipped = state.sent.skippedIn(ack.ranges);
    if (skipped !== undefined) {
      throw new ProtocolError(
        PROTOCOL_VIOLATION,
        `ACK of skipped packet number ${skipped} in ${spaceName(space)}`,
        'RFC 9000 §21.4',
      );
    }
    if (space === PacketNumberSpace.Handshake) this.receivedHandshakeAck = true;
    state.largestAcked = state.largestAcked === undefined ? ack.largest : Math.max(state.largestAcked, ack.largest);

    const acked = state.sent.removeAcked(ack.ranges);
    result.acked = acked;
    if (acked.length === 0) return result;
    for (const packet of acked) this.ackedSendTimes.add(packet.timeSent);

    // RFC 9002 §5.1: an RTT sample only when the largest acknowledged is newly acknowledged and
    // at least one newly acknowledged packet is ack-eliciting.
    const largest = acked[acked.length - 1]!;
    // RFC 9000 §9.4: packets sent before a path change give the new path no RTT sample.
    const current = this.ofCurrentPath(acked);
    if (largest.packetNumber === ack.largest && largest.path === this.path.id && acked.some((p) => p.ackEliciting)) {
      // RFC 9002 §5.3: the ack delay of Initial packets MAY be ignored — the peer does not delay them.
      const ackDelay = space === PacketNumberSpace.Initial ? 0 : ack.ackDelay;
      this.rtt.update(now - largest.timeSent, ackDelay, this.handshakeConfirmed, this.peerMaxAckDelay, now);
      result.rttSampled = true;
    }

    // RFC 9002 §7.1 / Appendix B.7: a rise in the validated ECN-CE count is a congestion event.
    if (this.ecn.onAck(space, ack, acked) && largest.path === this.path.id) this.congestion.onEcnCe?.(largest.timeSent, now);

    const lost = this.detectAndRemoveLostPackets(space, now);
    result.lost = lost;
    if (lost.length > 0) result.persistentCongestion = this.onPacketsLost(lost, now);
    this.congestion.onPacketsAcked(current, now, this.rtt);
    this.pruneAckedSendTimes();

    // RFC 9002 §6.2.1: reset the backoff, unless a client is unsure the server validated its address.
    if (this.peerCompletedAddressValidation()) this.ptoCount = 0;
    this.setLossDetectionTimer(now);
    return result;
  }

  // ---- The timer ------------------------------------------------------------------------------

  /** Absolute time the loss detection timer fires, or undefined when disarmed. */
  nextTimeout(): number | undefined {
    if (this.timerStaleSince !== undefined) this.setLossDetectionTimer(this.timerStaleSince);
    return this.timer;
  }

  /** RFC 9002 Appendix A.9 OnLossDetectionTimeout. */
  onLossDetectionTimeout(now: number): TimeoutAction<T> {
    if (this.timerStaleSince !== undefined) this.setLossDetectionTimer(this.timerStaleSince);
    if (this.timer === undefined || now < this.timer) return { kind: 'none' };
    const loss = this.earliestLossTime();
    if (loss !== undefined) {
      // RFC 9002 §6.1.2: time threshold loss detection.
      const packets = this.detectAndRemoveLostPackets(loss.space, now);
      const persistentCongestion = packets.length > 0 ? this.onPacketsLost(packets, now) : false;
      this.pruneAckedSendTimes();
      this.setLossDetectionTimer(now);
      return { kind: 'lost', space: loss.space, packets, persistentCongestion };
    }

    let action: TimeoutAction<T>;
    if (this.ackElicitingInFlight() === 0) {
      // RFC 9002 §6.2.2.1: only a client that is unsure its address is validated gets here.
      action = {
        kind: 'anti-deadlock',
        space: this.hasHandshakeKeys ? PacketNumberSpace.Handshake : PacketNumberSpace.Initial,
      };
    } else {
      const pto = this.ptoTimeAndSpace(now);
      if (pto === undefined) return { kind: 'none' };
      action = { kind: 'probe', space: pto.space, maxPackets: 2 };
    }
    this.ecn.onProbeTimeout();
    // RFC 9002 §6.2.1: exponential backoff.
    this.ptoCount++;
    this.setLossDetectionTimer(now);
    return action;
  }

  // ---- Discarding keys ------------------------------------------------------------------------

  /**
   * RFC 9002 §6.4 / Appendix A.11: Initial or Handshake keys were discarded. Their packets leave
   * bytes in flight without being declared lost; returns them (their frames need no retransmission).
   */
  discardSpace(space: PacketNumberSpace.Initial | PacketNumberSpace.Handshake, now: number): SentPacket<T>[] {
    const state = this.spaces[space]!;
    if (state.discarded) return [];
    state.discarded = true;
    const dropped = state.sent.clear();
    // RFC 9001 §4.9: the space keeps nothing; its table goes with its keys.
    state.sent = DISCARDED_TABLE as SentPacketTable<T>;
    this.path.congestion.onPacketsDiscarded(this.ofCurrentPath(dropped));
    state.lossTime = undefined;
    this.ptoCount = 0;
    this.pruneAckedSendTimes();
    this.setLossDetectionTimer(now);
    return dropped;
  }

  /**
   * RFC 9002 §6.3: a client that receives a Retry resets loss recovery for its Initial packets;
   * they leave bytes in flight and are returned so that their CRYPTO frames can be sent again
   * with the token. Packet numbers keep increasing (RFC 9000 §17.2.5.3).
   */
  onRetryReceived(now: number): SentPacket<T>[] {
    const state = this.spaces[PacketNumberSpace.Initial]!;
    const resent = state.sent.clear();
    this.path.congestion.onPacketsDiscarded(this.ofCurrentPath(resent));
    state.lossTime = undefined;
    this.ptoCount = 0;
    this.pruneAckedSendTimes();
    this.setLossDetectionTimer(now);
    return resent;
  }

  // ---- Introspection --------------------------------------------------------------------------

  /** Ack-eliciting packets in flight across all spaces. */
  ackElicitingInFlight(): number {
    let count = 0;
    for (const state of this.spaces) count += state.sent.ackElicitingInFlight;
    return count;
  }

  outstanding(space: PacketNumberSpace): number {
    return this.spaces[space]!.sent.size;
  }

  largestAcked(space: PacketNumberSpace): number | undefined {
    return this.spaces[space]!.largestAcked;
  }

  /** RFC 9002 §7.6.1, with the current RTT estimates. */
  persistentCongestionDuration(): number {
    return persistentCongestionDuration(this.rtt, this.peerMaxAckDelay);
  }

  /**
   * RFC 9002 §6.2.1: the PTO period of `space` with the current backoff:
   * (smoothed_rtt + max(4×rttvar, kGranularity) + max_ack_delay for Application Data) × 2^pto_count.
   */
  ptoPeriod(space: PacketNumberSpace): number {
    return this.basePtoPeriod(space) * 2 ** this.ptoCount;
  }

  /**
   * RFC 9000 §8.2.4: the PTO a path validation timer is based on — the Application Data PTO of the
   * path in use, or the one of the last validated path kept aside when larger (a new path's state
   * starts at kInitialRtt, and the old path may have had a longer round trip).
   */
  validationPtoPeriod(): number {
    const current = this.ptoPeriod(PacketNumberSpace.ApplicationData);
    const aside = this.setAside;
    return aside === undefined ? current : Math.max(current, aside.rtt.ptoBase() + this.peerMaxAckDelay);
  }

  /**
   * The PTO period of `space` without the backoff (pto_count = 0). The idle timeout is at least
   * three of these (RFC 9000 §10.1): with the backoff it would grow with every probe and so always
   * lie beyond the next PTO, and a peer that has gone silent would be probed forever.
   */
  basePtoPeriod(space: PacketNumberSpace): number {
    const maxAckDelay = space === PacketNumberSpace.ApplicationData ? this.peerMaxAckDelay : 0;
    return this.rtt.ptoBase() + maxAckDelay;
  }

  // ---- RFC 9002 Appendix A internals ----------------------------------------------------------

  /** RFC 9002 Appendix A.10 DetectAndRemoveLostPackets. */
  private detectAndRemoveLostPackets(space: PacketNumberSpace, now: number): SentPacket<T>[] {
    const state = this.spaces[space]!;
    state.lossTime = undefined;
    const lost: SentPacket<T>[] = [];
    const largestAcked = state.largestAcked;
    if (largestAcked === undefined) return lost;
    // RFC 9002 §6.1.2: max(kTimeThreshold × max(smoothed_rtt, latest_rtt), kGranularity).
    const lossDelay = Math.max(TIME_THRESHOLD * Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt), GRANULARITY);
    for (const packet of state.sent.values()) {
      // Packets are in packet-number order: nothing above the largest acknowledged can be lost.
      if (packet.packetNumber > largestAcked) break;
      // RFC 9002 §6.1.2: lost once sent before now − loss_delay. Written as timeSent + lossDelay
      // <= now, the same sum that sets loss_time, so a timer firing at loss_time always finds the
      // packet lost (now − lossDelay could round below timeSent and re-arm the same time forever).
      const lossAt = packet.timeSent + lossDelay;
      // RFC 9002 §6.1.1 packet threshold, §6.1.2 time threshold.
      if (lossAt <= now || largestAcked >= packet.packetNumber + PACKET_THRESHOLD) {
        lost.push(packet);
      } else {
        state.lossTime = state.lossTime === undefined ? lossAt : Math.min(state.lossTime, lossAt);
      }
    }
    for (const packet of lost) state.sent.remove(packet);
    return lost;
  }

  /**
   * RFC 9002 Appendix B.8 OnPacketsLost, with the §7.6 persistent congestion test. Losses of
   * packets sent before a path change are no congestion signal for the new path (RFC 9000 §9.4).
   */
  private onPacketsLost(allLost: SentPacket<T>[], now: number): boolean {
    const lost = this.ofCurrentPath(allLost);
    if (lost.length === 0) return false;
    this.congestion.onPacketsLost(lost, now);
    const persistent = inPersistentCongestion(
      lost,
      this.rtt.firstSampleTime,
      this.persistentCongestionDuration(),
      this.ackedSendTimes,
    );
    if (persistent) {
      this.congestion.onPersistentCongestion(now);
      // RFC 9002 §5.2: min_rtt SHOULD be reset to the latest sample after persistent congestion.
      this.rtt.resetMinRtt();
    }
    return persistent;
  }

  /** RFC 9002 Appendix A.8 GetLossTimeAndSpace: earliest loss_time over all spaces. */
  private earliestLossTime(): { time: number; space: PacketNumberSpace } | undefined {
    let earliest: { time: number; space: PacketNumberSpace } | undefined;
    for (const space of ALL_SPACES) {
      const time = this.spaces[space]!.lossTime;
      if (time !== undefined && (earliest === undefined || time < earliest.time)) earliest = { time, space };
    }
    return earliest;
  }

  /** RFC 9002 Appendix A.8 GetPtoTimeAndSpace; undefined where the pseudocode returns infinite. */
  private ptoTimeAndSpace(now: number): { time: number; space: PacketNumberSpace } | undefined {
    const backoff = 2 ** this.ptoCount;
    let duration = this.rtt.ptoBase() * backoff;
    // RFC 9002 §6.2.2.1: anti-deadlock PTO starts from now.
    if (this.ackElicitingInFlight() === 0) {
      const space = this.hasHandshakeKeys ? PacketNumberSpace.Handshake : PacketNumberSpace.Initial;
      return { time: now + duration, space };
    }
    let best: { time: number; space: PacketNumberSpace } | undefined;
    for (const space of ALL_SPACES) {
      const sent = this.spaces[space]!.sent;
      if (sent.ackElicitingInFlight === 0) continue;
      if (space === PacketNumberSpace.ApplicationData) {
        // RFC 9002 §6.2.1: no Application Data PTO before the handshake is confirmed.
        if (!this.handshakeConfirmed) return best;
        // RFC 9002 §6.2.1: Application Data includes max_ack_delay, with backoff.
        duration += this.peerMaxAckDelay * backoff;
      }
      const time = sent.lastAckElicitingTime! + duration;
      if (best === undefined || time < best.time) best = { time, space };
    }
    return best;
  }

  /** RFC 9002 Appendix A.8 PeerCompletedAddressValidation. */
  private peerCompletedAddressValidation(): boolean {
    // Servers treat the client's address as validated implicitly; a client knows the server
    // validated it once a Handshake ACK arrives or the handshake is confirmed.
    return this.isServer || this.receivedHandshakeAck || this.handshakeConfirmed;
  }

  /** RFC 9002 Appendix A.8 SetLossDetectionTimer. */
  private setLossDetectionTimer(now: number): void {
    this.timerStaleSince = undefined;
    const loss = this.earliestLossTime();
    if (loss !== undefined) {
      this.timer = loss.time;
      return;
    }
    // RFC 9002 §6.2.2.1: a server blocked by the amplification limit cannot send a probe.
    if (this.isServer && this.amplificationLimited) {
      this.timer = undefined;
      return;
    }
    // Nothing to detect lost; only a client unsure of address validation keeps a timer armed.
    if (this.ackElicitingInFlight() === 0 && this.peerCompletedAddressValidation()) {
      this.timer = undefined;
      return;
    }
    this.timer = this.ptoTimeAndSpace(now)?.time;
  }

  /**
   * The packets sent under the path state in use (RFC 9000 §9.4); `packets` itself when that is
   * all of them (the usual case: no copy). Those of the state kept aside leave its bytes in flight,
   * so that restorePath() brings back a window that counts only packets still outstanding.
   */
  private ofCurrentPath(packets: SentPacket<T>[]): SentPacket<T>[] {
    const id = this.path.id;
    let i = 0;
    while (i < packets.length && packets[i]!.path === id) i++;
    if (i === packets.length) return packets;
    const current = packets.slice(0, i);
    const aside = this.setAside;
    for (; i < packets.length; i++) {
      const packet = packets[i]!;
      if (packet.path === id) current.push(packet);
      else if (aside !== undefined && packet.path === aside.id) aside.congestion.onPacketsDiscarded([packet]);
    }
    return current;
  }

  private pruneAckedSendTimes(): void {
    let oldest: number | undefined;
    for (const state of this.spaces) {
      const first = state.sent.oldest();
      if (first !== undefined && (oldest === undefined || first.timeSent < oldest)) oldest = first.timeSent;
    }
    this.ackedSendTimes.prune(oldest);
  }
}
