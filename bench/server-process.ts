/**
 * A benchmark server in its own process, so that its RSS and CPU are its own:
 *   node dist/bench/server-process.js <h123|node> <h1|h2|h2c|h3> [tlsCertFile tlsKeyFile]
 * Prints `port <n>` when listening; answers `rss` on stdin with `rss <bytes>`, `heap` with
 * `heap <bytes of JS heap in use after a full GC>` and `cpu` with `cpu <microseconds of CPU used
 * so far>` (CPU per request is robust on a busy machine).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { serve } from '../src/serve.js';
import { h123Handler, nodeHandler } from './handlers.js';

async function main(): Promise<void> {
  const [impl, proto, certFile, keyFile] = process.argv.slice(2);
  const cert = certFile ? readFileSync(certFile, 'utf8') : undefined;
  const key = keyFile ? readFileSync(keyFile, 'utf8') : undefined;
  let port = 0;
  const longLimits = { keepAliveTimeoutMs: 120_000, headersTimeoutMs: 120_000, idleTimeoutMs: 120_000, maxConnections: 100_000 };
  if (impl === 'h123') {
    if (proto === 'h1') {
      const s = await serve(h123Handler, { host: '127.0.0.1', port: 0, httpPort: 0, h2: false, h3: false, limits: longLimits });
      port = s.httpPort!;
    } else if (proto === 'h2c') {
      const s = await serve(h123Handler, { host: '127.0.0.1', port: 0, httpPort: 0, h3: false, limits: longLimits });
      port = s.httpPort!;
    } else if (proto === 'h2') {
      const s = await serve(h123Handler, { host: '127.0.0.1', port: 0, httpPort: false, h3: false, cert, key, limits: longLimits });
      port = s.port;
    } else if (proto === 'h3') {
      const s = await serve(h123Handler, { host: '127.0.0.1', port: 0, httpPort: false, cert, key, limits: longLimits });
      port = s.h3Port ?? s.port;
    }
  } else {
    let server: net.Server;
    if (proto === 'h1') {
      const s = http.createServer(nodeHandler);
      s.keepAliveTimeout = 120_000;
      s.headersTimeout = 120_000;
      server = s;
    } else if (proto === 'h2c') {
      server = http2.createServer({}, nodeHandler as never);
    } else {
      server = http2.createSecureServer({ cert, key, allowHTTP1: false }, nodeHandler as never);
    }
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  }
  process.stdout.write(`port ${port}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line === 'cpu') {
      const u = process.cpuUsage();
      process.stdout.write(`cpu ${u.user + u.system}\n`);
    } else if (line === 'rss') {
      globalThis.gc?.();
      process.stdout.write(`rss ${process.memoryUsage().rss}\n`);
    } else if (line === 'heap') {
      // The JS heap after a full collection: steadier than RSS for memory per connection.
      globalThis.gc?.();
      process.stdout.write(`heap ${process.memoryUsage().heapUsed}\n`);
    }
  });
  rl.on('close', () => process.exit(0));
}

void main();
