/**
 * The sending part of a QUIC stream (RFC 9000 §3.1): the application's chunks, cut into STREAM
 * frame payloads that fit a byte budget; lost ranges retransmitted before new data (§13.3);
 * acknowledged bytes released; the fin; stream-level send credit (§4.1) with STREAM_DATA_BLOCKED;
 * RESET_STREAM, including the one STOP_SENDING asks for (§3.5).
 *
 * States, RFC 9000 §3.1 Figure 2:
 *
 *        o
 *        | Create Stream (Sending)
 *        | Peer Creates Bidirectional Stream
 *        v
 *    +-------+
 *    | Ready | Send RESET_STREAM
 *    |       |-----------------------.
 *    +-------+                       |
 *        | Send STREAM /             |
 *        |      STREAM_DATA_BLOCKED  |
 *        v                           |
 *    +-------+                       |
 *    | Send  | Send RESET_STREAM     |
 *    |       |---------------------->|
 *    +-------+                       |
 *        | Send STREAM + FIN         |
 *        v                           v
 *    +-------+                   +-------+
 *    | Data  | Send RESET_STREAM | Reset |
 *    | Sent  |------------------>| Sent  |
 *    +-------+                   +-------+
 *        | Recv All ACKs             | Recv ACK
 *        v                           v
 *    +-------+                   +-------+
 *    | Data  |                   | Reset |
 *    | Recvd |                   | Recvd |
 *    +-------+                   +-------+
 *
 * The caller reports the fate of each chunk it sent with `onAck` / `onLost` (from loss recovery),
 * and of each RESET_STREAM with `onResetAcked` / `onResetLost`. Written chunks are kept by
 * reference until acknowledged: callers must not modify them after `write`.
 */
import type { StreamFrame } from '../frames/types.js';
import { SendCredit } from '../flow/send-credit.js';
import { StreamUsageError } from './errors.js';
import { RangeSet } from './range-set.js';

export const SendState = {
  Ready: 'Ready',
  Send: 'Send',
  DataSent: 'Data Sent',
  DataRecvd: 'Data Recvd',
  ResetSent: 'Reset Sent',
  ResetRecvd: 'Reset Recvd',
} as const;
export type SendState = (typeof SendState)[keyof typeof SendState];

export type SendEvent = 'send data' | 'send fin' | 'recv all acks' | 'send reset' | 'recv reset ack';

/** RFC 9000 §3.1 as a table: state × event → next state. Events missing from a row change nothing. */
export const SEND_TRANSITIONS: Readonly<Record<SendState, Partial<Record<SendEvent, SendState>>>> = {
  [SendState.Ready]: {
    'send data': SendState.Send, // §3.1: "Send STREAM / STREAM_DATA_BLOCKED"
    'send fin': SendState.DataSent, // a STREAM frame with FIN passes through "Send" to "Data Sent"
    'send reset': SendState.ResetSent, // §3.1: "Send RESET_STREAM"
  },
  [SendState.Send]: {
    'send fin': SendState.DataSent, // §3.1: "Send STREAM + FIN"
    'send reset': SendState.ResetSent,
  },
  [SendState.DataSent]: {
    'recv all acks': SendState.DataRecvd, // §3.1: "Recv All ACKs"
    'send reset': SendState.ResetSent,
  },
  [SendState.ResetSent]: {
    'recv reset ack': SendState.ResetRecvd, // §3.1: "Recv ACK"
  },
  [SendState.DataRecvd]: {},
  [SendState.ResetRecvd]: {},
};

/** Content of one STREAM frame (RFC 9000 §19.8), without the encoding. */
export interface StreamChunk {
  streamId: number;
  offset: number;
  data: Uint8Array;
  fin: boolean;
}

export interface SendStreamOptions {
  streamId: number;
  /** The peer's initial_max_stream_data_* for this stream (RFC 9000 §18.2). */
  initialCredit: number;
  /** The connection's send credit (MAX_DATA), shared by all streams. */
  connectionCredit?: SendCredit;
  /** Called when the stream may have a STREAM frame to send (new data, loss, more credit). */
  onSendable?: (streamId: number) => void;
  /** Called when the stream has a control frame to send (RESET_STREAM, STREAM_DATA_BLOCKED). */
  onControl?: (streamId: number) => void;
  /** Called after every state change. */
  onStateChange?: (state: SendState, streamId: number) => void;
}

interface Chunk {
  offset: number;
  data: Uint8Array;
}

const EMPTY = new Uint8Array(0);
/** The callback an option left out: one function for every stream, not three closures per stream (issue 5). */
const ignore = (): void => {};

export class SendStream {
  readonly id: number;
  private _state: SendState = SendState.Ready;
  private readonly flow: SendCredit;
  private readonly connection: SendCredit | undefined;
  private readonly onSendable: (streamId: number) => void;
  private readonly onControl: (streamId: number) => void;
  private readonly onStateChange: (state: SendState, streamId: number) => void;

  /** Written chunks not yet released; `chunks[head]` is the lowest one kept. */
  private chunks: Chunk[] = [];
  private head = 0;
  private writtenEnd = 0;
  /** Offset of the next new byte to send; every byte below it was sent at least once. */
  private sentEnd = 0;
  /** Bytes below this are acknowledged and their chunks dropped. */
  private releasedOffset = 0;
  /**
   * Acknowledged ranges above `releasedOffset` (acknowledged out of order). Kept empty while
   * acknowledgments arrive in order, the usual case, so that they allocate nothing.
   */
  private readonly acked = new RangeSet();
  private readonly lost = new RangeSet();

  private _finalSize: number | undefined;
  private finSent = false;
  private finLost = false;
  private finAcked = false;

  private resetFrame: { errorCode: number; finalSize: number } | undefined;
  private resetPending = false;

  constructor(options: SendStreamOptions) {
    this.id = options.streamId;
    this.flow = new SendCredit(options.initialCredit);
    this.connection = options.connectionCredit;
    this.onSendable = options.onSendable ?? ignore;
    this.onControl = options.onControl ?? ignore;
    this.onStateChange = options.onStateChange ?? ignore;
  }

  get state(): SendState {
    return this._state;
  }

  /** The stream-level credit from the peer (MAX_STREAM_DATA). */
  get credit(): SendCredit {
    return this.flow;
  }

  /** Bytes written and not yet acknowledged (memory held): the application's backpressure signal. */
  get bufferedBytes(): number {
    return this.writtenEnd - this.releasedOffset;
  }

  /** Total bytes written by the application. */
  get writtenBytes(): number {
    return this.writtenEnd;
  }

  /** The final size, once `end()` was called or the stream was reset (RFC 9000 §4.5). */
  get finalSize(): number | undefined {
    return this.resetFrame?.finalSize ?? this._finalSize;
  }

  /** Terminal: every byte and the fin were acknowledged, or the reset was (RFC 9000 §3.1). */
  get isClosed(): boolean {
    return this._state === SendState.DataRecvd || this._state === SendState.ResetRecvd;
  }

  /** The application can still write: not ended, not reset. */
  get isWritable(): boolean {
    return this._finalSize === undefined && this.resetFrame === undefined;
  }

  private get isSending(): boolean {
    return this._state === SendState.Ready || this._state === SendState.Send || this._state === SendState.DataSent;
  }

  private apply(event: SendEvent): void {
    const next = SEND_TRANSITIONS[this._state][event];
    if (next === undefined || next === this._state) return;
    this._state = next;
    this.onStateChange(next, this.id);
  }

  /**
   * Queues `data` (kept by reference). After a reset the data is dropped: the peer will not get it
   * and the application need not care. Writing after `end()` is a usage error.
   */
  write(data: Uint8Array): void {
    if (this.resetFrame !== undefined) return;
    if (this._finalSize !== undefined) throw new StreamUsageError(`stream ${this.id}: write after end`);
    if (data.byteLength === 0) return;
    this.chunks.push({ offset: this.writtenEnd, data });
    this.writtenEnd += data.byteLength;
    this.onSendable(this.id);
  }

  /** No more data: the final size is what was written (RFC 9000 §4.5); a fin will be sent. */
  end(): void {
    if (this.resetFrame !== undefined || this._finalSize !== undefined) return;
    this._finalSize = this.writtenEnd;
    this.onSendable(this.id);
  }

  /**
   * Abandons the stream with an application error code (RFC 9000 §3.1 "Send RESET_STREAM", §19.4).
   * The final size is the amount of data sent so far (§4.5). Nothing is retransmitted afterwards.
   */
  reset(errorCode: number): void {
    if (!this.isSending) return;
    this.resetFrame = { errorCode, finalSize: this.sentEnd };
    this.resetPending = true;
    this.apply('send reset');
    this.releaseAll();
    this.onControl(this.id);
  }

  /**
   * The peer sent STOP_SENDING (RFC 9000 §3.5): "An endpoint that receives a STOP_SENDING frame MUST
   * send a RESET_STREAM frame if the stream is in the 'Ready' or 'Send' state", and it SHOULD copy
   * the error code. In "Data Sent" we reset too rather than retransmit. Returns whether it reset.
   */
  onStopSending(errorCode: number): boolean {
    if (!this.isSending) return false;
    this.reset(errorCode);
    return true;
  }

  /** MAX_STREAM_DATA from the peer (RFC 9000 §19.10); a smaller value is ignored (§4.1). */
  onMaxStreamData(maximum: number): void {
    if (this.flow.update(maximum) && this.isSending && this.writtenEnd > this.sentEnd) this.onSendable(this.id);
  }

  /** The connection's MAX_DATA grew: a stream blocked on it may go on. */
  onConnectionCreditGrew(): void {
    if (this.isSending && this.writtenEnd > this.sentEnd) this.onSendable(this.id);
  }

  private get finNeedsSending(): boolean {
    return this._finalSize !== undefined && !this.finAcked && (!this.finSent || this.finLost);
  }

  /** Bytes of new data that credit lets us send now. */
  private get newBytesAllowed(): number {
    const unsent = this.writtenEnd - this.sentEnd;
    return Math.min(unsent, this.flow.available, this.connection?.available ?? Infinity);
  }

  /** Whether `nextChunk` would return something now. */
  get hasChunkToSend(): boolean {
    if (!this.isSending) return false;
    if (!this.lost.isEmpty || this.newBytesAllowed > 0) return true;
    return this.finNeedsSending && this.sentEnd === this._finalSize;
  }

  /** Whether the stream has anything left to send at all, credit or not. */
  get hasPendingData(): boolean {
    return this.isSending && (!this.lost.isEmpty || this.writtenEnd > this.sentEnd || this.finNeedsSending);
  }

  /**
   * The next STREAM frame content with at most `maxBytes` of data: lost data first (RFC 9000 §13.3),
   * then new data within stream and connection credit (§4.1), then a lone fin. Returns null when
   * nothing can be sent; if credit is what stops us, a *_BLOCKED frame is queued (§4.1).
   */
  nextChunk(maxBytes: number): StreamFrame | null {
    if (!this.isSending) return null;
    const lost = this.lost.first();
    if (lost !== undefined && maxBytes > 0) {
      const end = Math.min(lost.end, lost.start + maxBytes);
      this.lost.remove(lost.start, end);
      return this.emit(lost.start, end);
    }
    const allowed = Math.min(this.newBytesAllowed, maxBytes);
    if (allowed > 0) {
      const start = this.sentEnd;
      this.flow.consume(allowed);
      this.connection?.consume(allowed);
      this.sentEnd += allowed;
      this.apply('send data');
      return this.emit(start, start + allowed);
    }
    if (this.writtenEnd > this.sentEnd) this.noteBlocked();
    if (this.finNeedsSending && this.sentEnd === this._finalSize) return this.emit(this.sentEnd, this.sentEnd);
    return null;
  }

  /** Queues STREAM_DATA_BLOCKED / DATA_BLOCKED if unsent data waits only for credit (RFC 9000 §4.1). */
  checkBlocked(): void {
    if (this.isSending && this.lost.isEmpty && this.writtenEnd > this.sentEnd && this.newBytesAllowed === 0) {
      this.noteBlocked();
    }
  }

  private noteBlocked(): void {
    if (this.flow.available === 0) {
      this.flow.noteBlocked();
      this.onControl(this.id);
    }
    if (this.connection !== undefined && this.connection.available === 0) this.connection.noteBlocked();
  }

  /** Builds the chunk for [start, end), with the fin if it ends the stream and the fin is owed. */
  private emit(start: number, end: number): StreamFrame {
    const fin = end === this._finalSize && this.finNeedsSending;
    if (fin) {
      this.finSent = true;
      this.finLost = false;
      this.apply('send fin');
    }
    // Shaped as the STREAM frame itself, so the packet builder sends it without another object.
    return { type: 'stream', streamId: this.id, offset: start, data: this.bytes(start, end), fin };
  }

  /** The written bytes [start, end): a view when they lie in one chunk, else a copy of the parts. */
  private bytes(start: number, end: number): Uint8Array {
    if (start === end) return EMPTY;
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.chunks[mid]!.offset <= start) lo = mid;
      else hi = mid - 1;
    }
    const first = this.chunks[lo]!;
    if (end <= first.offset + first.data.byteLength) {
      return first.data.subarray(start - first.offset, end - first.offset);
    }
    const out = Buffer.allocUnsafe(end - start);
    let filled = 0;
    for (let i = lo; filled < out.byteLength; i++) {
      const chunk = this.chunks[i]!;
      const from = start + filled - chunk.offset;
      const to = Math.min(chunk.data.byteLength, end - chunk.offset);
      out.set(chunk.data.subarray(from, to), filled);
      filled += to - from;
    }
    return out;
  }

  /**
   * A chunk we sent was acknowledged. Returns how many of its bytes were acknowledged for the first
   * time. Reaching "Data Recvd" needs every byte and the fin acknowledged (RFC 9000 §3.1).
   */
  onAck(offset: number, length: number, fin: boolean): number {
    if (!this.isSending) return 0;
    const end = Math.min(offset + length, this.sentEnd);
    const newlyAcked = this.recordAck(offset, end);
    this.lost.remove(offset, end);
    if (fin && this.finSent) {
      this.finAcked = true;
      this.finLost = false;
    }
    if (this.finAcked && this.releasedOffset === this._finalSize) {
      this.apply('recv all acks');
      this.releaseAll();
    }
    return newlyAcked;
  }

  /**
   * A chunk we sent was declared lost: its bytes not acknowledged since go back to the to-send set
   * (RFC 9000 §13.3). Nothing is retransmitted once the stream is reset (§13.3) or fully acked.
   */
  onLost(offset: number, length: number, fin: boolean): void {
    if (!this.isSending) return;
    const end = Math.min(offset + length, this.sentEnd);
    // Bytes below releasedOffset were acknowledged: only the rest can be lost (RFC 9000 §13.3).
    const start = Math.max(offset, this.releasedOffset);
    if (start < end) for (const gap of this.acked.gaps(start, end)) this.lost.add(gap.start, gap.end);
    if (fin && this.finSent && !this.finAcked) this.finLost = true;
    if (this.hasChunkToSend) this.onSendable(this.id);
  }

  /**
   * Marks [offset, end) acknowledged; returns how many of its bytes were not before. An
   * acknowledgment that extends the acknowledged prefix moves `releasedOffset` (with any ranges
   * acknowledged ahead of it that it now reaches) and drops the chunks below it.
   */
  private recordAck(offset: number, end: number): number {
    const start = Math.max(offset, this.releasedOffset);
    if (start >= end) return 0;
    if (start > this.releasedOffset) return this.acked.add(start, end);
    let newlyAcked = end - start;
    let prefixEnd = end;
    // Ranges acknowledged ahead that this one reaches join the prefix; their bytes were counted.
    for (let next = this.acked.first(); next !== undefined && next.start <= prefixEnd; next = this.acked.first()) {
      newlyAcked -= Math.max(0, Math.min(end, next.end) - next.start);
      prefixEnd = Math.max(prefixEnd, next.end);
      this.acked.removeFirst();
    }
    this.releaseBelow(prefixEnd);
    return newlyAcked;
  }

  /** Drops chunks that lie wholly below the new acknowledged prefix `releasedOffset`. */
  private releaseBelow(releasedOffset: number): void {
    this.releasedOffset = releasedOffset;
    while (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head]!;
      if (chunk.offset + chunk.data.byteLength > this.releasedOffset) break;
      this.head++;
    }
    // Compact now and then rather than shift() per chunk.
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private releaseAll(): void {
    this.chunks = [];
    this.head = 0;
    this.releasedOffset = this.writtenEnd;
    this.lost.clear();
    this.acked.clear();
  }

  /** The RESET_STREAM frame content (RFC 9000 §19.4) while one is owed. */
  takeResetStream(): { streamId: number; errorCode: number; finalSize: number } | undefined {
    if (!this.resetPending || this.resetFrame === undefined) return undefined;
    this.resetPending = false;
    return { streamId: this.id, ...this.resetFrame };
  }

  /** RFC 9000 §3.1: "Reset Sent" → "Reset Recvd" once the RESET_STREAM is acknowledged. */
  onResetAcked(): void {
    this.apply('recv reset ack');
  }

  /** RFC 9000 §13.3: a lost RESET_STREAM is sent again until acknowledged. */
  onResetLost(): void {
    if (this._state === SendState.ResetSent) {
      this.resetPending = true;
      this.onControl(this.id);
    }
  }

  /** The limit for a STREAM_DATA_BLOCKED frame (RFC 9000 §19.13), once per limit. */
  takeStreamDataBlocked(): number | undefined {
    if (!this.isSending) return undefined;
    const limit = this.flow.takeBlocked();
    if (limit !== undefined) this.apply('send data'); // §3.1: STREAM_DATA_BLOCKED also leaves "Ready"
    return limit;
  }

  /** Repeats STREAM_DATA_BLOCKED if still blocked (RFC 9000 §4.1: periodically, when idle). */
  repeatBlocked(): void {
    if (!this.isSending) return;
    this.flow.repeatBlocked();
    this.onControl(this.id);
  }

  /** A STREAM_DATA_BLOCKED frame was lost: repeat it if still blocked at that limit. */
  onStreamDataBlockedLost(maximum: number): void {
    if (!this.isSending) return;
    this.flow.onBlockedLost(maximum);
    this.onControl(this.id);
  }
}
