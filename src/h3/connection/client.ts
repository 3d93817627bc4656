/**
 * The client side of an HTTP/3 connection, sans-I/O (RFC 9114 §4.1, §4.6, §5.2): each request on
 * its own bidirectional stream, its body streamed with backpressure, the response read as
 * interim HEADERS (1xx), final HEADERS, DATA and trailers.
 *
 * Rules kept here:
 *   - a response starts with HEADERS; 1xx responses may precede the final one; DATA before the
 *     final HEADERS, or anything after the trailers, is H3_FRAME_UNEXPECTED (§4.1);
 *   - a malformed response (§4.1.2), Content-Length not matching the DATA received included, is
 *     a stream error H3_MESSAGE_ERROR: the response fails, the connection lives on;
 *   - the server's STOP_SENDING H3_NO_ERROR after a complete response stops the request body
 *     without failing the response (§4.1.1);
 *   - a request finding the server's MAX_STREAMS reached waits for `streams-available`
 *     (RFC 9000 §4.6) instead of failing;
 *   - GOAWAY (§5.2): requests at or above its stream ID fail as rejected (safe to retry), no new
 *     request starts; the connection closes when the others are done;
 *   - push (§4.6): refused unless `maxPushes` > 0 (no MAX_PUSH_ID is sent, so any PUSH_PROMISE is
 *     H3_ID_ERROR); push IDs above our MAX_PUSH_ID or a second push stream for one ID are
 *     H3_ID_ERROR; a repeated PUSH_PROMISE must carry the same fields (H3_GENERAL_PROTOCOL_ERROR).
 */
import { RequestBody } from '../../core/body.js';
import { StreamAbortedError } from '../../core/errors.js';
import type { HeaderList } from '../../core/headers.js';
import type { ClientResponse } from '../../h1/client.js';
import { H3Error, H3ErrorCode, h3ErrorName } from '../errors.js';
import { encodeFrameHeader, FrameType, type Frame } from '../frame.js';
import type { FieldLine } from '../qpack/decoder.js';
import type { H3Settings } from '../settings.js';
import type { QuicStreams } from '../transport.js';
import { readVarint } from '../varint.js';
import { contentLength, fieldSectionFits, fieldSectionSize, malformed, parseRequestHead, parseResponseHead, parseTrailers, requestFieldLines, type RequestHead } from './fields.js';
import { IncomingMessage, type MessageEvents } from './message.js';
import { H3Session, type SessionOptions } from './session.js';
import { StreamTable } from '../../core/stream-table.js';

export interface H3RequestInit {
  method: string;
  scheme: 'http' | 'https';
  authority: string;
  path: string;
  headers?: Iterable<readonly [string, string]>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
  /** Interim (1xx) responses, e.g. 103 Early Hints. */
  onInformational?: (status: number, headers: HeaderList) => void;
}

/** A server push the client accepted (RFC 9114 §4.6). */
export interface H3Push {
  pushId: number;
  request: RequestHead;
  response: Promise<ClientResponse>;
}

export interface H3ClientOptions extends SessionOptions {
  /** Pushes allowed over the connection's life (MAX_PUSH_ID = maxPushes - 1); 0 refuses push. */
  maxPushes?: number;
  onPush?: (push: H3Push) => void;
}

/** A request the server did not process (GOAWAY, H3_REQUEST_REJECTED): safe to retry (§4.1.1). */
export class H3RequestRejected extends H3Error {
  readonly retryable = true;
  constructor(message: string) {
    super(H3ErrorCode.H3_REQUEST_REJECTED, message, 'RFC 9114 §4.1.1', 'stream');
  }
}

/** The receiving side of a response, on a request stream or a push stream. */
interface ResponseReader {
  message: IncomingMessage;
  state: 'head' | 'body' | 'trailers' | 'done';
  isHead: boolean;
  expectedLength: number | undefined;
  body: RequestBody | null;
  readingPaused: boolean;
  resolve: (response: ClientResponse) => void;
  reject: (err: Error) => void;
  /** The trailer section once the body has ended (null: none); undefined until then. */
  trailers: HeaderList | null | undefined;
  /** Made when the response's `trailers` is first read: most callers never read it. */
  trailersPromise: Promise<HeaderList | null> | null;
  trailersWaiter: ((trailers: HeaderList | null) => void) | null;
  onInformational?: (status: number, headers: HeaderList) => void;
}

/**
 * A response as the caller gets it. A class rather than an object literal so that the trailers
 * promise (and its resolver) is made only for a caller that asks for it, not once per response.
 */
class H3Response implements ClientResponse {
  readonly protocol = 'h3' as const;
  constructor(
    readonly status: number,
    readonly headers: HeaderList,
    readonly body: RequestBody,
    private readonly reader: ResponseReader,
  ) {}

  /** Resolves when the body has ended: the trailer fields, or null (never rejects). */
  get trailers(): Promise<HeaderList | null> {
    const reader = this.reader;
    if (reader.trailersPromise === null) {
      reader.trailersPromise = reader.trailers !== undefined
        ? Promise.resolve(reader.trailers)
        : new Promise((resolve) => { reader.trailersWaiter = resolve; });
    }
    return reader.trailersPromise;
  }
}

/** The trailers are known (null: none); the first answer holds, as a promise's would. */
function settleTrailers(reader: ResponseReader, trailers: HeaderList | null): void {
  if (reader.trailers !== undefined) return;
  reader.trailers = trailers;
  const waiter = reader.trailersWaiter;
  reader.trailersWaiter = null;
  waiter?.(trailers);
}

interface ClientExchange {
  id: number;
  reader: ResponseReader;
  /** Our request body is still being sent. */
  sending: boolean;
  writableWaiter: (() => void) | null;
  detachAbort: () => void;
}

interface PromisedPush {
  pushId: number;
  lines: FieldLine[] | null;
  streamId: number | null;
  reader: ResponseReader | null;
  cancelled: boolean;
  request: RequestHead | null;
  response: Promise<ClientResponse>;
  settle: { resolve: (r: ClientResponse) => void; reject: (e: Error) => void };
}

export class H3ClientConnection extends H3Session {
  /** Not a Map: see stream-table.ts (per-request entries in a long-lived Map defeat the young GC). */
  private readonly exchanges = new StreamTable<ClientExchange>();
  private readonly pushes = new Map<number, PromisedPush>();
  private readonly pushStreams = new Map<number, PromisedPush>();
  private readonly maxPushId: number | undefined;
  /** Requests waiting for the server's MAX_STREAMS to allow another request stream. */
  private waitingForStream: { init: H3RequestInit; resolve: (r: ClientResponse) => void; reject: (e: Error) => void }[] = [];
  /** Set by close(): close once the last request ends. */
  private closing = false;

  constructor(transport: QuicStreams, private readonly options: H3ClientOptions = {}) {
    super(transport, 'client', options);
    const max = options.maxPushes ?? 0;
    this.maxPushId = max > 0 ? max - 1 : undefined;
  }

  get activeRequests(): number {
    return this.exchanges.size;
  }

  /** Whether a new request may start here (no GOAWAY received, not closed). */
  get available(): boolean {
    return !this.closed && !this.closing && this.peerGoaway === undefined;
  }

  /** Sends a request; the promise settles with the response head, its body streams on. */
  request(init: H3RequestInit): Promise<ClientResponse> {
    if (this.closed) {
      // A connection closed without error processed nothing of this request: retry elsewhere.
      const error = this.closeError;
      return Promise.reject(error && error.code !== H3ErrorCode.H3_NO_ERROR ? error : new H3RequestRejected('the connection is closed'));
    }
    if (!this.available) return Promise.reject(new H3RequestRejected('the connection is going away (GOAWAY)'));
    if (init.signal?.aborted) return Promise.reject(init.signal.reason);
    const lines = requestFieldLines(init, init.headers ?? []);
    // RFC 9114 §4.2.2: a header section over the server's limit would only be refused.
    if (!fieldSectionFits(lines, this.peerSettings.maxFieldSectionSize)) {
      const size = fieldSectionSize(lines);
      return Promise.reject(new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `request header section of ${size} bytes over the server's SETTINGS_MAX_FIELD_SECTION_SIZE ${this.peerSettings.maxFieldSectionSize}`, 'RFC 9114 §4.2.2', 'stream'));
    }
    const id = this.transport.openStream(true);
    if (id === null) {
      // RFC 9000 §4.6: the server's MAX_STREAMS is reached; wait for it to allow another.
      if (this.waitingForStream.length >= this.limits.maxConcurrentStreams * 16) {
        return Promise.reject(new H3RequestRejected('too many requests waiting for a stream'));
      }
      return new Promise((resolve, reject) => this.waitingForStream.push({ init, resolve, reject }));
    }
    return new Promise<ClientResponse>((resolve, reject) => {
      const reader = this.newReader(id, 'request', init.method === 'HEAD', resolve, reject, init.onInformational);
      const ex: ClientExchange = { id, reader, sending: true, writableWaiter: null, detachAbort: () => {} };
      this.exchanges.set(id, ex);
      if (init.signal) {
        const signal = init.signal;
        const onAbort = () => this.cancel(ex, signal.reason instanceof Error ? signal.reason : new StreamAbortedError('request aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        ex.detachAbort = () => signal.removeEventListener('abort', onAbort);
      }
      const headers = this.headersFrame(id, lines);
      // The section's size is the HEADERS frame's Length field, after its one-byte Type.
      this.trace?.(`h3 → stream ${id} HEADERS ${readVarint(headers, 1)!.value} bytes: ${lines.map(([n, v]) => `${n}: ${v}`).join(', ')}`);
      const body = init.body;
      if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        this.transport.write(id, headers, !bytes || bytes.length === 0);
        if (bytes && bytes.length > 0) {
          this.transport.write(id, encodeFrameHeader(FrameType.DATA, bytes.length));
          this.transport.write(id, bytes, true);
        }
        ex.sending = false;
      } else {
        this.transport.write(id, headers);
        void this.sendBody(ex, body);
      }
    });
  }

  /**
   * Graceful close (RFC 9114 §5.2): GOAWAY (push ID 0: no more pushes), then CONNECTION_CLOSE
   * with H3_NO_ERROR once every request has ended.
   */
  close(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    if (this.maxPushId !== undefined) this.sendControlFrame({ type: 'goaway', id: 0 });
    this.checkDone();
  }

  // ---- session hooks ----

  protected localSettings(): Partial<H3Settings> {
    return {
      qpackMaxTableCapacity: this.limits.qpackMaxTableCapacity,
      qpackBlockedStreams: this.limits.qpackBlockedStreams,
      maxFieldSectionSize: this.limits.maxHeaderListBytes,
    };
  }

  protected onStarted(): void {
    // RFC 9114 §4.6: the server may push only once we send MAX_PUSH_ID.
    if (this.maxPushId !== undefined) this.sendControlFrame({ type: 'max_push_id', pushId: this.maxPushId });
  }

  protected override onStreamsAvailable(bidi: boolean): void {
    if (!bidi) return;
    const waiting = this.waitingForStream;
    this.waitingForStream = [];
    // Each retry either opens its stream or queues again, in the original order.
    for (const w of waiting) this.request(w.init).then(w.resolve, w.reject);
  }

  protected onPeerBidiStream(): void {
    // Unreachable: the session rejects server-initiated bidirectional streams (RFC 9114 §6.1).
  }

  protected onBidiData(id: number, data: Uint8Array, fin: boolean): void {
    const ex = this.exchanges.get(id);
    if (!ex || ex.reader.state === 'done') return;
    ex.reader.message.push(data, fin);
    this.flushQpack();
    this.pauseWhileBlocked(id, ex.reader);
  }

  protected onUnblocked(streamIds: number[]): void {
    for (const id of streamIds) {
      const reader = this.exchanges.get(id)?.reader ?? this.pushStreams.get(id)?.reader;
      const section = this.decoder.takeResumed(id);
      if (!reader || !section) continue;
      try {
        reader.message.resume(section);
      } catch (err) {
        this.onError(err, id);
      }
      if (reader.readingPaused && !reader.message.isBlocked && (!reader.body || reader.body.buffered < this.limits.requestBodyHighWaterMark)) {
        reader.readingPaused = false;
        this.transport.resumeReading(id);
      }
    }
    this.flushQpack();
  }

  protected onBidiReset(id: number, code: number): void {
    const ex = this.exchanges.get(id);
    if (!ex) return;
    this.decoder.cancelStream(id);
    this.flushQpack();
    this.failExchange(ex, streamError(code, 'the server reset the stream'), false);
  }

  protected onStopSending(id: number, code: number): void {
    const ex = this.exchanges.get(id);
    if (!ex) return;
    // RFC 9114 §4.1.1: with H3_NO_ERROR the server has (or will have) a complete response and
    // does not need the rest of the body; any other code ends the request.
    ex.sending = false;
    ex.writableWaiter?.();
    this.transport.resetStream(id, code === H3ErrorCode.H3_NO_ERROR ? H3ErrorCode.H3_NO_ERROR : H3ErrorCode.H3_REQUEST_CANCELLED);
    if (code !== H3ErrorCode.H3_NO_ERROR && ex.reader.state === 'head') {
      this.failExchange(ex, streamError(code, 'the server stopped the request'), true);
    }
  }

  protected onWritable(id: number): void {
    const ex = this.exchanges.get(id);
    const wake = ex?.writableWaiter;
    if (ex && wake) {
      ex.writableWaiter = null;
      wake();
    }
  }

  protected onPushStream(id: number, pushId: number, data: Uint8Array, fin: boolean): void {
    // RFC 9114 §4.6: push IDs above our MAX_PUSH_ID (or any, when we sent none) are H3_ID_ERROR.
    this.checkPushId(pushId, 'push stream');
    let push = this.pushes.get(pushId);
    if (push?.streamId != null) {
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `second push stream for push ID ${pushId}`, 'RFC 9114 §4.6');
    }
    push ??= this.newPush(pushId);
    push.streamId = id;
    this.pushStreams.set(id, push);
    if (push.cancelled) {
      this.transport.stopSending(id, H3ErrorCode.H3_REQUEST_CANCELLED);
      return;
    }
    push.reader = this.newReader(id, 'push', false, push.settle.resolve, push.settle.reject);
    this.onPushStreamData(id, data, fin);
  }

  protected onPushStreamData(id: number, data: Uint8Array, fin: boolean): void {
    const push = this.pushStreams.get(id);
    if (!push?.reader || push.reader.state === 'done') return;
    push.reader.message.push(data, fin);
    this.flushQpack();
    this.pauseWhileBlocked(id, push.reader);
  }

  protected onPushStreamReset(id: number, code: number): void {
    const push = this.pushStreams.get(id);
    if (!push?.reader) return;
    this.decoder.cancelStream(id);
    this.flushQpack();
    this.failReader(push.reader, new H3Error(code, 'the server reset the push stream', 'RFC 9114 §4.6', 'stream'));
  }

  protected onControlFrame(frame: Frame): void {
    switch (frame.type) {
      case 'goaway': {
        this.receiveGoaway(frame.id);
        // RFC 9114 §5.2: requests at or above the ID were not and will not be processed.
        for (const ex of this.exchanges.values()) {
          if (ex.id >= frame.id) {
            this.transport.resetStream(ex.id, H3ErrorCode.H3_REQUEST_CANCELLED);
            this.failExchange(ex, new H3RequestRejected(`stream ${ex.id} not processed: GOAWAY ${frame.id}`), true);
          }
        }
        this.checkDone();
        return;
      }
      case 'cancel_push': {
        // RFC 9114 §7.2.3: the server will not fulfil this push.
        this.checkPushId(frame.pushId, 'CANCEL_PUSH');
        const push = this.pushes.get(frame.pushId) ?? this.newPush(frame.pushId);
        push.cancelled = true;
        if (push.reader && push.reader.state === 'head') this.failReader(push.reader, new H3Error(H3ErrorCode.H3_REQUEST_CANCELLED, 'push cancelled by the server', 'RFC 9114 §7.2.3', 'stream'));
        return;
      }
      default:
        return;
    }
  }

  protected onStreamError(id: number, error: H3Error): void {
    this.decoder.cancelStream(id);
    this.flushQpack();
    const ex = this.exchanges.get(id);
    if (ex) {
      this.transport.resetStream(id, error.code);
      this.failExchange(ex, error, true);
      return;
    }
    const push = this.pushStreams.get(id);
    if (push?.reader) {
      this.transport.stopSending(id, error.code);
      this.failReader(push.reader, error);
    }
  }

  protected onClosed(error: H3Error): void {
    for (const w of this.waitingForStream.splice(0)) w.reject(error);
    for (const ex of this.exchanges.values()) this.failExchange(ex, error, false);
    for (const push of this.pushes.values()) if (push.reader) this.failReader(push.reader, error);
    for (const push of this.pushes.values()) push.settle.reject(error);
  }

  /** RFC 9204 §2.2.1: frames behind a blocked field section wait in memory; flow control bounds them. */
  private pauseWhileBlocked(id: number, reader: ResponseReader): void {
    if (reader.message.isBlocked && !reader.readingPaused && reader.state !== 'done') {
      reader.readingPaused = true;
      this.transport.pauseReading(id);
    }
  }

  // ---- request body ----

  private async sendBody(ex: ClientExchange, body: AsyncIterable<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of body) {
        if (!ex.sending) return;
        if (chunk.length === 0) continue;
        this.transport.write(ex.id, encodeFrameHeader(FrameType.DATA, chunk.length));
        const below = this.transport.write(ex.id, chunk);
        if (!below && ex.sending) await new Promise<void>((resolve) => { ex.writableWaiter = resolve; });
        if (!ex.sending) return;
      }
      if (!ex.sending) return;
      ex.sending = false;
      this.transport.write(ex.id, new Uint8Array(0), true);
    } catch (err) {
      // The body source failed: the request cannot complete (RFC 9114 §4.1.1).
      if (!ex.sending) return;
      this.cancel(ex, err instanceof Error ? err : new Error(String(err)));
    }
  }

  // ---- responses ----

  private newReader(
    id: number,
    stream: 'request' | 'push',
    isHead: boolean,
    resolve: (r: ClientResponse) => void,
    reject: (e: Error) => void,
    onInformational?: (status: number, headers: HeaderList) => void,
  ): ResponseReader {
    const reader: ResponseReader = {
      message: undefined as unknown as IncomingMessage,
      state: 'head',
      isHead,
      expectedLength: undefined,
      body: null,
      readingPaused: false,
      resolve,
      reject,
      trailers: undefined,
      trailersPromise: null,
      trailersWaiter: null,
      onInformational,
    };
    const events = stream === 'request' ? new H3ClientConnection.RequestStreamEvents(this, id, reader) : new H3ClientConnection.ResponseEvents(this, id, reader);
    reader.message = new IncomingMessage(id, stream, 'client', this.limits.maxHeaderBlockBytes, this.decoder, events);
    return reader;
  }

  /** What a response's frames do (push streams), as a small class instance rather than closures. */
  private static readonly ResponseEvents = class ResponseEvents implements MessageEvents {
    constructor(protected readonly conn: H3ClientConnection, protected readonly id: number, protected readonly reader: ResponseReader) {}
    headers(lines: FieldLine[]): void {
      this.conn.trace?.(`h3 ← stream ${this.id} HEADERS ${lines.map(([n, v]) => `${n}: ${v}`).join(', ')}`);
      this.conn.onResponseHeaders(this.id, this.reader, lines);
    }
    data(piece: Uint8Array): void {
      this.conn.trace?.(`h3 ← stream ${this.id} DATA piece ${piece.length} bytes`);
      this.conn.onResponseData(this.id, this.reader, piece);
    }
    end(): void {
      this.conn.onResponseEnd(this.id, this.reader);
    }
  };

  /** On a request stream PUSH_PROMISE may come too (RFC 9114 §4.6). */
  private static readonly RequestStreamEvents = class RequestStreamEvents extends H3ClientConnection.ResponseEvents {
    pushPromise(pushId: number, lines: FieldLine[]): void {
      this.conn.onPushPromise(pushId, lines);
    }
  };

  private onResponseHeaders(id: number, reader: ResponseReader, lines: FieldLine[]): void {
    if (reader.state === 'body') {
      // RFC 9114 §4.1: HEADERS after the final response's HEADERS is the trailer section.
      const trailers = parseTrailers(lines);
      reader.state = 'trailers';
      reader.message.endOfMessage();
      settleTrailers(reader, trailers);
      return;
    }
    const head = parseResponseHead(lines);
    if (head.status < 200) {
      // RFC 9114 §4.1: interim responses come before the final one.
      reader.onInformational?.(head.status, head.headers);
      return;
    }
    const noContent = reader.isHead || head.status === 204 || head.status === 304;
    reader.expectedLength = noContent ? 0 : contentLength(head.headers);
    const body = new RequestBody(this.limits.requestBodyHighWaterMark);
    reader.body = body;
    reader.state = 'body';
    reader.resolve(new H3Response(head.status, head.headers, body, reader));
  }

  /**
   * The response body is over its high-water mark: stop reading stream `id` until the caller
   * reads it down. The body's onConsumed hook is set here, the first time the body fills up (also
   * when reading is paused already for QPACK, whose resume leaves a full body paused), rather
   * than for every response.
   */
  private pauseBody(id: number, reader: ResponseReader, body: RequestBody): void {
    body.onConsumed ??= () => {
      if (reader.readingPaused && body.buffered < this.limits.requestBodyHighWaterMark) {
        reader.readingPaused = false;
        this.transport.resumeReading(id);
      }
    };
    if (reader.readingPaused) return;
    reader.readingPaused = true;
    this.transport.pauseReading(id);
  }

  private onResponseData(id: number, reader: ResponseReader, piece: Uint8Array): void {
    // RFC 9114 §4.1: DATA belongs to the final response; after interim HEADERS it is unexpected.
    if (reader.state !== 'body') throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'DATA before the final response HEADERS', 'RFC 9114 §4.1');
    if (reader.expectedLength !== undefined && reader.message.dataBytes > reader.expectedLength) {
      throw malformed(`response body longer than its Content-Length ${reader.expectedLength}`);
    }
    const body = reader.body!;
    if (piece.length > 0 && !body.push(piece)) this.pauseBody(id, reader, body);
  }

  private onResponseEnd(id: number, reader: ResponseReader): void {
    if (reader.state === 'head') {
      throw malformed('stream ended before the final response');
    }
    if (reader.expectedLength !== undefined && reader.message.dataBytes !== reader.expectedLength) {
      throw malformed(`response body of ${reader.message.dataBytes} bytes, Content-Length ${reader.expectedLength}`);
    }
    if (reader.state === 'body') settleTrailers(reader, null);
    reader.state = 'done';
    reader.body!.end();
    const ex = this.exchanges.get(id);
    if (ex && ex.reader === reader) this.finishExchange(ex);
  }

  private failReader(reader: ResponseReader, error: Error): void {
    if (reader.state === 'done') return;
    reader.state = 'done';
    reader.reject(error);
    reader.body?.fail(error);
    settleTrailers(reader, null);
  }

  private failExchange(ex: ClientExchange, error: Error, stopReading: boolean): void {
    ex.sending = false;
    ex.writableWaiter?.();
    if (stopReading && ex.reader.state !== 'done') this.transport.stopSending(ex.id, error instanceof H3Error ? error.code : H3ErrorCode.H3_REQUEST_CANCELLED);
    this.failReader(ex.reader, error);
    this.finishExchange(ex);
  }

  private finishExchange(ex: ClientExchange): void {
    if (this.exchanges.get(ex.id) !== ex) return;
    this.exchanges.delete(ex.id);
    ex.detachAbort();
    this.checkDone();
  }

  /** RFC 9114 §4.1.1: the client abandons a request with H3_REQUEST_CANCELLED both ways. */
  private cancel(ex: ClientExchange, reason: Error): void {
    if (this.exchanges.get(ex.id) !== ex) return;
    this.transport.resetStream(ex.id, H3ErrorCode.H3_REQUEST_CANCELLED);
    this.decoder.cancelStream(ex.id);
    this.flushQpack();
    this.failExchange(ex, reason, true);
  }

  private checkDone(): void {
    if (this.closed || this.exchanges.size > 0) return;
    if (!this.closing && this.peerGoaway === undefined) return;
    this.closed = true;
    if (this.transport.closeGracefully) this.transport.closeGracefully(H3ErrorCode.H3_NO_ERROR, 'done');
    else this.transport.close(H3ErrorCode.H3_NO_ERROR, 'done');
  }

  // ---- push (RFC 9114 §4.6) ----

  private checkPushId(pushId: number, what: string): void {
    if (this.maxPushId === undefined || pushId > this.maxPushId) {
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `${what} with push ID ${pushId} above MAX_PUSH_ID ${this.maxPushId ?? '(none sent)'}`, 'RFC 9114 §4.6');
    }
  }

  private newPush(pushId: number): PromisedPush {
    let settle!: PromisedPush['settle'];
    const response = new Promise<ClientResponse>((resolve, reject) => { settle = { resolve, reject }; });
    response.catch(() => {});
    const push: PromisedPush = { pushId, lines: null, streamId: null, reader: null, cancelled: false, request: null, response, settle };
    this.pushes.set(pushId, push);
    return push;
  }

  private onPushPromise(pushId: number, lines: FieldLine[]): void {
    this.checkPushId(pushId, 'PUSH_PROMISE');
    const push = this.pushes.get(pushId) ?? this.newPush(pushId);
    if (push.lines) {
      // RFC 9114 §4.6: the same push ID promised twice must promise the same request.
      if (JSON.stringify(push.lines) !== JSON.stringify(lines)) {
        throw new H3Error(H3ErrorCode.H3_GENERAL_PROTOCOL_ERROR, `push ID ${pushId} promised twice with different fields`, 'RFC 9114 §4.6');
      }
      return;
    }
    push.lines = lines;
    // RFC 9114 §4.6: a promised request is a safe (GET/HEAD) request; a malformed one is refused.
    let request: RequestHead;
    try {
      request = parseRequestHead(lines);
    } catch (err) {
      if (!(err instanceof H3Error) || err.scope !== 'stream') throw err;
      throw new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, `malformed PUSH_PROMISE: ${err.message}`, 'RFC 9114 §4.6');
    }
    push.request = request;
    if (push.cancelled) return;
    if (!this.options.onPush || (request.method !== 'GET' && request.method !== 'HEAD')) {
      this.refusePush(push);
      return;
    }
    this.options.onPush({ pushId, request, response: push.response });
  }

  /** CANCEL_PUSH (RFC 9114 §7.2.3), and STOP_SENDING on its stream if it is open. */
  private refusePush(push: PromisedPush): void {
    push.cancelled = true;
    this.sendControlFrame({ type: 'cancel_push', pushId: push.pushId });
    if (push.streamId !== null) this.transport.stopSending(push.streamId, H3ErrorCode.H3_REQUEST_CANCELLED);
    push.settle.reject(new H3Error(H3ErrorCode.H3_REQUEST_CANCELLED, 'push refused', 'RFC 9114 §4.6', 'stream'));
  }
}

/** The error a request fails with when the server ends its stream with `code` (RFC 9114 §4.1.1). */
function streamError(code: number, message: string): H3Error {
  if (code === H3ErrorCode.H3_REQUEST_REJECTED) return new H3RequestRejected(`${message}: not processed`);
  return new H3Error(code, message, 'RFC 9114 §4.1.1', 'stream');
}

/** A short description of an HTTP/3 error for messages, e.g. "H3_REQUEST_REJECTED". */
export function describeH3Code(code: number): string {
  return h3ErrorName(code) ?? `0x${code.toString(16)}`;
}
