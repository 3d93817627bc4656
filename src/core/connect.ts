/**
 * Opens the TCP (or TLS, for https URLs) connection a client request goes over, shared by the h1
 * and h2 clients: ALPN offers what the caller speaks (RFC 7301), SNI only for names (RFC 6066 §3
 * forbids IP literals), Nagle off because requests and frames are written whole.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface ConnectOptions {
  /** Trusted CA certificates (PEM); default the system store. */
  ca?: string | string[];
  /** Accept any certificate (development only). */
  insecure?: boolean;
  trace?: (line: string) => void;
}

export function connectTcp(url: URL, options: ConnectOptions, alpn: string[]): Promise<net.Socket> {
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (https ? 443 : 80));
  return new Promise((resolve, reject) => {
    const socket = https
      ? tls.connect({
          host, port,
          servername: net.isIP(host) ? undefined : host,
          ALPNProtocols: alpn,
          ca: options.ca,
          rejectUnauthorized: !options.insecure,
        })
      : net.connect({ host, port });
    socket.once(https ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      const security = https
        ? ` (TLS ${(socket as tls.TLSSocket).getProtocol()}, ALPN ${(socket as tls.TLSSocket).alpnProtocol || 'none'})`
        : '';
      options.trace?.(`connected to ${host}:${port}${security}`);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
