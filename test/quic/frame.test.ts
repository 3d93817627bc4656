import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TransportError, TransportErrorCode } from '../../src/quic/errors.js';
import {
  checkFramePermitted,
  countsInFlight,
  cryptoDataCapacity,
  encodeFrame,
  encodeFrames,
  frameLength,
  frameTypeOf,
  frameTypeRules,
  isAckEliciting,
  isProbingOnly,
  iterateFrames,
  parseFrames,
  readFrame,
  streamDataCapacity,
  streamFrameLength,
  type AckRange,
  type Frame,
} from '../../src/quic/frame.js';
import { Reader, Writer, writeVarintBigInt } from '../../src/quic/varint.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const rfc9001 = JSON.parse(readFileSync(new URL('../../fixtures/rfc9001/appendix-a.json', import.meta.url), 'utf8'));
const withDatagrams = { maxDatagramFrameSize: 65535 };

/** Expects `fn` to throw a TransportError with `code` (and `frameType` when given). */
function expectTransportError(fn: () => unknown, code: number, frameType?: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TransportError);
  expect((caught as TransportError).code).toBe(code);
  if (frameType !== undefined) expect((caught as TransportError).frameType).toBe(frameType);
}

const { FRAME_ENCODING_ERROR, PROTOCOL_VIOLATION } = TransportErrorCode;

describe('RFC 9001 Appendix A payloads', () => {
  it('decodes the A.2 client Initial: one CRYPTO frame then 917 bytes of PADDING', () => {
    const payload = Buffer.concat([hex(rfc9001.clientInitial.frames), Buffer.alloc(917)]);
    expect(payload.length).toBe(rfc9001.clientInitial.payloadLength);
    const frames = parseFrames(payload);
    expect(frames).toHaveLength(2);
    const [crypto, padding] = frames;
    if (crypto?.type !== 'crypto') throw new Error('expected CRYPTO');
    expect(crypto.offset).toBe(0);
    expect(crypto.data.length).toBe(0xf1);
    expect(crypto.data[0]).toBe(0x01); // ClientHello
    expect(crypto.data.buffer).toBe(payload.buffer); // a view, not a copy
    expect(padding).toEqual({ type: 'padding', length: 917 });
    expect(encodeFrames(frames)).toEqual(payload);
  });

  it('decodes the A.3 server Initial: ACK of packet 0, then CRYPTO', () => {
    const payload = hex(rfc9001.serverInitial.payload);
    const frames = parseFrames(payload);
    expect(frames[0]).toEqual({ type: 'ack', ranges: [[0, 0]], ackDelay: 0 });
    expect(frames[1]).toMatchObject({ type: 'crypto', offset: 0 });
    expect((frames[1] as { data: Uint8Array }).data.length).toBe(90);
    expect(encodeFrames(frames)).toEqual(payload);
  });
});

// ---- arbitraries ------------------------------------------------------------------------------

const varint = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 0, max: 16383 }),
  fc.integer({ min: 0, max: 2 ** 30 - 1 }),
  fc.maxSafeNat(),
);
const bytes = (max = 40) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const fixedBytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));

const ackRanges: fc.Arbitrary<AckRange[]> = fc
  .tuple(fc.maxSafeNat(), fc.nat(1000), fc.array(fc.tuple(fc.nat(1000), fc.nat(1000)), { maxLength: 8 }))
  .map(([largest, firstLength, rest]) => {
    const first: AckRange = [Math.max(0, largest - firstLength), largest];
    const ranges: AckRange[] = [first];
    let smallest = first[0];
    for (const [gap, length] of rest) {
      const next = smallest - gap - 2;
      if (next - length < 0) break;
      ranges.push([next - length, next]);
      smallest = next - length;
    }
    return ranges;
  });

const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant('padding' as const), length: fc.integer({ min: 1, max: 50 }) }),
  fc.constant({ type: 'ping' as const }),
  fc.record({ type: fc.constant('ack' as const), ranges: ackRanges, ackDelay: varint }),
  fc.record({
    type: fc.constant('ack' as const), ranges: ackRanges, ackDelay: varint,
    ecn: fc.record({ ect0: varint, ect1: varint, ce: varint }),
  }),
  fc.record({ type: fc.constant('reset_stream' as const), streamId: varint, errorCode: varint, finalSize: varint }),
  fc.record({ type: fc.constant('stop_sending' as const), streamId: varint, errorCode: varint }),
  fc.record({ type: fc.constant('crypto' as const), offset: fc.nat(2 ** 40), data: bytes() }),
  fc.record({ type: fc.constant('new_token' as const), token: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a)) }),
  fc.record({
    type: fc.constant('stream' as const), streamId: varint, offset: fc.oneof(fc.constant(0), fc.nat(2 ** 50)),
    data: bytes(), fin: fc.boolean(), hasLength: fc.boolean(),
  }),
  fc.record({ type: fc.constant('max_data' as const), maximum: varint }),
  fc.record({ type: fc.constant('max_stream_data' as const), streamId: varint, maximum: varint }),
  fc.record({ type: fc.constant('max_streams' as const), bidi: fc.boolean(), maximum: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('data_blocked' as const), limit: varint }),
  fc.record({ type: fc.constant('stream_data_blocked' as const), streamId: varint, limit: varint }),
  fc.record({ type: fc.constant('streams_blocked' as const), bidi: fc.boolean(), limit: fc.maxSafeNat() }),
  fc.tuple(varint, varint, fc.uint8Array({ minLength: 1, maxLength: 20 }), fixedBytes(16)).map(([a, b, cid, token]) => ({
    type: 'new_connection_id' as const,
    sequence: Math.max(a, b), retirePriorTo: Math.min(a, b), connectionId: Buffer.from(cid), statelessResetToken: token,
  })),
  fc.record({ type: fc.constant('retire_connection_id' as const), sequence: varint }),
  fc.record({ type: fc.constant('path_challenge' as const), data: fixedBytes(8) }),
  fc.record({ type: fc.constant('path_response' as const), data: fixedBytes(8) }),
  fc.record({ type: fc.constant('connection_close' as const), errorCode: varint, frameType: varint, reason: fc.string({ unit: 'grapheme', maxLength: 20 }) }),
  fc.record({ type: fc.constant('application_close' as const), errorCode: varint, reason: fc.string({ unit: 'grapheme', maxLength: 20 }) }),
  fc.constant({ type: 'handshake_done' as const }),
  fc.record({ type: fc.constant('datagram' as const), data: bytes(), hasLength: fc.boolean() }),
);

/** A packet's frames: only the last may omit its Length; adjacent PADDING decodes as one run. */
const packetFrames = fc.array(frame, { minLength: 1, maxLength: 8 }).map((frames) =>
  frames.map((f, i) =>
    (f.type === 'stream' || f.type === 'datagram') && i < frames.length - 1 ? { ...f, hasLength: true } : f,
  ),
);

function mergePadding(frames: Frame[]): Frame[] {
  const out: Frame[] = [];
  for (const f of frames) {
    const last = out[out.length - 1];
    if (f.type === 'padding' && last?.type === 'padding') out[out.length - 1] = { type: 'padding', length: last.length + f.length };
    else out.push(f);
  }
  return out;
}

describe('round trips (RFC 9000 §19, RFC 9221 §4)', () => {
  it('decode(encode(frames)) = frames, and frameLength is exact (property)', () => {
    fc.assert(
      fc.property(packetFrames, (frames) => {
        const encoded = encodeFrames(frames);
        let total = 0;
        for (const f of frames) total += frameLength(f);
        expect(encoded.length).toBe(total);
        expect(parseFrames(encoded, withDatagrams)).toEqual(mergePadding(frames));
      }),
      { numRuns: 500 },
    );
  });

  it('streamFrameLength equals the encoded size of a STREAM frame with a Length field (§19.8, property)', () => {
    const varint = fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: 0, max: 2 ** 52 }));
    fc.assert(
      fc.property(varint, varint, fc.integer({ min: 0, max: 17_000 }), fc.boolean(), (streamId, offset, length, fin) => {
        const frame: Frame = { type: 'stream', streamId, offset, data: new Uint8Array(length), fin };
        const w = new Writer(length + 32);
        encodeFrame(frame, w);
        const encoded = w.finish().length;
        expect(streamFrameLength(streamId, offset, length)).toBe(encoded);
        expect(frameLength(frame)).toBe(encoded);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes one frame at a time, in order (iterateFrames, readFrame)', () => {
    fc.assert(
      fc.property(packetFrames, (frames) => {
        const encoded = encodeFrames(frames);
        expect([...iterateFrames(encoded, withDatagrams)]).toEqual(mergePadding(frames));
        const r = new Reader(encoded);
        const first = readFrame(r, withDatagrams);
        expect(r.offset).toBe(first.type === 'padding' ? first.length : frameLength(first));
      }),
      { numRuns: 200 },
    );
  });

  it('encodes every STREAM type bit combination 0x08–0x0f (§19.8)', () => {
    const data = hex('abcd');
    const seen = new Set<number>();
    for (const offset of [0, 5]) for (const hasLength of [false, true]) for (const fin of [false, true]) {
      const f: Frame = { type: 'stream', streamId: 4, offset, data, fin, hasLength };
      const encoded = encodeFrames([f]);
      seen.add(encoded[0]!);
      expect(parseFrames(encoded)).toEqual([f]);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);
    // OFF set with an explicit zero offset is legal on the wire.
    expect(parseFrames(hex('0c0400abcd'))).toEqual([{ type: 'stream', streamId: 4, offset: 0, data, fin: false, hasLength: false }]);
  });

  it('reports each run of PADDING as one frame, wherever it lies and however long (§19.1)', () => {
    const payload = Buffer.concat([Buffer.alloc(3), hex('01'), Buffer.alloc(70000), hex('01'), Buffer.alloc(1)]);
    expect(parseFrames(payload)).toEqual([
      { type: 'padding', length: 3 }, { type: 'ping' }, { type: 'padding', length: 70000 }, { type: 'ping' }, { type: 'padding', length: 1 },
    ]);
  });

  it('says how much STREAM or CRYPTO data fits in the space left (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20000 }), varint, fc.oneof(fc.constant(0), varint), fc.boolean(), (space, streamId, offset, hasLength) => {
        const stream = (n: number): Frame => ({ type: 'stream', streamId, offset, data: Buffer.alloc(n), fin: false, hasLength });
        const crypto = (n: number): Frame => ({ type: 'crypto', offset, data: Buffer.alloc(n) });
        for (const [capacity, make] of [[streamDataCapacity(space, streamId, offset, hasLength), stream], [cryptoDataCapacity(space, offset), crypto]] as const) {
          if (capacity >= 0) expect(frameLength(make(capacity))).toBeLessThanOrEqual(space);
          expect(frameLength(make(capacity + 1))).toBeGreaterThan(space);
        }
      }),
      { numRuns: 300 },
    );
    expect(streamDataCapacity(66, 0, 0)).toBe(63); // 1 type + 1 id + 1 length + 63
    expect(streamDataCapacity(67, 0, 0)).toBe(63); // 64 would need a 2-byte length
    expect(streamDataCapacity(68, 0, 0)).toBe(64);
    expect(streamDataCapacity(66, 0, 0, false)).toBe(64);
    expect(streamDataCapacity(1, 0, 0)).toBe(-1);
    // 16,386 bytes after the header: 16,384 would need a 4-byte length, but 16,383 fits with 2
    // (seed 330495526 found the first-fit search answering 16,382).
    expect(cryptoDataCapacity(16_391, 16_384)).toBe(16_383);
    expect(streamDataCapacity(1 + 1 + 4 + 16_386, 0, 16_384)).toBe(16_383);
  });

  it('writes known byte layouts', () => {
    expect(encodeFrames([{ type: 'ack', ranges: [[8, 10], [2, 5]], ackDelay: 3, ecn: { ect0: 1, ect1: 2, ce: 3 } }]).toString('hex'))
      .toBe('030a0301020103010203'); // largest 10, delay 3, 1 range, first 2, gap 8-5-2=1, len 3, ECN
    expect(encodeFrames([{ type: 'connection_close', errorCode: 0x0a, frameType: 0x08, reason: 'hi' }]).toString('hex')).toBe('1c0a08026869');
    expect(encodeFrames([{ type: 'application_close', errorCode: 0x100, reason: '' }]).toString('hex')).toBe('1d410000');
    expect(encodeFrames([{ type: 'max_streams', bidi: false, maximum: 100 }]).toString('hex')).toBe('134064');
    expect(encodeFrames([{ type: 'datagram', data: hex('01'), hasLength: false }]).toString('hex')).toBe('3001');
  });

  it('writes into a fixed datagram buffer and refuses to overflow it', () => {
    const w = new Writer(Buffer.alloc(4));
    encodeFrame({ type: 'ping' }, w);
    expect(() => encodeFrame({ type: 'path_challenge', data: Buffer.alloc(8) }, w)).toThrow(RangeError);
  });
});

describe('§19 field rules', () => {
  it('ACK: a range below packet 0 is FRAME_ENCODING_ERROR (§19.3.1)', () => {
    expectTransportError(() => parseFrames(hex('02 05 00 00 06')), FRAME_ENCODING_ERROR, 0x02); // first range 6 > largest 5
    expectTransportError(() => parseFrames(hex('02 05 00 01 02 02 00')), FRAME_ENCODING_ERROR, 0x02); // gap: 3 - 2 - 2 < 0
    expectTransportError(() => parseFrames(hex('02 0a 00 01 02 01 06')), FRAME_ENCODING_ERROR, 0x02); // next largest 5, length 6
    expect(parseFrames(hex('02 0a 00 01 02 01 05'))).toEqual([{ type: 'ack', ranges: [[8, 10], [0, 5]], ackDelay: 0 }]);
  });

  it('ACK: a huge range count cannot allocate past the payload', () => {
    expectTransportError(() => parseFrames(hex('02 05 00 bfffffff 00 00 00')), FRAME_ENCODING_ERROR, 0x02);
  });

  it('STREAM and CRYPTO: offset + length beyond 2^62-1 is FRAME_ENCODING_ERROR (§19.8, §19.6)', () => {
    const maxOffset = Buffer.alloc(8);
    writeVarintBigInt(maxOffset, 0, (1n << 62n) - 1n);
    // Offset 2^62-1 with no data ends exactly at the limit: allowed.
    expect(parseFrames(Buffer.concat([hex('0e00'), maxOffset, hex('00')]))[0]).toMatchObject({ type: 'stream', data: Buffer.alloc(0) });
    expectTransportError(() => parseFrames(Buffer.concat([hex('0e00'), maxOffset, hex('01ff')])), FRAME_ENCODING_ERROR, 0x0e);
    const nearMax = Buffer.alloc(8);
    writeVarintBigInt(nearMax, 0, (1n << 62n) - 2n);
    expect(parseFrames(Buffer.concat([hex('06'), nearMax, hex('01ff')]))[0]).toMatchObject({ type: 'crypto' });
    expectTransportError(() => parseFrames(Buffer.concat([hex('06'), nearMax, hex('02ffff')])), FRAME_ENCODING_ERROR, 0x06);
  });

  it('NEW_TOKEN: an empty token is FRAME_ENCODING_ERROR (§19.7)', () => {
    expectTransportError(() => parseFrames(hex('0700')), FRAME_ENCODING_ERROR, 0x07);
  });

  it('MAX_STREAMS / STREAMS_BLOCKED: above 2^60 is FRAME_ENCODING_ERROR (§19.11, §19.14)', () => {
    const limit = Buffer.alloc(8);
    writeVarintBigInt(limit, 0, 1n << 60n);
    expect(parseFrames(Buffer.concat([hex('12'), limit]))).toEqual([{ type: 'max_streams', bidi: true, maximum: 2 ** 60 }]);
    writeVarintBigInt(limit, 0, (1n << 60n) + 1n);
    for (const type of [0x12, 0x13, 0x16, 0x17]) {
      expectTransportError(() => parseFrames(Buffer.concat([Buffer.of(type), limit])), FRAME_ENCODING_ERROR, type);
    }
  });

  it('NEW_CONNECTION_ID: length 0 or > 20, or Retire Prior To > Sequence, is FRAME_ENCODING_ERROR (§19.15)', () => {
    const token = '00'.repeat(16);
    expect(parseFrames(hex(`18 02 01 04 01020304 ${token}`))[0]).toMatchObject({ type: 'new_connection_id', sequence: 2, retirePriorTo: 1 });
    expectTransportError(() => parseFrames(hex(`18 02 01 00 ${token}`)), FRAME_ENCODING_ERROR, 0x18);
    expectTransportError(() => parseFrames(hex(`18 02 01 15 ${'00'.repeat(21)} ${token}`)), FRAME_ENCODING_ERROR, 0x18);
    expectTransportError(() => parseFrames(hex(`18 02 03 04 01020304 ${token}`)), FRAME_ENCODING_ERROR, 0x18);
    // Exactly, even above 2^53: retire 2^60+1 > sequence 2^60.
    const seq = Buffer.alloc(8);
    const retire = Buffer.alloc(8);
    writeVarintBigInt(seq, 0, 1n << 60n);
    writeVarintBigInt(retire, 0, (1n << 60n) + 1n);
    expectTransportError(() => parseFrames(Buffer.concat([hex('18'), seq, retire, hex(`04 01020304 ${token}`)])), FRAME_ENCODING_ERROR, 0x18);
  });

  it('an unknown frame type is FRAME_ENCODING_ERROR (§12.4)', () => {
    expectTransportError(() => parseFrames(hex('1f')), FRAME_ENCODING_ERROR, 0x1f);
    expectTransportError(() => parseFrames(hex('4040')), FRAME_ENCODING_ERROR, 0x40); // 64, minimally encoded
  });

  it('a frame type not in its shortest encoding is PROTOCOL_VIOLATION (§12.4)', () => {
    expectTransportError(() => parseFrames(hex('4001')), PROTOCOL_VIOLATION, 0x01); // PING as 0x4001
    expectTransportError(() => parseFrames(hex('80000030 01')), PROTOCOL_VIOLATION, 0x30);
  });

  it('a packet with no frames is PROTOCOL_VIOLATION (§12.4)', () => {
    expectTransportError(() => parseFrames(Buffer.alloc(0)), PROTOCOL_VIOLATION);
    expectTransportError(() => [...iterateFrames(Buffer.alloc(0))], PROTOCOL_VIOLATION);
  });

  it('DATAGRAM not negotiated, or larger than advertised, is PROTOCOL_VIOLATION (RFC 9221 §3)', () => {
    expectTransportError(() => parseFrames(hex('3001')), PROTOCOL_VIOLATION, 0x30);
    expect(parseFrames(hex('310201023000'), { maxDatagramFrameSize: 4 })).toHaveLength(2);
    expectTransportError(() => parseFrames(hex('3103010203'), { maxDatagramFrameSize: 4 }), PROTOCOL_VIOLATION, 0x31);
  });

  it('a truncated frame is FRAME_ENCODING_ERROR naming its type', () => {
    const encoded = encodeFrames([{ type: 'new_connection_id', sequence: 1, retirePriorTo: 0, connectionId: hex('0102'), statelessResetToken: Buffer.alloc(16) }]);
    for (let cut = 1; cut < encoded.length; cut++) {
      expectTransportError(() => parseFrames(encoded.subarray(0, cut)), FRAME_ENCODING_ERROR, 0x18);
    }
    expectTransportError(() => parseFrames(hex('1a0102')), FRAME_ENCODING_ERROR, 0x1a);
  });

  it('decodes a CONNECTION_CLOSE reason that is not UTF-8 without throwing (§19.19)', () => {
    expect(parseFrames(hex('1d0002ff41'))).toEqual([{ type: 'application_close', errorCode: 0, reason: '\ufffdA' }]);
  });

  it('gives frames or a TransportError for random bytes, never another throw (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (payload) => {
        try {
          parseFrames(payload, withDatagrams);
        } catch (err) {
          expect(err).toBeInstanceOf(TransportError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives frames or a TransportError for mutated valid payloads (property)', () => {
    fc.assert(
      fc.property(packetFrames, fc.nat(), fc.integer({ min: 0, max: 255 }), (frames, at, value) => {
        const encoded = Buffer.from(encodeFrames(frames));
        encoded[at % encoded.length] = value;
        try {
          parseFrames(encoded, withDatagrams);
        } catch (err) {
          expect(err).toBeInstanceOf(TransportError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('encoder refuses frames the RFC forbids', () => {
  it.each<[string, Frame]>([
    ['empty NEW_TOKEN', { type: 'new_token', token: Buffer.alloc(0) }],
    ['MAX_STREAMS above 2^60', { type: 'max_streams', bidi: true, maximum: 2 ** 60 + 2 ** 10 }],
    ['STREAMS_BLOCKED above 2^60', { type: 'streams_blocked', bidi: false, limit: 2 ** 61 }],
    ['21-byte connection ID', { type: 'new_connection_id', sequence: 1, retirePriorTo: 0, connectionId: Buffer.alloc(21), statelessResetToken: Buffer.alloc(16) }],
    ['Retire Prior To > Sequence', { type: 'new_connection_id', sequence: 1, retirePriorTo: 2, connectionId: Buffer.alloc(4), statelessResetToken: Buffer.alloc(16) }],
    ['short PATH_CHALLENGE', { type: 'path_challenge', data: Buffer.alloc(7) }],
    ['overlapping ACK ranges', { type: 'ack', ranges: [[5, 10], [3, 4]], ackDelay: 0 }],
    ['ACK without ranges', { type: 'ack', ranges: [], ackDelay: 0 }],
    ['empty PADDING', { type: 'padding', length: 0 }],
  ])('%s', (_name, f) => {
    expect(() => encodeFrames([f])).toThrow(RangeError);
  });
});

describe('§12.4 Table 3: where frames may appear', () => {
  const all = ['initial', '0rtt', 'handshake', '1rtt'] as const;
  // Expected letters per frame type, straight from Table 3 (and RFC 9221 for DATAGRAM).
  const table: Array<[number, string]> = [
    [0x00, 'IH01'], [0x01, 'IH01'], [0x02, 'IH_1'], [0x03, 'IH_1'], [0x04, '__01'], [0x05, '__01'], [0x06, 'IH_1'],
    [0x07, '___1'], [0x08, '__01'], [0x0f, '__01'], [0x10, '__01'], [0x11, '__01'], [0x12, '__01'], [0x13, '__01'],
    [0x14, '__01'], [0x15, '__01'], [0x16, '__01'], [0x17, '__01'], [0x18, '__01'], [0x19, '__01'], [0x1a, '__01'],
    [0x1b, '___1'], [0x1c, 'IH01'], [0x1d, '__01'], [0x1e, '___1'], [0x30, '__01'], [0x31, '__01'],
  ];
  const letter = { initial: 'I', handshake: 'H', '0rtt': '0', '1rtt': '1' } as const;

  it.each(table)('frame type %i is allowed in %s', (type, letters) => {
    for (const packetType of all) {
      if (letters.includes(letter[packetType])) expect(() => checkFramePermitted(type, packetType)).not.toThrow();
      else expectTransportError(() => checkFramePermitted(type, packetType), PROTOCOL_VIOLATION, type);
    }
  });

  it('rejects NEW_TOKEN and HANDSHAKE_DONE received by a server (§19.7, §19.20)', () => {
    expectTransportError(() => checkFramePermitted(0x07, '1rtt', 'server'), PROTOCOL_VIOLATION, 0x07);
    expectTransportError(() => checkFramePermitted(0x1e, '1rtt', 'server'), PROTOCOL_VIOLATION, 0x1e);
    expect(() => checkFramePermitted(0x1e, '1rtt', 'client')).not.toThrow();
  });

  it('treats an unknown type as FRAME_ENCODING_ERROR', () => {
    expectTransportError(() => checkFramePermitted(0x21, '1rtt'), FRAME_ENCODING_ERROR);
  });

  it('knows which frames elicit acknowledgments, count in flight and probe (notes N, C, P)', () => {
    expect(isAckEliciting({ type: 'ack', ranges: [[0, 0]], ackDelay: 0 })).toBe(false);
    expect(isAckEliciting({ type: 'padding', length: 3 })).toBe(false);
    expect(isAckEliciting({ type: 'connection_close', errorCode: 0, frameType: 0, reason: '' })).toBe(false);
    expect(isAckEliciting({ type: 'application_close', errorCode: 0, reason: '' })).toBe(false);
    expect(isAckEliciting({ type: 'ping' })).toBe(true);
    expect(isAckEliciting({ type: 'datagram', data: Buffer.alloc(1) })).toBe(true);
    expect(isAckEliciting({ type: 'stream', streamId: 0, offset: 0, data: Buffer.alloc(0), fin: true })).toBe(true);
    expect(countsInFlight(0x02)).toBe(false);
    expect(countsInFlight(0x00)).toBe(true);
    expect(isProbingOnly([{ type: 'path_challenge', data: Buffer.alloc(8) }, { type: 'padding', length: 10 }])).toBe(true);
    expect(isProbingOnly([{ type: 'path_challenge', data: Buffer.alloc(8) }, { type: 'ping' }])).toBe(false);
    expect(frameTypeRules(0x0b)?.notes).toBe('F');
    expect(frameTypeOf({ type: 'stream', streamId: 0, offset: 1, data: Buffer.alloc(0), fin: true })).toBe(0x0f);
  });
});
