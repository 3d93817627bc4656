/**
 * Send scheduling (RFC 9218 §4, §10): the Priority field parser and the urgency rings.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_PRIORITY, SendScheduler, parsePriority } from '../../src/h2/connection/scheduler.js';

describe('parsePriority (RFC 9218 §4)', () => {
  test('defaults: u=3, not incremental (§4.1, §4.2)', () => {
    expect(parsePriority('')).toEqual({ urgency: 3, incremental: false });
  });

  test('the RFC examples: "u=5, i" and "u=0" (§4)', () => {
    expect(parsePriority('u=5, i')).toEqual({ urgency: 5, incremental: true });
    expect(parsePriority('u=0')).toEqual({ urgency: 0, incremental: false });
    expect(parsePriority('i=?0, u=7')).toEqual({ urgency: 7, incremental: false });
  });

  test('out-of-range or malformed members are ignored; unknown keys too (§4.1, §4.3)', () => {
    expect(parsePriority('u=8')).toEqual(DEFAULT_PRIORITY);
    expect(parsePriority('u=-1, i=1')).toEqual(DEFAULT_PRIORITY);
    expect(parsePriority('u=a, x=1, foo')).toEqual(DEFAULT_PRIORITY);
  });

  test('a PRIORITY_UPDATE applies over the current values (§7)', () => {
    expect(parsePriority('i', { urgency: 1, incremental: false })).toEqual({ urgency: 1, incremental: true });
  });

  test('any string parses to an urgency in 0..7 without throwing', () => {
    fc.assert(fc.property(fc.string(), (value) => {
      const { urgency } = parsePriority(value);
      expect(Number.isInteger(urgency) && urgency >= 0 && urgency <= 7).toBe(true);
    }), { numRuns: 300 });
  });
});

describe('SendScheduler', () => {
  test('lower urgency first; equal urgency takes turns', () => {
    const s = new SendScheduler();
    s.add(1, 3);
    s.add(3, 3);
    s.add(5, 0);
    expect(s.next()).toBe(5);
    expect(s.next()).toBe(1);
    s.add(1, 3); // 1 still has data: to the back of its ring
    expect(s.next()).toBe(3);
    expect(s.next()).toBe(1);
    expect(s.next()).toBeUndefined();
  });

  test('move and remove', () => {
    const s = new SendScheduler();
    s.add(1, 3);
    s.add(3, 3);
    s.move(3, 1);
    expect(s.next()).toBe(3);
    s.remove(1);
    expect(s.size).toBe(0);
  });

  test('round robin: every queued stream is served once before any is served twice', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 30 }), (ids) => {
      const s = new SendScheduler();
      for (const id of ids) s.add(id, 3);
      const served: number[] = [];
      for (let i = 0; i < ids.length * 2; i++) {
        const id = s.next()!;
        served.push(id);
        s.add(id, 3);
      }
      expect(served.slice(0, ids.length)).toEqual(ids);
      expect(served.slice(ids.length)).toEqual(ids);
    }), { numRuns: 200 });
  });
});
