/**
 * Encoder and decoder wired together with the three QPACK byte flows — encoder stream, decoder
 * stream, field sections — delivered in random interleavings and random pieces, as QUIC may
 * deliver them: each stream in order, the streams in any order relative to each other.
 * Whatever the order, every field section decodes to the fields that were encoded, blocked
 * sections resume, the decoder never sees more blocked streams than it allowed, and once all
 * acknowledgments are back the encoder holds no references.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QpackDecoder, type FieldLine } from '../../../src/h3/qpack/decoder.js';
import { QpackEncoder } from '../../../src/h3/qpack/encoder.js';

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 30 });
// A small vocabulary so that fields repeat, plus random ones.
const nameArb = fc.oneof(
  fc.constantFrom(':authority', ':path', ':method', 'user-agent', 'content-type', 'x-trace', 'x-a', 'x-b', 'cookie', 'authorization'),
  fc.stringMatching(/^[a-z-]{1,12}$/),
);
const valueArb = fc.oneof(fc.constantFrom('', 'GET', 'example.org', 'text/html', '/', 'a', 'bb', 'ccc'), latin1);
const sectionArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 8 });

const scenarioArb = fc.record({
  capacity: fc.constantFrom(0, 64, 220, 1024, 4096),
  blockedStreams: fc.constantFrom(0, 1, 2, 16),
  sections: fc.array(sectionArb, { minLength: 1, maxLength: 12 }),
  /** Random choices that drive delivery order and chunking. */
  choices: fc.array(fc.nat(), { minLength: 20, maxLength: 200 }),
});

interface Pending {
  streamId: number;
  bytes: Buffer;
}

describe('QPACK round trip with interleaved streams (RFC 9204 §2)', () => {
  it('decodes every section as encoded, whatever the delivery order (property)', () => {
    let resumedSections = 0;
    fc.assert(
      fc.property(scenarioArb, ({ capacity, blockedStreams, sections, choices }) => {
        const encoder = new QpackEncoder({ maxTableCapacity: capacity });
        const decoder = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blockedStreams });
        encoder.applyPeerSettings({ qpackMaxTableCapacity: capacity, qpackBlockedStreams: blockedStreams });

        let choice = 0;
        const next = (n: number) => (choice < choices.length ? choices[choice++]! % n : 0);
        const encoderStream: Buffer[] = [];
        const decoderStream: Buffer[] = [];
        const inFlight: Pending[] = [];
        const decoded = new Map<number, FieldLine[]>();
        /** Cuts bytes into 1–3 pieces at random points and queues them. */
        const queueInPieces = (bytes: Buffer, queue: Buffer[]) => {
          if (bytes.length === 0) return;
          const cut = next(bytes.length + 1);
          if (cut > 0) queue.push(bytes.subarray(0, cut));
          if (cut < bytes.length) queue.push(bytes.subarray(cut));
        };
        const deliverEncoderStream = () => {
          for (const streamId of decoder.onEncoderStreamData(encoderStream.shift()!)) {
            const resumed = decoder.takeResumed(streamId);
            resumedSections++;
            expect(resumed && 'headers' in resumed).toBe(true);
            decoded.set(streamId, (resumed as { headers: FieldLine[] }).headers);
          }
        };
        const deliverSection = (index: number) => {
          const [{ streamId, bytes }] = inFlight.splice(index, 1) as [Pending];
          const result = decoder.decodeFieldSection(streamId, bytes);
          if ('headers' in result) decoded.set(streamId, result.headers);
          expect(decoder.blockedStreamCount).toBeLessThanOrEqual(blockedStreams);
        };
        const deliverDecoderStream = () => encoder.onDecoderStreamData(decoderStream.shift()!);

        let encoded = 0;
        while (encoded < sections.length || inFlight.length || encoderStream.length || decoderStream.length) {
          const action = choice < choices.length ? next(5) : -1;
          if (action === 0 && encoded < sections.length) {
            const streamId = encoded * 4;
            inFlight.push({ streamId, bytes: encoder.encodeFieldSection(streamId, sections[encoded]!) });
            encoded++;
            queueInPieces(encoder.takeEncoderStreamData(), encoderStream);
          } else if (action === 1 && encoderStream.length) {
            deliverEncoderStream();
          } else if (action === 2 && inFlight.length) {
            deliverSection(next(inFlight.length));
          } else if (action === 3) {
            queueInPieces(decoder.takeDecoderStreamData(), decoderStream);
          } else if (action === 4 && decoderStream.length) {
            deliverDecoderStream();
          } else if (action === -1) {
            // Choices used up: finish in a fixed order.
            if (encoded < sections.length) {
              const streamId = encoded * 4;
              inFlight.push({ streamId, bytes: encoder.encodeFieldSection(streamId, sections[encoded]!) });
              encoded++;
              queueInPieces(encoder.takeEncoderStreamData(), encoderStream);
            } else if (inFlight.length) deliverSection(0);
            else if (encoderStream.length) deliverEncoderStream();
            else if (decoderStream.length) deliverDecoderStream();
          }
        }
        // Acknowledgments and increments produced by the last deliveries.
        encoder.onDecoderStreamData(decoder.takeDecoderStreamData());

        for (let i = 0; i < sections.length; i++) expect(decoded.get(i * 4)).toEqual(sections[i]);
        expect(decoder.blockedStreamCount).toBe(0);
        expect(encoder.blockedStreamCount).toBe(0);
        expect(encoder.knownReceivedCount).toBe(encoder.table.insertCount);
        for (let abs = encoder.table.droppedCount; abs < encoder.table.insertCount; abs++) {
          expect(encoder.referenceCount(abs)).toBe(0);
        }
        // Both sides hold the same table.
        expect(decoder.table.insertCount).toBe(encoder.table.insertCount);
        expect(decoder.table.size).toBe(encoder.table.size);
      }),
      { numRuns: 250 },
    );
    // The runs did exercise blocking and unblocking, not just in-order delivery.
    expect(resumedSections).toBeGreaterThan(10);
  });
});
