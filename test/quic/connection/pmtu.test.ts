import { describe, expect, it } from 'vitest';
import { PmtuSearch } from '../../../src/quic/connection/pmtu.js';
import { download, Pair, pattern, sha256 } from '../sim/harness.js';

describe('DPLPMTUD search (RFC 9000 §14.3, RFC 8899)', () => {
  it('tries the maximum first and stops there when it is acknowledged', () => {
    const s = new PmtuSearch(1452);
    expect(s.nextProbe()).toBe(1452);
    expect(s.nextProbe()).toBeUndefined(); // one probe at a time
    s.onAcked(1452);
    expect(s.current).toBe(1452);
    expect(s.done).toBe(true);
  });

  it('gives a size up after MAX_PROBES losses and bisects below it', () => {
    const s = new PmtuSearch(1452);
    for (let i = 0; i < 3; i++) s.onLost(s.nextProbe()!);
    const next = s.nextProbe()!;
    expect(next).toBe(Math.floor((1200 + 1452) / 2));
    s.onAcked(next);
    expect(s.current).toBe(next);
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
