/**
 * Responding to an apparent migration (RFC 9000 §9.3, §9.3.3): the server validates the previously
 * active path with a PATH_CHALLENGE of its own, beside the new address's validation; the client,
 * challenged on its active path, answers with a non-probing packet, which brings a server that an
 * off-path attacker's forwarded copy had moved back to the genuine path. Only the highest-numbered
 * non-probing packet moves the server, and a probing packet from a new address moves nothing (§9.1).
 */
import { describe, expect, it } from 'vitest';
import type { Connection, OutgoingDatagram, PeerAddress, QlogEvent } from '../../../src/quic/connection.js';
import type { LossDetection } from '../../../src/quic/recovery/loss-detection.js';
import { CLIENT_ADDR, computedTimeout, Pair, SERVER_ADDR, StreamSink } from '../sim/harness.js';

const ATTACKER: PeerAddress = { address: '198.51.100.7', port: 7777 };

const same = (a: PeerAddress, b: PeerAddress) => a.address === b.address && a.port === b.port;

/** A connection's private fields the tests look at. */
interface Inside {
  peerCids: { dcid: Buffer };
  pathChallenge: { data: Buffer; to: PeerAddress } | undefined;
  oldPathCheck: { to: PeerAddress; matches(data: Uint8Array): boolean } | undefined;
  addressValidated: boolean;
  loss: LossDetection<unknown>;
  wake(): void;
}
const inside = (conn: Connection) => conn as unknown as Inside;
const lossOf = (conn: Connection) => inside(conn).loss;

/** The DCID of a short header packet (RFC 9000 §17.3.1) whose DCID is `length` bytes. */
const dcidOf = (d: OutgoingDatagram, length: number) => d.data.subarray(1, 1 + length);

/** A pair past the handshake, with the server's and the client's qlog events, idle on a 10 ms link. */
function settledPair(): { pair: Pair; serverLog: QlogEvent[]; clientLog: QlogEvent[] } {
  const serverLog: QlogEvent[] = [];
  const clientLog: QlogEvent[] = [];
  const pair = new Pair({
    link: { delay: 10 },
    serverRouter: { qlog: () => (e) => serverLog.push(e) },
    client: { qlog: () => (e) => clientLog.push(e) },
  });
  expect(pair.handshake()).toBe(true);
  pair.run(() => false, 500);
  return { pair, serverLog, clientLog };
}

/**
 * An exchange that leaves the client owing only an ACK; that ACK-only datagram is taken off the
 * link (the client has nothing in flight, so nothing it sends later would move the server back).
 */
function clientAckOnly(pair: Pair): Buffer {
  const sink = new StreamSink();
  pair.onClientEvent = (e) => sink.onEvent(e);
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('hello'), true);
  pair.onServerEvent = (e) => {
    if (e.type === 'stream-data' && e.fin) pair.server!.write(id, Buffer.from('world'), true);
  };
  expect(pair.run(() => sink.finished.has(id), 5_000)).toBe(true);
  pair.run(() => false, 100); // the client's ACK of 'world' and the server's ACK of it settle
  const push = pair.server!.openStream()!;
  pair.server!.write(push, Buffer.from('ping me'), false);
  pair.flush();
  const arrival = pair.link.nextArrival()!;
  pair.now = arrival;
  for (const d of pair.link.deliver(pair.now)) pair.clientRouter.receive(d.data, d.from, pair.now);
  pair.pollEvents();
  // The ACK of that data is due after the client's ack delay.
  const due = computedTimeout(pair.client)!;
  pair.now = due;
  pair.client.handleTimeout(due);
  const sent = pair.client.transmit(due);
  expect(sent.length).toBe(1);
  return sent[0]!.data;
}

describe('validating the previously active path (RFC 9000 §9.3.3)', () => {
  it('a forwarded copy moves the server; its challenge on the old path brings it back within a round trip', () => {
    const { pair, serverLog, clientLog } = settledPair();
    const server = pair.server!;
    const ack = clientAckOnly(pair);
    const pathIdBefore = lossOf(server).pathId;
    const dcidLength = inside(server).peerCids.dcid.length;
    const oldDcid = Buffer.from(inside(server).peerCids.dcid);
    // The attacker's copy arrives first; the genuine datagram is lost (a duplicate anyway).
    pair.now += 10;
    server.receive(ack, ATTACKER, pair.now);
    expect(server.remote).toEqual(ATTACKER);
    const movedAt = pair.now;
    const check = inside(server).oldPathCheck!;
    expect(check).toBeDefined();
    expect(check.to).toEqual(CLIENT_ADDR);

    const burst = server.transmit(pair.now);
    pair.serverSent.push(...burst.map((d) => ({ ...d, at: pair.now })));
    for (const d of burst) pair.link.send(d.data, SERVER_ADDR, d.to, pair.now);
    const toOld = burst.filter((d) => same(d.to, CLIENT_ADDR));
    const toNew = burst.filter((d) => same(d.to, ATTACKER));
    // One challenge on each path: the old one expanded (RFC 9000 §8.2.1), with the old path's
    // connection ID, and the new one with a fresh ID (§9.5: no ID shared by two destinations).
    expect(toOld.length).toBe(1);
    expect(toOld[0]!.data.length).toBeGreaterThanOrEqual(1200);
    expect(dcidOf(toOld[0]!, dcidLength)).toEqual(oldDcid);
    expect(toNew.length).toBeGreaterThan(0);
    for (const d of toNew) expect(dcidOf(d, dcidLength)).not.toEqual(oldDcid);
    // Its own challenge data: the new path's challenge does not answer it.
    expect(check.matches(inside(server).pathChallenge!.data)).toBe(false);

    // The client answers on its active path with a non-probing packet (PATH_RESPONSE and PING),
    // which carries a higher packet number than the copy: the server moves back (§9.3).
    expect(pair.run(() => same(server.remote, CLIENT_ADDR), 2_000)).toBe(true);
    expect(pair.now - movedAt).toBeLessThan(100);
    // Back on the last validated address: no new validation, no amplification limit, and its
    // recovery state restored (RFC 9000 §9.3 MAY, §9.3.2); the spurious address is checked instead.
    expect(inside(server).addressValidated).toBe(true);
    expect(inside(server).pathChallenge).toBeUndefined();
    expect(lossOf(server).pathId).toBe(pathIdBefore);
    expect(inside(server).oldPathCheck?.to).toEqual(ATTACKER);
    const responses = clientLog.filter((e) => e.name === 'transport:packet_sent' && (e.data['frames'] as string[]).includes('path_response'));
    expect(responses.length).toBeGreaterThan(0);
    for (const r of responses) expect((r.data['frames'] as string[]).some((f) => f !== 'path_response' && f !== 'padding')).toBe(true);
    expect(serverLog.some((e) => e.name === 'connectivity:old_path_validated')).toBe(true);
    // The connection carries on over the genuine path.
    const sink = new StreamSink();
    pair.onClientEvent = (e) => sink.onEvent(e);
    const id = server.openStream()!;
    server.write(id, Buffer.from('still here'), true);
    expect(pair.run(() => sink.finished.has(id), 5_000)).toBe(true);
    expect(server.remote).toEqual(CLIENT_ADDR);
  });

  it('a genuine rebinding: the dead old path fails its check, resent with new data, and the new path is unaffected', () => {
    const { pair, serverLog } = settledPair();
    const server = pair.server!;
    const sink = new StreamSink();
    pair.onClientEvent = (e) => sink.onEvent(e);
    // The NAT moves the client; nothing sent to the old binding arrives any more.
    pair.clientAddr = { address: '10.0.0.88', port: 40001 };
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('hello'), true);
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) server.write(id, Buffer.from('world'), true);
    };
    expect(pair.run(() => sink.finished.has(id), 5_000)).toBe(true);
    expect(server.remote).toEqual(pair.clientAddr);
    pair.run(() => false, 5_000);
    const validated = serverLog.filter((e) => e.name === 'connectivity:path_validated');
    expect(validated.length).toBeGreaterThan(0);
    const failed = serverLog.filter((e) => e.name === 'connectivity:old_path_validation_failed');
    expect(failed.length).toBe(1);
    expect(failed[0]!.data['remote']).toEqual(CLIENT_ADDR);
    // The challenges to the old address: more than one (each PTO without an answer), each expanded,
    // spaced further apart each time (RFC 9002 §6.2.1), none after the check failed.
    const toOld = serverLog.filter((e) => e.name === 'transport:packet_sent' && e.data['old_path'] === true).map((e) => ({ at: e.time, length: e.data['length'] as number }));
    expect(toOld.length).toBeGreaterThanOrEqual(2);
    for (const d of toOld) expect(d.length).toBeGreaterThanOrEqual(1200);
    for (const d of pair.serverSent.filter((d) => same(d.to, CLIENT_ADDR) && d.at >= toOld[0]!.at)) expect(d.data.length).toBeGreaterThanOrEqual(1200);
    for (let i = 2; i < toOld.length; i++) expect(toOld[i]!.at - toOld[i - 1]!.at).toBeGreaterThan(toOld[i - 1]!.at - toOld[i - 2]!.at);
    expect(toOld.at(-1)!.at).toBeLessThanOrEqual(failed[0]!.time);
    // The new path stays in use and validated.
    expect(server.remote).toEqual(pair.clientAddr);
    expect(serverLog.some((e) => e.name === 'connectivity:path_validation_failed')).toBe(false);
    expect(serverLog.some((e) => e.name === 'connectivity:old_path_validated')).toBe(false);
    expect(server.state).toBe('established');
  });

  it('an old path still reachable passes its check; the new path stays in use', () => {
    const { pair, serverLog } = settledPair();
    const server = pair.server!;
    const sink = new StreamSink();
    pair.onClientEvent = (e) => sink.onEvent(e);
    // The old binding keeps delivering to the client (which answers from its new address).
    pair.clientAliases.push(pair.clientAddr);
    pair.clientAddr = { address: '10.0.0.88', port: 40001 };
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('hello'), true);
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) server.write(id, Buffer.from('world'), true);
    };
    expect(pair.run(() => sink.finished.has(id), 5_000)).toBe(true);
    pair.run(() => false, 3_000);
    expect(serverLog.filter((e) => e.name === 'connectivity:old_path_validated').length).toBe(1);
    expect(serverLog.some((e) => e.name === 'connectivity:old_path_validation_failed')).toBe(false);
    expect(server.remote).toEqual(pair.clientAddr);
    const updates = serverLog.filter((e) => e.name === 'connectivity:path_updated');
    expect(updates.length).toBe(1);
    expect(serverLog.some((e) => e.name === 'connectivity:path_validated')).toBe(true);
  });
});

describe('answering a PATH_CHALLENGE on the active path (RFC 9000 §9.3.3)', () => {
  it('the PATH_RESPONSE goes in a non-probing packet, a PING added when nothing else is', () => {
    const { pair, clientLog } = settledPair();
    const client = pair.client as unknown as {
      onPathChallenge(frame: { type: 'path_challenge'; data: Buffer }, ctx: { from: PeerAddress }): void;
      spaces: { ack: { onAckSent(): void } }[];
    };
    client.onPathChallenge({ type: 'path_challenge', data: Buffer.alloc(8, 1) }, { from: pair.client.remote });
    // The ACK for the challenge's packet already went out: the response has nothing to ride with.
    client.spaces[2]!.ack.onAckSent();
    inside(pair.client).wake();
    const sent = pair.client.transmit(pair.now);
    expect(sent.length).toBe(1);
    expect(sent[0]!.to).toEqual(pair.client.remote);
    expect(clientLog.at(-1)!.data['frames']).toEqual(['path_response', 'ping']);
    // A response to another address (a probe of a path not in use, RFC 9000 §9.1) stays probing.
    const elsewhere: PeerAddress = { address: '10.0.0.3', port: 443 };
    client.onPathChallenge({ type: 'path_challenge', data: Buffer.alloc(8, 2) }, { from: elsewhere });
    client.spaces[2]!.ack.onAckSent();
    inside(pair.client).wake();
    const probing = pair.client.transmit(pair.now);
    expect(probing.map((d) => d.to)).toEqual([elsewhere]);
    expect(clientLog.at(-1)!.data['frames']).toEqual(['path_response']);
  });
});

describe('which packets move the server (RFC 9000 §9.1, §9.3)', () => {
  it('a probing packet from a new address does not; the PATH_RESPONSE goes to that address', () => {
    const { pair, clientLog } = settledPair();
    const server = pair.server!;
    // A client probe of a new path: a packet of PATH_CHALLENGE (and PADDING) only — no ACK rides
    // along, as one would on a packet of the path in use.
    (pair.client as unknown as { spaces: { ack: { onAckSent(): void } }[] }).spaces[2]!.ack.onAckSent();
    inside(pair.client).pathChallenge = { data: Buffer.alloc(8, 0x5a), to: pair.client.remote, sentAt: undefined } as Inside['pathChallenge'];
    inside(pair.client).wake();
    const [probe] = pair.client.transmit(pair.now);
    expect(probe).toBeDefined();
    expect(clientLog.at(-1)!.data['frames']).toEqual(['path_challenge']);
    const from: PeerAddress = { address: '10.0.0.99', port: 9999 };
    server.receive(probe!.data, from, pair.now + 10);
    expect(server.remote).toEqual(CLIENT_ADDR);
    expect(inside(server).oldPathCheck).toBeUndefined();
    const inFlightBefore = lossOf(server).congestion.bytesInFlight;
    const answer = server.transmit(pair.now + 10);
    expect(answer.filter((d) => same(d.to, from)).length).toBe(1);
    // The response is off the path in use (RFC 9000 §9.4): it spends none of its window.
    expect(answer.every((d) => same(d.to, from))).toBe(true);
    expect(lossOf(server).congestion.bytesInFlight).toBe(inFlightBefore);
  });

  it('only the highest-numbered non-probing packet: a reordered older one from the old address moves nothing', () => {
    const { pair } = settledPair();
    const server = pair.server!;
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('one'), false);
    const [first] = pair.client.transmit(pair.now);
    pair.client.write(id, Buffer.from('two'), true);
    const [second] = pair.client.transmit(pair.now);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    const moved: PeerAddress = { address: '10.0.0.1', port: 50001 };
    server.receive(second!.data, moved, pair.now + 10);
    expect(server.remote).toEqual(moved);
    server.receive(first!.data, CLIENT_ADDR, pair.now + 11);
    expect(server.remote).toEqual(moved);
  });
});
