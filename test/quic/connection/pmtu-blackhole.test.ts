/**
 * DPLPMTUD black hole detection (RFC 8899 §4.3, §5.2; RFC 9000 §14.3, §14.4): PmtuSearch.onBlackHole()
 * falls back to BASE_PLPMTU and searches again; on a connection, ordinary loss on a path that
 * carries the size in use leaves (or brings back) the datagram size at the path's maximum.
 * The MTU-drop simulation itself is in test/quic/review/s5-pmtu.review.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE_PLPMTU, PmtuSearch } from '../../../src/quic/connection/pmtu.js';
import { download, Pair, pattern, sha256, START } from '../sim/harness.js';

/** Runs the search on a lossless path until it ends; returns the number of probes. */
function searchOn(s: PmtuSearch, path: number): number {
  let probes = 0;
  for (let size = s.nextProbe(); size !== undefined; size = s.nextProbe()) {
    probes++;
    if (size <= path) s.onAcked(size, 0);
    else s.onLost(size, 0);
    if (probes > 200) throw new Error('search does not end');
  }
  return probes;
}

describe('PmtuSearch.onBlackHole (RFC 8899 §5.2: Search Complete → Base → Searching)', () => {
  it('falls back to BASE_PLPMTU, forgets the probe in flight and searches again from the maximum', () => {
    const s = new PmtuSearch(1452);
    searchOn(s, 1452);
    expect(s.current).toBe(1452);
    expect(s.done).toBe(true);
    s.onBlackHole();
    expect(s.current).toBe(BASE_PLPMTU);
    expect(s.done).toBe(false);
    expect(s.nextProbe()).toBe(1452);
    // A black hole while a probe is out: the next search does not wait for that probe.
    s.onBlackHole();
    expect(s.nextProbe()).toBe(1452);
  });

  it('after a black hole at any point of a search, the new search ends within 16 bytes of the new path', () => {
    const sizes = fc.integer({ min: BASE_PLPMTU, max: 65_527 });
    fc.assert(
      fc.property(sizes, sizes, sizes, fc.nat({ max: 30 }), (limit, before, after, probesBefore) => {
        const s = new PmtuSearch(limit);
        // Part of (or all of) a search on the old path, then the path changes.
        for (let i = 0, size = s.nextProbe(); size !== undefined && i < probesBefore; i++, size = s.nextProbe()) {
          if (size <= before) s.onAcked(size, 0);
          else s.onLost(size, 0);
        }
        s.onBlackHole();
        expect(s.current).toBe(BASE_PLPMTU);
        searchOn(s, after);
        expect(s.done).toBe(true);
        const best = Math.max(BASE_PLPMTU, Math.min(limit, after));
        expect(s.current).toBeLessThanOrEqual(best);
        expect(best - s.current).toBeLessThanOrEqual(16);
      }),
      { numRuns: 300 },
    );
  });
});

describe('black hole detection on a connection (RFC 8899 §4.3, RFC 9000 §14.4)', () => {
  /** Downloads `size` bytes; returns the server's datagram sizes seen after the search first reached `top`. */
  function transfer(pair: Pair, size: number, top: number): { sizes: Set<number>; ok: boolean } {
    const sizes = new Set<number>();
    let reached = false;
    const run = pair.run.bind(pair);
    pair.run = (done, maxMs) =>
      run(() => {
        const current = pair.server?.datagramSize;
        if (current !== undefined && current >= top - 16) reached = true;
        if (reached && current !== undefined) sizes.add(current);
        return done();
      }, maxMs);
    const { ok, data } = download(pair, size, 60_000);
    expect(sha256(data)).toBe(sha256(pattern(size)));
    return { sizes, ok };
  }

  for (const seed of [7, 8, 9]) {
    it(`2% random loss on a path that carries 1,400 bytes: the size ends at the path's maximum (seed ${seed})`, () => {
      const pair = new Pair({ link: { delay: 5, loss: 0.02, mtu: 1400 }, seed });
      const { ok } = transfer(pair, 3 * 1024 * 1024, 1400);
      expect(ok).toBe(true);
      expect(pair.link.stats.lost).toBeGreaterThan(20);
      expect(pair.server!.datagramSize).toBeLessThanOrEqual(1400);
      expect(pair.server!.datagramSize).toBeGreaterThan(1400 - 16);
    });
  }

  it('an outage of the whole link (small packets lost too) ends with the size back at the maximum', () => {
    // Every datagram is lost for 400 ms mid-transfer: the losses may look like a black hole, so
    // the size may fall to BASE_PLPMTU, but the search that follows finds the path's maximum again.
    const pair = new Pair({ link: { delay: 5, blackholes: [[START + 150, START + 550]] } });
    const { ok, sizes } = transfer(pair, 4 * 1024 * 1024, 1452);
    expect(ok).toBe(true);
    expect(pair.now).toBeGreaterThan(START + 550);
    expect(sizes.size).toBeGreaterThan(0);
    expect(pair.server!.datagramSize).toBe(1452);
  });
});
