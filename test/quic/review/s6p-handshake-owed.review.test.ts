/**
 * Review of 157518d, 0048ad6 and c14ba44 (issue 5), end to end in memory:
 * - 157518d: what a completed handshake owes the peer (session ticket, HANDSHAKE_DONE, NEW_TOKEN,
 *   NEW_CONNECTION_ID) is made at the first transmit() after completion. Checked: when that whole
 *   flight is lost, the ticket, the token and the IDs still arrive (RFC 9002 §6.2, RFC 9001
 *   §4.1.2: the client's handshake is confirmed by HANDSHAKE_DONE), the ticket then resumes with
 *   0-RTT accepted (RFC 9001 §4.6.1), and the NEW_TOKEN validates the client's next address (RFC 9000 §8.1.3).
 * - 0048ad6 / c14ba44: the settings' transport parameters are encoded once and the server's TLS
 *   settings built once per router. Checked: several clients at once, with and without Retry,
 *   each complete (RFC 9000 §7.3: each side's connection IDs are authenticated in the other's
 *   parameters, so a shared value would fail the handshake) and each client holds its own
 *   server's stateless_reset_token (§18.2).
 */
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../../src/quic/connection.js';
import { CA, Pair, SERVER_ADDR, START } from '../sim/harness.js';

type Ticket = Extract<ConnectionEvent, { type: 'session-ticket' }>;

function drain(conn: Connection, into: ConnectionEvent[]): void {
  for (let e = conn.poll(); e !== undefined; e = conn.poll()) into.push(e);
}

function peerResetTokens(conn: Connection): string[] {
  const ids = (conn as unknown as { peerCids: { ids: Map<number, { resetToken?: Buffer }> } }).peerCids.ids;
  return [...ids.values()].map((id) => id.resetToken?.toString('hex') ?? '');
}

/** RFC 9001 §4.1.2: the client's handshake is confirmed when HANDSHAKE_DONE arrives. */
function confirmed(conn: Connection): boolean {
  return (conn as unknown as { handshakeConfirmed: boolean }).handshakeConfirmed;
}

function peerIdCount(conn: Connection): number {
  return (conn as unknown as { peerCids: { ids: Map<number, unknown> } }).peerCids.ids.size;
}

describe('review 157518d: the flight after the handshake, lost once (RFC 9000 §5.1.1, §8.1.3; RFC 8446 §4.6.1)', () => {
  it('ticket, token and IDs arrive by retransmission; the ticket resumes with 0-RTT accepted', () => {
    // One-way delay 10 ms: the server completes at START + 30 and sends the flight at once; every
    // datagram to the client in [START + 29, START + 35) is lost.
    const pair = new Pair({ link: { delay: 10, blackholes: [[START + 29, START + 35]], lossyDirection: 'to-client' }, server: { maxEarlyData: 0xffffffff } });
    let serverDoneAt = 0;
    pair.onServerEvent = (e) => {
      if (e.type === 'handshake-complete') serverDoneAt = pair.now;
    };
    let ticketAt = 0;
    pair.onClientEvent = (e) => {
      if (e.type === 'session-ticket' && ticketAt === 0) ticketAt = pair.now;
    };
    expect(pair.handshake()).toBe(true);
    const got = () => pair.clientEvents.some((e) => e.type === 'session-ticket') && pair.clientEvents.some((e) => e.type === 'new-token');
    expect(pair.run(() => got() && peerIdCount(pair.client) >= 4 && confirmed(pair.client), 10_000)).toBe(true);
    // The flight really was lost: what came after it arrived later than one link delay.
    expect(serverDoneAt).toBeGreaterThanOrEqual(START + 29);
    expect(serverDoneAt).toBeLessThan(START + 35);
    expect(ticketAt).toBeGreaterThan(serverDoneAt + 10);

    const ticket = pair.clientEvents.find((e): e is Ticket => e.type === 'session-ticket')!;
    const token = pair.clientEvents.find((e): e is Extract<ConnectionEvent, { type: 'new-token' }> => e.type === 'new-token')!;
    const resumed = pair.clientRouter.connect(
      SERVER_ADDR,
      { serverName: 'localhost', alpn: ['h3'], ca: [CA], session: ticket.ticket, sessionTransportParameters: ticket.transportParameters, earlyData: true },
      pair.now,
      token.token,
    );
    const id = resumed.openStream()!;
    expect(resumed.write(id, Buffer.from('early'), true)).toBe(true);
    const events: ConnectionEvent[] = [];
    const served: ConnectionEvent[] = [];
    let servedEarly = false;
    const ok = pair.run(() => {
      drain(resumed, events);
      for (const server of pair.serverRouter.connections) {
        if (server === pair.server) continue;
        const before = served.length;
        drain(server, served);
        for (const e of served.slice(before)) if (e.type === 'stream-data' && e.fin && !server.isHandshakeComplete) servedEarly = true;
      }
      return resumed.isHandshakeComplete && served.some((e) => e.type === 'stream-data' && e.fin);
    }, 10_000);
    expect(ok).toBe(true);
    expect(servedEarly).toBe(true); // read as 0-RTT, before the server's handshake completed
  });
});

/** The client options ConnectionRouter.connect takes, as the harness passes them. */
function clientTls() {
  return { serverName: 'localhost', alpn: ['h3'], ca: [CA] };
}

describe('review 0048ad6, c14ba44: per-connection transport parameters and shared server settings (RFC 9000 §7.3, §18.2)', () => {
  for (const retry of [false, true]) {
    it(`four clients at once${retry ? ' after Retry' : ''}: each completes, each holds its own server's reset token`, () => {
      const pair = new Pair({ server: { retry } });
      const others = [1, 2, 3].map(() => pair.clientRouter.connect(SERVER_ADDR, clientTls(), pair.now));
      const clients = [pair.client, ...others];
      const done = () => clients.every((c) => c.isHandshakeComplete) && [...pair.serverRouter.connections].filter((s) => s.isHandshakeComplete).length === 4;
      expect(pair.run(() => {
        for (const c of others) drain(c, []);
        for (const s of pair.serverRouter.connections) if (s !== pair.server) drain(s, []);
        return done();
      }, 10_000)).toBe(true);
      for (const c of clients) expect(c.state).toBe('established');
      // Sequence 0's token is the server's stateless_reset_token parameter: one per connection.
      const firstTokens = clients.map((c) => peerResetTokens(c)[0]);
      expect(new Set(firstTokens).size).toBe(4);
      expect(firstTokens.every((t) => t !== undefined && t.length === 32)).toBe(true);
    });
  }
});
