/**
 * Review of c8e6aca (Retry under load, RFC 9000 §8.1.2, §21.1.1.2): through an adaptive Retry,
 * v2 and compatible version negotiation (RFC 9369, RFC 9368), resumption with 0-RTT (RFC 9001
 * §4.6) and a NEW_TOKEN token (§8.1.3) still work; a client that used its Retry token is never
 * asked again (§17.2.5.2); nothing the server sends before validation exceeds 3x (§8.1).
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/quic/version.js';
import { CA, Pair, SERVER_ADDR, StreamSink } from '../sim/harness.js';

type Ticket = Extract<ConnectionEvent, { type: 'session-ticket' }>;

/** Whether a datagram is a Retry: long header, type 3 in v1, type 0 in v2 (RFC 9000 §17.2.5, RFC 9369 §3.2). */
function isRetry(d: Buffer): boolean {
  if ((d[0]! & 0x80) === 0) return false;
  const type = (d[0]! & 0x30) >> 4;
  return d.readUInt32BE(1) === QUIC_V2 ? type === 0 : type === 3;
}

/** Whether the server's first datagram to the client was a Retry (v1 type 3, v2 type 0). */
function firstWasRetry(pair: Pair): boolean {
  const first = pair.serverSent[0]!.data;
  const version = first.readUInt32BE(1);
  const type = (first[0]! & 0x30) >> 4;
  return version === QUIC_V2 ? type === 0 : type === 3;
}

describe('s8 review: adaptive Retry', () => {
  it('with maxHandshakes 0 every tokenless client gets Retry, then is refused (threshold 0)', () => {
    const pair = new Pair({ serverRouter: { maxHandshakes: 0 } });
    expect(pair.handshake(5_000)).toBe(false);
    expect(firstWasRetry(pair)).toBe(true);
    expect(pair.serverSent.filter((d) => isRetry(d.data)).length).toBe(1);
    // RFC 9000 §5.2.2: back with its token, the client is refused rather than asked again.
    expect(pair.client.closeReason).toMatchObject({ code: 0x2, source: 'peer' });
  });

  it('v1 -> v2 compatible negotiation completes through Retry, with one Retry (RFC 9368 §2.3, RFC 9369 §3.2, RFC 9000 §17.2.5.2)', () => {
    const pair = new Pair({ server: { retry: true }, serverRouter: { versions: [QUIC_V2, QUIC_V1] } });
    expect(pair.handshake()).toBe(true);
    expect(firstWasRetry(pair)).toBe(true);
    expect(pair.client.version).toBe(QUIC_V2);
    expect(pair.server!.version).toBe(QUIC_V2);
    expect(pair.serverSent.filter((d) => isRetry(d.data)).length).toBe(1);
  });

  it('a resumed client with 0-RTT through Retry: its request arrives and the handshake completes', () => {
    const pair = new Pair({ server: { maxEarlyData: 0xffffffff, newTokens: false } });
    expect(pair.handshake()).toBe(true);
    expect(pair.run(() => pair.clientEvents.some((e) => e.type === 'session-ticket'))).toBe(true);
    const ticket = pair.clientEvents.find((e): e is Ticket => e.type === 'session-ticket')!;
    // Now every tokenless client gets Retry.
    (pair.serverRouter as unknown as { retryThreshold: number }).retryThreshold = 0;
    const sentBefore = pair.serverSent.length;
    const conn = pair.clientRouter.connect(SERVER_ADDR, {
      serverName: 'localhost', alpn: ['h3'], ca: [CA], session: ticket.ticket, sessionTransportParameters: ticket.transportParameters, earlyData: true,
    }, pair.now);
    const id = conn.openStream()!;
    conn.write(id, Buffer.from('early request'), true);
    const served = new StreamSink();
    let done = false;
    const ok = pair.run(() => {
      for (const server of pair.serverRouter.connections) {
        if (server === pair.server) continue;
        for (let e = server.poll(); e !== undefined; e = server.poll()) {
          served.onEvent(e);
          if (e.type === 'stream-data' && e.fin) done = true;
        }
      }
      for (let e = conn.poll(); e !== undefined; e = conn.poll());
      return done && conn.isHandshakeComplete;
    }, 10_000);
    expect(ok).toBe(true);
    expect(served.data(id).toString()).toBe('early request');
    // RFC 9000 §17.2.5.3: 0-RTT sent again after the Retry, with the new connection ID; accepted.
    expect((conn as unknown as { tls: { earlyDataAccepted: boolean } }).tls.earlyDataAccepted).toBe(true);
    expect(pair.serverSent.slice(sentBefore).filter((d) => isRetry(d.data)).length).toBe(1);
  });

  it('a NEW_TOKEN token counts as validation: no Retry for the next connection (RFC 9000 §8.1.3)', () => {
    const pair = new Pair({});
    expect(pair.handshake()).toBe(true);
    expect(pair.run(() => pair.clientEvents.some((e) => e.type === 'new-token'))).toBe(true);
    const token = (pair.clientEvents.find((e) => e.type === 'new-token') as { token: Buffer }).token;
    (pair.serverRouter as unknown as { retryThreshold: number }).retryThreshold = 0;
    const sentBefore = pair.serverSent.length;
    const conn = pair.clientRouter.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, pair.now, token);
    expect(pair.run(() => conn.isHandshakeComplete, 5_000)).toBe(true);
    expect(pair.serverSent.slice(sentBefore).some((d) => isRetry(d.data))).toBe(false);
  });
});
