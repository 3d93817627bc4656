/**
 * Review of fetchHandler() over h1: Expect: 100-continue must follow what the fetch app does, not
 * the adapter. The connection sends 100 "when the handler starts reading the body" (connection.ts);
 * the point of the expectation is that a request the server rejects unread never sends its content
 * (RFC 9110 §10.1.1).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchHandler } from '../../../src/core/fetch-handler.js';
import { sleep, startCleartext, statusLines } from '../../helpers/server.js';
import net from 'node:net';

beforeAll(async () => { const s = await startCleartext(() => {}, { h2: false }); await s.close(); });

describe('fetchHandler and 100-continue', () => {
  it('does not send 100 Continue for a fetch app that rejects the request without reading its body', async () => {
    const app = fetchHandler(async (request) => {
      if (!request.headers.get('authorization')) return new Response('no\n', { status: 401 });
      return new Response(await request.text());
    });
    const s = await startCleartext(app, { h2: false });
    const socket = net.connect({ host: '127.0.0.1', port: s.httpPort! });
    const received: Buffer[] = [];
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => {});
    try {
      await new Promise((r) => socket.once('connect', r));
      socket.write('PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\nExpect: 100-continue\r\n\r\n');
      await sleep(300);
      // The final 401 comes first, with no 100 before it: the client never has to upload 1 MiB.
      expect(statusLines(Buffer.concat(received))[0]).toBe(401);
    } finally {
      socket.destroy();
      await s.close();
    }
  });
});
