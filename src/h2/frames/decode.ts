/**
 * Frame payload decoding (RFC 9113 §6.1–§6.10, RFC 9218 §7.1): one function per frame type, chosen
 * through one table, each checking that type's stream-identifier and length rules.
 *
 * `decodeFrame` takes a header and exactly `header.length` payload octets. It throws H2Error only:
 * connection errors for what breaks the whole connection, stream errors (scope 'stream') for what
 * only breaks one stream (a PRIORITY of the wrong length, §6.3). The maximum frame size (§4.2) is
 * checked by the caller before the payload is even buffered (see FrameDecoder).
 */
import { ErrorCode, connectionError, streamError } from '../errors.js';
import type { FrameHeader } from './header.js';
import { MAX_STREAM_ID } from './header.js';
import {
  Flag,
  FrameType,
  type Frame,
  type PrioritySpec,
  type SettingsEntry,
} from './types.js';

type PayloadDecoder = (header: FrameHeader, payload: Buffer) => Frame;

function requireStream(header: FrameHeader, name: string, section: string): void {
  if (header.streamId === 0) {
    throw connectionError(ErrorCode.PROTOCOL_ERROR, `${name} on stream 0`, section);
  }
}

function requireConnection(header: FrameHeader, name: string, section: string): void {
  if (header.streamId !== 0) {
    throw connectionError(ErrorCode.PROTOCOL_ERROR, `${name} on stream ${header.streamId}`, section);
  }
}

/**
 * Splits off the Pad Length field and the padding when PADDED is set (RFC 9113 §6.1, §6.2, §6.6).
 * Padding content is not checked: "A receiver is not obligated to verify padding".
 */
function unpad(header: FrameHeader, payload: Buffer, name: string, section: string): { body: Buffer; padLength?: number } {
  if ((header.flags & Flag.PADDED) === 0) return { body: payload };
  if (payload.length < 1) {
    // RFC 9113 §4.2: too small to contain mandatory frame data (the Pad Length field).
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, `padded ${name} without a Pad Length field`, 'RFC 9113 §4.2');
  }
  const padLength = payload[0]!;
  if (padLength >= payload.length) {
    throw connectionError(
      ErrorCode.PROTOCOL_ERROR,
      `${name} pad length ${padLength} not less than payload length ${payload.length}`,
      section,
    );
  }
  return { body: payload.subarray(1, payload.length - padLength), padLength };
}

function readPriority(bytes: Buffer, offset: number): PrioritySpec {
  const word = bytes.readUInt32BE(offset);
  return {
    exclusive: (word & 0x8000_0000) !== 0,
    dependency: word & MAX_STREAM_ID,
    weight: bytes[offset + 4]! + 1,
  };
}

/**
 * RFC 7540 §5.3.1 (whose fields RFC 9113 §5.3.2 keeps for interoperability): a stream cannot depend
 * on itself; stream error PROTOCOL_ERROR. For HEADERS the connection calls this after decoding the
 * field block, so that the HPACK context survives the error.
 */
export function checkPriority(streamId: number, priority: PrioritySpec): void {
  if (priority.dependency === streamId) {
    throw streamError(ErrorCode.PROTOCOL_ERROR, streamId, 'stream depends on itself', 'RFC 7540 §5.3.1');
  }
}

const decodeData: PayloadDecoder = (header, payload) => {
  requireStream(header, 'DATA', 'RFC 9113 §6.1');
  const { body, padLength } = unpad(header, payload, 'DATA', 'RFC 9113 §6.1');
  return {
    type: 'DATA',
    streamId: header.streamId,
    endStream: (header.flags & Flag.END_STREAM) !== 0,
    data: body,
    ...(padLength !== undefined && { padLength }),
  };
};

const decodeHeaders: PayloadDecoder = (header, payload) => {
  requireStream(header, 'HEADERS', 'RFC 9113 §6.2');
  const { body, padLength } = unpad(header, payload, 'HEADERS', 'RFC 9113 §6.2');
  let fragment = body;
  let priority: PrioritySpec | undefined;
  if (header.flags & Flag.PRIORITY) {
    if (body.length < 5) {
      // A field-block frame: a size error is a connection error (RFC 9113 §4.2).
      throw connectionError(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS too short for its priority fields', 'RFC 9113 §4.2');
    }
    priority = readPriority(body, 0);
    fragment = body.subarray(5);
  }
  return {
    type: 'HEADERS',
    streamId: header.streamId,
    endStream: (header.flags & Flag.END_STREAM) !== 0,
    endHeaders: (header.flags & Flag.END_HEADERS) !== 0,
    ...(priority && { priority }),
    fragment,
    ...(padLength !== undefined && { padLength }),
  };
};

const decodePriority: PayloadDecoder = (header, payload) => {
  requireStream(header, 'PRIORITY', 'RFC 9113 §6.3');
  if (payload.length !== 5) {
    throw streamError(ErrorCode.FRAME_SIZE_ERROR, header.streamId, `PRIORITY length ${payload.length} ≠ 5`, 'RFC 9113 §6.3');
  }
  const priority = readPriority(payload, 0);
  checkPriority(header.streamId, priority);
  return { type: 'PRIORITY', streamId: header.streamId, priority };
};

const decodeRstStream: PayloadDecoder = (header, payload) => {
  requireStream(header, 'RST_STREAM', 'RFC 9113 §6.4');
  if (payload.length !== 4) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, `RST_STREAM length ${payload.length} ≠ 4`, 'RFC 9113 §6.4');
  }
  return { type: 'RST_STREAM', streamId: header.streamId, errorCode: payload.readUInt32BE(0) };
};

const decodeSettings: PayloadDecoder = (header, payload) => {
  requireConnection(header, 'SETTINGS', 'RFC 9113 §6.5');
  const ack = (header.flags & Flag.ACK) !== 0;
  if (ack && payload.length !== 0) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload', 'RFC 9113 §6.5');
  }
  if (payload.length % 6 !== 0) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS length ${payload.length} not a multiple of 6`, 'RFC 9113 §6.5');
  }
  const settings: SettingsEntry[] = [];
  for (let offset = 0; offset < payload.length; offset += 6) {
    settings.push([payload.readUInt16BE(offset), payload.readUInt32BE(offset + 2)]);
  }
  return { type: 'SETTINGS', streamId: 0, ack, settings };
};

const decodePushPromise: PayloadDecoder = (header, payload) => {
  requireStream(header, 'PUSH_PROMISE', 'RFC 9113 §6.6');
  const { body, padLength } = unpad(header, payload, 'PUSH_PROMISE', 'RFC 9113 §6.6');
  if (body.length < 4) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, 'PUSH_PROMISE without a Promised Stream ID', 'RFC 9113 §4.2');
  }
  return {
    type: 'PUSH_PROMISE',
    streamId: header.streamId,
    endHeaders: (header.flags & Flag.END_HEADERS) !== 0,
    promisedStreamId: body.readUInt32BE(0) & MAX_STREAM_ID,
    fragment: body.subarray(4),
    ...(padLength !== undefined && { padLength }),
  };
};

const decodePing: PayloadDecoder = (header, payload) => {
  requireConnection(header, 'PING', 'RFC 9113 §6.7');
  if (payload.length !== 8) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, `PING length ${payload.length} ≠ 8`, 'RFC 9113 §6.7');
  }
  return { type: 'PING', streamId: 0, ack: (header.flags & Flag.ACK) !== 0, opaqueData: payload };
};

const decodeGoaway: PayloadDecoder = (header, payload) => {
  requireConnection(header, 'GOAWAY', 'RFC 9113 §6.8');
  if (payload.length < 8) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, `GOAWAY length ${payload.length} < 8`, 'RFC 9113 §6.8');
  }
  return {
    type: 'GOAWAY',
    streamId: 0,
    lastStreamId: payload.readUInt32BE(0) & MAX_STREAM_ID,
    errorCode: payload.readUInt32BE(4),
    debugData: payload.subarray(8),
  };
};

const decodeWindowUpdate: PayloadDecoder = (header, payload) => {
  if (payload.length !== 4) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, `WINDOW_UPDATE length ${payload.length} ≠ 4`, 'RFC 9113 §6.9');
  }
  return { type: 'WINDOW_UPDATE', streamId: header.streamId, increment: payload.readUInt32BE(0) & MAX_STREAM_ID };
};

const decodeContinuation: PayloadDecoder = (header, payload) => {
  requireStream(header, 'CONTINUATION', 'RFC 9113 §6.10');
  return {
    type: 'CONTINUATION',
    streamId: header.streamId,
    endHeaders: (header.flags & Flag.END_HEADERS) !== 0,
    fragment: payload,
  };
};

const decodePriorityUpdate: PayloadDecoder = (header, payload) => {
  requireConnection(header, 'PRIORITY_UPDATE', 'RFC 9218 §7.1');
  if (payload.length < 4) {
    throw connectionError(ErrorCode.FRAME_SIZE_ERROR, `PRIORITY_UPDATE length ${payload.length} < 4`, 'RFC 9218 §7.1');
  }
  const prioritizedStreamId = payload.readUInt32BE(0) & MAX_STREAM_ID;
  if (prioritizedStreamId === 0) {
    throw connectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY_UPDATE for stream 0', 'RFC 9218 §7.1');
  }
  return {
    type: 'PRIORITY_UPDATE',
    streamId: 0,
    prioritizedStreamId,
    fieldValue: payload.toString('latin1', 4),
  };
};

const DECODERS: ReadonlyMap<number, PayloadDecoder> = new Map([
  [FrameType.DATA, decodeData],
  [FrameType.HEADERS, decodeHeaders],
  [FrameType.PRIORITY, decodePriority],
  [FrameType.RST_STREAM, decodeRstStream],
  [FrameType.SETTINGS, decodeSettings],
  [FrameType.PUSH_PROMISE, decodePushPromise],
  [FrameType.PING, decodePing],
  [FrameType.GOAWAY, decodeGoaway],
  [FrameType.WINDOW_UPDATE, decodeWindowUpdate],
  [FrameType.CONTINUATION, decodeContinuation],
  [FrameType.PRIORITY_UPDATE, decodePriorityUpdate],
]);

/** Decodes one frame; `payload.length` must equal `header.length`. Throws H2Error only. */
export function decodeFrame(header: FrameHeader, payload: Buffer): Frame {
  const decode = DECODERS.get(header.type);
  if (decode) return decode(header, payload);
  // RFC 9113 §4.1, §5.5: unknown types are not errors; the connection discards them.
  return { type: 'UNKNOWN', frameType: header.type, streamId: header.streamId, flags: header.flags, payload };
}
