/**
 * The client side of an HTTP/2 connection, sans-I/O: requests as streams over an H2Connection,
 * multiplexed up to the server's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2; requests beyond
 * it wait for a stream to close), responses as a head, a body with backpressure (credit goes back
 * as the body is read, §5.2) and trailers (§8.1). Pushed responses (§8.4) are refused unless the
 * caller enables push and accepts them.
 */
import { RequestBody } from '../../core/body.js';
import { StreamAbortedError } from '../../core/errors.js';
import { HeaderList } from '../../core/headers.js';
import type { Limits } from '../../core/limits.js';
import { H2Connection } from '../connection.js';
import { ErrorCode, errorCodeName, type H2Error } from '../errors.js';
import type { RequestHead, ResponseHead } from '../headers.js';
import type { FieldInput } from '../hpack.js';

export interface H2ClientOptions {
  limits?: Partial<Limits>;
  now?: number;
  trace?: (line: string) => void;
  /** Accept server push (SETTINGS_ENABLE_PUSH = 1); each promise goes to `onPush`. */
  onPush?: (push: PushedResponse) => void;
}

export interface H2RequestInit {
  method: string;
  scheme: 'http' | 'https';
  authority: string;
  /** Path and query. */
  path: string;
  headers?: Iterable<readonly [string, string]>;
  /** True when DATA will follow through writeBody()/endBody(); false ends the stream with HEADERS. */
  hasBody: boolean;
}

export interface H2Response {
  streamId: number;
  status: number;
  headers: HeaderList;
  body: RequestBody;
  trailers: Promise<HeaderList | null>;
}

export interface PushedResponse {
  parentId: number;
  request: RequestHead;
  response: Promise<H2Response>;
}

/** RFC 9113 §8.2.2: connection-specific fields are not sent; `te` only as "trailers". */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

interface Exchange {
  resolve: (response: H2Response) => void;
  reject: (error: Error) => void;
  body: RequestBody | null;
  resolveTrailers: (trailers: HeaderList | null) => void;
  rejectTrailers: (error: Error) => void;
  trailers: Promise<HeaderList | null>;
  drainWaiters: (() => void)[];
  settled: boolean;
}

export class H2ClientConnection {
  readonly connection: H2Connection;
  private readonly exchanges = new Map<number, Exchange>();
  /** Requests waiting for a stream slot (§5.1.2). */
  private readonly waiting: (() => void)[] = [];
  private readonly highWaterMark: number;

  constructor(private readonly opts: H2ClientOptions = {}) {
    this.connection = new H2Connection({
      role: 'client', limits: opts.limits, now: opts.now, trace: opts.trace,
      settings: { enablePush: Boolean(opts.onPush) },
    });
    this.highWaterMark = this.connection.limits.requestBodyHighWaterMark;
    this.connection.events = {
      onResponse: (id, head, endStream) => this.onResponse(id, head, endStream),
      onData: (id, data, endStream) => {
        const exchange = this.exchanges.get(id);
        if (!exchange?.body) {
          this.connection.consumed(id, data.length);
          return;
        }
        exchange.body.push(data);
        if (endStream) this.finish(id, null);
      },
      onTrailers: (id, trailers) => this.finish(id, HeaderList.fromPairs(trailers)),
      onPushPromise: (parentId, promisedId, request) => this.onPushPromise(parentId, promisedId, request),
      onReset: (id, code, by) => this.fail(id, new StreamAbortedError(
        by === 'peer' ? `stream ${id} reset by the server (${errorCodeName(code)})` : `stream ${id} aborted (${errorCodeName(code)})`, code)),
      onDrain: (id) => this.wakeDrain(id),
      onStreamClosed: () => this.admit(),
      onClose: (error: H2Error | null) => {
        for (const id of [...this.exchanges.keys()]) this.fail(id, error ?? new StreamAbortedError('connection closed', ErrorCode.CANCEL));
        for (const wake of this.waiting.splice(0)) wake();
      },
    };
  }

  // ---- driver side ----
  receive(bytes: Uint8Array, now: number): void { this.connection.receive(bytes, now); }
  transmit(): Uint8Array[] { return this.connection.transmit(); }
  nextTimeout(): number | undefined { return this.connection.nextTimeout(); }
  handleTimeout(now: number): void { this.connection.handleTimeout(now); }
  get shouldClose(): boolean { return this.connection.shouldClose; }
  set onWake(wake: (() => void) | null) { this.connection.onWake = wake; }
  set transportBuffered(bytes: number) { this.connection.transportBuffered = bytes; }
  transportClosed(): void { this.connection.transportClosed(); }
  transportDrained(): void { for (const id of this.exchanges.keys()) this.wakeDrain(id); }
  shutdown(): void { this.connection.shutdown(); }

  /** Streams in progress. */
  get activeStreams(): number { return this.exchanges.size; }
  /** False once the connection is closing: new requests need a new connection. */
  get usable(): boolean { return this.connection.state === 'open'; }

  /**
   * Sends a request's HEADERS (waiting for a stream slot if needed). Resolves with the stream id
   * and a promise of the response head.
   */
  async open(init: H2RequestInit): Promise<{ streamId: number; response: Promise<H2Response> }> {
    const fields: FieldInput[] = [[':method', init.method], [':scheme', init.scheme], [':authority', init.authority], [':path', init.path]];
    for (const [rawName, value] of init.headers ?? []) {
      const name = rawName.toLowerCase();
      if (DROPPED.has(name) || (name === 'te' && value.toLowerCase() !== 'trailers')) continue;
      fields.push([name, value]);
    }
    for (;;) {
      if (!this.usable) throw new StreamAbortedError('HTTP/2 connection is closing', ErrorCode.REFUSED_STREAM);
      const id = this.connection.openStream(fields, !init.hasBody, init.method);
      if (id !== null) return { streamId: id, response: this.expect(id) };
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** Queues request body octets; false when over the high-water mark (await drain()). */
  writeBody(streamId: number, chunk: Uint8Array): boolean {
    this.connection.sendData(streamId, [chunk], false);
    return this.connection.streamBuffered(streamId) < this.highWaterMark;
  }

  endBody(streamId: number, trailers?: HeaderList): void {
    const fields = trailers ? [...trailers].map(([n, v]) => [n, v] as FieldInput) : null;
    this.connection.sendData(streamId, [], true, fields);
  }

  drain(streamId: number): Promise<void> {
    const exchange = this.exchanges.get(streamId);
    if (!exchange || this.connection.streamBuffered(streamId) < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => exchange.drainWaiters.push(resolve));
  }

  /** Cancels a request (RST_STREAM CANCEL, RFC 9113 §8.1). */
  cancel(streamId: number, reason: Error = new StreamAbortedError('request cancelled', ErrorCode.CANCEL)): void {
    this.fail(streamId, reason);
    this.connection.resetStream(streamId, ErrorCode.CANCEL, 'silent');
  }

  // ---- events ----

  private expect(id: number): Promise<H2Response> {
    let resolveTrailers!: (t: HeaderList | null) => void;
    let rejectTrailers!: (e: Error) => void;
    const trailers = new Promise<HeaderList | null>((res, rej) => { resolveTrailers = res; rejectTrailers = rej; });
    trailers.catch(() => {});
    return new Promise<H2Response>((resolve, reject) => {
      this.exchanges.set(id, { resolve, reject, body: null, resolveTrailers, rejectTrailers, trailers, drainWaiters: [], settled: false });
    });
  }

  private onResponse(id: number, head: ResponseHead, endStream: boolean): void {
    const exchange = this.exchanges.get(id);
    if (!exchange || head.status < 200) return; // RFC 9110 §15.2: interim responses are skipped
    const body = new RequestBody(this.highWaterMark);
    body.onConsumed = (bytes) => this.connection.consumed(id, bytes);
    exchange.body = body;
    exchange.settled = true;
    exchange.resolve({ streamId: id, status: head.status, headers: HeaderList.fromPairs(head.headers), body, trailers: exchange.trailers });
    if (endStream) this.finish(id, null);
  }

  private onPushPromise(parentId: number, promisedId: number, request: RequestHead): boolean {
    if (!this.opts.onPush) return false;
    const response = this.expect(promisedId);
    response.catch(() => {});
    this.opts.onPush({ parentId, request, response });
    return true;
  }

  private finish(id: number, trailers: HeaderList | null): void {
    const exchange = this.exchanges.get(id);
    if (!exchange) return;
    this.exchanges.delete(id);
    exchange.body?.end();
    exchange.resolveTrailers(trailers);
    for (const wake of exchange.drainWaiters.splice(0)) wake();
  }

  private fail(id: number, error: Error): void {
    const exchange = this.exchanges.get(id);
    if (!exchange) return;
    this.exchanges.delete(id);
    if (!exchange.settled) exchange.reject(error);
    exchange.body?.fail(error);
    exchange.rejectTrailers(error);
    for (const wake of exchange.drainWaiters.splice(0)) wake();
  }

  private wakeDrain(id: number): void {
    const exchange = this.exchanges.get(id);
    if (!exchange || exchange.drainWaiters.length === 0) return;
    if (this.connection.streamBuffered(id) >= this.highWaterMark) return;
    for (const wake of exchange.drainWaiters.splice(0)) wake();
  }

  private admit(): void {
    const wake = this.waiting.shift();
    wake?.();
  }
}
