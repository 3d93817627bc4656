/**
 * The conformance verdicts (expect.ts) and the test client (client.ts) against a scripted peer
 * whose answers each test chooses: every verdict passes on the answer RFC 9113 §5.4 requires and
 * fails, naming what it expected and what came, on a wrong one. This is what makes a PASS in the
 * checklist mean something.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '../../../src/h2/frame.js';
import { HpackEncoder } from '../../../src/h2/hpack.js';
import { H2TestClient } from './client.js';
import { ConformanceFailure, expectAlive, expectConnectionError, expectResponse, expectStreamError } from './expect.js';
import { E, F, T, frame, u32 } from './frames.js';
import { runCase } from './runner.js';

interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

type Script = (f: RawFrame, reply: (...frames: Frame[]) => void, socket: net.Socket) => void;

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * A peer that does the HTTP/2 minimum (its SETTINGS first, SETTINGS ACK, PING ACK; RFC 9113 §3.4,
 * §6.5.3, §6.7) and hands every other frame to `script`.
 */
async function scriptedPeer(script: Script, options: { firstFrame?: Frame; answerPings?: boolean } = {}): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const reply = (...frames: Frame[]): void => { socket.write(Buffer.concat(frames.map(encodeFrame))); };
    reply(options.firstFrame ?? { type: 'SETTINGS', streamId: 0, ack: false, settings: [] });
    let inbound = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on('data', (chunk: Buffer) => {
      inbound = Buffer.concat([inbound, chunk]);
      if (!prefaceSeen) {
        if (inbound.length < 24) return;
        inbound = inbound.subarray(24);
        prefaceSeen = true;
      }
      while (inbound.length >= 9 && inbound.length >= 9 + inbound.readUIntBE(0, 3)) {
        const length = inbound.readUIntBE(0, 3);
        const f: RawFrame = { type: inbound[3]!, flags: inbound[4]!, streamId: inbound.readUInt32BE(5) & 0x7fff_ffff, payload: inbound.subarray(9, 9 + length) };
        inbound = inbound.subarray(9 + length);
        if (f.type === T.SETTINGS && !(f.flags & F.ACK)) reply({ type: 'SETTINGS', streamId: 0, ack: true, settings: [] });
        else if (f.type === T.PING && !(f.flags & F.ACK) && options.answerPings !== false) reply({ type: 'PING', streamId: 0, ack: true, opaqueData: f.payload });
        else if (f.type !== T.SETTINGS) script(f, reply, socket);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

async function connected(port: number): Promise<H2TestClient> {
  const client = await H2TestClient.connect({ host: '127.0.0.1', port });
  await client.handshake();
  return client;
}

const goaway = (errorCode: number): Frame => ({ type: 'GOAWAY', streamId: 0, lastStreamId: 0, errorCode, debugData: Buffer.alloc(0) });
const rst = (streamId: number, errorCode: number): Frame => ({ type: 'RST_STREAM', streamId, errorCode });

describe('expectConnectionError (RFC 9113 §5.4.1)', () => {
  it('passes on a GOAWAY with the expected code', async () => {
    const c = await connected(await scriptedPeer((f, reply) => { if (f.type === T.WINDOW_UPDATE) reply(goaway(E.PROTOCOL_ERROR)); }));
    c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(1)));
    await expect(expectConnectionError(c, E.PROTOCOL_ERROR)).resolves.toBeUndefined();
    c.close();
  });

  it('fails on a GOAWAY with another code, naming both', async () => {
    const c = await connected(await scriptedPeer((f, reply) => { if (f.type === T.WINDOW_UPDATE) reply(goaway(E.INTERNAL_ERROR)); }));
    c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(1)));
    await expect(expectConnectionError(c, E.PROTOCOL_ERROR)).rejects.toThrow('expected GOAWAY PROTOCOL_ERROR; got GOAWAY INTERNAL_ERROR');
    c.close();
  });

  it('fails when the peer only resets the stream, and reports the reset', async () => {
    const c = await connected(await scriptedPeer((f, reply, socket) => {
      if (f.type === T.WINDOW_UPDATE) { reply(rst(1, E.PROTOCOL_ERROR)); socket.end(); }
    }));
    c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(1)));
    await expect(expectConnectionError(c, E.PROTOCOL_ERROR)).rejects.toThrow('got RST_STREAM PROTOCOL_ERROR on stream 1, then connection closed');
    c.close();
  });
});

describe('expectStreamError (RFC 9113 §5.4.2)', () => {
  it('passes on RST_STREAM with the code when the connection then answers a PING', async () => {
    const c = await connected(await scriptedPeer((f, reply) => { if (f.type === T.HEADERS) reply(rst(f.streamId, E.PROTOCOL_ERROR)); }));
    c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from([0x82])));
    await expect(expectStreamError(c, 1, E.PROTOCOL_ERROR)).resolves.toBeUndefined();
    c.close();
  });

  it('fails on a GOAWAY with the same code: a connection error is not a stream error', async () => {
    const c = await connected(await scriptedPeer((f, reply) => { if (f.type === T.HEADERS) reply(goaway(E.PROTOCOL_ERROR)); }));
    c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from([0x82])));
    await expect(expectStreamError(c, 1, E.PROTOCOL_ERROR)).rejects.toThrow('a stream error, not a connection error');
    c.close();
  });

  it('fails on a reset of another stream', async () => {
    const c = await connected(await scriptedPeer((f, reply, socket) => {
      if (f.type === T.HEADERS) { reply(rst(3, E.PROTOCOL_ERROR)); socket.end(); }
    }));
    c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from([0x82])));
    await expect(expectStreamError(c, 1, E.PROTOCOL_ERROR)).rejects.toThrow(ConformanceFailure);
    c.close();
  });
});

describe('expectAlive (RFC 9113 §6.7)', () => {
  it('fails when a RST_STREAM comes before the PING answer', async () => {
    const c = await connected(await scriptedPeer((f, reply) => { if (f.type === T.PRIORITY) reply(rst(1, E.PROTOCOL_ERROR)); }));
    c.send(frame(T.PRIORITY, 0, 1, Buffer.alloc(5)));
    await expect(expectAlive(c)).rejects.toThrow('got RST_STREAM PROTOCOL_ERROR on stream 1');
    c.close();
  });

  it('fails when the PING is never answered', async () => {
    const c = await connected(await scriptedPeer(() => {}, { answerPings: false }));
    await expect(expectAlive(c)).rejects.toThrow('got nothing (timeout)');
    c.close();
  });
});

describe('expectResponse (RFC 9113 §8.1)', () => {
  it('gathers interim and final HEADERS, DATA and trailers of one stream while another stream interleaves', async () => {
    const encoder = new HpackEncoder();
    const c = await connected(await scriptedPeer((f, reply) => {
      if (f.type !== T.HEADERS) return;
      const headers = (streamId: number, fields: [string, string][], endStream: boolean): Frame =>
        ({ type: 'HEADERS', streamId, endStream, endHeaders: true, fragment: encoder.encode(fields) });
      const data = (streamId: number, text: string, endStream: boolean): Frame => ({ type: 'DATA', streamId, endStream, data: Buffer.from(text) });
      reply(
        headers(1, [[':status', '103'], ['link', '</a>']], false),
        headers(1, [[':status', '200']], false),
        headers(3, [[':status', '404']], false),
        data(1, 'he', false),
        data(3, 'other', true),
        data(1, 'llo', false),
        headers(1, [['x-checksum', 'abc']], true),
      );
    }));
    c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from([0x82])));
    const response = await expectResponse(c, 1);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('hello');
    expect(response.dataFrames).toEqual([2, 3]);
    expect(response.trailers).toEqual([['x-checksum', 'abc']]);
    const other = await expectResponse(c, 3);
    expect([other.status, other.body.toString()]).toEqual([404, 'other']);
    c.close();
  });

  it('fails on DATA before HEADERS', async () => {
    const c = await connected(await scriptedPeer((f, reply) => {
      if (f.type === T.HEADERS) reply({ type: 'DATA', streamId: 1, endStream: true, data: Buffer.from('x') });
    }));
    c.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from([0x82])));
    await expect(expectResponse(c, 1)).rejects.toThrow('HEADERS before DATA on stream 1');
    c.close();
  });
});

describe('runCase', () => {
  it('fails every case when the server preface is not a SETTINGS frame (RFC 9113 §3.4)', async () => {
    const port = await scriptedPeer(() => {}, { firstFrame: { type: 'PING', streamId: 0, ack: false, opaqueData: Buffer.alloc(8) } });
    const result = await runCase(
      { section: 'RFC 9113 §6.7', name: 'PING', expect: 'a PING ACK', run: async (c) => { await expectAlive(c); } },
      { cleartext: { host: '127.0.0.1', port } },
    );
    expect(result.passed).toBe(false);
    expect(result.message).toContain("expected the server's SETTINGS as its first frame");
  });

  it('fails a TLS case when there is no TLS target, instead of running it in the clear', async () => {
    const result = await runCase(
      { section: 'RFC 9113 §3.2', name: 'TLS', expect: 'h2 by ALPN', tls: true, run: async () => {} },
      { cleartext: { host: '127.0.0.1', port: 1 } },
    );
    expect(result).toMatchObject({ passed: false, message: 'no TLS target to run this case on' });
  });
});
