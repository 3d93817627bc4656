/**
 * DPLPMTUD's PROBE_TIMER (RFC 8899 §5.1.1, §5.3.1, §5.1.2 MAX_PROBES; RFC 9000 §14.4): a probe not
 * acknowledged within PROBE_TIMER has failed, counted once whether the timer or QUIC's loss
 * detection finds it first; a late acknowledgment still confirms its size. On a connection, a
 * probe sent after the last data no longer stalls the search, and its loss is no congestion signal.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PROBES, MIN_PROBE_TIMER, PROBE_TIMER, PmtuSearch } from '../../../src/quic/connection/pmtu.js';
import type { QlogEvent } from '../../../src/quic/connection.js';
import type { LossDetection } from '../../../src/quic/recovery/loss-detection.js';
import { DirectPair } from '../sim/direct-pair.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { CA, computedTimeout, download, Pair, SERVER_ADDR, START, seededBytes } from '../sim/harness.js';

describe('PmtuSearch PROBE_TIMER (RFC 8899 §5.1.1)', () => {
  it('is at least 1 s (MUST) and by default longer than 15 s (SHOULD)', () => {
    expect(MIN_PROBE_TIMER).toBe(1_000);
    expect(PROBE_TIMER).toBeGreaterThan(15_000);
    expect(() => new PmtuSearch(1452, undefined, 999)).toThrow(RangeError);
    expect(() => new PmtuSearch(1452, undefined, Number.NaN)).toThrow(RangeError);
    expect(new PmtuSearch(1452, undefined, 1_000).nextProbe(0, 1)).toBe(1452);
  });

  it('runs while a probe is in flight; its expiry counts the probe lost and lets the next one go', () => {
    const s = new PmtuSearch(1452, undefined, 5_000);
    expect(s.probeDeadline).toBeUndefined();
    expect(s.nextProbe(100, 7)).toBe(1452);
    expect(s.probeDeadline).toBe(5_100);
    expect(s.wantsProbe).toBe(false);
    expect(s.onProbeTimer(5_099)).toBeUndefined();
    expect(s.wantsProbe).toBe(false);
    expect(s.onProbeTimer(5_100)).toBe(1452);
    expect(s.probeDeadline).toBeUndefined();
    expect(s.wantsProbe).toBe(true);
    // MAX_PROBES expiries at one size make it the upper bound (RFC 8899 §5.1.2).
    for (let i = 1; i < MAX_PROBES; i++) {
      const size = s.nextProbe(10_000 * i, 7 + i)!;
      expect(size).toBe(1452);
      expect(s.onProbeTimer(10_000 * i + 5_000)).toBe(1452);
    }
    expect(s.nextProbe(40_000, 20)).toBe(Math.floor((1200 + 1452) / 2));
  });

  it('a probe counted lost by its timer is not counted again when loss detection declares it lost', () => {
    const s = new PmtuSearch(1452, undefined, 1_000);
    s.nextProbe(0, 1);
    s.onProbeTimer(1_000);
    s.nextProbe(1_000, 2);
    s.onLost(1452, 1_500, 1); // the first probe's packet, found lost late: already counted
    s.onLost(1452, 1_600, 2);
    // Two losses of 1452 so far, not three: it is tried once more.
    expect(s.nextProbe(1_600, 3)).toBe(1452);
    s.onLost(1452, 1_700, 3);
    expect(s.nextProbe(1_700, 4)).not.toBe(1452);
  });

  it('a probe acknowledged after its timer counted it lost still confirms its size', () => {
    const s = new PmtuSearch(1452, undefined, 1_000);
    // Three timeouts give 1452 up; then the first probe's acknowledgment arrives after all.
    for (let i = 0; i < MAX_PROBES; i++) {
      s.nextProbe(i * 1_000, i);
      s.onProbeTimer(i * 1_000 + 1_000);
    }
    const probing = s.nextProbe(3_000, 10)!;
    expect(probing).toBeLessThan(1452);
    s.onAcked(1452, 3_100, 0);
    expect(s.current).toBe(1452);
    expect(s.done).toBe(true);
    expect(s.raiseDeadline).toBeUndefined(); // at the maximum: nothing above to look for
    // The probe still in flight comes back too; nothing breaks.
    s.onAcked(probing, 3_200, 10);
    expect(s.current).toBe(1452);
    expect(s.nextProbe(3_300, 11)).toBeUndefined();
  });

  it('a black hole starts the search over: losses of the old search’s probe do not count', () => {
    const s = new PmtuSearch(1452, undefined, 1_000);
    s.nextProbe(0, 1);
    s.onBlackHole();
    s.onLost(1452, 10, 1);
    expect(s.nextProbe(10, 2)).toBe(1452);
    s.onLost(1452, 20, 2);
    s.nextProbe(20, 3);
    s.onLost(1452, 30, 3);
    expect(s.nextProbe(30, 4)).toBe(1452); // two losses counted, not three
  });
});

/** A connection's loss detection (private). */
function lossOf(pair: Pair): LossDetection<unknown> {
  return (pair.server as unknown as { loss: LossDetection<unknown> }).loss;
}

describe('PROBE_TIMER on a connection (RFC 8899 §5.1.1, RFC 9000 §14.4)', () => {
  const transport = { maxIdleTimeout: 0 };

  it('probes sent after the last data are timed out, and the search completes without more traffic', () => {
    const log: QlogEvent[] = [];
    const pair = new Pair({
      link: { delay: 5, mtu: 1350 },
      client: { transport },
      serverRouter: { transport, qlog: () => (e) => log.push(e) },
    });
    expect(download(pair, 20_000).ok).toBe(true);
    const server = pair.server!;
    const pmtu = () => (server as unknown as { pmtu: PmtuSearch }).pmtu;
    expect(pmtu().done).toBe(false);
    const { congestionWindow, ssthresh } = lossOf(pair).congestion;
    const idleFrom = pair.now;
    // Nothing more to send: only the timer can find the outstanding probe lost.
    expect(computedTimeout(server)).toBeLessThanOrEqual(idleFrom + PROBE_TIMER);
    expect(pair.run(() => pmtu().done, 20 * PROBE_TIMER)).toBe(true);
    const timeouts = log.filter((e) => e.name === 'connectivity:mtu_probe_timeout');
    expect(timeouts.length).toBeGreaterThan(0);
    // Each timeout comes PROBE_TIMER after its probe went out.
    const probes = pair.serverSent.filter((d) => d.data.length > 1350);
    for (const t of timeouts) expect(probes.some((p) => p.at === t.time - PROBE_TIMER)).toBe(true);
    expect(server.datagramSize).toBeLessThanOrEqual(1350);
    expect(server.datagramSize).toBeGreaterThan(1350 - 16);
    // RFC 9000 §14.4: the lost probes are no congestion signal.
    expect(lossOf(pair).congestion.congestionWindow).toBe(congestionWindow);
    expect(lossOf(pair).congestion.ssthresh).toBe(ssthresh);
    expect(lossOf(pair).congestion.bytesInFlight).toBe(0);
    expect(server.state).toBe('established');
  });

  it('the timer is a connection option (pmtuProbeTimer): a client uploading with a 1 s timer', () => {
    const pair = new DirectPair({ pmtuProbeTimer: 1_000 });
    pair.link.conditions = { delay: 5, mtu: 1350 };
    expect(pair.handshake()).toBe(true);
    const id = pair.upload(Buffer.alloc(20_000, 7));
    expect(pair.run(() => pair.serverEvents.some((e) => e.type === 'stream-data' && e.id === id && e.fin))).toBe(true);
    const pmtu = (pair.client as unknown as { pmtu: PmtuSearch }).pmtu;
    const start = pair.now;
    expect(pair.run(() => pmtu.done, 20 * PROBE_TIMER)).toBe(true);
    expect(pair.now - start).toBeLessThan(20 * 1_000);
    expect(pair.client.datagramSize).toBeLessThanOrEqual(1350);
  });
});

describe('DPLPMTUD timers as router options (every connection of an endpoint)', () => {
  const connectWith = (options: { pmtuProbeTimer?: number; pmtuRaiseTimer?: number }) =>
    new ConnectionRouter({ random: seededBytes('router-options'), ...options })
      .connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, START);

  it('reach the connections the router makes: values the RFC forbids are refused there', () => {
    expect(() => connectWith({})).not.toThrow();
    expect(() => connectWith({ pmtuProbeTimer: 2_000, pmtuRaiseTimer: 60_000 })).not.toThrow();
    expect(() => connectWith({ pmtuProbeTimer: MIN_PROBE_TIMER - 1 })).toThrow(RangeError);
    expect(() => connectWith({ pmtuRaiseTimer: 0 })).toThrow(RangeError);
  });
});
