/**
 * StreamTable (src/h3/stream-table.ts): the same answers as a Map for any sequence of sets,
 * deletes and lookups on stream IDs (RFC 9000 §2.1: any kind, up to 2^62), through growth and
 * backward-shift deletion; deleted entries leave no reference behind.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamTable } from '../../src/core/stream-table.js';

const streamId = fc.oneof(
  // Request streams close together (the common case: consecutive slots, long probe runs)...
  fc.nat({ max: 200 }).map((n) => 4 * n),
  // ...every stream kind...
  fc.tuple(fc.nat({ max: 300 }), fc.nat({ max: 3 })).map(([n, kind]) => 4 * n + kind),
  // ...and IDs far apart or near 2^62 that land on the same slots.
  fc.constantFrom(0, 64, 128, 1024, 2 ** 40, 2 ** 40 + 64, 2 ** 53 - 4, 2 ** 62 - 4),
);

type Op = { op: 'set'; id: number; value: number } | { op: 'delete'; id: number } | { op: 'get'; id: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), id: streamId, value: fc.integer() }),
  fc.record({ op: fc.constant('delete' as const), id: streamId }),
  fc.record({ op: fc.constant('get' as const), id: streamId }),
);

describe('StreamTable', () => {
  it('answers get/has/size/values/delete as a Map does, for any operations (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const table = new StreamTable<{ value: number }>();
        const map = new Map<number, { value: number }>();
        for (const o of ops) {
          if (o.op === 'set') {
            const v = { value: o.value };
            table.set(o.id, v);
            map.set(o.id, v);
          } else if (o.op === 'delete') {
            expect(table.delete(o.id)).toBe(map.delete(o.id));
          } else {
            expect(table.get(o.id)).toBe(map.get(o.id));
            expect(table.has(o.id)).toBe(map.has(o.id));
          }
          expect(table.size).toBe(map.size);
        }
        for (const [id, v] of map) expect(table.get(id)).toBe(v);
        expect(new Set(table.values())).toEqual(new Set(map.values()));
        expect(table.values()).toHaveLength(map.size);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps no reference to a deleted entry, and values() is a copy safe to delete through', () => {
    const table = new StreamTable<object>();
    const kept = { kept: true };
    const gone = { gone: true };
    for (let id = 0; id < 400; id += 4) table.set(id, id === 8 ? gone : kept);
    for (const v of table.values()) expect(v).toBeDefined();
    for (let id = 0; id < 400; id += 4) table.delete(id);
    expect(table.size).toBe(0);
    // The arrays hold nothing but empty slots now.
    const inner = table as unknown as { entries: unknown[]; ids: number[] };
    expect(inner.entries.every((e) => e === undefined)).toBe(true);
    expect(inner.ids.every((id) => id === -1)).toBe(true);
    table.set(4, gone);
    table.clear();
    expect(table.get(4)).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('refuses IDs that are not non-negative integers', () => {
    const table = new StreamTable<number>();
    for (const bad of [-4, 1.5, Number.NaN, Infinity]) expect(() => table.set(bad, 1)).toThrow(RangeError);
    expect(table.get(-4)).toBeUndefined();
  });
});
