import { describe, expect, it } from 'vitest';
import { createController } from '../../../src/quic/congestion/controller.js';
import { NewReno } from '../../../src/quic/congestion/new-reno.js';
import { initialWindow, minimumWindow } from '../../../src/quic/congestion/window.js';

const RTT = { latestRtt: 100, minRtt: 100, smoothedRtt: 100 };
const pkt = (timeSent: number, sentBytes = 1200, inFlight = true) => ({ timeSent, sentBytes, inFlight });

describe('windows (RFC 9002 §7.2)', () => {
  it('initial window is min(10 × mds, max(14720, 2 × mds)); minimum is 2 × mds', () => {
    expect(initialWindow(1200)).toBe(12000);
    expect(initialWindow(1500)).toBe(14720);
    expect(initialWindow(9000)).toBe(18000);
    expect(minimumWindow(1200)).toBe(2400);
    expect(() => new NewReno(1199)).toThrow(RangeError);
  });

  it('createController builds either algorithm', () => {
    expect(createController('newreno', 1200)).toBeInstanceOf(NewReno);
    expect(createController('cubic', 1200).congestionWindow).toBe(12000);
  });
});

describe('NewReno (RFC 9002 §7, Appendix B)', () => {
  it('slow start → loss → recovery → congestion avoidance, with exact windows', () => {
    const cc = new NewReno(1200);
    expect(cc.congestionWindow).toBe(12000);
    expect(cc.ssthresh).toBe(Infinity);
    for (let i = 0; i < 10; i++) cc.onPacketSent(1200, 0);
    expect(cc.bytesInFlight).toBe(12000);
    expect(cc.canSend(1)).toBe(false);

    // Slow start: +bytes acknowledged (§7.3.1).
    cc.onPacketsAcked(Array.from({ length: 10 }, () => pkt(0)), 100, RTT);
    expect(cc.congestionWindow).toBe(24000);
    expect(cc.bytesInFlight).toBe(0);

    for (let i = 0; i < 20; i++) cc.onPacketSent(1200, 110 + i);
    // Loss of a packet sent at t=110: ssthresh = cwnd / 2, window cut at once (§7.3.2).
    cc.onPacketsLost([pkt(110)], 200);
    expect(cc.ssthresh).toBe(12000);
    expect(cc.congestionWindow).toBe(12000);
    expect(cc.bytesInFlight).toBe(22800);
    // §7.3.2: one packet may still be sent to speed up recovery, then the window applies.
    expect(cc.canSend(1200)).toBe(true);
    cc.onPacketSent(1200, 201);
    expect(cc.canSend(1200)).toBe(false);

    // Another loss of a packet sent before recovery began: no second reduction.
    cc.onPacketsLost([pkt(111)], 210);
    expect(cc.congestionWindow).toBe(12000);
    // ACK of a packet sent before recovery began: no growth.
    cc.onPacketsAcked([pkt(112)], 220, RTT);
    expect(cc.congestionWindow).toBe(12000);

    // ACK of the packet sent during recovery ends it; congestion avoidance adds mds² / cwnd (§7.3.3).
    cc.onPacketsAcked([pkt(201)], 300, RTT);
    expect(cc.congestionWindow).toBe(12120);
    cc.onPacketsAcked([pkt(201)], 301, RTT);
    expect(cc.congestionWindow).toBeCloseTo(12120 + (1200 * 1200) / 12120, 9);
  });

  it('congestion avoidance grows by about one mds per window acknowledged', () => {
    const cc = new NewReno(1200);
    for (let i = 0; i < 10; i++) cc.onPacketSent(1200, 0);
    cc.onPacketsLost([pkt(0)], 10); // cwnd 6000 = ssthresh
    const start = cc.congestionWindow;
    expect(start).toBe(6000);
    cc.onPacketsAcked(Array.from({ length: 5 }, () => pkt(20)), 30, RTT);
    expect(cc.congestionWindow).toBeGreaterThan(start + 1100);
    expect(cc.congestionWindow).toBeLessThan(start + 1200);
  });

  it('the window never drops below kMinimumWindow', () => {
    const cc = new NewReno(1200);
    cc.onPacketSent(1200, 0);
    cc.onPacketsLost([pkt(0)], 1);
    cc.onPacketSent(1200, 2);
    cc.onPacketsLost([pkt(2)], 3);
    cc.onPacketSent(1200, 4);
    cc.onPacketsLost([pkt(4)], 5);
    expect(cc.ssthresh).toBe(1500);
    expect(cc.congestionWindow).toBe(2400);
  });

  it('losses of packets not in flight are no congestion event', () => {
    const cc = new NewReno(1200);
    cc.onPacketsLost([pkt(0, 50, false)], 1);
    expect(cc.congestionWindow).toBe(12000);
    expect(cc.ssthresh).toBe(Infinity);
  });

  it('persistent congestion collapses to the minimum window and slow start resumes (§7.6.2)', () => {
    const cc = new NewReno(1200);
    for (let i = 0; i < 4; i++) cc.onPacketSent(1200, i);
    cc.onPacketsLost([pkt(0), pkt(1), pkt(2)], 500);
    cc.onPersistentCongestion(500);
    expect(cc.congestionWindow).toBe(2400);
    expect(cc.ssthresh).toBe(6000);
    expect(cc.bytesInFlight).toBe(1200);
    // A packet sent before the loss is acknowledged: recovery was reset, so slow start counts it.
    cc.onPacketsAcked([pkt(3)], 600, RTT);
    expect(cc.congestionWindow).toBe(3600);
  });

  it('an app-limited sender does not grow its window (§7.8)', () => {
    const cc = new NewReno(1200);
    cc.onPacketSent(1200, 0);
    cc.setAppLimited(true);
    cc.onPacketsAcked([pkt(0)], 100, RTT);
    expect(cc.congestionWindow).toBe(12000);
    expect(cc.bytesInFlight).toBe(0);
    cc.setAppLimited(false);
    cc.onPacketSent(1200, 100);
    cc.onPacketsAcked([pkt(100)], 200, RTT);
    expect(cc.congestionWindow).toBe(13200);
  });

  it('ECN-CE starts a recovery period like a loss (§7.1)', () => {
    const cc = new NewReno(1200);
    cc.onEcnCe(0, 50);
    expect(cc.congestionWindow).toBe(6000);
    cc.onEcnCe(40, 60);
    expect(cc.congestionWindow).toBe(6000);
  });

  it('discarded packets leave flight without a congestion signal (§6.4)', () => {
    const cc = new NewReno(1200);
    cc.onPacketSent(1200, 0);
    cc.onPacketSent(1000, 0);
    cc.onPacketsDiscarded([pkt(0), pkt(0, 1000)]);
    expect(cc.bytesInFlight).toBe(0);
    expect(cc.congestionWindow).toBe(12000);
  });

  it('a new max datagram size recomputes the initial window (§7.2)', () => {
    const cc = new NewReno(1200);
    cc.setMaxDatagramSize(1500);
    expect(cc.congestionWindow).toBe(14720);
    expect(cc.maxDatagramSize).toBe(1500);
    cc.setMaxDatagramSize(1200);
    expect(cc.congestionWindow).toBe(12000);
    expect(() => cc.setMaxDatagramSize(1000)).toThrow(RangeError);
  });

  it('a smaller max datagram size after the window grew keeps the window in bytes (§7.2 resets it only to complete the handshake)', () => {
    const cc = new NewReno(1452);
    for (let i = 0; i < 10; i++) cc.onPacketSent(1452, 0);
    cc.onPacketsAcked(Array.from({ length: 10 }, () => pkt(0, 1452)), 100, RTT);
    const grown = cc.congestionWindow;
    expect(grown).toBeGreaterThan(initialWindow(1452));
    cc.setMaxDatagramSize(1200); // DPLPMTUD's black-hole fallback (RFC 8899 §4.3)
    expect(cc.maxDatagramSize).toBe(1200);
    expect(cc.congestionWindow).toBe(grown);
  });
});
