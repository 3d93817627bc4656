/**
 * The server's stateless answers to a client Initial that it will not turn into a connection: a
 * CONNECTION_CLOSE in an Initial packet of its own, without creating any connection state — so,
 * as RFC 9000 §8.1.2 notes, it does not enter the closing period either.
 *  - INVALID_TOKEN (RFC 9000 §8.1.2): the Initial carries an invalid Retry token. Such a client has
 *    already used up its one Retry, so another Retry would be ignored and it would only time out.
 *  - CONNECTION_REFUSED (RFC 9000 §5.2.2): the server refuses the connection (past its limits, or
 *    shutting down) and SHOULD say so rather than leave the client to time out.
 */
import { initialProtectors } from '../crypto/protector.js';
import { protectPacket, unprotectPacket } from '../crypto/packet-protection.js';
import { TransportErrorCode } from '../errors.js';
import { encodeFrame } from '../frames/encode.js';
import { setLongHeaderLength, writeLongHeader } from '../packet/build.js';
import type { LongHeader } from '../packet/header.js';
import { Writer } from '../varint.js';

/** The packet number of the only packet this exchange ever has (RFC 9000 §12.3: each space starts at 0). */
const FIRST_PACKET_NUMBER = 0;
const PN_LENGTH = 1;
const TAG_LENGTH = 16;
/**
 * RFC 9001 §5.4.2: the 16-byte sample starts 4 bytes after the packet number starts, so the
 * payload must fill the 4 − PN_LENGTH bytes before the tag does the rest.
 */
const MIN_PAYLOAD_FOR_SAMPLE = 4 - PN_LENGTH;

/**
 * True when the client Initial `header` (parsed from `datagram`) is "otherwise valid" (§8.1.2):
 * it opens with the Initial keys derived from its Destination Connection ID (RFC 9001 §5.2).
 * Anyone can make such a packet, but a sender that cannot even do that gets nothing back.
 */
export function initialOpens(datagram: Buffer, header: LongHeader): boolean {
  const keys = initialProtectors(header.version, header.dcid);
  const packet = datagram.subarray(header.start, header.end);
  // The first Initial of a connection: its packet number is taken as sent (RFC 9000 Appendix A
  // with no packet received yet in the space).
  return unprotectPacket(keys.client, packet, header.pnOffset - header.start, (truncated) => truncated) !== null;
}

/**
 * A protected Initial packet from the server with CONNECTION_CLOSE (type 0x1c, RFC 9000 §19.19)
 * carrying `errorCode`, addressed to the client's Source Connection ID and protected with the
 * Initial keys of the client's Destination Connection ID (RFC 9001 §5.2). `serverScid` is any
 * fresh connection ID: no connection will ever use it.
 */
export function buildInitialClose(header: LongHeader, serverScid: Uint8Array, errorCode: number, reason: string): Buffer {
  const w = new Writer(128);
  const written = writeLongHeader(w, {
    type: 'initial',
    version: header.version,
    dcid: header.scid,
    scid: serverScid,
    packetNumber: FIRST_PACKET_NUMBER,
    pnLength: PN_LENGTH,
  });
  const payloadStart = w.offset;
  encodeFrame({ type: 'connection_close', errorCode, frameType: 0, reason }, w);
  // PADDING (0x00) frames until header protection has its sample (RFC 9001 §5.4.2).
  const shortBy = MIN_PAYLOAD_FOR_SAMPLE - (w.offset - payloadStart);
  if (shortBy > 0) w.zeros(shortBy);
  const plain = w.buf.subarray(0, w.offset);
  setLongHeaderLength(plain, written.lengthOffset, plain.length - written.pnOffset + TAG_LENGTH);
  const keys = initialProtectors(header.version, header.dcid);
  return protectPacket(keys.server, plain, written.pnOffset, PN_LENGTH, FIRST_PACKET_NUMBER);
}

/** RFC 9000 §8.1.2: the answer to an otherwise valid Initial with an invalid Retry token. */
export const buildInvalidTokenClose = (header: LongHeader, serverScid: Uint8Array): Buffer =>
  buildInitialClose(header, serverScid, TransportErrorCode.INVALID_TOKEN, 'invalid token');

/** RFC 9000 §5.2.2: the answer to an Initial whose connection the server refuses. */
export const buildRefusedClose = (header: LongHeader, serverScid: Uint8Array): Buffer =>
  buildInitialClose(header, serverScid, TransportErrorCode.CONNECTION_REFUSED, 'connection refused');
