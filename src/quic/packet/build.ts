/**
 * Writing packet headers for sending (RFC 9000 §17.2, §17.3.1). A long header's Length field is
 * only known once the payload is, so it is reserved as a 2-byte varint and filled in afterwards by
 * `setLongHeaderLength`. Both writers return the packet number's offset for header protection
 * (RFC 9001 §5.4). Reserved bits are written as 0 (§17.2) — protection is applied later.
 */
import { Writer, writeVarint } from '../varint.js';
import { writeTruncatedPacketNumber } from './number.js';
import { FIXED_BIT, HEADER_FORM_LONG, KEY_PHASE_BIT, longTypeBits, MAX_CID_LENGTH, SPIN_BIT, type LongPacketType } from './types.js';

/** The Length placeholder is a 2-byte varint: packet number + payload + AEAD tag ≤ 16383 bytes. */
export const LENGTH_FIELD_SIZE = 2;
const MAX_TWO_BYTE_VARINT = 0x3fff;

export interface LongHeaderFields {
  type: LongPacketType;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial only (§17.2.2): the token from Retry or NEW_TOKEN; empty from a server. */
  token?: Uint8Array;
  /** The full packet number; its low `pnLength` bytes are written (§17.1). */
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  /** false to clear the fixed bit when the peer sent grease_quic_bit (RFC 9287 §3). Default true. */
  fixedBit?: boolean;
}

export interface ShortHeaderFields {
  dcid: Uint8Array;
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  spinBit?: boolean;
  keyPhase?: 0 | 1;
  fixedBit?: boolean;
}

export interface WrittenLongHeader {
  /** Offset of the first byte. */
  start: number;
  /** Offset of the 2-byte Length placeholder, for `setLongHeaderLength`. */
  lengthOffset: number;
  /** Offset of the packet number (the Length value counts from here). */
  pnOffset: number;
}

function checkCid(cid: Uint8Array): void {
  if (cid.length > MAX_CID_LENGTH) throw new RangeError(`connection ID of ${cid.length} bytes (RFC 9000 §17.2)`);
}

/** Writes an Initial, 0-RTT or Handshake header up to and including the packet number. */
export function writeLongHeader(w: Writer, h: LongHeaderFields): WrittenLongHeader {
  checkCid(h.dcid);
  checkCid(h.scid);
  const start = w.offset;
  // RFC 9000 §17.2: Header Form 1, Fixed Bit 1, Long Packet Type, Reserved 00, PN Length − 1.
  const fixed = h.fixedBit === false ? 0 : FIXED_BIT;
  w.u8(HEADER_FORM_LONG | fixed | longTypeBits(h.version, h.type) | (h.pnLength - 1));
  w.u32(h.version);
  w.u8(h.dcid.length).bytes(h.dcid);
  w.u8(h.scid.length).bytes(h.scid);
  if (h.type === 'initial') {
    const token = h.token ?? EMPTY;
    w.varint(token.length).bytes(token);
  } else if (h.token !== undefined && h.token.length > 0) {
    throw new RangeError('only Initial packets carry a token (RFC 9000 §17.2.2)');
  }
  const lengthOffset = w.offset;
  w.zeros(LENGTH_FIELD_SIZE);
  const pnOffset = w.offset;
  writePacketNumber(w, h.packetNumber, h.pnLength);
  return { start, lengthOffset, pnOffset };
}

const EMPTY = new Uint8Array(0);

/**
 * Fills the Length placeholder: `length` = bytes from the packet number to the end of the packet,
 * AEAD tag included (RFC 9000 §17.2).
 */
export function setLongHeaderLength(buf: Uint8Array, lengthOffset: number, length: number): void {
  if (length > MAX_TWO_BYTE_VARINT) throw new RangeError(`Length ${length} does not fit the 2-byte field`);
  writeVarint(buf, lengthOffset, length, LENGTH_FIELD_SIZE);
}

/** Writes a 1-RTT header (RFC 9000 §17.3.1); returns the packet number's offset. */
export function writeShortHeader(w: Writer, h: ShortHeaderFields): { start: number; pnOffset: number } {
  const start = w.offset;
  w.ensure(1 + h.dcid.length + h.pnLength);
  const pnOffset = start + 1 + h.dcid.length;
  w.offset = writeShortHeaderAt(w.buf, start, h.dcid, h.packetNumber, h.pnLength, h.keyPhase ?? 0, h.spinBit === true, h.fixedBit !== false);
  return { start, pnOffset };
}

/**
 * The same header written at `at` of `buf`, which must hold it, without an object per packet (the
 * packet writer calls this for every 1-RTT packet); returns the offset after the packet number,
 * which starts at `at + 1 + dcid.length`.
 */
export function writeShortHeaderAt(
  buf: Buffer, at: number, dcid: Uint8Array, packetNumber: number, pnLength: 1 | 2 | 3 | 4, keyPhase: 0 | 1,
  spinBit = false, fixedBit = true,
): number {
  // RFC 9000 §17.3.1: Header Form 0, Fixed Bit 1, Spin, Reserved 00, Key Phase, PN Length − 1.
  buf[at] = (fixedBit ? FIXED_BIT : 0) | (spinBit ? SPIN_BIT : 0) | (keyPhase === 1 ? KEY_PHASE_BIT : 0) | (pnLength - 1);
  buf.set(dcid, at + 1);
  return writeTruncatedPacketNumber(buf, at + 1 + dcid.length, packetNumber, pnLength);
}

function writePacketNumber(w: Writer, fullPn: number, pnLength: 1 | 2 | 3 | 4): void {
  w.ensure(pnLength);
  w.offset = writeTruncatedPacketNumber(w.buf, w.offset, fullPn, pnLength);
}
