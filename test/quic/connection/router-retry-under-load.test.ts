/**
 * Retry under load (RFC 9000 §8.1.2, §21.1.1.2): a server asks new clients without a valid token
 * to prove their address once half of maxHandshakes are in progress (by default), so that a flood
 * of Initials from spoofed addresses costs it Retry packets instead of first flights, while clients
 * at real addresses come back with a token and are served up to maxHandshakes.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionRouter, type RouterOptions } from '../../../src/quic/connection/router.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import type { PeerAddress } from '../../../src/quic/connection/types.js';
import { CA, CERT, KEY, SERVER_ADDR, seededBytes, START } from '../sim/harness.js';

const CLIENT_TLS = { serverName: 'localhost', alpn: ['h3'], ca: [CA] };

/** First Initials of `n` clients that will never answer (spoofed sources). */
function strangerInitials(n: number): Buffer[] {
  const clients = new ConnectionRouter({ random: seededBytes('strangers') });
  for (let i = 0; i < n; i++) clients.connect(SERVER_ADDR, CLIENT_TLS, START);
  return clients.transmit(START).map((d) => d.data);
}

function serverRouter(options: Partial<RouterOptions> & { retry?: boolean | { whenHandshakesInProgress: number } }): ConnectionRouter {
  const { retry, ...rest } = options;
  return new ConnectionRouter({ random: seededBytes('server'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'], retry }, ...rest });
}

/** The long header packet type bits of a v1 datagram's first packet (RFC 9000 §17.2). */
function longType(datagram: Buffer): 'initial' | 'retry' | 'other' {
  const bits = datagram[0]! & 0xf0;
  return bits === 0xc0 ? 'initial' : bits === 0xf0 ? 'retry' : 'other';
}

/** Fills the server with `n` handshakes from strangers; returns what the server sent each. */
function strangersArrive(server: ConnectionRouter, n: number): Buffer[] {
  strangerInitials(n).forEach((d, i) => server.receive(d, { address: '198.51.100.7', port: 2000 + i }, START));
  while (server.accept() !== undefined);
  // Stateless answers (Retry) leave before connections' datagrams: put them back in arrival order.
  return server.transmit(START).sort((x, y) => x.to.port - y.to.port).map((d) => d.data);
}

/** A real client's handshake with `server` over a lossless link; what the server sent it, and the connection. */
function realClient(server: ConnectionRouter) {
  const addr: PeerAddress = { address: '192.0.2.50', port: 4433 };
  const clientRouter = new ConnectionRouter({ random: seededBytes('real-client') });
  const conn = clientRouter.connect(SERVER_ADDR, CLIENT_TLS, START);
  const toClient: Buffer[] = [];
  let now = START;
  for (let round = 0; round < 20 && conn.state !== 'closed' && !(conn.isHandshakeComplete && conn.state === 'established' && round > 3); round++) {
    for (const d of clientRouter.transmit(now)) server.receive(d.data, addr, now);
    while (server.accept() !== undefined);
    for (const d of server.transmit(now)) {
      if (d.to.address !== addr.address) continue;
      toClient.push(d.data);
      clientRouter.receive(d.data, SERVER_ADDR, now);
    }
    for (let e = conn.poll(); e !== undefined; e = conn.poll());
    now += 5;
    clientRouter.handleTimeout(now);
    server.handleTimeout(now);
  }
  return { conn, toClient };
}

describe('Retry under load (RFC 9000 §8.1.2, §21.1.1.2)', () => {
  it('by default serves at once below half of maxHandshakes, and asks for Retry from there on', () => {
    const server = serverRouter({ maxHandshakes: 4 });
    const answers = strangersArrive(server, 2);
    expect(answers.map(longType)).toEqual(['initial', 'initial']); // first flights: no Retry below the threshold
    expect(server.connections.size).toBe(2);

    const { conn, toClient } = realClient(server);
    expect(longType(toClient[0]!)).toBe('retry');
    expect(conn.isHandshakeComplete).toBe(true); // it came back with the token and was served
    expect(server.connections.size).toBe(3);
  });

  it('a Retry costs no state: strangers past the threshold hold no connection', () => {
    const server = serverRouter({ maxHandshakes: 4 });
    const answers = strangersArrive(server, 10);
    expect(answers.filter((d) => longType(d) === 'retry')).toHaveLength(8);
    expect(server.connections.size).toBe(2);
    expect(server.refused).toBe(0);
  });

  it('at maxHandshakes a client without a token still gets Retry, and with it is refused while the table is full (RFC 9000 §5.2.2)', () => {
    const server = serverRouter({ maxHandshakes: 2, retry: { whenHandshakesInProgress: 2 } });
    expect(strangersArrive(server, 2).map(longType)).toEqual(['initial', 'initial']);
    const { conn, toClient } = realClient(server);
    expect(longType(toClient[0]!)).toBe('retry');
    expect(conn.isHandshakeComplete).toBe(false);
    expect(conn.closeReason).toMatchObject({ code: TransportErrorCode.CONNECTION_REFUSED });
    expect(server.connections.size).toBe(2);
  });

  it('retry: false never asks for Retry: the client is served below maxHandshakes and refused at it', () => {
    const below = serverRouter({ maxHandshakes: 4, retry: false });
    strangersArrive(below, 3);
    const served = realClient(below);
    expect(served.toClient.map(longType)).not.toContain('retry');
    expect(served.conn.isHandshakeComplete).toBe(true);

    const full = serverRouter({ maxHandshakes: 2, retry: false });
    strangersArrive(full, 2);
    const refused = realClient(full);
    expect(refused.toClient.map(longType)).not.toContain('retry');
    expect(refused.conn.closeReason).toMatchObject({ code: TransportErrorCode.CONNECTION_REFUSED });
  });

  it('retry: { whenHandshakesInProgress } sets the threshold, and retry: true asks every client', () => {
    const early = serverRouter({ retry: { whenHandshakesInProgress: 1 } });
    expect(strangersArrive(early, 2).map(longType)).toEqual(['initial', 'retry']);
    const always = serverRouter({ retry: true });
    expect(strangersArrive(always, 1).map(longType)).toEqual(['retry']);
    const { conn, toClient } = realClient(always);
    expect(longType(toClient[0]!)).toBe('retry');
    expect(conn.isHandshakeComplete).toBe(true);
  });
});
