/**
 * The server side of an HTTP/2 connection, sans-I/O: each request stream becomes a ServerRequest
 * and a StreamingResponse for the handler (RFC 9113 §8.1), over an H2Connection.
 *
 * - Request bodies stream to the handler; what it reads goes back as WINDOW_UPDATE credit, so a
 *   slow handler slows the client through flow control (§5.2).
 * - A response is HEADERS, DATA frames and END_STREAM, or a trailing HEADERS with trailers (§8.1).
 * - `req.signal` aborts on RST_STREAM, on a GOAWAY that leaves the stream out, or on connection loss.
 * - `res.push()` sends PUSH_PROMISE and a pushed response when the client allows it (§8.4).
 */
import { AbortState } from '../../core/abort.js';
import { EMPTY_BODY, RequestBody } from '../../core/body.js';
import { runHandler, type ErrorReporter } from '../../core/dispatch.js';
import { StreamAbortedError } from '../../core/errors.js';
import { HeaderList } from '../../core/headers.js';
import type { Limits } from '../../core/limits.js';
import { IncomingRequest } from '../../core/request.js';
import { StreamingResponse } from '../../core/response.js';
import type { ResponseHead, ResponseSink } from '../../core/sink.js';
import type { Handler, ServerResponse } from '../../core/types.js';
import { H2Connection } from '../connection.js';
import { ErrorCode, errorCodeName, type H2Error } from '../errors.js';
import { contentLengthOf, joinCookies, type RequestHead } from '../headers.js';
import type { FieldInput } from '../hpack.js';

export interface H2ServerOptions {
  handler: Handler;
  scheme: 'http' | 'https';
  remoteAddress: string;
  remotePort: number;
  limits?: Partial<Limits>;
  /** Added to every response unless the handler set them (e.g. Alt-Svc). */
  defaultHeaders?: HeaderList;
  onHandlerError?: ErrorReporter;
  now?: number;
  trace?: (line: string) => void;
}

/** RFC 9113 §8.2.2: connection-specific fields are never sent on HTTP/2. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** A header section for the wire: pseudo-header fields first (§8.3), no connection-specific fields. */
export function responseFields(status: number, headers: HeaderList): FieldInput[] {
  const fields: FieldInput[] = [[':status', String(status)]];
  for (const [name, value] of headers) if (!CONNECTION_SPECIFIC.has(name)) fields.push([name, value]);
  return fields;
}

function trailerFields(trailers: HeaderList): FieldInput[] {
  const fields: FieldInput[] = [];
  for (const [name, value] of trailers) fields.push([name, value]);
  return fields;
}

/** One request/response exchange on a stream (or a pushed response on a promised stream). */
interface Exchange {
  /** The request's abort state; its AbortSignal is made only if the handler reads req.signal. */
  abort: AbortState;
  body: RequestBody | null;
  response: StreamingResponse;
  /** The request's authority, for the :authority of promised requests (§8.4.1). */
  authority: string;
  /** Request body octets received so far (limits.maxBodyBytes). */
  received: number;
}

export class H2ServerConnection {
  readonly connection: H2Connection;
  private readonly exchanges = new Map<number, Exchange>();

  constructor(private readonly opts: H2ServerOptions) {
    this.connection = new H2Connection({ role: 'server', limits: opts.limits, now: opts.now, trace: opts.trace });
    const self = this;
    this.connection.events = {
      onRequest: (id, head, endStream) => self.onRequest(id, head, endStream),
      onData: (id, data, endStream) => {
        const body = self.exchanges.get(id)?.body;
        if (!body) {
          self.connection.consumed(id, data.length);
          return;
        }
        const exchange = self.exchanges.get(id)!;
        exchange.received += data.length;
        if (exchange.received > self.connection.limits.maxBodyBytes) {
          // Past the body limit: stop the upload (the handler sees a failed body).
          body.fail(new StreamAbortedError(`request body over ${self.connection.limits.maxBodyBytes} bytes`, ErrorCode.CANCEL));
          self.connection.resetStream(id, ErrorCode.CANCEL, 'silent');
          return;
        }
        body.push(data);
        if (endStream) body.end();
      },
      onTrailers: (id) => self.exchanges.get(id)?.body?.end(),
      onReset: (id, code, by) => self.abort(id, code, by),
      onDrain: (id) => self.exchanges.get(id)?.response.notifyDrain(),
      onSendFinished: (id) => {
        const exchange = self.exchanges.get(id);
        if (!exchange) return;
        exchange.response.notifyFinished();
        if (exchange.body && !exchange.body.ended) {
          // RFC 9113 §8.1: the response is complete before the request; ask the client to stop
          // sending with RST_STREAM NO_ERROR rather than leave the stream open.
          exchange.body.fail(new StreamAbortedError('response completed before the request body', ErrorCode.NO_ERROR));
          self.connection.resetStream(id, ErrorCode.NO_ERROR, 'silent');
        }
      },
      onStreamClosed: (id) => {
        const exchange = self.exchanges.get(id);
        if (!exchange) return;
        // Closed both ways: the request body, if unread, is complete; nothing more will come.
        exchange.response.notifyFinished();
        self.exchanges.delete(id);
      },
      onClose: (error) => self.closeAll(error),
    };
  }

  // ---- driver side: the H2Connection's, passed through ----

  receive(bytes: Uint8Array, now: number): void { this.connection.receive(bytes, now); }
  transmit(): Uint8Array[] { return this.connection.transmit(); }
  nextTimeout(): number | undefined { return this.connection.nextTimeout(); }
  handleTimeout(now: number): void { this.connection.handleTimeout(now); }
  get shouldClose(): boolean { return this.connection.shouldClose; }
  set onWake(wake: (() => void) | null) { this.connection.onWake = wake; }
  set transportBuffered(bytes: number) { this.connection.transportBuffered = bytes; }
  shutdown(): void { this.connection.shutdown(); }
  transportClosed(): void { this.connection.transportClosed(); }
  get activeExchanges(): number { return this.exchanges.size; }

  /** The socket drained: every response waiting on drain() may continue. */
  transportDrained(): void {
    for (const exchange of this.exchanges.values()) exchange.response.notifyDrain();
  }

  /**
   * h2c upgrade (RFC 7540 §3.2): the HTTP/1.1 request becomes stream 1, half-closed (remote),
   * answered over HTTP/2. `settingsPayload` is the decoded HTTP2-Settings value.
   */
  acceptUpgrade(request: { method: string; path: string; authority: string; headers: [string, string][] }, settingsPayload: Uint8Array): void {
    const id = this.connection.openUpgradeStream(settingsPayload, request.method);
    const headers = request.headers.filter(([name]) => !CONNECTION_SPECIFIC.has(name) && name !== 'http2-settings');
    this.start(id, { method: request.method, path: request.path, authority: request.authority, scheme: 'http', headers }, true);
  }

  // ---- streams ----

  private onRequest(id: number, head: RequestHead, endStream: boolean): void {
    const declared = contentLengthOf(head.headers, id);
    if (declared !== null && declared > this.connection.limits.maxBodyBytes) {
      // RFC 9110 §15.5.14: 413 Content Too Large, without reading the body.
      this.connection.sendHeaders(id, [[':status', '413'], ['content-length', '0']], true);
      if (!endStream) this.connection.resetStream(id, ErrorCode.NO_ERROR, 'silent');
      return;
    }
    const host = head.headers.find(([name]) => name === 'host')?.[1];
    this.start(id, {
      method: head.method,
      // RFC 9113 §8.5: CONNECT has no :path; its target is the authority.
      path: head.path ?? head.authority ?? '',
      authority: head.authority ?? host ?? '',
      scheme: head.scheme === 'http' ? 'http' : head.scheme === 'https' ? 'https' : this.opts.scheme,
      headers: joinCookies(head.headers),
    }, endStream);
  }

  private start(
    id: number,
    request: { method: string; path: string; authority: string; scheme: 'http' | 'https'; headers: [string, string][] },
    endStream: boolean,
  ): void {
    const limits = this.connection.limits;
    const abort = new AbortState();
    // A HEADERS frame with END_STREAM has no content (RFC 9113 §8.1): the shared, ended empty body.
    let body = EMPTY_BODY;
    if (!endStream) {
      body = new RequestBody(limits.requestBodyHighWaterMark);
      body.onConsumed = (bytes) => this.connection.consumed(id, bytes);
    }
    const req = new IncomingRequest({
      method: request.method,
      path: request.path,
      authority: request.authority,
      scheme: request.scheme,
      protocol: 'h2',
      headers: HeaderList.fromPairs(request.headers),
      body,
      abort,
      remoteAddress: this.opts.remoteAddress,
      remotePort: this.opts.remotePort,
    });
    const response = this.createResponse(id, request.method, abort);
    this.exchanges.set(id, { abort, body, response, authority: request.authority, received: 0 });
    runHandler(this.opts.handler, req, response, this.opts.onHandlerError);
  }

  private createResponse(id: number, method: string, abort: AbortState): StreamingResponse {
    const connection = this.connection;
    const sink: ResponseSink = {
      sendInformational(status, headers) {
        connection.sendHeaders(id, responseFields(status, headers), false);
      },
      send(head: ResponseHead | null, body: Uint8Array[], bodyBytes: number, end: boolean, trailers: HeaderList | null) {
        if (head) {
          const headOnly = end && bodyBytes === 0 && !trailers;
          connection.sendHeaders(id, responseFields(head.status, head.headers), headOnly);
          if (headOnly) return;
        }
        connection.sendData(id, body, end, trailers ? trailerFields(trailers) : null);
      },
      // Only this stream's queue: the connection stops cutting DATA while the socket is full, so
      // the queue grows then and write() says so; counting the socket too would stall every
      // stream each time the socket fills, leaving it idle until the handler refills it.
      get bufferedBytes() {
        return connection.streamBuffered(id);
      },
      trailersAllowed: true,
      // RFC 9113 §8.1: an abandoned response ends with RST_STREAM, never a clean END_STREAM.
      reset: () => connection.resetStream(id, ErrorCode.INTERNAL_ERROR, 'silent'),
      push: (path, headers) => this.push(id, path, headers),
    };
    return new StreamingResponse(sink, {
      method,
      abort,
      highWaterMark: this.connection.limits.responseHighWaterMark,
      defaultHeaders: this.opts.defaultHeaders,
    });
  }

  /** RFC 9113 §8.4: PUSH_PROMISE on `parentId`, then the pushed response on the promised stream. */
  private push(parentId: number, path: string, headers: HeaderList): ServerResponse | null {
    if (!path.startsWith('/')) throw new TypeError(`push path must be absolute, got ${JSON.stringify(path)}`);
    const parent = this.exchanges.get(parentId);
    if (!parent) return null;
    // §8.4.1: promised requests are safe and cacheable, carry no content: GET.
    const authority = parent.authority;
    const fields: FieldInput[] = [[':method', 'GET'], [':scheme', this.opts.scheme], [':authority', authority], [':path', path]];
    for (const [name, value] of headers) if (!CONNECTION_SPECIFIC.has(name) && name !== 'host') fields.push([name, value]);
    const promised = this.connection.push(parentId, fields);
    if (promised === null) return null;
    const abort = new AbortState();
    const response = this.createResponse(promised, 'GET', abort);
    this.exchanges.set(promised, { abort, body: null, response, authority: parent.authority, received: 0 });
    return response;
  }

  /** The stream is gone before its response ended: abort the handler's signal and body. */
  private abort(id: number, code: number, by: 'peer' | 'local' | 'connection'): void {
    const exchange = this.exchanges.get(id);
    if (!exchange) return;
    this.exchanges.delete(id);
    const why = by === 'peer' ? `stream reset by the client (${errorCodeName(code)})`
      : by === 'local' ? `stream reset (${errorCodeName(code)})` : `connection ended (${errorCodeName(code)})`;
    const error = new StreamAbortedError(why, code);
    exchange.body?.fail(error);
    exchange.abort.abort(error);
    exchange.response.notifyFinished();
  }

  private closeAll(error: H2Error | null): void {
    for (const id of [...this.exchanges.keys()]) this.abort(id, error?.code ?? ErrorCode.CANCEL, 'connection');
  }
}
