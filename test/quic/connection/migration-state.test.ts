/**
 * Path state across the interop-runner's rebind-port, rebind-addr and connectionmigration cases
 * (RFC 9000 §9.4, §14, §8.2.1–§8.2.2; RFC 8899 §5.2): a new IP address resets the congestion
 * controller, the RTT estimator and the datagram size at validation, and packets of the old path
 * feed none of them; a new port alone keeps them. The server is the sender: it answers a download.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, PeerAddress, QlogEvent } from '../../../src/quic/connection.js';
import { initialWindow } from '../../../src/quic/congestion/window.js';
import type { LossDetection } from '../../../src/quic/recovery/loss-detection.js';
import { INITIAL_RTT } from '../../../src/quic/recovery/rtt.js';
import type { SentPacket } from '../../../src/quic/recovery/sent-packets.js';
import { CLIENT_ADDR, Pair, pattern, sha256, StreamSink } from '../sim/harness.js';

const SIZE = 512 * 1024;

/** A connection's loss detection (private: the state under test). */
function lossOf(conn: Connection): LossDetection<unknown> {
  return (conn as unknown as { loss: LossDetection<unknown> }).loss;
}

interface Snapshot {
  at: number;
  pathId: number;
  cwnd: number;
  ssthresh: number;
  smoothedRtt: number;
  hasSample: boolean;
  datagramSize: number;
}

function snapshot(conn: Connection, at: number): Snapshot {
  const loss = lossOf(conn);
  return {
    at, pathId: loss.pathId, cwnd: loss.congestion.congestionWindow, ssthresh: loss.congestion.ssthresh,
    smoothedRtt: loss.rtt.smoothedRtt, hasSample: loss.rtt.hasSample, datagramSize: conn.datagramSize,
  };
}

/** What one ACK or loss timeout did to the state, for packets of the path in use or older ones. */
interface RecoveryCall {
  before: Snapshot;
  after: Snapshot;
  acked: SentPacket<unknown>[];
  lost: SentPacket<unknown>[];
}

/**
 * Records every ACK processed and every loss timeout of `conn` with the state before and after
 * (a wrapper around its loss detection's two entry points).
 */
function recordRecovery(conn: Connection, now: () => number): RecoveryCall[] {
  const loss = lossOf(conn);
  const calls: RecoveryCall[] = [];
  const onAck = loss.onAckReceived.bind(loss);
  loss.onAckReceived = (space, ack, t) => {
    const before = snapshot(conn, t);
    const result = onAck(space, ack, t);
    calls.push({ before, after: snapshot(conn, t), acked: result.acked, lost: result.lost });
    return result;
  };
  const onTimeout = loss.onLossDetectionTimeout.bind(loss);
  loss.onLossDetectionTimeout = (t) => {
    const before = snapshot(conn, t);
    const action = onTimeout(t);
    if (action.kind === 'lost') calls.push({ before, after: snapshot(conn, now()), acked: [], lost: action.packets });
    return action;
  };
  return calls;
}

interface Run {
  pair: Pair;
  ok: boolean;
  data: Buffer;
  /** Server qlog events, with the server's state at each path event. */
  serverLog: QlogEvent[];
  clientLog: QlogEvent[];
  atChange: Snapshot | undefined;
  atServerValidation: Snapshot[];
  atClientValidation: Snapshot[];
  calls: RecoveryCall[];
  changedAt: number;
}

/**
 * A 512 KiB download over a 10 ms link; once 50 kB arrived, `change` moves the client (a NAT
 * rebinding or migrate()).
 */
function downloadWithChange(change: (pair: Pair) => void): Run {
  const serverLog: QlogEvent[] = [];
  const clientLog: QlogEvent[] = [];
  const atServerValidation: Snapshot[] = [];
  const atClientValidation: Snapshot[] = [];
  let pair!: Pair;
  pair = new Pair({
    link: { delay: 10 },
    serverRouter: {
      qlog: () => (event) => {
        serverLog.push(event);
        if (event.name === 'connectivity:path_validated') atServerValidation.push(snapshot(pair.server!, event.time));
      },
    },
    client: {
      qlog: () => (event) => {
        clientLog.push(event);
        if (event.name === 'connectivity:path_validated') atClientValidation.push(snapshot(pair.client, event.time));
      },
    },
  });
  const run: Run = { pair, ok: false, data: Buffer.alloc(0), serverLog, clientLog, atChange: undefined, atServerValidation, atClientValidation, calls: [], changedAt: 0 };
  const sink = new StreamSink();
  pair.onServerEvent = (e) => {
    if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(SIZE), true);
  };
  pair.onClientEvent = (e) => {
    sink.onEvent(e);
    // An old NAT binding (clientAliases) lasts 5 ms: later datagrams to it are lost.
    if (run.atChange !== undefined && pair.now >= run.changedAt + 5) pair.clientAliases.length = 0;
    if (run.atChange === undefined && e.type === 'stream-data' && sink.data(e.id).length > 50_000) {
      run.atChange = snapshot(pair.server!, pair.now);
      run.changedAt = pair.now;
      run.calls = recordRecovery(pair.server!, () => pair.now);
      change(pair);
    }
  };
  expect(pair.handshake()).toBe(true);
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('GET'), true);
  run.ok = pair.run(() => sink.finished.has(id), 120_000);
  run.data = sink.data(id);
  return run;
}

function expectEveryByte(run: Run): void {
  expect(run.ok).toBe(true);
  expect(run.data.length).toBe(SIZE);
  expect(sha256(run.data)).toBe(sha256(pattern(SIZE)));
}

/** Packets sent under another path state than the one in use when the call began. */
const oldPath = (call: RecoveryCall) => (p: SentPacket<unknown>) => p.path !== call.before.pathId;

/** RFC 9000 §9.4 checks shared by the address changes (the server sees a new client IP address). */
function expectResetAtValidation(run: Run): void {
  expectEveryByte(run);
  const before = run.atChange!;
  // The transfer had grown the window and measured the 20 ms round trip.
  expect(before.cwnd).toBeGreaterThan(initialWindow(1452));
  expect(before.hasSample).toBe(true);
  expect(before.datagramSize).toBe(1452);
  // RFC 9000 §9.4: reset to initial values when the new address is validated.
  const validated = run.atServerValidation[0]!;
  expect(validated).toBeDefined();
  expect(validated.pathId).not.toBe(before.pathId);
  expect(validated.cwnd).toBe(initialWindow(1200));
  expect(validated.ssthresh).toBe(Infinity);
  expect(validated.hasSample).toBe(false);
  expect(validated.smoothedRtt).toBe(INITIAL_RTT);
  // RFC 9000 §14, RFC 8899 §5.2: the datagram size starts over for the new path.
  expect(validated.datagramSize).toBe(1200);

  // ACKs and losses of packets sent before the reset change neither the window nor the RTT.
  const afterReset = run.calls.filter((c) => c.before.at >= validated.at && c.before.pathId === validated.pathId);
  const onlyOld = afterReset.filter((c) => c.acked.every(oldPath(c)) && c.lost.every(oldPath(c)) && c.acked.length + c.lost.length > 0);
  expect(onlyOld.some((c) => c.acked.length > 0)).toBe(true);
  for (const c of onlyOld) {
    expect(c.after.cwnd).toBe(c.before.cwnd);
    expect(c.after.smoothedRtt).toBe(c.before.smoothedRtt);
    expect(c.after.hasSample).toBe(c.before.hasSample);
  }
  // No loss of an old-path packet is a congestion event: calls that lost only such packets keep ssthresh.
  const oldLosses = run.calls.filter((c) => c.lost.length > 0 && c.lost.every(oldPath(c)));
  expect(oldLosses.length).toBeGreaterThan(0);
  for (const c of oldLosses) expect(c.after.ssthresh).toBe(c.before.ssthresh);

  // Datagrams to the new address before its validation are at most 1200 bytes; probing then grows
  // the size back to the maximum on the new path.
  const to = run.pair.server!.remote;
  const toNew = run.pair.serverSent.filter((d) => d.to.address === to.address && d.to.port === to.port);
  for (const d of toNew) if (d.at < validated.at) expect(d.data.length).toBeLessThanOrEqual(1200);
  expect(run.pair.server!.datagramSize).toBe(1452);
  expect(toNew.some((d) => d.at >= validated.at && d.data.length === 1452)).toBe(true);
}

/** Lengths of the packets a qlog shows sent with a frame of `type`, with their times. */
function packetsWith(log: QlogEvent[], type: string): { at: number; length: number }[] {
  return log
    .filter((e) => e.name === 'transport:packet_sent' && (e.data['frames'] as string[] | undefined)?.includes(type))
    .map((e) => ({ at: e.time, length: e.data['length'] as number }));
}

describe('path changes and recovery state (RFC 9000 §9.4)', () => {
  it('rebind-addr: a NAT gives the client a new IP address; the server resets its state at validation', () => {
    const run = downloadWithChange((pair) => {
      // The NAT still delivers what was sent to the old binding for a few ms.
      pair.clientAliases.push(pair.clientAddr);
      pair.clientAddr = { address: '10.0.0.77', port: 61000 };
    });
    expectResetAtValidation(run);
    expect(run.pair.server!.remote).toEqual({ address: '10.0.0.77', port: 61000 });
  });

  it('connectionmigration: the client migrates; both ends reset at validation, the client too (RFC 9000 §9.2)', () => {
    const run = downloadWithChange((pair) => {
      pair.clientAliases.push(pair.clientAddr);
      pair.clientAddr = { address: '10.0.0.9', port: 40000 };
      pair.client.migrate();
    });
    expectResetAtValidation(run);
    const client = run.atClientValidation[0]!;
    expect(client).toBeDefined();
    expect(client.hasSample).toBe(false);
    expect(client.smoothedRtt).toBe(INITIAL_RTT);
    expect(client.cwnd).toBe(initialWindow(1200));
    expect(client.datagramSize).toBe(1200);
  });

  it('rebind-port: a new port alone keeps the window, the RTT estimate and the datagram size', () => {
    const run = downloadWithChange((pair) => {
      pair.clientAddr = { address: pair.clientAddr.address, port: pair.clientAddr.port + 1 };
    });
    expectEveryByte(run);
    const before = run.atChange!;
    const loss = lossOf(run.pair.server!);
    const validated = run.atServerValidation[0]!;
    expect(validated).toBeDefined();
    // The same state all along: no new path state, a sample kept, the window not reset.
    expect(validated.pathId).toBe(before.pathId);
    expect(loss.pathId).toBe(before.pathId);
    expect(validated.hasSample).toBe(true);
    expect(validated.smoothedRtt).toBeLessThan(100);
    expect(validated.cwnd).toBeGreaterThan(initialWindow(1452));
    expect(validated.datagramSize).toBe(1452);
    for (const c of run.calls) expect(c.after.datagramSize).toBe(1452);
  });

  it('a client that migrates to a new port only (migrate({ portOnly: true })) keeps its state', () => {
    const run = downloadWithChange((pair) => {
      pair.clientAddr = { address: pair.clientAddr.address, port: pair.clientAddr.port + 7 };
      pair.client.migrate({ portOnly: true });
    });
    expectEveryByte(run);
    const client = run.atClientValidation[0]!;
    expect(client).toBeDefined();
    expect(client.pathId).toBe(0);
    expect(client.hasSample).toBe(true);
    expect(client.datagramSize).toBe(1452);
  });
});

describe('PATH_CHALLENGE and PATH_RESPONSE datagram sizes (RFC 9000 §8.2.1, §8.2.2)', () => {
  it('a challenge the anti-amplification limit kept small is followed by a second, expanded one; responses are expanded', () => {
    // The client only sends ACKs: its first packet from the new address is small, so the server
    // may send only three times that before the address is validated (RFC 9000 §8.1, §9.3).
    const run = downloadWithChange((pair) => {
      pair.clientAddr = { address: '10.0.0.77', port: 61000 };
    });
    expectEveryByte(run);
    // The new address's challenges (not those to the previously active path, RFC 9000 §9.3.3).
    const toNewPath = run.serverLog.filter((e) => e.data['old_path'] !== true);
    const challenges = packetsWith(toNewPath, 'path_challenge').filter((p) => p.at >= run.changedAt);
    expect(challenges.length).toBeGreaterThanOrEqual(2);
    expect(challenges[0]!.length).toBeLessThan(1200);
    const validatedAt = run.atServerValidation[0]!.at;
    const second = challenges.find((p) => p.at >= validatedAt);
    expect(second).toBeDefined();
    expect(second!.length).toBeGreaterThanOrEqual(1200);
    // The second validation succeeds too.
    expect(run.atServerValidation.length).toBeGreaterThanOrEqual(2);
    // Validated, the address no longer holds the PTO back (RFC 9002 §6.2.2.1, RFC 9000 §8.1).
    expect((lossOf(run.pair.server!) as unknown as { amplificationLimited: boolean }).amplificationLimited).toBe(false);
    // The client's PATH_RESPONSE datagrams are expanded (it is not limited by amplification).
    const responses = packetsWith(run.clientLog, 'path_response');
    expect(responses.length).toBeGreaterThanOrEqual(2);
    for (const r of responses) expect(r.length).toBeGreaterThanOrEqual(1200);
  });

  it('a PATH_RESPONSE goes back to the address its challenge came from', () => {
    const run = downloadWithChange(() => {});
    expectEveryByte(run);
    const { pair } = run;
    const probeFrom: PeerAddress = { address: '10.0.0.55', port: 7000 };
    // A client probe of a new path (RFC 9000 §9.1) is simulated by replaying a server
    // challenge through the server's own frame handler, as if it came from `probeFrom`.
    const server = pair.server as unknown as {
      onPathChallenge(frame: { type: 'path_challenge'; data: Buffer }, ctx: { from: PeerAddress }): void;
      wake(): void;
    };
    server.onPathChallenge({ type: 'path_challenge', data: Buffer.alloc(8, 7) }, { from: probeFrom });
    server.wake();
    const sent = pair.server!.transmit(pair.now);
    const toProbe = sent.filter((d) => d.to.address === probeFrom.address && d.to.port === probeFrom.port);
    expect(toProbe.length).toBe(1);
    expect(pair.server!.remote).not.toEqual(probeFrom);
  });
});

describe('failed validation (RFC 9000 §8.2.4, §9.3.2)', () => {
  it('returning to the last validated path brings back its window, RTT estimate and datagram size', () => {
    // As in scenarios.test.ts: a packet replayed from a spoofed address moves the server.
    const pair = new Pair({ link: { delay: 10 } });
    const sink = new StreamSink();
    pair.onClientEvent = (e) => sink.onEvent(e);
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 500);
    const server = pair.server!;
    const before = snapshot(server, pair.now);
    const congestion = lossOf(server).congestion;
    expect(before.datagramSize).toBe(1452);
    expect(before.hasSample).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('hello'), true);
    const [datagram] = pair.client.transmit(pair.now);
    const spoofed = { address: '203.0.113.66', port: 6666 };
    server.receive(datagram!.data, spoofed, pair.now + 10);
    // A new IP address: a new path state, at 1200 bytes, while the old one is kept aside.
    const moved = snapshot(server, pair.now + 10);
    expect(moved.pathId).not.toBe(before.pathId);
    expect(moved.datagramSize).toBe(1200);
    expect(moved.hasSample).toBe(false);
    // Nothing from the client gets through until validation has failed.
    pair.link.conditions = { delay: 10, lossyDirection: 'to-server', blackholes: [[pair.now, pair.now + 5_000]] };
    pair.run(() => false, 4_000);
    expect(server.remote).toEqual(CLIENT_ADDR);
    const back = snapshot(server, pair.now);
    expect(back.pathId).toBe(before.pathId);
    expect(lossOf(server).congestion).toBe(congestion);
    expect(back.hasSample).toBe(true);
    expect(back.smoothedRtt).toBe(before.smoothedRtt);
    expect(back.datagramSize).toBe(1452);
    // The old path carries the answer once the link heals.
    server.write(id, Buffer.from('world'), true);
    expect(pair.run(() => sink.finished.has(id), 30_000)).toBe(true);
    expect(sink.data(id).toString()).toBe('world');
  });
});
