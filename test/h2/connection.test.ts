/**
 * HTTP/2 connection conversations in memory (RFC 9113): a client session and a server session
 * wired together, and a raw-frame client for exact frame assertions. No sockets; a fake clock.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { demoHandler } from '../../src/demo/routes.js';
import type { Handler } from '../../src/core/types.js';
import { ErrorCode } from '../../src/h2/errors.js';
import { SettingId } from '../../src/h2/settings.js';
import { Pair, RawClient, goawayOf, ofType, readBody, settle } from './connection-harness.js';

describe('requests and responses over a client↔server pair', () => {
  test('GET /stream: status, headers and every chunk (RFC 9113 §8.1)', async () => {
    const pair = new Pair(demoHandler);
    const { response } = await pair.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/stream?n=3&interval=1', hasBody: false });
    const res = await pair.until(response);
    expect(res.status).toBe(200);
    const body = await pair.until(readBody(res.body));
    expect(body.toString()).toBe('chunk 1\nchunk 2\nchunk 3\n');
    expect(await res.trailers).toBeNull();
  });

  test('POST /echo streams the request body back, full duplex', async () => {
    const pair = new Pair(demoHandler);
    const { streamId, response } = await pair.client.open({ method: 'POST', scheme: 'https', authority: 'x', path: '/echo', hasBody: true });
    pair.client.writeBody(streamId, Buffer.from('first '));
    const res = await pair.until(response);
    const iterator = res.body[Symbol.asyncIterator]();
    // The first piece comes back before the request body has ended.
    const first = await pair.until(iterator.next());
    expect(Buffer.from(first.value!).toString()).toBe('first ');
    pair.client.writeBody(streamId, Buffer.from('second'));
    pair.client.endBody(streamId);
    const rest: Uint8Array[] = [];
    for (;;) {
      const next = await pair.until(iterator.next());
      if (next.done) break;
      rest.push(next.value);
    }
    expect(Buffer.concat(rest).toString()).toBe('second');
  });

  test('trailers arrive as a trailing HEADERS frame (RFC 9113 §8.1)', async () => {
    const pair = new Pair(demoHandler);
    const { response } = await pair.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/trailers', hasBody: false });
    const res = await pair.until(response);
    const body = await pair.until(readBody(res.body));
    const trailers = await res.trailers;
    const { createHash } = await import('node:crypto');
    expect(trailers?.get('x-checksum')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  test('a large body arrives whole through flow control (RFC 9113 §6.9)', async () => {
    const pair = new Pair(demoHandler);
    const { response } = await pair.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/bytes?size=3000000', hasBody: false });
    const res = await pair.until(response);
    const body = await pair.until(readBody(res.body), 5000);
    expect(body.length).toBe(3_000_000);
    expect(body[2_999_999]).toBe(2_999_999 % 251);
  });

  test('many concurrent streams on one connection', async () => {
    const pair = new Pair(demoHandler);
    const opened = await Promise.all(Array.from({ length: 20 }, () =>
      pair.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/bytes?size=50000', hasBody: false })));
    const bodies = await pair.until(Promise.all(opened.map(async (o) => readBody((await o.response).body))), 5000);
    expect(bodies.map((b) => b.length)).toEqual(Array(20).fill(50_000));
  });

  test('requests beyond the server\'s MAX_CONCURRENT_STREAMS wait for a slot (RFC 9113 §5.1.2)', async () => {
    const pair = new Pair(demoHandler, { limits: { maxConcurrentStreams: 2 } });
    await pair.pump();
    const opened = Array.from({ length: 5 }, () =>
      pair.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/stream?n=1&interval=1', hasBody: false }));
    const bodies = await pair.until(Promise.all(opened.map(async (o) => readBody((await (await o).response).body))), 2000);
    expect(bodies.map(String)).toEqual(Array(5).fill('chunk 1\n'));
  });

  test('server push: PUSH_PROMISE then the pushed response when the client enables push (RFC 9113 §8.4)', async () => {
    const handler: Handler = async (_req, res) => {
      const pushed = res.push('/style.css', { accept: 'text/css' });
      if (pushed) await pushed.end('body{}');
      await res.end(pushed ? 'pushed' : 'no push');
    };
    const pushes: { path: string | undefined; body: Promise<Buffer> }[] = [];
    const pair = new Pair(handler, {
      client: { onPush: (p) => pushes.push({ path: p.request.path, body: p.response.then((r) => readBody(r.body)) }) },
    });
    await pair.pump();
    const { response } = await pair.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/', hasBody: false });
    const res = await pair.until(response);
    expect((await pair.until(readBody(res.body))).toString()).toBe('pushed');
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.path).toBe('/style.css');
    expect((await pair.until(pushes[0]!.body)).toString()).toBe('body{}');

    const noPush = new Pair(handler);
    await noPush.pump();
    const other = await noPush.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/', hasBody: false });
    expect((await noPush.until(readBody((await noPush.until(other.response)).body))).toString()).toBe('no push');
  });

  test('property: concurrent echoes of random bodies come back byte for byte, whatever the piece sizes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 4 }), { minLength: 1, maxLength: 4 }), async (requests) => {
        const pair = new Pair(demoHandler);
        const results = requests.map(async (sizes, r) => {
          const pieces = sizes.map((n, i) => Buffer.alloc(n, (r * 7 + i) % 256));
          const { streamId, response } = await pair.client.open({ method: 'POST', scheme: 'https', authority: 'x', path: '/echo', hasBody: true });
          for (const piece of pieces) pair.client.writeBody(streamId, piece);
          pair.client.endBody(streamId);
          const res = await response;
          return { sent: Buffer.concat(pieces), got: await readBody(res.body) };
        });
        const all = await pair.until(Promise.all(results), 2000);
        for (const { sent, got } of all) expect(got.equals(sent)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  test('a cancelled request aborts req.signal on the server (RST_STREAM, RFC 9113 §6.4)', async () => {
    let aborted: unknown = null;
    const handler: Handler = (req, res) => {
      res.writeHead(200);
      res.flush();
      req.signal.addEventListener('abort', () => { aborted = req.signal.reason; });
    };
    const pair = new Pair(handler);
    const { streamId, response } = await pair.client.open({ method: 'GET', scheme: 'https', authority: 'x', path: '/', hasBody: false });
    await pair.until(response);
    pair.client.cancel(streamId);
    await pair.pump();
    expect(aborted).toBeInstanceOf(Error);
    expect((aborted as { code: number }).code).toBe(ErrorCode.CANCEL);
  });
});

describe('raw frames against the server connection', () => {
  test('server preface: SETTINGS first, then a connection WINDOW_UPDATE; our SETTINGS is acknowledged (RFC 9113 §3.4, §6.5.3)', async () => {
    const raw = new RawClient(demoHandler);
    raw.start();
    const frames = await raw.read();
    expect(frames[0]).toMatchObject({ type: 'SETTINGS', ack: false });
    const settings = new Map(ofType(frames, 'SETTINGS')[0]!.settings);
    expect(settings.get(SettingId.MAX_CONCURRENT_STREAMS)).toBe(100);
    expect(frames[1]).toMatchObject({ type: 'WINDOW_UPDATE', streamId: 0 });
    expect(frames.some((f) => f.type === 'SETTINGS' && f.ack)).toBe(true);
  });

  test('PING is answered with ACK and the same payload (RFC 9113 §6.7)', async () => {
    const raw = new RawClient(demoHandler).start();
    await raw.read();
    raw.send({ type: 'PING', streamId: 0, ack: false, opaqueData: Buffer.from('01234567') });
    const frames = await raw.read();
    expect(frames).toContainEqual(expect.objectContaining({ type: 'PING', ack: true, opaqueData: Buffer.from('01234567') }));
  });

  test('concurrent responses interleave DATA frames round robin', async () => {
    const raw = new RawClient(demoHandler).start();
    await raw.read();
    for (const id of [1, 3, 5]) raw.request(id, '/bytes?size=100000');
    const frames = await raw.read(10);
    const order = ofType(frames, 'DATA').map((f) => f.streamId);
    expect(new Set(order)).toEqual(new Set([1, 3, 5]));
    // No stream sends two frames in a row while the others still have data.
    const firstEnd = Math.min(...[1, 3, 5].map((id) => order.lastIndexOf(id)));
    for (let i = 1; i <= firstEnd; i++) expect(order[i]).not.toBe(order[i - 1]);
  });

  test('urgency orders responses: u=0 before u=5 (RFC 9218 §4.1), and PRIORITY_UPDATE reorders (§7.1)', async () => {
    const raw = new RawClient(demoHandler).start();
    await raw.read();
    raw.request(1, '/bytes?size=60000', 'GET', [['priority', 'u=5']]);
    raw.request(3, '/bytes?size=60000', 'GET', [['priority', 'u=0']]);
    const frames = ofType(await raw.read(10), 'DATA');
    const lastOf3 = frames.map((f) => f.streamId).lastIndexOf(3);
    const firstOf1 = frames.findIndex((f) => f.streamId === 1);
    expect(lastOf3).toBeLessThan(firstOf1);

    const again = new RawClient(demoHandler).start();
    await again.read();
    again.send({ type: 'PRIORITY_UPDATE', streamId: 0, prioritizedStreamId: 1, fieldValue: 'u=7' });
    again.request(1, '/bytes?size=60000');
    again.request(3, '/bytes?size=60000');
    const data = ofType(await again.read(10), 'DATA').map((f) => f.streamId);
    expect(data.lastIndexOf(3)).toBeLessThan(data.indexOf(1));
  });

  test('RFC 7540 PRIORITY frames are parsed and ignored (RFC 9113 §5.3.2)', async () => {
    const raw = new RawClient(demoHandler).start();
    await raw.read();
    raw.send({ type: 'PRIORITY', streamId: 3, priority: { exclusive: false, dependency: 0, weight: 16 } });
    raw.request(1, '/stream?n=1&interval=1');
    await new Promise((r) => setTimeout(r, 20));
    const frames = await raw.read();
    expect(goawayOf(frames)).toBeUndefined();
    expect(ofType(frames, 'DATA').map((f) => Buffer.from(f.data).toString()).join('')).toBe('chunk 1\n');
  });

  test('the peer\'s stream window limits DATA; WINDOW_UPDATE releases more (RFC 9113 §6.9)', async () => {
    const raw = new RawClient(demoHandler).start([[SettingId.INITIAL_WINDOW_SIZE, 100]]);
    await raw.read();
    raw.request(1, '/bytes?size=1000');
    let data = ofType(await raw.read(), 'DATA');
    expect(data.reduce((n, f) => n + f.data.length, 0)).toBe(100);
    raw.send({ type: 'WINDOW_UPDATE', streamId: 1, increment: 900 });
    data = ofType(await raw.read(), 'DATA');
    expect(data.reduce((n, f) => n + f.data.length, 0)).toBe(900);
    expect(data.at(-1)!.endStream).toBe(true);
  });

  test('SETTINGS_INITIAL_WINDOW_SIZE changes apply to open streams (RFC 9113 §6.9.2)', async () => {
    const raw = new RawClient(demoHandler).start([[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    await raw.read();
    raw.request(1, '/bytes?size=50');
    expect(ofType(await raw.read(), 'DATA').reduce((n, f) => n + f.data.length, 0)).toBe(10);
    raw.send({ type: 'SETTINGS', streamId: 0, ack: false, settings: [[SettingId.INITIAL_WINDOW_SIZE, 50]] });
    const frames = await raw.read();
    expect(frames.some((f) => f.type === 'SETTINGS' && f.ack)).toBe(true);
    expect(ofType(frames, 'DATA').reduce((n, f) => n + f.data.length, 0)).toBe(40);
  });

  test('a request body the handler does not read gets no credit back; reading returns it (RFC 9113 §5.2)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const handler: Handler = async (req, res) => {
      await gate;
      let n = 0;
      for await (const chunk of req.body) n += chunk.length;
      await res.end(String(n));
    };
    const raw = new RawClient(handler).start();
    await raw.read();
    raw.request(1, '/upload', 'POST', [], false);
    const chunk = Buffer.alloc(16_384, 1);
    for (let i = 0; i < 40; i++) raw.send({ type: 'DATA', streamId: 1, endStream: false, data: chunk });
    const before = ofType(await raw.read(), 'WINDOW_UPDATE').filter((f) => f.streamId === 1);
    expect(before).toHaveLength(0);
    release();
    await settle(5);
    const after = ofType(await raw.read(), 'WINDOW_UPDATE').filter((f) => f.streamId === 1);
    expect(after.length).toBeGreaterThan(0);
    raw.send({ type: 'DATA', streamId: 1, endStream: true, data: Buffer.alloc(0) });
    const end = await raw.read();
    expect(ofType(end, 'DATA').map((f) => Buffer.from(f.data).toString()).join('')).toBe(String(40 * 16_384));
  });

  test('malformed requests are stream errors PROTOCOL_ERROR (RFC 9113 §8.1.1, §8.2.1, §8.3.1)', async () => {
    const raw = new RawClient(demoHandler).start();
    await raw.read();
    raw.send(raw.headers(1, [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['Upper', 'x']]));
    raw.send(raw.headers(3, [[':method', 'GET'], [':scheme', 'https']]));
    raw.send(raw.headers(5, [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['connection', 'close']]));
    const frames = await raw.read();
    expect(ofType(frames, 'RST_STREAM').map((f) => [f.streamId, f.errorCode])).toEqual([
      [1, ErrorCode.PROTOCOL_ERROR], [3, ErrorCode.PROTOCOL_ERROR], [5, ErrorCode.PROTOCOL_ERROR],
    ]);
    expect(goawayOf(frames)).toBeUndefined();
  });

  test('content-length that disagrees with DATA is a stream error (RFC 9113 §8.1.1)', async () => {
    const raw = new RawClient(demoHandler).start();
    await raw.read();
    raw.request(1, '/echo', 'POST', [['content-length', '3']], false);
    raw.send({ type: 'DATA', streamId: 1, endStream: true, data: Buffer.from('four') });
    const frames = await raw.read();
    expect(ofType(frames, 'RST_STREAM')).toContainEqual(expect.objectContaining({ streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR }));
  });

  test('trailers without END_STREAM are malformed; with END_STREAM they end the request (RFC 9113 §8.1)', async () => {
    const raw = new RawClient(demoHandler).start();
    await raw.read();
    raw.request(1, '/echo', 'POST', [], false);
    raw.send({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.from('abc') });
    raw.send(raw.headers(1, [['x-trailer', '1']], true));
    raw.request(3, '/echo', 'POST', [], false);
    raw.send(raw.headers(3, [['x-trailer', '1']], false));
    const frames = await raw.read(6);
    expect(ofType(frames, 'DATA').filter((f) => f.streamId === 1).map((f) => Buffer.from(f.data).toString()).join('')).toBe('abc');
    expect(ofType(frames, 'RST_STREAM')).toContainEqual(expect.objectContaining({ streamId: 3, errorCode: ErrorCode.PROTOCOL_ERROR }));
  });

  test('a response completed before the request body ends is followed by RST_STREAM NO_ERROR (RFC 9113 §8.1)', async () => {
    const raw = new RawClient(async (_req, res) => { await res.end('early'); }).start();
    await raw.read();
    raw.request(1, '/upload', 'POST', [], false);
    const frames = await raw.read();
    const onStream1 = frames.filter((f) => f.streamId === 1).map((f) => f.type);
    expect(onStream1).toEqual(['HEADERS', 'DATA', 'RST_STREAM']);
    expect(ofType(frames, 'RST_STREAM')[0]!.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(ofType(frames, 'DATA')[0]!.endStream).toBe(true);
  });

  test('a declared body over limits.maxBodyBytes gets 413 without running the handler (RFC 9110 §15.5.14)', async () => {
    let ran = false;
    const raw = new RawClient(() => { ran = true; }, { maxBodyBytes: 1000 }).start();
    await raw.read();
    raw.request(1, '/upload', 'POST', [['content-length', '1001']], false);
    const frames = await raw.read();
    expect(ofType(frames, 'HEADERS')[0]!.fields).toContainEqual([':status', '413']);
    expect(ran).toBe(false);
  });

  test('RST_STREAM from the client aborts req.signal and the request body', async () => {
    let reason: unknown;
    const handler: Handler = async (req) => {
      req.signal.addEventListener('abort', () => { reason = req.signal.reason; });
      try { for await (const _ of req.body) { /* read */ } } catch { /* aborted */ }
    };
    const raw = new RawClient(handler).start();
    await raw.read();
    raw.request(1, '/', 'POST', [], false);
    await raw.read();
    raw.send({ type: 'RST_STREAM', streamId: 1, errorCode: ErrorCode.CANCEL });
    await raw.read();
    expect((reason as Error).message).toMatch(/reset by the client/);
  });

  test('graceful shutdown: GOAWAY 2^31-1 with a PING, then the real last stream; in-flight streams finish (RFC 9113 §6.8)', async () => {
    let finish!: () => void;
    const handler: Handler = async (_req, res) => {
      await new Promise<void>((r) => { finish = r; });
      await res.end('done');
    };
    const raw = new RawClient(handler).start();
    await raw.read();
    raw.request(1, '/');
    await raw.read();
    raw.server.shutdown();
    const first = await raw.read();
    expect(ofType(first, 'GOAWAY')[0]).toMatchObject({ lastStreamId: 0x7fffffff, errorCode: ErrorCode.NO_ERROR });
    const ping = ofType(first, 'PING')[0]!;
    raw.send({ type: 'PING', streamId: 0, ack: true, opaqueData: ping.opaqueData });
    const second = await raw.read();
    expect(ofType(second, 'GOAWAY')[0]).toMatchObject({ lastStreamId: 1, errorCode: ErrorCode.NO_ERROR });
    // A new stream after the final GOAWAY is ignored.
    raw.request(3, '/');
    expect(raw.server.shouldClose).toBe(false);
    finish();
    const last = await raw.read();
    expect(ofType(last, 'DATA').map((f) => [f.streamId, Buffer.from(f.data).toString()])).toEqual([[1, 'done']]);
    expect(raw.server.shouldClose).toBe(true);
  });

  test('SETTINGS not acknowledged in time → GOAWAY SETTINGS_TIMEOUT (RFC 9113 §6.5.3)', async () => {
    const raw = new RawClient(demoHandler, { settingsAckTimeoutMs: 500 });
    raw.bytes(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    await raw.read();
    raw.advance(499);
    expect(goawayOf(await raw.read())).toBeUndefined();
    raw.advance(1);
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.SETTINGS_TIMEOUT });
  });

  test('h2c upgrade: stream 1 carries the HTTP/1.1 request, half-closed (remote) (RFC 7540 §3.2)', async () => {
    const raw = new RawClient(demoHandler);
    raw.server.acceptUpgrade({ method: 'GET', path: '/stream?n=1&interval=1', authority: 'x', headers: [['host', 'x']] }, Buffer.from([0, 3, 0, 0, 0, 10]));
    raw.start();
    await new Promise((r) => setTimeout(r, 20));
    const frames = await raw.read();
    expect(frames[0]).toMatchObject({ type: 'SETTINGS', ack: false });
    const headers = ofType(frames, 'HEADERS')[0]!;
    expect(headers.streamId).toBe(1);
    expect(headers.fields).toContainEqual([':status', '200']);
    expect(ofType(frames, 'DATA').map((f) => Buffer.from(f.data).toString()).join('')).toBe('chunk 1\n');
  });
});
