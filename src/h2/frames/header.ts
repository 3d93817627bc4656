/**
 * The 9-octet frame header (RFC 9113 §4.1), frame size limits (§4.2) and the client connection
 * preface (§3.4).
 *
 *   HTTP Frame {
 *     Length (24), Type (8), Flags (8),
 *     Reserved (1), Stream Identifier (31),
 *     Frame Payload (..),
 *   }
 */

export const FRAME_HEADER_LENGTH = 9;

/** RFC 9113 §3.4: the client's first 24 octets, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". */
export const CONNECTION_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** RFC 9113 §4.2, §6.5.2: SETTINGS_MAX_FRAME_SIZE starts at 2^14 and may not exceed 2^24-1. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_FRAME_SIZE_LIMIT = 16_777_215;

/** Largest stream identifier: 31 bits (RFC 9113 §5.1.1). */
export const MAX_STREAM_ID = 0x7fff_ffff;

export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  /** The reserved bit is already cleared (RFC 9113 §4.1: "MUST be ignored when receiving"). */
  streamId: number;
}

export function readFrameHeader(bytes: Buffer, offset = 0): FrameHeader {
  return {
    length: bytes.readUIntBE(offset, 3),
    type: bytes[offset + 3]!,
    flags: bytes[offset + 4]!,
    streamId: bytes.readUInt32BE(offset + 5) & MAX_STREAM_ID,
  };
}

/** Writes a header at `offset`; the reserved bit is sent unset (RFC 9113 §4.1). */
export function writeFrameHeader(
  target: Buffer,
  offset: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME_SIZE_LIMIT) {
    throw new RangeError(`frame payload length ${length} outside 0..2^24-1 (RFC 9113 §4.1)`);
  }
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > MAX_STREAM_ID) {
    throw new RangeError(`stream id ${streamId} outside 0..2^31-1 (RFC 9113 §5.1.1)`);
  }
  target.writeUIntBE(length, offset, 3);
  target[offset + 3] = type;
  target[offset + 4] = flags;
  target.writeUInt32BE(streamId, offset + 5);
}
