/**
 * Framing fields a handler sets on responses that have no body: an invalid Content-Length is
 * dropped from HEAD and 304 responses as from any other (RFC 9110 §8.6), a valid one is kept
 * (RFC 9110 §8.6, §15.4.5: it states what a GET would have sent), and 1xx responses carry neither
 * Content-Length nor Transfer-Encoding (RFC 9110 §8.6, RFC 9112 §6.1).
 */
import { describe, expect, it } from 'vitest';
import { H1ServerConnection } from '../../../src/h1/connection.js';
import type { Handler } from '../../../src/core/types.js';

async function exchange(handler: Handler, request: string): Promise<string> {
  const conn = new H1ServerConnection({ handler, scheme: 'http', remoteAddress: '127.0.0.1', remotePort: 1, clock: () => 0 });
  const pieces: Uint8Array[] = [];
  conn.onWake = () => { pieces.push(...conn.transmit()); };
  conn.receive(Buffer.from(request, 'latin1'), 0);
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  pieces.push(...conn.transmit());
  return Buffer.concat(pieces).toString('latin1');
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const HEAD = 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n';

describe('framing fields on responses without a body', () => {
  it('an invalid Content-Length is not sent on a HEAD response; a valid one is', async () => {
    const invalid = await exchange(async (_req, res) => { res.writeHead(200, { 'content-length': 'abc' }); await res.end(); }, HEAD);
    expect(invalid).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(invalid.toLowerCase()).not.toContain('content-length');
    const valid = await exchange(async (_req, res) => { res.writeHead(200, { 'content-length': '12' }); await res.end(); }, HEAD);
    expect(valid).toContain('content-length: 12\r\n');
  });

  it('an invalid Content-Length is not sent on a 304; a valid one is', async () => {
    const invalid = await exchange(async (_req, res) => { res.writeHead(304, { 'content-length': '1, 2' }); await res.end(); }, GET);
    expect(invalid).toMatch(/^HTTP\/1\.1 304 /);
    expect(invalid.toLowerCase()).not.toContain('content-length');
    const valid = await exchange(async (_req, res) => { res.writeHead(304, { 'content-length': '7' }); await res.end(); }, GET);
    expect(valid).toContain('content-length: 7\r\n');
  });

  it('a 1xx response carries neither Content-Length nor Transfer-Encoding, and keeps its other fields', async () => {
    const text = await exchange(async (_req, res) => {
      res.writeHead(103, { link: '</style.css>; rel=preload', 'content-length': '5', 'transfer-encoding': 'chunked' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      await res.end('hello');
    }, GET);
    const [interim, final] = text.split(/(?=HTTP\/1\.1 200)/);
    expect(interim).toBe('HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n');
    expect(final).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(final).toContain('content-length: 5\r\n');
    expect(final!.endsWith('\r\n\r\nhello')).toBe(true);
  });
});
