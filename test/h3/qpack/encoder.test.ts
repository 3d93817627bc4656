import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H3Error, QpackErrorCode } from '../../../src/h3/errors.js';
import { QpackDecoder } from '../../../src/h3/qpack/decoder.js';
import { QpackEncoder } from '../../../src/h3/qpack/encoder.js';
import { readFieldSectionPrefix } from '../../../src/h3/qpack/field-lines.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function expectDecoderStreamError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H3Error);
    expect((err as H3Error).code).toBe(QpackErrorCode.QPACK_DECODER_STREAM_ERROR);
    return;
  }
  throw new Error('expected QPACK_DECODER_STREAM_ERROR');
}

/** Encoder and decoder that agree on settings, with in-order delivery helpers. */
function pair(capacity: number, blockedStreams: number, encoderCapacity = capacity) {
  const encoder = new QpackEncoder({ maxTableCapacity: encoderCapacity });
  const decoder = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blockedStreams });
  encoder.applyPeerSettings({ qpackMaxTableCapacity: capacity, qpackBlockedStreams: blockedStreams });
  const syncEncoderStream = () => decoder.onEncoderStreamData(encoder.takeEncoderStreamData());
  const syncDecoderStream = () => encoder.onDecoderStreamData(decoder.takeDecoderStreamData());
  return { encoder, decoder, syncEncoderStream, syncDecoderStream };
}

const requiredInsertCountByte = (section: Buffer) => readFieldSectionPrefix(section).encodedInsertCount;

describe('QpackEncoder', () => {
  const request: [string, string][] = [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':authority', 'example.org'],
    [':path', '/'],
    ['user-agent', 'h123-test/1.0'],
    ['x-custom', 'some value'],
  ];

  it('uses only the static table and literals while the peer allows no dynamic table (§3.2.3)', () => {
    const encoder = new QpackEncoder();
    const first = encoder.encodeFieldSection(0, request);
    const second = encoder.encodeFieldSection(4, request);
    expect(second.equals(first)).toBe(true);
    expect(requiredInsertCountByte(first)).toBe(0);
    encoder.applyPeerSettings({ qpackMaxTableCapacity: 0, qpackBlockedStreams: 100 });
    encoder.encodeFieldSection(8, request);
    expect(encoder.takeEncoderStreamData().length).toBe(0);
    const decoder = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    expect(decoder.decodeFieldSection(0, first)).toEqual({ headers: request });
  });

  it('inserts fields once and then references them with one byte each', () => {
    const { encoder, decoder, syncEncoderStream, syncDecoderStream } = pair(4096, 16);
    const staticOnly = new QpackEncoder().encodeFieldSection(0, request);
    const first = encoder.encodeFieldSection(0, request);
    // :authority, user-agent and x-custom went to the encoder stream (3 inserts).
    expect(encoder.table.length).toBe(3);
    syncEncoderStream();
    expect(decoder.decodeFieldSection(0, first)).toEqual({ headers: request });
    syncDecoderStream();
    const second = encoder.encodeFieldSection(4, request);
    expect(encoder.takeEncoderStreamData().length).toBe(0); // nothing new to insert
    expect(second.length).toBe(2 + request.length);
    expect(second.length).toBeLessThan(staticOnly.length);
    expect(decoder.decodeFieldSection(4, second)).toEqual({ headers: request });
  });

  it('sends sensitive fields as never-indexed literals and never inserts them (§7.1.3)', () => {
    const { encoder } = pair(4096, 16);
    const section = encoder.encodeFieldSection(0, [
      ['authorization', 'secret'],
      ['cookie', 'a=b'],
    ]);
    expect(encoder.table.findName('authorization')).toBe(-1);
    expect(encoder.table.findName('cookie')).toBe(-1);
    // Prefix 0000, then 01 N=1 T=1 static name 84 (authorization): 0x7f 0x45.
    expect(section.subarray(0, 4).toString('hex')).toBe('00007f45');
    // cookie is static 5: 0x40 | 0x20 | 0x10 | 5.
    expect(section.includes(0x75)).toBe(true);
    const custom = new QpackEncoder({ sensitiveNames: ['x-api-key'], maxTableCapacity: 4096 });
    custom.applyPeerSettings({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 16 });
    const literal = custom.encodeFieldSection(0, [['x-api-key', 'k']]);
    // 001 N=1 H: the N bit is 0x10.
    expect(literal[2]! & 0xf0).toBe(0x30);
    expect(custom.table.length).toBe(0);
  });

  it('never blocks more streams than the peer allows (§2.1.2)', () => {
    const { encoder, decoder, syncEncoderStream, syncDecoderStream } = pair(4096, 1);
    const a = encoder.encodeFieldSection(0, [['x-a', '1']]);
    expect(requiredInsertCountByte(a)).not.toBe(0); // references its fresh insert: stream 0 may block
    expect(encoder.blockedStreamCount).toBe(1);
    const b = encoder.encodeFieldSection(4, [['x-b', '2'], ['x-a', '1']]);
    expect(requiredInsertCountByte(b)).toBe(0); // may not block a second stream: literals only
    expect(encoder.blockedStreamCount).toBe(1);
    // The same stream may keep referencing unacknowledged entries (trailers, say).
    const a2 = encoder.encodeFieldSection(0, [['x-b', '2']]);
    expect(requiredInsertCountByte(a2)).not.toBe(0);
    // Delivered out of order: stream 4 decodes at once, stream 0 blocks, then resumes.
    expect(decoder.decodeFieldSection(4, b)).toEqual({ headers: [['x-b', '2'], ['x-a', '1']] });
    expect(decoder.decodeFieldSection(0, a)).toEqual({ blocked: true });
    expect(syncEncoderStream()).toEqual([0]);
    expect(decoder.takeResumed(0)).toEqual({ headers: [['x-a', '1']] });
    expect(decoder.decodeFieldSection(0, a2)).toEqual({ headers: [['x-b', '2']] });
    syncDecoderStream();
    expect(encoder.blockedStreamCount).toBe(0);
    expect(encoder.knownReceivedCount).toBe(2);
  });

  it('never evicts an entry that unacknowledged sections reference (§2.1.1)', () => {
    // Room for two 40-byte entries.
    const { encoder, decoder, syncEncoderStream } = pair(80, 16);
    const s0 = encoder.encodeFieldSection(0, [['x-1', '1234']]);
    const s4 = encoder.encodeFieldSection(4, [['x-2', '1234']]);
    expect(encoder.table.length).toBe(2);
    // Both entries are referenced and unacknowledged: x-3 cannot be inserted, goes literal.
    const s8 = encoder.encodeFieldSection(8, [['x-3', '1234']]);
    expect(encoder.table.length).toBe(2);
    expect(encoder.table.findName('x-3')).toBe(-1);
    expect(requiredInsertCountByte(s8)).toBe(0);
    syncEncoderStream();
    expect(decoder.decodeFieldSection(0, s0)).toEqual({ headers: [['x-1', '1234']] });
    expect(decoder.decodeFieldSection(4, s4)).toEqual({ headers: [['x-2', '1234']] });
    expect(decoder.decodeFieldSection(8, s8)).toEqual({ headers: [['x-3', '1234']] });
    // Once acknowledged, the oldest entry can go.
    encoder.onDecoderStreamData(decoder.takeDecoderStreamData());
    encoder.encodeFieldSection(12, [['x-3', '1234']]);
    expect(encoder.table.findName('x-3')).toBe(2);
    expect(encoder.table.droppedCount).toBe(1);
  });

  it('never evicts, for a later insert, an entry referenced earlier in the same section (§2.1.1)', () => {
    const { encoder, decoder, syncEncoderStream, syncDecoderStream } = pair(300, 16);
    // Entries of 60, 60 and 100 bytes (name + value + 32), acknowledged: 80 bytes free.
    const a: [string, string] = ['x-a', 'a'.repeat(25)];
    const b: [string, string] = ['x-b', 'b'.repeat(25)];
    const d: [string, string] = ['x-d', 'd'.repeat(65)];
    for (const [name, value] of [a, b, d]) expect(encoder.insert(name, value)).toBe(true);
    syncEncoderStream();
    syncDecoderStream();
    expect(encoder.knownReceivedCount).toBe(3);
    // x-b is referenced first (outside the draining third); the 150-byte x-c would then need the
    // room of x-a and x-b, so it must go as a literal instead of evicting x-b under the section.
    const c: [string, string] = ['x-c', 'c'.repeat(115)];
    const section = encoder.encodeFieldSection(0, [b, c]);
    expect(encoder.table.get(1)).toMatchObject({ name: 'x-b' });
    expect(encoder.table.findName('x-c')).toBe(-1);
    syncEncoderStream();
    expect(decoder.decodeFieldSection(0, section)).toEqual({ headers: [b, c] });
  });

  it('encodeToScratch + copyEncoded give the bytes encodeFieldSection gives, at any offset (property)', () => {
    const field = fc.tuple(fc.constantFrom(':path', 'x-a', 'x-b', 'content-type', 'cookie'), fc.constantFrom('/', 'v', 'text/plain', 'a'.repeat(40)));
    fc.assert(
      fc.property(fc.array(fc.array(field, { maxLength: 6 }), { minLength: 1, maxLength: 8 }), fc.nat(8), (sections, offset) => {
        const one = pair(200, 4);
        const two = pair(200, 4);
        sections.forEach((fields, i) => {
          const whole = one.encoder.encodeFieldSection(i * 4, fields);
          const length = two.encoder.encodeToScratch(i * 4, fields);
          const out = Buffer.alloc(offset + length + 3);
          expect(two.encoder.copyEncoded(out, offset)).toBe(offset + length);
          expect(out.subarray(offset, offset + length)).toEqual(whole);
          expect(two.encoder.takeEncoderStreamData()).toEqual(one.encoder.takeEncoderStreamData());
        });
      }),
      { numRuns: 200 },
    );
  });

  it('rejects bad decoder instructions with QPACK_DECODER_STREAM_ERROR (§4.4)', () => {
    const { encoder } = pair(4096, 16);
    expectDecoderStreamError(() => encoder.onDecoderStreamData(hex('84'))); // nothing outstanding on stream 4
    expectDecoderStreamError(() => encoder.onDecoderStreamData(hex('00'))); // increment of 0
    encoder.insert('x-a', '1');
    expectDecoderStreamError(() => encoder.onDecoderStreamData(hex('02'))); // beyond the 1 insert
    encoder.onDecoderStreamData(hex('01'));
    expect(encoder.knownReceivedCount).toBe(1);
    // Stream Cancellation of an unknown stream is harmless.
    encoder.onDecoderStreamData(hex('48'));
    expectDecoderStreamError(() => encoder.onDecoderStreamData(hex('3f' + 'ff'.repeat(10) + '01'))); // over 62 bits
  });

  it('releases references on Stream Cancellation without implying inserts (§4.4.2)', () => {
    const { encoder } = pair(4096, 16);
    encoder.encodeFieldSection(8, [['x-a', '1']]);
    expect(encoder.referenceCount(0)).toBe(1);
    encoder.onDecoderStreamData(hex('48'));
    expect(encoder.referenceCount(0)).toBe(0);
    expect(encoder.knownReceivedCount).toBe(0);
    expect(encoder.blockedStreamCount).toBe(0);
  });

  it('gives random decoder stream bytes effects or QPACK_DECODER_STREAM_ERROR (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 4 }), (chunks) => {
        const { encoder } = pair(4096, 16);
        encoder.encodeFieldSection(0, [['x-a', '1'], ['x-b', '2']]);
        encoder.encodeFieldSection(4, [['x-a', '1']]);
        try {
          for (const chunk of chunks) encoder.onDecoderStreamData(chunk);
        } catch (err) {
          expect(err).toBeInstanceOf(H3Error);
          expect((err as H3Error).code).toBe(QpackErrorCode.QPACK_DECODER_STREAM_ERROR);
        }
        expect(encoder.knownReceivedCount).toBeLessThanOrEqual(encoder.table.insertCount);
      }),
      { numRuns: 500 },
    );
  });
});
