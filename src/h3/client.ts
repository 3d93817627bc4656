/**
 * The HTTP/3 client driver: a QUIC connection over node:dgram (ALPN "h3", RFC 9114 §3.1) with an
 * H3ClientConnection on it, giving the same ClientResponse as the h1 and h2 clients.
 * `connectH3` keeps one connection for many requests; `h3Request` (what src/client.ts and
 * `h123 get --http3` use) takes one from a pool per origin (client-pool.ts), which closes it
 * gracefully once idle (GOAWAY, then CONNECTION_CLOSE H3_NO_ERROR, RFC 9114 §5.2).
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { ClientRequestOptions, ClientResponse } from '../h1/client.js';
import { resolveLimits } from '../core/limits.js';
import type { Connection } from '../quic/connection.js';
import { QuicEndpoint } from '../quic/endpoint.js';
import { H3ClientConnection } from './connection.js';
import { H3Error, H3ErrorCode } from './errors.js';
import { H3ConnectionPool } from './client-pool.js';
import { flushingStreams, isStreamEvent } from './transport.js';

/** Reads CA options given as PEM text or as file paths. */
function caList(ca: string | string[] | undefined): string[] | undefined {
  if (ca === undefined) return undefined;
  return (Array.isArray(ca) ? ca : [ca]).map((c) => (c.includes('-----BEGIN') ? c : readFileSync(c, 'utf8')));
}

/**
 * The field lines of a request without headers of its own: shared, since nothing changes them
 * (readonly by type; not frozen, because V8 destructures frozen arrays through the slow iterator).
 */
const DEFAULT_REQUEST_HEADERS: readonly (readonly [string, string])[] = [['user-agent', 'h123']];

/** The caller's headers, lower-cased, with a User-Agent unless they carry one. */
function requestHeaders(given: ClientRequestOptions['headers']): Iterable<readonly [string, string]> {
  if (given === undefined) return DEFAULT_REQUEST_HEADERS;
  const headers: [string, string][] = [];
  let userAgent = false;
  for (const [n, v] of given) {
    const name = n.toLowerCase();
    if (name === 'user-agent') userAgent = true;
    headers.push([name, v]);
  }
  if (!userAgent) headers.push(['user-agent', 'h123']);
  return headers;
}

/** One HTTP/3 connection to an origin, for several requests (bench, pooled callers). */
export interface H3ClientHandle {
  readonly session: H3ClientConnection;
  /** Sends a request for `url`'s path on this connection. */
  request(url: URL, options?: ClientRequestOptions): Promise<ClientResponse>;
  /** GOAWAY and CONNECTION_CLOSE H3_NO_ERROR when the requests in flight are done (RFC 9114 §5.2). */
  close(): Promise<void>;
  /** New requests may start here: not closing or closed, no GOAWAY from the server (RFC 9114 §5.2). */
  readonly available: boolean;
  /** Whether this connection's UDP socket and timers keep the process alive (as net.Socket's ref/unref). */
  ref(): void;
  unref(): void;
}

/** Opens a QUIC connection with ALPN h3 to `url`'s origin and starts HTTP/3 on it. */
export async function connectH3(url: URL, options: ClientRequestOptions = {}): Promise<H3ClientHandle> {
  if (url.protocol !== 'https:') throw new TypeError('HTTP/3 needs an https URL (RFC 9114 §3.1)');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 443;
  const { address, family } = await lookup(hostname);
  const limits = resolveLimits(options.limits);
  const trace = options.trace;
  let session!: H3ClientConnection;
  let endpoint!: QuicEndpoint;
  let handshake!: { resolve: () => void; reject: (e: Error) => void };
  const ready = new Promise<void>((resolve, reject) => { handshake = { resolve, reject }; });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      session.close();
      // The endpoint waits for the connection to finish closing, then releases the socket.
      await new Promise((r) => setTimeout(r, 0));
      await endpoint.close(H3ErrorCode.H3_NO_ERROR, 'done', 1000);
    })();
    return closing;
  };
  endpoint = await QuicEndpoint.listen({
    type: family === 6 ? 'udp6' : 'udp4',
    transport: { maxIdleTimeout: limits.idleTimeoutMs },
    // Packets sent, received and lost, from the connection's qlog events.
    qlog: trace ? () => (e) => {
      if (e.name.startsWith('transport:packet') || e.name === 'recovery:packet_lost') trace(`quic ${e.name.slice(e.name.indexOf(':') + 1)} ${JSON.stringify(e.data)}`);
    } : undefined,
    onEvent(_conn, event) {
      trace?.(`quic ${event.type}${'id' in event ? ` stream ${event.id}` : ''}${event.type === 'stream-data' ? ` ${event.data.length} bytes${event.fin ? ' fin' : ''}` : ''}`);
      if (event.type === 'handshake-complete') {
        session.start();
        handshake.resolve();
      } else if (isStreamEvent(event)) {
        session.handleEvent(event);
        if (event.type === 'closed') {
          handshake.reject(new H3Error(event.error.code, `connection closed: ${event.error.reason}`, 'RFC 9000 §10'));
          void close();
        }
      }
    },
  });
  const conn: Connection = endpoint.connect(
    { address, port },
    { serverName: hostname, alpn: ['h3'], ca: caList(options.ca), insecure: options.insecure },
  );
  session = new H3ClientConnection(flushingStreams(conn, () => endpoint.flush()), { limits: options.limits, trace });
  try {
    await ready;
    if (conn.alpn !== 'h3') throw new H3Error(H3ErrorCode.H3_VERSION_FALLBACK, `server chose ALPN ${conn.alpn}`, 'RFC 9114 §3.1');
  } catch (err) {
    await close();
    throw err;
  }
  return {
    session,
    close,
    get available() {
      return closing === null && session.available;
    },
    ref() {
      endpoint.ref();
    },
    unref() {
      endpoint.unref();
    },
    request(target, requestOptions = {}) {
      // Not an async function: no second promise and suspended frame per request. A throw
      // still becomes a rejection, as it would from an async function.
      let response: Promise<ClientResponse>;
      try {
        response = session.request({
          method: requestOptions.method ?? 'GET',
          scheme: 'https',
          authority: target.host,
          path: target.pathname + target.search,
          headers: requestHeaders(requestOptions.headers),
          body: requestOptions.body,
          signal: requestOptions.signal,
        });
      } catch (err) {
        return Promise.reject(err);
      }
      if (!trace) return response;
      return response.then((r) => {
        trace(`h3 response ${r.status}`);
        return r;
      });
    },
  };
}

const defaultPool = new H3ConnectionPool({ connect: connectH3 });

/**
 * One request on the origin's pooled connection (src/h3/client-pool.ts): requests to the same
 * origin share one QUIC connection, closed cleanly after it has been idle for a while.
 */
export function h3Request(url: URL, options: ClientRequestOptions & { protocol?: string } = {}): Promise<ClientResponse> {
  return defaultPool.request(url, options);
}

/** Closes the pooled HTTP/3 connections (GOAWAY, CONNECTION_CLOSE H3_NO_ERROR). */
export function closeH3Connections(): Promise<void> {
  return defaultPool.closeAll();
}
