/**
 * One call for a request over a chosen protocol, with the response body as a stream:
 *
 *   const res = await request('https://localhost:8443/stream', { protocol: 'h3', ca });
 *   for await (const chunk of res.body) …
 *
 * Without `protocol`, https URLs use HTTP/2 when the server offers it by ALPN, else HTTP/1.1;
 * http URLs use HTTP/1.1.
 *
 * Connections are reused per origin: h1 keep-alive sockets, one multiplexed h2 connection, one
 * h3 (QUIC) connection closed after a short idle time (src/h3/client-pool.ts).
 * `closeConnections()` closes the pooled h2 and h3 connections at once.
 */
import { h1Request, type ClientRequestOptions, type ClientResponse } from './h1/client.js';
import { clientExtensions } from './client-protocols.js';

export type ClientProtocol = 'http/1.1' | 'h2' | 'h3';

export interface RequestOptions extends ClientRequestOptions {
  protocol?: ClientProtocol;
}

export type { ClientResponse };

export async function request(url: string | URL, options: RequestOptions = {}): Promise<ClientResponse> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const ext = clientExtensions();
  const protocol = options.protocol ?? (target.protocol === 'https:' && ext.h2 ? 'h2' : 'http/1.1');
  if (protocol === 'h3') {
    if (!ext.h3) throw new Error('HTTP/3 client not available');
    return ext.h3(target, options);
  }
  if (protocol === 'h2') {
    if (!ext.h2) throw new Error('HTTP/2 client not available');
    return ext.h2(target, options);
  }
  return h1Request(target, options);
}

/** Closes the pooled h2 and h3 connections (GOAWAY, then a clean close); idle h1 sockets never hold the process. */
export function closeConnections(): Promise<void> {
  return clientExtensions().closePooled();
}
