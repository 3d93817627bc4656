/**
 * Resumption and 0-RTT (RFC 9001 §4.6, RFC 9000 §7.4.1): a second connection resumes with the
 * first one's ticket and sends its request in 0-RTT packets, which the server reads before the
 * handshake completes; a server that does not accept early data gets the same bytes in 1-RTT.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { CA, Pair, SERVER_ADDR, StreamSink } from '../sim/harness.js';

type Ticket = Extract<ConnectionEvent, { type: 'session-ticket' }>;

function firstConnection(maxEarlyData: number): { pair: Pair; ticket: Ticket } {
  const pair = new Pair({ server: { maxEarlyData } });
  expect(pair.handshake()).toBe(true);
  expect(pair.run(() => pair.clientEvents.some((e) => e.type === 'session-ticket'))).toBe(true);
  return { pair, ticket: pair.clientEvents.find((e): e is Ticket => e.type === 'session-ticket')! };
}

function resume(pair: Pair, ticket: Ticket) {
  const conn = pair.clientRouter.connect(SERVER_ADDR, {
    serverName: 'localhost', alpn: ['h3'], ca: [CA], session: ticket.ticket, sessionTransportParameters: ticket.transportParameters, earlyData: true,
  }, pair.now);
  // The request goes out before anything came back from the server.
  const id = conn.openStream()!;
  expect(conn.write(id, Buffer.from('early request'), true)).toBe(true);
  const served = new StreamSink();
  let servedAt = 0;
  let completedAt = 0;
  const start = pair.now;
  const ok = pair.run(() => {
    for (const server of pair.serverRouter.connections) {
      if (server === pair.server) continue;
      for (let e = server.poll(); e !== undefined; e = server.poll()) {
        served.onEvent(e);
        if (e.type === 'stream-data' && e.fin && servedAt === 0) servedAt = pair.now;
      }
    }
    for (let e = conn.poll(); e !== undefined; e = conn.poll()) if (e.type === 'handshake-complete') completedAt = pair.now;
    return servedAt > 0 && completedAt > 0;
  });
  return { ok, conn, id, served, servedAfter: servedAt - start, completedAfter: completedAt - start };
}

describe('0-RTT', () => {
  it('a resumed connection delivers its 0-RTT request before the client handshake completes', () => {
    const { pair, ticket } = firstConnection(0xffffffff);
    const r = resume(pair, ticket);
    expect(r.ok).toBe(true);
    expect(r.served.data(r.id).toString()).toBe('early request');
    // One-way delay 10 ms: the 0-RTT request arrives after ~10 ms, the client completes after ~20 ms.
    expect(r.servedAfter).toBeLessThan(r.completedAfter);
  });

  it('without early data on the server, the same bytes arrive in 1-RTT (RFC 9001 §4.6.2)', () => {
    const { pair, ticket } = firstConnection(0);
    const r = resume(pair, ticket);
    expect(r.ok).toBe(true);
    expect(r.served.data(r.id).toString()).toBe('early request');
    expect(r.servedAfter).toBeGreaterThanOrEqual(r.completedAfter);
  });

  it('a ticket replayed for 0-RTT is refused the second time; the data still arrives in 1-RTT (RFC 8446 §8.1)', () => {
    const { pair, ticket } = firstConnection(0xffffffff);
    const first = resume(pair, ticket);
    expect(first.servedAfter).toBeLessThan(first.completedAfter);
    const second = resume(pair, ticket);
    expect(second.ok).toBe(true);
    expect(second.served.data(second.id).toString()).toBe('early request');
    expect(second.servedAfter).toBeGreaterThanOrEqual(second.completedAfter);
  });
});
