/**
 * Child process of endpoint-ref.test.ts: a QUIC client endpoint connects to the server at
 * 127.0.0.1:<port>, completes a request on one stream, prints "idle" and then holds the open
 * connection. With "unref" the endpoint is unref'd before it connects (so every timer it arms
 * later must follow), and an interval of our own keeps the process up until the request is done:
 * then the process should exit by itself. "unref-then-ref" calls ref() again; "ref" neither.
 */
import { readFileSync } from 'node:fs';
import type { Connection } from '../../../src/quic/connection.js';
import { QuicEndpoint } from '../../../src/quic/endpoint.js';

const [, , , portArg, mode, caFile] = process.argv;
const ca = readFileSync(caFile!, 'utf8');
let conn!: Connection;
const keepAlive = setInterval(() => {}, 1_000);
const endpoint = await QuicEndpoint.listen({
  host: '127.0.0.1',
  onEvent(_c, e) {
    if (e.type === 'handshake-complete') {
      const id = conn.openStream()!;
      conn.write(id, Buffer.from('GET'), true);
    } else if (e.type === 'stream-data' && e.fin) {
      if (mode === 'unref-then-ref') endpoint.ref();
      clearInterval(keepAlive);
      process.stdout.write('idle\n');
    }
  },
});
if (mode !== 'ref') endpoint.unref();
conn = endpoint.connect({ address: '127.0.0.1', port: Number(portArg) }, { serverName: 'localhost', alpn: ['h3'], ca: [ca] });
