/**
 * Review of ee3f141 (found by review of ee3f141; RFC 9000 §5.1.1, §9.5). Fails on the current code.
 * Before ee3f141 the client's NEW_CONNECTION_IDs rode in the datagram of its Finished, so a server
 * that sent HANDSHAKE_DONE held spare IDs of the client. Now they leave at the first transmit after
 * confirmation, and canMigrate is true before the server holds any: a client that migrates then,
 * with that datagram lost, leaves the server to answer on the new path with the ID it used on the
 * old one (§9.5 MUST NOT: "an endpoint MUST NOT reuse a connection ID when sending to more than one
 * destination address"; §5.1.1 SHOULD: "An endpoint that initiates migration ... SHOULD ensure
 * that the pool of connection IDs available to its peer allows the peer to use a new connection ID
 * on migration").
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { Pair, StreamSink } from '../sim/harness.js';

function confirmed(conn: Connection): boolean {
  return (conn as unknown as { handshakeConfirmed: boolean }).handshakeConfirmed;
}

function serverDcids(pair: Pair, address: string, from = 0): string[] {
  const len = pair.client.sourceConnectionId.length;
  return pair.serverSent.slice(from).filter((d) => d.to.address === address && (d.data[0]! & 0x80) === 0).map((d) => d.data.subarray(1, 1 + len).toString('hex'));
}

describe('s8 review: a client migrates only once the server holds a spare ID of it', () => {
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
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('after migration'), true);
    const sink = new StreamSink();
    pair.onServerEvent = (e) => sink.onEvent(e);
    expect(pair.run(() => sink.finished.has(id), 5_000)).toBe(true);
    // Either the client waited (canMigrate false until its IDs are acknowledged) or the server
    // answered on the new path with a fresh ID.
    for (const dcid of serverDcids(pair, '10.0.0.77', before)) expect(oldIds.has(dcid)).toBe(false);
    if (migrated) expect(serverDcids(pair, '10.0.0.77', before).length).toBeGreaterThan(0);
  });
});
