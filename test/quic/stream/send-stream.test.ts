import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SEND_TRANSITIONS, SendState, SendStream, type StreamChunk } from '../../../src/quic/stream/send-stream.js';
import { SendCredit } from '../../../src/quic/flow/send-credit.js';
import { Reassembler } from '../../../src/quic/stream/reassembly.js';
import { StreamUsageError } from '../../../src/quic/stream/errors.js';
import { encodeFrame } from '../../../src/quic/frames/encode.js';
import { parseFrames } from '../../../src/quic/frames/decode.js';
import { Writer } from '../../../src/quic/varint.js';

const text = (c: StreamChunk | null) => (c === null ? null : Buffer.from(c.data).toString());

function makeStream(credit = 1 << 20, connectionCredit?: SendCredit): SendStream {
  return new SendStream({ streamId: 4, initialCredit: credit, connectionCredit });
}

describe('SendStream chunks are STREAM frames (RFC 9000 §19.8)', () => {
  it('hands out each chunk as the frame the packet builder encodes, without another object', () => {
    const s = makeStream();
    s.write(Buffer.from('hello'));
    s.end();
    const chunk = s.nextChunk(100)!;
    expect(chunk).toEqual({ type: 'stream', streamId: 4, offset: 0, data: Buffer.from('hello'), fin: true });
    const w = new Writer();
    encodeFrame(chunk, w);
    expect(parseFrames(w.buf.subarray(0, w.offset))).toMatchObject([{ type: 'stream', streamId: 4, offset: 0, fin: true }]);
  });
});

describe('SendStream states (RFC 9000 §3.1)', () => {
  it('the transition table has exactly the edges of Figure 2', () => {
    const edges = Object.entries(SEND_TRANSITIONS).flatMap(([from, row]) =>
      Object.entries(row).map(([event, to]) => `${from} --${event}--> ${to}`),
    );
    expect(edges.sort()).toEqual(
      [
        'Ready --send data--> Send',
        'Ready --send fin--> Data Sent',
        'Ready --send reset--> Reset Sent',
        'Send --send fin--> Data Sent',
        'Send --send reset--> Reset Sent',
        'Data Sent --recv all acks--> Data Recvd',
        'Data Sent --send reset--> Reset Sent',
        'Reset Sent --recv reset ack--> Reset Recvd',
      ].sort(),
    );
  });

  it('Ready → Send → Data Sent → Data Recvd', () => {
    const s = makeStream();
    expect(s.state).toBe(SendState.Ready);
    s.write(Buffer.from('hello '));
    const first = s.nextChunk(100)!;
    expect(s.state).toBe(SendState.Send);
    expect(first).toMatchObject({ streamId: 4, offset: 0, fin: false });
    s.write(Buffer.from('world'));
    s.end();
    const second = s.nextChunk(100)!;
    expect(text(second)).toBe('world');
    expect(second).toMatchObject({ offset: 6, fin: true });
    expect(s.state).toBe(SendState.DataSent);
    expect(s.nextChunk(100)).toBeNull();
    s.onAck(6, 5, true);
    expect(s.state).toBe(SendState.DataSent); // [0, 6) not yet acknowledged
    s.onAck(0, 6, false);
    expect(s.state).toBe(SendState.DataRecvd);
    expect(s.isClosed).toBe(true);
    expect(s.bufferedBytes).toBe(0);
  });

  it('an empty stream sends a lone fin at offset 0', () => {
    const s = makeStream();
    s.end();
    const c = s.nextChunk(0)!;
    expect(c).toMatchObject({ offset: 0, fin: true });
    expect(c.data.byteLength).toBe(0);
    expect(s.state).toBe(SendState.DataSent);
    s.onLost(0, 0, true);
    expect(s.nextChunk(10)).toMatchObject({ offset: 0, fin: true });
    s.onAck(0, 0, true);
    expect(s.state).toBe(SendState.DataRecvd);
  });

  it('a fin sent after the data goes alone, at the final size', () => {
    const s = makeStream();
    s.write(Buffer.from('abc'));
    s.nextChunk(10);
    s.end();
    expect(s.nextChunk(10)).toMatchObject({ offset: 3, fin: true, data: new Uint8Array(0) });
  });

  for (const [name, prepare] of [
    ['Ready', (s: SendStream) => void s],
    ['Send', (s: SendStream) => void s.nextChunk(3)],
    ['Data Sent', (s: SendStream) => (s.end(), void s.nextChunk(100))],
  ] as const) {
    it(`${name} → Reset Sent → Reset Recvd; the final size is the data sent`, () => {
      const s = makeStream();
      s.write(Buffer.from('abcdef'));
      prepare(s);
      expect(s.state).toBe(name);
      const sent = name === 'Ready' ? 0 : name === 'Send' ? 3 : 6;
      s.reset(0x99);
      expect(s.state).toBe(SendState.ResetSent);
      expect(s.takeResetStream()).toEqual({ streamId: 4, errorCode: 0x99, finalSize: sent });
      expect(s.takeResetStream()).toBeUndefined();
      expect(s.nextChunk(100)).toBeNull(); // nothing is sent or retransmitted after a reset
      s.onLost(0, sent, false);
      expect(s.nextChunk(100)).toBeNull();
      s.onResetLost();
      expect(s.takeResetStream()).toEqual({ streamId: 4, errorCode: 0x99, finalSize: sent });
      s.onResetAcked();
      expect(s.state).toBe(SendState.ResetRecvd);
      expect(s.bufferedBytes).toBe(0);
    });
  }

  it('STOP_SENDING resets with its error code (RFC 9000 §3.5)', () => {
    const s = makeStream();
    s.write(Buffer.from('abc'));
    s.nextChunk(2);
    expect(s.onStopSending(0x77)).toBe(true);
    expect(s.takeResetStream()).toEqual({ streamId: 4, errorCode: 0x77, finalSize: 2 });
    expect(s.onStopSending(0x78)).toBe(false); // already reset
    expect(s.takeResetStream()).toBeUndefined();
  });

  it('STOP_SENDING after all data was acknowledged changes nothing', () => {
    const s = makeStream();
    s.write(Buffer.from('abc'));
    s.end();
    s.nextChunk(10);
    s.onAck(0, 3, true);
    expect(s.onStopSending(1)).toBe(false);
    expect(s.state).toBe(SendState.DataRecvd);
  });

  it('writes after a reset are dropped; writes after end() are a usage error', () => {
    const s = makeStream();
    s.end();
    expect(() => s.write(Buffer.from('x'))).toThrow(StreamUsageError);
    const r = makeStream();
    r.reset(1);
    r.write(Buffer.from('x'));
    expect(r.writtenBytes).toBe(0);
  });
});

describe('SendStream data', () => {
  it('cuts frames to the budget, as views of the written chunk', () => {
    const s = makeStream();
    const chunk = Buffer.from('0123456789');
    s.write(chunk);
    const a = s.nextChunk(4)!;
    expect(text(a)).toBe('0123');
    expect(a.data.buffer).toBe(chunk.buffer);
    expect(text(s.nextChunk(4))).toBe('4567');
    expect(text(s.nextChunk(4))).toBe('89');
  });

  it('joins small writes into one frame', () => {
    const s = makeStream();
    for (const piece of ['ab', 'cd', 'ef']) s.write(Buffer.from(piece));
    expect(text(s.nextChunk(5))).toBe('abcde');
    expect(text(s.nextChunk(5))).toBe('f');
  });

  it('retransmits lost ranges before new data, without the parts acknowledged since', () => {
    const s = makeStream();
    s.write(Buffer.from('abcdefghij'));
    s.nextChunk(6); // abcdef
    s.onAck(2, 2, false); // cd acknowledged by another copy
    s.onLost(0, 6, false);
    expect(s.nextChunk(100)).toMatchObject({ offset: 0 });
    expect(text(s.nextChunk(100))).toBe('ef');
    expect(text(s.nextChunk(100))).toBe('ghij');
  });

  it('releases acknowledged memory from the front', () => {
    const s = makeStream();
    for (let i = 0; i < 10; i++) s.write(new Uint8Array(100));
    while (s.nextChunk(250) !== null);
    expect(s.bufferedBytes).toBe(1000);
    s.onAck(250, 250, false);
    expect(s.bufferedBytes).toBe(1000); // a gap at the front keeps everything
    s.onAck(0, 250, false);
    expect(s.bufferedBytes).toBe(500);
  });

  it('an acknowledgment that reaches ranges acknowledged ahead counts only its new bytes and releases them all', () => {
    const s = makeStream();
    s.write(new Uint8Array(100));
    while (s.nextChunk(10) !== null);
    expect(s.onAck(20, 10, false)).toBe(10);
    expect(s.onAck(40, 20, false)).toBe(20);
    expect(s.onAck(25, 10, false)).toBe(5); // 25..30 was acknowledged
    expect(s.bufferedBytes).toBe(100);
    expect(s.onAck(0, 50, false)).toBe(20 + 5); // 0..20 and 35..40 are new; 20..35 and 40..50 were not
    expect(s.bufferedBytes).toBe(40); // the prefix now reaches 60
    expect(s.onAck(0, 60, false)).toBe(0);
    s.onLost(0, 70, false); // only 60..70 is unacknowledged
    expect(s.nextChunk(100)).toMatchObject({ offset: 60 });
    expect(s.nextChunk(100)).toBeNull();
  });

  it('acknowledgments in any order and with repeats: each byte counts once, memory goes with the acknowledged prefix', () => {
    const scenario = fc.record({
      size: fc.integer({ min: 1, max: 400 }),
      frame: fc.integer({ min: 1, max: 60 }),
      events: fc.array(fc.record({ pick: fc.nat(), lost: fc.boolean() }), { maxLength: 80 }),
    });
    fc.assert(
      fc.property(scenario, ({ size, frame, events }) => {
        const s = makeStream();
        s.write(new Uint8Array(size));
        const sent: StreamChunk[] = [];
        for (let c = s.nextChunk(frame); c !== null; c = s.nextChunk(frame)) sent.push(c);
        const acked = new Uint8Array(size); // the model: 1 for each acknowledged byte
        for (const { pick, lost } of events) {
          const chunk = sent[pick % sent.length]!;
          const end = chunk.offset + chunk.data.byteLength;
          if (lost) {
            s.onLost(chunk.offset, chunk.data.byteLength, false);
            // Retransmitted at once: what comes back is exactly the unacknowledged bytes of the chunk.
            for (let c = s.nextChunk(size); c !== null; c = s.nextChunk(size)) {
              for (let i = c.offset; i < c.offset + c.data.byteLength; i++) expect(acked[i]).toBe(0);
              sent.push(c);
            }
            continue;
          }
          let fresh = 0;
          for (let i = chunk.offset; i < end; i++) if (acked[i] === 0) { acked[i] = 1; fresh++; }
          expect(s.onAck(chunk.offset, chunk.data.byteLength, false)).toBe(fresh);
          const prefix = acked.indexOf(0) === -1 ? size : acked.indexOf(0);
          expect(s.bufferedBytes).toBe(size - prefix);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is limited by MAX_STREAM_DATA and says STREAM_DATA_BLOCKED once per limit (RFC 9000 §4.1)', () => {
    const s = makeStream(5);
    s.write(Buffer.from('0123456789'));
    expect(text(s.nextChunk(100))).toBe('01234');
    expect(s.nextChunk(100)).toBeNull();
    expect(s.takeStreamDataBlocked()).toBe(5);
    expect(s.nextChunk(100)).toBeNull();
    expect(s.takeStreamDataBlocked()).toBeUndefined();
    s.onMaxStreamData(3); // smaller: ignored
    expect(s.nextChunk(100)).toBeNull();
    s.onMaxStreamData(8);
    expect(text(s.nextChunk(100))).toBe('567');
    expect(s.takeStreamDataBlocked()).toBeUndefined();
    s.nextChunk(100);
    expect(s.takeStreamDataBlocked()).toBe(8);
  });

  it('a blocked stream with nothing sent leaves Ready through STREAM_DATA_BLOCKED (RFC 9000 §3.1)', () => {
    const s = makeStream(0);
    s.write(Buffer.from('x'));
    expect(s.nextChunk(10)).toBeNull();
    expect(s.state).toBe(SendState.Ready);
    expect(s.takeStreamDataBlocked()).toBe(0);
    expect(s.state).toBe(SendState.Send);
  });

  it('shares connection credit with other streams; retransmissions cost none', () => {
    const connection = new SendCredit(10);
    const a = makeStream(100, connection);
    const b = new SendStream({ streamId: 8, initialCredit: 100, connectionCredit: connection });
    a.write(new Uint8Array(8));
    b.write(new Uint8Array(8));
    expect(a.nextChunk(100)?.data.byteLength).toBe(8);
    expect(b.nextChunk(100)?.data.byteLength).toBe(2);
    expect(b.nextChunk(100)).toBeNull();
    expect(connection.takeBlocked()).toBe(10);
    a.onLost(0, 8, false);
    expect(a.nextChunk(100)?.data.byteLength).toBe(8);
    expect(connection.used).toBe(10);
  });
});

/** A small deterministic PRNG so one fast-check seed drives a whole run. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('SendStream under loss', () => {
  it('every byte is eventually acknowledged exactly once, with the right content, and the fin last', () => {
    const scenario = fc.record({
      writes: fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 12 }),
      seed: fc.integer(),
      initialCredit: fc.nat(400),
      lossRate: fc.double({ min: 0, max: 0.6, noNaN: true }),
    });
    fc.assert(
      fc.property(scenario, ({ writes, seed, initialCredit, lossRate }) => {
        const random = rng(seed);
        const original = Buffer.concat(writes);
        const s = makeStream(initialCredit);
        for (const w of writes) s.write(w);
        s.end();
        const inFlight: StreamChunk[] = [];
        const receiver = new Reassembler({ maxAhead: 1 << 20 });
        let newlyAcked = 0;
        let finChunks = 0;
        for (let step = 0; step < 20_000 && s.state !== SendState.DataRecvd; step++) {
          const r = random();
          if (r < 0.1) {
            s.onMaxStreamData(s.credit.limit + Math.floor(random() * 200));
          } else if (inFlight.length > 0 && r < 0.55) {
            const [chunk] = inFlight.splice(Math.floor(random() * inFlight.length), 1);
            if (random() < lossRate) {
              s.onLost(chunk!.offset, chunk!.data.byteLength, chunk!.fin);
            } else {
              receiver.insert(chunk!.offset, chunk!.data, chunk!.fin);
              newlyAcked += s.onAck(chunk!.offset, chunk!.data.byteLength, chunk!.fin);
            }
          } else {
            const chunk = s.nextChunk(1 + Math.floor(random() * 150));
            if (chunk === null) {
              if (inFlight.length === 0) s.onMaxStreamData(s.credit.limit + 100);
              continue;
            }
            const end = chunk.offset + chunk.data.byteLength;
            // The content is the original's, within credit, never past the final size.
            expect(Buffer.from(chunk.data).equals(original.subarray(chunk.offset, end))).toBe(true);
            expect(end).toBeLessThanOrEqual(s.credit.limit);
            expect(end).toBeLessThanOrEqual(original.length);
            if (chunk.fin) {
              finChunks++;
              expect(end).toBe(original.length);
            }
            inFlight.push(chunk);
          }
        }
        expect(s.state).toBe(SendState.DataRecvd);
        expect(newlyAcked).toBe(original.length);
        expect(finChunks).toBeGreaterThanOrEqual(1);
        expect(s.bufferedBytes).toBe(0);
        expect(Buffer.from(receiver.readAll() ?? new Uint8Array(0)).equals(original)).toBe(true);
        expect(receiver.isFinished).toBe(true);
        // retransmissions used no extra credit
        expect(s.credit.used).toBe(original.length);
      }),
      { numRuns: 250 },
    );
  });
});
