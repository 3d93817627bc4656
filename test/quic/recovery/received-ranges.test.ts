import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReceivedRanges } from '../../../src/quic/recovery/received-ranges.js';

/** Expected ranges (highest first) for a set of numbers. */
function rangesOf(numbers: Iterable<number>): [number, number][] {
  const sorted = [...new Set(numbers)].sort((a, b) => b - a);
  const out: [number, number][] = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === n + 1) last[0] = n;
    else out.push([n, n]);
  }
  return out;
}

describe('ReceivedRanges (RFC 9000 §13.2.3, §12.3)', () => {
  it('merges in-order, reordered and gap-filling arrivals', () => {
    const r = new ReceivedRanges();
    for (const pn of [0, 1, 2, 5, 6, 4, 9]) expect(r.add(pn)).toBe(true);
    expect(r.toArray()).toEqual([[9, 9], [4, 6], [0, 2]]);
    expect(r.add(3)).toBe(true);
    expect(r.toArray()).toEqual([[9, 9], [0, 6]]);
    expect(r.add(8)).toBe(true);
    expect(r.add(7)).toBe(true);
    expect(r.toArray()).toEqual([[0, 9]]);
    expect(r.add(5)).toBe(false);
  });

  it('any arrival order with duplicates: ranges equal the set and each duplicate is reported once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }), (arrivals) => {
        const r = new ReceivedRanges(1000);
        const seen = new Set<number>();
        const reported: boolean[] = [];
        const expected: boolean[] = [];
        for (const pn of arrivals) {
          reported.push(r.add(pn));
          expected.push(!seen.has(pn));
          seen.add(pn);
        }
        expect(reported).toEqual(expected);
        expect(r.toArray()).toEqual(rangesOf(seen));
        const membership = Array.from({ length: 301 }, (_, pn) => r.has(pn));
        expect(membership).toEqual(Array.from({ length: 301 }, (_, pn) => seen.has(pn)));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps at most maxRanges, dropping the oldest; dropped numbers count as seen (§12.3 floor)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (arrivals, max) => {
        const r = new ReceivedRanges(max);
        const seen = new Set<number>();
        let mostRanges = 0;
        for (const pn of arrivals) {
          r.add(pn);
          seen.add(pn);
          mostRanges = Math.max(mostRanges, r.rangeCount);
        }
        expect(mostRanges).toBeLessThanOrEqual(max);
        // Everything received is still recognised as a duplicate.
        expect([...seen].filter((pn) => !r.has(pn))).toEqual([]);
        // The kept ranges are exactly the received numbers at or above the floor.
        const kept = [...seen].filter((pn) => pn >= r.duplicateFloor);
        expect(r.toArray()).toEqual(rangesOf(kept));
      }),
      { numRuns: 300 },
    );
  });

  it('forgetUpTo drops reported numbers but keeps them as duplicates (RFC 9000 §13.2.4)', () => {
    const r = new ReceivedRanges();
    for (const pn of [0, 1, 2, 4, 5, 8]) r.add(pn);
    r.forgetUpTo(4);
    expect(r.toArray()).toEqual([[8, 8], [5, 5]]);
    expect(r.add(3)).toBe(false);
    expect(r.add(1)).toBe(false);
    expect(r.add(6)).toBe(true);
    expect(r.toArray()).toEqual([[8, 8], [5, 6]]);
  });
});
