import { describe, expect, it } from 'vitest';
import { Pacer, PACING_GAIN } from '../../../src/quic/congestion/pacer.js';

describe('Pacer (RFC 9002 §7.7)', () => {
  it('rate = 1.25 × cwnd / smoothed_rtt', () => {
    const p = new Pacer(1200, 120_000, 100);
    expect(PACING_GAIN).toBe(1.25);
    expect(p.rate).toBe(1500); // bytes per ms
  });

  it('lets a burst of 10 datagrams out at once, then spaces packets at the rate', () => {
    const p = new Pacer(1200, 120_000, 100);
    for (let i = 0; i < 10; i++) {
      expect(p.timeUntilSend(0, 1200)).toBe(0);
      p.onSend(0, 1200);
    }
    // Interval = srtt × size / cwnd / N = 100 × 1200 / 120000 / 1.25 = 0.8 ms.
    expect(p.timeUntilSend(0, 1200)).toBeCloseTo(0.8, 12);
    expect(p.timeUntilSend(0.4, 1200)).toBeCloseTo(0.4, 12);
    expect(p.timeUntilSend(0.8, 1200)).toBe(0);
    p.onSend(0.8, 1200);
    expect(p.timeUntilSend(0.8, 1200)).toBeCloseTo(0.8, 12);
  });

  it('refills to at most the burst after idle time', () => {
    const p = new Pacer(1200, 120_000, 100);
    for (let i = 0; i < 10; i++) p.onSend(0, 1200);
    for (let i = 0; i < 10; i++) {
      expect(p.timeUntilSend(10_000, 1200)).toBe(0);
      p.onSend(10_000, 1200);
    }
    expect(p.timeUntilSend(10_000, 1200)).toBeGreaterThan(0);
  });

  it('a small window limits the burst to the window', () => {
    const p = new Pacer(1200, 2400, 100);
    expect(p.capacity).toBe(2400);
    p.onSend(0, 1200);
    p.onSend(0, 1200);
    // Rate = 1.25 × 2400 / 100 = 30 bytes/ms → 40 ms for 1200 bytes.
    expect(p.timeUntilSend(0, 1200)).toBeCloseTo(40, 9);
  });

  it('follows window and RTT updates; no RTT means no pacing delay', () => {
    const p = new Pacer(1200, 12_000, 100);
    for (let i = 0; i < 10; i++) p.onSend(0, 1200);
    p.update(24_000, 50, 1200, 0);
    expect(p.rate).toBe(600);
    expect(p.timeUntilSend(0, 1200)).toBeCloseTo(2, 9);
    p.update(24_000, 0, 1200, 0);
    expect(p.timeUntilSend(0, 1200)).toBe(0);
  });
});
