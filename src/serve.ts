/**
 * serve(): one handler on every protocol. HTTPS on TCP (HTTP/1.1 and HTTP/2 chosen by ALPN,
 * RFC 7301), HTTP/3 on UDP at the same port, cleartext HTTP/1.1 and h2c on a second port, with
 * `Alt-Svc` (RFC 7838) on h1/h2 responses pointing at h3. close() is graceful: listeners stop, every
 * connection finishes the requests it has, then closes.
 */
import net from 'node:net';
import tls from 'node:tls';
import { HeaderList } from './core/headers.js';
import type { Limits } from './core/limits.js';
import { resolveLimits } from './core/limits.js';
import type { Handler } from './core/types.js';
import type { ErrorReporter } from './core/dispatch.js';
import { attachH1, type TrackedConnection } from './h1/server.js';
import { protocolExtensions, type ProtocolExtensions } from './protocols.js';

export interface ServeOptions {
  /** Host to listen on; 'localhost' (default) listens on both 127.0.0.1 and ::1. */
  host?: string;
  /** TLS port (h1 + h2) and UDP port (h3); 0 picks a free one. Default 8443. */
  port?: number;
  /** Cleartext h1 + h2c port, or false for none. Default 8080. */
  httpPort?: number | false;
  /** PEM certificate chain and key; without them, HTTPS and h3 are off. */
  cert?: string;
  key?: string;
  h2?: boolean;
  h3?: boolean;
  limits?: Partial<Limits>;
  onHandlerError?: ErrorReporter;
}

export interface RunningServer {
  /** The TLS/UDP port actually bound (useful with port 0). */
  readonly port: number;
  readonly httpPort: number | null;
  readonly h3Port: number | null;
  readonly hosts: string[];
  /** ALPN protocols offered on the TLS port, in preference order (empty without TLS). */
  readonly alpn: string[];
  /** Stops accepting, finishes in-flight responses (up to limits.shutdownTimeoutMs), then resolves. */
  close(): Promise<void>;
}

function listenAddresses(host: string): string[] {
  return host === 'localhost' ? ['127.0.0.1', '::1'] : [host];
}

async function listen(server: net.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

export async function serve(handler: Handler, options: ServeOptions = {}): Promise<RunningServer> {
  const limits = resolveLimits(options.limits);
  const host = options.host ?? 'localhost';
  const addresses = listenAddresses(host);
  const connections = new Set<TrackedConnection>();
  const servers: net.Server[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  const ext: ProtocolExtensions = await protocolExtensions();
  const h2Enabled = options.h2 !== false && ext.h2 !== null;
  const tlsEnabled = Boolean(options.cert && options.key);

  const track = (c: TrackedConnection): void => {
    connections.add(c);
    void c.closed.then(() => connections.delete(c));
  };

  let port = options.port ?? 8443;
  let h3Port: number | null = null;
  const altSvc = new HeaderList();
  const defaultsFor = (): HeaderList | undefined => (altSvc.size > 0 ? altSvc : undefined);

  const h1Options = {
    handler,
    limits,
    onHandlerError: options.onHandlerError,
    get defaultHeaders() { return defaultsFor(); },
  };

  const alpn = tlsEnabled ? (h2Enabled ? ['h2', 'http/1.1'] : ['http/1.1']) : [];
  if (tlsEnabled) {
    for (const address of addresses) {
      const server = tls.createServer({
        cert: options.cert,
        key: options.key,
        ALPNProtocols: alpn,
        minVersion: 'TLSv1.2',
      });
      server.on('secureConnection', (socket) => {
        if (connections.size >= limits.maxConnections) { socket.destroy(); return; }
        if (socket.alpnProtocol === 'h2' && ext.h2) {
          track(ext.h2.attach(socket, { handler, limits, defaultHeaders: defaultsFor(), onHandlerError: options.onHandlerError }));
        } else {
          track(attachH1(socket, h1Options));
        }
      });
      server.on('tlsClientError', () => { /* a failed handshake concerns only that client */ });
      port = await listen(server, address, port);
      servers.push(server);
    }
    if (options.h3 !== false && ext.h3) {
      const h3 = await ext.h3.listen({ addresses, port, cert: options.cert!, key: options.key!, handler, limits, onHandlerError: options.onHandlerError });
      h3Port = h3.port;
      stoppers.push(() => h3.close());
      // RFC 7838 §3: h3 at the same port; ma = one day.
      altSvc.add('alt-svc', `h3=":${h3.port}"; ma=86400`);
    }
  }

  let httpPort: number | null = null;
  if (options.httpPort !== false) {
    let p = options.httpPort ?? 8080;
    for (const address of addresses) {
      const server = net.createServer((socket) => {
        if (connections.size >= limits.maxConnections) { socket.destroy(); return; }
        if (h2Enabled && ext.h2) {
          // h2c by prior knowledge (RFC 9113 §3.3) or Upgrade (RFC 7540 §3.2), else HTTP/1.1.
          ext.h2.sniffCleartext(socket, {
            h2: () => track(ext.h2!.attach(socket, { handler, limits, defaultHeaders: undefined, onHandlerError: options.onHandlerError })),
            h1: (initial) => track(attachH1(socket, {
              ...h1Options,
              defaultHeaders: undefined,
              onUpgradeH2c: (s, head, rest) => {
                const c = ext.h2!.upgrade(s, head, rest, { handler, limits, defaultHeaders: undefined, onHandlerError: options.onHandlerError });
                if (c) track(c);
                return c !== null;
              },
            }, initial)),
          });
        } else {
          track(attachH1(socket, { ...h1Options, defaultHeaders: undefined }));
        }
      });
      p = await listen(server, address, p);
      servers.push(server);
    }
    httpPort = p;
  }

  let closing: Promise<void> | null = null;
  return {
    port: tlsEnabled ? port : (httpPort ?? port),
    httpPort,
    h3Port,
    hosts: addresses,
    alpn,
    close() {
      closing ??= (async () => {
        const listenersClosed = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
        for (const c of connections) c.shutdown();
        const stopped = Promise.all([
          ...listenersClosed,
          ...[...connections].map((c) => c.closed),
          ...stoppers.map((s) => s()),
        ]);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((r) => { timer = setTimeout(r, limits.shutdownTimeoutMs); timer.unref(); });
        await Promise.race([stopped, deadline]);
        clearTimeout(timer);
        for (const c of connections) c.destroy();
        await Promise.all(listenersClosed);
      })();
      return closing;
    },
  };
}
