/** SSLKEYLOGFILE: a QUIC handshake over loopback UDP writes its TLS 1.3 secrets in NSS key log format. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from '../../src/client.js';
import { serve } from '../../src/serve.js';
import { demoHandler } from '../../src/demo/routes.js';
import { readAll } from '../../src/core/body.js';
import { testCertificate } from '../helpers/cert.js';

describe('SSLKEYLOGFILE', () => {
  it('receives the handshake and traffic secrets of an h3 connection', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'h123-keylog-')), 'keys.log');
    const previous = process.env.SSLKEYLOGFILE;
    process.env.SSLKEYLOGFILE = file;
    const cert = testCertificate();
    const server = await serve(demoHandler, { host: '127.0.0.1', port: 0, httpPort: false, cert: cert.certPem, key: cert.keyPem });
    try {
      const res = await request(`https://localhost:${server.h3Port}/bytes?size=10`, { protocol: 'h3', ca: cert.caCertPem });
      expect((await readAll(res.body)).length).toBe(10);
    } finally {
      await server.close();
      if (previous === undefined) delete process.env.SSLKEYLOGFILE; else process.env.SSLKEYLOGFILE = previous;
    }
    expect(existsSync(file)).toBe(true);
    const labels = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    for (const label of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']) {
      expect(labels).toContain(label);
    }
  });
});
