/**
 * Which frames each packet type may carry, and what a frame means for acknowledgment and
 * congestion control: RFC 9000 §12.4 Table 3 as one data table, plus DATAGRAM (RFC 9221 §4).
 *
 * Pkts column: I = Initial, H = Handshake, 0 = 0-RTT, 1 = 1-RTT; "ih" means only CONNECTION_CLOSE
 * of type 0x1c may appear in Initial and Handshake packets.
 * Spec column: N = not ack-eliciting; C = not counted in bytes in flight; P = may probe a new path;
 * F = flow controlled.
 *
 * RETIRE_CONNECTION_ID follows Table 3 (__01). §12.5 lists it among frames that cannot be sent in
 * 0-RTT and lets a server reject it there; the table's more permissive reading is kept so that a
 * conforming peer is never refused.
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import type { PacketType } from '../packet/types.js';
import { FrameType, frameTypeOf, type Frame } from './types.js';

export interface FrameTypeRules {
  name: string;
  /** Table 3 "Pkts": which of I, H, 0, 1 (a letter is present when the type is allowed). */
  packets: string;
  /** Table 3 "Spec" notes. */
  notes: string;
}

type FramePacketType = Exclude<PacketType, 'retry'>;
const PACKET_LETTER: Record<FramePacketType, string> = { initial: 'I', handshake: 'H', '0rtt': '0', '1rtt': '1' };

// RFC 9000 §12.4 Table 3 (and RFC 9221 §4 for DATAGRAM): [first type, last type, rules].
const TABLE: ReadonlyArray<readonly [number, number, FrameTypeRules]> = [
  [0x00, 0x00, { name: 'PADDING', packets: 'IH01', notes: 'NP' }],
  [0x01, 0x01, { name: 'PING', packets: 'IH01', notes: '' }],
  [0x02, 0x03, { name: 'ACK', packets: 'IH_1', notes: 'NC' }],
  [0x04, 0x04, { name: 'RESET_STREAM', packets: '__01', notes: '' }],
  [0x05, 0x05, { name: 'STOP_SENDING', packets: '__01', notes: '' }],
  [0x06, 0x06, { name: 'CRYPTO', packets: 'IH_1', notes: '' }],
  [0x07, 0x07, { name: 'NEW_TOKEN', packets: '___1', notes: '' }],
  [0x08, 0x0f, { name: 'STREAM', packets: '__01', notes: 'F' }],
  [0x10, 0x10, { name: 'MAX_DATA', packets: '__01', notes: '' }],
  [0x11, 0x11, { name: 'MAX_STREAM_DATA', packets: '__01', notes: '' }],
  [0x12, 0x13, { name: 'MAX_STREAMS', packets: '__01', notes: '' }],
  [0x14, 0x14, { name: 'DATA_BLOCKED', packets: '__01', notes: '' }],
  [0x15, 0x15, { name: 'STREAM_DATA_BLOCKED', packets: '__01', notes: '' }],
  [0x16, 0x17, { name: 'STREAMS_BLOCKED', packets: '__01', notes: '' }],
  [0x18, 0x18, { name: 'NEW_CONNECTION_ID', packets: '__01', notes: 'P' }],
  [0x19, 0x19, { name: 'RETIRE_CONNECTION_ID', packets: '__01', notes: '' }],
  [0x1a, 0x1a, { name: 'PATH_CHALLENGE', packets: '__01', notes: 'P' }],
  [0x1b, 0x1b, { name: 'PATH_RESPONSE', packets: '___1', notes: 'P' }],
  [0x1c, 0x1c, { name: 'CONNECTION_CLOSE', packets: 'IH01', notes: 'N' }],
  [0x1d, 0x1d, { name: 'CONNECTION_CLOSE', packets: '__01', notes: 'N' }],
  [0x1e, 0x1e, { name: 'HANDSHAKE_DONE', packets: '___1', notes: '' }],
  [0x30, 0x31, { name: 'DATAGRAM', packets: '__01', notes: '' }],
];

const RULES_BY_TYPE: (FrameTypeRules | undefined)[] = [];
for (const [first, last, rules] of TABLE) for (let t = first; t <= last; t++) RULES_BY_TYPE[t] = rules;

/** The table's letters as flags per frame type, so the per-frame checks index arrays instead of searching strings. */
const PACKET_BIT: Record<FramePacketType, number> = { initial: 1, handshake: 2, '0rtt': 4, '1rtt': 8 };
const PERMITTED_PACKETS: number[] = RULES_BY_TYPE.map((rules) => {
  let mask = 0;
  for (const [type, letter] of Object.entries(PACKET_LETTER)) if (rules?.packets.includes(letter)) mask |= PACKET_BIT[type as FramePacketType];
  return mask;
});
const ACK_ELICITING: boolean[] = RULES_BY_TYPE.map((rules) => !(rules?.notes.includes('N') ?? false));

/** Table 3's row for a frame type, or undefined for a type QUIC does not define. */
export function frameTypeRules(frameType: number): FrameTypeRules | undefined {
  return RULES_BY_TYPE[frameType];
}

/**
 * Throws unless a frame of `frameType` may arrive in a `packetType` packet at an endpoint playing
 * `receiver`:
 * - RFC 9000 §12.4: a frame in a packet type where Table 3 does not permit it → PROTOCOL_VIOLATION;
 * - RFC 9000 §19.7 / §19.20: a server receiving NEW_TOKEN or HANDSHAKE_DONE → PROTOCOL_VIOLATION.
 */
export function checkFramePermitted(frameType: number, packetType: FramePacketType, receiver?: 'client' | 'server'): void {
  const rules = RULES_BY_TYPE[frameType];
  if (rules === undefined) {
    throw new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, `unknown frame type 0x${frameType.toString(16)}`, 'RFC 9000 §12.4', frameType);
  }
  if ((PERMITTED_PACKETS[frameType]! & PACKET_BIT[packetType]) === 0) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      `${rules.name} is not permitted in ${packetType} packets`,
      'RFC 9000 §12.4',
      frameType,
    );
  }
  if (receiver === 'server' && (frameType === FrameType.NEW_TOKEN || frameType === FrameType.HANDSHAKE_DONE)) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      `a client sent ${rules.name}`,
      frameType === FrameType.NEW_TOKEN ? 'RFC 9000 §19.7' : 'RFC 9000 §19.20',
      frameType,
    );
  }
}

/** Whether a frame type elicits an acknowledgment (Table 3 note N; RFC 9000 §13.2). */
export function isAckElicitingType(frameType: number): boolean {
  return ACK_ELICITING[frameType] ?? true;
}

/** Whether `frame` elicits an acknowledgment: anything but ACK, PADDING and CONNECTION_CLOSE. */
export function isAckEliciting(frame: Frame): boolean {
  return isAckElicitingType(frameTypeOf(frame));
}

/** Whether a packet holding only this frame type counts toward bytes in flight (note C). */
export function countsInFlight(frameType: number): boolean {
  return !(RULES_BY_TYPE[frameType]?.notes.includes('C') ?? false);
}

/** Whether a packet of only these frames is a probing packet (note P; RFC 9000 §9.1). */
export function isProbingOnly(frames: readonly Frame[]): boolean {
  return frames.every((frame) => RULES_BY_TYPE[frameTypeOf(frame)]?.notes.includes('P') ?? false);
}
