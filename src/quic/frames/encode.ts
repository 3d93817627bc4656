/**
 * Encoding QUIC frames (RFC 9000 §19, RFC 9221 §4): `frameLength` says how many bytes a frame
 * takes — so a packet builder can fit frames into the space left — and `encodeFrame` writes it.
 * The encoder refuses frames the RFC forbids sending (RangeError: a bug in the caller).
 */
import { Writer, varintLength, writeVarint } from '../varint.js';
import { FrameType, frameTypeOf, STREAM_BIT_FIN, STREAM_BIT_LEN, STREAM_BIT_OFF, type AckFrame, type Frame, type StreamFrame } from './types.js';

const MAX_STREAM_COUNT = 2 ** 60;

/** Bytes `frame` occupies on the wire. */
export function frameLength(frame: Frame): number {
  const typeLength = 1; // every type defined so far fits one byte (§12.4)
  switch (frame.type) {
    case 'padding':
      return frame.length;
    case 'ping':
    case 'handshake_done':
      return typeLength;
    case 'ack':
      return typeLength + ackBodyLength(frame);
    case 'reset_stream':
      return typeLength + varintLength(frame.streamId) + varintLength(frame.errorCode) + varintLength(frame.finalSize);
    case 'stop_sending':
      return typeLength + varintLength(frame.streamId) + varintLength(frame.errorCode);
    case 'crypto':
      return typeLength + varintLength(frame.offset) + varintLength(frame.data.length) + frame.data.length;
    case 'new_token':
      return typeLength + varintLength(frame.token.length) + frame.token.length;
    case 'stream':
      if (frame.hasLength !== false) return streamFrameLength(frame.streamId, frame.offset, frame.data.length);
      return typeLength + varintLength(frame.streamId) + (frame.offset !== 0 ? varintLength(frame.offset) : 0) + frame.data.length;
    case 'max_data':
      return typeLength + varintLength(frame.maximum);
    case 'max_stream_data':
      return typeLength + varintLength(frame.streamId) + varintLength(frame.maximum);
    case 'max_streams':
      return typeLength + varintLength(frame.maximum);
    case 'data_blocked':
      return typeLength + varintLength(frame.limit);
    case 'stream_data_blocked':
      return typeLength + varintLength(frame.streamId) + varintLength(frame.limit);
    case 'streams_blocked':
      return typeLength + varintLength(frame.limit);
    case 'new_connection_id':
      return typeLength + varintLength(frame.sequence) + varintLength(frame.retirePriorTo) + 1
        + frame.connectionId.length + frame.statelessResetToken.length;
    case 'retire_connection_id':
      return typeLength + varintLength(frame.sequence);
    case 'path_challenge':
    case 'path_response':
      return typeLength + frame.data.length;
    case 'connection_close': {
      const reason = Buffer.byteLength(frame.reason, 'utf8');
      return typeLength + varintLength(frame.errorCode) + varintLength(frame.frameType) + varintLength(reason) + reason;
    }
    case 'application_close': {
      const reason = Buffer.byteLength(frame.reason, 'utf8');
      return typeLength + varintLength(frame.errorCode) + varintLength(reason) + reason;
    }
    case 'datagram':
      return typeLength + (frame.hasLength !== false ? varintLength(frame.data.length) : 0) + frame.data.length;
  }
}

/**
 * Bytes of a STREAM frame with a Length field (RFC 9000 §19.8): type, stream ID, offset (absent
 * at 0), length, data. Packet builders call it directly instead of the generic frameLength.
 */
export function streamFrameLength(streamId: number, offset: number, dataLength: number): number {
  return 1 + varintLength(streamId) + (offset !== 0 ? varintLength(offset) : 0) + varintLength(dataLength) + dataLength;
}

/**
 * Most data bytes a STREAM frame for `streamId` at `offset` can carry in `space` bytes, or -1 if
 * not even its header fits. Without a Length field (the frame ends the packet) every byte after the
 * header is data; with one, the Length varint grows with the data it counts.
 */
export function streamDataCapacity(space: number, streamId: number, offset: number, hasLength = true): number {
  const header = 1 + varintLength(streamId) + (offset !== 0 ? varintLength(offset) : 0);
  return dataCapacity(space - header, hasLength);
}

/** Most data bytes a CRYPTO frame at `offset` can carry in `space` bytes, or -1 if none fit. */
export function cryptoDataCapacity(space: number, offset: number): number {
  return dataCapacity(space - 1 - varintLength(offset), true);
}

/** Largest value a varint of 1, 2, 4 and 8 bytes holds (RFC 9000 §16). */
const VARINT_FIELD_MAX = [[1, 63], [2, 16_383], [4, 1_073_741_823], [8, Number.MAX_SAFE_INTEGER]] as const;

/**
 * Largest n with n + (length field for n) ≤ available: for each field length, as much as both the
 * room and the field allow. (Taking the first length whose field holds available - length missed
 * n = 16,383 with 16,386 bytes available: 16,384 needs 4 bytes, but 16,383 fits with 2.)
 */
function dataCapacity(available: number, hasLength: boolean): number {
  if (!hasLength) return available >= 0 ? available : -1;
  let best = -1;
  for (const [fieldLength, max] of VARINT_FIELD_MAX) best = Math.max(best, Math.min(available - fieldLength, max));
  return best;
}

/**
 * Writes a STREAM frame at the writer's cursor (RFC 9000 §19.8): the same bytes as encodeFrame,
 * with the type, stream ID, offset and Length written straight into the buffer after one bounds
 * check, and the data copied once. Every packet of a bulk transfer carries one.
 */
export function encodeStreamFrame(frame: StreamFrame, w: Writer): void {
  if (frame.hasLength === false) {
    encodeFrame(frame, w);
    return;
  }
  const { streamId, offset, data } = frame;
  w.ensure(streamFrameLength(streamId, offset, data.length));
  const buf = w.buf;
  let at = w.offset;
  // RFC 9000 §19.8: 0b00001OLF — OFF when the offset is not 0, LEN always here, FIN at the end.
  buf[at++] = FrameType.STREAM | (offset !== 0 ? STREAM_BIT_OFF : 0) | STREAM_BIT_LEN | (frame.fin ? STREAM_BIT_FIN : 0);
  at = writeVarint(buf, at, streamId);
  if (offset !== 0) at = writeVarint(buf, at, offset);
  at = writeVarint(buf, at, data.length);
  buf.set(data, at);
  w.offset = at + data.length;
}

/** Writes `frame` at the writer's cursor. */
export function encodeFrame(frame: Frame, w: Writer): void {
  if (frame.type === 'padding') {
    if (frame.length < 1) throw new RangeError('PADDING length must be at least 1');
    w.zeros(frame.length);
    return;
  }
  w.u8(frameTypeOf(frame));
  switch (frame.type) {
    case 'ping':
    case 'handshake_done':
      return;
    case 'ack':
      writeAckBody(frame, w);
      return;
    case 'reset_stream':
      w.varint(frame.streamId).varint(frame.errorCode).varint(frame.finalSize);
      return;
    case 'stop_sending':
      w.varint(frame.streamId).varint(frame.errorCode);
      return;
    case 'crypto':
      w.varint(frame.offset).varint(frame.data.length).bytes(frame.data);
      return;
    case 'new_token':
      // RFC 9000 §19.7: the token must not be empty.
      if (frame.token.length === 0) throw new RangeError('NEW_TOKEN with an empty token (RFC 9000 §19.7)');
      w.varint(frame.token.length).bytes(frame.token);
      return;
    case 'stream':
      w.varint(frame.streamId);
      if (frame.offset !== 0) w.varint(frame.offset);
      if (frame.hasLength !== false) w.varint(frame.data.length);
      w.bytes(frame.data);
      return;
    case 'max_data':
      w.varint(frame.maximum);
      return;
    case 'max_stream_data':
      w.varint(frame.streamId).varint(frame.maximum);
      return;
    case 'max_streams':
      // RFC 9000 §19.11: at most 2^60.
      if (frame.maximum > MAX_STREAM_COUNT) throw new RangeError('MAX_STREAMS above 2^60 (RFC 9000 §19.11)');
      w.varint(frame.maximum);
      return;
    case 'data_blocked':
      w.varint(frame.limit);
      return;
    case 'stream_data_blocked':
      w.varint(frame.streamId).varint(frame.limit);
      return;
    case 'streams_blocked':
      if (frame.limit > MAX_STREAM_COUNT) throw new RangeError('STREAMS_BLOCKED above 2^60 (RFC 9000 §19.14)');
      w.varint(frame.limit);
      return;
    case 'new_connection_id': {
      // RFC 9000 §19.15: 1–20 byte connection ID, 16-byte token, Retire Prior To ≤ Sequence Number.
      const cid = frame.connectionId;
      if (cid.length < 1 || cid.length > 20) throw new RangeError('NEW_CONNECTION_ID needs a 1–20 byte connection ID (RFC 9000 §19.15)');
      if (frame.statelessResetToken.length !== 16) throw new RangeError('stateless reset token must be 16 bytes (RFC 9000 §19.15)');
      if (frame.retirePriorTo > frame.sequence) throw new RangeError('Retire Prior To exceeds Sequence Number (RFC 9000 §19.15)');
      w.varint(frame.sequence).varint(frame.retirePriorTo).u8(cid.length).bytes(cid).bytes(frame.statelessResetToken);
      return;
    }
    case 'retire_connection_id':
      w.varint(frame.sequence);
      return;
    case 'path_challenge':
    case 'path_response':
      // RFC 9000 §19.17, §19.18: exactly 8 bytes.
      if (frame.data.length !== 8) throw new RangeError('PATH_CHALLENGE/PATH_RESPONSE data must be 8 bytes');
      w.bytes(frame.data);
      return;
    case 'connection_close':
      w.varint(frame.errorCode).varint(frame.frameType);
      writeReason(frame.reason, w);
      return;
    case 'application_close':
      w.varint(frame.errorCode);
      writeReason(frame.reason, w);
      return;
    case 'datagram':
      if (frame.hasLength !== false) w.varint(frame.data.length);
      w.bytes(frame.data);
      return;
  }
}

/** A fresh buffer with `frames` encoded back to back (tests, small control packets). */
export function encodeFrames(frames: readonly Frame[]): Buffer {
  let total = 0;
  for (const frame of frames) total += frameLength(frame);
  const w = new Writer(Buffer.allocUnsafe(total));
  for (const frame of frames) encodeFrame(frame, w);
  return w.finish();
}

function writeReason(reason: string, w: Writer): void {
  const length = Buffer.byteLength(reason, 'utf8');
  w.varint(length);
  w.ensure(length);
  w.offset += w.buf.write(reason, w.offset, length, 'utf8');
}

/** Validates the ranges (descending, separated, non-empty) and returns the ACK body length. */
function ackBodyLength(frame: AckFrame): number {
  const ranges = frame.ranges;
  if (ranges.length === 0) throw new RangeError('ACK needs at least one range');
  const [firstSmallest, largestAcknowledged] = ranges[0]!;
  checkRange(firstSmallest, largestAcknowledged);
  let length = varintLength(largestAcknowledged) + varintLength(frame.ackDelay) + varintLength(ranges.length - 1)
    + varintLength(largestAcknowledged - firstSmallest);
  let previousSmallest = firstSmallest;
  for (let i = 1; i < ranges.length; i++) {
    const [smallest, largest] = ranges[i]!;
    checkRange(smallest, largest);
    // RFC 9000 §19.3.1: Gap = previous smallest − largest − 2, so ranges must leave a hole of ≥ 1.
    const gap = previousSmallest - largest - 2;
    if (gap < 0) throw new RangeError('ACK ranges must be descending and separated by a gap');
    length += varintLength(gap) + varintLength(largest - smallest);
    previousSmallest = smallest;
  }
  if (frame.ecn) length += varintLength(frame.ecn.ect0) + varintLength(frame.ecn.ect1) + varintLength(frame.ecn.ce);
  return length;
}

function checkRange(smallest: number, largest: number): void {
  if (!(smallest >= 0 && smallest <= largest)) throw new RangeError(`bad ACK range ${smallest}..${largest}`);
}

function writeAckBody(frame: AckFrame, w: Writer): void {
  ackBodyLength(frame); // validates
  const ranges = frame.ranges;
  const [firstSmallest, largestAcknowledged] = ranges[0]!;
  // RFC 9000 §19.3: Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range, ranges.
  w.varint(largestAcknowledged).varint(frame.ackDelay).varint(ranges.length - 1).varint(largestAcknowledged - firstSmallest);
  let previousSmallest = firstSmallest;
  for (let i = 1; i < ranges.length; i++) {
    const [smallest, largest] = ranges[i]!;
    w.varint(previousSmallest - largest - 2).varint(largest - smallest);
    previousSmallest = smallest;
  }
  if (frame.ecn) w.varint(frame.ecn.ect0).varint(frame.ecn.ect1).varint(frame.ecn.ce);
}
