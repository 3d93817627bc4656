/**
 * The HTTP/3 client driver: one QUIC connection over node:dgram per request (ALPN "h3",
 * RFC 9114 §3.1), an H3ClientConnection on it, and the same ClientResponse as the h1 and h2
 * clients. When the response body has ended the connection closes gracefully (GOAWAY, then
 * CONNECTION_CLOSE H3_NO_ERROR, RFC 9114 §5.2).
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { ClientRequestOptions, ClientResponse } from '../h1/client.js';
import { resolveLimits } from '../core/limits.js';
import type { Connection } from '../quic/connection.js';
import { QuicEndpoint } from '../quic/endpoint.js';
import { H3ClientConnection } from './connection.js';
import { H3Error, H3ErrorCode } from './errors.js';
import { flushingStreams, isStreamEvent } from './transport.js';

/** Reads CA options given as PEM text or as file paths. */
function caList(ca: string | string[] | undefined): string[] | undefined {
  if (ca === undefined) return undefined;
  return (Array.isArray(ca) ? ca : [ca]).map((c) => (c.includes('-----BEGIN') ? c : readFileSync(c, 'utf8')));
}

export async function h3Request(url: URL, options: ClientRequestOptions & { protocol?: string } = {}): Promise<ClientResponse> {
  if (url.protocol !== 'https:') throw new TypeError('HTTP/3 needs an https URL (RFC 9114 §3.1)');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 443;
  const { address, family } = await lookup(hostname);
  const limits = resolveLimits(options.limits);
  const trace = options.trace;
  let session!: H3ClientConnection;
  let conn!: Connection;
  let endpoint!: QuicEndpoint;
  let handshake!: { resolve: () => void; reject: (e: Error) => void };
  const ready = new Promise<void>((resolve, reject) => { handshake = { resolve, reject }; });
  endpoint = await QuicEndpoint.listen({
    type: family === 6 ? 'udp6' : 'udp4',
    transport: { maxIdleTimeout: limits.idleTimeoutMs },
    onEvent(_conn, event) {
      trace?.(`quic ${event.type}${'id' in event ? ` stream ${event.id}` : ''}${event.type === 'stream-data' ? ` ${event.data.length} bytes${event.fin ? ' fin' : ''}` : ''}`);
      if (event.type === 'handshake-complete') {
        session.start();
        handshake.resolve();
      } else if (isStreamEvent(event)) {
        session.handleEvent(event);
        if (event.type === 'closed') {
          handshake.reject(new H3Error(event.error.code, `connection closed: ${event.error.reason}`, 'RFC 9000 §10'));
          done();
        }
      }
    },
  });
  conn = endpoint.connect(
    { address, port },
    { serverName: hostname, alpn: ['h3'], ca: caList(options.ca), insecure: options.insecure },
  );
  session = new H3ClientConnection(flushingStreams(conn, () => endpoint.flush()), { limits: options.limits });
  let closing = false;
  const done = (): void => {
    if (closing) return;
    closing = true;
    session.close();
    // The endpoint waits for the connection to finish closing, then releases the socket.
    setTimeout(() => void endpoint.close(H3ErrorCode.H3_NO_ERROR, 'done', 1000), 0);
  };
  try {
    await ready;
    if (conn.alpn !== 'h3') throw new H3Error(H3ErrorCode.H3_VERSION_FALLBACK, `server chose ALPN ${conn.alpn}`, 'RFC 9114 §3.1');
    const headers: [string, string][] = [];
    for (const [n, v] of options.headers ?? []) headers.push([n.toLowerCase(), v]);
    if (!headers.some(([n]) => n === 'user-agent')) headers.push(['user-agent', 'h123']);
    const response = await session.request({
      method: options.method ?? 'GET',
      scheme: 'https',
      authority: url.host,
      path: `${url.pathname}${url.search}`,
      headers,
      body: options.body,
      signal: options.signal,
    });
    trace?.(`h3 response ${response.status}`);
    void response.trailers.then(done, done);
    return response;
  } catch (err) {
    done();
    throw err;
  }
}
