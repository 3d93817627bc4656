/**
 * The content of an ACK frame as loss recovery sees it (RFC 9000 §19.3), already decoded from the
 * gap/length wire form into inclusive packet-number ranges, highest first. The frame codec owns the
 * wire encoding; `ackDelay` here is in milliseconds, i.e. after applying ack_delay_exponent
 * (RFC 9000 §18.2).
 */
import { ProtocolError } from '../../core/errors.js';
import { FRAME_ENCODING_ERROR } from './space.js';

/** ECN counts carried by an ACK frame of type 0x03 (RFC 9000 §19.3.2). */
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/** An inclusive range of packet numbers [smallest, largest]. */
export type PacketRange = readonly [start: number, end: number];

export interface AckFrameInfo {
  /** Largest Acknowledged (RFC 9000 §19.3). Equals ranges[0][1]. */
  largest: number;
  /** Acknowledgment delay in milliseconds (already scaled by the ack_delay_exponent). */
  ackDelay: number;
  /** Inclusive ranges, highest first, disjoint and not adjacent (RFC 9000 §19.3.1). */
  ranges: readonly PacketRange[];
  ecn?: EcnCounts;
}

/**
 * Checks the invariants that the gap/length encoding of RFC 9000 §19.3.1 guarantees, so that an
 * AckFrameInfo built by any codec (or by a hostile peer through a buggy codec) cannot make ACK
 * processing misbehave. Throws ProtocolError FRAME_ENCODING_ERROR.
 */
export function validateAckFrame(ack: AckFrameInfo): void {
  const fail = (why: string): never => {
    throw new ProtocolError(FRAME_ENCODING_ERROR, `malformed ACK frame: ${why}`, 'RFC 9000 §19.3.1');
  };
  const { ranges } = ack;
  if (ranges.length === 0) fail('no ACK range');
  if (!Number.isSafeInteger(ack.largest) || ranges[0]![1] !== ack.largest) {
    fail('first range does not end at Largest Acknowledged');
  }
  if (!(ack.ackDelay >= 0)) fail('negative ACK delay');
  let previousStart = Infinity;
  for (const [start, end] of ranges) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end) {
      fail(`bad range [${start}, ${end}]`);
    }
    // RFC 9000 §19.3.1: each Gap encodes at least one unacknowledged packet between ranges.
    if (end >= previousStart - 1) fail('ranges overlap, touch or are not in descending order');
    previousStart = start;
  }
}
