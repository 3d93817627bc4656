/**
 * Hostile HTTP/2 clients against the server connection (RFC 9113 §10.5, CVE-2019-9512..9518,
 * CVE-2023-44487, CVE-2024-27316): each attack ends in a defined error with bounded memory.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { demoHandler } from '../../src/demo/routes.js';
import type { Handler } from '../../src/core/types.js';
import { ErrorCode } from '../../src/h2/errors.js';
import { CONNECTION_PREFACE, encodeFrame, FrameDecoder, type Frame } from '../../src/h2/frame.js';
import { SettingId } from '../../src/h2/settings.js';
import { RawClient, goawayOf, ofType } from './connection-harness.js';

/** A handler that never answers: streams stay open. */
const hang: Handler = () => new Promise(() => {});

async function started(handler: Handler = demoHandler, limits = {}, settings: [number, number][] = []): Promise<RawClient> {
  const raw = new RawClient(handler, limits).start(settings);
  await raw.read();
  return raw;
}

describe('floods (RFC 9113 §10.5)', () => {
  test('rapid reset (CVE-2023-44487): too many client resets → GOAWAY ENHANCE_YOUR_CALM', async () => {
    const raw = await started(hang, { maxResetsPerWindow: 20 });
    for (let i = 0; i < 21; i++) {
      const id = 1 + 2 * i;
      raw.request(id, '/');
      raw.send({ type: 'RST_STREAM', streamId: id, errorCode: ErrorCode.CANCEL });
    }
    const goaway = goawayOf(await raw.read());
    expect(goaway).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM, lastStreamId: 41 });
    expect(raw.closedByServer).toBe(true);
  });

  test('resets spread over time stay within the cap', async () => {
    const raw = await started(hang, { maxResetsPerWindow: 20, floodWindowMs: 1000 });
    for (let i = 0; i < 60; i++) {
      const id = 1 + 2 * i;
      raw.request(id, '/');
      raw.send({ type: 'RST_STREAM', streamId: id, errorCode: ErrorCode.CANCEL });
      if (i % 10 === 9) raw.now += 1000;
    }
    expect(goawayOf(await raw.read())).toBeUndefined();
  });

  test('provoked resets (CVE-2025-8671): malformed requests past the reset cap → GOAWAY ENHANCE_YOUR_CALM', async () => {
    const raw = await started(demoHandler, { maxResetsPerWindow: 10 });
    for (let i = 0; i < 11; i++) raw.send(raw.headers(1 + 2 * i, [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['Bad', 'x']]));
    const frames = await raw.read();
    expect(ofType(frames, 'RST_STREAM')).toHaveLength(10);
    expect(goawayOf(frames)).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM });
  });

  for (const [name, frame] of [
    ['SETTINGS', { type: 'SETTINGS', streamId: 0, ack: false, settings: [] }],
    ['PING', { type: 'PING', streamId: 0, ack: false, opaqueData: Buffer.alloc(8) }],
    ['PRIORITY', { type: 'PRIORITY', streamId: 3, priority: { exclusive: false, dependency: 0, weight: 16 } }],
  ] as const) {
    test(`${name} flood → GOAWAY ENHANCE_YOUR_CALM (CVE-2019-9512/9515)`, async () => {
      const raw = await started(demoHandler, { maxControlFramesPerWindow: 50 });
      for (let i = 0; i < 51; i++) raw.send(frame as Frame);
      expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM });
    });
  }

  test('empty DATA flood → GOAWAY ENHANCE_YOUR_CALM (CVE-2019-9518)', async () => {
    const raw = await started(hang, { maxControlFramesPerWindow: 50 });
    raw.request(1, '/', 'POST', [], false);
    for (let i = 0; i < 51; i++) raw.send({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.alloc(0) });
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM });
  });

  test('CONTINUATION flood: more than maxContinuationFrames → GOAWAY ENHANCE_YOUR_CALM', async () => {
    const raw = await started(demoHandler, { maxContinuationFrames: 8 });
    raw.send({ type: 'HEADERS', streamId: 1, endStream: true, endHeaders: false, fragment: raw.encoder.encode([[':method', 'GET']]) });
    for (let i = 0; i < 9; i++) raw.send({ type: 'CONTINUATION', streamId: 1, endHeaders: false, fragment: Buffer.alloc(0) });
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM });
  });

  test('CONTINUATION flood: a header block over maxHeaderBlockBytes → GOAWAY ENHANCE_YOUR_CALM', async () => {
    const raw = await started(demoHandler, { maxHeaderBlockBytes: 4096 });
    raw.send({ type: 'HEADERS', streamId: 1, endStream: true, endHeaders: false, fragment: Buffer.alloc(3000, 0x80) });
    raw.send({ type: 'CONTINUATION', streamId: 1, endHeaders: false, fragment: Buffer.alloc(3000, 0x80) });
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM });
  });

  test('HPACK bomb: a decoded list over maxHeaderListBytes gets 431; the connection goes on (RFC 9113 §10.5.1)', async () => {
    const raw = await started(demoHandler, { maxHeaderListBytes: 8192 });
    const big = 'x'.repeat(3000);
    // One dynamic-table entry referenced many times: a small block that decodes to a huge list.
    const fields: [string, string][] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']];
    for (let i = 0; i < 50; i++) fields.push(['x-bomb', big]);
    const block = raw.encoder.encode(fields);
    expect(block.length).toBeLessThan(4000);
    raw.send({ type: 'HEADERS', streamId: 1, endStream: true, endHeaders: true, fragment: block });
    raw.request(3, '/stream?n=1&interval=1');
    await new Promise((r) => setTimeout(r, 20));
    const frames = await raw.read();
    expect(ofType(frames, 'HEADERS').find((f) => f.streamId === 1)?.fields).toEqual([[':status', '431']]);
    expect(ofType(frames, 'HEADERS').find((f) => f.streamId === 3)?.fields).toContainEqual([':status', '200']);
    expect(goawayOf(frames)).toBeUndefined();
  });
});

describe('limits on streams and windows', () => {
  test('streams beyond SETTINGS_MAX_CONCURRENT_STREAMS are refused with REFUSED_STREAM (RFC 9113 §5.1.2)', async () => {
    const raw = await started(hang, { maxConcurrentStreams: 3 });
    for (const id of [1, 3, 5, 7]) raw.request(id, '/');
    const frames = await raw.read();
    expect(ofType(frames, 'RST_STREAM').map((f) => [f.streamId, f.errorCode])).toEqual([[7, ErrorCode.REFUSED_STREAM]]);
    expect(goawayOf(frames)).toBeUndefined();
  });

  test('zero-window stall: a stream whose window stays shut is reset after zeroWindowTimeoutMs, memory bounded', async () => {
    const raw = await started(demoHandler, { zeroWindowTimeoutMs: 5000 }, [[SettingId.INITIAL_WINDOW_SIZE, 0]]);
    raw.request(1, '/bytes?size=10000000');
    const frames = await raw.read(6);
    expect(ofType(frames, 'DATA')).toHaveLength(0);
    // The handler awaits drain(): the stream holds about one high-water mark, not the 10 MB body.
    expect(raw.server.connection.streamBuffered(1)).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
    raw.advance(4999);
    expect(ofType(await raw.read(), 'RST_STREAM')).toHaveLength(0);
    raw.advance(1);
    expect(ofType(await raw.read(), 'RST_STREAM')).toEqual([expect.objectContaining({ streamId: 1, errorCode: ErrorCode.CANCEL })]);
  });

  test('zero-window stall on the connection window → GOAWAY', async () => {
    const raw = await started(demoHandler, { zeroWindowTimeoutMs: 5000 }, [[SettingId.INITIAL_WINDOW_SIZE, 1 << 20]]);
    raw.request(1, '/bytes?size=200000');
    const data = ofType(await raw.read(6), 'DATA');
    expect(data.reduce((n, f) => n + f.data.length, 0)).toBe(65_535);
    raw.advance(5000);
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM });
  });
});

describe('protocol violations', () => {
  test('an invalid preface → GOAWAY PROTOCOL_ERROR (RFC 9113 §3.4)', async () => {
    const raw = new RawClient(demoHandler);
    raw.bytes(Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    const goaway = goawayOf(await raw.read());
    expect(goaway).toMatchObject({ errorCode: ErrorCode.PROTOCOL_ERROR, lastStreamId: 0 });
    expect(raw.closedByServer).toBe(true);
  });

  test('the first frame after the preface must be SETTINGS (RFC 9113 §3.4)', async () => {
    const raw = new RawClient(demoHandler);
    raw.bytes(Buffer.concat([CONNECTION_PREFACE, encodeFrame({ type: 'PING', streamId: 0, ack: false, opaqueData: Buffer.alloc(8) })]));
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.PROTOCOL_ERROR });
  });

  // Frames that must not be on stream 0, and connection frames that must be (RFC 9113 §6).
  for (const [name, bytes] of [
    ['DATA on stream 0 (§6.1)', Buffer.from([0, 0, 1, 0x0, 0x1, 0, 0, 0, 0, 0x61])],
    ['HEADERS on stream 0 (§6.2)', Buffer.from([0, 0, 1, 0x1, 0x5, 0, 0, 0, 0, 0x82])],
    ['PRIORITY on stream 0 (§6.3)', Buffer.from([0, 0, 5, 0x2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 16])],
    ['RST_STREAM on stream 0 (§6.4)', Buffer.from([0, 0, 4, 0x3, 0, 0, 0, 0, 0, 0, 0, 0, 8])],
    ['CONTINUATION on stream 0 (§6.10)', Buffer.from([0, 0, 0, 0x9, 0x4, 0, 0, 0, 0])],
    ['SETTINGS on stream 1 (§6.5)', Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 1])],
    ['PING on stream 1 (§6.7)', Buffer.from([0, 0, 8, 0x6, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['GOAWAY on stream 1 (§6.8)', Buffer.from([0, 0, 8, 0x7, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])],
  ] as const) {
    test(`${name} → GOAWAY PROTOCOL_ERROR`, async () => {
      const raw = await started();
      raw.bytes(bytes);
      expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.PROTOCOL_ERROR });
    });
  }

  test('DATA on an idle stream → GOAWAY PROTOCOL_ERROR (RFC 9113 §5.1)', async () => {
    const raw = await started();
    raw.send({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.from('x') });
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.PROTOCOL_ERROR });
  });

  test('a stream id not above the last one → GOAWAY PROTOCOL_ERROR (RFC 9113 §5.1.1)', async () => {
    const raw = await started(hang);
    raw.request(5, '/');
    raw.request(3, '/');
    expect(goawayOf(await raw.read())).toMatchObject({ errorCode: ErrorCode.PROTOCOL_ERROR, lastStreamId: 5 });
  });

  test('random bytes after the preface: valid frames out, a GOAWAY with an RFC 9113 §7 code, never a throw', async () => {
    const codes = new Set<number>(Object.values(ErrorCode));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), async (noise, withSettings) => {
        const raw = new RawClient(demoHandler);
        const prefix = withSettings ? Buffer.concat([CONNECTION_PREFACE, encodeFrame({ type: 'SETTINGS', streamId: 0, ack: false, settings: [] })]) : CONNECTION_PREFACE;
        raw.bytes(Buffer.concat([prefix, noise]));
        const frames = await raw.read(1);
        const goaway = goawayOf(frames);
        if (goaway) expect(codes.has(goaway.errorCode)).toBe(true);
        // What the server wrote decodes as frames with nothing left over.
        const check = new FrameDecoder({ maxFrameSize: 1 << 24 });
        for (const piece of raw.server.transmit()) check.push(piece);
        while (check.next()) { /* drain */ }
        expect(check.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
