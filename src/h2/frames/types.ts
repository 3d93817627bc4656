/**
 * HTTP/2 frame values (RFC 9113 §6, RFC 9218 §7.1): what the codec decodes to and encodes from.
 *
 * Every frame carries `streamId` (0 for connection-level frames). Byte fields (`data`, `fragment`,
 * `opaqueData`, `debugData`, `payload`) are views into the received bytes, not copies. Unknown flag
 * bits and reserved bits are dropped on decode (RFC 9113 §4.1), so a frame's value is what it means.
 */

/** Frame type codes (RFC 9113 §6, §11.2; RFC 9218 §7.1). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
  PRIORITY_UPDATE: 0x10,
} as const;
export type FrameTypeName = keyof typeof FrameType;

/** Flag bits (RFC 9113 §6). ACK shares 0x1 with END_STREAM; the frame type says which it is. */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** RFC 7540 §5.3 priority fields, kept by RFC 9113 §5.3.2 for interoperability only. */
export interface PrioritySpec {
  exclusive: boolean;
  /** Stream this one depends on (0 = root). */
  dependency: number;
  /** 1..256 (the wire carries weight − 1). */
  weight: number;
}

export interface DataFrame {
  type: 'DATA';
  streamId: number;
  endStream: boolean;
  data: Uint8Array;
  /** Present when the PADDED flag was set; flow control counts it (RFC 9113 §6.1). */
  padLength?: number;
}

export interface HeadersFrame {
  type: 'HEADERS';
  streamId: number;
  endStream: boolean;
  endHeaders: boolean;
  priority?: PrioritySpec;
  fragment: Uint8Array;
  padLength?: number;
}

export interface PriorityFrame {
  type: 'PRIORITY';
  streamId: number;
  priority: PrioritySpec;
}

export interface RstStreamFrame {
  type: 'RST_STREAM';
  streamId: number;
  errorCode: number;
}

/** One SETTINGS parameter as it was on the wire; order and repeats are kept (RFC 9113 §6.5.3). */
export type SettingsEntry = readonly [id: number, value: number];

export interface SettingsFrame {
  type: 'SETTINGS';
  streamId: 0;
  ack: boolean;
  settings: SettingsEntry[];
}

export interface PushPromiseFrame {
  type: 'PUSH_PROMISE';
  streamId: number;
  endHeaders: boolean;
  promisedStreamId: number;
  fragment: Uint8Array;
  padLength?: number;
}

export interface PingFrame {
  type: 'PING';
  streamId: 0;
  ack: boolean;
  /** Exactly 8 octets. */
  opaqueData: Uint8Array;
}

export interface GoawayFrame {
  type: 'GOAWAY';
  streamId: 0;
  lastStreamId: number;
  errorCode: number;
  debugData: Uint8Array;
}

export interface WindowUpdateFrame {
  type: 'WINDOW_UPDATE';
  streamId: number;
  /** 0 is decoded as is: flow.ts turns it into the RFC 9113 §6.9 error with the right scope. */
  increment: number;
}

export interface ContinuationFrame {
  type: 'CONTINUATION';
  streamId: number;
  endHeaders: boolean;
  fragment: Uint8Array;
}

/** RFC 9218 §7.1: reprioritizes `prioritizedStreamId`; the value is a Priority field value (ASCII). */
export interface PriorityUpdateFrame {
  type: 'PRIORITY_UPDATE';
  streamId: 0;
  prioritizedStreamId: number;
  fieldValue: string;
}

/** A frame of a type this codec does not know: the connection ignores it (RFC 9113 §4.1, §5.5). */
export interface UnknownFrame {
  type: 'UNKNOWN';
  frameType: number;
  streamId: number;
  flags: number;
  payload: Uint8Array;
}

export type Frame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame
  | ContinuationFrame
  | PriorityUpdateFrame
  | UnknownFrame;
