/** HTTP/1.1 over node:tls with ALPN (RFC 7301), and Alt-Svc advertising h3 (RFC 7838). */
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../src/serve.js';
import { demoHandler } from '../../src/demo/routes.js';
import { h1Request } from '../../src/h1/client.js';
import { readAll } from '../../src/core/body.js';
import { testCertificate } from '../helpers/cert.js';

let server: RunningServer;
const cert = testCertificate();
beforeAll(async () => {
  server = await serve(demoHandler, { host: '127.0.0.1', port: 0, httpPort: false, h3: false, cert: cert.certPem, key: cert.keyPem });
});
afterAll(async () => { await server.close(); });

describe('HTTP/1.1 over TLS', () => {
  it('negotiates http/1.1 by ALPN and serves the demo', async () => {
    const res = await h1Request(`https://localhost:${server.port}/stream?n=2&interval=0`, { ca: cert.caCertPem });
    expect(res.status).toBe(200);
    expect((await readAll(res.body)).toString()).toBe('chunk 1\nchunk 2\n');
  });

  it('verifies as localhost against the development CA with node:https', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', servername: 'localhost', port: server.port, path: '/bytes?size=3', ca: cert.caCertPem }, (res) => {
        let b = '';
        res.setEncoding('latin1');
        res.on('data', (d) => { b += d; });
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(body).toBe('\x00\x01\x02');
  });

  it('offers only ALPN protocols it serves', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: cert.caCertPem, ALPNProtocols: ['http/1.1'] });
    await new Promise((r) => socket.once('secureConnect', r));
    expect(socket.alpnProtocol).toBe('http/1.1');
    socket.destroy();
  });
});
