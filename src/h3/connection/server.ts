/**
 * The server side of an HTTP/3 connection, sans-I/O (RFC 9114 §4, §5.2, §4.6): requests arrive on
 * client bidirectional streams and are handed to the Handler; responses go out as HEADERS, DATA
 * and trailing HEADERS through the shared response engine (src/core/response.ts).
 *
 * A request stream's life, with what moves it:
 *
 *   | state     | event                                   | next                               |
 *   |-----------|-----------------------------------------|------------------------------------|
 *   | head      | HEADERS, valid request (§4.3.1)         | body (handler runs)                |
 *   | head      | FIN before HEADERS                      | gone: H3_REQUEST_INCOMPLETE (§4.1.2)|
 *   | head      | malformed (§4.1.2)                      | gone: H3_MESSAGE_ERROR             |
 *   | head      | field section over the limit (§4.2.2)   | 431, then STOP_SENDING              |
 *   | body      | DATA                                    | body (Content-Length checked)      |
 *   | body      | HEADERS                                 | trailers                           |
 *   | body/trl. | FIN, length matches                     | request complete                   |
 *   | any       | RESET_STREAM / STOP_SENDING             | gone: req.signal aborted (§4.1.1)  |
 *
 * A stream is gone once the response has ended and the request is complete (or abandoned).
 * Graceful shutdown (§5.2): GOAWAY names the first stream we will not process; later streams are
 * rejected with H3_REQUEST_REJECTED, accepted ones finish, then the connection closes.
 * Server push (§4.6): only within the client's MAX_PUSH_ID; PUSH_PROMISE on the request stream,
 * the response on a push stream.
 * Rapid reset (§10.5): too many requests cancelled by the client within a window is
 * H3_EXCESSIVE_LOAD (limits.maxResetsPerWindow, limits.floodWindowMs).
 */
import { AbortState } from '../../core/abort.js';
import { EMPTY_BODY, RequestBody } from '../../core/body.js';
import { runHandler, type ErrorReporter } from '../../core/dispatch.js';
import { StreamAbortedError } from '../../core/errors.js';
import { HeaderList } from '../../core/headers.js';
import { IncomingRequest } from '../../core/request.js';
import { StreamingResponse } from '../../core/response.js';
import type { ResponseHead, ResponseSink } from '../../core/sink.js';
import type { Handler, ServerRequest, ServerResponse } from '../../core/types.js';
import { H3Error, H3ErrorCode } from '../errors.js';
import { encodeFrame, encodeFrameHeader, encodeUniStreamHeader, frameHeaderLength, FrameType, UniStreamType, writeFrameHeader, type Frame } from '../frame.js';
import type { FieldLine } from '../qpack/decoder.js';
import type { H3Settings } from '../settings.js';
import type { QuicStreams } from '../transport.js';
import { contentLength, fieldSectionFits, malformed, parseRequestHead, parseTrailers, requestFieldLines, responseFieldLines, trailerFieldLines, type OutgoingLine } from './fields.js';
import { IncomingMessage, type MessageEvents } from './message.js';
import { H3Session, type SessionOptions } from './session.js';
import { StreamTable } from '../../core/stream-table.js';

export interface H3ServerOptions extends SessionOptions {
  handler: Handler;
  remoteAddress: string;
  remotePort: number;
  /** Added to every response unless the handler set them. */
  defaultHeaders?: HeaderList;
  onHandlerError?: ErrorReporter;
  /** The time now in ms, for the reset-flood window: the driver's clock (a protocol core has none). */
  clock: () => number;
}

type RequestState = 'head' | 'body' | 'trailers' | 'complete';

/** A request stream and its response (H3ServerConnection.Exchange). */
type Exchange = InstanceType<(typeof H3ServerConnection)['Exchange']>;

const EMPTY = new Uint8Array(0);
/** Bodies up to this size are copied into one buffer with their frame headers (writeMessage). */
const COALESCE_BYTES = 1024;

/** RFC 9114 §4.2.2: a head over the client's limit would be refused; a bare 500 goes instead. */
function responseHeadLines(head: { status: number; headers: HeaderList }, peerMax: number): OutgoingLine[] {
  const lines = responseFieldLines(head.status, head.headers);
  return fieldSectionFits(lines, peerMax) ? lines : responseFieldLines(500, []);
}

/** One pushed response on its push stream (RFC 9114 §4.6). */
interface Push {
  pushId: number;
  streamId: number;
  abort: AbortState;
  response: StreamingResponse;
}

export class H3ServerConnection extends H3Session {
  /** Not a Map: see stream-table.ts (per-request entries in a long-lived Map defeat the young GC). */
  private readonly exchanges = new StreamTable<Exchange>();
  private readonly pushes = new Map<number, Push>();
  private readonly pushByStream = new Map<number, Push>();
  /** The client's MAX_PUSH_ID; no push before it (RFC 9114 §4.6). */
  private maxPushId: number | undefined;
  private nextPushId = 0;
  /** Highest request stream we accepted, -4 when none. */
  private lastAccepted = -4;
  /** The GOAWAY we sent: streams at or above it are rejected (RFC 9114 §5.2). */
  private goawayId: number | undefined;
  /** Streams whose last write found QUIC over its high-water mark; `writable` clears them. */
  private readonly writeBlocked = new Set<number>();
  /** When the client abandoned requests in progress, oldest first (rapid reset, RFC 9114 §10.5). */
  private readonly resetTimes: number[] = [];
  private readonly clock: () => number;
  /** Called once when a graceful shutdown has nothing left in flight. */
  onDrained: (() => void) | null = null;
  requestsServed = 0;

  constructor(transport: QuicStreams, private readonly options: H3ServerOptions) {
    super(transport, 'server', options);
    this.clock = options.clock;
  }

  get activeRequests(): number {
    return this.exchanges.size + this.pushes.size;
  }

  /**
   * Graceful shutdown (RFC 9114 §5.2): GOAWAY with the first stream ID we will not process;
   * requests already accepted finish, then the connection closes with H3_NO_ERROR.
   */
  shutdown(): void {
    if (this.closed || this.goawayId !== undefined) return;
    this.goawayId = this.lastAccepted + 4;
    this.sendControlFrame({ type: 'goaway', id: this.goawayId });
    this.checkDrained();
  }

  // ---- session hooks ----

  protected localSettings(): Partial<H3Settings> {
    return {
      qpackMaxTableCapacity: this.limits.qpackMaxTableCapacity,
      qpackBlockedStreams: this.limits.qpackBlockedStreams,
      maxFieldSectionSize: this.limits.maxHeaderListBytes,
    };
  }

  protected onStarted(): void {}

  protected onPeerBidiStream(id: number): void {
    if (this.exchanges.has(id)) return;
    if (this.goawayId !== undefined && id >= this.goawayId) {
      // RFC 9114 §5.2: not processed, so the client may retry it elsewhere.
      this.transport.stopSending(id, H3ErrorCode.H3_REQUEST_REJECTED);
      this.transport.resetStream(id, H3ErrorCode.H3_REQUEST_REJECTED);
      return;
    }
    this.lastAccepted = Math.max(this.lastAccepted, id);
    this.exchanges.set(id, new H3ServerConnection.Exchange(this, id));
  }

  protected onBidiData(id: number, data: Uint8Array, fin: boolean): void {
    const ex = this.exchanges.get(id);
    if (!ex || ex.state === 'complete') return;
    ex.message.push(data, fin);
    this.flushQpack();
    // RFC 9204 §2.2.1: while a field section waits for inserts, frames after it queue in memory;
    // stop reading so that flow control bounds them.
    if (ex.message.isBlocked && !ex.readingPaused && this.exchanges.has(id)) {
      ex.readingPaused = true;
      this.transport.pauseReading(id);
    }
  }

  protected onUnblocked(streamIds: number[]): void {
    for (const id of streamIds) {
      const ex = this.exchanges.get(id);
      const section = this.decoder.takeResumed(id);
      if (!ex || !section) continue;
      try {
        ex.message.resume(section);
      } catch (err) {
        this.onError(err, id);
      }
      if (ex.readingPaused && !ex.message.isBlocked && (!ex.body || ex.body.buffered < this.limits.requestBodyHighWaterMark)) this.resumeReading(ex);
    }
    this.flushQpack();
  }

  protected onBidiReset(id: number, code: number): void {
    const ex = this.exchanges.get(id);
    if (!ex) return;
    // RFC 9114 §4.1.1: the client abandoned its request (e.g. H3_REQUEST_CANCELLED).
    this.decoder.cancelStream(id);
    this.flushQpack();
    if (ex.state === 'complete') return; // the request had ended; the response may still finish
    this.abandon(ex, new StreamAbortedError(`client reset the stream (0x${code.toString(16)})`, code), H3ErrorCode.H3_REQUEST_CANCELLED);
    this.countReset();
  }

  /**
   * RFC 9114 §10.5: requests opened and cancelled at once make us start handlers for nothing
   * (the "rapid reset" attack, CVE-2023-44487). More than maxResetsPerWindow of them within
   * floodWindowMs closes the connection with H3_EXCESSIVE_LOAD.
   */
  private countReset(): void {
    const now = this.clock();
    const times = this.resetTimes;
    times.push(now);
    while (times.length > 0 && times[0]! <= now - this.limits.floodWindowMs) times.shift();
    if (times.length > this.limits.maxResetsPerWindow) {
      this.fail(new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `${times.length} requests cancelled within ${this.limits.floodWindowMs} ms`, 'RFC 9114 §10.5'));
    }
  }

  protected onStopSending(id: number, code: number): void {
    const push = this.pushByStream.get(id);
    if (push) {
      this.endPush(push, new StreamAbortedError(`client stopped the push (0x${code.toString(16)})`, code));
      this.transport.resetStream(id, H3ErrorCode.H3_REQUEST_CANCELLED);
      return;
    }
    const ex = this.exchanges.get(id);
    if (!ex) return;
    // RFC 9000 §3.5: answer STOP_SENDING with RESET_STREAM; the handler's writes are dropped.
    this.transport.resetStream(id, H3ErrorCode.H3_REQUEST_CANCELLED);
    if (!ex.responseEnded) {
      ex.responseEnded = true;
      ex.body?.fail(new StreamAbortedError('client stopped the response', code));
      ex.abort.abort(new StreamAbortedError(`client stopped the response (0x${code.toString(16)})`, code));
      if (ex.state !== 'complete') {
        this.transport.stopSending(id, H3ErrorCode.H3_REQUEST_CANCELLED);
        this.decoder.cancelStream(id);
        this.flushQpack();
      }
      this.forget(ex);
      this.countReset();
    }
  }

  protected onWritable(id: number): void {
    this.writeBlocked.delete(id);
    const ex = this.exchanges.get(id);
    if (ex) ex.response?.notifyDrain();
    this.pushByStream.get(id)?.response.notifyDrain();
  }

  protected onPushStream(): void {
    // Unreachable: the session rejects client-initiated push streams (RFC 9114 §6.2.2).
  }

  protected onPushStreamData(): void {}
  protected onPushStreamReset(): void {}

  protected onControlFrame(frame: Frame): void {
    switch (frame.type) {
      case 'max_push_id':
        // RFC 9114 §7.2.7: MAX_PUSH_ID may not go down.
        if (this.maxPushId !== undefined && frame.pushId < this.maxPushId) {
          throw new H3Error(H3ErrorCode.H3_ID_ERROR, `MAX_PUSH_ID went down from ${this.maxPushId} to ${frame.pushId}`, 'RFC 9114 §7.2.7');
        }
        this.maxPushId = frame.pushId;
        return;
      case 'cancel_push': {
        // RFC 9114 §7.2.3: a push ID we could not have used is H3_ID_ERROR.
        if (this.maxPushId === undefined || frame.pushId > this.maxPushId) {
          throw new H3Error(H3ErrorCode.H3_ID_ERROR, `CANCEL_PUSH for push ID ${frame.pushId} above MAX_PUSH_ID`, 'RFC 9114 §7.2.3');
        }
        const push = this.pushes.get(frame.pushId);
        if (push) {
          this.transport.resetStream(push.streamId, H3ErrorCode.H3_REQUEST_CANCELLED);
          this.endPush(push, new StreamAbortedError('client cancelled the push'));
        }
        return;
      }
      case 'goaway':
        // From a client, GOAWAY carries a push ID (RFC 9114 §5.2): no pushes from it on.
        this.receiveGoaway(frame.id);
        return;
      default:
        return;
    }
  }

  protected onStreamError(id: number, error: H3Error): void {
    const ex = this.exchanges.get(id);
    if (!ex) return;
    if (error.code === H3ErrorCode.H3_EXCESSIVE_LOAD && ex.state === 'head') {
      // RFC 9114 §4.2.2: a field section over our limit may be answered with 431.
      ex.state = 'complete';
      this.decoder.cancelStream(id);
      this.transport.write(id, this.headersFrame(id, responseFieldLines(431, [['content-length', '0']])), true);
      this.transport.stopSending(id, H3ErrorCode.H3_REQUEST_REJECTED);
      this.flushQpack();
      this.exchanges.delete(id);
      this.checkDrained();
      return;
    }
    // RFC 9114 §4.1.2: a malformed request is a stream error; both directions are abandoned.
    this.decoder.cancelStream(id);
    this.flushQpack();
    this.abandon(ex, new StreamAbortedError(error.message, error.code), error.code);
  }

  protected onClosed(error: H3Error): void {
    const reason = new StreamAbortedError(`connection closed: ${error.message}`, error.code);
    for (const ex of this.exchanges.values()) {
      ex.body?.fail(reason);
      ex.abort.abort(reason);
      ex.response?.notifyFinished();
    }
    this.exchanges.clear();
    for (const push of [...this.pushes.values()]) this.endPush(push, reason);
  }

  // ---- request stream ----

  private onHeaders(ex: Exchange, lines: FieldLine[]): void {
    if (ex.state === 'head') {
      this.startRequest(ex, lines);
      return;
    }
    // RFC 9114 §4.1: a HEADERS after the request's HEADERS (and DATA) is the trailer section.
    parseTrailers(lines);
    ex.state = 'trailers';
    ex.message.endOfMessage();
  }

  private startRequest(ex: Exchange, lines: FieldLine[]): void {
    const head = parseRequestHead(lines);
    ex.expectedLength = contentLength(head.headers);
    // RFC 9114 §4.1: HEADERS then FIN is a request without content; one shared empty body serves
    // all of them (a Content-Length above 0 still fails the request at the FIN).
    const bodiless = ex.message.lastFrameOfStream && !ex.expectedLength;
    const body = bodiless ? EMPTY_BODY : new RequestBody(this.limits.requestBodyHighWaterMark);
    const request = new IncomingRequest({
      method: head.method,
      // CONNECT (RFC 9114 §4.4) has no :path; the handler sees the authority as its target.
      path: head.path ?? head.authority ?? '',
      authority: head.authority ?? head.headers.get('host') ?? '',
      scheme: head.scheme === 'http' ? 'http' : 'https',
      protocol: 'h3',
      headers: head.headers,
      body,
      abort: ex.abort,
      remoteAddress: this.options.remoteAddress,
      remotePort: this.options.remotePort,
    });
    if (!bodiless) {
      body.onConsumed = () => {
        if (ex.readingPaused && body.buffered < this.limits.requestBodyHighWaterMark) this.resumeReading(ex);
      };
    }
    ex.body = body;
    ex.request = request;
    ex.state = 'body';
    ex.response = new StreamingResponse(ex, {
      method: head.method,
      abort: ex.abort,
      highWaterMark: this.limits.responseHighWaterMark,
      defaultHeaders: this.options.defaultHeaders,
    });
    runHandler(this.options.handler, request, ex.response, this.options.onHandlerError);
  }

  private onData(ex: Exchange, piece: Uint8Array): void {
    const body = ex.body!;
    // RFC 9114 §4.1.2: more DATA than Content-Length says makes the request malformed.
    if (ex.expectedLength !== undefined && ex.message.dataBytes > ex.expectedLength) {
      throw malformed(`request body longer than its Content-Length ${ex.expectedLength}`);
    }
    if (piece.length === 0) return;
    if (!body.push(piece) && !ex.readingPaused) {
      // Backpressure: the transport stops crediting the client until the handler reads.
      ex.readingPaused = true;
      this.transport.pauseReading(ex.id);
    }
  }

  private onEnd(ex: Exchange): void {
    if (ex.state === 'head') {
      // RFC 9114 §4.1.2: the stream ended without a complete request.
      throw new H3Error(H3ErrorCode.H3_REQUEST_INCOMPLETE, 'request stream ended before HEADERS', 'RFC 9114 §4.1.2', 'stream');
    }
    if (ex.expectedLength !== undefined && ex.message.dataBytes !== ex.expectedLength) {
      throw malformed(`request body of ${ex.message.dataBytes} bytes, Content-Length ${ex.expectedLength}`);
    }
    ex.state = 'complete';
    ex.body!.end();
    this.maybeForget(ex);
  }

  private resumeReading(ex: Exchange): void {
    ex.readingPaused = false;
    this.transport.resumeReading(ex.id);
  }

  // ---- response ----

  /**
   * One request stream and its response, one object per request: what the stream's frames report
   * to (MessageEvents) and the response engine's handle on the stream (ResponseSink). A class
   * rather than a record with two helper objects; nested here so that it may use the
   * connection's private members.
   */
  private static readonly Exchange = class Exchange implements MessageEvents, ResponseSink {
    state: RequestState = 'head';
    /** The request's abort state; its AbortSignal is made only if the handler asks for it. */
    readonly abort = new AbortState();
    body: RequestBody | null = null;
    response: StreamingResponse | null = null;
    request: ServerRequest | null = null;
    /** Declared Content-Length of the request, when any. */
    expectedLength: number | undefined = undefined;
    readingPaused = false;
    responseEnded = false;
    readonly message: IncomingMessage;
    readonly trailersAllowed = true;

    constructor(private readonly conn: H3ServerConnection, readonly id: number) {
      this.message = new IncomingMessage(id, 'request', 'server', conn.limits.maxHeaderBlockBytes, conn.decoder, this);
    }

    // ---- MessageEvents: the request stream's frames ----

    headers(lines: FieldLine[]): void {
      this.conn.onHeaders(this, lines);
    }

    data(piece: Uint8Array): void {
      this.conn.onData(this, piece);
    }

    end(): void {
      this.conn.onEnd(this);
    }

    // ---- ResponseSink: the response engine's writes ----

    get bufferedBytes(): number {
      return this.conn.bufferedBytes(this.id);
    }

    sendInformational(status: number, headers: HeaderList): void {
      if (this.responseEnded || this.conn.closed) return;
      this.conn.writeFieldSection(this.id, responseFieldLines(status, headers), false);
    }

    send(head: ResponseHead | null, body: Uint8Array[], bodyBytes: number, end: boolean, trailers: HeaderList | null): void {
      const conn = this.conn;
      if (this.responseEnded || conn.closed) return;
      const id = this.id;
      conn.writeMessage(id, head, body, bodyBytes, end, trailers);
      if (!end) return;
      this.responseEnded = true;
      this.response!.notifyFinished();
      // RFC 9114 §4.1: the response is complete; the rest of the request is not needed.
      if (this.state !== 'complete') {
        conn.transport.stopSending(id, H3ErrorCode.H3_NO_ERROR);
        this.body?.fail(new StreamAbortedError('response ended before the request body was read'));
        conn.decoder.cancelStream(id);
        conn.flushQpack();
        this.state = 'complete';
      }
      conn.requestsServed++;
      conn.maybeForget(this);
    }

    reset(): void {
      if (this.responseEnded || this.conn.closed) return;
      this.conn.abandon(this, new StreamAbortedError('response reset by the server'), H3ErrorCode.H3_INTERNAL_ERROR);
    }

    push(path: string, headers: HeaderList): ServerResponse | null {
      return this.conn.push(this, path, headers);
    }
  };

  /**
   * What the response engine counts as buffered on stream `id`. QUIC signals `writable` only
   * after a write found it over its own high-water mark, so the response is told it is over
   * its mark exactly then, and below it otherwise; its drain() then always has a wake-up coming.
   */
  private bufferedBytes(id: number): number {
    const amount = this.transport.bufferedAmount(id);
    const mark = this.limits.responseHighWaterMark;
    return this.writeBlocked.has(id) ? Math.max(amount, mark) : Math.min(amount, mark - 1);
  }

  private write(id: number, data: Uint8Array, fin = false): void {
    if (!this.transport.write(id, data, fin) && !fin) this.writeBlocked.add(id);
  }

  /**
   * One flush: HEADERS, one DATA frame over the pieces, trailing HEADERS, FIN. A flush of a small
   * body goes to QUIC as one buffer (HEADERS and DATA header copied in front of the body, FIN on
   * it): each write is a chunk QUIC tracks until acknowledged, while copying a few hundred bytes
   * is cheap. Large pieces are handed over as they are, not copied.
   */
  private writeMessage(
    id: number,
    head: { status: number; headers: HeaderList } | null,
    body: Uint8Array[],
    bodyBytes: number,
    end: boolean,
    trailers: HeaderList | null,
  ): void {
    const withTrailers = end && trailers !== null && trailers.size > 0;
    // FIN goes on the last write unless a trailing HEADERS frame follows.
    const finHere = end && !withTrailers;
    if (end) this.writeBlocked.delete(id);
    const headLines = head ? responseHeadLines(head, this.peerSettings.maxFieldSectionSize) : null;
    if (bodyBytes === 0) {
      if (headLines) this.write(id, this.headersFrame(id, headLines), finHere);
      else if (finHere) this.transport.write(id, EMPTY, true);
    } else if (bodyBytes <= COALESCE_BYTES) {
      // HEADERS (when any), DATA header and body in one buffer.
      const dataLength = frameHeaderLength(FrameType.DATA, bodyBytes) + bodyBytes;
      const out = headLines ? this.headersFrame(id, headLines, dataLength) : Buffer.allocUnsafe(dataLength);
      let offset = writeFrameHeader(out, out.length - dataLength, FrameType.DATA, bodyBytes);
      for (const piece of body) {
        out.set(piece, offset);
        offset += piece.length;
      }
      this.write(id, out, finHere);
    } else {
      if (headLines) this.write(id, this.headersFrame(id, headLines));
      this.write(id, encodeFrameHeader(FrameType.DATA, bodyBytes));
      let last = body.length - 1;
      while (last > 0 && body[last]!.length === 0) last--;
      for (let i = 0; i <= last; i++) if (body[i]!.length > 0) this.write(id, body[i]!, finHere && i === last);
    }
    if (withTrailers) this.writeFieldSection(id, trailerFieldLines(trailers), true);
  }

  private writeFieldSection(id: number, lines: OutgoingLine[], fin: boolean): void {
    this.write(id, this.headersFrame(id, lines), fin);
  }

  /** Ends a request stream both ways with `code`, aborting the handler (RFC 9114 §4.1.1). */
  private abandon(ex: Exchange, reason: StreamAbortedError, code: number): void {
    if (ex.state !== 'complete') this.transport.stopSending(ex.id, code);
    if (!ex.responseEnded) this.transport.resetStream(ex.id, code);
    ex.state = 'complete';
    ex.responseEnded = true;
    ex.body?.fail(reason);
    ex.abort.abort(reason);
    ex.response?.notifyFinished();
    this.forget(ex);
  }

  private maybeForget(ex: Exchange): void {
    if (ex.state === 'complete' && ex.responseEnded) this.forget(ex);
  }

  private forget(ex: Exchange): void {
    if (this.exchanges.get(ex.id) === ex) this.exchanges.delete(ex.id);
    this.writeBlocked.delete(ex.id);
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.goawayId === undefined || this.closed || this.activeRequests > 0) return;
    const done = this.onDrained;
    this.onDrained = null;
    if (done) done();
    else {
      // Close once the last responses are acknowledged, not while they are in flight.
      this.closed = true;
      if (this.transport.closeGracefully) this.transport.closeGracefully(H3ErrorCode.H3_NO_ERROR, 'shutdown');
      else this.transport.close(H3ErrorCode.H3_NO_ERROR, 'shutdown');
    }
  }

  // ---- server push (RFC 9114 §4.6) ----

  private push(parent: Exchange, path: string, headers: HeaderList): ServerResponse | null {
    const request = parent.request;
    // RFC 9114 §4.6: no push ID above the client's MAX_PUSH_ID; none after the client's GOAWAY.
    if (!request || this.closed || this.maxPushId === undefined || this.nextPushId > this.maxPushId) return null;
    if (this.peerGoaway !== undefined && this.nextPushId >= this.peerGoaway) return null;
    if (parent.responseEnded || !path.startsWith('/')) return null;
    const streamId = this.transport.openStream(false);
    if (streamId === null) return null;
    const pushId = this.nextPushId++;
    const promised = requestFieldLines(
      { method: 'GET', scheme: request.scheme, authority: request.authority, path },
      headers,
    );
    const section = this.encoder.encodeFieldSection(parent.id, promised);
    this.flushQpack();
    this.transport.write(parent.id, encodeFrame({ type: 'push_promise', pushId, fieldSection: section }));
    this.transport.write(streamId, encodeUniStreamHeader(UniStreamType.PUSH, pushId));
    const abort = new AbortState();
    const push: Push = { pushId, streamId, abort, response: undefined as unknown as StreamingResponse };
    const conn = this;
    let ended = false;
    const sink: ResponseSink = {
      get bufferedBytes() { return conn.bufferedBytes(streamId); },
      trailersAllowed: true,
      sendInformational() {},
      send(head, body, bodyBytes, end, trailers) {
        if (ended || conn.closed) return;
        conn.writeMessage(streamId, head, body, bodyBytes, end, trailers);
        if (end) {
          ended = true;
          conn.endPush(push, null);
        }
      },
      reset() {
        if (ended || conn.closed) return;
        ended = true;
        conn.transport.resetStream(streamId, H3ErrorCode.H3_INTERNAL_ERROR);
        conn.endPush(push, new StreamAbortedError('push reset by the server'));
      },
    };
    push.response = new StreamingResponse(sink, {
      method: 'GET',
      abort,
      highWaterMark: this.limits.responseHighWaterMark,
      defaultHeaders: this.options.defaultHeaders,
    });
    this.pushes.set(pushId, push);
    this.pushByStream.set(streamId, push);
    return push.response;
  }

  private endPush(push: Push, reason: StreamAbortedError | null): void {
    if (this.pushes.get(push.pushId) !== push) return;
    this.pushes.delete(push.pushId);
    this.pushByStream.delete(push.streamId);
    this.writeBlocked.delete(push.streamId);
    if (reason) push.abort.abort(reason);
    push.response.notifyFinished();
    this.checkDrained();
  }
}

