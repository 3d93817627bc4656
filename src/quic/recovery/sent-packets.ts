/**
 * The sender's record of packets sent in one packet number space and not yet acknowledged or
 * declared lost (RFC 9002 §2, Appendix A.1). Packet numbers only grow (RFC 9000 §12.3), so a Map
 * in insertion order is also packet-number order and time order.
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
  /** Opaque to recovery: typically the frames to retransmit if the packet is lost. */
  readonly payload: T;
}

/** Skipped packet numbers remembered per space (oldest forgotten first). */
export const MAX_SKIPPED_PACKET_NUMBERS = 16;

export class SentPacketTable<T> {
  private readonly packets = new Map<number, SentPacket<T>>();
  /** Packet numbers deliberately never sent (RFC 9000 §21.4), ascending. */
  private readonly skipped: number[] = [];
  /** Largest packet number ever sent in this space, -1 before the first. */
  largestSent = -1;
  /** Ack-eliciting packets that are still in flight (RFC 9002 §6.2.1 "in flight" test). */
  ackElicitingInFlight = 0;
  /** Send time of the most recent ack-eliciting in-flight packet (time_of_last_ack_eliciting_packet). */
  lastAckElicitingTime: number | undefined = undefined;

  get size(): number {
    return this.packets.size;
  }

  /** Oldest outstanding packet, or undefined. */
  oldest(): SentPacket<T> | undefined {
    for (const packet of this.packets.values()) return packet;
    return undefined;
  }

  add(packet: SentPacket<T>): void {
    // RFC 9000 §12.3: a packet number is never reused within a space.
    if (packet.packetNumber <= this.largestSent) {
      throw new RangeError(`packet number ${packet.packetNumber} not above ${this.largestSent}`);
    }
    this.largestSent = packet.packetNumber;
    this.packets.set(packet.packetNumber, packet);
    if (packet.ackEliciting && packet.inFlight) {
      this.ackElicitingInFlight++;
      this.lastAckElicitingTime = packet.timeSent;
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
   * packet-number order. Work is bounded by min(width of the ranges, outstanding packets up to the
   * largest acknowledged + ranges), so a hostile ACK with huge ranges costs no more than the
   * table's size, and the usual ACK (a new range at the top of old ones) visits only the packets
   * it acknowledges, not the whole flight sent after them.
   */
  removeAcked(ranges: readonly PacketRange[]): SentPacket<T>[] {
    const acked: SentPacket<T>[] = [];
    if (this.packets.size === 0) return acked;
    let width = 0;
    for (const [start, end] of ranges) width += end - start + 1;
    if (width <= this.packets.size) {
      for (let r = ranges.length - 1; r >= 0; r--) {
        const [start, end] = ranges[r]!;
        for (let pn = start; pn <= end; pn++) {
          const packet = this.packets.get(pn);
          if (packet !== undefined) acked.push(packet);
        }
      }
    } else {
      // Packets ascend and ranges descend: walk both from the lowest, and stop at the first packet
      // above the largest acknowledged (everything after it was sent later).
      let r = ranges.length - 1;
      for (const packet of this.packets.values()) {
        const pn = packet.packetNumber;
        while (r >= 0 && ranges[r]![1] < pn) r--;
        if (r < 0) break;
        if (pn >= ranges[r]![0]) acked.push(packet);
      }
    }
    for (const packet of acked) this.remove(packet);
    return acked;
  }

  /** Packets in ascending packet-number order (for loss detection's scan). */
  values(): IterableIterator<SentPacket<T>> {
    return this.packets.values();
  }

  remove(packet: SentPacket<T>): void {
    if (!this.packets.delete(packet.packetNumber)) return;
    if (packet.ackEliciting && packet.inFlight) this.ackElicitingInFlight--;
  }

  /** Empties the table (RFC 9002 §6.4) and returns what it held. */
  clear(): SentPacket<T>[] {
    const all = [...this.packets.values()];
    this.packets.clear();
    this.ackElicitingInFlight = 0;
    this.lastAckElicitingTime = undefined;
    return all;
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
