/**
 * Review (session 5) of 1bca31e, DPLPMTUD black hole detection (RFC 8899 §4.3, §5.2): PTO probes
 * at BASE_PLPMTU from the second PTO in a row, and a fallback to 1,200 after MAX_PROBES in-flight
 * large packets lost in a row past the last large one acknowledged.
 *
 * Checked and holding (tests below): short whole-link outages and one-direction loss bursts, as
 * congestion makes them, leave the size at the path's maximum at the end and the transfer completes;
 * client Initials stay padded to 1,200 bytes (RFC 9000 §14.1) through PTOs in the handshake, and
 * the server stays within 3× what it received before the client's address is validated (§8.1);
 * a client that migrates (§9.2) to a path that carries only 1,280 bytes finishes its download there
 * (black hole detection brings the size down; without it the size of the old path stayed).
 *
 * Noted in the review report: a fallback set the congestion window to the new initial window
 * (loss-based.ts setMaxDatagramSize on any decrease), which RFC 9002 §7.2 asks for only when the
 * size is decreased to complete the handshake; after one 10 ms outage on a 5 ms path a fallback
 * happened and the window went from ~481 KB to 12,000 bytes. Changed after the review: a window
 * that grew keeps its bytes (test/quic/congestion/new-reno.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { QlogEvent } from '../../../src/quic/connection.js';
import { CLIENT_ADDR, download, Pair, pattern, sha256, START, StreamSink, StreamWriter } from '../sim/harness.js';

function withBlackHoleLog(link: ConstructorParameters<typeof Pair>[0] extends infer O ? (O extends { link?: infer L } ? L : never) : never): { pair: Pair; holes: number[] } {
  const holes: number[] = [];
  const pair = new Pair({
    link,
    serverRouter: { qlog: () => (e: QlogEvent) => void (e.name === 'connectivity:mtu_black_hole' && holes.push(e.time - START)) },
  });
  return { pair, holes };
}

const outages = (count: number, every: number, length: number, from = 100): [number, number][] =>
  Array.from({ length: count }, (_, i) => [START + from + i * every, START + from + i * every + length] as [number, number]);

describe('black hole detection under ordinary loss (RFC 8899 §4.3)', () => {
  it('30 ms outages of the whole link every 200 ms: no fallback, the size stays 1,452, the download completes', () => {
    const { pair, holes } = withBlackHoleLog({ delay: 5, mtu: 1452, blackholes: outages(20, 200, 30) });
    const size = 6 * 1024 * 1024;
    const { ok, data } = download(pair, size, 60_000);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(size)));
    expect(pair.link.stats.lost).toBeGreaterThan(100);
    expect(holes).toEqual([]);
    expect(pair.server!.datagramSize).toBe(1452);
  });

  it('30 ms bursts lost toward the client only (data, not ACKs): no fallback, the size stays 1,452', () => {
    const { pair, holes } = withBlackHoleLog({ delay: 5, mtu: 1452, lossyDirection: 'to-client', blackholes: outages(20, 200, 30) });
    const { ok } = download(pair, 6 * 1024 * 1024, 60_000);
    expect(ok).toBe(true);
    expect(pair.link.stats.lost).toBeGreaterThan(100);
    expect(holes).toEqual([]);
    expect(pair.server!.datagramSize).toBe(1452);
  });

  it('10 ms outages every 100 ms: whatever fallbacks happen, the size ends at 1,452', () => {
    const { pair } = withBlackHoleLog({ delay: 5, mtu: 1452, blackholes: outages(40, 100, 10) });
    const { ok } = download(pair, 6 * 1024 * 1024, 60_000);
    expect(ok).toBe(true);
    expect(pair.server!.datagramSize).toBe(1452);
  });
});

describe('black hole probes during the handshake (RFC 9000 §14.1, §8.1)', () => {
  it('through PTOs of the handshake: client Initials padded to 1,200, the server within 3x before validation', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      // Everything lost for the first 700 ms: several PTOs in a row on both sides.
      const pair = new Pair({ link: { delay: 20, loss: 0.2, blackholes: [[START, START + 700]] }, seed });
      expect(pair.handshake(30_000)).toBe(true);
      for (const d of pair.clientSent) {
        // Long header, type Initial (QUIC v1: bits 0x30 = 0).
        if ((d[0]! & 0x80) !== 0 && (d[0]! & 0x30) === 0) expect(d.length).toBeGreaterThanOrEqual(1200);
      }
      // §8.1: before the first Handshake packet from the client reached the server, the server
      // sent at most three times the bytes it received.
      const firstHandshakeAt = pair.serverReceived.find((r, i) => i > 0 && r.length < 1200)?.at ?? Infinity;
      let received = 0;
      let sent = 0;
      const events = [
        ...pair.serverReceived.map((r) => ({ at: r.at, rx: r.length, tx: 0 })),
        ...pair.serverSent.map((s) => ({ at: s.at, rx: 0, tx: s.data.length })),
      ].sort((a, b) => a.at - b.at || b.rx - a.rx);
      for (const e of events) {
        if (e.at >= firstHandshakeAt) break;
        received += e.rx;
        sent += e.tx;
        expect(sent).toBeLessThanOrEqual(3 * received);
      }
    }
  });
});

describe('migration to a path with a smaller MTU (RFC 9000 §9.2, §14.3)', () => {
  it('a client that moves mid-download to a path carrying 1,280 bytes finishes there', () => {
    const pair = new Pair({ link: { delay: 5, mtu: 1452 } });
    const size = 4 * 1024 * 1024;
    const body = pattern(size);
    const sink = new StreamSink();
    const writers = new Map<number, StreamWriter>();
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) {
        const w = new StreamWriter(pair.server!, e.id, body);
        writers.set(e.id, w);
        w.pump();
      } else if (e.type === 'writable') writers.get(e.id)?.pump();
    };
    let received = 0;
    let moved = false;
    pair.onClientEvent = (e) => {
      sink.onEvent(e);
      if (e.type === 'stream-data') received += e.data.length;
      if (!moved && received > 1024 * 1024) {
        moved = true;
        // A new local address whose path carries only 1,280-byte datagrams.
        pair.clientAddr = { address: '10.0.0.9', port: CLIENT_ADDR.port + 1 };
        pair.link.conditions.mtu = 1280;
        pair.client.migrate();
      }
    };
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from(`GET ${size}`), true);
    expect(pair.run(() => sink.finished.has(id), 60_000)).toBe(true);
    expect(moved).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(pair.server!.datagramSize).toBeLessThanOrEqual(1280);
    expect(pair.client.state).toBe('established');
  });
});
