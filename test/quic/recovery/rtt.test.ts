import { describe, expect, it } from 'vitest';
import { GRANULARITY, INITIAL_RTT, RttEstimator } from '../../../src/quic/recovery/rtt.js';

describe('RttEstimator (RFC 9002 §5)', () => {
  it('starts from kInitialRtt = 333 ms and rttvar = 166.5 ms (§5.3, §6.2.2)', () => {
    const rtt = new RttEstimator();
    expect(INITIAL_RTT).toBe(333);
    expect(rtt.smoothedRtt).toBe(333);
    expect(rtt.rttvar).toBe(166.5);
    expect(rtt.hasSample).toBe(false);
    // PTO before any sample: 333 + 4 × 166.5 = 999 ms.
    expect(rtt.ptoBase()).toBe(999);
  });

  it('first sample sets min_rtt, smoothed_rtt = sample, rttvar = sample / 2 and ignores ack_delay (§5.3)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 40, false, 25, 1000);
    expect(rtt.latestRtt).toBe(100);
    expect(rtt.minRtt).toBe(100);
    expect(rtt.smoothedRtt).toBe(100);
    expect(rtt.rttvar).toBe(50);
    expect(rtt.firstSampleTime).toBe(1000);
  });

  it('subtracts ack_delay when latest_rtt >= min_rtt + ack_delay (§5.3)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, true, 25, 0);
    rtt.update(120, 10, true, 25, 1);
    // adjusted = 110; rttvar = 3/4·50 + 1/4·|100 − 110| = 40; srtt = 7/8·100 + 1/8·110 = 101.25
    expect(rtt.rttvar).toBe(40);
    expect(rtt.smoothedRtt).toBe(101.25);
    expect(rtt.minRtt).toBe(100);
  });

  it('does not subtract ack_delay that would take the sample below min_rtt (§5.3)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, true, 25, 0);
    rtt.update(110, 20, true, 25, 1);
    // 110 < 100 + 20 → adjusted = 110; rttvar = 37.5 + 2.5 = 40; srtt = 87.5 + 13.75 = 101.25
    expect(rtt.rttvar).toBe(40);
    expect(rtt.smoothedRtt).toBe(101.25);
  });

  it('clamps ack_delay to max_ack_delay only after handshake confirmation (§5.3)', () => {
    const confirmed = new RttEstimator();
    confirmed.update(100, 0, true, 25, 0);
    confirmed.update(200, 80, true, 25, 1);
    // clamped to 25: adjusted = 175; rttvar = 37.5 + 18.75 = 56.25; srtt = 87.5 + 21.875 = 109.375
    expect(confirmed.rttvar).toBe(56.25);
    expect(confirmed.smoothedRtt).toBe(109.375);

    const unconfirmed = new RttEstimator();
    unconfirmed.update(100, 0, false, 25, 0);
    unconfirmed.update(200, 80, false, 25, 1);
    // not clamped: adjusted = 120; rttvar = 37.5 + 5 = 42.5; srtt = 87.5 + 15 = 102.5
    expect(unconfirmed.rttvar).toBe(42.5);
    expect(unconfirmed.smoothedRtt).toBe(102.5);
  });

  it('min_rtt is the minimum of raw samples, never adjusted (§5.2)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, true, 25, 0);
    rtt.update(80, 20, true, 25, 1);
    expect(rtt.minRtt).toBe(80);
    rtt.update(90, 0, true, 25, 2);
    expect(rtt.minRtt).toBe(80);
    rtt.resetMinRtt();
    expect(rtt.minRtt).toBe(90);
  });

  it('PTO base uses kGranularity when rttvar is tiny (§6.2.1)', () => {
    const rtt = new RttEstimator();
    rtt.update(10, 0, true, 25, 0);
    for (let i = 0; i < 60; i++) rtt.update(10, 0, true, 25, i + 1);
    expect(rtt.rttvar).toBeLessThan(GRANULARITY / 4);
    expect(rtt.ptoBase()).toBe(10 + GRANULARITY);
  });
});
