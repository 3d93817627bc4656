/**
 * Discarded packet number spaces hold nothing (RFC 9001 §4.9): with the Initial and Handshake keys
 * go the space's ACK tracker, CRYPTO reassembler and CRYPTO send buffer (connection/packet-space.ts),
 * and loss detection's table of packets sent in it (recovery/loss-detection.ts, RFC 9002 §6.4).
 * Packets that still arrive for those spaces are dropped as before, and nothing is sent in them.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { CLIENT_ADDR, establishedPair, Pair, SERVER_ADDR } from '../sim/harness.js';

interface SpaceView {
  discarded: boolean;
  readKeys: unknown;
  writeKeys: unknown;
  ack: unknown;
  cryptoIn: unknown;
  cryptoOut: unknown;
}

function spacesOf(conn: Connection): SpaceView[] {
  return (conn as unknown as { spaces: SpaceView[] }).spaces;
}

function sentTablesOf(conn: Connection): { size: number }[] {
  return (conn as unknown as { loss: { spaces: { sent: { size: number } }[] } }).loss.spaces.map((space) => space.sent);
}

describe('QUIC discarded packet number spaces keep no state (RFC 9001 §4.9)', () => {
  it('an established pair keeps no tracker, reassembler or send buffer for Initial and Handshake', () => {
    const pair = establishedPair();
    for (const conn of [pair.client, pair.server!]) {
      const [initial, handshake, application] = spacesOf(conn);
      for (const space of [initial!, handshake!]) {
        expect(space).toMatchObject({ discarded: true, readKeys: undefined, writeKeys: undefined, ack: undefined, cryptoIn: undefined, cryptoOut: undefined });
      }
      expect(application!.discarded).toBe(false);
      expect(application!.ack).toBeDefined();
      expect(application!.cryptoOut).toBeDefined();
    }
    // Loss detection's sent tables of those spaces: one empty frozen table shared by all (RFC 9002 §6.4).
    const [clientInitial, clientHandshake, clientApplication] = sentTablesOf(pair.client);
    const [serverInitial, serverHandshake, serverApplication] = sentTablesOf(pair.server!);
    for (const table of [clientHandshake, serverInitial, serverHandshake]) expect(table).toBe(clientInitial);
    expect(clientInitial!.size).toBe(0);
    expect(Object.isFrozen(clientInitial)).toBe(true);
    expect(clientApplication).not.toBe(serverApplication);
    expect(clientApplication).not.toBe(clientInitial);
  });

  it('Initial and Handshake packets that arrive after the discard are dropped, unanswered, and data still flows', () => {
    const pair = new Pair();
    const fromServer: Buffer[] = [];
    const serverTransmit = pair.serverRouter.transmit.bind(pair.serverRouter);
    pair.serverRouter.transmit = (now: number) => {
      const out = serverTransmit(now);
      for (const d of out) fromServer.push(d.data);
      return out;
    };
    expect(pair.handshake()).toBe(true);
    pair.settle();
    const longHeaderFromClient = pair.clientSent.filter((d) => (d[0]! & 0x80) !== 0);
    const longHeaderFromServer = fromServer.filter((d) => (d[0]! & 0x80) !== 0);
    expect(longHeaderFromClient.length).toBeGreaterThan(0);
    expect(longHeaderFromServer.length).toBeGreaterThan(0);
    // Whatever either side owes now (an ACK due) goes first, so that only the replay is left to answer.
    for (const router of [pair.serverRouter, pair.clientRouter]) {
      router.handleTimeout(pair.now);
      router.transmit(pair.now);
    }
    // Straight to the connections: the server's router would take a replayed first Initial for a new connection.
    for (const d of longHeaderFromClient) pair.server!.receive(d, CLIENT_ADDR, pair.now);
    for (const d of longHeaderFromServer) pair.client.receive(d, SERVER_ADDR, pair.now);
    // Nothing to acknowledge: those packets were not processed.
    expect(pair.serverRouter.transmit(pair.now)).toEqual([]);
    expect(pair.clientRouter.transmit(pair.now)).toEqual([]);
    expect(pair.client.state).toBe('established');
    expect(pair.server!.state).toBe('established');
    for (const conn of [pair.client, pair.server!]) expect(spacesOf(conn)[0]!.ack).toBeUndefined();

    const id = pair.client.openStream(true)!;
    pair.client.write(id, Buffer.from('after the discard'), true);
    const received: Buffer[] = [];
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data') received.push(Buffer.from(e.data));
    };
    expect(pair.run(() => Buffer.concat(received).toString() === 'after the discard', 5_000)).toBe(true);
  });
});
