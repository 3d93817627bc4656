import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RangeSet } from '../../../src/quic/stream/range-set.js';

/** Reference model: a boolean per offset. */
function model(ops: Array<{ add: boolean; start: number; end: number }>, size: number): boolean[] {
  const bits = new Array<boolean>(size).fill(false);
  for (const op of ops) for (let i = op.start; i < op.end; i++) bits[i] = op.add;
  return bits;
}

/**
 * Applies the operations, checking that each add() returns the number of offsets it newly covers
 * (what a send stream counts as newly acknowledged bytes).
 */
function applyCountingNew(set: RangeSet, ops: Array<{ add: boolean; start: number; end: number }>): void {
  const bits = new Array<boolean>(65).fill(false);
  for (const o of ops) {
    if (o.add) {
      let fresh = 0;
      for (let i = o.start; i < o.end; i++) if (!bits[i]) fresh++;
      expect(set.add(o.start, o.end)).toBe(fresh);
    } else {
      set.remove(o.start, o.end);
    }
    for (let i = o.start; i < o.end; i++) bits[i] = o.add;
  }
}

describe('RangeSet', () => {
  it('merges touching and overlapping ranges', () => {
    const set = new RangeSet();
    set.add(10, 20);
    set.add(20, 30);
    set.add(5, 12);
    expect(set.toArray()).toEqual([{ start: 5, end: 30 }]);
    set.remove(10, 15);
    expect(set.toArray()).toEqual([
      { start: 5, end: 10 },
      { start: 15, end: 30 },
    ]);
    expect(set.gaps(0, 40)).toEqual([
      { start: 0, end: 5 },
      { start: 10, end: 15 },
      { start: 30, end: 40 },
    ]);
    expect(set.containsRange(16, 30)).toBe(true);
    expect(set.containsRange(9, 11)).toBe(false);
    expect(set.size).toBe(20);
  });

  it('matches a per-offset model under any adds and removes', () => {
    const op = fc
      .record({ add: fc.boolean(), a: fc.nat(64), b: fc.nat(64) })
      .map(({ add, a, b }) => ({ add, start: Math.min(a, b), end: Math.max(a, b) }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const set = new RangeSet();
        applyCountingNew(set, ops);
        const bits = model(ops, 65);
        const ranges = set.toArray();
        // disjoint, sorted, non-adjacent, non-empty
        for (let i = 0; i < ranges.length; i++) {
          expect(ranges[i]!.start).toBeLessThan(ranges[i]!.end);
          if (i > 0) expect(ranges[i - 1]!.end).toBeLessThan(ranges[i]!.start);
        }
        const fromSet = new Array<boolean>(65).fill(false);
        for (const r of ranges) for (let i = r.start; i < r.end; i++) fromSet[i] = true;
        expect(fromSet).toEqual(bits);
        const gapBits = new Array<boolean>(65).fill(true);
        for (const g of set.gaps(0, 65)) for (let i = g.start; i < g.end; i++) gapBits[i] = false;
        expect(gapBits).toEqual(bits);
      }),
      { numRuns: 300 },
    );
  });

  it('matches the model when ranges mostly arrive in order, touching or overlapping the tail', () => {
    // Steps forward from the previous end (some back, some with gaps): the tail fast paths of add().
    const step = fc.record({ add: fc.nat(9).map((n) => n > 1), back: fc.integer({ min: -4, max: 3 }), len: fc.nat(6) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const ops: { add: boolean; start: number; end: number }[] = [];
        let cursor = 0;
        for (const s of steps) {
          const start = Math.min(60, Math.max(0, cursor + s.back));
          const end = Math.min(64, start + s.len);
          ops.push({ add: s.add, start, end });
          cursor = end;
        }
        const set = new RangeSet();
        applyCountingNew(set, ops);
        const ranges = set.toArray();
        for (let i = 1; i < ranges.length; i++) expect(ranges[i - 1]!.end).toBeLessThan(ranges[i]!.start);
        const fromSet = new Array<boolean>(65).fill(false);
        for (const r of ranges) for (let i = r.start; i < r.end; i++) fromSet[i] = true;
        expect(fromSet).toEqual(model(ops, 65));
      }),
      { numRuns: 300 },
    );
  });
});
