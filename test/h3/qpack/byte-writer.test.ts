/** ByteWriter: what take() returns is exactly what was written since the last take, and stays so. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src/h3/qpack/byte-writer.js';

function writeAll(w: ByteWriter, bytes: Uint8Array): void {
  const buf = w.reserve(bytes.length);
  buf.set(bytes, w.length);
  w.length += bytes.length;
}

describe('ByteWriter', () => {
  it('take() with nothing written gives an empty buffer', () => {
    const w = new ByteWriter(16);
    expect(w.take().length).toBe(0);
    w.byte(7);
    expect([...w.take()]).toEqual([7]);
    expect(w.take().length).toBe(0);
  });

  it('taken buffers keep their bytes while the writer goes on (the rest of the buffer is reused)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean()), { maxLength: 40 }),
        fc.integer({ min: 1, max: 300 }),
        (steps, initialSize) => {
          const w = new ByteWriter(initialSize);
          const taken: { buf: Buffer; expected: number[] }[] = [];
          let pending: number[] = [];
          for (const [bytes, take] of steps) {
            if (bytes.length === 1) w.byte(bytes[0]!);
            else writeAll(w, bytes);
            pending.push(...bytes);
            if (take) {
              taken.push({ buf: w.take(), expected: pending });
              pending = [];
            }
          }
          taken.push({ buf: w.take(), expected: pending });
          for (const { buf, expected } of taken) expect([...buf]).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('view() and reset() use the buffer as scratch', () => {
    const w = new ByteWriter(4);
    writeAll(w, Uint8Array.of(1, 2, 3, 4, 5));
    expect([...w.view()]).toEqual([1, 2, 3, 4, 5]);
    w.reset();
    expect(w.view().length).toBe(0);
    w.byte(9);
    expect([...w.view()]).toEqual([9]);
  });

  it('copyTo() copies exactly what view() shows, at the offset, and returns the offset after it', () => {
    const w = new ByteWriter(2);
    writeAll(w, Uint8Array.of(1, 2, 3));
    const target = Buffer.alloc(6, 0xff);
    expect(w.copyTo(target, 2)).toBe(5);
    expect([...target]).toEqual([0xff, 0xff, 1, 2, 3, 0xff]);
    w.reset();
    expect(w.copyTo(target, 0)).toBe(0);
  });
});
