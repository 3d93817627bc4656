/**
 * A close in the event that reports the handshake complete (RFC 9001 §4.1.1: for a client, once TLS
 * has handed over its Finished, which no transmit() has sent yet) and the close datagram's size.
 *
 * - The Finished goes in the close datagram ahead of the CONNECTION_CLOSE, so that the server sees
 *   a handshake completed and then closed, not an abandoned one.
 * - A client with Handshake keys sends no Initial close (RFC 9000 §10.2.3: only a server cannot
 *   know whether its peer has Handshake keys): one ahead of the Finished would end the connection
 *   before the server read it.
 * - RFC 9000 §14.1: a client datagram carrying an Initial is at least 1200 bytes. RFC 9000 §14: no
 *   datagram is larger than the path has shown it carries, 1200 bytes during the handshake. Before,
 *   a close in three spaces padded its Initial to 1200 bytes and added the other two packets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { Pair, SERVER_ADDR } from '../sim/harness.js';

const MIN_INITIAL_DATAGRAM = 1200;

/** The long header packet type of a datagram's first packet (RFC 9000 §17.2, version 1): 0 Initial, 2 Handshake. */
function firstPacketType(datagram: Buffer): number | 'short' {
  return (datagram[0]! & 0x80) === 0 ? 'short' : (datagram[0]! & 0x30) >> 4;
}

describe('a client that closes as its handshake completes (RFC 9001 §4.1.1, RFC 9000 §10.2.3)', () => {
  it('still delivers its Finished: the server completes the handshake, then closes', () => {
    const pair = new Pair();
    let closeIndex = -1;
    pair.onClientEvent = (e) => {
      if (e.type !== 'handshake-complete') return;
      pair.client.close(7, 'done');
      closeIndex = pair.clientSent.length;
    };
    expect(pair.run(() => pair.server !== undefined && pair.server.state !== 'handshake', 5_000)).toBe(true);
    const server = pair.server!;
    expect(server.isHandshakeComplete).toBe(true);
    const types = pair.serverEvents.map((e) => e.type);
    expect(types.indexOf('handshake-complete')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('handshake-complete')).toBeLessThan(types.indexOf('closed'));
    // The Handshake packet's close comes first (§10.2.3: an application close there is APPLICATION_ERROR).
    expect(server.closeReason).toMatchObject({ code: TransportErrorCode.APPLICATION_ERROR, application: false, source: 'peer' });
    const close = pair.clientSent[closeIndex]!;
    expect(firstPacketType(close)).toBe(2);
    expect(close.length).toBeLessThanOrEqual(MIN_INITIAL_DATAGRAM);
  });

  it('sends its Finished again with the close that answers a datagram in the closing state (RFC 9000 §10.2.1)', () => {
    const pair = new Pair();
    let closedAt = 0;
    pair.onClientEvent = (e) => {
      if (e.type !== 'handshake-complete') return;
      pair.client.close(7, 'done');
      closedAt = pair.now;
      // The close goes out at this instant: lost on its way to the server.
      pair.link.conditions = { delay: 10, blackholes: [[pair.now, pair.now + 1]], lossyDirection: 'to-server' };
    };
    pair.run(() => closedAt > 0, 5_000);
    pair.flush();
    const closes = pair.clientSent.length;
    pair.run(() => false, 15);
    expect(pair.server!.state).toBe('handshake'); // nothing reached it
    // The server's flight once more (as its PTO would send it) reaches the closing client.
    const flight = pair.serverSent.filter((d) => d.at < closedAt).at(-1)!;
    pair.clientRouter.receive(flight.data, SERVER_ADDR, pair.now);
    pair.flush();
    expect(pair.clientSent.length).toBe(closes + 1);
    expect(pair.clientSent[closes]!.equals(pair.clientSent[closes - 1]!)).toBe(true);
    expect(pair.run(() => pair.server!.state !== 'handshake', 1_000)).toBe(true);
    expect(pair.server!.isHandshakeComplete).toBe(true);
    expect(pair.serverEvents.map((e) => e.type)).toContain('handshake-complete');
  });
});

describe('close datagrams during the handshake stay within 1200 bytes (RFC 9000 §14, §14.1)', () => {
  it('for a close by either end at any point of the handshake, with any reason', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'client' | 'server'>('client', 'server'),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        fc.string({ maxLength: 300, unit: 'binary' }),
        (who, steps, inCompletionEvent, reason) => {
          const pair = new Pair();
          const sentBy = () => (who === 'client' ? pair.clientSent : pair.serverSent.map((d) => d.data));
          let before = -1;
          const closeNow = () => {
            const conn = who === 'client' ? pair.client : pair.server;
            if (conn === undefined || before >= 0) return;
            before = sentBy().length;
            conn.close(1, reason);
          };
          // Either in the event that reports the handshake complete (before the last flight is sent),
          // or between steps of the exchange.
          if (inCompletionEvent) {
            const hook = (e: { type: string }) => void (e.type === 'handshake-complete' && closeNow());
            if (who === 'client') pair.onClientEvent = hook;
            else pair.onServerEvent = hook;
            pair.run(() => before >= 0, 5_000);
          } else {
            for (let i = 0; i < steps && pair.client.state === 'handshake'; i++) pair.step();
            closeNow();
          }
          if (before < 0) return; // no server yet
          pair.flush();
          const close = sentBy()[before];
          if (close === undefined) return; // a server's anti-amplification budget held it back (RFC 9000 §8.1)
          expect(close.length).toBeLessThanOrEqual(MIN_INITIAL_DATAGRAM);
          if (who === 'client' && firstPacketType(close) === 0) expect(close.length).toBeGreaterThanOrEqual(MIN_INITIAL_DATAGRAM);
          // The peer learns of the close and stops, whatever it had in flight.
          const peer = () => (who === 'client' ? pair.server : pair.client);
          pair.run(() => peer() !== undefined && (peer()!.state === 'draining' || peer()!.state === 'closed'), 10_000);
          if (peer() !== undefined) expect(['draining', 'closed']).toContain(peer()!.state);
        },
      ),
      { numRuns: 60 },
    );
  });
});
