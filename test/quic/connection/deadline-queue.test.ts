/**
 * DeadlineQueue (src/quic/connection/deadline-queue.ts), the router's quiet connections by
 * deadline: under any sequence of operations it answers as a plain map scanned in full would (the
 * router's structure before it), and its heap stays bounded however often items wake and sleep.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from '../../../src/quic/connection/deadline-queue.js';

type Op =
  | { kind: 'set'; item: number; deadline: number | undefined }
  | { kind: 'delete'; item: number }
  | { kind: 'takeDue'; now: number }
  | { kind: 'earliest' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), item: fc.nat(12), deadline: fc.option(fc.nat(100), { nil: undefined }) }),
  fc.record({ kind: fc.constant('delete' as const), item: fc.nat(12) }),
  fc.record({ kind: fc.constant('takeDue' as const), now: fc.nat(100) }),
  fc.record({ kind: fc.constant('earliest' as const) }),
);

describe('DeadlineQueue', () => {
  it('answers every operation as a scanned map does; due items come earliest first', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const queue = new DeadlineQueue<number>();
        const model = new Map<number, number | undefined>();
        for (const o of ops) {
          if (o.kind === 'set') {
            queue.set(o.item, o.deadline);
            model.set(o.item, o.deadline);
          } else if (o.kind === 'delete') {
            expect(queue.delete(o.item)).toBe(model.delete(o.item));
          } else if (o.kind === 'takeDue') {
            const taken: number[] = [];
            queue.takeDue(o.now, (item) => taken.push(item));
            const due = [...model].filter(([, d]) => d !== undefined && d <= o.now);
            for (const [item] of due) model.delete(item);
            expect([...taken].sort((a, b) => a - b)).toEqual(due.map(([item]) => item).sort((a, b) => a - b));
            const deadlines = taken.map((item) => due.find(([i]) => i === item)![1]!);
            expect(deadlines).toEqual([...deadlines].sort((a, b) => a - b));
          } else {
            const deadlines = [...model.values()].filter((d): d is number => d !== undefined);
            expect(queue.earliest()).toBe(deadlines.length > 0 ? Math.min(...deadlines) : undefined);
          }
          expect(queue.size).toBe(model.size);
          for (const item of model.keys()) expect(queue.has(item)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps its heap bounded when items wake and sleep again before their deadlines', () => {
    const queue = new DeadlineQueue<number>();
    for (let item = 0; item < 100; item++) queue.set(item, 1_000_000 + item);
    // Each round wakes every item and puts it back with a later deadline: a busy server's pattern.
    for (let round = 0; round < 1_000; round++) {
      for (let item = 0; item < 100; item++) {
        queue.delete(item);
        queue.set(item, 1_000_000 + round + item);
      }
    }
    const heapLength = (queue as unknown as { heap: unknown[] }).heap.length;
    expect(heapLength).toBeLessThanOrEqual(2 * 100 + 32 + 1);
    expect(queue.earliest()).toBe(1_000_000 + 999);
  });
});
