/**
 * QUIC stream IDs (RFC 9000 §2.1). The two low bits of a stream ID give its type:
 *
 *   bit 0x01  initiator: 0 = client, 1 = server
 *   bit 0x02  direction: 0 = bidirectional, 1 = unidirectional
 *
 * Streams of one type are opened in increasing order of ID, so a stream ID is also
 * `4 * index + type`, where `index` counts the streams of that type (RFC 9000 §2.1, §4.6).
 * IDs are JS numbers: the connection never lets an index grow anywhere near 2^53.
 */

export type Role = 'client' | 'server';
export type Direction = 'bidi' | 'uni';

/**
 * Variable-length integers are below 2^62 (RFC 9000 §16), and so are stream IDs and offsets.
 * Compare with `< VARINT_BOUND`: 2^62 - 1 itself is not representable as a JS number.
 */
export const VARINT_BOUND = 2 ** 62;
/** Most streams of one type a peer can allow (RFC 9000 §4.6). */
export const MAX_STREAM_COUNT = 2 ** 60;

/** Type bits of a stream ID, 0..3 (RFC 9000 §2.1, Table 1). */
export function streamType(id: number): number {
  return id % 4;
}

/** RFC 9000 §2.1: the least significant bit says who opened the stream. */
export function initiatorOf(id: number): Role {
  return id % 2 === 0 ? 'client' : 'server';
}

/** RFC 9000 §2.1: the second least significant bit says whether the stream is unidirectional. */
export function directionOf(id: number): Direction {
  return id % 4 >= 2 ? 'uni' : 'bidi';
}

export function isBidirectional(id: number): boolean {
  return directionOf(id) === 'bidi';
}

/** Whether `role` opened stream `id`. */
export function isLocallyInitiated(id: number, role: Role): boolean {
  return initiatorOf(id) === role;
}

/** Position of the stream among the streams of its type: 0 for the first one opened. */
export function streamIndex(id: number): number {
  return Math.floor(id / 4);
}

/** The ID of the `index`-th stream of the given initiator and direction (RFC 9000 §2.1). */
export function makeStreamId(initiator: Role, direction: Direction, index: number): number {
  return index * 4 + (direction === 'uni' ? 2 : 0) + (initiator === 'server' ? 1 : 0);
}

/** The lowest stream ID of a type: 0x00 client bidi, 0x01 server bidi, 0x02 client uni, 0x03 server uni. */
export function firstStreamId(initiator: Role, direction: Direction): number {
  return makeStreamId(initiator, direction, 0);
}

/**
 * Whether `role` may send on stream `id`: both ends of a bidirectional stream send, only the
 * initiator of a unidirectional one does (RFC 9000 §2.1, §3).
 */
export function canSend(id: number, role: Role): boolean {
  return isBidirectional(id) || isLocallyInitiated(id, role);
}

/** Whether `role` may receive on stream `id`: a unidirectional stream only flows to its non-initiator. */
export function canReceive(id: number, role: Role): boolean {
  return isBidirectional(id) || !isLocallyInitiated(id, role);
}

/** A stream ID is a non-negative integer that fits a varint (RFC 9000 §2.1, §16). */
export function isValidStreamId(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 0 && id < VARINT_BOUND;
}
