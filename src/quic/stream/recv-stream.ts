/**
 * The receiving part of a QUIC stream (RFC 9000 §3.2): reassembly of STREAM frames, final size
 * (§4.5), stream-level receive flow control (§4.1), RESET_STREAM (§19.4), the application's read
 * with backpressure (consumed bytes release MAX_STREAM_DATA credit), and STOP_SENDING (§3.5).
 *
 * States, RFC 9000 §3.2 Figure 3:
 *
 *        o
 *        | Recv STREAM / STREAM_DATA_BLOCKED / RESET_STREAM
 *        | Create Bidirectional Stream (Sending)
 *        | Recv MAX_STREAM_DATA / STOP_SENDING (Bidirectional)
 *        | Create Higher-Numbered Stream
 *        v
 *    +-------+
 *    | Recv  | Recv RESET_STREAM
 *    |       |-----------------------.
 *    +-------+                       |
 *        | Recv STREAM + FIN         |
 *        v                           |
 *    +-------+                       |
 *    | Size  | Recv RESET_STREAM     |
 *    | Known |---------------------->|
 *    +-------+                       |
 *        | Recv All Data             |
 *        v                           v
 *    +-------+ Recv RESET_STREAM +-------+
 *    | Data  |--- (optional) --->| Reset |
 *    | Recvd |  Recv All Data    | Recvd |
 *    +-------+<-- (optional) ----+-------+
 *        | App Read All Data         | App Read Reset
 *        v                           v
 *    +-------+                   +-------+
 *    | Data  |                   | Reset |
 *    | Read  |                   | Read  |
 *    +-------+                   +-------+
 *
 * Of the two optional transitions this implementation takes neither: once all data is in, a late
 * RESET_STREAM is suppressed and the application reads the complete data (RFC 9000 §3.2: "If the
 * RESET_STREAM is suppressed, the receiving part of the stream remains in 'Data Recvd'"); once
 * reset, late data is discarded (§4.4), though still checked against the final size (§4.5).
 */
import { ReceiveWindow } from '../flow/receive-window.js';
import { Reassembler } from './reassembly.js';

export const RecvState = {
  Recv: 'Recv',
  SizeKnown: 'Size Known',
  DataRecvd: 'Data Recvd',
  DataRead: 'Data Read',
  ResetRecvd: 'Reset Recvd',
  ResetRead: 'Reset Read',
} as const;
export type RecvState = (typeof RecvState)[keyof typeof RecvState];

export type RecvEvent = 'recv fin' | 'recv all data' | 'recv reset' | 'app read all data' | 'app read reset';

/** RFC 9000 §3.2 as a table: state × event → next state. Events missing from a row change nothing. */
export const RECV_TRANSITIONS: Readonly<Record<RecvState, Partial<Record<RecvEvent, RecvState>>>> = {
  [RecvState.Recv]: {
    'recv fin': RecvState.SizeKnown, // §3.2: "Recv STREAM + FIN"
    'recv reset': RecvState.ResetRecvd, // §3.2: "Recv RESET_STREAM"
  },
  [RecvState.SizeKnown]: {
    'recv all data': RecvState.DataRecvd, // §3.2: "Recv All Data"
    'recv reset': RecvState.ResetRecvd,
  },
  [RecvState.DataRecvd]: {
    'app read all data': RecvState.DataRead, // §3.2: "App Read All Data"
  },
  [RecvState.ResetRecvd]: {
    'app read reset': RecvState.ResetRead, // §3.2: "App Read Reset"
  },
  [RecvState.DataRead]: {},
  [RecvState.ResetRead]: {},
};

export interface RecvStreamOptions {
  streamId: number;
  /** initial_max_stream_data_* we advertised for this stream (RFC 9000 §18.2). */
  initialWindow: number;
  /** Auto-tuning stops here; also bounds buffered out-of-order data. */
  maxWindow: number;
  /** The connection's receive window (MAX_DATA), charged and credited along with the stream's. */
  connectionWindow?: ReceiveWindow;
  /** Called when the stream has a control frame to send (MAX_STREAM_DATA, STOP_SENDING). */
  onControl?: (streamId: number) => void;
  /** Called after every state change. */
  onStateChange?: (state: RecvState, streamId: number) => void;
  /**
   * Keep small pieces of large datagrams uncopied until `adoptBorrowed()`; the caller then bounds
   * `pinnedBytes` (RFC 9000 §21.7). Without it they are copied on arrival.
   */
  borrowSmallPieces?: boolean;
}

export class RecvStream {
  readonly id: number;
  private _state: RecvState = RecvState.Recv;
  private readonly buffer: Reassembler;
  private readonly flow: ReceiveWindow;
  private readonly connection: ReceiveWindow | undefined;
  private _resetErrorCode: number | undefined;
  private stopSendingCode: number | undefined;
  private stopSendingPending = false;
  private readonly onControl: (streamId: number) => void;
  private readonly onStateChange: (state: RecvState, streamId: number) => void;

  constructor(options: RecvStreamOptions) {
    this.id = options.streamId;
    this.onControl = options.onControl ?? (() => {});
    this.onStateChange = options.onStateChange ?? (() => {});
    this.flow = new ReceiveWindow({
      initialWindow: options.initialWindow,
      maxWindow: options.maxWindow,
      label: options.streamId,
    });
    // Flow control keeps data within maxWindow of the read offset, so this bound is never the
    // first to trip for a well-behaved peer.
    this.buffer = new Reassembler({
      maxAhead: Math.max(options.maxWindow, options.initialWindow),
      borrowSmallPieces: options.borrowSmallPieces,
    });
    this.connection = options.connectionWindow;
  }

  get state(): RecvState {
    return this._state;
  }

  /** Error code of the peer's RESET_STREAM, once received. */
  get resetErrorCode(): number | undefined {
    return this._resetErrorCode;
  }

  /** Final size, once known from a fin or RESET_STREAM (RFC 9000 §4.5). */
  get finalSize(): number | undefined {
    return this.buffer.finalSize;
  }

  /** Bytes the application can read now. */
  get readableBytes(): number {
    return this.isDiscarding ? 0 : this.buffer.readableBytes;
  }

  /** Bytes held for the application (in order or not). */
  get bufferedBytes(): number {
    return this.buffer.bufferedBytes;
  }

  /** Size of the received buffers that buffered data keeps alive uncopied (with borrowSmallPieces). */
  get pinnedBytes(): number {
    return this.buffer.pinnedBytes;
  }

  /** Copies buffered pieces that still view received buffers, so that those can be freed. */
  adoptBorrowed(): void {
    this.buffer.adoptBorrowed();
  }

  /** The stream-level receive window (MAX_STREAM_DATA we advertise). */
  get window(): ReceiveWindow {
    return this.flow;
  }

  /** Terminal: nothing more will happen on the receiving part (RFC 9000 §3.2 "Data Read", "Reset Read"). */
  get isClosed(): boolean {
    return this._state === RecvState.DataRead || this._state === RecvState.ResetRead;
  }

  /** Data is counted but not kept: the peer reset, or we asked it to stop. */
  private get isDiscarding(): boolean {
    return (
      this._state === RecvState.ResetRecvd ||
      this._state === RecvState.ResetRead ||
      this.stopSendingCode !== undefined
    );
  }

  private apply(event: RecvEvent): void {
    const next = RECV_TRANSITIONS[this._state][event];
    if (next === undefined || next === this._state) return;
    this._state = next;
    this.onStateChange(next, this.id);
  }

  /** Content of a STREAM frame for this stream (RFC 9000 §19.8). */
  onStreamFrame(offset: number, data: Uint8Array, fin: boolean): void {
    // RFC 9000 §4.5: final size rules apply in every state, "even after a stream is closed".
    this.buffer.checkFinalSize(offset, data.byteLength, fin);
    const grown = Math.max(0, offset + data.byteLength - this.buffer.highestOffset);
    this.chargeCredit(grown);
    if (this.isDiscarding) {
      const before = this.buffer.readOffset;
      this.buffer.insert(offset, data, fin, true);
      this.connection?.release(this.buffer.readOffset - before);
    } else {
      this.buffer.insert(offset, data, fin);
    }
    if (fin) {
      this.apply('recv fin');
      // RFC 9000 §3.2: in "Size Known" the receiver does not need to send MAX_STREAM_DATA.
      this.flow.cancelUpdate();
    }
    this.settle();
  }

  /** Follows the transitions that need no further input. */
  private settle(): void {
    if (this.buffer.isComplete) this.apply('recv all data');
    // An application that stopped reading has, in effect, read whatever ends the stream.
    if (this.stopSendingCode !== undefined) {
      this.apply(this._state === RecvState.ResetRecvd ? 'app read reset' : 'app read all data');
    }
  }

  /**
   * A RESET_STREAM frame (RFC 9000 §19.4). The final size is checked as for a fin (§4.5), counts
   * against flow control (§4.5: "the final size is the amount of flow control credit consumed"),
   * and what was buffered is dropped, its connection credit given back.
   */
  onResetStream(errorCode: number, finalSize: number): void {
    this.buffer.checkFinalSize(finalSize, 0, true);
    this.chargeCredit(Math.max(0, finalSize - this.buffer.highestOffset));
    this.buffer.setFinalSize(finalSize);
    if (this._state !== RecvState.Recv && this._state !== RecvState.SizeKnown) return;
    this._resetErrorCode = errorCode;
    this.apply('recv reset');
    this.flow.cancelUpdate();
    this.stopSendingPending = false;
    const skipped = this.buffer.skipTo(finalSize);
    this.connection?.release(skipped);
    this.settle();
  }

  private chargeCredit(bytes: number): void {
    if (bytes <= 0) return;
    this.flow.onReceived(bytes);
    this.connection?.onReceived(bytes);
  }

  /**
   * The application reads up to `maxBytes` in order. Returns null when nothing is readable; check
   * `state` then: "Data Read" means the stream ended, "Reset Read" that the peer reset it (the
   * call that returns null in "Reset Recvd" delivers the reset). `now` and `rttMs` tune the window.
   */
  read(now: number, rttMs: number, maxBytes = Infinity): Uint8Array | null {
    if (this._state === RecvState.ResetRecvd) {
      this.apply('app read reset');
      return null;
    }
    if (this.isDiscarding) return null;
    const data = this.buffer.read(maxBytes);
    if (data !== null) {
      this.flow.onConsumed(data.byteLength, now, rttMs);
      if (this._state !== RecvState.Recv) this.flow.cancelUpdate();
      if (this.connection) {
        this.connection.onConsumed(data.byteLength, now, rttMs);
        // Keep the connection window ahead of the stream windows it serves.
        this.connection.ensureWindow(Math.floor(this.flow.window * 1.5));
      }
      if (this.flow.hasUpdate) this.onControl(this.id);
    }
    if (this.buffer.isFinished) this.apply('app read all data');
    return data;
  }

  /**
   * The application will not read more: ask the peer to stop (STOP_SENDING, RFC 9000 §3.5) and drop
   * what is buffered. Only meaningful before all data or a reset has arrived (§3.5: "Recv" or
   * "Size Known"); otherwise the buffered data is just discarded.
   */
  stopSending(errorCode: number): void {
    if (this.stopSendingCode !== undefined || this.isClosed) return;
    this.stopSendingCode = errorCode;
    this.stopSendingPending = this._state === RecvState.Recv || this._state === RecvState.SizeKnown;
    if (this.stopSendingPending) this.onControl(this.id);
    this.flow.cancelUpdate();
    const skipped = this.buffer.skipTo(this.buffer.highestOffset);
    this.connection?.release(skipped);
    this.settle();
  }

  /** The error code for a STOP_SENDING frame, once per request. */
  takeStopSending(): number | undefined {
    if (!this.stopSendingPending) return undefined;
    this.stopSendingPending = false;
    return this.stopSendingCode;
  }

  /**
   * RFC 9000 §3.5: a lost STOP_SENDING is sent again, but only while the stream is in "Recv" or
   * "Size Known"; once all data or a reset has arrived it is unnecessary.
   */
  onStopSendingLost(): void {
    if (this._state === RecvState.Recv || this._state === RecvState.SizeKnown) {
      this.stopSendingPending = this.stopSendingCode !== undefined;
      if (this.stopSendingPending) this.onControl(this.id);
    }
  }

  /** A new limit for MAX_STREAM_DATA (RFC 9000 §19.10). RFC 9000 §3.3: only sent in the "Recv" state. */
  takeMaxStreamData(): number | undefined {
    if (this._state !== RecvState.Recv || this.stopSendingCode !== undefined) return undefined;
    return this.flow.takeUpdate();
  }

  /** RFC 9000 §13.3: a lost MAX_STREAM_DATA is replaced by the current limit, while in "Recv" (§3.3). */
  onMaxStreamDataLost(maximum: number): void {
    if (this._state !== RecvState.Recv || this.stopSendingCode !== undefined) return;
    this.flow.onUpdateLost(maximum);
    if (this.flow.hasUpdate) this.onControl(this.id);
  }

  /**
   * The peer sent STREAM_DATA_BLOCKED at `maximum` (RFC 9000 §19.13). If our limit is higher, the
   * update was lost or is in flight: send it again.
   */
  onStreamDataBlocked(maximum: number): void {
    if (this._state !== RecvState.Recv || this.stopSendingCode !== undefined) return;
    this.flow.resendIfAbove(maximum);
    if (this.flow.hasUpdate) this.onControl(this.id);
  }
}
