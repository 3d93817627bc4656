/**
 * Review of 7059fe9 (router.ts, IPv4-mapped addresses; RFC 9000 §10.3.1): a client router hands a
 * short-header datagram with an unknown DCID (a stateless reset carries an unpredictable one) to
 * the client connections on the path it came from. The path is the server's IP and port, and
 * `::ffff:10.0.0.2` is `10.0.0.2` (RFC 4291 §2.5.5.2), as the connection's own server-address check
 * and the zero-length address routes already say; a reset from the mapped form was never checked,
 * and the client waited for its idle timeout.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { Pair, SERVER_ADDR } from '../sim/harness.js';

interface Inside {
  peerCids: { ids: Map<number, { resetToken: Buffer | undefined }> };
}
const inside = (conn: Connection) => conn as unknown as Inside;

/** A stateless reset (RFC 9000 §10.3): a short header's first byte, unpredictable bytes, the token. */
function statelessReset(token: Buffer): Buffer {
  const body = Buffer.alloc(40, 0x5a);
  body[0] = 0x40 | 0x1b;
  return Buffer.concat([body, token]);
}

describe('a stateless reset from the IPv4-mapped form of the server address (review of 7059fe9)', () => {
  for (const [name, address] of [['the mapped form', `::ffff:${SERVER_ADDR.address}`], ['the same form', SERVER_ADDR.address]] as const) {
    it(`ends the client connection when it comes from ${name}`, () => {
      const pair = new Pair();
      expect(pair.handshake()).toBe(true);
      const token = inside(pair.client).peerCids.ids.get(0)!.resetToken!;
      expect(token).toHaveLength(16);
      pair.clientRouter.receive(statelessReset(token), { address, port: SERVER_ADDR.port }, pair.now);
      // RFC 9000 §10.3.1: it ends the connection at once (no draining period is needed after a reset).
      expect(['draining', 'closed']).toContain(pair.client.state);
      expect(pair.client.closeReason?.reason).toBe('stateless reset');
    });
  }

  it('is not taken from another port of the server', () => {
    const pair = new Pair();
    expect(pair.handshake()).toBe(true);
    const token = inside(pair.client).peerCids.ids.get(0)!.resetToken!;
    pair.clientRouter.receive(statelessReset(token), { address: `::ffff:${SERVER_ADDR.address}`, port: SERVER_ADDR.port + 1 }, pair.now);
    expect(pair.client.state).toBe('established');
  });
});
