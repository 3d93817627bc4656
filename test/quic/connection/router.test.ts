/**
 * The router's admission rules (RFC 9000 §5.2.2, §7.2, §14.1) and limits (DEFAULT_LIMITS
 * maxQuicConnections, maxQuicHandshakes): a server creates connections only from acceptable
 * Initials and never more than it is allowed to hold.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { CA, CERT, CLIENT_ADDR, KEY, Pair, SERVER_ADDR, seededBytes, START } from '../sim/harness.js';

function clientInitials(n: number): Buffer[] {
  const clients = new ConnectionRouter({ random: seededBytes('many-clients') });
  for (let i = 0; i < n; i++) clients.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, START);
  return clients.transmit(START).map((d) => d.data);
}

function serverRouter(options: { maxConnections?: number; maxHandshakes?: number } = {}): ConnectionRouter {
  return new ConnectionRouter({ random: seededBytes('limits'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] }, ...options });
}

describe('server admission (connection/router.ts)', () => {
  it('creates one connection per client Initial, and routes a repeat of it to the same connection', () => {
    const server = serverRouter();
    const [initial] = clientInitials(1);
    server.receive(initial!, { address: '192.0.2.1', port: 1000 }, START);
    server.receive(initial!, { address: '192.0.2.1', port: 1000 }, START + 1);
    expect(server.connections.size).toBe(1);
  });

  it('holds at most maxHandshakes connections in the handshake, and maxConnections in all', () => {
    const initials = clientInitials(5);
    const byHandshakes = serverRouter({ maxHandshakes: 3 });
    initials.forEach((d, i) => byHandshakes.receive(d, { address: '192.0.2.1', port: 1000 + i }, START));
    expect(byHandshakes.connections.size).toBe(3);
    expect(byHandshakes.dropped).toBe(2);
    const byConnections = serverRouter({ maxConnections: 2 });
    initials.forEach((d, i) => byConnections.receive(d, { address: '192.0.2.1', port: 1000 + i }, START));
    expect(byConnections.connections.size).toBe(2);
  });

  it('refuses new connections once closeAll() has begun, and still routes to those it holds (RFC 9000 §5.2.2, §10.2)', () => {
    const server = serverRouter();
    const [first, second] = clientInitials(2);
    server.receive(first!, { address: '192.0.2.1', port: 1000 }, START);
    expect(server.accept()).toBeDefined();
    server.closeAll(0, 'shutting down');
    server.receive(second!, { address: '192.0.2.1', port: 1001 }, START);
    expect(server.connections.size).toBe(1);
    expect(server.accept()).toBeUndefined();
    expect(server.dropped).toBe(1);
    // A repeat of the first client's Initial still reaches its connection, not the refusal.
    server.receive(first!, { address: '192.0.2.1', port: 1000 }, START + 1);
    expect(server.dropped).toBe(1);
  });

  it('drops Initials under 1200 bytes and first DCIDs under 8 bytes (RFC 9000 §14.1, §7.2)', () => {
    const server = serverRouter();
    const [initial] = clientInitials(1);
    server.receive(initial!.subarray(0, 1199), { address: '192.0.2.1', port: 1000 }, START);
    const shortDcid = Buffer.from(initial!);
    shortDcid[5] = 4; // claims a 4-byte DCID
    server.receive(shortDcid, { address: '192.0.2.1', port: 1000 }, START);
    expect(server.connections.size).toBe(0);
    expect(server.transmit(START)).toHaveLength(0);
  });

  it('forgets every connection ID of a closed connection: a short header to one gets a stateless reset (RFC 9000 §10.3)', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    pair.client.write(pair.client.openStream()!, Buffer.from('hello'), true);
    pair.flush();
    const oneRtt = pair.clientSent.filter((d) => (d[0]! & 0x80) === 0).at(-1)!;
    expect(oneRtt).toBeDefined();
    pair.server!.close(0, 'bye');
    expect(pair.run(() => pair.client.state === 'closed' && pair.server!.state === 'closed', 10_000)).toBe(true);
    pair.serverRouter.handleTimeout(pair.now);
    expect(pair.serverRouter.connections.size).toBe(0);
    pair.serverRouter.transmit(pair.now);
    pair.serverRouter.receive(oneRtt, CLIENT_ADDR, pair.now);
    const [reset] = pair.serverRouter.transmit(pair.now);
    expect(reset).toBeDefined();
    expect(reset!.data[0]! & 0xc0).toBe(0x40); // short header form, fixed bit
    expect(reset!.data.length).toBeLessThan(oneRtt.length);
  });

  it('counts only handshakes still in progress against maxHandshakes: a finished one frees its place', () => {
    const pair = new Pair({ serverRouter: { maxHandshakes: 1 } });
    pair.flush();
    pair.step(); // the server has the first client's Initial: one handshake in progress
    const [other] = clientInitials(1);
    pair.serverRouter.receive(other!, { address: '192.0.2.9', port: 9 }, pair.now);
    expect(pair.serverRouter.connections.size).toBe(1);
    expect(pair.handshake()).toBe(true);
    pair.serverRouter.receive(other!, { address: '192.0.2.9', port: 9 }, pair.now);
    expect(pair.serverRouter.connections.size).toBe(2);
  });
});
