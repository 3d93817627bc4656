/**
 * Review: field values that pass the engine's checks must also be safe on the HTTP/1.1 wire.
 * serializeHead writes heads as latin1, which keeps only the low byte of each UTF-16 code unit:
 * U+010D U+010A become CR LF. RFC 9110 §5.5: a field value never contains CR, LF or NUL;
 * RFC 9112 §11.1: response splitting.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Handler, ServerResponse } from '../../../src/core/types.js';
import { H1ServerConnection } from '../../../src/h1/connection.js';
import { rawExchange, startCleartext } from '../../helpers/server.js';

// serve() loads the protocol modules on first use: do that outside the timed tests.
beforeAll(async () => { const s = await startCleartext(() => {}, { h2: false }); await s.close(); });

describe('response field values on the h1 wire', () => {
  it('a header value with code points above U+00FF cannot split the response (RFC 9112 §11.1)', async () => {
    const handler: Handler = async (req, res) => {
      // A handler reflecting user input, e.g. a redirect target taken from the query.
      const target = new URL(req.path, 'http://x').searchParams.get('to') ?? '/';
      try {
        res.setHeader('location', target);
        res.writeHead(302);
      } catch {
        res.writeHead(400);
      }
      await res.end();
    };
    const s = await startCleartext(handler, { h2: false });
    try {
      const to = encodeURIComponent('/home\u010d\u010aset-cookie: session=attacker');
      const r = await rawExchange(s.httpPort!, [`GET /go?to=${to} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
      const text = r.data.toString('latin1');
      expect(text).not.toMatch(/\nset-cookie: session=attacker/i);
    } finally { await s.close(); }
  });

  it('end() rejects a trailer value the chunked encoder would refuse, instead of throwing later in a microtask', async () => {
    let threw: unknown = null;
    let response: ServerResponse | null = null;
    const handler: Handler = (_req, res) => {
      response = res;
      res.writeHead(200);
      res.write('body');
      res.flush();
      try {
        void res.end(undefined, { 'x-note': 'caf\u00e9 \u20ac' }); // U+20AC is not a latin1 octet
      } catch (err) {
        threw = err;
      }
      if (threw === null) {
        // Keep the test process alive: without this, the flush microtask throws TypeError from
        // encodeLastChunk() as an uncaught exception (a crash of the whole server process).
        (response as unknown as { pendingTrailers: unknown }).pendingTrailers = null;
      }
    };
    const conn = new H1ServerConnection({ handler, scheme: 'http', remoteAddress: '127.0.0.1', remotePort: 1, clock: Date.now });
    conn.receive(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n', 'latin1'), Date.now());
    await new Promise((r) => setTimeout(r, 10));
    expect(response).not.toBeNull();
    expect(threw).toBeInstanceOf(TypeError);
  });
  it('end() rejects a trailer value with a control character (RFC 9110 §5.5), instead of throwing later in a microtask', async () => {
    let threw: unknown = null;
    let response: ServerResponse | null = null;
    const handler: Handler = (_req, res) => {
      response = res;
      res.writeHead(200);
      res.write('body');
      res.flush();
      try {
        void res.end(undefined, { 'x-note': 'a\x01b' }); // CTL: passes the NUL/CR/LF check, not field-value
      } catch (err) {
        threw = err;
      }
      if (threw === null) (response as unknown as { pendingTrailers: unknown }).pendingTrailers = null; // avoid the crash
    };
    const conn = new H1ServerConnection({ handler, scheme: 'http', remoteAddress: '127.0.0.1', remotePort: 1, clock: Date.now });
    conn.receive(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n', 'latin1'), Date.now());
    await new Promise((r) => setTimeout(r, 10));
    expect(response).not.toBeNull();
    expect(threw).toBeInstanceOf(TypeError);
  });
});
