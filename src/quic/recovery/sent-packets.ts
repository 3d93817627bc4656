/**
 * The sender's record of packets sent in one packet number space and not yet acknowledged or
 * declared lost (RFC 9002 §2, Appendix A.1). Packet numbers only grow (RFC 9000 §12.3) and are
 * nearly dense (a gap only where one was skipped, §21.4), so the packets sit in an array indexed by
 * packet number minus a base: array order is packet-number order and time order, and an ACK range
 * is a run of indices, visited without hashing.
 */
import type { PacketRange } from './ack-frame.js';
import type { PacketNumberSpace } from './space.js';

/** RFC 9002 Appendix A.1.1 fields, plus the frames the caller needs to retransmit. */
export interface SentPacket<T = unknown> {
  readonly packetNumber: number;
  readonly space: PacketNumberSpace;
  /** Time the packet was sent (ms). */
  readonly timeSent: number;
  /** Contains a frame other than ACK, PADDING and CONNECTION_CLOSE (RFC 9002 §2). */
  readonly ackEliciting: boolean;
  /** Counts toward bytes in flight: ack-eliciting or PADDING (RFC 9002 §2). */
  readonly inFlight: boolean;
  /** QUIC packet size including header and AEAD tag, excluding UDP/IP (RFC 9002 Appendix A.1.1). */
  readonly sentBytes: number;
  /** ECN codepoint set on the datagram (RFC 9000 §13.4.2), if any. */
  readonly ecn?: 'not-ect' | 'ect0' | 'ect1';
  /**
   * The path recovery state the packet was sent under (LossDetection.pathId): after a path change
   * its acknowledgment or loss no longer feeds the new path's RTT and congestion state (RFC 9000 §9.4).
   */
  readonly path: number;
  /** Opaque to recovery: typically the frames to retransmit if the packet is lost. */
  readonly payload: T;
}

/** Skipped packet numbers remembered per space (oldest forgotten first). */
export const MAX_SKIPPED_PACKET_NUMBERS = 16;

/** Slots before the first outstanding packet are dropped once they are this many and half the array. */
const COMPACT_AFTER = 1024;

/**
 * Records kept at most of packets that are neither ack-eliciting nor in flight (ACK-only packets).
 * A peer need not acknowledge them (RFC 9000 §13.2.1), and one that acknowledges nothing while its
 * PINGs keep the connection alive would otherwise make them pile up. Beyond this many the oldest is
 * forgotten: it holds no bytes in flight and nothing to retransmit (RFC 9002 §2, RFC 9000 §13.3),
 * only the ACK ranges it carried, and a later ACK-only packet carries the same largest or a larger
 * one, so the peer acknowledging it lets the received ranges go as far (RFC 9000 §13.2.4).
 */
export const MAX_ACK_ONLY_RECORDS = 256;

/**
 * Slots from the oldest outstanding packet in the array to the newest, at most, while most of them
 * are empty. A packet that is never acknowledged nor declared lost (a peer that acknowledges
 * nothing: no largest acknowledged, so no loss detection, RFC 9002 §6.1) would otherwise keep the
 * array growing by a slot per packet sent after it; past this span the outstanding packets move to
 * a short sorted list and the array starts afresh.
 */
export const MAX_SPAN = 1 << 14;

/** Neither ack-eliciting nor in flight: a record that congestion control and PTO never look at. */
function isAckOnly(packet: SentPacket<unknown>): boolean {
  return !packet.ackEliciting && !packet.inFlight;
}

export class SentPacketTable<T> {
  /** Slot i holds packet number `base + i`, or undefined once it was acknowledged, lost or skipped. */
  private slots: (SentPacket<T> | undefined)[] = [];
  /** Outstanding packets moved out of `slots` (see MAX_SPAN), ascending, all below `base`. */
  private older: SentPacket<T>[] = [];
  private base = 0;
  /** Index of the oldest outstanding packet (slots before it are all empty). */
  private head = 0;
  private count = 0;
  /** Outstanding ACK-only packets (see MAX_ACK_ONLY_RECORDS). */
  private ackOnlyCount = 0;
  /** No ACK-only packet sits in a slot before this index: where the search for the oldest resumes. */
  private ackOnlyScan = 0;
  /** Packet numbers deliberately never sent (RFC 9000 §21.4), ascending. */
  private readonly skipped: number[] = [];
  /** Largest packet number ever sent in this space, -1 before the first. */
  largestSent = -1;
  /** Ack-eliciting packets that are still in flight (RFC 9002 §6.2.1 "in flight" test). */
  ackElicitingInFlight = 0;
  /** Send time of the most recent ack-eliciting in-flight packet (time_of_last_ack_eliciting_packet). */
  lastAckElicitingTime: number | undefined = undefined;

  /** `maxSpan`: MAX_SPAN unless a test wants the move to `older` to happen sooner. */
  constructor(private readonly maxSpan = MAX_SPAN) {}

  get size(): number {
    return this.count;
  }

  /** Slots the array holds from the oldest outstanding packet in it on (memory, for tests). */
  get span(): number {
    return this.slots.length - this.head;
  }

  /** Oldest outstanding packet, or undefined. */
  oldest(): SentPacket<T> | undefined {
    if (this.count === 0) return undefined;
    return this.older.length > 0 ? this.older[0] : this.slots[this.head];
  }

  add(packet: SentPacket<T>): void {
    // RFC 9000 §12.3: a packet number is never reused within a space.
    if (packet.packetNumber <= this.largestSent) {
      throw new RangeError(`packet number ${packet.packetNumber} not above ${this.largestSent}`);
    }
    this.largestSent = packet.packetNumber;
    if (this.count === this.older.length) {
      // Nothing outstanding in the array: start afresh at this packet number.
      this.slots = [];
      this.base = packet.packetNumber;
      this.head = 0;
      this.ackOnlyScan = 0;
    } else {
      if (this.head >= COMPACT_AFTER && 2 * this.head > this.slots.length) {
        this.slots = this.slots.slice(this.head);
        this.base += this.head;
        this.ackOnlyScan = Math.max(0, this.ackOnlyScan - this.head);
        this.head = 0;
      } else if (this.slots.length - this.head >= this.maxSpan && 2 * (this.count - this.older.length) < this.slots.length - this.head) {
        // Mostly empty slots behind an old packet (see MAX_SPAN): keep the outstanding ones aside.
        this.moveToOlder();
        this.base = packet.packetNumber;
      }
      // Skipped packet numbers (RFC 9000 §21.4) leave empty slots.
      while (this.base + this.slots.length < packet.packetNumber) this.slots.push(undefined);
    }
    this.slots.push(packet);
    this.count++;
    if (packet.ackEliciting && packet.inFlight) {
      this.ackElicitingInFlight++;
      this.lastAckElicitingTime = packet.timeSent;
    } else if (isAckOnly(packet) && ++this.ackOnlyCount > MAX_ACK_ONLY_RECORDS) {
      this.forgetOldestAckOnly();
    }
  }

  /** Outstanding packets that are neither ack-eliciting nor in flight (at most MAX_ACK_ONLY_RECORDS). */
  get ackOnlySize(): number {
    return this.ackOnlyCount;
  }

  /**
   * Moves the array's outstanding packets to `older` and empties the array (see MAX_SPAN). ACK-only
   * records are forgotten instead (see MAX_ACK_ONLY_RECORDS), so `older` holds only packets that
   * count for congestion control or PTO, which the congestion window and the probe backoff bound.
   */
  private moveToOlder(): void {
    const slots = this.slots;
    for (let i = this.head; i < slots.length; i++) {
      const packet = slots[i];
      if (packet === undefined) continue;
      if (isAckOnly(packet)) this.forget(packet);
      else this.older.push(packet);
    }
    this.slots = [];
    this.head = 0;
    this.ackOnlyScan = 0;
  }

  /**
   * Drops the record of the oldest outstanding ACK-only packet (see MAX_ACK_ONLY_RECORDS). The scan
   * resumes where the last one stopped: packet numbers only grow, so each slot is passed once.
   */
  private forgetOldestAckOnly(): void {
    const slots = this.slots;
    for (let i = Math.max(this.ackOnlyScan, this.head); i < slots.length; i++) {
      const packet = slots[i];
      if (packet === undefined || !isAckOnly(packet)) continue;
      slots[i] = undefined;
      this.forget(packet);
      this.ackOnlyScan = i + 1;
      this.advanceHead();
      return;
    }
  }

  /**
   * RFC 9000 §21.4: a sender may skip packet numbers to detect a peer that acknowledges packets
   * it never received (optimistic ACK attack). `pn` must be above every number used so far.
   */
  skip(pn: number): void {
    if (pn <= this.largestSent) throw new RangeError(`packet number ${pn} not above ${this.largestSent}`);
    this.largestSent = pn;
    this.skipped.push(pn);
    if (this.skipped.length > MAX_SKIPPED_PACKET_NUMBERS) this.skipped.shift();
  }

  /** The first skipped packet number that `ranges` acknowledge, if any. */
  skippedIn(ranges: readonly PacketRange[]): number | undefined {
    for (const pn of this.skipped) if (inRanges(ranges, pn)) return pn;
    return undefined;
  }

  /**
   * Removes and returns the packets covered by `ranges` (disjoint, highest first), in ascending
   * packet-number order. Each range is clipped to the outstanding packets, so the work is bounded
   * by the table's span however wide a hostile ACK's ranges are, and the usual ACK (a new range at
   * the top of old ones) visits only the packets it acknowledges.
   */
  removeAcked(ranges: readonly PacketRange[]): SentPacket<T>[] {
    const acked: SentPacket<T>[] = [];
    if (this.count === 0) return acked;
    // Below every slot: the packets moved aside (rare, see MAX_SPAN).
    if (this.older.length > 0) this.removeAckedOlder(ranges, acked);
    const slots = this.slots;
    const first = this.base + this.head;
    const last = this.base + slots.length - 1;
    for (let r = ranges.length - 1; r >= 0; r--) {
      const [start, end] = ranges[r]!;
      const to = Math.min(end, last) - this.base;
      for (let i = Math.max(start, first) - this.base; i <= to; i++) {
        const packet = slots[i];
        if (packet === undefined) continue;
        acked.push(packet);
        slots[i] = undefined;
        this.forget(packet);
      }
    }
    this.advanceHead();
    return acked;
  }

  private removeAckedOlder(ranges: readonly PacketRange[], acked: SentPacket<T>[]): void {
    const kept: SentPacket<T>[] = [];
    for (const packet of this.older) {
      if (inRanges(ranges, packet.packetNumber)) {
        acked.push(packet);
        this.forget(packet);
      } else {
        kept.push(packet);
      }
    }
    this.older = kept;
  }

  /** Packets in ascending packet-number order (for loss detection's scan). Do not add while iterating. */
  *values(): IterableIterator<SentPacket<T>> {
    const older = this.older;
    for (let i = 0; i < older.length; i++) yield older[i]!;
    const slots = this.slots;
    for (let i = this.head; i < slots.length; i++) {
      const packet = slots[i];
      if (packet !== undefined) yield packet;
    }
  }

  remove(packet: SentPacket<T>): void {
    if (packet.packetNumber < this.base) {
      const j = this.older.indexOf(packet);
      if (j < 0) return;
      this.older.splice(j, 1);
      this.forget(packet);
      this.advanceHead();
      return;
    }
    const i = packet.packetNumber - this.base;
    const held = i >= this.head && i < this.slots.length ? this.slots[i] : undefined;
    if (held === undefined) return;
    this.slots[i] = undefined;
    this.forget(held);
    this.advanceHead();
  }

  /** Empties the table (RFC 9002 §6.4) and returns what it held. */
  clear(): SentPacket<T>[] {
    const all = [...this.values()];
    this.slots = [];
    this.older = [];
    this.head = 0;
    this.count = 0;
    this.ackOnlyCount = 0;
    this.ackOnlyScan = 0;
    this.ackElicitingInFlight = 0;
    this.lastAckElicitingTime = undefined;
    return all;
  }

  private forget(packet: SentPacket<T>): void {
    this.count--;
    if (packet.ackEliciting && packet.inFlight) this.ackElicitingInFlight--;
    else if (isAckOnly(packet)) this.ackOnlyCount--;
  }

  /** Moves `head` to the oldest outstanding packet. */
  private advanceHead(): void {
    if (this.count === this.older.length) {
      this.slots = [];
      this.head = 0;
      this.ackOnlyScan = 0;
      return;
    }
    while (this.slots[this.head] === undefined) this.head++;
  }
}

/** Binary search over disjoint ranges sorted highest first. */
function inRanges(ranges: readonly PacketRange[], pn: number): boolean {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const [start, end] = ranges[mid]!;
    if (pn > end) hi = mid;
    else if (pn < start) lo = mid + 1;
    else return true;
  }
  return false;
}
