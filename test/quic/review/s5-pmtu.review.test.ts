/**
 * Review (session 5) of 6a1a1a6, the DPLPMTUD search after a lost probe: the common sizes below
 * it (65,507, 8,972, 8,952, 1,472), then retries of the smallest lost size, then bisection.
 *
 * Checked and holding (tests below): every probe lies above the size in use and within both our
 * maximum and the peer's max_udp_payload_size (RFC 9000 §14.3, §18.2), never below BASE_PLPMTU
 * (1,200, §14); the size in use is only ever a size the path carried; a size is given up only
 * after MAX_PROBES losses (RFC 8899 §5.1.2); the search ends within a bounded number of probes
 * whatever the path and chance losses; and on a connection a lost probe is no congestion signal
 * (RFC 9000 §14.4): the window never shrinks on a path that drops only probes.
 *
 * Not holding at review, older than 6a1a1a6, fixed since (last test): there was no black hole
 * detection (RFC 8899 §4.3, the Search Complete → Base transition of §5.2). A path whose MTU falls
 * below the size in use after the search (still ≥ 1,200, so QUIC can run on it) lost every
 * full-size packet; the size was never reduced and the connection died at its idle timeout.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE_PLPMTU, COMMON_SIZES, MAX_PROBES, PmtuSearch } from '../../../src/quic/connection/pmtu.js';
import { download, Pair, pattern, sha256, START } from '../sim/harness.js';

/** A tiny seeded generator, for chance losses. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const sizes = fc.oneof(fc.integer({ min: BASE_PLPMTU, max: 65_527 }), fc.constantFrom(...COMMON_SIZES, 1452, 1500, 65_527, BASE_PLPMTU + 1));

describe('DPLPMTUD search after 6a1a1a6 (RFC 9000 §14.3, RFC 8899 §5)', () => {
  it('probes stay within (current, min(ours, peer)], the size in use is one the path carried, and the search ends', () => {
    fc.assert(
      fc.property(sizes, fc.option(sizes, { nil: undefined }), sizes, fc.integer({ min: 0, max: 40 }), fc.nat(), (ours, peer, path, lossPercent, seed) => {
        const s = new PmtuSearch(ours);
        if (peer !== undefined) s.capAt(peer); // the peer's transport parameters arrive before any probe
        const limit = Math.min(ours, peer ?? Infinity);
        const chance = rng(seed);
        const lostPerSize = new Map<number, number>();
        let probes = 0;
        for (let size = s.nextProbe(); size !== undefined; size = s.nextProbe()) {
          probes++;
          // RFC 9000 §14.3, §18.2: above the size in use, never above either maximum, never below 1,200.
          expect(size).toBeGreaterThan(s.current);
          expect(size).toBeLessThanOrEqual(limit);
          expect(size).toBeGreaterThan(BASE_PLPMTU);
          expect(s.nextProbe()).toBeUndefined(); // one probe at a time
          const carried = size <= path && chance() * 100 >= lossPercent;
          if (carried) {
            s.onAcked(size, 0);
          } else {
            lostPerSize.set(size, (lostPerSize.get(size) ?? 0) + 1);
            s.onLost(size, 0);
          }
          expect(probes).toBeLessThan(200);
        }
        expect(s.done).toBe(true);
        expect(s.current).toBeLessThanOrEqual(Math.min(limit, path));
        expect(s.current).toBeGreaterThanOrEqual(BASE_PLPMTU);
        // RFC 8899 §5.1.2: with no chance loss, a size the path carries is never given up,
        // so the search ends within the granularity of what the path carries.
        if (lossPercent === 0) expect(Math.min(limit, path) - s.current).toBeLessThanOrEqual(16);
        // Every size above the result was lost MAX_PROBES times, or lies above a size that was.
        const givenUp = [...lostPerSize].filter(([, n]) => n >= MAX_PROBES).map(([size]) => size);
        if (s.current + 16 < limit) expect(givenUp.some((size) => size > s.current && size - s.current <= 16)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('a path that drops only the probes above 1,300 bytes: the window never shrinks (RFC 9000 §14.4)', () => {
    const pair = new Pair({ link: { delay: 5, mtu: 1300 } });
    const windows: number[] = [];
    const run = pair.run.bind(pair);
    pair.run = (done, maxMs) =>
      run(() => {
        if (pair.server !== undefined) windows.push(pair.server.recovery.congestionWindow);
        return done();
      }, maxMs);
    const size = 3 * 1024 * 1024;
    const { ok, data } = download(pair, size);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(size)));
    // The search lost probes (1,452 and others above 1,300) and settled within 16 bytes of the path.
    expect(pair.link.stats.lost).toBeGreaterThanOrEqual(2 * MAX_PROBES);
    expect(pair.server!.datagramSize).toBeGreaterThan(1300 - 16);
    expect(pair.server!.datagramSize).toBeLessThanOrEqual(1300);
    for (let i = 1; i < windows.length; i++) expect(windows[i]!).toBeGreaterThanOrEqual(windows[i - 1]!);
  });

  // Failed before the fix (older than 6a1a1a6): after the search settled at 1,452 the link's MTU
  // drops to 1,280; every full-size packet was lost, the datagram size stayed 1,452 and the
  // connection closed at its 30 s idle timeout with 200 KB of 8 MiB delivered. Now PTO probes go
  // at BASE_PLPMTU, MAX_PROBES large losses in a row fall back to it (RFC 8899 §4.3, §5.2) and the
  // search runs again below the new path MTU.
  it('a path whose MTU falls below the size in use after the search: the size is reduced and the transfer completes', () => {
    const pair = new Pair({ link: { delay: 5 } });
    const run = pair.run.bind(pair);
    let dropped = false;
    pair.run = (done, maxMs) =>
      run(() => {
        if (!dropped && pair.server?.datagramSize! >= 1452 && pair.now > START + 60) {
          pair.link.conditions.mtu = 1280;
          dropped = true;
        }
        return done();
      }, maxMs);
    const { ok, data } = download(pair, 8 * 1024 * 1024, 60_000);
    expect(dropped).toBe(true);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(8 * 1024 * 1024)));
    // The search ran again and settled within 16 bytes below the new path MTU.
    expect(pair.server!.datagramSize).toBeLessThanOrEqual(1280);
    expect(pair.server!.datagramSize).toBeGreaterThan(1280 - 16);
  });
});
