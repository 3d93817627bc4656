import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../../src/core/errors.js';
import {
  InstructionReader,
  encodeDecoderInstructions,
  encodeEncoderInstructions,
  parseDecoderInstruction,
  parseEncoderInstruction,
  type DecoderInstruction,
  type EncoderInstruction,
} from '../../../src/h3/qpack/instructions.js';

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const encoderInstruction: fc.Arbitrary<EncoderInstruction> = fc.oneof(
  fc.record({ type: fc.constant('set_capacity' as const), capacity: fc.nat(1 << 20) }),
  fc.record({ type: fc.constant('insert_name_ref' as const), isStatic: fc.boolean(), nameIndex: fc.nat(3000), value: latin1 }),
  fc.record({ type: fc.constant('insert_literal_name' as const), name: latin1, value: latin1 }),
  fc.record({ type: fc.constant('duplicate' as const), index: fc.nat(3000) }),
);
const decoderInstruction: fc.Arbitrary<DecoderInstruction> = fc.oneof(
  fc.record({ type: fc.constant('section_ack' as const), streamId: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('stream_cancel' as const), streamId: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('insert_count_increment' as const), increment: fc.nat(1 << 30) }),
);

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

const encoderReader = () => new InstructionReader((b, o) => parseEncoderInstruction(b, o, 1000));
const decoderReader = () => new InstructionReader(parseDecoderInstruction);

describe('QPACK instructions (RFC 9204 §4.3, §4.4)', () => {
  it('reads encoder instructions whatever the split (property)', () => {
    fc.assert(
      fc.property(fc.array(encoderInstruction, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (list, cuts, huffman) => {
        const bytes = encodeEncoderInstructions(list, huffman);
        const reader = encoderReader();
        const out = splitAt(bytes, cuts).flatMap((chunk) => reader.push(chunk));
        expect(out).toEqual(list);
        expect(reader.atBoundary).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reads decoder instructions fed byte by byte (property)', () => {
    fc.assert(
      fc.property(fc.array(decoderInstruction, { maxLength: 8 }), (list) => {
        const bytes = encodeDecoderInstructions(list);
        const reader = decoderReader();
        const out: DecoderInstruction[] = [];
        for (let i = 0; i < bytes.length; i++) out.push(...reader.push(bytes.subarray(i, i + 1)));
        expect(out).toEqual(list);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a partial instruction until it is complete', () => {
    const reader = encoderReader();
    const bytes = encodeEncoderInstructions([{ type: 'insert_literal_name', name: 'custom-key', value: 'custom-value' }], false);
    expect(reader.push(bytes.subarray(0, 5))).toEqual([]);
    expect(reader.atBoundary).toBe(false);
    expect(reader.push(bytes.subarray(5))).toEqual([{ type: 'insert_literal_name', name: 'custom-key', value: 'custom-value' }]);
  });

  it('refuses a string longer than allowed before buffering it', () => {
    const reader = new InstructionReader((b, o) => parseEncoderInstruction(b, o, 100));
    // Insert With Literal Name whose name claims 2^20 bytes: refused from its length alone.
    expect(() => reader.push(Buffer.from('5fe1ff3f', 'hex'))).toThrow(DecodeError);
  });

  it('gives random bytes instructions or a DecodeError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const reader of [encoderReader(), decoderReader()] as InstructionReader<unknown>[]) {
          try {
            reader.push(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
