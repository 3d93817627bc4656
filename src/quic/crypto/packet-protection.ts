/**
 * Whole-packet protection as the connection uses it (RFC 9001 §5.3, §5.4): seal the payload with
 * the header as associated data, then mask the low bits of the first byte and the packet number
 * with a sample of the ciphertext; and the reverse on receipt. Parsing headers and decoding the
 * full packet number (RFC 9000 Appendix A) belong to the packet codec; this module is told the
 * packet number offset and gets a decoder callback.
 */
import type { PacketProtector } from './protector.js';
import { SAMPLE_LENGTH, TAG_LENGTH } from './suites.js';
import type { HeaderProtection } from './header-protection.js';

/** RFC 9001 §5.4.2: the sample starts 4 bytes after the Packet Number field starts. */
const SAMPLE_OFFSET_FROM_PN = 4;

/** RFC 9001 §5.4.1: long headers protect 4 low bits of the first byte, short headers 5. */
function protectedBitsOfFirstByte(firstByte: number): number {
  return (firstByte & 0x80) !== 0 ? 0x0f : 0x1f;
}

/**
 * Seals `packet` = header||plaintext and applies header protection; returns header||ciphertext||tag
 * with the header masked. `packet[0]`'s low two bits must give `pnLength` (RFC 9000 §17.2, §17.3),
 * and a long header's Length field must already count the 16-byte tag. The input is not modified.
 *
 * Throws RangeError on arguments no well-formed packet has (a bug in the caller, not the peer):
 * `payloadOffset`, if given, must be `pnOffset + pnLength`, because the associated data ends with
 * the packet number (RFC 9001 §5.3); and the payload must be long enough to sample (RFC 9001 §5.4.2).
 */
export function protectPacket(
  protector: PacketProtector,
  packet: Uint8Array,
  pnOffset: number,
  pnLength: number,
  packetNumber: number,
  payloadOffset: number = pnOffset + pnLength,
): Buffer {
  if (!Number.isInteger(pnLength) || pnLength < 1 || pnLength > 4) throw new RangeError('packet number length is 1..4 bytes');
  if (!Number.isInteger(pnOffset) || pnOffset < 1) throw new RangeError('packet number offset must follow the first byte');
  if (payloadOffset !== pnOffset + pnLength) {
    throw new RangeError('the payload starts right after the packet number (RFC 9001 §5.3)');
  }
  if ((packet[0]! & 0x03) + 1 !== pnLength) throw new RangeError('first byte encodes a different packet number length');
  const protectedLength = packet.length + TAG_LENGTH;
  // RFC 9001 §5.4.2: the packet number and payload together must leave room for a whole sample.
  if (pnOffset + SAMPLE_OFFSET_FROM_PN + SAMPLE_LENGTH > protectedLength) {
    throw new RangeError('payload too short to sample: pad it (RFC 9001 §5.4.2)');
  }

  const out = Buffer.allocUnsafe(protectedLength);
  const header = packet.subarray(0, payloadOffset);
  out.set(header, 0);
  protector.sealInto(packetNumber, header, packet.subarray(payloadOffset), out, payloadOffset);

  // RFC 9001 §5.4.1: header protection is applied after packet protection, over the ciphertext.
  const mask = protector.maskAt(out, pnOffset + SAMPLE_OFFSET_FROM_PN);
  out[0]! ^= mask[0]! & protectedBitsOfFirstByte(out[0]!);
  for (let i = 0; i < pnLength; i++) out[pnOffset + i]! ^= mask[1 + i]!;
  return out;
}

export interface UnmaskedHeader {
  /** The header with protection removed, up to and including the packet number (the AEAD's AAD). A copy. */
  header: Buffer;
  pnLength: number;
  /** The packet number as sent, `pnLength` bytes, before RFC 9000 Appendix A decoding. */
  truncatedPn: number;
}

/**
 * Removes header protection (RFC 9001 §5.4.1) without touching `packet`, so the caller can read the
 * Key Phase bit (`header[0] & 0x04`, short header) before choosing keys. Null when the packet is
 * too short to hold a sample, which the receiver must discard (RFC 9001 §5.4.2).
 */
export function removeHeaderProtection(
  headerProtection: HeaderProtection,
  packet: Uint8Array,
  pnOffset: number,
): UnmaskedHeader | null {
  if (!Number.isInteger(pnOffset) || pnOffset < 1) return null;
  const sampleStart = pnOffset + SAMPLE_OFFSET_FROM_PN;
  if (sampleStart + SAMPLE_LENGTH > packet.length) return null;

  const mask = headerProtection.maskAt(packet, sampleStart);
  const firstByte = packet[0]! ^ (mask[0]! & protectedBitsOfFirstByte(packet[0]!));
  const pnLength = (firstByte & 0x03) + 1; // RFC 9000 §17.2: Packet Number Length, now readable
  const header = Buffer.allocUnsafe(pnOffset + pnLength);
  header.set(packet.subarray(0, pnOffset + pnLength), 0);
  header[0] = firstByte;
  let truncatedPn = 0;
  for (let i = 0; i < pnLength; i++) {
    const byte = header[pnOffset + i]! ^ mask[1 + i]!;
    header[pnOffset + i] = byte;
    truncatedPn = truncatedPn * 256 + byte;
  }
  return { header, pnLength, truncatedPn };
}

export interface UnprotectedPacket extends UnmaskedHeader {
  /** Decrypted payload (the frames). */
  payload: Buffer;
  /** Full packet number that `decodePn` gave and the AEAD accepted. */
  packetNumber: number;
}

/**
 * Removes header protection, decodes the packet number with the caller's RFC 9000 Appendix A
 * decoder, and opens the payload. `packet` ends where this QUIC packet ends (a long header's
 * Length field delimits it within a datagram). Null when the packet is too short to sample or
 * fails authentication; the caller discards it (RFC 9001 §5.5). Never throws on packet content.
 */
export function unprotectPacket(
  protector: PacketProtector,
  packet: Uint8Array,
  pnOffset: number,
  decodePn: (truncated: number, pnLength: number) => number,
): UnprotectedPacket | null {
  const unmasked = removeHeaderProtection(protector, packet, pnOffset);
  if (unmasked === null) return null;
  const packetNumber = decodePn(unmasked.truncatedPn, unmasked.pnLength);
  const payload = protector.openAt(packetNumber, unmasked.header, packet, unmasked.header.length);
  if (payload === null) return null;
  return { ...unmasked, payload, packetNumber };
}
