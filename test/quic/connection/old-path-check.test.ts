/**
 * OldPathCheck, the timing and bookkeeping of the previously active path's validation (RFC 9000
 * §9.3.3, §8.2.1, §8.2.4, §9.4; RFC 9002 §6.2.1 backoff; §8.1 anti-amplification credit).
 */
import { describe, expect, it } from 'vitest';
import { OldPathCheck } from '../../../src/quic/connection/old-path-check.js';

const OLD = { address: '192.0.2.1', port: 4433 };
const CID = Buffer.from('0102030405060708', 'hex');

describe('OldPathCheck (RFC 9000 §9.3.3)', () => {
  it('challenges at once, then after one PTO, two, four… until the deadline', () => {
    const check = new OldPathCheck(OLD, CID, 3, Infinity, 100, 1_000, 0);
    expect(check.nextTimeout).toBe(0);
    const sentAt: number[] = [];
    for (let now = 0; now < 2_000; now++) {
      if (check.due(now, 1200)) {
        sentAt.push(now);
        check.onSent(Buffer.alloc(8, sentAt.length), 1200, now);
      }
    }
    expect(sentAt).toEqual([0, 100, 300, 700]);
    expect(check.nextTimeout).toBe(1_000);
    expect(check.expired(999)).toBe(false);
    expect(check.expired(1_000)).toBe(true);
  });

  it('accepts a response to any of its recent challenges, and to nothing else', () => {
    const check = new OldPathCheck(OLD, CID, undefined, Infinity, 100, 10_000, 0);
    for (let i = 1; i <= 5; i++) check.onSent(Buffer.alloc(8, i), 1200, i * 1_000);
    expect(check.matches(Buffer.alloc(8, 5))).toBe(true);
    expect(check.matches(Buffer.alloc(8, 2))).toBe(true);
    expect(check.matches(Buffer.alloc(8, 1))).toBe(false); // the oldest of five is forgotten
    expect(check.matches(Buffer.alloc(8, 9))).toBe(false);
  });

  it('a validation already underway is adopted: its data answers, the next challenge waits a PTO', () => {
    const adopted = Buffer.alloc(8, 0xaa);
    const check = new OldPathCheck(OLD, CID, undefined, Infinity, 250, 3_000, 1_000, adopted);
    expect(check.matches(adopted)).toBe(true);
    expect(check.due(1_000, 1200)).toBe(false);
    expect(check.nextTimeout).toBe(1_250);
    expect(check.due(1_250, 1200)).toBe(true);
  });

  it('an unvalidated old path gets no more than its anti-amplification credit (RFC 9000 §8.1)', () => {
    const check = new OldPathCheck(OLD, CID, undefined, 1_500, 100, 5_000, 0);
    expect(check.room).toBe(1_500);
    expect(check.due(0, 1200)).toBe(true);
    check.onSent(Buffer.alloc(8, 1), 1200, 0);
    expect(check.room).toBe(300);
    // A full-size challenge no longer fits, and never will: only the deadline is left to wait for.
    expect(check.due(100, 1200)).toBe(false);
    expect(check.nextTimeout).toBe(5_000);
    expect(check.due(200, 50)).toBe(false);
  });
});
