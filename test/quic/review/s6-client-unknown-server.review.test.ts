/**
 * Review of RFC 9000 §9 ("If a client receives packets from an unknown server address, the client
 * MUST discard these packets"), which the path-change work (f7c010f: onPeerMigrated now also
 * resets the recovery state and datagram size) makes more costly to miss: a client that takes a
 * 1-RTT packet from another address for a migration moves its remote address there.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { Pair, SERVER_ADDR } from '../sim/harness.js';

/**
 * Failed before the fix: the client processes the packet, delivers its stream, and moves `remote` to the
 * unknown address (connection.ts receivePacket → onPeerMigrated has no role check).
 */
function clientDiscardsUnknownServerAddress(): void {
  const pair = new Pair({ link: { delay: 10 } });
  expect(pair.handshake()).toBe(true);
  pair.run(() => false, 500);
  const server = pair.server!;
  const id = server.openStream()!;
  server.write(id, Buffer.from('hi'), true);
  const [datagram] = server.transmit(pair.now);
  expect(datagram).toBeDefined();
  const unknown = { address: '198.51.100.7', port: 443 };
  pair.clientRouter.receive(datagram!.data, unknown, pair.now + 10);
  const events: ConnectionEvent[] = [];
  for (let e = pair.client.poll(); e !== undefined; e = pair.client.poll()) events.push(e);
  expect(pair.client.remote).toEqual(SERVER_ADDR);
  expect(events.filter((e) => e.type === 'stream-opened' || e.type === 'stream-data')).toEqual([]);
  for (const d of pair.client.transmit(pair.now + 10)) expect(d.to).toEqual(SERVER_ADDR);
}

describe('a client and packets from an unknown server address (RFC 9000 §9)', () => {
  // Found by review (clientDiscardsUnknownServerAddress): connection.ts receive() now drops such a
  // datagram before any processing, and onPeerMigrated is reached by the server only.
  it('discards a 1-RTT packet from an address other than the server\'s, and keeps its remote', clientDiscardsUnknownServerAddress);

  it('a server datagram from the server\'s address is processed (the check above keys on the address)', () => {
    const pair = new Pair({ link: { delay: 10 } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 500);
    const server = pair.server!;
    const id = server.openStream()!;
    server.write(id, Buffer.from('hi'), true);
    const [datagram] = server.transmit(pair.now);
    pair.clientRouter.receive(datagram!.data, SERVER_ADDR, pair.now + 10);
    const events: ConnectionEvent[] = [];
    for (let e = pair.client.poll(); e !== undefined; e = pair.client.poll()) events.push(e);
    expect(events.some((e) => e.type === 'stream-data')).toBe(true);
    expect(pair.client.remote).toEqual(SERVER_ADDR);
  });
});
