/**
 * What a completed handshake owes the peer in 1-RTT packets — our connection IDs (RFC 9000
 * §5.1.1), a server's session ticket (RFC 8446 §4.6.1) and NEW_TOKEN (RFC 9000 §8.1.3) — is made
 * at the first transmit() after completion (connection.ts sendAfterHandshake): it still leaves in
 * the very next flight, and a connection the application closes on 'handshake-complete' makes none
 * of it.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { Pair } from '../sim/harness.js';

/** Connection IDs a connection has issued and still routes (sequence 0 included). */
function issuedIds(conn: Connection): number {
  return (conn as unknown as { localCids: { all(): unknown[] } }).localCids.all().length;
}

/** Connection IDs a connection holds from its peer. */
function peerIds(conn: Connection): number {
  return (conn as unknown as { peerCids: { ids: Map<number, unknown> } }).peerCids.ids.size;
}

describe('QUIC work after the handshake (RFC 9000 §5.1.1, §8.1.3; RFC 8446 §4.6.1)', () => {
  it('leaves in the flight right after completion: ticket, token and connection IDs one link delay later', () => {
    const pair = new Pair({ link: { delay: 10 } });
    let serverDone: number | undefined;
    const arrived = new Map<string, number>();
    pair.onServerEvent = (e) => {
      if (e.type === 'handshake-complete') {
        serverDone = pair.now;
        // The client issues its connection IDs once HANDSHAKE_DONE confirms its handshake, not with its Finished.
        expect(peerIds(pair.server!)).toBe(1);
      }
    };
    pair.onClientEvent = (e) => {
      if ((e.type === 'session-ticket' || e.type === 'new-token') && !arrived.has(e.type)) arrived.set(e.type, pair.now);
    };
    expect(pair.handshake()).toBe(true);
    expect(pair.run(() => arrived.size === 2, 1_000)).toBe(true);
    expect(arrived.get('session-ticket')).toBe(serverDone! + 10);
    expect(arrived.get('new-token')).toBe(serverDone! + 10);
    // The client's IDs (active_connection_id_limit 4) reach the server a round trip after its completion.
    expect(pair.run(() => peerIds(pair.server!) === 4, 1_000)).toBe(true);
    expect(pair.now).toBe(serverDone! + 20);
    expect(peerIds(pair.client)).toBe(4);
    expect(issuedIds(pair.server!)).toBe(4);
    expect(issuedIds(pair.client)).toBe(4);
  });

  it('is not made by a server closed on its handshake-complete event; the client learns of the close', () => {
    const pair = new Pair({ link: { delay: 10 } });
    pair.onServerEvent = (e) => {
      if (e.type === 'handshake-complete') pair.server!.close(0, 'done');
    };
    const run = pair.run(() => pair.client.state === 'draining' || pair.client.state === 'closed', 2_000);
    expect(run).toBe(true);
    expect(pair.client.closeReason).toMatchObject({ code: 0, application: true, reason: 'done', source: 'peer' });
    expect(pair.clientEvents.some((e) => e.type === 'session-ticket' || e.type === 'new-token')).toBe(false);
    const server = pair.server!;
    expect(server.state).toBe('closing');
    expect(issuedIds(server)).toBe(1); // only sequence 0, from the handshake
    expect(issuedIds(pair.client)).toBe(1); // the client's handshake was never confirmed: no ID of its own went out
    const cryptoOut = (server as unknown as { spaces: { cryptoOut: { hasChunkToSend: boolean } }[] }).spaces[2]!.cryptoOut;
    expect(cryptoOut.hasChunkToSend).toBe(false); // no NewSessionTicket was written
  });
});
