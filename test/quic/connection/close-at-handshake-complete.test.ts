/**
 * A close in the event that reports the handshake complete (RFC 9001 §4.1.1: for a client, once TLS
 * has handed over its Finished, which no transmit() has sent yet) and the close datagram's size.
 *
 * - The Finished goes in the close datagram ahead of the CONNECTION_CLOSE, so that the server sees
 *   a handshake completed and then closed, not an abandoned one.
 * - A client with Handshake keys sends no Initial close (RFC 9000 §10.2.3: only a server cannot
 *   know whether its peer has Handshake keys): one ahead of the Finished would end the connection
 *   before the server read it.
 * - Only the application's close carries the Finished: a close for an error the client found in
 *   the server's flight (its transport parameters, RFC 9000 §7.4) must not tell the server that the
 *   client accepted the handshake.
 * - RFC 9000 §14.1: a client datagram carrying an Initial is at least 1200 bytes. RFC 9000 §14: no
 *   datagram is larger than the path has shown it carries, 1200 bytes during the handshake. Before,
 *   a close in three spaces padded its Initial to 1200 bytes and added the other two packets; and a
 *   transport close repeated a reason of up to 256 UTF-16 units (768 bytes) in each space.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MIN_INITIAL_DATAGRAM, type Connection } from '../../../src/quic/connection.js';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import * as params from '../../../src/quic/transport-params.js';
import { Pair, SERVER_ADDR } from '../sim/harness.js';

/** When set, the client finds the server's transport parameters invalid (RFC 9000 §7.4). */
let refuseServerParameters = false;
vi.mock('../../../src/quic/transport-params.js', async (importOriginal) => {
  const original = await importOriginal<typeof params>();
  return {
    ...original,
    decodeTransportParameters: (raw: Buffer, sender: 'client' | 'server') => {
      if (refuseServerParameters && sender === 'server') {
        throw new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'test: server parameters refused', 'RFC 9000 §7.4');
      }
      return original.decodeTransportParameters(raw, sender);
    },
  };
});
afterEach(() => {
  refuseServerParameters = false;
});

/** A transport close, as an error found in the peer's packets makes one (the method is private). */
function transportClose(conn: Connection, reason: string): void {
  (conn as unknown as { closeWith(code: number, reason: string, application: boolean, frameType: number): void })
    .closeWith(TransportErrorCode.PROTOCOL_VIOLATION, reason, false, 0);
}

/** The long header packet type of a datagram's first packet (RFC 9000 §17.2; version 1, which Pair uses): 0 Initial, 2 Handshake. */
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

  it('does not send its Finished with a close for an error in the server\'s flight (RFC 9000 §7.4)', () => {
    refuseServerParameters = true;
    const pair = new Pair();
    pair.run(() => pair.client.state === 'closing' || pair.client.state === 'closed', 5_000);
    expect(pair.client.closeReason).toMatchObject({ code: TransportErrorCode.TRANSPORT_PARAMETER_ERROR, source: 'local' });
    // Nor does its application hear of a completed handshake: the parameters are checked first.
    expect(pair.clientEvents.map((e) => e.type)).toEqual(['closed']);
    pair.run(() => pair.server !== undefined && (pair.server.state === 'draining' || pair.server.state === 'closed'), 2_000);
    expect(pair.server!.closeReason).toMatchObject({ code: TransportErrorCode.TRANSPORT_PARAMETER_ERROR, source: 'peer' });
    expect(pair.server!.isHandshakeComplete).toBe(false);
    expect(pair.serverEvents.map((e) => e.type)).not.toContain('handshake-complete');
  });
});

describe('close datagrams during the handshake stay within 1200 bytes (RFC 9000 §14, §14.1)', () => {
  it('a transport close repeats its reason in each space: the reason is cut to 256 UTF-8 bytes, at a character boundary', () => {
    const pair = new Pair();
    pair.step();
    pair.step(); // the server has sent its flight: it can send in all three spaces
    const server = pair.server!;
    const before = pair.serverSent.length;
    transportClose(server, '€'.repeat(300)); // 900 bytes of UTF-8; 768 once cut to 256 UTF-16 units
    pair.flush();
    const close = pair.serverSent[before]!.data;
    expect(close.length).toBeLessThanOrEqual(MIN_INITIAL_DATAGRAM);
    expect(server.closeReason!.reason).toBe('€'.repeat(85)); // 255 bytes: the 86th '€' would end at 258
    pair.run(() => pair.client.state === 'draining', 1_000);
    expect(pair.client.closeReason).toMatchObject({ reason: '€'.repeat(85), source: 'peer' });
  });

  it('for a close by either end, the application\'s or a transport one, at any point of the handshake, with any reason', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'client' | 'server'>('client', 'server'),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        fc.boolean(),
        // Short reasons of any characters, and long ones of 1- to 4-byte UTF-8 characters.
        fc.oneof(fc.string({ maxLength: 20, unit: 'binary' }), fc.string({ minLength: 200, maxLength: 300, unit: fc.constantFrom('a', 'é', '€', '𝄞') })),
        (who, steps, inCompletionEvent, application, reason) => {
          const pair = new Pair();
          const sentBy = () => (who === 'client' ? pair.clientSent : pair.serverSent.map((d) => d.data));
          let before = -1;
          const closeNow = () => {
            const conn = who === 'client' ? pair.client : pair.server;
            if (conn === undefined || before >= 0) return;
            before = sentBy().length;
            if (application) conn.close(1, reason);
            else transportClose(conn, reason);
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
