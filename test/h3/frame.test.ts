import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H3Error, H3ErrorCode } from '../../src/h3/errors.js';
import {
  FrameReader,
  FrameType,
  encodeFrame,
  encodeFrameHeader,
  encodeSettingsFrame,
  encodeUniStreamHeader,
  isReservedFrameType,
  readUniStreamHeader,
  type Frame,
  type FrameStreamKind,
} from '../../src/h3/frame.js';
import { DEFAULT_SETTINGS } from '../../src/h3/settings.js';
import { encodeVarint } from '../../src/h3/varint.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Feeds every chunk to the reader, then ends the stream. */
function readAll(reader: FrameReader, chunks: Uint8Array[]): Frame[] {
  const out: Frame[] = [];
  for (const chunk of chunks) {
    for (const frame of reader.push(chunk)) out.push(frame);
  }
  reader.end();
  return out;
}

/** Joins consecutive DATA pieces, so that results of different splits compare equal. */
function mergeData(frames: Frame[]): Frame[] {
  // DATA pieces carry no frame boundary, so compare the concatenated body plus the other frames.
  const out: Frame[] = [];
  let body: Buffer[] = [];
  const flush = () => {
    if (body.length) out.push({ type: 'data', data: Buffer.concat(body) });
    body = [];
  };
  for (const f of frames) {
    if (f.type === 'data') body.push(Buffer.from(f.data));
    else {
      flush();
      out.push(normalize(f));
    }
  }
  flush();
  return out;
}

function normalize(f: Frame): Frame {
  if (f.type === 'headers') return { type: 'headers', fieldSection: Buffer.from(f.fieldSection) };
  if (f.type === 'push_promise') return { ...f, fieldSection: Buffer.from(f.fieldSection) };
  return f;
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** Every code the frame reader may raise on bad input. */
const FRAME_READER_CODES: number[] = [
  H3ErrorCode.H3_FRAME_UNEXPECTED,
  H3ErrorCode.H3_FRAME_ERROR,
  H3ErrorCode.H3_EXCESSIVE_LOAD,
  H3ErrorCode.H3_SETTINGS_ERROR,
  H3ErrorCode.H3_MISSING_SETTINGS,
  H3ErrorCode.H3_ID_ERROR,
  H3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
];

function expectH3Error(fn: () => unknown, code: number): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H3Error);
    expect((err as H3Error).code).toBe(code);
    return;
  }
  throw new Error('expected an H3Error');
}

describe('frame encoding (RFC 9114 §7.2)', () => {
  it('encodes each frame type byte for byte', () => {
    expect(encodeFrame({ type: 'data', data: Buffer.from('abc') }).toString('hex')).toBe('0003616263');
    expect(encodeFrame({ type: 'headers', fieldSection: hex('0000d1') }).toString('hex')).toBe('01030000d1');
    expect(encodeFrame({ type: 'cancel_push', pushId: 3 }).toString('hex')).toBe('030103');
    expect(encodeFrame({ type: 'goaway', id: 0x1234 }).toString('hex')).toBe('07025234');
    expect(encodeFrame({ type: 'max_push_id', pushId: 100 }).toString('hex')).toBe('0d024064');
    expect(encodeFrame({ type: 'push_promise', pushId: 1, fieldSection: hex('0000') }).toString('hex')).toBe('0503010000');
    // Settings 0x01=4096, 0x07=16 (only non-defaults are sent).
    const settings = encodeSettingsFrame({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 16 });
    expect(settings.toString('hex')).toBe('0405' + '01' + '5000' + '07' + '10');
    expect(encodeFrameHeader(FrameType.DATA, 16384).toString('hex')).toBe('00' + '80004000');
  });

  it('adds a grease setting when asked and refuses a non-reserved grease id', () => {
    const frame = encodeSettingsFrame({}, { grease: { id: 0x21, value: 7 } });
    expect(frame.toString('hex')).toBe('0402' + '2107');
    expect(() => encodeSettingsFrame({}, { grease: { id: 0x22, value: 7 } })).toThrow(RangeError);
  });
});

describe('FrameReader', () => {
  it('reads a request stream: HEADERS, DATA in pieces, trailers', () => {
    const reader = new FrameReader({ stream: 'request' });
    const bytes = Buffer.concat([
      encodeFrame({ type: 'headers', fieldSection: hex('0000d1') }),
      encodeFrame({ type: 'data', data: Buffer.from('hello world') }),
      encodeFrame({ type: 'headers', fieldSection: hex('0000') }),
    ]);
    // Cut inside the DATA payload: the first part is handed out before the frame is complete.
    const first = reader.push(bytes.subarray(0, 10));
    expect(first.map((f) => f.type)).toEqual(['headers', 'data']);
    expect(Buffer.from((first[1] as { data: Uint8Array }).data).toString()).toBe('hel');
    // Pieces are views of the pushed chunk, not copies.
    expect((first[1] as { data: Uint8Array }).data.buffer).toBe(bytes.buffer);
    const rest = reader.push(bytes.subarray(10));
    expect(rest.map((f) => f.type)).toEqual(['data', 'headers']);
    expect(Buffer.from((rest[0] as { data: Uint8Array }).data).toString()).toBe('lo world');
    reader.end();
  });

  it('skips reserved and unknown frame types without buffering them', () => {
    expect(isReservedFrameType(0x21)).toBe(true);
    expect(isReservedFrameType(0x21 + 0x1f * 1000)).toBe(true);
    expect(isReservedFrameType(0x22)).toBe(false);
    const reader = new FrameReader({ stream: 'request', maxFieldSectionBytes: 10 });
    const big = Buffer.concat([encodeFrameHeader(0x21 + 0x1f * 3, 100_000), Buffer.alloc(100_000)]);
    const unknown = Buffer.concat([encodeFrameHeader(0x2f00, 3), hex('010203')]);
    const frames = readAll(reader, [big, unknown, encodeFrame({ type: 'headers', fieldSection: hex('0000') })]);
    expect(frames.map((f) => f.type)).toEqual(['headers']);
  });

  it('hands out an empty DATA frame as one empty piece', () => {
    const frames = readAll(new FrameReader({ stream: 'request' }), [hex('01020000'), hex('0000')]);
    expect(frames).toHaveLength(2);
    expect(frames[1]!.type).toBe('data');
    expect((frames[1] as { data: Uint8Array }).data.length).toBe(0);
  });

  it('rejects HTTP/2-only frame types on every stream (RFC 9114 §7.2.8)', () => {
    for (const type of [0x02, 0x06, 0x08, 0x09]) {
      for (const stream of ['request', 'push'] as const) {
        expectH3Error(() => new FrameReader({ stream }).push(hex(`${type.toString(16).padStart(2, '0')}00`)), H3ErrorCode.H3_FRAME_UNEXPECTED);
      }
      const control = new FrameReader({ stream: 'control' });
      control.push(encodeSettingsFrame({}));
      expectH3Error(() => control.push(hex(`0${type}00`)), H3ErrorCode.H3_FRAME_UNEXPECTED);
    }
  });

  it('requires SETTINGS first on the control stream, once (RFC 9114 §6.2.1, §7.2.4)', () => {
    expectH3Error(() => new FrameReader({ stream: 'control' }).push(encodeFrame({ type: 'goaway', id: 0 })), H3ErrorCode.H3_MISSING_SETTINGS);
    expectH3Error(() => new FrameReader({ stream: 'control' }).push(hex('2100')), H3ErrorCode.H3_MISSING_SETTINGS);
    const reader = new FrameReader({ stream: 'control' });
    const frames = reader.push(encodeSettingsFrame({ qpackMaxTableCapacity: 100 }));
    expect(frames).toEqual([{ type: 'settings', settings: { ...DEFAULT_SETTINGS, qpackMaxTableCapacity: 100 } }]);
    expect(reader.push(encodeFrame({ type: 'goaway', id: 4 }))).toEqual([{ type: 'goaway', id: 4 }]);
    expectH3Error(() => reader.push(encodeSettingsFrame({})), H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('treats the end of a control stream as H3_CLOSED_CRITICAL_STREAM (RFC 9114 §6.2.1)', () => {
    const reader = new FrameReader({ stream: 'control' });
    reader.push(encodeSettingsFrame({}));
    expectH3Error(() => reader.end(), H3ErrorCode.H3_CLOSED_CRITICAL_STREAM);
  });

  // RFC 9114 Appendix A.2, Table 1: which frame is allowed on which stream.
  const table: [string, Frame, Record<FrameStreamKind, boolean>][] = [
    ['DATA', { type: 'data', data: hex('00') }, { control: false, request: true, push: true }],
    ['HEADERS', { type: 'headers', fieldSection: hex('0000') }, { control: false, request: true, push: true }],
    ['CANCEL_PUSH', { type: 'cancel_push', pushId: 1 }, { control: true, request: false, push: false }],
    ['PUSH_PROMISE', { type: 'push_promise', pushId: 1, fieldSection: hex('0000') }, { control: false, request: true, push: false }],
    ['GOAWAY', { type: 'goaway', id: 0 }, { control: true, request: false, push: false }],
    ['MAX_PUSH_ID', { type: 'max_push_id', pushId: 1 }, { control: true, request: false, push: false }],
  ];
  for (const [name, frame, allowed] of table) {
    it(`allows ${name} only where Table 1 says so`, () => {
      for (const stream of ['control', 'request', 'push'] as const) {
        const reader = new FrameReader({ stream });
        if (stream === 'control') reader.push(encodeSettingsFrame({}));
        else reader.push(encodeFrame({ type: 'headers', fieldSection: hex('0000') }));
        const run = () => reader.push(encodeFrame(frame));
        if (allowed[stream]) expect(run()).toHaveLength(1);
        else expectH3Error(run, H3ErrorCode.H3_FRAME_UNEXPECTED);
      }
    });
  }

  it('applies client-only and server-only rules when the receiver is known', () => {
    const server = new FrameReader({ stream: 'request', receiver: 'server' });
    expectH3Error(() => server.push(encodeFrame({ type: 'push_promise', pushId: 0, fieldSection: hex('0000') })), H3ErrorCode.H3_FRAME_UNEXPECTED);
    const client = new FrameReader({ stream: 'control', receiver: 'client' });
    client.push(encodeSettingsFrame({}));
    expectH3Error(() => client.push(encodeFrame({ type: 'max_push_id', pushId: 1 })), H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('requires a request stream ID in a GOAWAY received by a client (RFC 9114 §7.2.6)', () => {
    const client = new FrameReader({ stream: 'control', receiver: 'client' });
    client.push(encodeSettingsFrame({}));
    expect(client.push(encodeFrame({ type: 'goaway', id: 8 }))).toEqual([{ type: 'goaway', id: 8 }]);
    expectH3Error(() => client.push(encodeFrame({ type: 'goaway', id: 2 })), H3ErrorCode.H3_ID_ERROR);
    // A server receives a push ID, which may be any number.
    const server = new FrameReader({ stream: 'control', receiver: 'server' });
    server.push(encodeSettingsFrame({}));
    expect(server.push(encodeFrame({ type: 'goaway', id: 3 }))).toEqual([{ type: 'goaway', id: 3 }]);
  });

  it('reads 8-byte type and length varints split byte by byte', () => {
    const type = 0x21 + 0x1f * 2 ** 40; // reserved, 8-byte varint
    const bytes = Buffer.concat([
      encodeFrameHeader(type, 3),
      hex('010203'),
      hex('01c0000000000000020000'), // HEADERS with an 8-byte length of 2
    ]);
    const reader = new FrameReader({ stream: 'request' });
    const out: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...reader.push(bytes.subarray(i, i + 1)));
    reader.end();
    expect(out.map(normalize)).toEqual([{ type: 'headers', fieldSection: hex('0000') }]);
  });

  it('checks the order of the frames of a message (RFC 9114 §4.1)', () => {
    const headers = encodeFrame({ type: 'headers', fieldSection: hex('0000') });
    const data = encodeFrame({ type: 'data', data: hex('61') });
    const read = (...frames: Buffer[]) => () => readAll(new FrameReader({ stream: 'request' }), frames);
    expectH3Error(read(data), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(read(headers, data, headers, data), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(read(headers, data, headers, headers), H3ErrorCode.H3_FRAME_UNEXPECTED);
    // Interim responses: HEADERS, HEADERS, DATA, trailing HEADERS. Unknown frames do not count.
    expect(read(headers, headers, hex('2100'), data, data, headers)().map((f) => f.type)).toEqual(['headers', 'headers', 'data', 'data', 'headers']);
    const push = new FrameReader({ stream: 'push' });
    expectH3Error(() => push.push(data), H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('rejects malformed payloads with H3_FRAME_ERROR (RFC 9114 §7.1)', () => {
    const control = () => {
      const r = new FrameReader({ stream: 'control' });
      r.push(encodeSettingsFrame({}));
      return r;
    };
    // GOAWAY with a trailing byte after its varint.
    expectH3Error(() => control().push(hex('0702' + '0400')), H3ErrorCode.H3_FRAME_ERROR);
    // MAX_PUSH_ID whose varint claims 2 bytes in a 1-byte payload.
    expectH3Error(() => control().push(hex('0d01' + '40')), H3ErrorCode.H3_FRAME_ERROR);
    // CANCEL_PUSH with an empty payload, and with a 9-byte payload.
    expectH3Error(() => control().push(hex('0300')), H3ErrorCode.H3_FRAME_ERROR);
    expectH3Error(() => control().push(hex('0309' + '00'.repeat(9))), H3ErrorCode.H3_FRAME_ERROR);
    // SETTINGS that ends inside a setting.
    expectH3Error(() => new FrameReader({ stream: 'control' }).push(hex('0401' + '01')), H3ErrorCode.H3_FRAME_ERROR);
    // PUSH_PROMISE ending inside its push ID.
    expectH3Error(() => new FrameReader({ stream: 'request' }).push(hex('0501' + '40')), H3ErrorCode.H3_FRAME_ERROR);
    // A stream that ends inside a frame header or payload.
    const truncated = new FrameReader({ stream: 'request' });
    truncated.push(hex('01020000' + '0005' + '6162'));
    expectH3Error(() => truncated.end(), H3ErrorCode.H3_FRAME_ERROR);
    const inHeader = new FrameReader({ stream: 'request' });
    inHeader.push(hex('01'));
    expectH3Error(() => inHeader.end(), H3ErrorCode.H3_FRAME_ERROR);
  });

  it('limits buffered frames with H3_EXCESSIVE_LOAD before reading their payload', () => {
    const reader = new FrameReader({ stream: 'request', maxFieldSectionBytes: 100 });
    expectH3Error(() => reader.push(encodeFrameHeader(FrameType.HEADERS, 101)), H3ErrorCode.H3_EXCESSIVE_LOAD);
    const control = new FrameReader({ stream: 'control', maxSettingsBytes: 10 });
    expectH3Error(() => control.push(encodeFrameHeader(FrameType.SETTINGS, 11)), H3ErrorCode.H3_EXCESSIVE_LOAD);
  });

  it('rejects bad SETTINGS (RFC 9114 §7.2.4.1)', () => {
    const settings = (payload: string) => () => new FrameReader({ stream: 'control' }).push(Buffer.concat([encodeFrameHeader(4, payload.length / 2), hex(payload)]));
    expectH3Error(settings('0101' + '0102'), H3ErrorCode.H3_SETTINGS_ERROR); // duplicate
    for (const h2 of ['00', '02', '03', '04', '05']) expectH3Error(settings(h2 + '01'), H3ErrorCode.H3_SETTINGS_ERROR);
    expectH3Error(settings('0802'), H3ErrorCode.H3_SETTINGS_ERROR); // ENABLE_CONNECT_PROTOCOL = 2
    expectH3Error(settings('4033' + '02'), H3ErrorCode.H3_SETTINGS_ERROR); // H3_DATAGRAM = 2
    // Grease and unknown settings are ignored; known ones are read.
    const [frame] = settings('2105' + '4040' + '07' + '0801' + '4033' + '01' + '0640ff')();
    expect(frame).toEqual({
      type: 'settings',
      settings: { qpackMaxTableCapacity: 0, maxFieldSectionSize: 0xff, qpackBlockedStreams: 0, enableConnectProtocol: true, h3Datagram: true },
    });
  });

  const headersArb = fc.uint8Array({ maxLength: 300 }).map((d): Frame => ({ type: 'headers', fieldSection: Buffer.from(d) }));
  const bodyFrameArb: fc.Arbitrary<Frame> = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((d): Frame => ({ type: 'data', data: Buffer.from(d) })),
    fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 50 })).map(([pushId, d]): Frame => ({ type: 'push_promise', pushId, fieldSection: Buffer.from(d) })),
  );
  /** A message as RFC 9114 §4.1 orders it: HEADERS, DATA (and PUSH_PROMISE) frames, maybe trailers. */
  const messageArb = fc
    .tuple(headersArb, fc.array(bodyFrameArb, { maxLength: 6 }), fc.option(headersArb))
    .map(([headers, body, trailers]) => [headers, ...body, ...(trailers ? [trailers] : [])]);

  it('reads the same frames whatever the split (property)', () => {
    fc.assert(
      fc.property(messageArb, fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map(encodeFrame));
        const whole = mergeData(readAll(new FrameReader({ stream: 'request' }), [bytes]));
        const split = mergeData(readAll(new FrameReader({ stream: 'request' }), splitAt(bytes, cuts)));
        expect(split).toEqual(whole);
        expect(whole).toEqual(mergeData(frames.map(normalize)));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips control frames split byte by byte (property)', () => {
    const controlArb: fc.Arbitrary<Frame> = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 53 - 1 }).map((pushId) => ({ type: 'cancel_push' as const, pushId })),
      fc.integer({ min: 0, max: 2 ** 53 - 1 }).map((id) => ({ type: 'goaway' as const, id })),
      fc.integer({ min: 0, max: 2 ** 30 }).map((pushId) => ({ type: 'max_push_id' as const, pushId })),
    );
    fc.assert(
      fc.property(fc.array(controlArb, { maxLength: 6 }), (frames) => {
        const bytes = Buffer.concat([encodeSettingsFrame({ maxFieldSectionSize: 1000 }), ...frames.map(encodeFrame)]);
        const reader = new FrameReader({ stream: 'control' });
        const out: Frame[] = [];
        for (let i = 0; i < bytes.length; i++) out.push(...reader.push(bytes.subarray(i, i + 1)));
        expect(reader.atFrameBoundary).toBe(true);
        expect(out.slice(1)).toEqual(frames);
      }),
      { numRuns: 200 },
    );
  });

  it('gives random bytes a frame or an H3Error, never another throw (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<FrameStreamKind>('control', 'request', 'push'), fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 5 }), (stream, bytes, cuts) => {
        const reader = new FrameReader({ stream, maxFieldSectionBytes: 1000, maxSettingsBytes: 1000 });
        try {
          for (const chunk of splitAt(Buffer.from(bytes), cuts)) reader.push(chunk);
          reader.end();
        } catch (err) {
          expect(err).toBeInstanceOf(H3Error);
          expect(FRAME_READER_CODES).toContain((err as H3Error).code);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('unidirectional stream header (RFC 9114 §6.2)', () => {
  it('classifies stream types and reads the push ID of push streams', () => {
    expect(readUniStreamHeader(hex('00'))).toEqual({ kind: 'control', type: 0, length: 1 });
    expect(readUniStreamHeader(hex('02'))).toMatchObject({ kind: 'qpack-encoder' });
    expect(readUniStreamHeader(hex('03'))).toMatchObject({ kind: 'qpack-decoder' });
    expect(readUniStreamHeader(hex('01'))).toBeNull();
    expect(readUniStreamHeader(hex('014005'))).toEqual({ kind: 'push', type: 1, pushId: 5, length: 3 });
    expect(readUniStreamHeader(hex('21'))).toMatchObject({ kind: 'reserved' });
    expect(readUniStreamHeader(encodeVarint(0x21 + 0x1f * 77))).toMatchObject({ kind: 'reserved' });
    expect(readUniStreamHeader(hex('04'))).toMatchObject({ kind: 'unknown' });
    expect(readUniStreamHeader(hex('40'))).toBeNull();
    expect(encodeUniStreamHeader(1, 5).toString('hex')).toBe('0105');
    expect(encodeUniStreamHeader(3).toString('hex')).toBe('03');
  });
});
