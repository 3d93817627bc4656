/**
 * Review of c5bf961 (RFC 9000 §8.2.2, §13.2.1): a PATH_CHALLENGE that came in through a client's
 * draining socket (PeerAddress.via) is answered in a packet without an ACK, so that the answer stays
 * probing (§9.1). The ACK held back must still go within max_ack_delay (§13.2.1: "all ack-eliciting
 * 0-RTT and 1-RTT packets within its advertised max_ack_delay") even while the congestion window
 * keeps the answer itself waiting: an ACK is not held back by congestion control (RFC 9002 §7).
 */
import { describe, expect, it } from 'vitest';
import type { Connection, PeerAddress } from '../../../src/quic/connection.js';
import { CLIENT_ADDR, Pair, SERVER_ADDR } from '../sim/harness.js';

interface Inside {
  pathResponses: { to: PeerAddress }[];
  loss: { congestion: object };
}
const inside = (conn: Connection) => conn as unknown as Inside;

const REBOUND: PeerAddress = { address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 1 };

describe('the ACK held back from an answer through the old socket (review of c5bf961)', () => {
  it('goes within max_ack_delay while the congestion window holds the answer back', () => {
    const pair = new Pair({ link: { delay: 10 } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 500);
    const client = pair.client;
    const server = pair.server!;

    // The client's next non-probing packet reaches the server from another port (NAT rebinding):
    // the server challenges the new address and checks the old one (RFC 9000 §9.3, §9.3.3).
    const id = client.openStream()!;
    client.write(id, Buffer.from('up'), false);
    const [fromClient] = client.transmit(pair.now);
    expect(fromClient).toBeDefined();
    pair.serverRouter.receive(fromClient!.data, REBOUND, pair.now);
    const challenges = server.transmit(pair.now);
    expect(challenges.length).toBeGreaterThan(0);

    // They reach the client through its draining socket, as after rebind(): marked `via`.
    for (const d of challenges) client.receive(d.data, { ...SERVER_ADDR, via: 1 }, pair.now);
    expect(inside(client).pathResponses.some((r) => r.to.via === 1)).toBe(true);

    // The congestion window is full (an upload in flight): data and the answer wait, the ACK may not.
    Object.defineProperty(inside(client).loss.congestion, 'congestionWindow', { get: () => 0, configurable: true });
    const start = pair.now;
    const sent: { at: number; to: PeerAddress }[] = [];
    for (let t = start; t <= start + 25 && sent.length === 0; t++) {
      client.handleTimeout(t);
      for (const d of client.transmit(t)) sent.push({ at: t, to: d.to });
    }
    // An ACK-only packet on the current path, within max_ack_delay (25 ms by default).
    expect(sent.length).toBeGreaterThan(0);
    expect(sent[0]!.to.via).toBeUndefined();
    expect(sent[0]!.at - start).toBeLessThanOrEqual(25);
  });
});
