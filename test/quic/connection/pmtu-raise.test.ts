/**
 * DPLPMTUD's PMTU_RAISE_TIMER (RFC 8899 §5.1.1, §5.2): a search that completed below the maximum
 * probes for a larger size again after 600 s (settable), through the connection's timer; one that
 * completed at the maximum has no timer. And the search of a new path (RFC 9000 §14).
 */
import { describe, expect, it } from 'vitest';
import { BASE_PLPMTU, PMTU_RAISE_TIMER, PROBE_TIMER, PmtuSearch } from '../../../src/quic/connection/pmtu.js';
import { computedTimeout, download, Pair } from '../sim/harness.js';

/** Runs a whole search at time `now` on a path that carries `path` bytes; returns its probes. */
function searchOn(s: PmtuSearch, path: number, now: number): number[] {
  const probes: number[] = [];
  for (let size = s.nextProbe(); size !== undefined; size = s.nextProbe()) {
    probes.push(size);
    if (size <= path) s.onAcked(size, now);
    else s.onLost(size, now);
  }
  return probes;
}

describe('PmtuSearch raise timer (RFC 8899 §5.1.1, §5.2)', () => {
  it('a search that ends below the maximum arms PMTU_RAISE_TIMER; it probes again only once it expired', () => {
    const s = new PmtuSearch(1452);
    expect(PMTU_RAISE_TIMER).toBe(600_000);
    searchOn(s, 1350, 5_000);
    expect(s.done).toBe(true);
    const found = s.current;
    expect(found).toBeGreaterThan(1350 - 16);
    expect(s.raiseDeadline).toBe(5_000 + 600_000);
    s.onRaiseTimer(604_999);
    expect(s.nextProbe()).toBeUndefined();
    s.onRaiseTimer(605_000);
    expect(s.raiseDeadline).toBeUndefined();
    // Searching again, from the size in use: the maximum first.
    expect(s.nextProbe()).toBe(1452);
    expect(s.current).toBe(found);
    // The path still carries no more: the search completes again and re-arms the timer.
    s.onLost(1452, 606_000);
    searchOn(s, 1350, 607_000);
    expect(s.current).toBe(found);
    expect(s.raiseDeadline).toBe(607_000 + 600_000);
  });

  it('the raised search finds a path that now carries more', () => {
    const s = new PmtuSearch(1452);
    searchOn(s, 1300, 0);
    s.onRaiseTimer(600_000);
    searchOn(s, 1452, 600_000);
    expect(s.current).toBe(1452);
    expect(s.raiseDeadline).toBeUndefined();
  });

  it('a search that ends at the maximum has no raise timer', () => {
    const s = new PmtuSearch(1452);
    searchOn(s, 9000, 0);
    expect(s.current).toBe(1452);
    expect(s.raiseDeadline).toBeUndefined();
  });

  it('the timer is settable and must be positive', () => {
    const s = new PmtuSearch(1452, 30_000);
    searchOn(s, 1400, 100);
    expect(s.raiseDeadline).toBe(30_100);
    expect(() => new PmtuSearch(1452, 0)).toThrow(RangeError);
    expect(() => new PmtuSearch(1452, Number.NaN)).toThrow(RangeError);
  });

  it('a black hole stops the timer (the search runs again at once)', () => {
    const s = new PmtuSearch(1452);
    searchOn(s, 1350, 0);
    s.onBlackHole();
    expect(s.raiseDeadline).toBeUndefined();
    expect(s.nextProbe()).toBe(1452);
  });

  it('forNewPath: the same limits from BASE_PLPMTU (RFC 9000 §14)', () => {
    const s = new PmtuSearch(9000, 60_000);
    s.capAt(1500);
    searchOn(s, 1500, 0);
    expect(s.current).toBe(1500);
    const next = s.forNewPath();
    expect(next.current).toBe(BASE_PLPMTU);
    expect(next.nextProbe()).toBe(1500);
    next.onLost(1500, 10);
    next.onLost(next.nextProbe()!, 10);
    expect(next.nextProbe()).toBe(1472);
  });
});

describe('PMTU_RAISE_TIMER on a connection', () => {
  const transport = { maxIdleTimeout: 0 };

  it('with a maximum above the path MTU, a larger probe goes out again after 600 s, and not before', () => {
    const pair = new Pair({ link: { delay: 5, mtu: 1350 }, client: { transport }, serverRouter: { transport } });
    // One transfer; probes still unanswered after it are found lost by PROBE_TIMER (RFC 8899
    // §5.1.1), so the search completes with no more traffic.
    const pmtu = () => (pair.server as unknown as { pmtu: PmtuSearch }).pmtu;
    expect(download(pair, 100_000).ok).toBe(true);
    expect(pair.run(() => pmtu().done, 20 * PROBE_TIMER)).toBe(true);
    pair.run(() => false, 1_000);
    const server = pair.server!;
    const size = server.datagramSize;
    expect(size).toBeLessThanOrEqual(1350);
    const above = () => pair.serverSent.filter((d) => d.data.length > 1350);
    const lastProbe = above().at(-1)!.at;
    // PMTU_RAISE_TIMER runs from the search's end: at most PROBE_TIMER after the last probe too
    // large (its loss), and a round trip for a smaller probe after it.
    const raiseAt = pmtu().raiseDeadline!;
    expect(raiseAt).toBeGreaterThanOrEqual(lastProbe + 600_000);
    expect(raiseAt).toBeLessThanOrEqual(lastProbe + PROBE_TIMER + 1_000 + 600_000);
    expect(computedTimeout(server)).toBe(raiseAt);
    pair.run(() => false, raiseAt + 100_000 - pair.now);
    const later = above().filter((d) => d.at > lastProbe);
    expect(later.length).toBeGreaterThan(0);
    expect(later[0]!.at).toBeGreaterThanOrEqual(raiseAt);
    expect(later[0]!.at).toBeLessThan(raiseAt + 2_000);
    // The path still carries no more: the size stays, and nothing else failed.
    expect(server.datagramSize).toBe(size);
    expect(server.state).toBe('established');
  });

  it('a search that reached the maximum leaves no timer behind', () => {
    const pair = new Pair({ link: { delay: 5 }, client: { transport }, serverRouter: { transport } });
    expect(download(pair, 100_000).ok).toBe(true);
    pair.run(() => false, 5_000);
    expect(pair.server!.datagramSize).toBe(1452);
    expect(computedTimeout(pair.server!)).toBeUndefined();
  });
});
