/**
 * src/client.ts: one call for a request over a chosen protocol. Here: h3 one-shot requests reuse
 * the origin's pooled QUIC connection, and closeConnections() ends the pooled connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeConnections, request } from '../src/client.js';
import { readAll } from '../src/core/body.js';
import { resolveLimits } from '../src/core/limits.js';
import { listenH3 } from '../src/h3/server.js';
import type { H3Listener } from '../src/protocols.js';
import { testCertificate } from './helpers/cert.js';

const cert = testCertificate();
let listener: H3Listener;

beforeAll(async () => {
  listener = await listenH3({
    addresses: ['127.0.0.1'],
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
    handler: (req, res) => void res.end(`${req.protocol} ${req.remotePort}`),
    limits: resolveLimits({ shutdownTimeoutMs: 2000 }),
  });
});

afterAll(async () => {
  await closeConnections();
  await listener?.close();
});

describe('request() over h3', () => {
  it('reuses one QUIC connection per origin until closeConnections()', async () => {
    const get = async () => {
      const res = await request(`https://localhost:${listener.port}/`, { protocol: 'h3', ca: [cert.caCertPem] });
      expect(res.protocol).toBe('h3');
      return (await readAll(res.body)).toString();
    };
    const first = await get();
    expect(first).toMatch(/^h3 \d+$/);
    // One client UDP socket per QUIC connection: the same remote port means the same connection.
    expect(await Promise.all([get(), get(), get()])).toEqual([first, first, first]);
    await closeConnections();
    expect(await get()).not.toBe(first);
  }, 20_000);
});
