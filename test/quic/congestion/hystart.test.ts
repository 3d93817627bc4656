import { describe, expect, it } from 'vitest';
import { Cubic } from '../../../src/quic/congestion/cubic.js';
import { CSS_ROUNDS, HyStartPlusPlus, N_RTT_SAMPLE } from '../../../src/quic/congestion/hystart.js';

/** Drives one round of `acks` ACK frames with the given RTT; the last one ends the round. */
function round(h: HyStartPlusPlus, start: number, rtt: number, acks = N_RTT_SAMPLE): boolean {
  let exited = false;
  for (let i = 0; i < acks; i++) {
    const now = start + i;
    // Packets acked before the last one were sent before the round began; the last one after.
    const sent = i === acks - 1 ? start : -1;
    exited = h.onAck(sent, now, rtt) || exited;
  }
  return exited;
}

describe('HyStart++ (RFC 9406)', () => {
  it('stays in slow start while the round minimum RTT is stable', () => {
    const h = new HyStartPlusPlus();
    for (let r = 0; r < 10; r++) round(h, r * 100, 50);
    expect(h.phase).toBe('slow-start');
  });

  it('enters CSS when the minimum RTT rises by RttThresh = clamp(last/8, 4, 16) ms (§4.3)', () => {
    const h = new HyStartPlusPlus();
    round(h, 0, 80);
    round(h, 100, 80);
    // Threshold = 80 / 8 = 10 ms: 89 ms is not enough, 90 ms is.
    round(h, 200, 89);
    expect(h.phase).toBe('slow-start');
    // Now the last round's minimum is 89: threshold 89 / 8 = 11.125 ms, reached exactly.
    round(h, 300, 100.125);
    expect(h.phase).toBe('css');
  });

  it('RttThresh is at least 4 ms and at most 16 ms', () => {
    const low = new HyStartPlusPlus();
    round(low, 0, 20);
    round(low, 100, 20);
    round(low, 200, 23.9); // 20 / 8 = 2.5 → 4 ms
    expect(low.phase).toBe('slow-start');
    round(low, 300, 27.9);
    expect(low.phase).toBe('css');

    const high = new HyStartPlusPlus();
    round(high, 0, 200);
    round(high, 100, 200);
    round(high, 200, 215.9); // 200 / 8 = 25 → 16 ms
    expect(high.phase).toBe('slow-start');
    round(high, 300, 231.9);
    expect(high.phase).toBe('css');
  });

  it('needs N_RTT_SAMPLE samples in the round before deciding', () => {
    const h = new HyStartPlusPlus();
    round(h, 0, 40);
    round(h, 100, 40);
    round(h, 200, 200, N_RTT_SAMPLE - 1);
    expect(h.phase).toBe('slow-start');
  });

  it('CSS grows a quarter as fast, returns to slow start on a lower RTT, ends after CSS_ROUNDS', () => {
    const h = new HyStartPlusPlus();
    round(h, 0, 40);
    round(h, 100, 40);
    round(h, 200, 50); // +10 ≥ max(4, 40/8 = 5)
    expect(h.phase).toBe('css');
    expect(h.increase(1200, 1200)).toBe(300);
    round(h, 300, 45); // below the CSS baseline of 50: spurious
    expect(h.phase).toBe('slow-start');
    expect(h.increase(1200, 1200)).toBe(1200);

    const g = new HyStartPlusPlus();
    round(g, 0, 40);
    round(g, 100, 40);
    round(g, 200, 50);
    let exits = 0;
    for (let r = 1; r < CSS_ROUNDS; r++) exits += round(g, 200 + r * 100, 60) ? 1 : 0;
    expect(exits).toBe(1);
    expect(g.phase).toBe('off');
  });

  it('caps growth per ACK at L = 8 segments unless paced (§4.3)', () => {
    expect(new HyStartPlusPlus(false).increase(20 * 1200, 1200)).toBe(8 * 1200);
    expect(new HyStartPlusPlus(true).increase(20 * 1200, 1200)).toBe(20 * 1200);
  });

  it('lets CUBIC leave slow start with ssthresh = cwnd before any loss', () => {
    const cc = new Cubic(1200, { paced: true });
    const ackRound = (start: number, rtt: number) => {
      for (let i = 0; i < N_RTT_SAMPLE; i++) {
        const sent = i === N_RTT_SAMPLE - 1 ? start : -1;
        cc.onPacketsAcked([{ timeSent: sent, sentBytes: 1200, inFlight: true }], start + i, {
          latestRtt: rtt, minRtt: 40, smoothedRtt: rtt,
        });
      }
    };
    ackRound(0, 40);
    ackRound(100, 40);
    ackRound(200, 60);
    expect(cc.hystartPhase).toBe('css');
    // The round that entered CSS counts as the first of CSS_ROUNDS.
    for (let r = 1; r < CSS_ROUNDS; r++) ackRound(200 + r * 100, 70);
    expect(cc.hystartPhase).toBe('off');
    expect(cc.ssthresh).toBe(cc.congestionWindow);
    expect(cc.ssthresh).toBeLessThan(Infinity);
  });
});
