/**
 * HTTP/1.1 client (RFC 9112): one request at a time per connection, request and response bodies
 * streamed with backpressure, chunked encoding both ways, trailers, and keep-alive reuse through a
 * small pool per origin. Used by `h123 get`, src/client.ts and the tests.
 */
import net from 'node:net';
import { H1Error } from '../core/errors.js';
import { connectTcp } from '../core/connect.js';
import { HeaderList } from '../core/headers.js';
import { RequestBody } from '../core/body.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { ResponseHeadParser, type ResponseHead } from './parse.js';
import { chunkHeader, CRLF, lastChunk } from './chunked.js';
import { createBodyDecoder, responseFraming, type BodyDecoder } from './framing.js';

export type RequestBodyInit = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface ClientRequestOptions {
  method?: string;
  headers?: Iterable<readonly [string, string]>;
  body?: RequestBodyInit;
  signal?: AbortSignal;
  /** TLS: trusted CA certificates (PEM); default the system store. */
  ca?: string | string[];
  /** TLS: accept any certificate (development only). */
  insecure?: boolean;
  /** Prints what crosses the wire, one line per event. */
  trace?: (line: string) => void;
  limits?: Partial<Limits>;
}

export interface ClientResponse {
  protocol: 'http/1.1' | 'h2' | 'h3';
  status: number;
  headers: HeaderList;
  body: AsyncIterable<Uint8Array>;
  /** Resolves when the body has ended: the trailer fields, or null when there were none. */
  trailers: Promise<HeaderList | null>;
}

interface PooledSocket {
  socket: net.Socket;
  key: string;
}

/** Escapes a wire excerpt for --trace: CR and LF shown, binary shown as hex. */
export function traceBytes(bytes: Uint8Array, max = 512): string {
  const shown = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, max));
  let s = '';
  for (const b of shown) {
    if (b === 0x0d) s += '\\r';
    else if (b === 0x0a) s += '\\n';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

/** Keep-alive connections per origin, reused for later requests. */
export class H1Agent {
  private readonly idle = new Map<string, PooledSocket[]>();
  constructor(private readonly maxIdlePerOrigin = 8) {}

  async request(url: URL, options: ClientRequestOptions = {}): Promise<ClientResponse> {
    const key = `${url.protocol}//${url.host}`;
    const pooled = this.take(key);
    const socket = pooled ?? (await connectTcp(url, options, ['http/1.1']));
    return exchange(socket, url, options, (reusable) => {
      if (reusable) this.give({ socket, key });
      else socket.destroy();
    });
  }

  close(): void {
    for (const list of this.idle.values()) for (const p of list) p.socket.destroy();
    this.idle.clear();
  }

  private take(key: string): net.Socket | null {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const p = list.pop()!;
      if (!p.socket.destroyed && p.socket.readyState === 'open') {
        p.socket.ref();
        return p.socket;
      }
    }
    return null;
  }

  private give(p: PooledSocket): void {
    const socket = p.socket;
    if (socket.destroyed) return;
    const list = this.idle.get(p.key) ?? [];
    if (list.length >= this.maxIdlePerOrigin) { socket.destroy(); return; }
    // The response that released it may have paused it (its body was over the high-water mark);
    // all of that body has arrived, so reading can resume for the next response.
    socket.resume();
    socket.unref(); // an idle pooled socket must not keep the process alive
    if (!POOLED.has(socket)) {
      // Once per socket: leave the pool on close, and swallow errors (ECONNRESET) while idle.
      POOLED.add(socket);
      socket.on('close', () => {
        const l = this.idle.get(p.key);
        const i = l ? l.findIndex((x) => x.socket === socket) : -1;
        if (i >= 0) l!.splice(i, 1);
      });
      socket.on('error', () => socket.destroy());
    }
    list.push(p);
    this.idle.set(p.key, list);
  }
}

/** Sockets that already carry the pool's close and error listeners. */
const POOLED = new WeakSet<net.Socket>();

const defaultAgent = new H1Agent();

/** One request over HTTP/1.1, reusing a pooled connection when one is idle. */
export function h1Request(url: string | URL, options: ClientRequestOptions = {}): Promise<ClientResponse> {
  return defaultAgent.request(typeof url === 'string' ? new URL(url) : url, options);
}

function requestHead(url: URL, method: string, headers: HeaderList, framing: 'none' | 'length' | 'chunked', length: number): Buffer {
  // RFC 9112 §3.2: Host first, from the target URI's authority (§7.2 of RFC 9110).
  let s = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [n, v] of headers) {
    if (n === 'host' || n === 'content-length' || n === 'transfer-encoding' || n === 'connection') continue;
    s += `${n}: ${v}\r\n`;
  }
  if (!headers.has('te')) s += 'te: trailers\r\n'; // we accept trailers (RFC 9110 §10.1.4)
  if (framing === 'length') s += `content-length: ${length}\r\n`;
  else if (framing === 'chunked') s += 'transfer-encoding: chunked\r\n';
  return Buffer.from(s + '\r\n', 'latin1');
}

function exchange(socket: net.Socket, url: URL, options: ClientRequestOptions, release: (reusable: boolean) => void): Promise<ClientResponse> {
  const limits = resolveLimits(options.limits);
  const method = (options.method ?? 'GET').toUpperCase();
  const headers = new HeaderList(options.headers ?? []);
  const trace = options.trace;
  const body = options.body;
  const fixed = typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : null;
  const streaming = body !== undefined && fixed === null;
  const head = requestHead(url, method, headers, streaming ? 'chunked' : fixed ? 'length' : 'none', fixed?.length ?? 0);

  return new Promise<ClientResponse>((resolve, reject) => {
    const parser = new ResponseHeadParser(limits);
    let decoder: BodyDecoder | null = null;
    let keepAlive = false;
    let responseBody: RequestBody | null = null;
    let settled = false;
    let requestSent = !streaming;
    let responseDone = false;
    let resolveTrailers!: (t: HeaderList | null) => void;
    let rejectTrailers!: (e: Error) => void;
    const trailers = new Promise<HeaderList | null>((res, rej) => { resolveTrailers = res; rejectTrailers = rej; });
    trailers.catch(() => {});

    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      if (!settled) { settled = true; reject(err); }
      responseBody?.fail(err);
      rejectTrailers(err);
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', fail);
      socket.off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const finish = (t: HeaderList | null): void => {
      responseDone = true;
      responseBody!.end();
      resolveTrailers(t);
      if (requestSent) { cleanup(); release(keepAlive); }
    };
    const onAbort = (): void => fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));

    const onData = (data: Buffer): void => {
      trace?.(`recv ${data.length} bytes: ${traceBytes(data)}`);
      try {
        let input: Buffer = data;
        while (input.length > 0) {
          if (!decoder) {
            const got = parser.push(input);
            if (!got) return;
            input = got.rest;
            if (got.head.status < 200) {
              // RFC 9110 §15.2: interim responses (100 Continue, 103) precede the final one.
              trace?.(`interim ${got.head.status}`);
              if (got.head.status === 101) throw new H1Error(502, 'unexpected 101 Switching Protocols', 'RFC 9110 §15.2.2');
              continue;
            }
            start(got.head);
            if (decoder!.done) { finish(null); return; }
            continue;
          }
          const r = decoder.push(input);
          for (const piece of r.data) {
            if (!responseBody!.push(piece)) socket.pause();
          }
          input = Buffer.alloc(0);
          if (r.done) {
            finish(r.trailers.length ? HeaderList.fromPairs(r.trailers) : null);
            return;
          }
        }
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    };

    const start = (h: ResponseHead): void => {
      const framing = responseFraming(h, method);
      keepAlive = framing.keepAlive;
      decoder = createBodyDecoder(framing.body, limits, 502);
      responseBody = new RequestBody(limits.requestBodyHighWaterMark);
      responseBody.onConsumed = () => {
        if (responseBody!.buffered < limits.requestBodyHighWaterMark && socket.isPaused()) socket.resume();
      };
      settled = true;
      resolve({
        protocol: 'http/1.1',
        status: h.status,
        headers: HeaderList.fromPairs(h.headers),
        body: responseBody,
        trailers,
      });
    };

    const onEnd = (): void => {
      if (responseDone) return;
      if (decoder) {
        try {
          decoder.end(); // until-close body completes; a cut one throws (RFC 9112 §8)
          keepAlive = false;
          finish(null);
          return;
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
      fail(new Error('connection closed before the response'));
    };
    const onClose = (): void => { if (!responseDone) onEnd(); };

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', fail);
    socket.on('close', onClose);
    if (options.signal) {
      if (options.signal.aborted) { onAbort(); return; }
      options.signal.addEventListener('abort', onAbort, { once: true });
    }

    trace?.(`send ${traceBytes(head, 400)}`);
    if (fixed) {
      socket.cork();
      socket.write(head);
      if (fixed.length) socket.write(fixed);
      socket.uncork();
    } else {
      socket.write(head);
    }
    if (streaming) {
      void (async () => {
        try {
          for await (const chunk of body as AsyncIterable<Uint8Array>) {
            if (socket.destroyed) return;
            if (chunk.length === 0) continue;
            socket.cork();
            socket.write(chunkHeader(chunk.length));
            socket.write(chunk);
            const ok = socket.write(CRLF);
            socket.uncork();
            if (!ok) await new Promise((r) => socket.once('drain', r));
          }
          socket.write(lastChunk());
          requestSent = true;
          if (responseDone) { cleanup(); release(keepAlive); }
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    }
  });
}
