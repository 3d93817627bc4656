/**
 * Packet types and the first byte of a QUIC packet header (RFC 9000 §17.2, §17.3), including the
 * long-header type codes, which QUIC version 2 reassigns (RFC 9369 §3.2).
 */
import { QUIC_V2 } from '../version.js';

/** The packet types of RFC 9000 §17 (Version Negotiation has no type bits: version 0 marks it). */
export type PacketType = 'initial' | '0rtt' | 'handshake' | 'retry' | '1rtt';
/** Long-header packets that carry frames and a packet number. */
export type LongPacketType = 'initial' | '0rtt' | 'handshake';

/** Header Form bit: 1 = long header (RFC 9000 §17.2). */
export const HEADER_FORM_LONG = 0x80;
/** Fixed Bit: 1 in every v1/v2 packet unless grease_quic_bit was negotiated (RFC 9000 §17.2, RFC 9287). */
export const FIXED_BIT = 0x40;
/** Spin bit of a short header (RFC 9000 §17.4); not covered by header protection. */
export const SPIN_BIT = 0x20;
/** Key Phase bit of a short header (RFC 9000 §17.3.1); readable only after header protection is removed. */
export const KEY_PHASE_BIT = 0x04;
/** Reserved bits: 0x0c in long headers, 0x18 in short headers; 0 once protection is removed (§17.2, §17.3.1). */
export const LONG_RESERVED_BITS = 0x0c;
export const SHORT_RESERVED_BITS = 0x18;
/** Packet Number Length bits: length − 1 (§17.2, §17.3.1). */
export const PN_LENGTH_BITS = 0x03;

/** Connection IDs in v1 and v2 long headers are at most 20 bytes (RFC 9000 §17.2). */
export const MAX_CID_LENGTH = 20;

// RFC 9000 §17.2 Table 5 (v1) and RFC 9369 §3.2 (v2): the two "Long Packet Type" bits.
const V1_TYPE_BITS: Record<Exclude<PacketType, '1rtt'>, number> = { initial: 0, '0rtt': 1, handshake: 2, retry: 3 };
const V2_TYPE_BITS: Record<Exclude<PacketType, '1rtt'>, number> = { initial: 1, '0rtt': 2, handshake: 3, retry: 0 };
const V1_TYPES = ['initial', '0rtt', 'handshake', 'retry'] as const;
const V2_TYPES = ['retry', 'initial', '0rtt', 'handshake'] as const;

/** The Long Packet Type bits (already shifted to 0x30) for `type` in `version`. */
export function longTypeBits(version: number, type: Exclude<PacketType, '1rtt'>): number {
  return (version === QUIC_V2 ? V2_TYPE_BITS : V1_TYPE_BITS)[type] << 4;
}

/** The packet type a long header's first byte names in `version` (a v1 or v2 version). */
export function longPacketType(version: number, firstByte: number): Exclude<PacketType, '1rtt'> {
  return (version === QUIC_V2 ? V2_TYPES : V1_TYPES)[(firstByte >> 4) & 0x03]!;
}

/** Packet number length in bytes (1–4) from an unprotected first byte (RFC 9000 §17.2). */
export function packetNumberLengthOf(unprotectedFirstByte: number): 1 | 2 | 3 | 4 {
  return ((unprotectedFirstByte & PN_LENGTH_BITS) + 1) as 1 | 2 | 3 | 4;
}

/** Key phase (0 or 1) from an unprotected short-header first byte (RFC 9000 §17.3.1). */
export function keyPhaseOf(unprotectedFirstByte: number): 0 | 1 {
  return (unprotectedFirstByte & KEY_PHASE_BIT) !== 0 ? 1 : 0;
}
