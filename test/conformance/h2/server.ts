/**
 * The h123 server the conformance cases run against: serve() on 127.0.0.1 with ephemeral ports,
 * h2c by prior knowledge on the cleartext port (RFC 9113 §3.3) and h2 over TLS with ALPN on the
 * other (§3.2), with a certificate made in memory by src/cert/x509.ts and trusted by the client.
 *
 * Routes of the test handler:
 * - `GET|HEAD /`            200, "hello from h123\n" with content-length
 * - `GET /bytes?size=N`     200, N octets of "a" (flow-control cases, RFC 9113 §6.9)
 * - `GET /wait?ms=N`        answers after N ms (or when the stream is reset), so that the stream
 *                           stays "half-closed (remote)" meanwhile (§5.1, §5.1.2)
 * - `POST|PUT *`            reads the whole body, answers 200 with it and an `x-body-length` field
 */
import type { Handler } from '../../../src/core/types.js';
import { serve, type RunningServer } from '../../../src/serve.js';
import { createCertificateAuthority, createServerCertificate } from '../../../src/cert/x509.js';
import type { Target } from './client.js';

export const conformanceHandler: Handler = async (req, res) => {
  const url = new URL(req.path, 'http://localhost');
  if (req.method === 'POST' || req.method === 'PUT') {
    const chunks: Uint8Array[] = [];
    for await (const chunk of req.body) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-body-length': String(body.length) });
    await res.end(body);
    return;
  }
  if (url.pathname === '/wait') {
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 1000), 10_000);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      req.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
  const size = url.pathname === '/bytes' ? Math.min(Number(url.searchParams.get('size') ?? 0), 1 << 20) : -1;
  const body = size >= 0 ? Buffer.alloc(size, 0x61) : Buffer.from('hello from h123\n');
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) });
  await res.end(req.method === 'HEAD' ? undefined : body);
};

export interface ConformanceServer {
  cleartext: Target;
  tls: Target;
  close(): Promise<void>;
}

export async function startConformanceServer(): Promise<ConformanceServer> {
  const ca = createCertificateAuthority();
  const leaf = createServerCertificate({ issuer: { certificate: ca.pem, privateKey: ca.privateKey } });
  const key = leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const server: RunningServer = await serve(conformanceHandler, {
    host: '127.0.0.1',
    port: 0,
    httpPort: 0,
    h3: false,
    cert: leaf.pem,
    key,
    limits: { shutdownTimeoutMs: 1000 },
  });
  return {
    cleartext: { host: '127.0.0.1', port: server.httpPort! },
    tls: { host: '127.0.0.1', port: server.port, tls: true, ca: ca.pem },
    close: () => server.close(),
  };
}
