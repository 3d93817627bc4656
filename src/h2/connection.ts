/**
 * One HTTP/2 connection, sans-I/O (RFC 9113), for either role. Bytes come in through `receive()`,
 * frames to write come out of `transmit()`, time comes in as `now`; the drivers (server.ts,
 * client.ts) own the socket and the timer. What a request or response means is left to the session
 * on top (connection/server-session.ts, connection/client-session.ts) through `H2Events`.
 *
 * The story of a frame: receive → FrameDecoder (§4.1, §4.2, §3.4 preface) → FieldBlockAssembler
 * (§4.3, §6.10) → flood counters (§10.5) → one handler per type → stream state (stream.ts, §5.1),
 * flow control (flow.ts, §5.2, §6.9), field validation (headers.ts, §8) → events or output.
 *
 * Output: control frames and field blocks are queued at once, in order (HPACK state follows the
 * order of encoding, §4.3); DATA is cut from per-stream queues only in `transmit()`, by the
 * scheduler (RFC 9218 urgency, round robin within one urgency), within the flow-control windows
 * and the peer's SETTINGS_MAX_FRAME_SIZE, as views of the application's buffers (no copy).
 *
 * Errors (§5.4): a stream error sends RST_STREAM and the connection goes on; a connection error
 * sends GOAWAY with the last peer stream we processed, and the connection closes.
 */
import { resolveLimits, type Limits } from '../core/limits.js';
import { ErrorCode, H2Error, connectionError, errorCodeName, streamError } from './errors.js';
import {
  CONNECTION_PREFACE, FRAME_HEADER_LENGTH, FieldBlockAssembler, FrameDecoder, FrameType, Flag, MAX_STREAM_ID,
  encodeFrame, encodeHeadersBlock, encodePushPromiseBlock, writeFrameHeader,
  type AssembledFrame, type DataFrame, type FieldBlock, type Frame, type GoawayFrame, type PingFrame,
  type PriorityUpdateFrame, type RstStreamFrame, type SettingsFrame, type WindowUpdateFrame,
} from './frame.js';
import { HpackDecoder, HpackEncoder, HeaderListTooLargeError, type FieldInput, type HeaderField } from './hpack.js';
import { DEFAULT_SETTINGS, applySettings, settingsEntries, type Settings } from './settings.js';
import { ReceiveFlow, SendFlow, flowControlledLength, type ReceiveFlowOptions, type WindowUpdate } from './flow.js';
import { StreamRegistry, StreamState, type Role, type Stream } from './stream.js';
import {
  ContentLengthCheck, contentLengthOf, validateRequestHeaders, validateResponseHeaders, validateTrailers,
  type RequestHead,
} from './headers.js';
import { DEFAULT_PRIORITY, SendScheduler, parsePriority, type Priority } from './connection/scheduler.js';
import { createStreamRecord, type StreamRecord } from './connection/stream-record.js';
import type { H2Events } from './connection/events.js';

export type { H2Events };
import { RateCounter } from './connection/flood.js';
import { describeFrame } from './connection/trace.js';

export interface H2ConnectionOptions {
  role: Role;
  limits?: Partial<Limits>;
  now?: number;
  /** Settings we announce beyond the defaults derived from limits (e.g. a client's enablePush). */
  settings?: Partial<Settings>;
  receiveWindow?: ReceiveFlowOptions;
  /** Close a connection with no stream open for limits.idleTimeoutMs (default true for servers). */
  idleTimeout?: boolean;
  trace?: (line: string) => void;
}

/** Output may run ahead of the socket by this much before DATA generation pauses. */
const OUTPUT_BUDGET = 256 * 1024;
const PING_PAYLOAD_SHUTDOWN = Buffer.from('h123shut', 'latin1');

export type ConnectionState = 'open' | 'draining' | 'closed';

export class H2Connection {
  readonly role: Role;
  state: ConnectionState = 'open';
  /** Bytes the transport has buffered but not written (set by the driver). */
  transportBuffered = 0;
  /** The driver is asked to call transmit() (output queued outside of receive()). */
  onWake: (() => void) | null = null;
  events: H2Events = {};
  readonly limits: Limits;
  /** Settings we announced; in force once acknowledged (§6.5.3). */
  readonly localSettings: Settings;
  /** The peer's settings in force. */
  peerSettings: Settings = { ...DEFAULT_SETTINGS };
  /** The error that ended the connection, if any. */
  error: H2Error | null = null;

  private readonly decoder: FrameDecoder;
  private readonly assembler: FieldBlockAssembler;
  private readonly hpackDecoder: HpackDecoder;
  private readonly hpackEncoder = new HpackEncoder();
  private readonly registry: StreamRegistry;
  private readonly sendFlow = new SendFlow();
  private readonly recvFlow: ReceiveFlow;
  private readonly scheduler = new SendScheduler();
  private readonly records = new Map<number, StreamRecord>();
  private readonly trace: ((line: string) => void) | undefined;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private now: number;
  private peerSettingsSeen = false;
  /** Send times of our SETTINGS frames awaiting ACK (§6.5.3). */
  private readonly settingsAcks: number[] = [];
  private readonly resets: RateCounter;
  private readonly controlFrames: RateCounter;
  /** Highest peer-initiated stream we processed: GOAWAY's last-stream-id (§6.8). */
  private lastRemoteId = 0;
  /** Peer stream identifiers skipped over, [from, to] (§5.1.1). */
  private readonly skippedRanges: [number, number][] = [];
  /** last-stream-id of the GOAWAY we sent (streams above it are ignored, §6.8). */
  private goawaySentId: number | null = null;
  /** Graceful shutdown step 1 sent; step 2 goes out on the PING ACK or at this time (§6.8). */
  private shutdownPingAt: number | null = null;
  private goawayReceivedId: number | null = null;
  /** Priorities sent by PRIORITY_UPDATE before their stream opened (RFC 9218 §7.1), bounded. */
  private readonly earlyPriorities = new Map<number, Priority>();
  private idleSince: number;
  private readonly idleTimeout: boolean;
  private closeNotified = false;

  constructor(options: H2ConnectionOptions) {
    this.role = options.role;
    this.limits = resolveLimits(options.limits);
    this.now = options.now ?? 0;
    this.idleSince = this.now;
    this.idleTimeout = options.idleTimeout ?? options.role === 'server';
    this.trace = options.trace;
    this.decoder = new FrameDecoder({ expectPreface: this.role === 'server' });
    this.assembler = new FieldBlockAssembler({
      maxBlockBytes: this.limits.maxHeaderBlockBytes,
      maxContinuationFrames: this.limits.maxContinuationFrames,
    });
    this.hpackDecoder = new HpackDecoder({ maxHeaderListSize: this.limits.maxHeaderListBytes });
    this.registry = new StreamRegistry(this.role);
    this.recvFlow = new ReceiveFlow(options.receiveWindow);
    this.resets = new RateCounter(this.limits.maxResetsPerWindow, this.limits.floodWindowMs);
    this.controlFrames = new RateCounter(this.limits.maxControlFramesPerWindow, this.limits.floodWindowMs);
    this.localSettings = {
      ...DEFAULT_SETTINGS,
      maxConcurrentStreams: this.limits.maxConcurrentStreams,
      initialWindowSize: this.recvFlow.initialWindowSize,
      maxHeaderListSize: this.limits.maxHeaderListBytes,
      // RFC 9218 §2.1: we ignore RFC 7540 priority signals, and say so.
      noRfc7540Priorities: true,
      ...(this.role === 'client' && { enablePush: false }),
      ...options.settings,
    };
    // RFC 9113 §3.4: the client preface, then each side's SETTINGS as its first frame.
    if (this.role === 'client') this.queue(CONNECTION_PREFACE);
    this.sendSettings(settingsEntries(this.localSettings));
    this.recvFlow.settingsSent(this.localSettings.initialWindowSize);
    const raise = this.recvFlow.initialConnectionUpdate();
    if (raise) this.sendWindowUpdate(raise);
  }

  // ---------------------------------------------------------------- driver side

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Bytes from the peer. */
  receive(bytes: Uint8Array, now: number): void {
    if (this.state === 'closed') return;
    this.now = now;
    this.decoder.push(bytes);
    try {
      while (!this.isClosed()) {
        let frame: Frame | null;
        try {
          frame = this.decoder.next();
        } catch (error) {
          if (error instanceof H2Error && error.scope === 'stream') {
            this.streamFailed(error);
            continue;
          }
          throw error;
        }
        if (!frame) break;
        this.trace?.(`recv ${describeFrame(frame)}`);
        try {
          this.onFrame(frame);
        } catch (error) {
          if (error instanceof H2Error && error.scope === 'stream') this.streamFailed(error);
          else throw error;
        }
      }
    } catch (error) {
      this.fail(error instanceof H2Error ? error : connectionError(ErrorCode.INTERNAL_ERROR, String((error as Error)?.message ?? error), 'RFC 9113 §5.4.1'));
    }
  }

  /** The frames to write now, as pieces for one gathered write. */
  transmit(): Uint8Array[] {
    this.fillData();
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    return out;
  }

  /** True once the connection is over and its output (GOAWAY) is taken: close the socket. */
  get shouldClose(): boolean {
    if (this.outBytes > 0) return false;
    if (this.state === 'closed') return true;
    return this.state === 'draining' && this.goawaySentId !== null && this.shutdownPingAt === null && this.records.size === 0;
  }

  /** The earliest time handleTimeout() must run, or undefined. */
  nextTimeout(): number | undefined {
    if (this.state === 'closed') return undefined;
    let at = Infinity;
    if (this.settingsAcks.length > 0) at = Math.min(at, this.settingsAcks[0]! + this.limits.settingsAckTimeoutMs);
    if (this.shutdownPingAt !== null) at = Math.min(at, this.shutdownPingAt + this.limits.settingsAckTimeoutMs);
    if (this.idleTimeout && this.records.size === 0 && this.state === 'open') at = Math.min(at, this.idleSince + this.limits.idleTimeoutMs);
    for (const record of this.records.values()) {
      if (record.blockedSince !== null) at = Math.min(at, record.blockedSince + this.limits.zeroWindowTimeoutMs);
    }
    return at === Infinity ? undefined : at;
  }

  handleTimeout(now: number): void {
    if (this.state === 'closed') return;
    this.now = now;
    // RFC 9113 §6.5.3: no ACK in time is a connection error SETTINGS_TIMEOUT.
    if (this.settingsAcks.length > 0 && now >= this.settingsAcks[0]! + this.limits.settingsAckTimeoutMs) {
      this.fail(connectionError(ErrorCode.SETTINGS_TIMEOUT, 'SETTINGS not acknowledged in time', 'RFC 9113 §6.5.3'));
      return;
    }
    if (this.shutdownPingAt !== null && now >= this.shutdownPingAt + this.limits.settingsAckTimeoutMs) this.finalGoaway();
    if (this.idleTimeout && this.records.size === 0 && this.state === 'open' && now >= this.idleSince + this.limits.idleTimeoutMs) {
      this.goaway(ErrorCode.NO_ERROR, 'idle');
      return;
    }
    for (const record of [...this.records.values()]) {
      if (record.blockedSince === null || now < record.blockedSince + this.limits.zeroWindowTimeoutMs) continue;
      // The peer keeps its window shut while we hold data for it: a slow or stuck reader.
      if (this.sendFlow.connection.available <= 0) {
        this.fail(connectionError(ErrorCode.ENHANCE_YOUR_CALM, 'connection flow-control window stayed closed', 'RFC 9113 §10.5'));
        return;
      }
      this.resetStream(record.stream.id, ErrorCode.CANCEL, 'local');
    }
  }

  /** The transport failed or the peer closed it: every stream is aborted. */
  transportClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.abortAll(ErrorCode.CANCEL);
    this.notifyClose(null);
  }

  /** Graceful shutdown (RFC 9113 §6.8): GOAWAY with 2^31-1 and a PING, then the real last stream. */
  shutdown(): void {
    if (this.state !== 'open') return;
    this.state = 'draining';
    if (this.role === 'server') {
      this.queueFrame({ type: 'GOAWAY', streamId: 0, lastStreamId: MAX_STREAM_ID, errorCode: ErrorCode.NO_ERROR, debugData: new Uint8Array(0) });
      this.queueFrame({ type: 'PING', streamId: 0, ack: false, opaqueData: PING_PAYLOAD_SHUTDOWN });
      this.shutdownPingAt = this.now;
    } else {
      this.sendGoaway(ErrorCode.NO_ERROR, this.lastRemoteId);
    }
    this.wake();
  }

  /** Ends the connection with GOAWAY `code` (a connection error when not NO_ERROR). */
  goaway(code: number, message = ''): void {
    if (code === ErrorCode.NO_ERROR) {
      if (this.state === 'closed') return;
      this.sendGoaway(code, this.lastRemoteId, message);
      this.state = 'draining';
      this.shutdownPingAt = null;
      this.wake();
      return;
    }
    this.fail(connectionError(code, message, 'RFC 9113 §6.8'));
  }

  // ---------------------------------------------------------------- session side

  /** Client: opens a stream with a request head; null when no stream may be opened now. */
  openStream(fields: FieldInput[], endStream: boolean, method: string): number | null {
    if (this.state !== 'open' || this.goawayReceivedId !== null) return null;
    // RFC 9113 §5.1.2: stay within the peer's SETTINGS_MAX_CONCURRENT_STREAMS.
    if (this.registry.activeCount('local') >= this.peerSettings.maxConcurrentStreams) return null;
    if (this.registry.nextLocalId() === null) return null; // §5.1.1: identifiers exhausted
    const stream = this.registry.openLocal('send H');
    const record = this.createRecord(stream);
    record.method = method;
    this.sendFlow.openStream(stream.id);
    this.recvFlow.openStream(stream.id);
    this.queueFieldBlock(stream.id, fields, endStream);
    if (endStream) this.finishSend(record);
    this.wake();
    return stream.id;
  }

  /**
   * Server, h2c upgrade (RFC 7540 §3.2, RFC 9113 §3.1): applies the client's HTTP2-Settings
   * payload and opens stream 1 as "half-closed (remote)" for the upgraded request. The client still
   * sends its preface and a SETTINGS frame.
   */
  openUpgradeStream(settingsPayload: Uint8Array, method: string): number {
    if (settingsPayload.length % 6 !== 0) {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, 'HTTP2-Settings payload not a multiple of 6 octets', 'RFC 7540 §3.2.1');
    }
    const bytes = Buffer.from(settingsPayload.buffer, settingsPayload.byteOffset, settingsPayload.length);
    const entries: [number, number][] = [];
    for (let at = 0; at < bytes.length; at += 6) entries.push([bytes.readUInt16BE(at), bytes.readUInt32BE(at + 2)]);
    this.peerSettings = applySettings(this.peerSettings, entries, { receiver: this.role, first: true });
    this.sendFlow.setInitialWindowSize(this.peerSettings.initialWindowSize);
    if (this.peerSettings.headerTableSize !== DEFAULT_SETTINGS.headerTableSize) this.hpackEncoder.setPeerMaxTableSize(this.peerSettings.headerTableSize);
    const stream = this.registry.openRemote(1, 'recv H');
    this.registry.apply(stream, 'recv ES');
    this.lastRemoteId = 1;
    const record = this.createRecord(stream);
    record.method = method;
    record.headReceived = true;
    this.sendFlow.openStream(1);
    return 1;
  }

  /** Can another stream be opened now (client)? */
  get canOpenStream(): boolean {
    return this.state === 'open' && this.goawayReceivedId === null &&
      this.registry.activeCount('local') < this.peerSettings.maxConcurrentStreams && this.registry.nextLocalId() !== null;
  }

  /** Sends a header section: a response (or 1xx), a pushed response, or a request's first HEADERS. */
  sendHeaders(streamId: number, fields: FieldInput[], endStream: boolean): void {
    const record = this.records.get(streamId);
    if (!record || record.sendDone || this.state === 'closed') return;
    if (record.stream.state === StreamState.ReservedLocal) {
      // RFC 9113 §8.4.2: the pushed response begins; the stream becomes half-closed (remote).
      this.registry.apply(record.stream, 'send H');
      this.sendFlow.openStream(streamId);
    }
    this.queueFieldBlock(streamId, fields, endStream);
    if (endStream) this.finishSend(record);
    this.wake();
  }

  /**
   * Queues body pieces (not copied) and, with `end`, the end of the stream after them: trailers
   * as a last HEADERS frame (§8.1) or END_STREAM on the last DATA frame.
   */
  sendData(streamId: number, pieces: readonly Uint8Array[], end: boolean, trailers: FieldInput[] | null = null): void {
    const record = this.records.get(streamId);
    if (!record || record.sendDone || record.endQueued || this.state === 'closed') return;
    for (const piece of pieces) record.outgoing.push(piece);
    if (end) {
      record.endQueued = true;
      record.trailers = trailers && trailers.length > 0 ? trailers : null;
    }
    this.schedule(record);
    this.wake();
  }

  /**
   * Server push (RFC 9113 §8.4): PUSH_PROMISE on `parentId` with the promised request's fields.
   * Returns the promised stream, or null when the client disabled push, the stream limit is
   * reached, or the parent can no longer carry frames.
   */
  push(parentId: number, fields: FieldInput[]): number | null {
    if (this.role !== 'server' || this.state !== 'open' || !this.peerSettings.enablePush) return null;
    const parent = this.records.get(parentId);
    if (!parent || parent.sendDone || parent.endQueued) return null;
    // §8.4: only on a stream the client opened, in "open" or "half-closed (remote)".
    if (parent.stream.state !== StreamState.Open && parent.stream.state !== StreamState.HalfClosedRemote) return null;
    if (this.registry.activeCount('local') >= this.peerSettings.maxConcurrentStreams) return null;
    if (this.registry.nextLocalId() === null) return null;
    const stream = this.registry.openLocal('send PP');
    this.createRecord(stream);
    const block = this.hpackEncoder.encode(fields);
    this.queue(encodePushPromiseBlock(parentId, stream.id, block, this.peerSettings.maxFrameSize));
    this.trace?.(`send PUSH_PROMISE stream=${parentId} promised=${stream.id} block=${block.length}`);
    this.traceFields(fields);
    this.wake();
    return stream.id;
  }

  /** Resets a stream (RST_STREAM, §6.4); the session hears onReset(…, 'local'). */
  resetStream(streamId: number, code: number, by: 'local' | 'silent' = 'local'): void {
    const record = this.records.get(streamId);
    if (!record || this.state === 'closed') return;
    this.queueFrame({ type: 'RST_STREAM', streamId, errorCode: code });
    this.registry.apply(record.stream, 'send R');
    this.closeRecord(record, by === 'local' ? { code, by: 'local' } : undefined);
    this.wake();
  }

  /** The session consumed `bytes` of DATA received on `streamId`: flow-control credit goes back. */
  consumed(streamId: number, bytes: number): void {
    const record = this.records.get(streamId);
    if (!record || this.state === 'closed') return;
    const n = Math.min(bytes, record.unconsumed);
    record.unconsumed -= n;
    if (n > 0 && this.queueUpdates(this.recvFlow.consume(streamId, n))) this.wake();
  }

  /** Sets a stream's priority (RFC 9218: `priority` header, or a client's own choice). */
  setPriority(streamId: number, priority: Priority): void {
    const record = this.records.get(streamId);
    if (!record) return;
    record.priority = priority;
    this.scheduler.move(streamId, priority.urgency);
  }

  /** Octets queued on the stream and not yet cut into DATA frames. */
  streamBuffered(streamId: number): number {
    return this.records.get(streamId)?.outgoing.bytes ?? 0;
  }

  /** Sends a PING (§6.7). */
  ping(data: Uint8Array = Buffer.alloc(8)): void {
    if (this.state === 'closed') return;
    this.queueFrame({ type: 'PING', streamId: 0, ack: false, opaqueData: data });
    this.wake();
  }

  /** Number of open streams (any state but idle/closed). */
  get streamCount(): number {
    return this.records.size;
  }

  // ---------------------------------------------------------------- receiving

  private onFrame(frame: Frame): void {
    // RFC 9113 §3.4: the peer's preface ends with a SETTINGS frame; anything else first is an error.
    if (!this.peerSettingsSeen && (frame.type !== 'SETTINGS' || frame.ack)) {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, `${frame.type} before the peer's SETTINGS`, 'RFC 9113 §3.4');
    }
    const assembled = this.assembler.push(frame);
    if (assembled) this.dispatch(assembled);
  }

  private dispatch(frame: AssembledFrame): void {
    switch (frame.type) {
      case 'DATA': return this.onData(frame);
      case 'FIELD_BLOCK': return frame.opener === 'HEADERS' ? this.onHeaders(frame) : this.onPushPromiseBlock(frame);
      case 'PRIORITY':
        // RFC 9113 §5.3.2: parsed and ignored; still a flood vector (CVE-2019-9513).
        this.countControlFrame('PRIORITY');
        return;
      case 'RST_STREAM': return this.onRstStream(frame);
      case 'SETTINGS': return this.onSettings(frame);
      case 'PING': return this.onPing(frame);
      case 'GOAWAY': return this.onGoaway(frame);
      case 'WINDOW_UPDATE': return this.onWindowUpdate(frame);
      case 'PRIORITY_UPDATE': return this.onPriorityUpdate(frame);
      case 'UNKNOWN': return; // RFC 9113 §4.1, §5.5: ignored
    }
  }

  private onData(frame: DataFrame): void {
    const id = frame.streamId;
    const length = flowControlledLength(frame);
    let verdict: 'accept' | 'ignore';
    try {
      verdict = this.registry.receive(id, 'DATA');
    } catch (error) {
      // A refused DATA frame (e.g. STREAM_CLOSED, §6.1) was still charged by the sender (§6.9).
      if (error instanceof H2Error && error.scope === 'stream') {
        this.recvFlow.receive(id, length);
        this.queueUpdates(this.recvFlow.consume(id, length));
      }
      throw error;
    }
    // RFC 9113 §6.9: DATA counts against the connection window whatever the stream's state.
    try {
      this.recvFlow.receive(id, length);
    } catch (error) {
      if (error instanceof H2Error && error.scope === 'stream') this.queueUpdates(this.recvFlow.consume(id, length));
      throw error;
    }
    const record = this.records.get(id);
    if (verdict === 'ignore' || !record) {
      this.queueUpdates(this.recvFlow.consume(id, length));
      return;
    }
    // CVE-2019-9518: empty DATA frames cost work and carry nothing.
    if (frame.data.length === 0 && !frame.endStream) this.countControlFrame('empty DATA');
    // Padding is never delivered: its credit goes back now.
    if (length > frame.data.length) this.queueUpdates(this.recvFlow.consume(id, length - frame.data.length));
    // Counted before the checks below: a stream error then returns it through closeRecord().
    record.unconsumed += frame.data.length;
    if (this.role === 'client' && !record.finalReceived) {
      throw streamError(ErrorCode.PROTOCOL_ERROR, id, 'DATA before the final response header section', 'RFC 9113 §8.1');
    }
    record.contentLength?.data(frame.data.length);
    if (frame.endStream) {
      record.contentLength?.end();
      this.recvEnd(record);
    }
    this.events.onData?.(id, frame.data, frame.endStream);
    if (frame.endStream) this.maybeForget(record);
  }

  private onHeaders(block: FieldBlock): void {
    const id = block.streamId;
    // Decode first whatever happens next: the HPACK context must stay in sync (RFC 9113 §4.3).
    let fields: HeaderField[] = [];
    let tooLarge: HeaderListTooLargeError | null = null;
    try {
      fields = this.hpackDecoder.decode(block.block);
    } catch (error) {
      if (error instanceof HeaderListTooLargeError) tooLarge = error;
      else throw error;
    }
    this.traceFields(fields);
    const state = this.registry.stateOf(id);
    if (state === StreamState.Closed && this.wasSkipped(id)) {
      // RFC 9113 §5.1.1: a new stream's identifier must exceed every one the peer used before.
      throw connectionError(ErrorCode.PROTOCOL_ERROR, `stream ${id} is below the last opened stream ${this.lastRemoteId}`, 'RFC 9113 §5.1.1');
    }
    if (this.registry.receive(id, 'HEADERS') === 'ignore') return;
    if (state === StreamState.Idle) return this.onNewStream(block, fields, tooLarge);
    const record = this.records.get(id);
    if (!record) return;
    if (tooLarge) throw streamError(ErrorCode.PROTOCOL_ERROR, id, tooLarge.message, tooLarge.section);
    if (this.role === 'client' && !record.finalReceived) return this.onResponseHead(record, fields, block.endStream);
    // RFC 9113 §8.1: a second header section is a trailer section and must end the stream.
    if (!block.endStream) throw streamError(ErrorCode.PROTOCOL_ERROR, id, 'trailer section without END_STREAM', 'RFC 9113 §8.1');
    const trailers = validateTrailers(fields, id);
    record.contentLength?.end();
    this.recvEnd(record);
    this.events.onTrailers?.(id, trailers);
    this.maybeForget(record);
  }

  /** A HEADERS frame opening a stream: a request (server), refused when over our limits. */
  private onNewStream(block: FieldBlock, fields: HeaderField[], tooLarge: HeaderListTooLargeError | null): void {
    const id = block.streamId;
    // RFC 9113 §6.8: after our GOAWAY, streams above its last-stream-id are ignored.
    if (this.goawaySentId !== null && id > this.goawaySentId) return;
    const stream = this.registry.openRemote(id, 'recv H');
    this.noteSkipped(id);
    this.lastRemoteId = id;
    const record = this.createRecord(stream);
    this.sendFlow.openStream(id);
    if (block.endStream) this.registry.apply(stream, 'recv ES');
    else this.recvFlow.openStream(id);
    record.headReceived = true;
    // RFC 9113 §5.1.2: beyond our SETTINGS_MAX_CONCURRENT_STREAMS → REFUSED_STREAM (safe to retry).
    if (this.registry.activeCount('remote') > this.localSettings.maxConcurrentStreams) {
      this.resetStream(id, ErrorCode.REFUSED_STREAM, 'silent');
      this.countReset();
      return;
    }
    if (tooLarge) {
      // RFC 9113 §10.5.1, RFC 6585 §5: answer 431 rather than process a huge header list.
      this.sendHeaders(id, [[':status', '431']], true);
      if (!block.endStream) this.resetStream(id, ErrorCode.NO_ERROR, 'silent');
      return;
    }
    const head = validateRequestHeaders(fields, id, { enableConnectProtocol: this.localSettings.enableConnectProtocol });
    record.contentLength = new ContentLengthCheck(id, contentLengthOf(head.headers, id));
    if (block.endStream) record.contentLength.end();
    const early = this.earlyPriorities.get(id);
    this.earlyPriorities.delete(id);
    const header = head.headers.find(([name]) => name === 'priority');
    record.priority = early ?? (header ? parsePriority(header[1]) : { ...DEFAULT_PRIORITY });
    this.events.onRequest?.(id, head, block.endStream);
    if (block.endStream) this.maybeForget(record);
  }

  /** Client: a response header section (interim 1xx or final), §8.1, §8.3.2. */
  private onResponseHead(record: StreamRecord, fields: HeaderField[], endStream: boolean): void {
    const id = record.stream.id;
    if (record.stream.state === StreamState.ReservedRemote) {
      this.registry.apply(record.stream, 'recv H');
      this.recvFlow.openStream(id);
    }
    const head = validateResponseHeaders(fields, id, endStream);
    if (head.status >= 200) {
      record.finalReceived = true;
      const noContent = record.method === 'HEAD' || head.status === 204 || head.status === 304;
      record.contentLength = new ContentLengthCheck(id, noContent ? 0 : contentLengthOf(head.headers, id));
      if (endStream) record.contentLength.end();
    }
    record.headReceived = true;
    if (endStream) this.recvEnd(record);
    this.events.onResponse?.(id, head, endStream);
    if (endStream) this.maybeForget(record);
  }

  /** Client: PUSH_PROMISE (RFC 9113 §6.6, §8.4). */
  private onPushPromiseBlock(block: FieldBlock): void {
    let fields: HeaderField[] = [];
    let tooLarge = false;
    try {
      fields = this.hpackDecoder.decode(block.block);
    } catch (error) {
      if (error instanceof HeaderListTooLargeError) tooLarge = true;
      else throw error;
    }
    // RFC 9113 §6.6: a PUSH_PROMISE we disabled, or sent to a server, is a connection error.
    if (this.role === 'server' || !this.localSettings.enablePush) {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE while push is disabled', 'RFC 9113 §6.6');
    }
    const parentId = block.streamId;
    const promisedId = block.promisedStreamId!;
    const verdict = this.registry.receive(parentId, 'PUSH_PROMISE');
    const stream = this.registry.openRemote(promisedId, 'recv PP');
    const record = this.createRecord(stream);
    if (verdict === 'ignore' || tooLarge) {
      this.resetStream(promisedId, ErrorCode.CANCEL, 'silent');
      return;
    }
    let head: RequestHead;
    try {
      head = validateRequestHeaders(fields, promisedId);
    } catch {
      // RFC 9113 §8.4.1: a malformed promised request is a stream error on the promised stream.
      this.resetStream(promisedId, ErrorCode.PROTOCOL_ERROR, 'silent');
      return;
    }
    record.method = head.method;
    const accepted = this.events.onPushPromise?.(parentId, promisedId, head) ?? false;
    if (!accepted) this.resetStream(promisedId, ErrorCode.CANCEL, 'silent');
  }

  private onRstStream(frame: RstStreamFrame): void {
    const id = frame.streamId;
    if (this.registry.receive(id, 'RST_STREAM') === 'ignore') return;
    this.countReset();
    const record = this.records.get(id);
    if (!record) return;
    this.registry.apply(record.stream, 'recv R');
    this.closeRecord(record, { code: frame.errorCode, by: 'peer' });
  }

  private onSettings(frame: SettingsFrame): void {
    if (frame.ack) {
      // RFC 9113 §6.5.3: our oldest outstanding SETTINGS is now in force.
      if (this.settingsAcks.shift() !== undefined) {
        this.recvFlow.settingsAcknowledged(this.localSettings.initialWindowSize);
        this.registry.forgetResets();
      }
      return;
    }
    this.countControlFrame('SETTINGS');
    const before = this.peerSettings;
    this.peerSettings = applySettings(before, frame.settings, { receiver: this.role, first: !this.peerSettingsSeen });
    this.peerSettingsSeen = true;
    if (this.peerSettings.initialWindowSize !== before.initialWindowSize) {
      // RFC 9113 §6.9.2: every open stream's send window moves by the difference.
      this.sendFlow.setInitialWindowSize(this.peerSettings.initialWindowSize);
      for (const record of this.records.values()) this.schedule(record);
    }
    if (this.peerSettings.headerTableSize !== before.headerTableSize) this.hpackEncoder.setPeerMaxTableSize(this.peerSettings.headerTableSize);
    this.queueFrame({ type: 'SETTINGS', streamId: 0, ack: true, settings: [] });
  }

  private onPing(frame: PingFrame): void {
    if (frame.ack) {
      if (this.shutdownPingAt !== null && Buffer.from(frame.opaqueData).equals(PING_PAYLOAD_SHUTDOWN)) this.finalGoaway();
      this.registry.forgetResets();
      return;
    }
    this.countControlFrame('PING');
    // RFC 9113 §6.7: answer with the same payload and ACK set.
    this.queueFrame({ type: 'PING', streamId: 0, ack: true, opaqueData: frame.opaqueData });
  }

  private onGoaway(frame: GoawayFrame): void {
    this.goawayReceivedId = Math.min(frame.lastStreamId, this.goawayReceivedId ?? MAX_STREAM_ID);
    this.events.onGoaway?.(frame.lastStreamId, frame.errorCode);
    // RFC 9113 §6.8: our streams above last-stream-id were not processed; they may be retried.
    for (const record of [...this.records.values()]) {
      const id = record.stream.id;
      if (this.registry.isLocal(id) && id > frame.lastStreamId) {
        this.closeRecord(record, { code: ErrorCode.REFUSED_STREAM, by: 'connection' });
      }
    }
    if (frame.errorCode !== ErrorCode.NO_ERROR) {
      const error = connectionError(frame.errorCode, `peer sent GOAWAY ${errorCodeName(frame.errorCode)}`, 'RFC 9113 §6.8');
      this.state = 'closed';
      this.error = error;
      this.abortAll(frame.errorCode);
      this.notifyClose(error);
      return;
    }
    if (this.state === 'open') {
      this.state = 'draining';
      if (this.goawaySentId === null) this.sendGoaway(ErrorCode.NO_ERROR, this.lastRemoteId);
    }
  }

  private onWindowUpdate(frame: WindowUpdateFrame): void {
    const id = frame.streamId;
    if (id === 0) {
      this.sendFlow.windowUpdate(0, frame.increment);
      for (const record of this.records.values()) this.schedule(record);
      return;
    }
    if (this.registry.receive(id, 'WINDOW_UPDATE') === 'ignore') {
      // §6.9: a zero increment is still an error on a stream we know.
      if (frame.increment === 0 && this.records.has(id)) throw streamError(ErrorCode.PROTOCOL_ERROR, id, 'WINDOW_UPDATE increment of 0', 'RFC 9113 §6.9');
      return;
    }
    this.sendFlow.windowUpdate(id, frame.increment);
    const record = this.records.get(id);
    if (record) this.schedule(record);
  }

  private onPriorityUpdate(frame: PriorityUpdateFrame): void {
    this.countControlFrame('PRIORITY_UPDATE');
    const id = frame.prioritizedStreamId;
    // RFC 9218 §7.1: only request streams (client-initiated) may be reprioritized by a client.
    if (this.role === 'server' && this.registry.isLocal(id)) {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, `PRIORITY_UPDATE for push stream ${id}`, 'RFC 9218 §7.1');
    }
    const record = this.records.get(id);
    if (record) {
      this.setPriority(id, parsePriority(frame.fieldValue, record.priority));
    } else if (this.registry.stateOf(id) === StreamState.Idle && this.earlyPriorities.size < this.limits.maxConcurrentStreams) {
      this.earlyPriorities.set(id, parsePriority(frame.fieldValue));
    }
  }

  /**
   * Identifiers the peer jumped over are closed without ever having been used (§5.1.1); HEADERS on
   * one is an ordering error, not a frame on a closed stream. A bounded list of ranges is kept.
   */
  private noteSkipped(id: number): void {
    const firstSkipped = this.lastRemoteId === 0 ? (this.role === 'server' ? 1 : 2) : this.lastRemoteId + 2;
    if (id <= firstSkipped) return;
    this.skippedRanges.push([firstSkipped, id - 2]);
    if (this.skippedRanges.length > 64) this.skippedRanges.shift();
  }

  private wasSkipped(id: number): boolean {
    return !this.registry.isLocal(id) && this.skippedRanges.some(([from, to]) => id >= from && id <= to);
  }

  // ---------------------------------------------------------------- limits and errors

  private countControlFrame(what: string): void {
    if (this.controlFrames.hit(this.now)) {
      throw connectionError(ErrorCode.ENHANCE_YOUR_CALM, `${what} flood: more than ${this.limits.maxControlFramesPerWindow} control frames in ${this.limits.floodWindowMs} ms`, 'RFC 9113 §10.5');
    }
  }

  /** CVE-2023-44487: streams opened and reset at a high rate cost work no concurrency limit bounds. */
  private countReset(): void {
    if (this.resets.hit(this.now)) {
      throw connectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.limits.maxResetsPerWindow} stream resets in ${this.limits.floodWindowMs} ms`, 'RFC 9113 §10.5');
    }
  }

  /** A stream error (RFC 9113 §5.4.2): RST_STREAM; the connection goes on. */
  private streamFailed(error: H2Error): void {
    const id = error.streamId ?? 0;
    this.trace?.(`stream error on ${id}: ${error.message}`);
    // Resets the peer provokes cost the same as its own (CVE-2025-8671 "MadeYouReset").
    this.countReset();
    if (this.records.has(id)) {
      this.resetStream(id, error.code, 'local');
    } else if (id !== 0) {
      // A stream we no longer track (closed): RST_STREAM still tells the peer (§5.4.2).
      this.queueFrame({ type: 'RST_STREAM', streamId: id, errorCode: error.code });
    }
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with the last stream we processed, then close. */
  private fail(error: H2Error): void {
    if (this.state === 'closed') return;
    this.trace?.(`connection error: ${error.message}`);
    this.error = error;
    this.sendGoaway(error.code, this.lastRemoteId, error.message);
    this.state = 'closed';
    this.abortAll(error.code);
    this.notifyClose(error);
    this.wake();
  }

  private abortAll(code: number): void {
    for (const record of [...this.records.values()]) {
      this.closeRecord(record, { code, by: 'connection' });
    }
  }

  private notifyClose(error: H2Error | null): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    this.events.onClose?.(error);
  }

  // ---------------------------------------------------------------- streams

  private createRecord(stream: Stream): StreamRecord {
    const record = createStreamRecord(stream);
    this.records.set(stream.id, record);
    return record;
  }

  /** The peer's half ended (END_STREAM received). */
  private recvEnd(record: StreamRecord): void {
    this.registry.apply(record.stream, 'recv ES');
    this.recvFlow.closeStream(record.stream.id);
  }

  /** Our END_STREAM is queued. */
  private finishSend(record: StreamRecord): void {
    record.sendDone = true;
    record.blockedSince = null;
    this.registry.apply(record.stream, 'send ES');
    this.sendFlow.closeStream(record.stream.id);
    this.scheduler.remove(record.stream.id);
    this.events.onSendFinished?.(record.stream.id);
    this.maybeForget(record);
  }

  private maybeForget(record: StreamRecord): void {
    if (record.stream.state === StreamState.Closed && this.records.get(record.stream.id) === record) this.closeRecord(record);
  }

  /**
   * Forgets a closed stream; DATA the session never consumed goes back to the connection window.
   * A reset is reported (onReset) before the stream is reported closed.
   */
  private closeRecord(record: StreamRecord, reset?: { code: number; by: 'peer' | 'local' | 'connection' }): void {
    const id = record.stream.id;
    if (this.records.get(id) !== record) return;
    this.records.delete(id);
    this.scheduler.remove(id);
    this.sendFlow.closeStream(id);
    this.recvFlow.closeStream(id);
    if (record.unconsumed > 0 && this.state !== 'closed') this.queueUpdates(this.recvFlow.consume(id, record.unconsumed));
    record.unconsumed = 0;
    record.outgoing.clear();
    if (this.records.size === 0) this.idleSince = this.now;
    if (reset) this.events.onReset?.(id, reset.code, reset.by);
    this.events.onStreamClosed?.(id);
  }

  /** Puts a stream in the send rotation when it has something it may send now. */
  private schedule(record: StreamRecord): void {
    if (record.sendDone || !this.records.has(record.stream.id)) return;
    if (record.outgoing.bytes === 0 && !record.endQueued) return;
    if (record.stream.state === StreamState.ReservedLocal) return; // the pushed response's HEADERS first
    if (record.outgoing.bytes > 0 && this.sendFlow.sendable(record.stream.id) === 0) {
      record.blockedSince ??= this.now;
      return;
    }
    record.blockedSince = null;
    this.scheduler.add(record.stream.id, record.priority.urgency);
  }

  // ---------------------------------------------------------------- output

  /** Cuts DATA frames from the stream queues, most urgent first, one frame per stream per turn. */
  private fillData(): void {
    if (this.state === 'closed') return;
    const drained = new Set<number>();
    while (this.outBytes + this.transportBuffered < OUTPUT_BUDGET) {
      const id = this.scheduler.next();
      if (id === undefined) break;
      const record = this.records.get(id);
      if (!record || record.sendDone) continue;
      if (record.outgoing.bytes > 0) {
        const n = Math.min(this.sendFlow.sendable(id), this.peerSettings.maxFrameSize, record.outgoing.bytes);
        if (n === 0) {
          record.blockedSince ??= this.now;
          continue;
        }
        const endNow = n === record.outgoing.bytes && record.endQueued && record.trailers === null;
        this.queueDataFrame(record, n, endNow);
        drained.add(id);
        if (endNow) {
          this.finishSend(record);
          continue;
        }
      } else if (record.endQueued) {
        if (record.trailers) {
          this.queueFieldBlock(id, record.trailers, true);
          record.trailers = null;
        } else {
          this.queueDataFrame(record, 0, true);
        }
        this.finishSend(record);
        continue;
      }
      this.schedule(record);
    }
    for (const id of drained) if (this.records.has(id)) this.events.onDrain?.(id);
  }

  /** One DATA frame of `n` queued octets: a 9-octet header and views of the queued pieces. */
  private queueDataFrame(record: StreamRecord, n: number, endStream: boolean): void {
    const id = record.stream.id;
    const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
    writeFrameHeader(header, 0, n, FrameType.DATA, endStream ? Flag.END_STREAM : 0, id);
    this.queue(header);
    for (const piece of record.outgoing.take(n)) this.queue(piece);
    this.sendFlow.consume(id, n);
    this.trace?.(`send DATA stream=${id}${endStream ? ' flags=END_STREAM' : ''} length=${n}`);
  }

  private queueFieldBlock(streamId: number, fields: FieldInput[], endStream: boolean): void {
    const block = this.hpackEncoder.encode(fields);
    this.queue(encodeHeadersBlock(streamId, block, { maxFrameSize: this.peerSettings.maxFrameSize, endStream }));
    this.trace?.(`send HEADERS stream=${streamId} flags=${endStream ? 'END_STREAM|' : ''}END_HEADERS block=${block.length}`);
    this.traceFields(fields);
  }

  private sendSettings(entries: SettingsFrame['settings']): void {
    this.queueFrame({ type: 'SETTINGS', streamId: 0, ack: false, settings: entries });
    this.settingsAcks.push(this.now);
  }

  private sendWindowUpdate(update: WindowUpdate): void {
    this.queueFrame({ type: 'WINDOW_UPDATE', streamId: update.streamId, increment: update.increment });
  }

  private queueUpdates(updates: WindowUpdate[]): boolean {
    for (const update of updates) this.sendWindowUpdate(update);
    return updates.length > 0;
  }

  private sendGoaway(code: number, lastStreamId: number, message = ''): void {
    this.goawaySentId = Math.min(lastStreamId, this.goawaySentId ?? MAX_STREAM_ID);
    const debugData = Buffer.from(message.slice(0, 200), 'utf8');
    this.queueFrame({ type: 'GOAWAY', streamId: 0, lastStreamId: this.goawaySentId, errorCode: code, debugData });
  }

  /** Graceful shutdown, step 2 (§6.8): the real last-stream-id, once the client saw step 1. */
  private finalGoaway(): void {
    if (this.shutdownPingAt === null) return;
    this.shutdownPingAt = null;
    this.goawaySentId = null;
    this.sendGoaway(ErrorCode.NO_ERROR, this.lastRemoteId);
    this.wake();
  }

  private queueFrame(frame: Frame): void {
    this.trace?.(`send ${describeFrame(frame)}`);
    this.queue(encodeFrame(frame));
  }

  private queue(bytes: Uint8Array): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
  }

  private traceFields(fields: readonly (HeaderField | FieldInput)[]): void {
    if (!this.trace) return;
    for (const [name, value] of fields) this.trace(`  ${name}: ${typeof value === 'string' ? value : `<${value.length} bytes>`}`);
  }

  private wake(): void {
    this.onWake?.();
  }
}
