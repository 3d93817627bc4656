/**
 * The HTTP/3 server driver: QUIC endpoints over node:dgram (one per address, IPv6 and IPv4, all
 * on one port) with ALPN "h3" (RFC 9114 §3.1), and an H3ServerConnection per QUIC connection.
 * Like every driver it only moves events: QUIC events in, HTTP/3 output flushed by the endpoint.
 *
 * close() is graceful (RFC 9114 §5.2): every connection sends GOAWAY, the requests it accepted
 * finish (up to the shutdown timeout), then the endpoints close.
 */
import { isIPv6 } from 'node:net';
import type { ErrorReporter } from '../core/dispatch.js';
import type { Limits } from '../core/limits.js';
import type { Handler } from '../core/types.js';
import type { H3Extension, H3Listener } from '../protocols.js';
import type { Connection } from '../quic/connection.js';
import { QuicEndpoint } from '../quic/endpoint.js';
import { H3ServerConnection } from './connection.js';
import { flushingStreams, isStreamEvent } from './transport.js';

export interface H3ListenOptions {
  addresses: string[];
  port: number;
  /** PEM certificate chain (leaf first) and key. */
  cert: string;
  key: string;
  handler: Handler;
  limits: Limits;
  onHandlerError?: ErrorReporter;
}

/** The PEM blocks of a chain, leaf first. */
function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [pem];
}

export async function listenH3(options: H3ListenOptions): Promise<H3Listener> {
  const sessions = new Map<Connection, H3ServerConnection>();
  const endpoints: QuicEndpoint[] = [];
  let port = options.port;
  for (const address of options.addresses) {
    let endpoint!: QuicEndpoint;
    endpoint = await QuicEndpoint.listen({
      host: address,
      port,
      type: isIPv6(address) ? 'udp6' : 'udp4',
      server: { certificateChain: pemBlocks(options.cert), privateKey: options.key, alpn: ['h3'] },
      maxConnections: options.limits.maxQuicConnections,
      maxHandshakes: options.limits.maxQuicHandshakes,
      transport: {
        maxIdleTimeout: options.limits.idleTimeoutMs,
        initialMaxStreamsBidi: options.limits.maxConcurrentStreams,
      },
      onConnection(conn) {
        const remote = conn.remote;
        const session = new H3ServerConnection(flushingStreams(conn, () => endpoint.flush()), {
          clock: Date.now,
          handler: options.handler,
          limits: options.limits,
          remoteAddress: remote.address,
          remotePort: remote.port,
          onHandlerError: options.onHandlerError,
        });
        sessions.set(conn, session);
      },
      onEvent(conn, event) {
        const session = sessions.get(conn);
        if (!session) return;
        if (event.type === 'handshake-complete') {
          // RFC 9114 §3.1: only "h3" was offered, so a completed handshake speaks it.
          session.start();
        } else if (isStreamEvent(event)) {
          session.handleEvent(event);
          if (event.type === 'closed') sessions.delete(conn);
        }
      },
    });
    endpoints.push(endpoint);
    port = endpoint.address.port;
  }
  return {
    port,
    async close() {
      const drained = [...sessions.values()].map(
        (session) => new Promise<void>((resolve) => {
          if (session.closed) return resolve();
          session.onDrained = resolve;
          session.shutdown();
        }),
      );
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.limits.shutdownTimeoutMs).unref());
      await Promise.race([Promise.all(drained), timeout]);
      // RFC 9114 §5.2: H3_NO_ERROR once the accepted requests are done; the endpoints wait for
      // each connection's data to be acknowledged before CONNECTION_CLOSE.
      await Promise.all(endpoints.map((e) => e.close(0x100, 'shutdown', 1000)));
    },
  };
}

export const h3Extension: H3Extension = { listen: listenH3 };
