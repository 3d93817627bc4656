/**
 * One HTTP/1.1 server connection, sans-I/O (RFC 9112). Bytes come in through `receive()`, bytes to
 * write come out of `transmit()`, time comes in as `now`; the driver (server.ts) owns the socket.
 *
 * The rules this connection keeps:
 * - One request at a time, answered in order (RFC 9112 §9.3.2): pipelined requests wait, unparsed,
 *   in the input buffer until the response before them has ended and its body has been read.
 * - A request's body is read by exactly one reader per kind: Content-Length or chunked (§6.3); any
 *   doubt about the body length is a 400 and a closed connection, never a guess (§6.3, §11.2).
 * - A malformed or abusive request gets its status (400/408/413/414/431/501/505) with
 *   `Connection: close`, and nothing after it on that connection is ever processed (§11.2).
 * - `Expect: 100-continue` sends the interim 100 when the handler starts reading the body
 *   (RFC 9110 §10.1.1); a handler that answers without reading leaves the connection to close.
 * - A response is Content-Length framed when its length is known, chunked otherwise (HTTP/1.1),
 *   or delimited by close (HTTP/1.0 clients) (§6.1, §7.1); HEAD, 1xx, 204 and 304 have no body.
 * - A response body shorter than its Content-Length, or a reset, closes the connection without
 *   the message's end, so the client sees the failure (§8: incomplete messages).
 *
 * States (server side), with what moves them:
 *
 *   | state        | event                           | next state                  |
 *   |--------------|---------------------------------|-----------------------------|
 *   | idle         | bytes of a request head         | head                        |
 *   | head         | complete head, valid framing    | active                      |
 *   | head / idle  | malformed / limit / timeout     | closing (error response)    |
 *   | active       | response ended and body read    | idle (keep-alive) / closing |
 *   | any          | peer closed / transport error   | closed (in-flight aborted)  |
 *   | closing      | output written                  | closed                      |
 */
import { H1Error, StreamAbortedError } from '../core/errors.js';
import { HeaderList } from '../core/headers.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { EMPTY_BODY, RequestBody } from '../core/body.js';
import { StreamingResponse } from '../core/response.js';
import { runHandler, type ErrorReporter } from '../core/dispatch.js';
import { AbortState } from '../core/abort.js';
import { IncomingRequest } from '../core/request.js';
import type { ResponseHead, ResponseSink } from '../core/sink.js';
import type { Handler } from '../core/types.js';
import { httpDate, statusText } from '../core/status.js';
import { RequestHeadParser, type RequestHead } from './parse.js';
import { chunkHeader, lastChunk, CRLF, CRLF_LAST_CHUNK, LAST_CHUNK } from './chunked.js';
import { serializeResponseHead } from './response-head.js';
import { createBodyDecoder, requestFraming, type BodyDecoder, type RequestFraming } from './framing.js';

export type H1State = 'idle' | 'head' | 'active' | 'closing' | 'closed';

export interface H1ConnectionOptions {
  handler: Handler;
  scheme: 'http' | 'https';
  remoteAddress: string;
  remotePort: number;
  limits?: Partial<Limits>;
  /** Added to every response unless the handler set them (e.g. Alt-Svc). */
  defaultHeaders?: HeaderList;
  /** The time now in ms, for Date headers and timeouts: the driver's clock (a protocol core has none). */
  clock: () => number;
  onHandlerError?: ErrorReporter;
  /**
   * Called for `Upgrade: h2c` requests that may switch protocols (RFC 7540 §3.2). Returns true when
   * the caller takes over: the connection then writes nothing more.
   */
  onUpgrade?: (head: RequestHead, rest: Uint8Array) => boolean;
}

const CONTINUE_100 = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');
/** For microtasks: a resolved promise's reaction costs less than queueMicrotask's AsyncResource. */
const RESOLVED = Promise.resolve();
const EMPTY = new Uint8Array(0);

/** The reader of a request without content: it holds no state, so every such request shares it. */
const NO_BODY_DECODER: BodyDecoder = createBodyDecoder({ kind: 'none' });

/**
 * One request in progress on the connection, and the ResponseSink of its response: one object per
 * exchange, with the same shape for every exchange.
 */
class Exchange implements ResponseSink {
  request!: IncomingRequest;
  response!: StreamingResponse;
  /** The one reader for this request's body framing (Content-Length or chunked). */
  readonly decoder: BodyDecoder;
  bodyDone: boolean;
  responseDone = false;
  /** Response framing chosen when the head was sent. */
  mode: 'length' | 'chunked' | 'close' | 'none' = 'none';
  declaredLength = -1;
  sentBodyBytes = 0;
  keepAlive: boolean;
  continueSent = false;
  readonly isHead: boolean;

  constructor(
    private readonly conn: H1ServerConnection,
    readonly body: RequestBody,
    readonly framing: RequestFraming,
    readonly abort: AbortState,
    method: string,
    limits: Limits,
    keepAlive: boolean,
    /** Last time body bytes arrived (body timeout). */
    public lastBodyAt: number,
  ) {
    const kind = framing.body.kind;
    this.decoder = kind === 'none' ? NO_BODY_DECODER : createBodyDecoder(framing.body, limits);
    this.bodyDone = kind === 'none' || (framing.body.kind === 'length' && framing.body.length === 0);
    this.keepAlive = keepAlive;
    this.isHead = method === 'HEAD';
  }

  // ---- ResponseSink ----
  get bufferedBytes(): number { return this.conn.bufferedOutput; }
  get trailersAllowed(): boolean { return this.framing.acceptsTrailers; }
  sendInformational(status: number, headers: HeaderList): void { this.conn.sendInterim(this, status, headers); }
  send(head: ResponseHead | null, body: Uint8Array[], bodyBytes: number, end: boolean, trailers: HeaderList | null): void {
    this.conn.sendFlush(this, head, body, bodyBytes, end, trailers);
  }
  reset(): void { this.conn.resetExchange(this); }
}

export class H1ServerConnection {
  state: H1State = 'idle';
  private readonly limits: Limits;
  private readonly clock: () => number;
  private readonly parser: RequestHeadParser;
  /** Input not yet consumed (pipelined requests wait here). */
  private input: Uint8Array = EMPTY;
  private output: Uint8Array[] = [];
  private outputBytes = 0;
  private exchange: Exchange | null = null;
  /** When the current wait started: idle (keep-alive) or head (header timeout). */
  private waitStartedAt: number;
  /** Bytes the transport has buffered (set by the driver): part of the backpressure signal. */
  transportBuffered = 0;
  /** The driver is told that there is output to write or that the connection wants to close. */
  onWake: (() => void) | null = null;
  requestsServed = 0;
  /** Graceful shutdown: finish the current exchange, then close. */
  private draining = false;

  constructor(private readonly opts: H1ConnectionOptions) {
    this.limits = resolveLimits(opts.limits);
    this.clock = opts.clock;
    this.parser = new RequestHeadParser(this.limits);
    this.waitStartedAt = this.clock();
  }

  /** Whether the driver should read more from the socket (false applies backpressure). */
  get wantsInput(): boolean {
    if (this.state === 'closing' || this.state === 'closed') return false;
    const ex = this.exchange;
    if (!ex) return this.input.length === 0 || this.bufferedOutput < this.limits.responseHighWaterMark;
    if (!ex.bodyDone) return ex.body.buffered < this.limits.requestBodyHighWaterMark;
    // Pipelined input waits; do not let it grow without bound.
    return this.input.length < this.limits.maxHeaderBytes + this.limits.maxRequestLineBytes;
  }

  /** Whether all output is out and the driver should close the socket. */
  get shouldClose(): boolean {
    return this.state === 'closing' && this.outputBytes === 0;
  }

  get idle(): boolean { return this.exchange === null && this.input.length === 0; }

  /** Bytes received from the peer. */
  receive(data: Uint8Array, now: number): void {
    if (this.state === 'closing' || this.state === 'closed') return; // §11.2: nothing after an error
    this.input = this.input.length === 0 ? data : concat(this.input, data);
    this.process(now);
  }

  /** The peer closed its side (FIN) or the transport failed. */
  peerClosed(reason = 'client closed the connection'): void {
    if (this.state === 'closed') return;
    const ex = this.exchange;
    this.state = 'closed';
    this.input = EMPTY;
    if (ex && !(ex.responseDone && ex.bodyDone)) this.abortExchange(ex, reason);
    this.exchange = null;
  }

  /** Takes what should be written now. */
  transmit(): Uint8Array[] {
    const out = this.output;
    this.output = [];
    this.outputBytes = 0;
    return out;
  }

  /** The transport wrote its buffer out: responses waiting on drain() may continue. */
  onTransportDrain(): void {
    // The keep-alive idle time starts when the last response has left, not when it was queued:
    // a slow reader of a large response is not idle (RFC 9112 §9.6).
    if (this.state === 'idle' && this.requestsServed > 0) this.waitStartedAt = this.clock();
    this.exchange?.response.notifyDrain();
    if (!this.exchange && this.input.length > 0) this.process(this.clock());
  }

  /** The earliest time handleTimeout() must be called, or undefined. */
  nextTimeout(): number | undefined {
    switch (this.state) {
      case 'idle':
        if (this.requestsServed === 0) return this.waitStartedAt + this.limits.headersTimeoutMs;
        if (this.bufferedOutput > 0) return undefined; // still writing the last response
        return this.waitStartedAt + this.limits.keepAliveTimeoutMs;
      case 'head':
        return this.waitStartedAt + this.limits.headersTimeoutMs;
      case 'active': {
        const ex = this.exchange;
        // RFC 9110 §10.1.1: a client that asked for 100-continue may wait for it before sending
        // content, so the body clock starts only once the 100 (or the final response) went out.
        const awaitingContinue = ex && ex.framing.expectContinue && !ex.continueSent && !ex.response.headersSent;
        if (ex && !ex.bodyDone && ex.body.buffered === 0 && !awaitingContinue) return ex.lastBodyAt + this.limits.bodyTimeoutMs;
        return undefined;
      }
      default:
        return undefined;
    }
  }

  handleTimeout(now: number): void {
    const deadline = this.nextTimeout();
    if (deadline === undefined || now < deadline) return;
    if (this.state === 'idle' && this.requestsServed > 0) {
      this.close(); // keep-alive idle timeout: nothing to say (RFC 9112 §9.8)
    } else if (this.state === 'idle' || this.state === 'head') {
      // Slowloris: the head did not arrive in time (RFC 9110 §15.5.9).
      this.fail(new H1Error(408, 'request head not received in time', 'RFC 9110 §15.5.9'));
    } else if (this.state === 'active' && this.exchange) {
      const ex = this.exchange;
      ex.body.fail(new StreamAbortedError('request body timed out'));
      if (!ex.response.headersSent) {
        this.abortExchange(ex, 'request body timed out');
        this.exchange = null;
        this.fail(new H1Error(408, 'request body not received in time', 'RFC 9110 §15.5.9'));
      } else {
        this.abortExchange(ex, 'request body timed out');
        this.exchange = null;
        this.close();
      }
    }
  }

  /** Graceful shutdown: no new requests; the one in progress finishes, then the connection closes. */
  shutdown(): void {
    this.draining = true;
    if (this.state === 'idle' || this.state === 'head') this.close();
  }

  /** Closes at once, aborting any exchange in progress. */
  destroy(reason = 'connection destroyed'): void {
    this.peerClosed(reason);
    this.output = [];
    this.outputBytes = 0;
    this.wake();
  }

  // ---- input ----

  private process(now: number): void {
    while (this.state !== 'closing' && this.state !== 'closed') {
      const ex = this.exchange;
      if (ex) {
        if (!ex.bodyDone) {
          if (this.input.length === 0) return;
          if (!this.readBody(ex, now)) return;
          continue;
        }
        return; // pipelined bytes wait until this exchange ends
      }
      if (this.input.length === 0) return;
      if (this.draining) { this.close(); return; }
      // A pipelined request waits while earlier responses sit unread in the transport: otherwise a
      // client that pipelines and never reads makes us buffer without bound (RFC 9112 §9.3.2).
      if (this.bufferedOutput >= this.limits.responseHighWaterMark) return;
      if (this.state === 'idle') {
        this.state = 'head';
        this.waitStartedAt = now;
      }
      let parsed: { head: RequestHead; rest: Uint8Array } | null;
      try {
        parsed = this.parser.push(this.input);
      } catch (err) {
        this.failWith(err);
        return;
      }
      // The parser keeps a partial head itself, bounded by the limits (414/431).
      // An idle connection keeps no view of the last read buffer.
      this.input = parsed && parsed.rest.length > 0 ? parsed.rest : EMPTY;
      if (!parsed) return;
      if (!this.startExchange(parsed.head, now)) return;
    }
  }

  private startExchange(head: RequestHead, now: number): boolean {
    let framing: RequestFraming;
    try {
      framing = requestFraming(head, this.limits, this.opts.scheme);
    } catch (err) {
      this.failWith(err);
      return false;
    }
    if (framing.upgradeH2c && this.opts.onUpgrade) {
      // RFC 7540 §3.2: the h2c upgrade needs the whole request; bodies are not supported here.
      if (framing.body.kind === 'none' && this.opts.onUpgrade(head, this.input)) {
        this.state = 'closed';
        this.input = EMPTY;
        return false;
      }
    }
    const abort = new AbortState();
    const body = framing.body.kind === 'none' ? EMPTY_BODY : new RequestBody(this.limits.requestBodyHighWaterMark);
    const ex = new Exchange(this, body, framing, abort, head.method, this.limits, framing.keepAlive && !this.draining, now);
    const request = new IncomingRequest({
      method: head.method,
      path: framing.path,
      authority: framing.authority,
      scheme: this.opts.scheme,
      protocol: 'http/1.1',
      headers: HeaderList.fromPairs(head.headers),
      body,
      abort,
      remoteAddress: this.opts.remoteAddress,
      remotePort: this.opts.remotePort,
    });
    ex.request = request;
    ex.response = new StreamingResponse(ex, {
      method: head.method,
      abort,
      highWaterMark: this.limits.responseHighWaterMark,
      defaultHeaders: this.opts.defaultHeaders,
    });
    if (ex.bodyDone) {
      if (body !== EMPTY_BODY) body.end(); // Content-Length: 0
    } else {
      body.onConsumed = () => {
        // The body clock measures how long we wait for the client while we want data: time the
        // handler spent before reading (backpressure) is not the client's (RFC 9110 §15.5.9).
        ex.lastBodyAt = this.clock();
        if (framing.expectContinue && !ex.continueSent) this.sendContinue(ex);
        this.wake(); // the driver may resume reading
      };
      if (framing.expectContinue) {
        // RFC 9110 §10.1.1: send 100 when the handler starts reading; an iterator's first next()
        // call shows up as onConsumed only after data arrives, so watch the iterator start too.
        const iterate = body[Symbol.asyncIterator].bind(body);
        (body as { [Symbol.asyncIterator]: () => AsyncIterator<Uint8Array> })[Symbol.asyncIterator] = () => {
          this.sendContinue(ex);
          return iterate();
        };
      }
    }
    this.exchange = ex;
    this.state = 'active';
    runHandler(this.opts.handler, request, ex.response, this.opts.onHandlerError);
    return true;
  }

  private sendContinue(ex: Exchange): void {
    if (ex.continueSent || ex.response.headersSent || this.exchange !== ex) return;
    ex.continueSent = true;
    ex.lastBodyAt = this.clock();
    this.queue(CONTINUE_100);
    this.wake();
  }

  /** Feeds body bytes from the input to the request body; false when it must wait. */
  private readBody(ex: Exchange, now: number): boolean {
    ex.lastBodyAt = now;
    let result;
    try {
      result = ex.decoder.push(this.input);
    } catch (err) {
      // Malformed chunked framing (RFC 9112 §7.1): the request fails and the connection closes.
      this.abortExchange(ex, 'malformed request body');
      this.exchange = null;
      if (!ex.response.headersSent) this.failWith(err);
      else this.close();
      return false;
    }
    this.input = result.rest;
    for (const piece of result.data) ex.body.push(piece);
    if (result.done) {
      ex.bodyDone = true;
      ex.body.end();
      this.maybeFinishExchange();
    }
    return true;
  }

  // ---- output ----

  /** One flush of the response (called by the Exchange, its sink). */
  sendFlush(ex: Exchange, head: ResponseHead | null, body: Uint8Array[], bodyBytes: number, end: boolean, trailers: HeaderList | null): void {
    if (this.exchange !== ex) return;
    if (head) this.sendHead(ex, head, end);
    this.sendBody(ex, body, bodyBytes, end, trailers);
    if (end || this.completesWithHead(ex)) {
      ex.responseDone = true;
      this.maybeFinishExchange();
    }
    this.wake();
  }

  sendInterim(ex: Exchange, status: number, headers: HeaderList): void {
    if (this.exchange !== ex || ex.response.headersSent) return;
    // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
    if (ex.framing.version === '1.0') return;
    // RFC 9110 §8.6, RFC 9112 §6.1: no Content-Length or Transfer-Encoding in a 1xx response.
    this.queue(serializeHead(status, headers, null, INTERIM_FORBIDDEN_FIELDS));
    this.wake();
  }

  /** The handler abandoned the response: no final chunk, so the client sees an incomplete message (RFC 9112 §8). */
  resetExchange(ex: Exchange): void {
    if (this.exchange !== ex) return;
    ex.responseDone = true;
    this.exchange = null;
    this.close();
  }

  get bufferedOutput(): number { return this.outputBytes + this.transportBuffered; }

  private sendHead(ex: Exchange, head: ResponseHead, end: boolean): void {
    const { status, headers } = head;
    // The handler's fields that bear on framing, gathered in one pass; the head is then written
    // without changing the handler's list.
    let cl: string | undefined;
    let connection: string | undefined;
    let hasDate = false;
    for (const [name, value] of headers) {
      if (name === 'content-length') cl = cl === undefined ? value : `${cl}, ${value}`;
      else if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
      else if (name === 'date') hasDate = true;
    }
    const noBody = ex.isHead || status === 204 || status === 304;
    const validLength = cl !== undefined && /^\d{1,15}$/.test(cl);
    // RFC 9110 §8.6: no Content-Length in a 204; an invalid one is dropped, never passed on — in a
    // HEAD or 304 response too, where it would state the length of a body that is not there.
    let keepContentLength = status !== 204 && validLength;
    if (noBody) {
      ex.mode = 'none';
    } else if (validLength) {
      ex.mode = 'length';
      ex.declaredLength = Number(cl);
    } else {
      keepContentLength = false;
      if (ex.framing.version === '1.1') {
        ex.mode = 'chunked';
      } else {
        ex.mode = 'close'; // RFC 9112 §6.3 item 8: an HTTP/1.0 client reads until close
        ex.keepAlive = false;
      }
    }
    // A request body nobody read keeps the connection only if it can be skipped cheaply.
    if (!ex.bodyDone && !ex.body.started && end) ex.keepAlive = false;
    if (this.draining) ex.keepAlive = false;
    // RFC 9112 §9.6: a response carrying the close option ends the connection after it.
    if (connection !== undefined && /(^|[\s,])close($|[\s,])/i.test(connection)) ex.keepAlive = false;
    const connectionValue = !ex.keepAlive ? 'close' : ex.framing.version === '1.0' ? 'keep-alive' : null;
    const date = hasDate ? null : httpDate(this.clock());
    this.queue(serializeResponseHead(status, headers, keepContentLength, ex.mode === 'chunked', connectionValue, date));
  }

  /** HEAD, 204 and 304 responses end with their head (RFC 9112 §6.3 item 1), whatever the handler does next. */
  private completesWithHead(ex: Exchange): boolean {
    return ex.mode === 'none';
  }

  private sendBody(ex: Exchange, body: Uint8Array[], bodyBytes: number, end: boolean, trailers: HeaderList | null): void {
    switch (ex.mode) {
      case 'none':
        break;
      case 'length': {
        let room = ex.declaredLength - ex.sentBodyBytes;
        for (const piece of body) {
          if (room <= 0) break;
          const p = piece.length <= room ? piece : piece.subarray(0, room);
          this.queue(p);
          room -= p.length;
          ex.sentBodyBytes += p.length;
        }
        if (bodyBytes > 0 && ex.sentBodyBytes === ex.declaredLength && room < 0) ex.keepAlive = false;
        if (end && ex.sentBodyBytes !== ex.declaredLength) {
          // Fewer bytes than declared: the message is incomplete; only closing says so (§8).
          ex.keepAlive = false;
          ex.abort.abort(new StreamAbortedError('response shorter than its Content-Length'));
        }
        break;
      }
      case 'chunked':
        if (bodyBytes > 0) {
          this.queue(chunkHeader(bodyBytes));
          for (const piece of body) this.queue(piece);
          this.queue(end ? crlfAndLastChunk(trailers) : CRLF);
          ex.sentBodyBytes += bodyBytes;
        } else if (end) {
          this.queue(trailers && trailers.size > 0 ? lastChunk(trailers) : LAST_CHUNK);
        }
        break;
      case 'close':
        for (const piece of body) this.queue(piece);
        ex.sentBodyBytes += bodyBytes;
        break;
    }
  }

  /** Both directions of the exchange are complete: next request, or close. */
  private maybeFinishExchange(): void {
    const ex = this.exchange;
    if (!ex || !ex.responseDone) return;
    if (!ex.bodyDone) {
      // RFC 9112 §9.3: the unread rest of the request body would be parsed as the next request.
      // Skipping it is possible but costs reading an unknown amount: close instead.
      ex.keepAlive = false;
      ex.body.fail(new StreamAbortedError('response ended before the request body was read'));
    }
    this.exchange = null;
    this.requestsServed++;
    ex.response.notifyFinished();
    if (!ex.keepAlive || ex.mode === 'close' || this.draining) {
      this.close();
      return;
    }
    this.state = 'idle';
    this.waitStartedAt = this.clock();
    if (this.input.length > 0) void RESOLVED.then(() => this.process(this.clock()));
  }

  private abortExchange(ex: Exchange, reason: string): void {
    const err = new StreamAbortedError(reason);
    ex.body.fail(err);
    ex.abort.abort(err);
  }

  private failWith(err: unknown): void {
    if (err instanceof H1Error) this.fail(err);
    else this.fail(new H1Error(400, err instanceof Error ? err.message : String(err), 'RFC 9112 §2.2'));
  }

  /** Answers a request error with its status and closes (RFC 9112 §11.2: nothing after it is read). */
  private fail(err: H1Error): void {
    this.input = EMPTY;
    const headers = new HeaderList();
    const text = `${err.status} ${statusText(err.status)}\n`;
    headers.add('content-type', 'text/plain; charset=utf-8');
    headers.add('content-length', String(Buffer.byteLength(text)));
    headers.add('connection', 'close');
    headers.add('date', httpDate(this.clock()));
    this.queue(serializeHead(err.status, headers, null));
    this.queue(Buffer.from(text));
    this.close();
  }

  private close(): void {
    if (this.state === 'closed') return;
    this.state = 'closing';
    this.wake();
  }

  private queue(bytes: Uint8Array): void {
    if (this.state === 'closed') return;
    this.output.push(bytes);
    this.outputBytes += bytes.length;
  }

  private wake(): void {
    this.onWake?.();
  }
}

/** End of the last data chunk, then the zero chunk and the trailer section (RFC 9112 §7.1). */
function crlfAndLastChunk(trailers: HeaderList | null): Buffer {
  return trailers && trailers.size > 0 ? Buffer.concat([CRLF, lastChunk(trailers)]) : CRLF_LAST_CHUNK;
}

/** Status line and field lines (RFC 9112 §4, §5). Values were validated when set. */
const INTERIM_FORBIDDEN_FIELDS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding']);

/** A status line and `headers`, without the fields named in `omit`. */
export function serializeHead(status: number, headers: HeaderList, reason: string | null, omit?: ReadonlySet<string>): Buffer {
  let s = `HTTP/1.1 ${status} ${reason ?? statusText(status)}\r\n`;
  for (const [n, v] of headers) if (omit === undefined || !omit.has(n)) s += `${n}: ${v}\r\n`;
  // Field values hold only octets (checked when set), so latin1 writes each as one byte.
  return Buffer.from(s + '\r\n', 'latin1');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export { CRLF };
