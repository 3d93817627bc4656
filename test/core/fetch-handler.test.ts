import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { fetchHandler } from '../../src/core/fetch-handler.js';
import { HeaderList } from '../../src/core/headers.js';
import { RequestBody } from '../../src/core/body.js';
import { StreamingResponse } from '../../src/core/response.js';
import type { ResponseHead, ResponseSink } from '../../src/core/sink.js';
import type { ServerRequest } from '../../src/core/types.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

function harness(method: string, path: string, body?: string) {
  const sent: { head: ResponseHead | null; body: Buffer; end: boolean }[] = [];
  const state = { buffered: 0 };
  const sink: ResponseSink = {
    get bufferedBytes() { return state.buffered; },
    trailersAllowed: true,
    sendInformational() {},
    send(head, chunks, n, end) {
      // Like a socket: what is sent stays buffered until the test drains it.
      state.buffered += n;
      sent.push({ head, body: Buffer.concat(chunks), end });
    },
    reset() {},
  };
  const controller = new AbortController();
  const reqBody = new RequestBody(1024);
  if (body !== undefined) reqBody.push(Buffer.from(body));
  reqBody.end();
  const req: ServerRequest = {
    method, path, authority: 'example.test', scheme: 'https', protocol: 'h2',
    headers: new HeaderList({ 'content-type': 'text/plain' }), body: reqBody, signal: controller.signal,
    remoteAddress: '127.0.0.1', remotePort: 1,
  };
  const res = new StreamingResponse(sink, { method, signal: controller.signal, highWaterMark: 8 });
  const text = () => Buffer.concat(sent.map((s) => s.body)).toString();
  return { req, res, sent, state, controller, text };
}

describe('fetchHandler', () => {
  it('runs a Hono app: status, headers, body, request body', async () => {
    const app = new Hono();
    app.get('/hello/:name', (c) => c.text(`hello ${c.req.param('name')}`, 201, { 'x-app': 'hono' }));
    app.post('/upper', async (c) => c.text((await c.req.text()).toUpperCase()));
    const handler = fetchHandler(app.fetch);

    const a = harness('GET', '/hello/h123');
    a.res.notifyFinished = a.res.notifyFinished.bind(a.res);
    const done = handler(a.req, a.res);
    await tick(); await tick();
    a.res.notifyFinished();
    await done;
    expect(a.sent[0]!.head!.status).toBe(201);
    expect(a.sent[0]!.head!.headers.get('x-app')).toBe('hono');
    expect(a.text()).toBe('hello h123');

    const b = harness('POST', '/upper', 'shout');
    const done2 = handler(b.req, b.res);
    for (let i = 0; i < 5; i++) await tick();
    b.res.notifyFinished();
    await done2;
    expect(b.text()).toBe('SHOUT');
  });

  it('pulls the body stream only when the transport has room', async () => {
    let pulls = 0;
    const handler = fetchHandler(() => new Response(new ReadableStream({
      pull(controller) {
        pulls++;
        controller.enqueue(new TextEncoder().encode('0123456789'));
        if (pulls === 10) controller.close();
      },
    }, { highWaterMark: 0 })));
    const h = harness('GET', '/');
    h.state.buffered = 1000; // the socket is full
    void handler(h.req, h.res);
    for (let i = 0; i < 10; i++) await tick();
    const pullsWhileFull = pulls;
    expect(pullsWhileFull).toBeLessThanOrEqual(2);
    for (let i = 0; i < 40; i++) { h.state.buffered = 0; h.res.notifyDrain(); await tick(); }
    expect(pulls).toBe(10);
  });

  it('cancels the body stream when the client goes away', async () => {
    let cancelled: unknown = null;
    const handler = fetchHandler(() => new Response(new ReadableStream({
      pull(controller) { controller.enqueue(new Uint8Array(4)); },
      cancel(reason) { cancelled = reason ?? 'cancelled'; },
    })));
    const h = harness('GET', '/');
    const done = handler(h.req, h.res);
    await tick();
    h.controller.abort(new Error('client gone'));
    await done;
    await tick();
    expect(cancelled).not.toBeNull();
  });
});
