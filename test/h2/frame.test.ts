import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CONNECTION_PREFACE,
  FrameDecoder,
  checkPriority,
  decodeFrame,
  encodeDataFrame,
  encodeFrame,
  encodeHeadersBlock,
  encodePushPromiseBlock,
  type Frame,
} from '../../src/h2/frame.js';
import { ErrorCode, H2Error } from '../../src/h2/errors.js';

const MAX_ID = 2 ** 31 - 1;
const streamId = fc.integer({ min: 1, max: MAX_ID });
const anyId = fc.integer({ min: 0, max: MAX_ID });
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const bytes = (maxLength = 64) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const padLength = fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined });
const priority = fc.record({ exclusive: fc.boolean(), dependency: anyId, weight: fc.integer({ min: 1, max: 256 }) });
const withPad = <T extends object>(frame: T, pad: number | undefined): T => (pad === undefined ? frame : { ...frame, padLength: pad });

/** Every frame type, in the canonical form the decoder produces. */
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.tuple(streamId, fc.boolean(), bytes(), padLength).map(([id, endStream, data, pad]) =>
    withPad({ type: 'DATA' as const, streamId: id, endStream, data }, pad)),
  fc.tuple(streamId, fc.boolean(), fc.boolean(), fc.option(priority, { nil: undefined }), bytes(), padLength).map(
    ([id, endStream, endHeaders, prio, fragment, pad]) =>
      withPad({ type: 'HEADERS' as const, streamId: id, endStream, endHeaders, ...(prio && { priority: prio }), fragment }, pad)),
  fc.tuple(streamId, priority).filter(([id, p]) => p.dependency !== id).map(([id, p]) => ({ type: 'PRIORITY' as const, streamId: id, priority: p })),
  fc.tuple(streamId, u32).map(([id, errorCode]) => ({ type: 'RST_STREAM' as const, streamId: id, errorCode })),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), u32), { maxLength: 8 }).map((settings) => ({ type: 'SETTINGS' as const, streamId: 0 as const, ack: false, settings })),
  fc.constant<Frame>({ type: 'SETTINGS', streamId: 0, ack: true, settings: [] }),
  fc.tuple(streamId, fc.boolean(), anyId, bytes(), padLength).map(([id, endHeaders, promisedStreamId, fragment, pad]) =>
    withPad({ type: 'PUSH_PROMISE' as const, streamId: id, endHeaders, promisedStreamId, fragment }, pad)),
  fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([ack, d]) => ({ type: 'PING' as const, streamId: 0 as const, ack, opaqueData: Buffer.from(d) })),
  fc.tuple(anyId, u32, bytes()).map(([lastStreamId, errorCode, debugData]) => ({ type: 'GOAWAY' as const, streamId: 0 as const, lastStreamId, errorCode, debugData })),
  fc.tuple(anyId, anyId).map(([id, increment]) => ({ type: 'WINDOW_UPDATE' as const, streamId: id, increment })),
  fc.tuple(streamId, fc.boolean(), bytes()).map(([id, endHeaders, fragment]) => ({ type: 'CONTINUATION' as const, streamId: id, endHeaders, fragment })),
  fc.tuple(streamId, fc.string({ maxLength: 20 })).map(([prioritizedStreamId, fieldValue]) => ({ type: 'PRIORITY_UPDATE' as const, streamId: 0 as const, prioritizedStreamId, fieldValue })),
  fc.tuple(fc.integer({ min: 0x11, max: 0xff }), anyId, fc.integer({ min: 0, max: 255 }), bytes()).map(([frameType, id, flags, payload]) =>
    ({ type: 'UNKNOWN' as const, frameType, streamId: id, flags, payload })),
);

function decodeAll(input: Uint8Array[], options?: ConstructorParameters<typeof FrameDecoder>[0]): Frame[] {
  const decoder = new FrameDecoder(options);
  const out: Frame[] = [];
  for (const chunk of input) {
    decoder.push(chunk);
    for (const frame of decoder.frames()) out.push(frame);
  }
  expect(decoder.bufferedBytes).toBe(0);
  return out;
}

/** Decodes hex `header ‖ payload` and returns the error it throws. */
function errorOf(hex: string): H2Error {
  const decoder = new FrameDecoder();
  decoder.push(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
  try {
    decoder.next();
  } catch (error) {
    expect(error).toBeInstanceOf(H2Error);
    return error as H2Error;
  }
  throw new Error('expected an error');
}

describe('frame codec round trip', () => {
  it('decode(encode(frame)) = frame for every frame type', () => {
    fc.assert(fc.property(frameArb, (frame) => {
      expect(decodeAll([encodeFrame(frame)])).toEqual([frame]);
    }), { numRuns: 500 });
  });

  it('is split-invariant: any split of a frame sequence yields the same frames', () => {
    const input = fc.array(frameArb, { minLength: 1, maxLength: 6 }).chain((frames) => {
      const whole = Buffer.concat(frames.map(encodeFrame));
      return fc.tuple(fc.constant(frames), fc.constant(whole), fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, whole.length - 1) }), { maxLength: 12 }));
    });
    fc.assert(fc.property(input, ([frames, whole, cuts]) => {
      const points = [0, ...cuts.filter((c) => c < whole.length).sort((a, b) => a - b), whole.length];
      const chunks = points.slice(1).map((end, i) => whole.subarray(points[i], end));
      expect(decodeAll(chunks)).toEqual(frames);
    }), { numRuns: 300 });
  });

  it('random bytes give frames or an H2Error, never another exception', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), fc.boolean(), (chunks, preface) => {
      const decoder = new FrameDecoder({ expectPreface: preface });
      for (const chunk of chunks) {
        decoder.push(chunk);
        for (;;) {
          try {
            if (!decoder.next()) break;
          } catch (error) {
            if (!(error instanceof H2Error)) throw error;
            if (error.scope === 'connection') return;
          }
        }
      }
    }), { numRuns: 500 });
  });

  it('returns payloads as views into the received chunk (no copy) when a frame fits in it', () => {
    const wire = encodeFrame({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.from('hello') });
    const [frame] = decodeAll([wire]);
    expect(frame!.type === 'DATA' && frame.data.buffer).toBe(wire.buffer);
  });
});

describe('frame layout (RFC 9113 §4.1, §6)', () => {
  it('writes the 9-octet header: length, type, flags, reserved bit clear', () => {
    const wire = encodeFrame({ type: 'HEADERS', streamId: 3, endStream: true, endHeaders: true, fragment: Buffer.from([0x82]) });
    expect(wire.toString('hex')).toBe('000001' + '01' + '05' + '00000003' + '82');
  });

  it('ignores the reserved bit and unknown flags on receipt (§4.1)', () => {
    const [frame] = decodeAll([Buffer.from('000000' + '00' + 'f6' + '80000001', 'hex')]);
    expect(frame).toEqual({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.alloc(0) });
  });

  it('encodes padded DATA with zero padding and the PADDED flag (§6.1)', () => {
    const wire = encodeFrame({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.from('ab'), padLength: 2 });
    expect(wire.toString('hex')).toBe('000005' + '00' + '08' + '00000001' + '02' + '6162' + '0000');
  });

  it('HEADERS with priority: E bit, dependency and weight-1 on the wire (§6.2)', () => {
    const frame: Frame = { type: 'HEADERS', streamId: 5, endStream: false, endHeaders: true, priority: { exclusive: true, dependency: 3, weight: 256 }, fragment: Buffer.from([0x82]) };
    const wire = encodeFrame(frame);
    expect(wire.toString('hex')).toBe('000006' + '01' + '24' + '00000005' + '80000003' + 'ff' + '82');
    expect(decodeAll([wire])).toEqual([frame]);
  });

  it('decodes an unknown frame type as UNKNOWN (§4.1, §5.5)', () => {
    const [frame] = decodeAll([Buffer.from('000002' + 'fa' + '07' + '00000009' + 'beef', 'hex')]);
    expect(frame).toEqual({ type: 'UNKNOWN', frameType: 0xfa, streamId: 9, flags: 7, payload: Buffer.from('beef', 'hex') });
  });

  it('PRIORITY_UPDATE (RFC 9218 §7.1)', () => {
    const wire = encodeFrame({ type: 'PRIORITY_UPDATE', streamId: 0, prioritizedStreamId: 5, fieldValue: 'u=1, i' });
    expect(wire.toString('hex')).toBe('00000a' + '10' + '00' + '00000000' + '00000005' + Buffer.from('u=1, i').toString('hex'));
  });

  it('encodeDataFrame pieces concatenate to encodeFrame and keep the payload uncopied', () => {
    fc.assert(fc.property(streamId, bytes(100), fc.boolean(), padLength, (id, data, endStream, pad) => {
      const pieces = encodeDataFrame(id, data, { endStream, ...(pad !== undefined && { padLength: pad }) });
      expect(Buffer.concat(pieces)).toEqual(encodeFrame(withPad({ type: 'DATA', streamId: id, endStream, data }, pad)));
      if (data.length > 0) expect(pieces[1]).toBe(data);
    }), { numRuns: 200 });
  });

  it('splits a field block into HEADERS/PUSH_PROMISE + CONTINUATION within the frame size (§4.3)', () => {
    fc.assert(fc.property(streamId, bytes(200), fc.integer({ min: 8, max: 40 }), fc.boolean(), (id, block, max, push) => {
      const wire = push ? encodePushPromiseBlock(id, 2, block, max) : encodeHeadersBlock(id, block, { maxFrameSize: max, endStream: true });
      // Decoding with maxFrameSize = max proves no frame exceeds it.
      const frames = decodeAll([wire], { maxFrameSize: max });
      const parts: Uint8Array[] = [];
      frames.forEach((frame, i) => {
        expect(frame.type).toBe(i === 0 ? (push ? 'PUSH_PROMISE' : 'HEADERS') : 'CONTINUATION');
        if (frame.type === 'HEADERS' || frame.type === 'PUSH_PROMISE' || frame.type === 'CONTINUATION') {
          expect(frame.endHeaders).toBe(i === frames.length - 1);
          parts.push(frame.fragment);
        }
      });
      expect(Buffer.concat(parts)).toEqual(block);
    }), { numRuns: 200 });
  });
});

describe('frame rules: errors with code, scope and section', () => {
  const cases: Array<[string, string, number, 'connection' | 'stream', string]> = [
    ['DATA on stream 0', '000000 00 00 00000000', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.1'],
    ['DATA pad length = payload length', '000002 00 08 00000001 02 00', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.1'],
    ['DATA pad length > payload length', '000001 00 08 00000001 05', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.1'],
    ['padded DATA without a Pad Length', '000000 00 08 00000001', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§4.2'],
    ['HEADERS on stream 0', '000001 01 04 00000000 82', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.2'],
    ['HEADERS padding too long', '000003 01 0c 00000001 03 82 00', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.2'],
    ['HEADERS too short for priority', '000003 01 24 00000001 000000', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§4.2'],
    ['PRIORITY on stream 0', '000005 02 00 00000000 0000000110', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.3'],
    ['PRIORITY length 4', '000004 02 00 00000001 00000000', ErrorCode.FRAME_SIZE_ERROR, 'stream', '§6.3'],
    ['PRIORITY depends on itself', '000005 02 00 00000003 0000000310', ErrorCode.PROTOCOL_ERROR, 'stream', '§5.3.1'],
    ['RST_STREAM on stream 0', '000004 03 00 00000000 00000008', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.4'],
    ['RST_STREAM length 3', '000003 03 00 00000001 000008', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§6.4'],
    ['SETTINGS on stream 1', '000000 04 00 00000001', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.5'],
    ['SETTINGS length 5', '000005 04 00 00000000 0001000010', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§6.5'],
    ['SETTINGS ACK with payload', '000006 04 01 00000000 000100001000', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§6.5'],
    ['PUSH_PROMISE on stream 0', '000004 05 04 00000000 00000002', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.6'],
    ['PUSH_PROMISE without promised id', '000003 05 04 00000001 000000', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§4.2'],
    ['PUSH_PROMISE padding too long', '000005 05 0c 00000001 05 00000002', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.6'],
    ['PING on stream 1', '000008 06 00 00000001 0000000000000000', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.7'],
    ['PING length 7', '000007 06 00 00000000 00000000000000', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§6.7'],
    ['GOAWAY on stream 1', '000008 07 00 00000001 0000000000000000', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.8'],
    ['GOAWAY length 7', '000007 07 00 00000000 00000000000000', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§6.8'],
    ['WINDOW_UPDATE length 3', '000003 08 00 00000001 000001', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§6.9'],
    ['WINDOW_UPDATE length 5', '000005 08 00 00000000 0000000001', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§6.9'],
    ['CONTINUATION on stream 0', '000001 09 04 00000000 82', ErrorCode.PROTOCOL_ERROR, 'connection', '§6.10'],
    ['PRIORITY_UPDATE on stream 1', '000004 10 00 00000001 00000001', ErrorCode.PROTOCOL_ERROR, 'connection', 'RFC 9218 §7.1'],
    ['PRIORITY_UPDATE length 3', '000003 10 00 00000000 000001', ErrorCode.FRAME_SIZE_ERROR, 'connection', 'RFC 9218 §7.1'],
    ['PRIORITY_UPDATE for stream 0', '000004 10 00 00000000 00000000', ErrorCode.PROTOCOL_ERROR, 'connection', 'RFC 9218 §7.1'],
    ['frame above SETTINGS_MAX_FRAME_SIZE', '004001 00 00 00000001', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§4.2'],
    ['unknown type above SETTINGS_MAX_FRAME_SIZE', '004001 ee 00 00000001', ErrorCode.FRAME_SIZE_ERROR, 'connection', '§4.2'],
  ];
  it.each(cases)('%s', (_name, hex, code, scope, section) => {
    const error = errorOf(hex);
    expect(error.code).toBe(code);
    expect(error.scope).toBe(scope);
    expect(error.section).toContain(section);
    if (scope === 'stream') expect(error.streamId).toBeGreaterThan(0);
  });

  it('refuses an oversized frame from its header alone, before the payload arrives (§4.2)', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 16384 });
    decoder.push(Buffer.from('ffffff00000000000001', 'hex'));
    expect(() => decoder.next()).toThrow(H2Error);
  });

  it('accepts frames up to a raised maxFrameSize', () => {
    const data = Buffer.alloc(20000, 7);
    const frames = decodeAll([encodeFrame({ type: 'DATA', streamId: 1, endStream: false, data })], { maxFrameSize: 20000 });
    expect(frames).toHaveLength(1);
  });

  it('goes on after a stream error: the faulty frame is consumed', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from('000004 02 00 00000001 00000000'.replace(/ /g, ''), 'hex'));
    decoder.push(encodeFrame({ type: 'PING', streamId: 0, ack: false, opaqueData: Buffer.alloc(8) }));
    expect(() => decoder.next()).toThrow(expect.objectContaining({ scope: 'stream', streamId: 1 }));
    expect(decoder.next()?.type).toBe('PING');
  });

  it('stays failed after a connection error', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from('000000040000000001', 'hex'));
    expect(() => decoder.next()).toThrow(H2Error);
    decoder.push(encodeFrame({ type: 'SETTINGS', streamId: 0, ack: true, settings: [] }));
    expect(() => decoder.next()).toThrow(H2Error);
  });

  it('HEADERS depending on itself decodes (its block must reach HPACK); checkPriority then refuses it', () => {
    const [frame] = decodeAll([Buffer.from('000006 01 24 00000003 00000003 0f 82'.replace(/ /g, ''), 'hex')]);
    expect(frame).toMatchObject({ type: 'HEADERS', priority: { dependency: 3 } });
    if (frame?.type !== 'HEADERS') throw new Error('expected HEADERS');
    expect(() => checkPriority(frame.streamId, frame.priority!)).toThrow(expect.objectContaining({ code: ErrorCode.PROTOCOL_ERROR, scope: 'stream', streamId: 3 }));
    expect(() => checkPriority(5, frame.priority!)).not.toThrow();
  });

  it('decodeFrame alone applies the same rules', () => {
    expect(() => decodeFrame({ length: 7, type: 6, flags: 0, streamId: 0 }, Buffer.alloc(7))).toThrow(H2Error);
  });
});

describe('connection preface (RFC 9113 §3.4)', () => {
  it('is the 24 octets of "PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n"', () => {
    expect(CONNECTION_PREFACE.toString('hex')).toBe('505249202a20485454502f322e300d0a0d0a534d0d0a0d0a');
  });

  it('is consumed byte by byte before the first frame', () => {
    const settings = encodeFrame({ type: 'SETTINGS', streamId: 0, ack: false, settings: [[3, 100]] });
    const wire = Buffer.concat([CONNECTION_PREFACE, settings]);
    const chunks = [...wire].map((b) => Buffer.from([b]));
    expect(decodeAll(chunks, { expectPreface: true })).toEqual([{ type: 'SETTINGS', streamId: 0, ack: false, settings: [[3, 100]] }]);
  });

  it('rejects a wrong preface as soon as a byte differs (e.g. an HTTP/1.1 request)', () => {
    const decoder = new FrameDecoder({ expectPreface: true });
    decoder.push(Buffer.from('GET / HTTP/1.1\r\n'));
    expect(() => decoder.next()).toThrow(expect.objectContaining({ code: ErrorCode.PROTOCOL_ERROR, section: 'RFC 9113 §3.4' }));
  });
});
