/**
 * Frame encoding (RFC 9113 §6.1–§6.10, RFC 9218 §7.1): each frame becomes one Buffer holding the
 * 9-octet header and the payload, written once with no intermediate copies.
 *
 * Large DATA payloads should not be copied at all: `encodeDataFrame` returns the pieces
 * ([header, payload, padding]) for a gathered write (socket.writev / cork + write). Field blocks
 * larger than the peer's SETTINGS_MAX_FRAME_SIZE are split into HEADERS/PUSH_PROMISE +
 * CONTINUATION by `encodeFieldBlock` (RFC 9113 §4.3).
 *
 * Encoders are given values the connection built, so bad arguments are programming errors and
 * throw RangeError, not H2Error.
 */
import { FRAME_HEADER_LENGTH, MAX_STREAM_ID, writeFrameHeader } from './header.js';
import { Flag, FrameType, type Frame, type PrioritySpec } from './types.js';

function checkPadLength(padLength: number | undefined): void {
  if (padLength !== undefined && (!Number.isInteger(padLength) || padLength < 0 || padLength > 255)) {
    throw new RangeError(`pad length ${padLength} outside 0..255 (RFC 9113 §6.1)`);
  }
}

function checkStreamId(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_STREAM_ID) {
    throw new RangeError(`${what} ${id} outside 0..2^31-1 (RFC 9113 §5.1.1)`);
  }
}

function writePriority(target: Buffer, offset: number, priority: PrioritySpec): void {
  checkStreamId(priority.dependency, 'stream dependency');
  if (!Number.isInteger(priority.weight) || priority.weight < 1 || priority.weight > 256) {
    throw new RangeError(`weight ${priority.weight} outside 1..256 (RFC 9113 §6.2)`);
  }
  target.writeUInt32BE((priority.exclusive ? 0x8000_0000 : 0) + priority.dependency, offset);
  target[offset + 4] = priority.weight - 1;
}

/**
 * Lays out a frame whose payload is [Pad Length?] fixed fields, body, [padding]. Padding octets
 * are zero (RFC 9113 §6.1: "MUST be set to zero when sending"; Buffer.alloc zero-fills).
 */
function paddedFrame(
  type: number,
  flags: number,
  streamId: number,
  fixedLength: number,
  body: Uint8Array,
  padLength: number | undefined,
  writeFixed: (target: Buffer, offset: number) => void,
): Buffer {
  checkPadLength(padLength);
  const padFieldLength = padLength === undefined ? 0 : 1 + padLength;
  const length = padFieldLength + fixedLength + body.length;
  const out = Buffer.alloc(FRAME_HEADER_LENGTH + length);
  writeFrameHeader(out, 0, length, type, flags | (padLength === undefined ? 0 : Flag.PADDED), streamId);
  let offset = FRAME_HEADER_LENGTH;
  if (padLength !== undefined) out[offset++] = padLength;
  writeFixed(out, offset);
  out.set(body, offset + fixedLength);
  return out;
}

function allocFrame(type: number, flags: number, streamId: number, payloadLength: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + payloadLength);
  writeFrameHeader(out, 0, payloadLength, type, flags, streamId);
  return out;
}

const noFixed = (): void => {};

/** Encodes any frame into one Buffer (header + payload). */
export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case 'DATA':
      return paddedFrame(FrameType.DATA, frame.endStream ? Flag.END_STREAM : 0, frame.streamId, 0, frame.data, frame.padLength, noFixed);
    case 'HEADERS': {
      const { priority } = frame;
      const flags =
        (frame.endStream ? Flag.END_STREAM : 0) | (frame.endHeaders ? Flag.END_HEADERS : 0) | (priority ? Flag.PRIORITY : 0);
      return paddedFrame(FrameType.HEADERS, flags, frame.streamId, priority ? 5 : 0, frame.fragment, frame.padLength, (out, offset) => {
        if (priority) writePriority(out, offset, priority);
      });
    }
    case 'PRIORITY': {
      const out = allocFrame(FrameType.PRIORITY, 0, frame.streamId, 5);
      writePriority(out, FRAME_HEADER_LENGTH, frame.priority);
      return out;
    }
    case 'RST_STREAM': {
      const out = allocFrame(FrameType.RST_STREAM, 0, frame.streamId, 4);
      out.writeUInt32BE(frame.errorCode, FRAME_HEADER_LENGTH);
      return out;
    }
    case 'SETTINGS': {
      if (frame.ack && frame.settings.length > 0) throw new RangeError('SETTINGS ACK carries no parameters (RFC 9113 §6.5)');
      const out = allocFrame(FrameType.SETTINGS, frame.ack ? Flag.ACK : 0, 0, 6 * frame.settings.length);
      let offset = FRAME_HEADER_LENGTH;
      for (const [id, value] of frame.settings) {
        out.writeUInt16BE(id, offset);
        out.writeUInt32BE(value, offset + 2);
        offset += 6;
      }
      return out;
    }
    case 'PUSH_PROMISE': {
      checkStreamId(frame.promisedStreamId, 'promised stream id');
      const flags = frame.endHeaders ? Flag.END_HEADERS : 0;
      return paddedFrame(FrameType.PUSH_PROMISE, flags, frame.streamId, 4, frame.fragment, frame.padLength, (out, offset) => {
        out.writeUInt32BE(frame.promisedStreamId, offset);
      });
    }
    case 'PING': {
      if (frame.opaqueData.length !== 8) throw new RangeError('PING carries exactly 8 octets (RFC 9113 §6.7)');
      const out = allocFrame(FrameType.PING, frame.ack ? Flag.ACK : 0, 0, 8);
      out.set(frame.opaqueData, FRAME_HEADER_LENGTH);
      return out;
    }
    case 'GOAWAY': {
      checkStreamId(frame.lastStreamId, 'last stream id');
      const out = allocFrame(FrameType.GOAWAY, 0, 0, 8 + frame.debugData.length);
      out.writeUInt32BE(frame.lastStreamId, FRAME_HEADER_LENGTH);
      out.writeUInt32BE(frame.errorCode, FRAME_HEADER_LENGTH + 4);
      out.set(frame.debugData, FRAME_HEADER_LENGTH + 8);
      return out;
    }
    case 'WINDOW_UPDATE': {
      checkStreamId(frame.increment, 'window increment');
      const out = allocFrame(FrameType.WINDOW_UPDATE, 0, frame.streamId, 4);
      out.writeUInt32BE(frame.increment, FRAME_HEADER_LENGTH);
      return out;
    }
    case 'CONTINUATION': {
      const out = allocFrame(FrameType.CONTINUATION, frame.endHeaders ? Flag.END_HEADERS : 0, frame.streamId, frame.fragment.length);
      out.set(frame.fragment, FRAME_HEADER_LENGTH);
      return out;
    }
    case 'PRIORITY_UPDATE': {
      checkStreamId(frame.prioritizedStreamId, 'prioritized stream id');
      const valueLength = Buffer.byteLength(frame.fieldValue, 'latin1');
      const out = allocFrame(FrameType.PRIORITY_UPDATE, 0, 0, 4 + valueLength);
      out.writeUInt32BE(frame.prioritizedStreamId, FRAME_HEADER_LENGTH);
      out.write(frame.fieldValue, FRAME_HEADER_LENGTH + 4, 'latin1');
      return out;
    }
    case 'UNKNOWN': {
      const out = allocFrame(frame.frameType, frame.flags, frame.streamId, frame.payload.length);
      out.set(frame.payload, FRAME_HEADER_LENGTH);
      return out;
    }
  }
}

export interface DataFrameOptions {
  endStream?: boolean;
  padLength?: number;
}

/**
 * A DATA frame as pieces for a gathered write; the payload is not copied. Concatenated, the pieces
 * equal `encodeFrame({ type: 'DATA', ... })`. The caller keeps `payload.length` within the peer's
 * SETTINGS_MAX_FRAME_SIZE and flow-control windows (RFC 9113 §4.2, §6.9).
 */
export function encodeDataFrame(streamId: number, payload: Uint8Array, options: DataFrameOptions = {}): Uint8Array[] {
  const { endStream = false, padLength } = options;
  checkPadLength(padLength);
  const isPadded = padLength !== undefined;
  const head = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + (isPadded ? 1 : 0));
  const length = payload.length + (isPadded ? 1 + padLength : 0);
  writeFrameHeader(head, 0, length, FrameType.DATA, (endStream ? Flag.END_STREAM : 0) | (isPadded ? Flag.PADDED : 0), streamId);
  if (!isPadded) return payload.length === 0 ? [head] : [head, payload];
  head[FRAME_HEADER_LENGTH] = padLength;
  const pieces: Uint8Array[] = [head];
  if (payload.length > 0) pieces.push(payload);
  if (padLength > 0) pieces.push(Buffer.alloc(padLength));
  return pieces;
}

export interface FieldBlockOptions {
  /** The peer's SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2). */
  maxFrameSize: number;
  endStream?: boolean;
  priority?: PrioritySpec;
}

/**
 * A whole field block as HEADERS + CONTINUATION frames in one Buffer (RFC 9113 §4.3, §6.2, §6.10).
 * The frames are contiguous, so nothing can be interleaved between them.
 */
export function encodeHeadersBlock(streamId: number, block: Uint8Array, options: FieldBlockOptions): Buffer {
  const { maxFrameSize, endStream = false, priority } = options;
  const firstCapacity = maxFrameSize - (priority ? 5 : 0);
  const first = block.subarray(0, firstCapacity);
  const head = encodeFrame({
    type: 'HEADERS',
    streamId,
    endStream,
    endHeaders: first.length === block.length,
    ...(priority && { priority }),
    fragment: first,
  });
  return appendContinuations(head, streamId, block, first.length, maxFrameSize);
}

/** A PUSH_PROMISE field block on `streamId` promising `promisedStreamId`, split as needed (RFC 9113 §6.6). */
export function encodePushPromiseBlock(
  streamId: number,
  promisedStreamId: number,
  block: Uint8Array,
  maxFrameSize: number,
): Buffer {
  const first = block.subarray(0, maxFrameSize - 4);
  const head = encodeFrame({
    type: 'PUSH_PROMISE',
    streamId,
    endHeaders: first.length === block.length,
    promisedStreamId,
    fragment: first,
  });
  return appendContinuations(head, streamId, block, first.length, maxFrameSize);
}

function appendContinuations(head: Buffer, streamId: number, block: Uint8Array, sent: number, maxFrameSize: number): Buffer {
  const rest = block.length - sent;
  if (rest === 0) return head;
  const frames = Math.ceil(rest / maxFrameSize);
  const out = Buffer.allocUnsafe(head.length + frames * FRAME_HEADER_LENGTH + rest);
  head.copy(out, 0);
  let offset = head.length;
  for (let start = sent; start < block.length; start += maxFrameSize) {
    const end = Math.min(start + maxFrameSize, block.length);
    writeFrameHeader(out, offset, end - start, FrameType.CONTINUATION, end === block.length ? Flag.END_HEADERS : 0, streamId);
    out.set(block.subarray(start, end), offset + FRAME_HEADER_LENGTH);
    offset += FRAME_HEADER_LENGTH + end - start;
  }
  return out;
}
