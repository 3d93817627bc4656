/**
 * Frame dispatch: one table from frame type to the connection's handler (the aioquic style), after
 * the RFC 9000 §12.4 check of which packet types may carry the frame (`checkFramePermitted`, also
 * refusing NEW_TOKEN and HANDSHAKE_DONE from a client, §19.7, §19.20).
 */
import type { Role } from '../stream/stream-id.js';
import { checkFramePermitted } from '../frames/permissions.js';
import { frameTypeOf, type Frame } from '../frames/types.js';
import type { PacketNumberSpace } from '../recovery/space.js';
import type { PeerAddress } from './types.js';

/** Where a frame arrived: the handlers need the space, the packet and the path. */
export interface PacketContext {
  space: PacketNumberSpace;
  packetType: 'initial' | 'handshake' | '0rtt' | '1rtt';
  packetNumber: number;
  /** The Destination Connection ID the packet was sent to. */
  dcid: Buffer;
  from: PeerAddress;
  now: number;
}

type FrameOf<K extends Frame['type']> = Extract<Frame, { type: K }>;

/** One handler per frame type that does something; the connection implements them. */
export interface FrameHandlers {
  onAck(frame: FrameOf<'ack'>, ctx: PacketContext): void;
  onResetStream(frame: FrameOf<'reset_stream'>, ctx: PacketContext): void;
  onStopSending(frame: FrameOf<'stop_sending'>, ctx: PacketContext): void;
  onCrypto(frame: FrameOf<'crypto'>, ctx: PacketContext): void;
  onNewToken(frame: FrameOf<'new_token'>, ctx: PacketContext): void;
  onStream(frame: FrameOf<'stream'>, ctx: PacketContext): void;
  onMaxData(frame: FrameOf<'max_data'>, ctx: PacketContext): void;
  onMaxStreamData(frame: FrameOf<'max_stream_data'>, ctx: PacketContext): void;
  onMaxStreams(frame: FrameOf<'max_streams'>, ctx: PacketContext): void;
  onDataBlocked(frame: FrameOf<'data_blocked'>, ctx: PacketContext): void;
  onStreamDataBlocked(frame: FrameOf<'stream_data_blocked'>, ctx: PacketContext): void;
  onStreamsBlocked(frame: FrameOf<'streams_blocked'>, ctx: PacketContext): void;
  onNewConnectionId(frame: FrameOf<'new_connection_id'>, ctx: PacketContext): void;
  onRetireConnectionId(frame: FrameOf<'retire_connection_id'>, ctx: PacketContext): void;
  onPathChallenge(frame: FrameOf<'path_challenge'>, ctx: PacketContext): void;
  onPathResponse(frame: FrameOf<'path_response'>, ctx: PacketContext): void;
  onConnectionClose(frame: FrameOf<'connection_close'> | FrameOf<'application_close'>, ctx: PacketContext): void;
  onHandshakeDone(frame: FrameOf<'handshake_done'>, ctx: PacketContext): void;
  onDatagram(frame: FrameOf<'datagram'>, ctx: PacketContext): void;
}

type Dispatch = { [K in Frame['type']]: (h: FrameHandlers, frame: FrameOf<K>, ctx: PacketContext) => void };

const IGNORE = (): void => {};

/** RFC 9000 §19: frame type → handler. PADDING and PING need nothing beyond an acknowledgment. */
export const FRAME_HANDLERS: Dispatch = {
  padding: IGNORE, // §19.1
  ping: IGNORE, // §19.2: only elicits an ACK
  ack: (h, f, c) => h.onAck(f, c), // §19.3
  reset_stream: (h, f, c) => h.onResetStream(f, c), // §19.4
  stop_sending: (h, f, c) => h.onStopSending(f, c), // §19.5
  crypto: (h, f, c) => h.onCrypto(f, c), // §19.6
  new_token: (h, f, c) => h.onNewToken(f, c), // §19.7
  stream: (h, f, c) => h.onStream(f, c), // §19.8
  max_data: (h, f, c) => h.onMaxData(f, c), // §19.9
  max_stream_data: (h, f, c) => h.onMaxStreamData(f, c), // §19.10
  max_streams: (h, f, c) => h.onMaxStreams(f, c), // §19.11
  data_blocked: (h, f, c) => h.onDataBlocked(f, c), // §19.12
  stream_data_blocked: (h, f, c) => h.onStreamDataBlocked(f, c), // §19.13
  streams_blocked: (h, f, c) => h.onStreamsBlocked(f, c), // §19.14
  new_connection_id: (h, f, c) => h.onNewConnectionId(f, c), // §19.15
  retire_connection_id: (h, f, c) => h.onRetireConnectionId(f, c), // §19.16
  path_challenge: (h, f, c) => h.onPathChallenge(f, c), // §19.17
  path_response: (h, f, c) => h.onPathResponse(f, c), // §19.18
  connection_close: (h, f, c) => h.onConnectionClose(f, c), // §19.19
  application_close: (h, f, c) => h.onConnectionClose(f, c), // §19.19
  handshake_done: (h, f, c) => h.onHandshakeDone(f, c), // §19.20
  datagram: (h, f, c) => h.onDatagram(f, c), // RFC 9221 §4
};

/**
 * Checks §12.4 for `frame` in this packet, then runs its handler. Throws TransportError.
 * `frameType` is the frame's wire type, for a caller that already has it.
 */
export function dispatchFrame(handlers: FrameHandlers, frame: Frame, ctx: PacketContext, receiver: Role, frameType = frameTypeOf(frame)): void {
  checkFramePermitted(frameType, ctx.packetType, receiver);
  (FRAME_HANDLERS[frame.type] as (h: FrameHandlers, f: Frame, c: PacketContext) => void)(handlers, frame, ctx);
}
