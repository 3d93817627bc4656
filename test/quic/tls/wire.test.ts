/**
 * TlsWriter and TlsReader (RFC 8446 §3 presentation language): whatever sequence of integers,
 * opaque bytes and nested length-prefixed vectors is written, the bytes are the plain
 * concatenation of the parts with big-endian lengths, and the reader reads them back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TlsReader, TlsWriter } from '../../../src/quic/tls/wire.js';

type Op =
  | { kind: 'u8' | 'u16' | 'u24' | 'u32'; value: number }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'vector'; lengthBytes: 1 | 2 | 3; value: Uint8Array }
  | { kind: 'u16List'; lengthBytes: 1 | 2; value: number[] }
  | { kind: 'nested'; lengthBytes: 1 | 2 | 3; ops: Op[] };

const WIDTH = { u8: 1, u16: 2, u24: 3, u32: 4 } as const;

function bigEndian(value: number, width: number): Buffer {
  const b = Buffer.alloc(width);
  b.writeUIntBE(value, 0, width);
  return b;
}

/** The expected bytes, from the definition. */
function reference(ops: Op[]): Buffer {
  return Buffer.concat(ops.map((op): Buffer => {
    switch (op.kind) {
      case 'u8': case 'u16': case 'u24': case 'u32': return bigEndian(op.value, WIDTH[op.kind]);
      case 'bytes': return Buffer.from(op.value);
      case 'vector': return Buffer.concat([bigEndian(op.value.length, op.lengthBytes), op.value]);
      case 'u16List': return Buffer.concat([bigEndian(op.value.length * 2, op.lengthBytes), ...op.value.map((v) => bigEndian(v, 2))]);
      case 'nested': {
        const inner = reference(op.ops);
        return Buffer.concat([bigEndian(inner.length, op.lengthBytes), inner]);
      }
    }
  }));
}

function write(w: TlsWriter, ops: Op[]): void {
  for (const op of ops) {
    switch (op.kind) {
      case 'u8': w.u8(op.value); break;
      case 'u16': w.u16(op.value); break;
      case 'u24': w.u24(op.value); break;
      case 'u32': w.u32(op.value); break;
      case 'bytes': w.bytes(op.value); break;
      case 'vector': w.vector(op.lengthBytes, op.value); break;
      case 'u16List': w.u16List(op.lengthBytes, op.value); break;
      case 'nested': w.vector(op.lengthBytes, (inner) => write(inner, op.ops)); break;
    }
  }
}

const opArb: fc.Arbitrary<Op> = fc.letrec<{ op: Op }>((tie) => ({
  op: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('u8' as const), value: fc.integer({ min: 0, max: 0xff }) }),
    fc.record({ kind: fc.constant('u16' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
    fc.record({ kind: fc.constant('u24' as const), value: fc.integer({ min: 0, max: 0xffffff }) }),
    fc.record({ kind: fc.constant('u32' as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
    fc.record({ kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({ kind: fc.constant('vector' as const), lengthBytes: fc.constantFrom(1 as const, 2 as const, 3 as const), value: fc.uint8Array({ maxLength: 255 }) }),
    fc.record({ kind: fc.constant('u16List' as const), lengthBytes: fc.constantFrom(1 as const, 2 as const), value: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 60 }) }),
    fc.record({ kind: fc.constant('nested' as const), lengthBytes: fc.constantFrom(2 as const, 3 as const), ops: fc.array(tie('op'), { maxLength: 5 }) }),
  ),
})).op;

describe('TlsWriter', () => {
  it('writes the concatenation of the parts, vectors with big-endian length prefixes, at any nesting and size', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), fc.integer({ min: 1, max: 64 }), (ops, capacity) => {
        const w = new TlsWriter(capacity);
        write(w, ops);
        expect(w.finish().equals(reference(ops))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a vector that does not fit its length prefix, given as bytes or written in place', () => {
    expect(() => new TlsWriter().vector(1, Buffer.alloc(256))).toThrow(RangeError);
    expect(() => new TlsWriter().vector(1, (w) => w.bytes(Buffer.alloc(256)))).toThrow(RangeError);
    expect(() => new TlsWriter().u16List(1, new Array(128).fill(0))).toThrow(RangeError);
    expect(new TlsWriter().vector(1, Buffer.alloc(255)).finish().length).toBe(256);
  });

  it('is read back by TlsReader', () => {
    const w = new TlsWriter(4).u16(0x0303).vector(1, Buffer.from('abc')).vector(2, (inner) => inner.u16List(2, [1, 2, 0xffff]).u24(0x123456)).u32(0xdeadbeef);
    const r = new TlsReader(w.finish());
    expect(r.u16()).toBe(0x0303);
    expect(r.vector(1).toString()).toBe('abc');
    const sub = r.sub(2);
    expect(sub.u16List(2)).toEqual([1, 2, 0xffff]);
    expect(sub.u24()).toBe(0x123456);
    sub.end();
    expect(r.u32()).toBe(0xdeadbeef);
    r.end();
  });
});
