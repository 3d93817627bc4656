/**
 * Review of the path-change work (f7c010f) in whole-connection scenarios over the simulated link
 * (RFC 9000 §8.2, §9.3, §9.3.2, §9.4, §8.1; RFC 9002 §6.2): a spurious migration followed by the
 * peer's return brings back the old path's state; a second migration while one awaits validation
 * resets at the validation of the last one and keeps to the anti-amplification limit; a client's
 * validation of a dead path ends on time without a storm of probes; downloads over a lossy link
 * across a new IP address deliver every byte once; migrate() before handshake confirmation does
 * nothing (§9).
 */
import { describe, expect, it } from 'vitest';
import type { Connection, PeerAddress, QlogEvent } from '../../../src/quic/connection.js';
import type { LinkConditions } from '../sim/link.js';
import { initialWindow } from '../../../src/quic/congestion/window.js';
import type { LossDetection } from '../../../src/quic/recovery/loss-detection.js';
import { INITIAL_RTT } from '../../../src/quic/recovery/rtt.js';
import { CLIENT_ADDR, Pair, pattern, sha256, StreamSink } from '../sim/harness.js';

function lossOf(conn: Connection): LossDetection<unknown> {
  return (conn as unknown as { loss: LossDetection<unknown> }).loss;
}

/**
 * Seeds of the lossy runs. Seed 2 stalls today until the idle timeout: after the validation the
 * server arms no PTO (s6-amplification-timer.review.test.ts, the defect there); it joins once fixed.
 */
const SEEDS = [1, 2, 3, 4, 5];

const same = (a: PeerAddress, b: PeerAddress) => a.address === b.address && a.port === b.port;

interface Download {
  pair: Pair;
  sink: StreamSink;
  id: number;
  serverLog: QlogEvent[];
  clientLog: QlogEvent[];
  /** Datagrams the server received, with their source. */
  serverFrom: { at: number; from: PeerAddress; length: number }[];
}

/** A handshake, then a GET on a new stream that the server answers with `size` bytes. */
function startDownload(size: number, link: LinkConditions = { delay: 10 }, seed = 1): Download {
  const serverLog: QlogEvent[] = [];
  const clientLog: QlogEvent[] = [];
  const pair = new Pair({
    link,
    seed,
    serverRouter: { qlog: () => (e) => void serverLog.push(e) },
    client: { qlog: () => (e) => void clientLog.push(e) },
  });
  const serverFrom: Download['serverFrom'] = [];
  const receive = pair.serverRouter.receive.bind(pair.serverRouter);
  pair.serverRouter.receive = (data, from, now) => {
    serverFrom.push({ at: now, from, length: data.length });
    return receive(data, from, now);
  };
  const sink = new StreamSink();
  pair.onClientEvent = (e) => sink.onEvent(e);
  pair.onServerEvent = (e) => {
    if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(size), true);
  };
  expect(pair.handshake()).toBe(true);
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('GET'), true);
  return { pair, sink, id, serverLog, clientLog, serverFrom };
}

function expectEveryByte(d: Download, size: number, ok: boolean): void {
  expect(ok).toBe(true);
  const data = d.sink.data(d.id);
  expect(data.length).toBe(size);
  expect(sha256(data)).toBe(sha256(pattern(size)));
}

/** Replays one of the client's datagrams to the server as if it came from `from` (a spoofed source). */
function spoof(pair: Pair, from: PeerAddress): void {
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('x'), true);
  const [datagram] = pair.client.transmit(pair.now);
  expect(datagram).toBeDefined();
  pair.serverRouter.receive(datagram!.data, from, pair.now);
}

describe('a spurious migration and a second migration (RFC 9000 §9.3.2, §9.4)', () => {
  it('the peer sends again from its validated address: the old path\'s RTT estimate and window come back', () => {
    const SIZE = 400_000;
    const d = startDownload(SIZE);
    const { pair } = d;
    expect(pair.run(() => d.sink.data(d.id).length > 100_000, 30_000)).toBe(true);
    const server = pair.server!;
    const loss = lossOf(server);
    const before = { pathId: loss.pathId, congestion: loss.congestion, srtt: loss.rtt.smoothedRtt, size: server.datagramSize };
    expect(before.size).toBe(1452);
    spoof(pair, { address: '203.0.113.9', port: 9999 });
    expect(loss.pathId).not.toBe(before.pathId);
    expect(server.datagramSize).toBe(1200);
    // The real client's next packet comes from its own address: back to the old path at once.
    expect(pair.run(() => same(server.remote, CLIENT_ADDR), 1_000)).toBe(true);
    expect(loss.pathId).toBe(before.pathId);
    expect(loss.congestion).toBe(before.congestion);
    expect(loss.rtt.smoothedRtt).toBe(before.srtt);
    expect(loss.hasStateAside).toBe(false);
    expect(server.datagramSize).toBe(1452);
    expectEveryByte(d, SIZE, pair.run(() => d.sink.finished.has(d.id), 60_000));
    // The restored path never went back through a reset.
    expect(loss.pathId).toBe(before.pathId);
  });

  it('a spoofed address, then a real move to a third address: reset at its validation, within 3x before it', () => {
    const SIZE = 400_000;
    const d = startDownload(SIZE);
    const { pair } = d;
    expect(pair.run(() => d.sink.data(d.id).length > 100_000, 30_000)).toBe(true);
    const server = pair.server!;
    const loss = lossOf(server);
    const firstId = loss.pathId;
    spoof(pair, { address: '203.0.113.9', port: 9999 });
    const spoofedId = loss.pathId;
    expect(spoofedId).not.toBe(firstId);
    // The client's NAT gives it a new address (the old binding still delivers for a while).
    const moved: PeerAddress = { address: '10.0.0.50', port: 41000 };
    pair.clientAliases.push(pair.clientAddr);
    pair.clientAddr = moved;
    const movedAt = pair.now;
    let validation: { at: number; pathId: number; cwnd: number; hasSample: boolean; srtt: number; aside: boolean } | undefined;
    const ok = pair.run(() => {
      if (validation === undefined && d.serverLog.some((e) => e.name === 'connectivity:path_validated' && same(e.data['remote'] as PeerAddress, moved))) {
        validation = { at: pair.now, pathId: loss.pathId, cwnd: loss.congestion.congestionWindow, hasSample: loss.rtt.hasSample, srtt: loss.rtt.smoothedRtt, aside: loss.hasStateAside };
      }
      return d.sink.finished.has(d.id);
    }, 60_000);
    expectEveryByte(d, SIZE, ok);
    expect(same(server.remote, moved)).toBe(true);
    expect(validation).toBeDefined();
    // RFC 9000 §9.4: initial values for the validated path, nothing kept aside any more.
    expect(validation!.pathId).not.toBe(firstId);
    expect(validation!.pathId).not.toBe(spoofedId);
    expect(validation!.hasSample).toBe(false);
    expect(validation!.srtt).toBe(INITIAL_RTT);
    expect(validation!.cwnd).toBe(initialWindow(1200));
    expect(validation!.aside).toBe(false);
    // RFC 9000 §8.1, §9.3: before validation, at most three times what arrived from the new address.
    const migratedAt = d.serverLog.find((e) => e.name === 'connectivity:path_updated' && same(e.data['to'] as PeerAddress, moved))!.time;
    const validatedAt = d.serverLog.find((e) => e.name === 'connectivity:path_validated' && same(e.data['remote'] as PeerAddress, moved))!.time;
    expect(migratedAt).toBeGreaterThanOrEqual(movedAt);
    let received = 0;
    let sent = 0;
    const events = [
      ...d.serverFrom.filter((r) => same(r.from, moved)).map((r) => ({ at: r.at, kind: 'in' as const, n: r.length })),
      ...pair.serverSent.filter((s) => same(s.to, moved)).map((s) => ({ at: s.at, kind: 'out' as const, n: s.data.length })),
    ].sort((a, b) => a.at - b.at || (a.kind === 'in' ? -1 : 1));
    for (const e of events) {
      if (e.at >= validatedAt) break;
      if (e.kind === 'in') received += e.n;
      else {
        sent += e.n;
        expect(sent).toBeLessThanOrEqual(3 * received);
      }
    }
    expect(sent).toBeGreaterThan(0);
  });
});

describe('validation of a dead path (RFC 9000 §8.2.4, RFC 9002 §6.2.2)', () => {
  it('a client that migrated onto a dead path abandons validation within 3 x max(PTO, initial PTO) and sends no storm', () => {
    const clientLog: QlogEvent[] = [];
    const pair = new Pair({ link: { delay: 10 }, client: { qlog: () => (e) => void clientLog.push(e) } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 1_000);
    // Nothing gets through in either direction from now on.
    pair.link.conditions = { delay: 10, blackholes: [[pair.now, pair.now + 3_600_000]] };
    const sentBefore = pair.clientSent.length;
    pair.clientAddr = { address: '10.0.0.60', port: 42000 };
    pair.client.migrate();
    const failed = () => clientLog.find((e) => e.name === 'connectivity:path_validation_failed');
    expect(pair.run(() => failed() !== undefined, 20_000)).toBe(true);
    const challenges = clientLog.filter((e) => e.name === 'transport:packet_sent' && (e.data['frames'] as string[] | undefined)?.includes('path_challenge'));
    const firstChallenge = challenges[0]!.time;
    // RFC 9000 §8.2.4: 3 x the larger of the current PTO and the new path's (kInitialRtt 333 ms,
    // rttvar 166.5 ms, max_ack_delay 25 ms: 1,024 ms) — the new path's state was reset at migrate().
    const pto = INITIAL_RTT + 4 * (INITIAL_RTT / 2) + 25;
    expect(failed()!.time - firstChallenge).toBeLessThanOrEqual(3 * pto + 1);
    expect(failed()!.time - firstChallenge).toBeGreaterThanOrEqual(3 * 2 * INITIAL_RTT);
    // PTO backoff, not a storm: a handful of datagrams in three seconds.
    expect(pair.clientSent.length - sentBefore).toBeLessThan(20);
    // The connection then ends by its idle timeout rather than living on.
    expect(pair.run(() => pair.client.state === 'closed' || pair.client.state === 'draining', 300_000)).toBe(true);
  });
});

describe('old-path packets lost across a new IP address: their frames are sent again (RFC 9000 §9.4, §13.3)', () => {
  for (const seed of SEEDS) {
    it(`3% loss toward the client, NAT rebinding to a new IP mid-download, old binding gone at once, seed ${seed}: every byte once`, () => {
      const SIZE = 300_000;
      const d = startDownload(SIZE, { delay: 10, loss: 0.03, lossyDirection: 'to-client' }, seed);
      const { pair } = d;
      let changedAt: number | undefined;
      let pathId: number | undefined;
      pair.onClientEvent = (e) => {
        d.sink.onEvent(e);
        // Mid-download, on data the client acknowledges from its new address; everything then in
        // flight to the old address is lost, and with it the frames of those old-path packets.
        if (changedAt === undefined && e.type === 'stream-data' && d.sink.data(d.id).length > 60_000) {
          changedAt = pair.now;
          pathId = lossOf(pair.server!).pathId;
          pair.clientAddr = { address: '10.0.0.70', port: 43000 + seed };
        }
      };
      const ok = pair.run(() => d.sink.finished.has(d.id), 120_000);
      expectEveryByte(d, SIZE, ok);
      expect(changedAt).toBeDefined();
      expect(lossOf(pair.server!).pathId).not.toBe(pathId);
      expect(pair.server!.remote.address).toBe('10.0.0.70');
    });
  }
});

describe('migrate() before handshake confirmation (RFC 9000 §9)', () => {
  it('is ignored: no new path state, no PATH_CHALLENGE, and the handshake completes', () => {
    const clientLog: QlogEvent[] = [];
    const pair = new Pair({ link: { delay: 10 }, client: { qlog: () => (e) => void clientLog.push(e) } });
    // The client's first flight is out; the handshake is not confirmed yet.
    pair.step();
    expect(pair.client.isHandshakeComplete).toBe(false);
    const loss = lossOf(pair.client);
    pair.client.migrate();
    expect(loss.pathId).toBe(0);
    expect(loss.hasStateAside).toBe(false);
    expect(pair.client.datagramSize).toBe(1200);
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 1_000);
    expect(clientLog.some((e) => e.name === 'transport:packet_sent' && (e.data['frames'] as string[] | undefined)?.includes('path_challenge'))).toBe(false);
    expect(loss.pathId).toBe(0);
  });
});
