import fc from 'fast-check';
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

describe('Pacer bursts at high rates (RFC 9002 §7.7, a timer of 1 ms granularity)', () => {
  it('holds what the rate brings in the burst interval when that is more than the burst packets', () => {
    // Rate = 1.25 × 600,000 / 10 = 75,000 bytes/ms: 2 ms of it is 150,000 bytes, more than 10 × 1200.
    const p = new Pacer(1200, 600_000, 10);
    expect(p.capacity).toBe(150_000);
    // Never more than the window.
    p.update(100_000, 1, 1200, 0);
    expect(p.capacity).toBe(100_000);
    // At a low rate the burst packets decide: 1.25 × 120,000 / 100 = 1,500 bytes/ms.
    p.update(120_000, 100, 1200, 0);
    expect(p.capacity).toBe(12_000);
  });

  it('a sender woken only every 1 to 2 ms still gets the rate, and never runs more than a burst ahead of it (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 2_000 }), // window, in datagrams
        // Smoothed RTT from 3 ms: below 2.5 ms, 2 ms of the rate (1.25 windows per RTT) is more than
        // the window, which then limits each burst and the sender with it.
        fc.integer({ min: 3, max: 200 }),
        fc.array(fc.double({ min: 1, max: 2, noNaN: true }), { minLength: 500, maxLength: 500 }), // timer delays, ms
        (packets, srtt, delays) => {
          const size = 1200;
          const p = new Pacer(size, packets * size, srtt, { burstPackets: 32 });
          let now = 0;
          let sent = 0;
          for (const delay of delays) {
            now += delay;
            while (p.timeUntilSend(now, size) === 0) {
              p.onSend(now, size);
              sent += size;
            }
          }
          // Whole datagrams and a bucket that may be one datagram short of a late wake-up cost at
          // most a few percent; a bucket smaller than a wake-up's worth of the rate cost far more
          // (32 datagrams per 1-2 ms at 75,000 bytes/ms is a third of it).
          expect(sent).toBeGreaterThanOrEqual(0.9 * p.rate * now);
          // The bucket starts full: at most one burst (and the datagram that overdraws it) ahead.
          expect(sent).toBeLessThanOrEqual(p.rate * now + p.capacity + size);
        },
      ),
      { numRuns: 100 },
    );
  });
});
