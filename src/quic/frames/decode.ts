/**
 * Decoding QUIC frames from a decrypted packet payload (RFC 9000 §12.4, §19; RFC 9221 §4), one at
 * a time. Every malformed frame is a TransportError naming the frame type: FRAME_ENCODING_ERROR for
 * a frame that is truncated or breaks a §19 field rule, PROTOCOL_VIOLATION where the RFC says so.
 * STREAM, CRYPTO, DATAGRAM and token data are views into the payload.
 *
 * Which packet types may carry which frames (§12.4 Table 3) is checked by permissions.ts.
 */
import { DecodeError } from '../../core/errors.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { MAX_VARINT, Reader, readVarintBigInt, varintLength } from '../varint.js';
import { FrameType, STREAM_BIT_FIN, STREAM_BIT_LEN, STREAM_BIT_OFF, type AckRange, type Frame } from './types.js';

const { FRAME_ENCODING_ERROR, PROTOCOL_VIOLATION } = TransportErrorCode;

export interface FrameDecodeOptions {
  /**
   * The max_datagram_frame_size we advertised (RFC 9221 §3); 0 (the default) means we did not
   * offer DATAGRAM, so receiving one is a PROTOCOL_VIOLATION.
   */
  maxDatagramFrameSize?: number;
}

/** Largest value of MAX_STREAMS / STREAMS_BLOCKED: stream IDs stop at 2^62-1 (§19.11, §19.14). */
const MAX_STREAM_COUNT = 2 ** 60;
/** Length of a stateless reset token (§19.15) and of PATH_CHALLENGE data (§19.17). */
const RESET_TOKEN_LENGTH = 16;
const PATH_DATA_LENGTH = 8;
const MAX_CID_LENGTH = 20;

/**
 * Decodes the frame at the reader's cursor and advances past it.
 * Throws TransportError (never DecodeError) on malformed input.
 */
export function readFrame(r: Reader, options: FrameDecodeOptions = {}): Frame {
  const start = r.offset;
  const type = readFrameType(r);
  try {
    return readFrameBody(r, type, start, options);
  } catch (err) {
    if (err instanceof DecodeError) {
      // RFC 9000 §20.1: FRAME_ENCODING_ERROR covers frames that are badly formatted, e.g. ones
      // claiming more bytes than the rest of the packet holds.
      throw new TransportError(FRAME_ENCODING_ERROR, `truncated frame: ${err.message}`, 'RFC 9000 §20.1', type);
    }
    throw err;
  }
}

/** All frames of a packet payload. */
export function parseFrames(payload: Uint8Array, options: FrameDecodeOptions = {}): Frame[] {
  // RFC 9000 §12.4: a packet containing no frames is a PROTOCOL_VIOLATION.
  if (payload.length === 0) {
    throw new TransportError(PROTOCOL_VIOLATION, 'packet without frames', 'RFC 9000 §12.4');
  }
  const r = new Reader(payload);
  const frames: Frame[] = [];
  while (r.remaining > 0) frames.push(readFrame(r, options));
  return frames;
}

/** The frames of a payload one at a time, for a receiver that stops at the first error. */
export function* iterateFrames(payload: Uint8Array, options: FrameDecodeOptions = {}): Generator<Frame, void, void> {
  if (payload.length === 0) {
    throw new TransportError(PROTOCOL_VIOLATION, 'packet without frames', 'RFC 9000 §12.4');
  }
  const r = new Reader(payload);
  while (r.remaining > 0) yield readFrame(r, options);
}

function readFrameType(r: Reader): number {
  if (r.remaining === 0) throw new TransportError(FRAME_ENCODING_ERROR, 'no frame left to read', 'RFC 9000 §12.4');
  const first = r.buf[r.offset]!;
  if (first < 0x40) {
    r.offset++;
    return first;
  }
  let type: number;
  const encodedLength = r.peekVarintLength();
  try {
    type = r.varint();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    throw new TransportError(FRAME_ENCODING_ERROR, 'truncated frame type', 'RFC 9000 §20.1');
  }
  // RFC 9000 §12.4: a frame type MUST use the shortest encoding; a longer one MAY be treated as a
  // PROTOCOL_VIOLATION (it is here).
  if (type <= Number.MAX_SAFE_INTEGER && encodedLength > varintLength(type)) {
    throw new TransportError(PROTOCOL_VIOLATION, `frame type 0x${type.toString(16)} not minimally encoded`, 'RFC 9000 §12.4', type);
  }
  return type;
}

function encodingError(type: number, message: string, section: string): TransportError {
  return new TransportError(FRAME_ENCODING_ERROR, message, section, type);
}

function readFrameBody(r: Reader, type: number, start: number, options: FrameDecodeOptions): Frame {
  switch (type) {
    case FrameType.PADDING:
      return { type: 'padding', length: 1 + skipPadding(r) };
    case FrameType.PING:
      return { type: 'ping' };
    case FrameType.ACK:
    case FrameType.ACK_ECN:
      return readAck(r, type);
    case FrameType.RESET_STREAM:
      return { type: 'reset_stream', streamId: r.varint(), errorCode: r.varint(), finalSize: r.varint() };
    case FrameType.STOP_SENDING:
      return { type: 'stop_sending', streamId: r.varint(), errorCode: r.varint() };
    case FrameType.CRYPTO: {
      const offsetAt = r.offset;
      const offset = r.varint();
      const data = r.bytes(r.varint());
      // RFC 9000 §19.6: offset + length must not exceed 2^62-1.
      checkEnd(r, offsetAt, offset, data.length, type, 'RFC 9000 §19.6');
      return { type: 'crypto', offset, data };
    }
    case FrameType.NEW_TOKEN: {
      const token = r.bytes(r.varint());
      // RFC 9000 §19.7: an empty token is a FRAME_ENCODING_ERROR.
      if (token.length === 0) throw encodingError(type, 'empty NEW_TOKEN', 'RFC 9000 §19.7');
      return { type: 'new_token', token };
    }
    case 0x08: case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x0e: case 0x0f:
      return readStream(r, type);
    case FrameType.MAX_DATA:
      return { type: 'max_data', maximum: r.varint() };
    case FrameType.MAX_STREAM_DATA:
      return { type: 'max_stream_data', streamId: r.varint(), maximum: r.varint() };
    case FrameType.MAX_STREAMS_BIDI:
    case FrameType.MAX_STREAMS_UNI: {
      const maximum = r.varint();
      // RFC 9000 §19.11: a count above 2^60 is a FRAME_ENCODING_ERROR.
      if (maximum > MAX_STREAM_COUNT) throw encodingError(type, 'MAX_STREAMS above 2^60', 'RFC 9000 §19.11');
      return { type: 'max_streams', bidi: type === FrameType.MAX_STREAMS_BIDI, maximum };
    }
    case FrameType.DATA_BLOCKED:
      return { type: 'data_blocked', limit: r.varint() };
    case FrameType.STREAM_DATA_BLOCKED:
      return { type: 'stream_data_blocked', streamId: r.varint(), limit: r.varint() };
    case FrameType.STREAMS_BLOCKED_BIDI:
    case FrameType.STREAMS_BLOCKED_UNI: {
      const limit = r.varint();
      // RFC 9000 §19.14: above 2^60 → STREAM_LIMIT_ERROR or FRAME_ENCODING_ERROR (we use the latter).
      if (limit > MAX_STREAM_COUNT) throw encodingError(type, 'STREAMS_BLOCKED above 2^60', 'RFC 9000 §19.14');
      return { type: 'streams_blocked', bidi: type === FrameType.STREAMS_BLOCKED_BIDI, limit };
    }
    case FrameType.NEW_CONNECTION_ID:
      return readNewConnectionId(r, type);
    case FrameType.RETIRE_CONNECTION_ID:
      return { type: 'retire_connection_id', sequence: r.varint() };
    case FrameType.PATH_CHALLENGE:
      return { type: 'path_challenge', data: r.bytes(PATH_DATA_LENGTH) };
    case FrameType.PATH_RESPONSE:
      return { type: 'path_response', data: r.bytes(PATH_DATA_LENGTH) };
    case FrameType.CONNECTION_CLOSE: {
      const errorCode = r.varint();
      const frameType = r.varint();
      return { type: 'connection_close', errorCode, frameType, reason: readReason(r) };
    }
    case FrameType.CONNECTION_CLOSE_APP: {
      const errorCode = r.varint();
      return { type: 'application_close', errorCode, reason: readReason(r) };
    }
    case FrameType.HANDSHAKE_DONE:
      return { type: 'handshake_done' };
    case FrameType.DATAGRAM:
    case FrameType.DATAGRAM_WITH_LENGTH: {
      const hasLength = type === FrameType.DATAGRAM_WITH_LENGTH;
      const data = hasLength ? r.bytes(r.varint()) : r.rest();
      // RFC 9221 §3: DATAGRAM when we did not advertise support, or larger than we advertised
      // (type, length and payload counted), is a PROTOCOL_VIOLATION.
      const max = options.maxDatagramFrameSize ?? 0;
      if (max === 0) throw new TransportError(PROTOCOL_VIOLATION, 'DATAGRAM not negotiated', 'RFC 9221 §3', type);
      if (r.offset - start > max) {
        throw new TransportError(PROTOCOL_VIOLATION, `DATAGRAM frame larger than ${max} bytes`, 'RFC 9221 §3', type);
      }
      return { type: 'datagram', data, hasLength };
    }
    default:
      // RFC 9000 §12.4: a frame of unknown type is a FRAME_ENCODING_ERROR.
      throw encodingError(type, `unknown frame type 0x${type.toString(16)}`, 'RFC 9000 §12.4');
  }
}

/** Skips the PADDING bytes after the first; returns how many. */
function skipPadding(r: Reader): number {
  const from = r.offset;
  let at = from;
  while (at < r.end) {
    const run = zeroPrefixLength(r.buf, at, Math.min(r.end, at + ZEROS.length));
    at += run;
    if (run < ZEROS.length) break;
  }
  r.offset = at;
  return at - from;
}

/**
 * Length of the run of zero bytes at buf[from, end), end − from ≤ ZEROS.length. Padding usually
 * fills the rest of the packet, so that is tried first in one native compare; otherwise a binary
 * search over "the first n bytes are zero" keeps the scan in native code.
 */
function zeroPrefixLength(buf: Buffer, from: number, end: number): number {
  const isZero = (n: number) => buf.compare(ZEROS, 0, n, from, from + n) === 0;
  let known = 0; // the first `known` bytes are zero
  let limit = end - from; // the first `limit` bytes are not all zero (unless known === limit)
  if (isZero(limit)) return limit;
  while (limit - known > 1) {
    const mid = (known + limit) >>> 1;
    if (isZero(mid)) known = mid;
    else limit = mid;
  }
  return known;
}

/** Zero bytes to compare padding against (as large as any UDP payload). */
const ZEROS = Buffer.alloc(65536);

function readAck(r: Reader, type: number): Frame {
  const largestAcknowledged = r.varint();
  const ackDelay = r.varint();
  const rangeCount = r.varint();
  const firstRange = r.varint();
  // RFC 9000 §19.3.1: smallest = largest − First ACK Range; a negative result is FRAME_ENCODING_ERROR.
  if (firstRange > largestAcknowledged) throw encodingError(type, 'First ACK Range beyond packet 0', 'RFC 9000 §19.3.1');
  let smallest = largestAcknowledged - firstRange;
  const ranges: AckRange[] = [[smallest, largestAcknowledged]];
  // Each range takes at least 2 bytes, so truncation stops a hostile count long before memory does.
  for (let i = 0; i < rangeCount; i++) {
    const gap = r.varint();
    const length = r.varint();
    // RFC 9000 §19.3.1: largest = previous smallest − Gap − 2; smallest = largest − ACK Range Length.
    if (gap + 2 > smallest) throw encodingError(type, 'ACK Gap below packet 0', 'RFC 9000 §19.3.1');
    const largest = smallest - gap - 2;
    if (length > largest) throw encodingError(type, 'ACK Range below packet 0', 'RFC 9000 §19.3.1');
    smallest = largest - length;
    ranges.push([smallest, largest]);
  }
  if (type === FrameType.ACK_ECN) {
    // RFC 9000 §19.3.2
    const ecn = { ect0: r.varint(), ect1: r.varint(), ce: r.varint() };
    return { type: 'ack', ranges, ackDelay, ecn };
  }
  return { type: 'ack', ranges, ackDelay };
}

function readStream(r: Reader, type: number): Frame {
  const streamId = r.varint();
  const offsetAt = r.offset;
  const offset = type & STREAM_BIT_OFF ? r.varint() : 0;
  const hasLength = (type & STREAM_BIT_LEN) !== 0;
  // RFC 9000 §19.8: without LEN the data runs to the end of the packet.
  const data = hasLength ? r.bytes(r.varint()) : r.rest();
  // RFC 9000 §19.8: offset + length must not exceed 2^62-1 → FRAME_ENCODING_ERROR (or FLOW_CONTROL_ERROR).
  if (type & STREAM_BIT_OFF) checkEnd(r, offsetAt, offset, data.length, type, 'RFC 9000 §19.8');
  return { type: 'stream', streamId, offset, data, fin: (type & STREAM_BIT_FIN) !== 0, hasLength };
}

/** offset + length ≤ 2^62-1, decided exactly even when the offset is beyond 2^53. */
function checkEnd(r: Reader, offsetAt: number, offset: number, length: number, type: number, section: string): void {
  if (offset + length <= Number.MAX_SAFE_INTEGER) return;
  const exact = readVarintBigInt(r.buf, offsetAt).value;
  if (exact + BigInt(length) > MAX_VARINT) {
    throw encodingError(type, 'data would end beyond 2^62-1', section);
  }
}

function readNewConnectionId(r: Reader, type: number): Frame {
  const sequenceAt = r.offset;
  const sequence = r.varint();
  const retireAt = r.offset;
  const retirePriorTo = r.varint();
  // RFC 9000 §19.15: Retire Prior To greater than Sequence Number is a FRAME_ENCODING_ERROR.
  if (retirePriorTo > sequence || (retirePriorTo === sequence && sequence > Number.MAX_SAFE_INTEGER
      && readVarintBigInt(r.buf, retireAt).value > readVarintBigInt(r.buf, sequenceAt).value)) {
    throw encodingError(type, 'Retire Prior To exceeds Sequence Number', 'RFC 9000 §19.15');
  }
  const length = r.u8();
  // RFC 9000 §19.15: a length below 1 or above 20 is a FRAME_ENCODING_ERROR.
  if (length < 1 || length > MAX_CID_LENGTH) {
    throw encodingError(type, `connection ID length ${length}`, 'RFC 9000 §19.15');
  }
  const connectionId = r.bytes(length);
  const statelessResetToken = r.bytes(RESET_TOKEN_LENGTH);
  return { type: 'new_connection_id', sequence, retirePriorTo, connectionId, statelessResetToken };
}

function readReason(r: Reader): string {
  const length = r.varint();
  const start = r.offset;
  r.skip(length);
  // RFC 9000 §19.19: the reason phrase SHOULD be UTF-8; it is diagnostic, so decode leniently.
  return r.buf.toString('utf8', start, start + length);
}
