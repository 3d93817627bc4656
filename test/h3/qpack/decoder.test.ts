import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H3Error, H3ErrorCode, QpackErrorCode } from '../../../src/h3/errors.js';
import { QpackDecoder } from '../../../src/h3/qpack/decoder.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function expectH3Error(fn: () => unknown, code: number, scope: 'connection' | 'stream' = 'connection'): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H3Error);
    expect((err as H3Error).code).toBe(code);
    expect((err as H3Error).scope).toBe(scope);
    return;
  }
  throw new Error('expected an H3Error');
}

/** A decoder with capacity 220 holding :authority=www.example.com (0) and :path=/sample/path (1). */
function decoderWithTwoEntries(maxBlockedStreams = 2): QpackDecoder {
  const decoder = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams });
  // RFC 9204 Appendix B.2 encoder stream.
  decoder.onEncoderStreamData(hex('3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468'));
  return decoder;
}

const { QPACK_DECOMPRESSION_FAILED, QPACK_ENCODER_STREAM_ERROR } = QpackErrorCode;

describe('QpackDecoder field sections (RFC 9204 §4.5)', () => {
  it('decodes static references and literals without a dynamic table', () => {
    const decoder = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    // :method GET, :scheme https, literal x-a: b (literal name), :path /index.html (static name).
    const section = hex('0000' + 'd1' + 'd7' + '23782d61' + '0162' + '510b2f696e6465782e68746d6c');
    expect(decoder.decodeFieldSection(0, section)).toEqual({
      headers: [[':method', 'GET'], [':scheme', 'https'], ['x-a', 'b'], [':path', '/index.html']],
    });
    // No dynamic references: nothing to acknowledge.
    expect(decoder.takeDecoderStreamData().length).toBe(0);
  });

  it('resolves relative, post-base and name references against Base', () => {
    const decoder = decoderWithTwoEntries();
    // RIC 2 (encoded 3), Base 1 (S=1, delta 0): relative 0 → abs 0, post-base 0 → abs 1,
    // literal with dynamic name ref relative 0 (abs 0), literal with post-base name ref 0 (abs 1).
    const section = hex('03' + '80' + '80' + '10' + '40' + '0178' + '00' + '0179');
    expect(decoder.decodeFieldSection(4, section)).toEqual({
      headers: [[':authority', 'www.example.com'], [':path', '/sample/path'], [':authority', 'x'], [':path', 'y']],
    });
    expect(decoder.takeDecoderStreamData().toString('hex')).toBe('84');
  });

  it('rejects invalid references with QPACK_DECOMPRESSION_FAILED (§2.2.3, §3.1)', () => {
    const decoder = decoderWithTwoEntries();
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0000' + 'ff24')), QPACK_DECOMPRESSION_FAILED); // static 99
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0000' + '5f54' + '00')), QPACK_DECOMPRESSION_FAILED); // static name 99
    // RIC 1 but a reference to abs 1 (post-base 0 with Base 1): at or above RIC.
    expectH3Error(() => decoder.decodeFieldSection(0, hex('02' + '00' + '10')), QPACK_DECOMPRESSION_FAILED);
    // Relative index past the oldest entry (Base 2, relative 2 → abs -1).
    expectH3Error(() => decoder.decodeFieldSection(0, hex('03' + '00' + '82')), QPACK_DECOMPRESSION_FAILED);
    // Dynamic reference in a section that declares RIC 0.
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0000' + '80')), QPACK_DECOMPRESSION_FAILED);
    // RIC 2 but only abs 0 referenced: larger than needed (§2.2.1).
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0300' + '81')), QPACK_DECOMPRESSION_FAILED);
    // Negative Base: S=1 with Delta Base ≥ RIC (§4.5.1.2).
    expectH3Error(() => decoder.decodeFieldSection(0, hex('03' + '82' + '10')), QPACK_DECOMPRESSION_FAILED);
    // Encoded RIC above 2 * MaxEntries (MaxEntries = 6).
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0d00')), QPACK_DECOMPRESSION_FAILED);
    // Truncated prefix, truncated line, bad Huffman.
    expectH3Error(() => decoder.decodeFieldSection(0, hex('00')), QPACK_DECOMPRESSION_FAILED);
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0000' + '5105')), QPACK_DECOMPRESSION_FAILED);
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0000' + '5181ff')), QPACK_DECOMPRESSION_FAILED);
  });

  it('rejects references to evicted entries', () => {
    const decoder = new QpackDecoder({ maxTableCapacity: 100, maxBlockedStreams: 0 });
    // Capacity 40: each insert of a: b (34 bytes) evicts the previous one.
    decoder.onEncoderStreamData(hex('3f09' + '4161' + '0162' + '4161' + '0163'));
    expect(decoder.table.droppedCount).toBe(1);
    // MaxEntries 3: RIC 1 encodes as 2 — a reference to abs 0, evicted.
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0200' + '80')), QPACK_DECOMPRESSION_FAILED);
    expect(decoder.decodeFieldSection(0, hex('0300' + '80'))).toEqual({ headers: [['a', 'c']] });
  });

  it('limits the decoded size with a stream error, after acknowledging (RFC 9114 §4.2.2)', () => {
    const decoder = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 0, maxFieldSectionSize: 100 });
    decoder.onEncoderStreamData(hex('3fbd01' + 'c00f7777772e6578616d706c652e636f6d'));
    // :authority=www.example.com is 57 bytes; twice is 114 > 100.
    expect(decoder.decodeFieldSection(0, hex('0200' + '80'))).toEqual({ headers: [[':authority', 'www.example.com']] });
    decoder.takeDecoderStreamData();
    expectH3Error(() => decoder.decodeFieldSection(4, hex('0200' + '80' + '80')), H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream');
    expect(decoder.takeDecoderStreamData().toString('hex')).toBe('84');
  });
});

describe('QpackDecoder against decompression bombs', () => {
  it('stops keeping fields past the size limit however small the encoding', () => {
    // One 187-byte value in the table (entry size 220), referenced 10,000 times in 10,002 bytes.
    const decoder = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 0, maxFieldSectionSize: 16 * 1024 });
    decoder.onEncoderStreamData(Buffer.concat([hex('3fbd01' + '4161' + '7f3c'), Buffer.alloc(187, 0x62)]));
    const section = Buffer.concat([hex('0200'), Buffer.alloc(10_000, 0x80)]);
    expectH3Error(() => decoder.decodeFieldSection(0, section), H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream');
    // The section was fully checked and is acknowledged all the same.
    expect(decoder.takeDecoderStreamData().toString('hex')).toBe('80');
  });

  it('accepts a plain Uint8Array as well as a Buffer', () => {
    const decoder = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    expect(decoder.decodeFieldSection(0, new Uint8Array([0, 0, 0xd1]))).toEqual({ headers: [[':method', 'GET']] });
  });
});

describe('QpackDecoder blocking (RFC 9204 §2.2.1)', () => {
  it('blocks, queues later sections of the same stream, and resumes in order', () => {
    const decoder = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    decoder.onEncoderStreamData(hex('3fbd01'));
    // RIC 1 (encoded 2), Base 0, post-base 0.
    expect(decoder.decodeFieldSection(4, hex('0280' + '10'))).toEqual({ blocked: true });
    // A second section on the same stream waits behind it even though it needs no insert.
    expect(decoder.decodeFieldSection(4, hex('0000' + 'd1'))).toEqual({ blocked: true });
    expect(decoder.blockedStreamCount).toBe(1);
    // A second blocked stream is one too many.
    expectH3Error(() => decoder.decodeFieldSection(8, hex('0280' + '10')), QPACK_DECOMPRESSION_FAILED);
    expect(decoder.onEncoderStreamData(hex('c00f7777772e6578616d706c652e636f6d'))).toEqual([4]);
    expect(decoder.takeResumed(4)).toEqual({ headers: [[':authority', 'www.example.com']] });
    expect(decoder.takeResumed(4)).toEqual({ headers: [[':method', 'GET']] });
    expect(decoder.takeResumed(4)).toBeUndefined();
    expect(decoder.blockedStreamCount).toBe(0);
    expect(decoder.takeDecoderStreamData().toString('hex')).toBe('84');
  });

  it('refuses to block at all when it advertised 0 blocked streams', () => {
    const decoder = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 0 });
    expectH3Error(() => decoder.decodeFieldSection(0, hex('0280' + '10')), QPACK_DECOMPRESSION_FAILED);
  });

  it('sends Stream Cancellation, but not with a zero-capacity table (§4.4.2)', () => {
    const withTable = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    withTable.cancelStream(0x3fff);
    expect(withTable.takeDecoderStreamData().toString('hex')).toBe('7fc07f');
    const without = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    without.cancelStream(4);
    expect(without.takeDecoderStreamData().length).toBe(0);
  });
});

describe('QpackDecoder encoder stream (RFC 9204 §4.3)', () => {
  it('rejects bad instructions with QPACK_ENCODER_STREAM_ERROR', () => {
    const fresh = () => new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 0 });
    expectH3Error(() => fresh().onEncoderStreamData(hex('3fbe01')), QPACK_ENCODER_STREAM_ERROR); // capacity 221 > 220
    expectH3Error(() => fresh().onEncoderStreamData(hex('c100')), QPACK_ENCODER_STREAM_ERROR); // insert at capacity 0
    expectH3Error(() => fresh().onEncoderStreamData(hex('3fbd01' + 'ff2400')), QPACK_ENCODER_STREAM_ERROR); // static 99
    expectH3Error(() => fresh().onEncoderStreamData(hex('3fbd01' + '8000')), QPACK_ENCODER_STREAM_ERROR); // no dynamic entry
    expectH3Error(() => fresh().onEncoderStreamData(hex('3fbd01' + '00')), QPACK_ENCODER_STREAM_ERROR); // duplicate of nothing
    expectH3Error(() => fresh().onEncoderStreamData(hex('3fbd01' + '5f' + 'ff'.repeat(4) + '0f')), QPACK_ENCODER_STREAM_ERROR); // name longer than any entry
    expectH3Error(() => fresh().onEncoderStreamData(hex('3fbd01' + '61ff' + '00')), QPACK_ENCODER_STREAM_ERROR); // bad Huffman name
    // An entry of 221 bytes: name 'a', value 188 bytes → 1 + 188 + 32 = 221.
    expectH3Error(() => fresh().onEncoderStreamData(Buffer.concat([hex('3fbd01' + '4161' + '7f3d'), Buffer.alloc(188, 0x61)])), QPACK_ENCODER_STREAM_ERROR);
  });

  it('lets a new entry reference the entry its insertion evicts (§3.2.2)', () => {
    const decoder = new QpackDecoder({ maxTableCapacity: 100, maxBlockedStreams: 0 });
    // Capacity 40; insert a: b, then insert with dynamic name ref relative 0 (a) value c, evicting a: b.
    decoder.onEncoderStreamData(hex('3f09' + '4161' + '0162' + '80' + '0163'));
    expect(decoder.table.get(1)).toMatchObject({ name: 'a', value: 'c' });
    expect(decoder.table.length).toBe(1);
  });

  it('increments the Insert Count once for all unacknowledged inserts', () => {
    const decoder = decoderWithTwoEntries();
    expect(decoder.takeDecoderStreamData().toString('hex')).toBe('02');
    expect(decoder.takeDecoderStreamData().length).toBe(0);
  });
});

describe('QpackDecoder on random input', () => {
  it('gives random field sections headers, blocked or an H3Error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(3), (bytes, streamId) => {
        const decoder = decoderWithTwoEntries(1);
        try {
          decoder.decodeFieldSection(streamId * 4, bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(H3Error);
          expect([QPACK_DECOMPRESSION_FAILED, H3ErrorCode.H3_EXCESSIVE_LOAD]).toContain((err as H3Error).code);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives random encoder stream bytes effects or QPACK_ENCODER_STREAM_ERROR (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }), (chunks) => {
        const decoder = decoderWithTwoEntries(1);
        decoder.decodeFieldSection(8, hex('0400' + '82'));
        try {
          for (const chunk of chunks) decoder.onEncoderStreamData(chunk);
        } catch (err) {
          expect(err).toBeInstanceOf(H3Error);
          expect([QPACK_ENCODER_STREAM_ERROR, QPACK_DECOMPRESSION_FAILED]).toContain((err as H3Error).code);
        }
        expect(decoder.table.size).toBeLessThanOrEqual(220);
      }),
      { numRuns: 500 },
    );
  });
});
