import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_PINNED_BYTES, StreamManager, type StreamControlFrame, type StreamParams } from '../../../src/quic/stream/stream-manager.js';
import { StreamError, TransportErrorCode } from '../../../src/quic/stream/errors.js';
import { RecvState } from '../../../src/quic/stream/recv-stream.js';
import { SendState } from '../../../src/quic/stream/send-stream.js';

function expectStreamError(fn: () => unknown, code: number): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe(code);
    return;
  }
  expect.fail(`expected StreamError 0x${code.toString(16)}`);
}

const PARAMS: StreamParams = {
  initialMaxData: 10_000,
  initialMaxStreamDataBidiLocal: 1000,
  initialMaxStreamDataBidiRemote: 1000,
  initialMaxStreamDataUni: 1000,
  initialMaxStreamsBidi: 3,
  initialMaxStreamsUni: 2,
};

function pair(local: Partial<StreamParams> = {}, peer: Partial<StreamParams> = {}) {
  const client = new StreamManager({ role: 'client', local: { ...PARAMS, ...local }, peer: { ...PARAMS, ...peer } });
  const server = new StreamManager({ role: 'server', local: { ...PARAMS, ...peer }, peer: { ...PARAMS, ...local } });
  return { client, server };
}

const data = (n: number) => new Uint8Array(n);
const types = (frames: StreamControlFrame[]) => frames.map((f) => f.type);

describe('opening streams (RFC 9000 §2.1, §4.6)', () => {
  it('opens our streams in order within the peer limit, then reports STREAMS_BLOCKED', () => {
    const { client } = pair();
    expect([0, 1, 2].map(() => client.openStream('bidi')?.id)).toEqual([0, 4, 8]);
    expect(client.openStream('bidi')).toBeNull();
    expect(client.takeControlFrames()).toEqual([{ type: 'STREAMS_BLOCKED', direction: 'bidi', maximum: 3 }]);
    client.onMaxStreams('bidi', 4);
    expect(client.openStream('bidi')?.id).toBe(12);
    expect(client.openStream('uni')?.id).toBe(2);
  });

  it('server streams have the server bit', () => {
    const { server } = pair();
    expect(server.openStream('bidi')?.id).toBe(1);
    expect(server.openStream('uni')?.id).toBe(3);
  });

  it('a local cap limits our open streams whatever the peer allows', () => {
    const client = new StreamManager({ role: 'client', local: PARAMS, peer: { ...PARAMS, initialMaxStreamsBidi: 100 }, maxLocalStreams: 2 });
    expect(client.openStream('bidi')).not.toBeNull();
    expect(client.openStream('bidi')).not.toBeNull();
    expect(client.openStream('bidi')).toBeNull();
  });

  it('nothing opens before the peer parameters are known', () => {
    const client = new StreamManager({ role: 'client', local: PARAMS });
    expect(client.openStream('bidi')).toBeNull();
    client.setPeerParams(PARAMS);
    expect(client.openStream('bidi')?.id).toBe(0);
  });

  it('a peer initial_max_streams above 2^60 is TRANSPORT_PARAMETER_ERROR', () => {
    const client = new StreamManager({ role: 'client', local: PARAMS });
    expectStreamError(() => client.setPeerParams({ ...PARAMS, initialMaxStreamsUni: 2 ** 61 }), TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  });

  it('initial stream credits follow RFC 9000 §18.2 local/remote naming', () => {
    const client = new StreamManager({
      role: 'client',
      local: PARAMS,
      peer: { ...PARAMS, initialMaxStreamDataBidiLocal: 20, initialMaxStreamDataBidiRemote: 10, initialMaxStreamDataUni: 30 },
    });
    expect(client.openStream('bidi')?.send?.credit.limit).toBe(10); // a stream the peer did not open
    expect(client.openStream('uni')?.send?.credit.limit).toBe(30);
    client.onStreamFrame({ streamId: 1, offset: 0, data: data(1), fin: false });
    expect(client.get(1)?.send?.credit.limit).toBe(20); // the peer's own stream
  });
});

describe('peer streams (RFC 9000 §3.2, §4.6)', () => {
  it('a frame for a stream opens all lower-numbered streams of its type', () => {
    const { server } = pair();
    server.onStreamFrame({ streamId: 8, offset: 0, data: data(1), fin: false });
    expect([server.acceptStream()?.id, server.acceptStream()?.id, server.acceptStream()?.id]).toEqual([0, 4, 8]);
    expect(server.acceptStream()).toBeUndefined();
    expect(server.get(0)?.recv?.state).toBe(RecvState.Recv);
    expect(server.get(0)?.send?.state).toBe(SendState.Ready);
  });

  it('a stream beyond our limit is STREAM_LIMIT_ERROR', () => {
    const { server } = pair();
    expectStreamError(() => server.onStreamFrame({ streamId: 12, offset: 0, data: data(1), fin: false }), TransportErrorCode.STREAM_LIMIT_ERROR);
    expectStreamError(() => server.onStopSending({ streamId: 12, errorCode: 0 }), TransportErrorCode.STREAM_LIMIT_ERROR);
    expectStreamError(() => server.onResetStream({ streamId: 10, errorCode: 0, finalSize: 0 }), TransportErrorCode.STREAM_LIMIT_ERROR);
  });

  it('a unidirectional peer stream has only a receiving part', () => {
    const { server } = pair();
    server.onStreamFrame({ streamId: 2, offset: 0, data: data(1), fin: false });
    expect(server.get(2)?.send).toBeUndefined();
    expect(server.get(2)?.recv).toBeDefined();
  });
});

describe('frames on the wrong stream are STREAM_STATE_ERROR', () => {
  const cases: Array<[string, (m: StreamManager) => unknown]> = [
    // client's own uni stream 2 is send-only for the client
    ['STREAM on a send-only stream (§19.8)', (m) => m.onStreamFrame({ streamId: 2, offset: 0, data: data(1), fin: false })],
    ['RESET_STREAM on a send-only stream (§19.4)', (m) => m.onResetStream({ streamId: 2, errorCode: 0, finalSize: 0 })],
    ['STREAM_DATA_BLOCKED on a send-only stream (§19.13)', (m) => m.onStreamDataBlocked({ streamId: 2, maximum: 0 })],
    // server's uni stream 3 is receive-only for the client
    ['STOP_SENDING on a receive-only stream (§19.5)', (m) => m.onStopSending({ streamId: 3, errorCode: 0 })],
    ['MAX_STREAM_DATA on a receive-only stream (§19.10)', (m) => m.onMaxStreamData({ streamId: 3, maximum: 10 })],
    // client bidi stream 4 was never opened
    ['STREAM on a local stream not yet opened (§19.8)', (m) => m.onStreamFrame({ streamId: 4, offset: 0, data: data(1), fin: false })],
    ['STOP_SENDING on a local stream not yet opened (§19.5)', (m) => m.onStopSending({ streamId: 4, errorCode: 0 })],
    ['MAX_STREAM_DATA on a local stream not yet opened (§19.10)', (m) => m.onMaxStreamData({ streamId: 4, maximum: 1 })],
  ];
  for (const [name, act] of cases) {
    it(name, () => {
      const { client } = pair();
      client.openStream('bidi'); // 0
      client.openStream('uni'); // 2
      expectStreamError(() => act(client), TransportErrorCode.STREAM_STATE_ERROR);
    });
  }
});

describe('closing and forgetting streams', () => {
  it('a finished peer stream is forgotten, its slot given back with MAX_STREAMS, late frames ignored', () => {
    const { server } = pair({}, { initialMaxStreamsBidi: 1 });
    server.onStreamFrame({ streamId: 0, offset: 0, data: Buffer.from('req'), fin: true });
    const stream = server.acceptStream()!;
    expect(Buffer.from(server.read(0, 0)!).toString()).toBe('req');
    expect(server.read(0, 0)).toBeNull();
    stream.send!.write(Buffer.from('res'));
    stream.send!.end();
    const chunk = server.nextChunk(100)!;
    expect(chunk).toMatchObject({ streamId: 0, fin: true });
    expect(server.size).toBe(1);
    // The acknowledgment releases the 3 buffered bytes (the connection's backpressure total).
    expect(server.onChunkAcked({ streamId: 0, offset: 0, length: 3, fin: true })).toBe(3);
    expect(server.size).toBe(0);
    expect(server.onChunkAcked({ streamId: 0, offset: 0, length: 3, fin: true })).toBe(0);
    expect(server.takeControlFrames()).toContainEqual({ type: 'MAX_STREAMS', direction: 'bidi', maximum: 2 });
    // a retransmission for the forgotten stream is ignored
    expect(server.onStreamFrame({ streamId: 0, offset: 0, data: Buffer.from('req'), fin: true })).toBeUndefined();
    server.onStreamFrame({ streamId: 4, offset: 0, data: data(1), fin: false }); // the new slot
    expectStreamError(() => server.onStreamFrame({ streamId: 8, offset: 0, data: data(1), fin: false }), TransportErrorCode.STREAM_LIMIT_ERROR);
  });

  it('peer streams reset and read are forgotten; memory stays bounded over many streams', () => {
    const { server } = pair({}, { initialMaxStreamsUni: 4 });
    for (let i = 0; i < 200; i++) {
      const id = 2 + 4 * i;
      server.onStreamFrame({ streamId: id, offset: 0, data: data(10), fin: false });
      server.onResetStream({ streamId: id, errorCode: 1, finalSize: 10 });
      server.acceptStream();
      server.read(id, 0);
      for (const f of server.takeControlFrames()) expect(f.type).toBe('MAX_STREAMS');
      expect(server.size).toBe(0);
    }
    // connection credit of the discarded bytes came back too
    expect(server.connectionWindow.consumed).toBe(2000);
  });

  it('STOP_SENDING makes the stream reset itself; the acked RESET_STREAM closes it', () => {
    const { client } = pair();
    const s = client.openStream('uni')!;
    s.send!.write(data(10));
    client.nextChunk(100);
    client.onStopSending({ streamId: 2, errorCode: 0x33 }); // client uni stream: the peer is receiving
    const frames = client.takeControlFrames();
    expect(frames).toEqual([{ type: 'RESET_STREAM', streamId: 2, errorCode: 0x33, finalSize: 10 }]);
    client.onControlFrameLost(frames[0]!);
    // Into a queue the caller already holds: appended after what it has, the same array returned.
    const queue: StreamControlFrame[] = [{ type: 'MAX_DATA', maximum: 1 }];
    expect(client.takeControlFrames(queue)).toBe(queue);
    expect(queue).toEqual([{ type: 'MAX_DATA', maximum: 1 }, ...frames]);
    expect(client.takeControlFrames(queue)).toHaveLength(2);
    client.onControlFrameAcked(frames[0]!);
    expect(client.get(2)).toBeUndefined();
  });
});

describe('sending', () => {
  it('mayHaveDataToSend: false with nothing queued, true once a stream has data, false when it is done', () => {
    const { client } = pair();
    expect(client.mayHaveDataToSend).toBe(false);
    const s = client.openStream('bidi')!;
    expect(client.mayHaveDataToSend).toBe(false);
    s.send!.write(data(5));
    s.send!.end();
    expect(client.mayHaveDataToSend).toBe(true);
    expect(client.nextChunk(100)).toMatchObject({ streamId: 0, fin: true });
    client.onChunkAcked({ streamId: 0, offset: 0, length: 5, fin: true });
    expect(client.nextChunk(100)).toBeNull();
    expect(client.mayHaveDataToSend).toBe(false);
  });


  it('serves streams round-robin, one frame per turn', () => {
    const { client } = pair();
    const streams = [client.openStream('bidi')!, client.openStream('bidi')!, client.openStream('bidi')!];
    for (const s of streams) s.send!.write(data(30));
    const order: number[] = [];
    for (let c = client.nextChunk(10); c !== null; c = client.nextChunk(10)) order.push(c.streamId);
    expect(order).toEqual([0, 4, 8, 0, 4, 8, 0, 4, 8]);
  });

  it('a stream blocked on its own credit does not hold up the others', () => {
    const { client } = pair({}, { initialMaxStreamDataBidiRemote: 10 });
    const a = client.openStream('bidi')!;
    const b = client.openStream('bidi')!;
    a.send!.write(data(100));
    b.send!.write(data(100));
    const order: number[] = [];
    for (let c = client.nextChunk(10); c !== null; c = client.nextChunk(10)) order.push(c.streamId);
    expect(order).toEqual([0, 4]);
    expect(types(client.takeControlFrames())).toEqual(['STREAM_DATA_BLOCKED', 'STREAM_DATA_BLOCKED']);
    client.onMaxStreamData({ streamId: 4, maximum: 20 });
    expect(client.nextChunk(100)).toMatchObject({ streamId: 4, offset: 10 });
  });

  it('connection credit (MAX_DATA) limits all streams together, with DATA_BLOCKED', () => {
    const { client } = pair({}, { initialMaxData: 25 });
    const a = client.openStream('bidi')!;
    const b = client.openStream('bidi')!;
    a.send!.write(data(100));
    b.send!.write(data(100));
    let sent = 0;
    for (let c = client.nextChunk(10); c !== null; c = client.nextChunk(10)) sent += c.data.byteLength;
    expect(sent).toBe(25);
    expect(client.takeControlFrames()).toContainEqual({ type: 'DATA_BLOCKED', maximum: 25 });
    client.onMaxData(45);
    for (let c = client.nextChunk(10); c !== null; c = client.nextChunk(10)) sent += c.data.byteLength;
    expect(sent).toBe(45);
  });

  it('repeats blocked signals on request while still blocked (RFC 9000 §4.1)', () => {
    const { client } = pair({}, { initialMaxData: 100, initialMaxStreamDataBidiRemote: 10 });
    client.openStream('bidi')!.send!.write(data(50));
    while (client.nextChunk(100) !== null);
    expect(client.takeControlFrames()).toEqual([{ type: 'STREAM_DATA_BLOCKED', streamId: 0, maximum: 10 }]);
    expect(client.takeControlFrames()).toEqual([]);
    client.repeatBlockedSignals();
    expect(client.takeControlFrames()).toEqual([{ type: 'STREAM_DATA_BLOCKED', streamId: 0, maximum: 10 }]);
    client.onMaxStreamData({ streamId: 0, maximum: 100 });
    client.repeatBlockedSignals();
    expect(client.takeControlFrames()).toEqual([]);
  });
});

describe('receiving', () => {
  it('connection flow control covers all streams (RFC 9000 §4.1)', () => {
    const { server } = pair({}, { initialMaxData: 1500 });
    server.onStreamFrame({ streamId: 0, offset: 0, data: data(1000), fin: false });
    expectStreamError(() => server.onStreamFrame({ streamId: 4, offset: 0, data: data(501), fin: false }), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('reading releases MAX_STREAM_DATA and MAX_DATA', () => {
    const { server } = pair({}, { initialMaxData: 1000 });
    server.onStreamFrame({ streamId: 0, offset: 0, data: data(1000), fin: false });
    server.read(0, 0);
    const frames = server.takeControlFrames();
    expect(frames).toContainEqual({ type: 'MAX_STREAM_DATA', streamId: 0, maximum: 2000 });
    expect(frames.find((f) => f.type === 'MAX_DATA')).toBeDefined();
    expect(server.takeControlFrames()).toEqual([]);
    server.onControlFrameLost({ type: 'MAX_STREAM_DATA', streamId: 0, maximum: 2000 });
    expect(server.takeControlFrames()).toEqual([{ type: 'MAX_STREAM_DATA', streamId: 0, maximum: 2000 }]);
  });
});

/** A tiny deterministic PRNG. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('client and server in memory', () => {
  it('deliver every stream intact under loss and reordering, within flow control', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 6 }),
        fc.integer(),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        (sizes, seed, lossRate) => {
          const random = rng(seed);
          const small: StreamParams = { ...PARAMS, initialMaxData: 3000, initialMaxStreamDataBidiRemote: 800, initialMaxStreamsBidi: 2 };
          const client = new StreamManager({ role: 'client', local: small, peer: small });
          const server = new StreamManager({ role: 'server', local: small, peer: small });
          const bodies = sizes.map((n, i) => Buffer.alloc(n, i + 1));
          const received = new Map<number, Buffer[]>();
          const finished = new Set<number>();
          let next = 0;
          const inFlight: Array<{ chunk: ReturnType<StreamManager['nextChunk']> & {} }> = [];
          let controlToClient: StreamControlFrame[] = [];
          for (let step = 0; step < 50_000 && finished.size < bodies.length; step++) {
            // open what the server allows
            while (next < bodies.length) {
              const s = client.openStream('bidi');
              if (s === null) break;
              s.send!.write(bodies[next++]!);
              s.send!.end();
            }
            const chunk = client.nextChunk(1 + Math.floor(random() * 1200));
            if (chunk !== null) inFlight.push({ chunk });
            // deliver or lose one frame in flight, in random order
            if (inFlight.length > 0 && (chunk === null || random() < 0.5)) {
              const [{ chunk: c }] = inFlight.splice(Math.floor(random() * inFlight.length), 1) as [{ chunk: NonNullable<typeof chunk> }];
              const sent = { streamId: c.streamId, offset: c.offset, length: c.data.byteLength, fin: c.fin };
              if (random() < lossRate) client.onChunkLost(sent);
              else {
                server.onStreamFrame(c);
                client.onChunkAcked(sent);
              }
            }
            // the server application reads everything it can
            for (let s = server.acceptStream(); s !== undefined; s = server.acceptStream()) received.set(s.id, []);
            for (const [id, parts] of received) {
              if (finished.has(id)) continue;
              for (let d = server.read(id, step); d !== null; d = server.read(id, step)) parts.push(Buffer.from(d));
              const stream = server.get(id);
              if (stream === undefined || stream.recv!.state === RecvState.DataRead) {
                finished.add(id);
                stream?.send!.end();
              }
            }
            // the server's responses are just fins; drain them so streams close
            for (let c = server.nextChunk(100); c !== null; c = server.nextChunk(100)) {
              server.onChunkAcked({ streamId: c.streamId, offset: c.offset, length: c.data.byteLength, fin: c.fin });
              client.onStreamFrame(c);
            }
            controlToClient.push(...server.takeControlFrames());
            if (random() < 0.3) {
              for (const f of controlToClient) {
                if (f.type === 'MAX_DATA') client.onMaxData(f.maximum);
                else if (f.type === 'MAX_STREAM_DATA') client.onMaxStreamData(f);
                else if (f.type === 'MAX_STREAMS') client.onMaxStreams(f.direction, f.maximum);
                server.onControlFrameAcked(f);
              }
              controlToClient = [];
            }
            client.takeControlFrames();
          }
          expect(finished.size).toBe(bodies.length);
          for (const [id, parts] of received) {
            expect(Buffer.concat(parts).equals(bodies[id / 4]!)).toBe(true);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('hostile peer', () => {
  it('random frames end in a StreamError or nothing, and state stays bounded', () => {
    const id = fc.oneof(fc.nat(40), fc.constant(2 ** 62 - 4), fc.nat());
    const offset = fc.oneof(fc.nat(4000), fc.constant(2 ** 62), fc.nat());
    const frame = fc.oneof(
      fc.record({ kind: fc.constant('STREAM' as const), streamId: id, offset, length: fc.nat(1500), fin: fc.boolean() }),
      fc.record({ kind: fc.constant('RESET_STREAM' as const), streamId: id, finalSize: offset }),
      fc.record({ kind: fc.constant('STOP_SENDING' as const), streamId: id }),
      fc.record({ kind: fc.constant('MAX_STREAM_DATA' as const), streamId: id, maximum: offset }),
      fc.record({ kind: fc.constant('STREAM_DATA_BLOCKED' as const), streamId: id, maximum: offset }),
      fc.record({ kind: fc.constant('MAX_DATA' as const), maximum: offset }),
      fc.record({ kind: fc.constant('MAX_STREAMS' as const), uni: fc.boolean(), maximum: fc.oneof(fc.nat(50), fc.constant(2 ** 61)) }),
      fc.record({ kind: fc.constant('STREAMS_BLOCKED' as const), uni: fc.boolean(), maximum: fc.oneof(fc.nat(50), fc.constant(2 ** 61)) }),
      fc.record({ kind: fc.constant('APP' as const), open: fc.boolean(), write: fc.nat(3000) }),
    );
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 60 }), (frames) => {
        const server = new StreamManager({ role: 'server', local: PARAMS, peer: PARAMS, maxLocalStreams: 4 });
        for (const f of frames) {
          try {
            switch (f.kind) {
              case 'STREAM':
                server.onStreamFrame({ streamId: f.streamId, offset: f.offset, data: data(f.length), fin: f.fin });
                break;
              case 'RESET_STREAM':
                server.onResetStream({ streamId: f.streamId, errorCode: 1, finalSize: f.finalSize });
                break;
              case 'STOP_SENDING':
                server.onStopSending({ streamId: f.streamId, errorCode: 2 });
                break;
              case 'MAX_STREAM_DATA':
                server.onMaxStreamData({ streamId: f.streamId, maximum: f.maximum });
                break;
              case 'STREAM_DATA_BLOCKED':
                server.onStreamDataBlocked({ streamId: f.streamId, maximum: f.maximum });
                break;
              case 'MAX_DATA':
                server.onMaxData(f.maximum);
                break;
              case 'MAX_STREAMS':
                server.onMaxStreams(f.uni ? 'uni' : 'bidi', f.maximum);
                break;
              case 'STREAMS_BLOCKED':
                server.onStreamsBlocked(f.uni ? 'uni' : 'bidi', f.maximum);
                break;
              case 'APP': {
                if (f.open) server.openStream('uni')?.send?.write(data(f.write));
                for (let s = server.acceptStream(); s !== undefined; s = server.acceptStream()) {
                  s.send?.write(data(f.write));
                  s.send?.end();
                }
                for (let c = server.nextChunk(1000); c !== null; c = server.nextChunk(1000)) {
                  server.onChunkAcked({ streamId: c.streamId, offset: c.offset, length: c.data.byteLength, fin: c.fin });
                }
                for (const control of server.takeControlFrames()) server.onControlFrameAcked(control);
              }
            }
          } catch (err) {
            expect(err).toBeInstanceOf(StreamError);
            return;
          }
          // peer streams: at most 3 bidi + 2 uni open; ours: at most 4 per direction
          expect(server.size).toBeLessThanOrEqual(3 + 2 + 4 + 4);
          expect(server.connectionWindow.received).toBeLessThanOrEqual(server.connectionWindow.limit);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('small received pieces and the datagrams they view (RFC 9000 §21.7)', () => {
  const piece = (fill: number) => {
    const datagram = Buffer.alloc(1400);
    datagram.fill(fill, 700, 720);
    return { datagram, data: datagram.subarray(700, 720) };
  };

  it('a small piece read in the same pass is handed out as it came, without a copy', () => {
    const { server } = pair();
    const { datagram, data } = piece(5);
    server.onStreamFrame({ streamId: 0, offset: 0, data, fin: false });
    const out = server.read(0, 0)!;
    expect(out.buffer).toBe(datagram.buffer);
    expect(Buffer.from(out).equals(Buffer.alloc(20, 5))).toBe(true);
  });

  it('unread small pieces keep at most MAX_PINNED_BYTES of datagrams alive, on any streams', () => {
    const { server } = pair({}, { initialMaxStreamsBidi: 10, initialMaxStreamDataBidiRemote: 4000, initialMaxData: 100_000 });
    const datagrams = new Set<ArrayBufferLike>();
    const streams = [0, 4, 8];
    const count = 3 * Math.ceil(MAX_PINNED_BYTES / 1400) + 5; // over three times the bound in datagrams
    for (let i = 0; i < count; i++) {
      const { datagram, data } = piece(i % 256);
      datagrams.add(datagram.buffer);
      const id = streams[i % 3]!;
      server.onStreamFrame({ streamId: id, offset: 20 * Math.floor(i / 3), data, fin: false });
      // Datagrams kept alive by what is stored now (nothing was read).
      const pinned = streams.reduce((n, s) => n + (server.get(s)?.recv?.pinnedBytes ?? 0), 0);
      expect(pinned).toBeLessThanOrEqual(MAX_PINNED_BYTES);
    }
    let viewed = 0;
    for (const id of streams) {
      for (let out = server.read(id, 0); out !== null; out = server.read(id, 0)) {
        if (datagrams.has(out.buffer)) viewed += 1400;
      }
    }
    expect(viewed).toBeGreaterThan(0); // the last ones were not copied
    expect(viewed).toBeLessThanOrEqual(MAX_PINNED_BYTES);
  });
});
