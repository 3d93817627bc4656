/**
 * All streams of one QUIC connection, for one role (client or server), RFC 9000 §2–4:
 *
 * - opening our streams within the peer's MAX_STREAMS (§4.6) and a local cap;
 * - finding the stream a frame is for, with the checks of §19.4, §19.5, §19.8, §19.10 and §19.13
 *   (STREAM_STATE_ERROR for a stream we have not opened or that cannot carry the frame), and
 *   STREAM_LIMIT_ERROR beyond the limit we gave (§4.6);
 * - opening the peer's streams implicitly, with all lower-numbered streams of the type (§3.2);
 * - connection-level flow control, MAX_DATA / MAX_STREAMS / *_BLOCKED (§4.1, §4.6);
 * - forgetting finished streams (their IDs are never reused, so frames for them are ignored), and
 *   giving the peer a new stream slot for each of its streams that closes;
 * - a round-robin of streams with data to send, one STREAM frame per turn.
 *
 * The connection feeds it decoded frames as plain values and sends what it hands out.
 */
import { DEFAULT_LIMITS } from '../../core/limits.js';
import type { StreamFrame } from '../frames/types.js';
import { ReceiveWindow } from '../flow/receive-window.js';
import { SendCredit } from '../flow/send-credit.js';
import { StreamAcceptLimit, StreamOpenCredit } from '../flow/stream-count.js';
import { StreamError, TransportErrorCode } from './errors.js';
import { RecvStream } from './recv-stream.js';
import { StreamTable } from '../../core/stream-table.js';
import { SendStream, type StreamChunk } from './send-stream.js';
import {
  MAX_STREAM_COUNT,
  canReceive,
  canSend,
  directionOf,
  isLocallyInitiated,
  makeStreamId,
  streamIndex,
  type Direction,
  type Role,
} from './stream-id.js';

/** The stream-related transport parameters of one endpoint (RFC 9000 §18.2). */
export interface StreamParams {
  initialMaxData: number;
  /** Limit on data the peer sends on bidirectional streams opened by the sender of this parameter. */
  initialMaxStreamDataBidiLocal: number;
  /** Limit on data the peer sends on bidirectional streams the peer opened. */
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
}

export interface StreamManagerOptions {
  role: Role;
  /** What we advertise: the limits the peer must keep. */
  local: StreamParams;
  /** What the peer advertised, when already known (else call `setPeerParams` later). */
  peer?: StreamParams;
  /** Largest receive window a stream auto-tunes to. Default 16 MiB. */
  maxStreamWindow?: number;
  /** Largest connection receive window. Default 24 MiB. */
  maxConnectionWindow?: number;
  /** Most of our own streams of each direction open at once, whatever the peer allows. */
  maxLocalStreams?: number;
}

/** A frame of the stream layer for the connection to send, as plain values. */
export type StreamControlFrame =
  | { type: 'MAX_DATA'; maximum: number }
  | { type: 'MAX_STREAM_DATA'; streamId: number; maximum: number }
  | { type: 'MAX_STREAMS'; direction: Direction; maximum: number }
  | { type: 'DATA_BLOCKED'; maximum: number }
  | { type: 'STREAM_DATA_BLOCKED'; streamId: number; maximum: number }
  | { type: 'STREAMS_BLOCKED'; direction: Direction; maximum: number }
  | { type: 'RESET_STREAM'; streamId: number; errorCode: number; finalSize: number }
  | { type: 'STOP_SENDING'; streamId: number; errorCode: number };

/** What was sent in one STREAM frame, as loss recovery reports it back. */
export interface SentChunk {
  streamId: number;
  offset: number;
  length: number;
  fin: boolean;
}

/** One stream: a sending part, a receiving part, or both (RFC 9000 §2.1, §3). */
export class QuicStream {
  constructor(
    readonly id: number,
    readonly send: SendStream | undefined,
    readonly recv: RecvStream | undefined,
  ) {}

  /** Both parts are in a terminal state (RFC 9000 §3.3: the stream can be forgotten). */
  get isClosed(): boolean {
    return (this.send?.isClosed ?? true) && (this.recv?.isClosed ?? true);
  }
}

const DEFAULT_MAX_STREAM_WINDOW = 16 * 1024 * 1024;
const DEFAULT_MAX_CONNECTION_WINDOW = 24 * 1024 * 1024;
const DIRECTIONS: readonly Direction[] = ['bidi', 'uni'];
/**
 * Most bytes of received buffers that small stored pieces may keep alive uncopied per connection
 * (RFC 9000 §21.7): a few dozen datagrams, more than a pass over one receive batch leaves unread.
 */
export const MAX_PINNED_BYTES = 64 * 1024;

export class StreamManager {
  readonly role: Role;
  /** Our credit to send, from the peer's MAX_DATA (RFC 9000 §4.1). */
  readonly connectionCredit: SendCredit;
  /** The peer's credit to send to us, our MAX_DATA (RFC 9000 §4.1). */
  readonly connectionWindow: ReceiveWindow;
  /** Smoothed RTT in ms for window auto-tuning; the connection keeps it current. */
  rttMs = 0;

  private readonly local: StreamParams;
  private peer: StreamParams | undefined;
  private readonly maxStreamWindow: number;
  private readonly maxLocalStreams: number;
  private readonly openCredit: Record<Direction, StreamOpenCredit>;
  private readonly acceptLimit: Record<Direction, StreamAcceptLimit>;
  /** Index of the next peer stream of each direction not yet opened. */
  private readonly nextPeerIndex: Record<Direction, number> = { bidi: 0, uni: 0 };
  private readonly localOpen: Record<Direction, number> = { bidi: 0, uni: 0 };
  private readonly streams = new StreamTable<QuicStream>();
  /** Streams that may have STREAM data to send, in round-robin order. */
  private readonly sendQueue = new Set<number>();
  /** Streams that may have a control frame to send. */
  private readonly controlQueue = new Set<number>();
  /** Stream callbacks, made once per manager rather than per stream. */
  private readonly markSendable = (id: number): void => { this.sendQueue.add(id); };
  private readonly markControl = (id: number): void => { this.controlQueue.add(id); };
  private readonly stateChanged = (_state: unknown, id: number): void => { this.forgetIfClosed(id); };
  /** Peer streams not yet handed to the application. */
  private readonly incoming: QuicStream[] = [];
  /**
   * Received buffers kept alive by small pieces stored uncopied (borrowed), summed over streams as
   * of their last insert or read through this manager; may overstate, never understate.
   */
  private pinnedBytes = 0;

  constructor(options: StreamManagerOptions) {
    this.role = options.role;
    this.local = options.local;
    this.maxStreamWindow = options.maxStreamWindow ?? DEFAULT_MAX_STREAM_WINDOW;
    this.maxLocalStreams = options.maxLocalStreams ?? DEFAULT_LIMITS.maxConcurrentStreams;
    this.connectionCredit = new SendCredit(0);
    this.connectionWindow = new ReceiveWindow({
      initialWindow: options.local.initialMaxData,
      maxWindow: options.maxConnectionWindow ?? DEFAULT_MAX_CONNECTION_WINDOW,
      label: 'connection',
    });
    this.openCredit = { bidi: new StreamOpenCredit(0), uni: new StreamOpenCredit(0) };
    this.acceptLimit = {
      bidi: new StreamAcceptLimit(options.local.initialMaxStreamsBidi),
      uni: new StreamAcceptLimit(options.local.initialMaxStreamsUni),
    };
    if (options.peer) this.setPeerParams(options.peer);
  }

  /** Streams currently tracked (open, or closed in one direction). */
  get size(): number {
    return this.streams.size;
  }

  get(streamId: number): QuicStream | undefined {
    return this.streams.get(streamId);
  }

  /**
   * The peer's transport parameters arrived (RFC 9000 §7.4). Credits only grow, so remembered 0-RTT
   * values followed by the real ones work too.
   */
  setPeerParams(peer: StreamParams): void {
    for (const [name, value] of [
      ['initial_max_streams_bidi', peer.initialMaxStreamsBidi],
      ['initial_max_streams_uni', peer.initialMaxStreamsUni],
    ] as const) {
      // RFC 9000 §4.6: a max_streams transport parameter above 2^60 is a TRANSPORT_PARAMETER_ERROR.
      if (value > MAX_STREAM_COUNT) {
        throw new StreamError(
          TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
          `${name} ${value} exceeds 2^60`,
          'RFC 9000 §4.6',
        );
      }
    }
    this.peer = peer;
    this.connectionCredit.update(peer.initialMaxData);
    this.openCredit.bidi.update(peer.initialMaxStreamsBidi);
    this.openCredit.uni.update(peer.initialMaxStreamsUni);
    for (const stream of this.streams.values()) stream.send?.onMaxStreamData(this.peerInitialCredit(stream.id));
  }

  /** Initial send credit for a stream, from the peer's parameters (RFC 9000 §18.2). */
  private peerInitialCredit(id: number): number {
    if (this.peer === undefined) return 0;
    if (directionOf(id) === 'uni') return this.peer.initialMaxStreamDataUni;
    // The peer's "local" is a stream the peer opened.
    return isLocallyInitiated(id, this.role)
      ? this.peer.initialMaxStreamDataBidiRemote
      : this.peer.initialMaxStreamDataBidiLocal;
  }

  /** Initial receive window for a stream, from our parameters (RFC 9000 §18.2). */
  private localInitialWindow(id: number): number {
    if (directionOf(id) === 'uni') return this.local.initialMaxStreamDataUni;
    return isLocallyInitiated(id, this.role)
      ? this.local.initialMaxStreamDataBidiLocal
      : this.local.initialMaxStreamDataBidiRemote;
  }

  private createStream(id: number): QuicStream {
    const send = canSend(id, this.role)
      ? new SendStream({
          streamId: id,
          initialCredit: this.peerInitialCredit(id),
          connectionCredit: this.connectionCredit,
          onSendable: this.markSendable,
          onControl: this.markControl,
          onStateChange: this.stateChanged,
        })
      : undefined;
    const recv = canReceive(id, this.role)
      ? new RecvStream({
          streamId: id,
          initialWindow: this.localInitialWindow(id),
          maxWindow: this.maxStreamWindow,
          connectionWindow: this.connectionWindow,
          onControl: this.markControl,
          onStateChange: this.stateChanged,
          borrowSmallPieces: true,
        })
      : undefined;
    const stream = new QuicStream(id, send, recv);
    this.streams.set(id, stream);
    return stream;
  }

  /**
   * Opens one of our streams, or returns null when the peer's MAX_STREAMS (RFC 9000 §4.6; a
   * STREAMS_BLOCKED frame is then queued) or our own cap does not allow another now.
   */
  openStream(direction: Direction): QuicStream | null {
    if (this.localOpen[direction] >= this.maxLocalStreams) return null;
    const credit = this.openCredit[direction];
    if (!credit.canOpen) {
      credit.noteBlocked();
      return null;
    }
    const id = makeStreamId(this.role, direction, credit.open());
    this.localOpen[direction]++;
    return this.createStream(id);
  }

  /** The next stream the peer opened, in order of stream ID, for the application to serve. */
  acceptStream(): QuicStream | undefined {
    return this.incoming.shift();
  }

  /**
   * Finds the stream a frame is for. `part` is the part of the stream the frame acts on, `frame`
   * and `section` name the rule for errors. Returns undefined for a stream that was closed and
   * forgotten: a late frame for it is ignored.
   */
  private streamFor(streamId: number, part: 'send' | 'recv', frame: string, section: string): QuicStream | undefined {
    // A frame about our receiving part is one the peer's sending part sends, and vice versa.
    const allowed = part === 'recv' ? canReceive(streamId, this.role) : canSend(streamId, this.role);
    if (!allowed) {
      throw new StreamError(
        TransportErrorCode.STREAM_STATE_ERROR,
        `${frame} for ${part === 'recv' ? 'send-only' : 'receive-only'} stream ${streamId}`,
        section,
      );
    }
    const direction = directionOf(streamId);
    const index = streamIndex(streamId);
    if (isLocallyInitiated(streamId, this.role)) {
      if (index >= this.openCredit[direction].opened) {
        throw new StreamError(
          TransportErrorCode.STREAM_STATE_ERROR,
          `${frame} for stream ${streamId}, which we have not opened`,
          section,
        );
      }
      return this.streams.get(streamId);
    }
    this.acceptLimit[direction].onPeerStream(index); // RFC 9000 §4.6: STREAM_LIMIT_ERROR
    // RFC 9000 §3.2: a stream opens all streams of that type with lower-numbered IDs.
    while (this.nextPeerIndex[direction] <= index) {
      const id = makeStreamId(this.role === 'client' ? 'server' : 'client', direction, this.nextPeerIndex[direction]++);
      this.incoming.push(this.createStream(id));
    }
    return this.streams.get(streamId);
  }

  /** STREAM frame content (RFC 9000 §19.8). Returns the stream, or undefined if it was closed. */
  onStreamFrame(chunk: StreamChunk): QuicStream | undefined {
    const stream = this.streamFor(chunk.streamId, 'recv', 'STREAM', 'RFC 9000 §19.8');
    const recv = stream?.recv;
    if (recv === undefined) return stream;
    const pinnedBefore = recv.pinnedBytes;
    recv.onStreamFrame(chunk.offset, chunk.data, chunk.fin);
    this.pinnedBytes += recv.pinnedBytes - pinnedBefore;
    // RFC 9000 §21.7: small pieces of datagrams are usually read in the same pass and never need a
    // copy; those left unread are copied once their datagrams would add up to more than the bound.
    if (this.pinnedBytes > MAX_PINNED_BYTES) this.adoptBorrowed();
    return stream;
  }

  /** Copies every stored piece that views a received buffer: nothing stays pinned. */
  private adoptBorrowed(): void {
    for (const stream of this.streams.values()) stream.recv?.adoptBorrowed();
    this.pinnedBytes = 0;
  }

  /** RESET_STREAM (RFC 9000 §19.4). */
  onResetStream(frame: { streamId: number; errorCode: number; finalSize: number }): QuicStream | undefined {
    const stream = this.streamFor(frame.streamId, 'recv', 'RESET_STREAM', 'RFC 9000 §19.4');
    stream?.recv?.onResetStream(frame.errorCode, frame.finalSize);
    return stream;
  }

  /** STOP_SENDING (RFC 9000 §19.5): answered with RESET_STREAM (§3.5). */
  onStopSending(frame: { streamId: number; errorCode: number }): QuicStream | undefined {
    const stream = this.streamFor(frame.streamId, 'send', 'STOP_SENDING', 'RFC 9000 §19.5');
    stream?.send?.onStopSending(frame.errorCode);
    return stream;
  }

  /** MAX_STREAM_DATA (RFC 9000 §19.10). */
  onMaxStreamData(frame: { streamId: number; maximum: number }): void {
    const stream = this.streamFor(frame.streamId, 'send', 'MAX_STREAM_DATA', 'RFC 9000 §19.10');
    stream?.send?.onMaxStreamData(frame.maximum);
  }

  /** STREAM_DATA_BLOCKED (RFC 9000 §19.13). */
  onStreamDataBlocked(frame: { streamId: number; maximum: number }): void {
    const stream = this.streamFor(frame.streamId, 'recv', 'STREAM_DATA_BLOCKED', 'RFC 9000 §19.13');
    stream?.recv?.onStreamDataBlocked(frame.maximum);
  }

  /** MAX_DATA (RFC 9000 §19.9): streams waiting for connection credit may go on. */
  onMaxData(maximum: number): void {
    if (!this.connectionCredit.update(maximum)) return;
    for (const stream of this.streams.values()) stream.send?.onConnectionCreditGrew();
  }

  /** DATA_BLOCKED (RFC 9000 §19.12): repeat MAX_DATA if the peer missed it. */
  onDataBlocked(maximum: number): void {
    this.connectionWindow.resendIfAbove(maximum);
  }

  /** MAX_STREAMS (RFC 9000 §19.11). */
  onMaxStreams(direction: Direction, maximum: number): void {
    this.openCredit[direction].update(maximum);
  }

  /** STREAMS_BLOCKED (RFC 9000 §19.14): repeat MAX_STREAMS if the peer missed it. */
  onStreamsBlocked(direction: Direction, maximum: number): void {
    if (maximum > MAX_STREAM_COUNT) {
      throw new StreamError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `STREAMS_BLOCKED ${maximum} exceeds 2^60`,
        'RFC 9000 §19.14',
      );
    }
    this.acceptLimit[direction].resendIfAbove(maximum);
  }

  /**
   * The next stream whose turn it is to send a STREAM frame, round-robin: each call moves the
   * stream it returns to the back. Streams that wait only for credit stay queued (and get their
   * *_BLOCKED frame queued); streams with nothing left leave the queue.
   */
  nextStreamToSend(): SendStream | undefined {
    for (const id of this.sendQueue) {
      const send = this.streams.get(id)?.send;
      if (send === undefined || !send.hasPendingData) {
        this.sendQueue.delete(id);
        continue;
      }
      if (!send.hasChunkToSend) {
        send.checkBlocked();
        continue;
      }
      // Round robin: the stream goes to the back of the queue (where it already is when alone).
      if (this.sendQueue.size > 1) {
        this.sendQueue.delete(id);
        this.sendQueue.add(id);
      }
      return send;
    }
    return undefined;
  }

  /** Whether any stream may have data to send (cheap; nextStreamToSend() gives the answer). */
  get mayHaveDataToSend(): boolean {
    return this.sendQueue.size > 0;
  }

  /** The next STREAM frame content, at most `maxBytes` of data, from the stream whose turn it is. */
  nextChunk(maxBytes: number): StreamFrame | null {
    return this.nextStreamToSend()?.nextChunk(maxBytes) ?? null;
  }

  /**
   * RFC 9000 §4.1: a sender limited by flow control SHOULD periodically repeat DATA_BLOCKED /
   * STREAM_DATA_BLOCKED when it has no ack-eliciting packets in flight. The connection calls this
   * then (e.g. when its PTO fires with nothing to retransmit); blocked signals go out again.
   */
  repeatBlockedSignals(): void {
    this.connectionCredit.repeatBlocked();
    for (const id of this.sendQueue) this.streams.get(id)?.send?.repeatBlocked();
  }

  /** Loss recovery: a STREAM frame was acknowledged. Returns the bytes its stream released (bufferedBytes fell by). */
  onChunkAcked(chunk: SentChunk): number {
    const send = this.streams.get(chunk.streamId)?.send;
    if (send === undefined) return 0;
    const before = send.bufferedBytes;
    send.onAck(chunk.offset, chunk.length, chunk.fin);
    return before - send.bufferedBytes;
  }

  /** Loss recovery: a STREAM frame was declared lost. */
  onChunkLost(chunk: SentChunk): void {
    this.streams.get(chunk.streamId)?.send?.onLost(chunk.offset, chunk.length, chunk.fin);
  }

  /** The application reads from a stream; `now` (ms) drives window auto-tuning with `rttMs`. */
  read(streamId: number, now: number, maxBytes = Infinity): Uint8Array | null {
    const recv = this.streams.get(streamId)?.recv;
    if (recv === undefined) return null;
    const pinnedBefore = recv.pinnedBytes;
    const data = recv.read(now, this.rttMs, maxBytes);
    this.pinnedBytes += recv.pinnedBytes - pinnedBefore;
    return data;
  }

  /**
   * Control frames to send now: flow-control updates, blocked signals, resets, stop-sendings.
   * Appended to `frames` when given (the connection's queue: no array per call when there are none).
   */
  takeControlFrames(frames: StreamControlFrame[] = []): StreamControlFrame[] {
    if (this.controlQueue.size > 0) this.takeStreamControlFrames(frames);
    const maxData = this.connectionWindow.takeUpdate();
    if (maxData !== undefined) frames.push({ type: 'MAX_DATA', maximum: maxData });
    const dataBlocked = this.connectionCredit.takeBlocked();
    if (dataBlocked !== undefined) frames.push({ type: 'DATA_BLOCKED', maximum: dataBlocked });
    for (const direction of DIRECTIONS) {
      const maxStreams = this.acceptLimit[direction].takeUpdate();
      if (maxStreams !== undefined) frames.push({ type: 'MAX_STREAMS', direction, maximum: maxStreams });
      const streamsBlocked = this.openCredit[direction].takeBlocked();
      if (streamsBlocked !== undefined) frames.push({ type: 'STREAMS_BLOCKED', direction, maximum: streamsBlocked });
    }
    return frames;
  }

  /** The per-stream control frames of the streams that asked for one since the last call. */
  private takeStreamControlFrames(frames: StreamControlFrame[]): void {
    for (const id of this.controlQueue) {
      const stream = this.streams.get(id);
      if (stream === undefined) continue;
      const reset = stream.send?.takeResetStream();
      if (reset !== undefined) frames.push({ type: 'RESET_STREAM', ...reset });
      const blocked = stream.send?.takeStreamDataBlocked();
      if (blocked !== undefined) frames.push({ type: 'STREAM_DATA_BLOCKED', streamId: id, maximum: blocked });
      const stop = stream.recv?.takeStopSending();
      if (stop !== undefined) frames.push({ type: 'STOP_SENDING', streamId: id, errorCode: stop });
      const maxStreamData = stream.recv?.takeMaxStreamData();
      if (maxStreamData !== undefined) frames.push({ type: 'MAX_STREAM_DATA', streamId: id, maximum: maxStreamData });
    }
    this.controlQueue.clear();
  }

  /** A control frame we sent was acknowledged. */
  onControlFrameAcked(frame: StreamControlFrame): void {
    if (frame.type === 'RESET_STREAM') this.streams.get(frame.streamId)?.send?.onResetAcked();
  }

  /** A control frame we sent was lost: queue it again if it still matters (RFC 9000 §13.3). */
  onControlFrameLost(frame: StreamControlFrame): void {
    switch (frame.type) {
      case 'MAX_DATA':
        this.connectionWindow.onUpdateLost(frame.maximum);
        break;
      case 'DATA_BLOCKED':
        this.connectionCredit.onBlockedLost(frame.maximum);
        break;
      case 'MAX_STREAMS':
        this.acceptLimit[frame.direction].onUpdateLost(frame.maximum);
        break;
      case 'STREAMS_BLOCKED':
        this.openCredit[frame.direction].onBlockedLost(frame.maximum);
        break;
      case 'MAX_STREAM_DATA':
        this.streams.get(frame.streamId)?.recv?.onMaxStreamDataLost(frame.maximum);
        break;
      case 'STREAM_DATA_BLOCKED':
        this.streams.get(frame.streamId)?.send?.onStreamDataBlockedLost(frame.maximum);
        break;
      case 'RESET_STREAM':
        this.streams.get(frame.streamId)?.send?.onResetLost();
        break;
      case 'STOP_SENDING':
        this.streams.get(frame.streamId)?.recv?.onStopSendingLost();
        break;
    }
  }

  /**
   * Drops a stream whose parts are both terminal, so memory stays bounded; a peer stream's slot
   * is given back with MAX_STREAMS (RFC 9000 §4.6).
   */
  private forgetIfClosed(id: number): void {
    const stream = this.streams.get(id);
    if (stream === undefined || !stream.isClosed) return;
    this.streams.delete(id);
    this.sendQueue.delete(id);
    this.controlQueue.delete(id);
    const direction = directionOf(id);
    if (isLocallyInitiated(id, this.role)) this.localOpen[direction]--;
    else this.acceptLimit[direction].onStreamClosed();
  }
}
