/**
 * encodeStreamFrame, the packet builder's STREAM frame writer (RFC 9000 §19.8): the same bytes as
 * the generic encodeFrame at any writer position, and a full fixed buffer refused with a RangeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeStreamFrame, streamFrameLength } from '../../../src/quic/frames/encode.js';
import { parseFrames } from '../../../src/quic/frames/decode.js';
import type { StreamFrame } from '../../../src/quic/frames/types.js';
import { Writer } from '../../../src/quic/varint.js';

const MAX_VARINT = 2 ** 53 - 1; // the largest a JS number holds exactly (varints go to 2^62 - 1)

const streamFrame: fc.Arbitrary<StreamFrame> = fc.record({
  type: fc.constant('stream' as const),
  // Values at every varint length boundary (1, 2, 4, 8 bytes; RFC 9000 §16).
  streamId: fc.oneof(fc.constantFrom(0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30), fc.integer({ min: 0, max: MAX_VARINT })),
  offset: fc.oneof(fc.constantFrom(0, 1, 63, 64, 16384, 2 ** 30), fc.integer({ min: 0, max: 2 ** 50 })),
  data: fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 16380, max: 16390 }).map((n) => new Uint8Array(n).fill(7))),
  fin: fc.boolean(),
  hasLength: fc.option(fc.boolean(), { nil: undefined }),
});

describe('encodeStreamFrame (RFC 9000 §19.8)', () => {
  it('writes the bytes encodeFrame writes, after whatever the writer holds', () => {
    fc.assert(
      fc.property(streamFrame, fc.uint8Array({ maxLength: 40 }), (frame, before) => {
        const generic = new Writer(16);
        generic.bytes(before);
        encodeFrame(frame, generic);
        const fast = new Writer(16);
        fast.bytes(before);
        encodeStreamFrame(frame, fast);
        expect(fast.offset).toBe(generic.offset);
        expect(fast.buf.subarray(0, fast.offset).equals(generic.buf.subarray(0, generic.offset))).toBe(true);
        if (frame.hasLength !== false) expect(fast.offset - before.length).toBe(streamFrameLength(frame.streamId, frame.offset, frame.data.length));
        // And it parses back to the frame (type bits OFF/LEN/FIN as given).
        const [parsed] = parseFrames(fast.buf.subarray(before.length, fast.offset));
        expect(parsed).toMatchObject({ type: 'stream', streamId: frame.streamId, offset: frame.offset, fin: frame.fin });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a frame that does not fit a fixed buffer and writes nothing', () => {
    const frame: StreamFrame = { type: 'stream', streamId: 4, offset: 1000, data: new Uint8Array(20).fill(1), fin: false };
    const length = streamFrameLength(4, 1000, 20);
    const w = new Writer(Buffer.alloc(length + 2), 3);
    expect(() => encodeStreamFrame(frame, w)).toThrow(RangeError);
    expect(w.offset).toBe(3);
    expect(w.buf.every((b) => b === 0)).toBe(true);
    const fits = new Writer(Buffer.alloc(length + 3), 3);
    encodeStreamFrame(frame, fits);
    expect(fits.offset).toBe(length + 3);
  });
});
