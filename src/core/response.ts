/**
 * The response engine shared by h1, h2 and h3. It keeps the rules of the streaming interface in one
 * place, so that every protocol behaves the same:
 *
 * - Writes made in the same tick are coalesced and handed to the protocol at the end of that tick
 *   (a microtask); flush() hands them over at once. Nothing waits in a buffer for more data.
 * - write() returns false over the high-water mark (buffered here + buffered in the protocol);
 *   drain() resolves when the protocol reports that it has room again.
 * - When end() comes before the first flush, the whole body is known: the head carries
 *   Content-Length instead of a chunked/streamed body (RFC 9112 §6.3, RFC 9110 §8.6).
 * - HEAD responses and 1xx/204/304 carry no content (RFC 9110 §6.4.1, §9.3.2).
 * - After an abort (client gone, stream reset) writes are dropped and end() resolves: nothing
 *   throws into the handler.
 */
import { HeaderList, assertValidField, assertValidTrailer, type HeaderInit } from './headers.js';
import type { ResponseSink } from './sink.js';
import type { ServerResponse } from './types.js';
import { AbortState } from './abort.js';

const encoder = new TextEncoder();
const RESOLVED = Promise.resolve();

export interface ResponseOptions {
  method: string;
  /** The request's abort state (cheap), or a signal to follow. One of the two is required. */
  abort?: AbortState;
  signal?: AbortSignal;
  highWaterMark: number;
  /** Headers added to every response unless the handler set them (e.g. Alt-Svc). */
  defaultHeaders?: HeaderList;
}

/** A plain object of fields (the common HeaderInit), not a HeaderList or an iterable of pairs. */
function isRecord(init: HeaderInit): init is Record<string, string | number | readonly string[] | undefined> {
  return !(init instanceof HeaderList) && typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function';
}

export class StreamingResponse implements ServerResponse {
  private readonly abortState: AbortState;
  private status = 200;
  private readonly headers = new HeaderList();
  private headSent = false;
  private ended = false;
  private finished = false;
  /** end() has been handed to the protocol: nothing more may be sent. */
  private finishedSending = false;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private pendingTrailers: HeaderList | null = null;
  private flushScheduled = false;
  // Made on first use: most responses never wait (these run once per request).
  private drainWaiters: (() => void)[] | null = null;
  private finishWaiters: (() => void)[] | null = null;
  private readonly isHead: boolean;

  constructor(private readonly sink: ResponseSink, private readonly opts: ResponseOptions) {
    this.abortState = opts.abort ?? AbortState.fromSignal(opts.signal!);
    this.isHead = opts.method === 'HEAD';
    this.abortState.onAbort(() => this.onAbort());
  }

  get signal(): AbortSignal { return this.abortState.signal; }
  private get aborted(): boolean { return this.abortState.aborted; }

  get headersSent(): boolean { return this.headSent; }
  get writableEnded(): boolean { return this.ended; }
  get statusCode(): number { return this.status; }

  setHeader(name: string, value: string | string[]): void {
    if (this.headSent) return; // too late: the head is on the wire
    if (typeof value === 'string') assertValidField(name, value);
    else for (const v of value) assertValidField(name, v);
    this.headers.set(name, value);
  }

  writeHead(status: number, headers?: HeaderInit): void {
    if (this.headSent) return;
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`invalid status ${status}`);
    if (status >= 200 && headers !== undefined && isRecord(headers)) {
      // The usual call, writeHead(200, { ... }), without a HeaderList in between. Each value is read
      // once and exactly the values checked are added: a getter or a one-shot iterable read a second
      // time could hand the wire a value never checked (CRLF: response splitting, RFC 9112 §11.1) or
      // nothing at all. All are checked before any is added, so a bad one changes nothing.
      const names = Object.keys(headers);
      const values: (string | readonly string[] | undefined)[] = new Array(names.length);
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const value = headers[name];
        if (value === undefined) continue;
        if (typeof value === 'string' || typeof value === 'number') {
          const text = String(value);
          assertValidField(name, text);
          values[i] = text;
        } else {
          const list = Array.from(value);
          for (const v of list) assertValidField(name, v);
          values[i] = list;
        }
      }
      this.status = status;
      for (let i = 0; i < names.length; i++) {
        const value = values[i];
        if (value === undefined) continue;
        if (typeof value === 'string') this.headers.add(names[i]!, value);
        else for (const v of value) this.headers.add(names[i]!, v);
      }
      return;
    }
    const extra = headers ? new HeaderList(headers) : null;
    if (extra) for (const [n, v] of extra) assertValidField(n, v);
    if (status < 200) {
      // RFC 9110 §15.2: interim responses go out at once; the final status comes later. 101 is
      // the protocols' own business (h2c upgrade), never the handler's.
      if (status !== 101 && !this.aborted) this.sink.sendInformational(status, extra ?? new HeaderList());
      return;
    }
    this.status = status;
    if (extra) for (const [n, v] of extra) this.headers.add(n, v);
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.ended || this.aborted) return false;
    const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    if (bytes.length > 0) {
      // A flush usually carries one piece: an array of exactly one, not one grown for sixteen.
      if (this.pending.length === 0) this.pending = [bytes];
      else this.pending.push(bytes);
      this.pendingBytes += bytes.length;
    }
    this.scheduleFlush();
    return this.pendingBytes + this.sink.bufferedBytes < this.opts.highWaterMark;
  }

  drain(): Promise<void> {
    if (this.aborted || this.ended || this.pendingBytes + this.sink.bufferedBytes < this.opts.highWaterMark) {
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.drainWaiters ??= []).push(resolve));
  }

  flush(): void {
    if (this.aborted) return;
    // Even with nothing written, flush() commits the head (a client sees headers early).
    this.flushNow();
  }

  end(chunk?: Uint8Array | string, trailers?: HeaderInit): Promise<void> {
    if (this.ended || this.aborted) return this.whenFinished();
    // Validate before anything changes, so that a bad trailer leaves the response usable.
    const t = trailers ? new HeaderList(trailers) : null;
    if (t) for (const [n, v] of t) assertValidTrailer(n, v);
    if (chunk !== undefined) this.write(chunk);
    this.ended = true;
    if (t && t.size > 0) this.pendingTrailers = t;
    this.scheduleFlush();
    return this.whenFinished();
  }

  push(path: string, headers?: HeaderInit): ServerResponse | null {
    if (this.aborted || this.ended || !this.sink.push) return null;
    return this.sink.push(path, new HeaderList(headers));
  }

  /**
   * Abandons the response (the handler failed mid-way). The client sees a reset, not an ending.
   * Before the head was sent, a 500 goes out instead.
   */
  destroy(reason: Error = new Error('response destroyed')): void {
    if (this.finishedSending || this.aborted) return;
    if (!this.headSent) {
      this.pending = [];
      this.pendingBytes = 0;
      // The failed response's fields (Content-Encoding, Content-Range, …) do not describe the
      // 500's content (RFC 9110 §8.4), so none of them is kept.
      for (const [name] of [...this.headers]) this.headers.delete(name);
      this.status = 500;
      this.headers.set('content-type', 'text/plain; charset=utf-8');
      void this.end('internal server error\n');
      return;
    }
    this.finishedSending = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.sink.reset(reason);
    this.notifyFinished();
  }

  // ---- called by the protocol ----

  /** The protocol has room again (socket drained, window opened). */
  notifyDrain(): void {
    if (this.pendingBytes + this.sink.bufferedBytes >= this.opts.highWaterMark) return;
    const waiters = this.drainWaiters;
    if (!waiters) return;
    this.drainWaiters = null;
    for (const w of waiters) w();
  }

  /** The last byte of the response has been handed to the wire (or the stream is gone). */
  notifyFinished(): void {
    if (this.finished) return;
    this.finished = true;
    const finish = this.finishWaiters;
    const drain = this.drainWaiters;
    this.finishWaiters = null;
    this.drainWaiters = null;
    if (finish) for (const w of finish) w();
    if (drain) for (const w of drain) w();
  }

  // ---- internals ----

  private whenFinished(): Promise<void> {
    if (this.finished || this.aborted) return Promise.resolve();
    return new Promise((resolve) => (this.finishWaiters ??= []).push(resolve));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A resolved promise's reaction: a microtask like queueMicrotask's, without its AsyncResource.
    void RESOLVED.then(() => {
      this.flushScheduled = false;
      if (!this.aborted) this.flushNow();
    });
  }

  private flushNow(): void {
    if (this.finishedSending) return;
    const endNow = this.ended;
    if (this.headSent && this.pendingBytes === 0 && !endNow) return;
    let body = this.pending;
    let bodyBytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const bodyAllowed = !(this.status === 204 || this.status === 304 || this.isHead);
    let head = null;
    if (!this.headSent) {
      this.headSent = true;
      const headers = this.headers;
      if (this.opts.defaultHeaders) {
        for (const [n, v] of this.opts.defaultHeaders) if (!headers.has(n)) headers.add(n, v);
      }
      // RFC 9110 §8.6: when the whole body is known before anything was sent, say its length.
      // With trailers to send the body must stay chunked on h1, so no Content-Length then.
      if (endNow && !headers.has('content-length') && this.status !== 204 && this.status !== 304 &&
          !(this.pendingTrailers && this.sink.trailersAllowed) && !headers.has('transfer-encoding')) {
        if (!this.isHead || bodyBytes > 0) headers.set('content-length', String(bodyBytes));
      }
      head = { status: this.status, headers };
    }
    if (!bodyAllowed && bodyBytes > 0) {
      body = [];
      bodyBytes = 0;
    }
    const trailers = endNow && this.sink.trailersAllowed ? this.pendingTrailers : null;
    if (endNow) this.finishedSending = true;
    this.sink.send(head, body, bodyBytes, endNow, trailers);
    if (!endNow) this.notifyDrain();
  }

  private onAbort(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.notifyFinished();
  }
}
