/**
 * Parsing the unprotected part of a QUIC packet header (RFC 9000 §17): the form and fixed bits,
 * version, connection IDs, an Initial's token and a long header's Length — everything up to the
 * packet number, whose offset is returned so that header protection (RFC 9001 §5.4) can be removed.
 * Also Version Negotiation (§17.2.1), Retry (§17.2.5) and long headers of versions we do not speak
 * (RFC 8999 §5.1 invariants), which the endpoint answers with Version Negotiation (§6.1).
 *
 * A header that cannot be parsed throws DecodeError: the rule for malformed packets is to drop them
 * (e.g. §17.2 "MUST drop"), not to close the connection. `checkReservedBits` is the one
 * connection error here, applied after protection is removed.
 */
import { DecodeError } from '../../core/errors.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { Reader } from '../varint.js';
import { isSupportedVersion, VERSION_NEGOTIATION } from '../version.js';
import {
  FIXED_BIT,
  HEADER_FORM_LONG,
  LONG_RESERVED_BITS,
  longPacketType,
  MAX_CID_LENGTH,
  SHORT_RESERVED_BITS,
  SPIN_BIT,
  type LongPacketType,
} from './types.js';

/** Where a packet lies in its datagram: [start, end). */
interface Span {
  start: number;
  end: number;
}

/** Initial, 0-RTT or Handshake header (RFC 9000 §17.2.2–§17.2.4). */
export interface LongHeader extends Span {
  form: 'long';
  type: LongPacketType;
  version: number;
  /** First byte as received: the reserved and packet-number-length bits are still protected. */
  firstByte: number;
  dcid: Buffer;
  scid: Buffer;
  /** Initial only (§17.2.2); empty otherwise. */
  token: Buffer;
  /** The Length field: bytes of packet number plus payload (§17.2). */
  length: number;
  /** Offset of the packet number in the datagram. */
  pnOffset: number;
}

/** 1-RTT header (RFC 9000 §17.3.1). The packet extends to the end of the datagram. */
export interface ShortHeader extends Span {
  form: 'short';
  type: '1rtt';
  firstByte: number;
  /** Latency spin bit (§17.4), not covered by header protection. */
  spinBit: boolean;
  dcid: Buffer;
  pnOffset: number;
}

/** Retry (RFC 9000 §17.2.5). The integrity tag is checked by the crypto layer (RFC 9001 §5.8). */
export interface RetryPacket extends Span {
  form: 'long';
  type: 'retry';
  version: number;
  firstByte: number;
  dcid: Buffer;
  scid: Buffer;
  token: Buffer;
  integrityTag: Buffer;
}

/** Version Negotiation (RFC 9000 §17.2.1). */
export interface VersionNegotiationPacket extends Span {
  form: 'long';
  type: 'version_negotiation';
  dcid: Buffer;
  scid: Buffer;
  versions: number[];
}

/** A long header of a version we do not support: only the invariant fields (RFC 8999 §5.1). */
export interface UnsupportedVersionHeader extends Span {
  form: 'long';
  type: 'unsupported_version';
  version: number;
  dcid: Buffer;
  scid: Buffer;
}

export type PacketHeader = LongHeader | ShortHeader | RetryPacket | VersionNegotiationPacket | UnsupportedVersionHeader;

export interface HeaderParseOptions {
  /** Length of the connection IDs this endpoint issued: short headers carry no DCID length (§17.3). */
  shortDcidLength: number;
  /** We advertised grease_quic_bit (RFC 9287 §3): accept packets whose fixed bit is 0. */
  allowFixedBitZero?: boolean;
  /** Our role; a client drops a server's Initial that carries a token (§17.2.2). */
  receiver?: 'client' | 'server';
}

/** Length of a Retry Integrity Tag (RFC 9001 §5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;

/** Parses the packet header starting at `offset` of `datagram`. Throws DecodeError: drop the packet. */
export function parsePacketHeader(datagram: Uint8Array, offset: number, options: HeaderParseOptions): PacketHeader {
  const r = new Reader(datagram, offset);
  const firstByte = r.u8();
  if ((firstByte & HEADER_FORM_LONG) === 0) return parseShortHeader(r, firstByte, offset, options);

  const version = r.u32();
  if (version === VERSION_NEGOTIATION) return parseVersionNegotiation(r, offset);

  if (!isSupportedVersion(version)) {
    // RFC 8999 §5.1: connection IDs of other versions may be up to 255 bytes.
    const dcid = r.bytes(r.u8());
    const scid = r.bytes(r.u8());
    return { form: 'long', type: 'unsupported_version', version, dcid, scid, start: offset, end: r.end };
  }

  checkFixedBit(firstByte, options);
  const dcid = readConnectionId(r);
  const scid = readConnectionId(r);
  const type = longPacketType(version, firstByte);
  if (type === 'retry') return parseRetryRest(r, firstByte, version, dcid, scid, offset);

  let token: Buffer = EMPTY;
  if (type === 'initial') {
    token = r.bytes(readLength(r, 'Token Length'));
    // RFC 9000 §17.2.2: a server's Initial has an empty token; a client discards one that does not.
    if (token.length > 0 && options.receiver === 'client') {
      throw new DecodeError('server Initial with a non-empty token (RFC 9000 §17.2.2)');
    }
  }
  const length = readLength(r, 'Length');
  const pnOffset = r.offset;
  // RFC 9000 §17.2: Length covers the packet number and payload; a packet that claims more bytes
  // than the datagram holds is malformed (§12.2: each coalesced packet is complete).
  if (length > r.end - pnOffset) throw new DecodeError(`Length ${length} runs past the datagram (RFC 9000 §17.2)`);
  return {
    form: 'long', type, version, firstByte, dcid, scid, token, length, pnOffset,
    start: offset, end: pnOffset + length,
  };
}

const EMPTY = Buffer.alloc(0);

function checkFixedBit(firstByte: number, options: HeaderParseOptions): void {
  // RFC 9000 §17.2 / §17.3.1: packets with a zero Fixed Bit are not valid and MUST be discarded,
  // unless the peer may grease it (RFC 9287 §3).
  if ((firstByte & FIXED_BIT) === 0 && !options.allowFixedBitZero) {
    throw new DecodeError('fixed bit is 0 (RFC 9000 §17.2)');
  }
}

function readConnectionId(r: Reader): Buffer {
  const length = r.u8();
  // RFC 9000 §17.2: in QUIC version 1 a connection ID is at most 20 bytes; longer → drop the packet.
  if (length > MAX_CID_LENGTH) throw new DecodeError(`connection ID of ${length} bytes (RFC 9000 §17.2)`);
  return r.bytes(length);
}

function readLength(r: Reader, field: string): number {
  const value = r.varint();
  if (value > r.remaining) throw new DecodeError(`${field} ${value} runs past the datagram (RFC 9000 §17.2)`);
  return value;
}

function parseShortHeader(r: Reader, firstByte: number, start: number, options: HeaderParseOptions): ShortHeader {
  checkFixedBit(firstByte, options);
  const dcid = r.bytes(options.shortDcidLength);
  // RFC 9000 §17.3.1: a packet number of at least one byte follows.
  if (r.remaining < 1) throw new DecodeError('short header without a packet number (RFC 9000 §17.3.1)');
  return {
    form: 'short', type: '1rtt', firstByte, spinBit: (firstByte & SPIN_BIT) !== 0, dcid,
    pnOffset: r.offset, start, end: r.end,
  };
}

function parseVersionNegotiation(r: Reader, start: number): VersionNegotiationPacket {
  // RFC 9000 §17.2.1 (and RFC 8999 §6): connection IDs up to 255 bytes, then 32-bit versions.
  const dcid = r.bytes(r.u8());
  const scid = r.bytes(r.u8());
  if (r.remaining % 4 !== 0) throw new DecodeError('Version Negotiation list is not a whole number of versions');
  const versions = new Array<number>(r.remaining / 4);
  for (let i = 0; i < versions.length; i++) versions[i] = r.u32();
  return { form: 'long', type: 'version_negotiation', dcid, scid, versions, start, end: r.end };
}

function parseRetryRest(r: Reader, firstByte: number, version: number, dcid: Buffer, scid: Buffer, start: number): RetryPacket {
  // RFC 9000 §17.2.5: the token runs to the 16-byte integrity tag at the end of the datagram.
  const tokenLength = r.remaining - RETRY_INTEGRITY_TAG_LENGTH;
  if (tokenLength < 0) throw new DecodeError('Retry shorter than its integrity tag (RFC 9000 §17.2.5)');
  // RFC 9000 §17.2.5.2: a client MUST discard a Retry packet with a zero-length Retry Token.
  if (tokenLength === 0) throw new DecodeError('Retry with an empty token (RFC 9000 §17.2.5.2)');
  const token = r.bytes(tokenLength);
  const integrityTag = r.bytes(RETRY_INTEGRITY_TAG_LENGTH);
  return { form: 'long', type: 'retry', version, firstByte, dcid, scid, token, integrityTag, start, end: r.end };
}

/**
 * RFC 9000 §17.2 / §17.3.1: once header protection is removed, the reserved bits must be 0; a
 * packet with either bit set (and which decrypted) is a PROTOCOL_VIOLATION.
 */
export function checkReservedBits(unprotectedFirstByte: number): void {
  const isLong = (unprotectedFirstByte & HEADER_FORM_LONG) !== 0;
  const mask = isLong ? LONG_RESERVED_BITS : SHORT_RESERVED_BITS;
  if ((unprotectedFirstByte & mask) !== 0) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      'reserved header bits are not zero',
      isLong ? 'RFC 9000 §17.2' : 'RFC 9000 §17.3.1',
    );
  }
}
