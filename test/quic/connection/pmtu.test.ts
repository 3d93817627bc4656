import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PROBES, PmtuSearch } from '../../../src/quic/connection/pmtu.js';
import { download, Pair, pattern, sha256 } from '../sim/harness.js';

describe('DPLPMTUD search (RFC 9000 §14.3, RFC 8899)', () => {
  it('tries the maximum first and stops there when it is acknowledged', () => {
    const s = new PmtuSearch(1452);
    expect(s.nextProbe()).toBe(1452);
    expect(s.nextProbe()).toBeUndefined(); // one probe at a time
    s.onAcked(1452, 0);
    expect(s.current).toBe(1452);
    expect(s.done).toBe(true);
  });

  it('gives a size up after MAX_PROBES losses and bisects below it', () => {
    const s = new PmtuSearch(1452);
    for (let i = 0; i < 3; i++) s.onLost(s.nextProbe()!, 0);
    const next = s.nextProbe()!;
    expect(next).toBe(Math.floor((1200 + 1452) / 2));
    s.onAcked(next, 0);
    expect(s.current).toBe(next);
  });

  it('after a lost maximum tries the common sizes below it before retrying (RFC 8899 §5.3.1)', () => {
    // IPv4 loopback with a 65,527-byte maximum: the largest IPv4 datagram is 65,507.
    const s = new PmtuSearch(65_527);
    expect(s.nextProbe()).toBe(65_527);
    s.onLost(65_527, 0);
    expect(s.nextProbe()).toBe(65_507);
    s.onAcked(65_507, 0);
    expect(s.current).toBe(65_507);
    // The lost maximum is retried up to MAX_PROBES losses in all, then the rest is halved.
    expect(s.nextProbe()).toBe(65_527);
    s.onLost(65_527, 0);
    expect(s.nextProbe()).toBe(65_527);
    s.onLost(65_527, 0);
    expect(s.nextProbe()).toBe(65_517);
    s.onLost(65_517, 0);
    for (let i = 1; i < MAX_PROBES; i++) s.onLost(s.nextProbe()!, 0);
    expect(s.done).toBe(true);
    expect(s.current).toBe(65_507);
  });

  it('goes down the common sizes, then retries the smallest lost size and bisects below it', () => {
    // A 1,500-byte IPv4 path and a 65,527-byte maximum.
    const s = new PmtuSearch(65_527);
    const sent: number[] = [];
    for (;;) {
      const size = s.nextProbe();
      if (size === undefined) break;
      sent.push(size);
      if (size <= 1472) s.onAcked(size, 0);
      else s.onLost(size, 0);
    }
    expect(sent.slice(0, 5)).toEqual([65_527, 65_507, 8972, 8952, 1472]);
    expect(sent.slice(5, 7)).toEqual([8952, 8952]); // MAX_PROBES losses in all make 8952 the bound
    expect(sent[7]).toBe(Math.floor((1472 + 8952) / 2));
    expect(s.current).toBe(1472);
    expect(s.done).toBe(true);
  });

  it('a probe lost less than MAX_PROBES times is no bound', () => {
    // A probe lost by chance, not by its size: the size is acknowledged on a retry.
    const s = new PmtuSearch(9000);
    expect(s.nextProbe()).toBe(9000);
    s.onLost(9000, 0);
    expect(s.nextProbe()).toBe(8972);
    s.onLost(8972, 0);
    expect(s.nextProbe()).toBe(8952);
    s.onLost(8952, 0);
    expect(s.nextProbe()).toBe(1472);
    s.onAcked(1472, 0);
    expect(s.nextProbe()).toBe(8952); // smallest lost first
    s.onAcked(8952, 0);
    expect(s.nextProbe()).toBe(8972);
    s.onAcked(8972, 0);
    expect(s.nextProbe()).toBe(9000);
    s.onAcked(9000, 0);
    expect(s.current).toBe(9000);
    expect(s.done).toBe(true);
  });

  it('ends on any path within the granularity, never above what the path carries (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1200, max: 65_527 }), fc.integer({ min: 1200, max: 65_527 }), (limit, pathMax) => {
        const s = new PmtuSearch(limit);
        let probes = 0;
        for (let size = s.nextProbe(); size !== undefined; size = s.nextProbe()) {
          expect(size).toBeGreaterThan(s.current);
          expect(size).toBeLessThanOrEqual(limit);
          if (size <= pathMax) s.onAcked(size, 0);
          else s.onLost(size, 0);
          expect(++probes).toBeLessThan(200);
        }
        expect(s.current).toBeLessThanOrEqual(Math.max(1200, Math.min(limit, pathMax)));
        expect(Math.min(limit, pathMax) - s.current).toBeLessThanOrEqual(16);
      }),
      { numRuns: 300 },
    );
  });

  it('never probes above the peer max_udp_payload_size', () => {
    const s = new PmtuSearch(9000);
    s.capAt(1300);
    expect(s.nextProbe()).toBe(1300);
  });
});

describe('DPLPMTUD on a connection', () => {
  it('reaches the default maximum of 1452 bytes on an open path', () => {
    const pair = new Pair({ link: { delay: 5 } });
    const { ok } = download(pair, 200_000);
    expect(ok).toBe(true);
    expect(pair.client.datagramSize).toBe(1452);
    expect(pair.server!.datagramSize).toBe(1452);
    expect(Math.max(...pair.serverSent.map((d) => d.data.length))).toBe(1452);
  });

  it('settles below a 1350-byte path MTU and still delivers every byte', () => {
    const pair = new Pair({ link: { delay: 5, mtu: 1350 } });
    const size = 300_000;
    const { ok, data } = download(pair, size);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(size)));
    expect(pair.server!.datagramSize).toBeGreaterThan(1300);
    expect(pair.server!.datagramSize).toBeLessThanOrEqual(1350);
  });

  it('goes up to a configured 9000 bytes when both ends allow it', () => {
    const transport = { maxUdpPayloadSize: 9000 };
    const pair = new Pair({ link: { delay: 5 }, client: { transport }, serverRouter: { transport } });
    const size = 1_000_000;
    const { ok, data } = download(pair, size);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(size)));
    expect(pair.server!.datagramSize).toBe(9000);
  });
});
