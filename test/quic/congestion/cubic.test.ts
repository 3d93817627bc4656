import { describe, expect, it } from 'vitest';
import { CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, Cubic, cubicK, wCubic } from '../../../src/quic/congestion/cubic.js';

const MDS = 1200;
const pkt = (timeSent: number, sentBytes = MDS) => ({ timeSent, sentBytes, inFlight: true });
const rttOf = (ms: number) => ({ latestRtt: ms, minRtt: ms, smoothedRtt: ms });

/** A CUBIC controller that has grown to `segments` and just lost a packet at t=0. */
function afterLossAt(segments: number, options = {}): Cubic {
  const cc = new Cubic(MDS, { hystart: false, ...options });
  const grow = segments * MDS - cc.congestionWindow;
  cc.onPacketSent(grow, -1);
  cc.onPacketsAcked([pkt(-1, grow)], -0.5, rttOf(100));
  expect(cc.congestionWindow).toBe(segments * MDS);
  cc.onPacketSent(MDS, -0.5);
  cc.onPacketsLost([pkt(-0.5)], 0);
  return cc;
}

describe('CUBIC formulas (RFC 9438 §4.2)', () => {
  it('constants: C = 0.4, β = 0.7, α = 3(1 − β)/(1 + β)', () => {
    expect(CUBIC_C).toBe(0.4);
    expect(CUBIC_BETA).toBe(0.7);
    expect(CUBIC_ALPHA).toBeCloseTo(0.9 / 1.7, 15);
  });

  it('K = ∛((W_max − cwnd_epoch) / C) and W_cubic passes through cwnd_epoch, W_max', () => {
    // W_max = 100 segments, cwnd_epoch = 70: K = ∛75 s.
    const k = cubicK(100, 70);
    expect(k).toBeCloseTo(4.217163326508746, 12);
    expect(wCubic(0, k, 100)).toBeCloseTo(70, 9);
    expect(wCubic(k, k, 100)).toBe(100);
    expect(wCubic(2 * k, k, 100)).toBeCloseTo(130, 9);
    expect(wCubic(1, k, 100)).toBeCloseTo(0.4 * (1 - k) ** 3 + 100, 12);
    expect(cubicK(50, 60)).toBe(0); // never negative
  });
});

describe('CUBIC controller (RFC 9438 §4)', () => {
  it('cuts the window to β × cwnd on loss and remembers W_max (§4.6)', () => {
    const cc = afterLossAt(100);
    expect(cc.lastMaxWindow).toBe(120000);
    expect(cc.congestionWindow).toBeCloseTo(84000, 9);
    expect(cc.ssthresh).toBeCloseTo(84000, 9);
  });

  it('fast convergence lowers W_max when the window did not regain it (§4.7)', () => {
    const cc = afterLossAt(100);
    cc.onPacketSent(MDS, 10);
    cc.onPacketsLost([pkt(10)], 20);
    expect(cc.lastMaxWindow).toBeCloseTo((84000 * (1 + 0.7)) / 2, 9);
    expect(cc.congestionWindow).toBeCloseTo(84000 * 0.7, 9);

    const plain = afterLossAt(100, { fastConvergence: false });
    plain.onPacketSent(MDS, 10);
    plain.onPacketsLost([pkt(10)], 20);
    expect(plain.lastMaxWindow).toBeCloseTo(84000, 9);
  });

  it('congestion avoidance follows W_cubic(t + RTT) with exact per-ACK increments (§4.4)', () => {
    const cc = afterLossAt(100);
    const rtt = rttOf(100);
    // First ACK at t_epoch = 1000 ms: W_cubic(0) = cwnd_epoch < W_est, so the Reno-friendly
    // estimate rules (§4.3): W_est = 84000 + α × MDS × 1200 / 84000.
    cc.onPacketSent(MDS, 900);
    cc.onPacketsAcked([pkt(900)], 1000, rtt);
    const k = cubicK(100, 70);
    expect(cc.kSeconds).toBeCloseTo(k, 12);
    const cwnd1 = 84000 + (CUBIC_ALPHA * MDS * MDS) / 84000;
    expect(cc.congestionWindow).toBeCloseTo(cwnd1, 9);

    // One second later the cubic curve is above W_est: target = W_cubic(1 s + 100 ms).
    cc.onPacketSent(MDS, 1900);
    cc.onPacketsAcked([pkt(1900)], 2000, rtt);
    const target = wCubic(1.1, k, 100) * MDS;
    expect(target).toBeGreaterThan(cwnd1);
    expect(target).toBeLessThan(1.5 * cwnd1);
    expect(cc.congestionWindow).toBeCloseTo(cwnd1 + ((target - cwnd1) * MDS) / cwnd1, 9);
  });

  it('the target is capped at 1.5 × cwnd (§4.2)', () => {
    const cc = afterLossAt(100);
    const rtt = rttOf(100);
    cc.onPacketsAcked([pkt(900)], 1000, rtt); // starts the epoch
    const before = cc.congestionWindow;
    cc.onPacketsAcked([pkt(1900, 1200)], 1000 + 20_000, rtt); // far in the convex region
    expect(cc.congestionWindow).toBeCloseTo(before + (0.5 * before * MDS) / before, 9);
  });

  it('Reno-friendly region: with a short RTT the window follows W_est (§4.3)', () => {
    const cc = afterLossAt(10);
    const rtt = rttOf(10);
    // cwnd 8400 (7 segments), W_max 10 segments, K = ∛7.5 ≈ 1.96 s. ACK clocked every 10 ms.
    let now = 0;
    for (let round = 0; round < 10; round++) {
      now += 10;
      const n = Math.floor(cc.congestionWindow / MDS);
      cc.onPacketsAcked(Array.from({ length: n }, () => pkt(now - 10)), now, rtt);
    }
    const k = cubicK(10, 7);
    // 90 ms after the epoch began W_cubic is ≈ 7.4 segments, while W_est has grown by α per RTT
    // (and by 1 per RTT once past cwnd_prior = 10 segments): the window follows W_est.
    const cubicWindow = wCubic(0.09, k, 10) * MDS;
    expect(cubicWindow).toBeLessThan(7.5 * MDS);
    expect(cc.congestionWindow).toBeGreaterThan(7 * MDS + 9 * CUBIC_ALPHA * MDS);
    expect(cc.congestionWindow).toBeLessThan(7 * MDS + 10 * MDS);
  });

  it('grows concave up to W_max, then convex (§4.4, §4.5)', () => {
    const cc = afterLossAt(100);
    const rtt = rttOf(100);
    const samples: number[] = [];
    let now = 0;
    // ACK clock: one window per RTT, sampled once per second for 10 s.
    for (let step = 1; step <= 100; step++) {
      now += 100;
      const n = Math.floor(cc.congestionWindow / MDS);
      cc.onPacketsAcked(Array.from({ length: n }, () => pkt(now - 100)), now, rtt);
      if (step % 10 === 0) samples.push(cc.congestionWindow / MDS);
    }
    const k = cubicK(100, 70);
    const growth = samples.slice(1).map((w, i) => w - samples[i]!);
    const plateau = Math.floor(k) - 1; // last full second before K
    for (let i = 1; i < plateau; i++) expect(growth[i]!).toBeLessThan(growth[i - 1]!); // concave
    for (let i = plateau + 3; i < growth.length; i++) expect(growth[i]!).toBeGreaterThan(growth[i - 1]!); // convex
    // Near t = K the window sits close to W_max = 100 segments.
    expect(samples[3]!).toBeGreaterThan(97);
    expect(samples[3]!).toBeLessThan(103);
    expect(samples[9]!).toBeGreaterThan(100);
  });

  it('after persistent congestion the next epoch starts with K = 0 (§4.8)', () => {
    const cc = afterLossAt(100);
    cc.onPersistentCongestion(50);
    expect(cc.congestionWindow).toBe(2 * MDS);
    // Slow start up to ssthresh, then an epoch with W_max = cwnd_epoch, K = 0.
    cc.onPacketsAcked([pkt(60, 84000 - 2 * MDS)], 100, rttOf(100));
    expect(cc.congestionWindow).toBeCloseTo(84000, 6);
    cc.onPacketsAcked([pkt(110)], 200, rttOf(100));
    expect(cc.kSeconds).toBe(0);
    expect(cc.lastMaxWindow).toBeCloseTo(84000, 6);
  });

  it('does not grow while app-limited (RFC 9002 §7.8), and restarts its epoch afterwards', () => {
    const cc = afterLossAt(100);
    cc.onPacketsAcked([pkt(900)], 1000, rttOf(100)); // epoch starts at t = 1 s
    cc.setAppLimited(true);
    const before = cc.congestionWindow;
    cc.onPacketsAcked([pkt(1900)], 5000, rttOf(100));
    expect(cc.congestionWindow).toBe(before);
    cc.setAppLimited(false);
    // Without a new epoch, t would be 60 s and the window would jump by half; instead the curve
    // restarts at the current window: K = ∛((W_max − cwnd) / C).
    cc.onPacketsAcked([pkt(60_000)], 61_000, rttOf(100));
    expect(cc.kSeconds).toBeCloseTo(cubicK(100, before / MDS), 9);
    expect(cc.congestionWindow).toBeLessThan(before + MDS);
  });
});
