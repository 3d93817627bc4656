/**
 * QUIC frames as values (RFC 9000 §19, RFC 9221 §4): the wire type codes and the discriminated
 * union `Frame` that the decoder produces and the encoder consumes. Data-carrying frames (STREAM,
 * CRYPTO, DATAGRAM) hold views into the packet payload, not copies.
 */

/** Frame type codes (RFC 9000 §19, Table 3; RFC 9221 §4). */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  /** 0x08–0x0f: STREAM with the OFF (0x04), LEN (0x02) and FIN (0x01) bits (§19.8). */
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
  /** RFC 9221 §4: DATAGRAM without (0x30) and with (0x31) a Length field. */
  DATAGRAM: 0x30,
  DATAGRAM_WITH_LENGTH: 0x31,
} as const;

/** STREAM type bits (RFC 9000 §19.8). */
export const STREAM_BIT_OFF = 0x04;
export const STREAM_BIT_LEN = 0x02;
export const STREAM_BIT_FIN = 0x01;

/** A run of PADDING bytes (§19.1), reported as one frame. */
export interface PaddingFrame {
  type: 'padding';
  length: number;
}

/** §19.2 */
export interface PingFrame {
  type: 'ping';
}

/**
 * An inclusive range of acknowledged packet numbers, [smallest, largest] — the same shape as the
 * recovery layer's PacketRange, so decoded ranges pass straight through.
 */
export type AckRange = readonly [smallest: number, largest: number];

/** §19.3.2 */
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/** §19.3: ACK (0x02) or, with `ecn`, ACK_ECN (0x03). */
export interface AckFrame {
  type: 'ack';
  /** Descending and separated by at least one missing packet; ranges[0][1] is Largest Acknowledged. */
  ranges: AckRange[];
  /** As on the wire: microseconds ≫ ack_delay_exponent (§19.3, §18.2). */
  ackDelay: number;
  ecn?: EcnCounts;
}

/** §19.4 */
export interface ResetStreamFrame {
  type: 'reset_stream';
  streamId: number;
  errorCode: number;
  finalSize: number;
}

/** §19.5 */
export interface StopSendingFrame {
  type: 'stop_sending';
  streamId: number;
  errorCode: number;
}

/** §19.6 */
export interface CryptoFrame {
  type: 'crypto';
  offset: number;
  data: Uint8Array;
}

/** §19.7 */
export interface NewTokenFrame {
  type: 'new_token';
  token: Uint8Array;
}

/** §19.8 */
export interface StreamFrame {
  type: 'stream';
  streamId: number;
  offset: number;
  data: Uint8Array;
  fin: boolean;
  /** Whether the Length field is present; without it the data runs to the end of the packet. Default true. */
  hasLength?: boolean;
}

/** §19.9 */
export interface MaxDataFrame {
  type: 'max_data';
  maximum: number;
}

/** §19.10 */
export interface MaxStreamDataFrame {
  type: 'max_stream_data';
  streamId: number;
  maximum: number;
}

/** §19.11: 0x12 (bidi) or 0x13 (uni). */
export interface MaxStreamsFrame {
  type: 'max_streams';
  bidi: boolean;
  maximum: number;
}

/** §19.12 */
export interface DataBlockedFrame {
  type: 'data_blocked';
  limit: number;
}

/** §19.13 */
export interface StreamDataBlockedFrame {
  type: 'stream_data_blocked';
  streamId: number;
  limit: number;
}

/** §19.14: 0x16 (bidi) or 0x17 (uni). */
export interface StreamsBlockedFrame {
  type: 'streams_blocked';
  bidi: boolean;
  limit: number;
}

/** §19.15 */
export interface NewConnectionIdFrame {
  type: 'new_connection_id';
  sequence: number;
  retirePriorTo: number;
  /** 1–20 bytes. */
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

/** §19.16 */
export interface RetireConnectionIdFrame {
  type: 'retire_connection_id';
  sequence: number;
}

/** §19.17: 8 bytes of data. */
export interface PathChallengeFrame {
  type: 'path_challenge';
  data: Uint8Array;
}

/** §19.18: 8 bytes of data, echoing a PATH_CHALLENGE. */
export interface PathResponseFrame {
  type: 'path_response';
  data: Uint8Array;
}

/** §19.19 type 0x1c: a transport error, naming the frame type that caused it (0 if unknown). */
export interface ConnectionCloseFrame {
  type: 'connection_close';
  errorCode: number;
  frameType: number;
  /** Diagnostic UTF-8 text; invalid sequences are replaced on decode. */
  reason: string;
}

/** §19.19 type 0x1d: an application error. */
export interface ApplicationCloseFrame {
  type: 'application_close';
  errorCode: number;
  reason: string;
}

/** §19.20 */
export interface HandshakeDoneFrame {
  type: 'handshake_done';
}

/** RFC 9221 §4: 0x30 (to the end of the packet) or 0x31 (with Length). */
export interface DatagramFrame {
  type: 'datagram';
  data: Uint8Array;
  /** Whether the Length field is present. Default true. */
  hasLength?: boolean;
}

export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | ApplicationCloseFrame
  | HandshakeDoneFrame
  | DatagramFrame;

/** The wire type code `frame` is sent with. */
export function frameTypeOf(frame: Frame): number {
  switch (frame.type) {
    case 'padding': return FrameType.PADDING;
    case 'ping': return FrameType.PING;
    case 'ack': return frame.ecn ? FrameType.ACK_ECN : FrameType.ACK;
    case 'reset_stream': return FrameType.RESET_STREAM;
    case 'stop_sending': return FrameType.STOP_SENDING;
    case 'crypto': return FrameType.CRYPTO;
    case 'new_token': return FrameType.NEW_TOKEN;
    case 'stream':
      return FrameType.STREAM
        | (frame.offset !== 0 ? STREAM_BIT_OFF : 0)
        | (frame.hasLength !== false ? STREAM_BIT_LEN : 0)
        | (frame.fin ? STREAM_BIT_FIN : 0);
    case 'max_data': return FrameType.MAX_DATA;
    case 'max_stream_data': return FrameType.MAX_STREAM_DATA;
    case 'max_streams': return frame.bidi ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI;
    case 'data_blocked': return FrameType.DATA_BLOCKED;
    case 'stream_data_blocked': return FrameType.STREAM_DATA_BLOCKED;
    case 'streams_blocked': return frame.bidi ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI;
    case 'new_connection_id': return FrameType.NEW_CONNECTION_ID;
    case 'retire_connection_id': return FrameType.RETIRE_CONNECTION_ID;
    case 'path_challenge': return FrameType.PATH_CHALLENGE;
    case 'path_response': return FrameType.PATH_RESPONSE;
    case 'connection_close': return FrameType.CONNECTION_CLOSE;
    case 'application_close': return FrameType.CONNECTION_CLOSE_APP;
    case 'handshake_done': return FrameType.HANDSHAKE_DONE;
    case 'datagram': return frame.hasLength !== false ? FrameType.DATAGRAM_WITH_LENGTH : FrameType.DATAGRAM;
  }
}
