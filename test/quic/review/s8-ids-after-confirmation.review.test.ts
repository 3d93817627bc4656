/**
 * Review of ee3f141 (a client issues its NEW_CONNECTION_IDs once the handshake is confirmed, RFC
 * 9000 §5.1.1, §9; RFC 9001 §4.1.2): a client that migrates at once on confirmation, a server that
 * never sends HANDSHAKE_DONE, and the first key update. And (found by review of ee3f141, failed
 * before 6a2f244): the client may not migrate before the server holds a spare ID of it. Before
 * ee3f141 its NEW_CONNECTION_IDs rode in the datagram of its Finished, so a server that sent
 * HANDSHAKE_DONE held spare IDs; after it, with that datagram lost, a client that migrated at
 * confirmation left the server to answer on the new path with the ID it used on the old one
 * (RFC 9000 §9.5 MUST NOT reuse an ID toward two addresses; §5.1.1 SHOULD ensure the peer can use a
 * new ID on migration).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { Pair, pattern, StreamSink } from '../sim/harness.js';

function confirmed(conn: Connection): boolean {
  return (conn as unknown as { handshakeConfirmed: boolean }).handshakeConfirmed;
}

/** The DCIDs of the server's short-header datagrams to `address`. */
function serverDcids(pair: Pair, address: string, from = 0): string[] {
  const len = pair.client.sourceConnectionId.length;
  return pair.serverSent.slice(from).filter((d) => d.to.address === address && (d.data[0]! & 0x80) === 0).map((d) => d.data.subarray(1, 1 + len).toString('hex'));
}

/** The client sends a stream after moving; whether the server received all of it. */
function sendAfterMove(pair: Pair): boolean {
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('after migration'), true);
  const sink = new StreamSink();
  pair.onServerEvent = (e) => sink.onEvent(e);
  return pair.run(() => sink.finished.has(id), 5_000);
}

describe('s8 review: client IDs after confirmation', () => {
  it('a client migrates once the server holds a spare ID of it, a round trip after confirmation; the server answers on the new path with a new ID of the client (RFC 9000 §5.1.1, §9.5)', () => {
    const pair = new Pair({ link: { delay: 10 } });
    expect(pair.run(() => confirmed(pair.client), 5_000)).toBe(true);
    expect(pair.client.canMigrate).toBe(false); // its NEW_CONNECTION_IDs are not acknowledged yet
    expect(pair.run(() => pair.client.canMigrate, 1_000)).toBe(true);
    const before = pair.serverSent.length;
    const oldIds = new Set(serverDcids(pair, '10.0.0.1'));
    pair.clientAddr = { address: '10.0.0.77', port: 40000 };
    pair.client.migrate();
    expect(sendAfterMove(pair)).toBe(true);
    const newIds = serverDcids(pair, '10.0.0.77', before);
    expect(newIds.length).toBeGreaterThan(0);
    for (const dcid of newIds) expect(oldIds.has(dcid)).toBe(false);
  });

  it('a server that never sends HANDSHAKE_DONE: the client still exchanges data, issues no IDs and cannot migrate or update keys', () => {
    const pair = new Pair({ link: { delay: 10 } });
    // Keep the server from ever sending HANDSHAKE_DONE (a broken or hostile server).
    pair.onServerEvent = (e) => {
      if (e.type === 'handshake-complete') (pair.server as unknown as { handshakeDonePending: boolean }).handshakeDonePending = false;
    };
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    const body = pattern(100_000);
    pair.client.write(id, body, true);
    const sink = new StreamSink();
    pair.onServerEvent = (e) => sink.onEvent(e);
    expect(pair.run(() => sink.finished.has(id), 10_000)).toBe(true);
    expect(sink.data(id).equals(body)).toBe(true);
    expect(confirmed(pair.client)).toBe(false);
    expect(pair.client.canMigrate).toBe(false);
    expect(pair.client.updateKeys()).toBe(false);
    // The server holds only the client's first ID: none was issued.
    const serverPeerIds = (pair.server as unknown as { peerCids: { dcid: Buffer } }).peerCids;
    expect(serverPeerIds.dcid.equals(pair.client.sourceConnectionId)).toBe(true);
  });

  it('the first key update still happens once confirmed, without any application data (RFC 9001 §6.1)', () => {
    const pair = new Pair({ link: { delay: 10 } });
    expect(pair.run(() => confirmed(pair.client), 5_000)).toBe(true);
    // The IDs the client now sends are acknowledged: an acknowledged packet of the current phase.
    let started = false;
    expect(pair.run(() => (started ||= pair.client.updateKeys()), 2_000)).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('x'), true);
    expect(pair.run(() => pair.client.keyUpdates > 0 && pair.server!.keyUpdates > 0, 5_000)).toBe(true);
  });

  it('IDs lost right after confirmation: no migration onto a path the server must answer with the old ID', () => {
    const pair = new Pair({ link: { delay: 10 } });
    for (let i = 0; i < 1000 && !confirmed(pair.client); i++) pair.step();
    expect(confirmed(pair.client)).toBe(true);
    // The client's first datagrams after confirmation (its NEW_CONNECTION_IDs) are lost.
    expect(pair.clientRouter.transmit(pair.now).length).toBeGreaterThan(0);
    const before = pair.serverSent.length;
    const oldIds = new Set(serverDcids(pair, '10.0.0.1'));
    const migrated = pair.client.canMigrate;
    if (migrated) pair.clientAddr = { address: '10.0.0.77', port: 40000 };
    pair.client.migrate();
    expect(sendAfterMove(pair)).toBe(true);
    // Either the client waited (canMigrate false until its IDs are acknowledged) or the server
    // answered on the new path with a fresh ID.
    for (const dcid of serverDcids(pair, '10.0.0.77', before)) expect(oldIds.has(dcid)).toBe(false);
    if (migrated) expect(serverDcids(pair, '10.0.0.77', before).length).toBeGreaterThan(0);
  });
});
