/**
 * The client's view of the server's address (RFC 9000 §9): "If a client receives packets from an
 * unknown server address, the client MUST discard these packets." A host name given to connect()
 * becomes the address the first authenticated packet came from, and is fixed from then on.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import type { Connection, PeerAddress } from '../../../src/quic/connection.js';
import { CA, CERT, CLIENT_ADDR, KEY, SERVER_ADDR, START, seededBytes } from '../sim/harness.js';

const NAMED_SERVER: PeerAddress = { address: 'quic.example', port: SERVER_ADDR.port };

/** Client and server routers wired by hand: whatever the client sends reaches the server. */
function namedPair() {
  const server = new ConnectionRouter({ random: seededBytes('server'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } });
  const clientLog: string[] = [];
  const client = new ConnectionRouter({ random: seededBytes('client'), qlog: () => (e) => clientLog.push(e.name) });
  const conn = client.connect(NAMED_SERVER, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, START);
  let now = START;
  let serverConn: Connection | undefined;
  const exchange = (from: PeerAddress = SERVER_ADDR) => {
    for (let round = 0; round < 20; round++) {
      now += 1;
      const up = client.transmit(now);
      for (const d of up) server.receive(d.data, CLIENT_ADDR, now);
      for (let c = server.accept(); c !== undefined; c = server.accept()) serverConn ??= c;
      const down = server.transmit(now);
      for (const d of down) client.receive(d.data, from, now);
      if (up.length === 0 && down.length === 0) break;
    }
  };
  return { client, server, conn, exchange, clientLog, serverConn: () => serverConn!, now: () => now };
}

describe('the server address of a client connection (RFC 9000 §9)', () => {
  it('a host name is replaced by the source of the first authenticated packet, and the handshake completes', () => {
    const pair = namedPair();
    const [first] = pair.client.transmit(pair.now());
    expect(first!.to).toEqual(NAMED_SERVER);
    pair.server.receive(first!.data, CLIENT_ADDR, pair.now());
    pair.exchange();
    expect(pair.conn.isHandshakeComplete).toBe(true);
    expect(pair.conn.remote).toEqual(SERVER_ADDR);
    // Naming the server is no migration (RFC 9000 §9.4): no new path, no path validation.
    expect(pair.clientLog).not.toContain('connectivity:path_updated');
    for (const d of pair.client.transmit(pair.now() + 30)) expect(d.to).toEqual(SERVER_ADDR);
  });

  it('a packet that fails authentication names nothing', () => {
    const pair = namedPair();
    pair.client.receive(Buffer.alloc(1200, 0xc3), { address: '198.51.100.7', port: 443 }, pair.now());
    expect(pair.conn.remote).toEqual(NAMED_SERVER);
    pair.exchange();
    expect(pair.conn.isHandshakeComplete).toBe(true);
    expect(pair.conn.remote).toEqual(SERVER_ADDR);
  });

  it('once the address is known, a genuine packet from another address is dropped unread', () => {
    const pair = namedPair();
    pair.exchange();
    const server = pair.serverConn();
    const id = server.openStream()!;
    server.write(id, Buffer.from('from elsewhere'), true);
    const datagrams = server.transmit(pair.now() + 5);
    expect(datagrams.length).toBeGreaterThan(0);
    const dropped = pair.conn.stats.packetsDropped;
    for (const d of datagrams) pair.client.receive(d.data, { address: '198.51.100.7', port: 443 }, pair.now() + 10);
    const events = [];
    for (let e = pair.conn.poll(); e !== undefined; e = pair.conn.poll()) events.push(e);
    expect(events.filter((e) => e.type === 'stream-data')).toEqual([]);
    expect(pair.conn.stats.packetsDropped).toBe(dropped + datagrams.length);
    expect(pair.conn.remote).toEqual(SERVER_ADDR);
  });

  it('the IPv4-mapped form of the server address is the server address', () => {
    const pair = namedPair();
    pair.exchange({ address: `::ffff:${SERVER_ADDR.address}`, port: SERVER_ADDR.port });
    expect(pair.conn.isHandshakeComplete).toBe(true);
    const server = pair.serverConn();
    const id = server.openStream()!;
    server.write(id, Buffer.from('mapped'), true);
    for (const d of server.transmit(pair.now() + 5)) pair.client.receive(d.data, SERVER_ADDR, pair.now() + 10);
    const data = [];
    for (let e = pair.conn.poll(); e !== undefined; e = pair.conn.poll()) if (e.type === 'stream-data') data.push(e);
    expect(data.length).toBe(1);
  });
});
