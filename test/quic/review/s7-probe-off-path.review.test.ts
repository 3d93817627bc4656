/**
 * Review of c5bf961 and e2d2a99 (RFC 9002 §6.2.4): when a PTO fires, the probes it owes go on the
 * path in use. A PATH_RESPONSE sent to another path at the same time (here through the client's
 * draining socket, PeerAddress.via) is not in flight there and must not use up one of the probes.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, PeerAddress, QlogEvent } from '../../../src/quic/connection.js';
import { Pair, SERVER_ADDR } from '../sim/harness.js';

interface Inside {
  pathResponses: { data: Buffer; to: PeerAddress; credit: number }[];
  spaces: ({ probesOwed: number } | undefined)[];
}
const inside = (conn: Connection) => conn as unknown as Inside;

describe('PTO probes and an answer through the old socket (review of c5bf961)', () => {
  it('both probes a PTO owes go on the current path; the answer goes besides', () => {
    const log: QlogEvent[] = [];
    const pair = new Pair({ link: { delay: 10 }, client: { qlog: () => (e) => log.push(e) } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 500);
    const client = pair.client;

    // Data the server never acknowledges (its datagram is lost): the PTO will fire for it.
    const id = client.openStream()!;
    client.write(id, Buffer.from('up'), false);
    expect(client.transmit(pair.now).length).toBeGreaterThan(0);
    // An answer owed through the draining socket, as when a challenge came in there after rebind()
    // (RFC 9000 §8.2.2; see s7-old-socket-ack for that path end to end).
    inside(client).pathResponses.push({ data: Buffer.alloc(8, 7), to: { ...SERVER_ADDR, via: 1 }, credit: 12_000 });
    const t = pair.now + 1_000; // well past the PTO (a few RTTs of 20 ms), before the idle timeout
    client.handleTimeout(t);
    expect(inside(client).spaces[2]!.probesOwed).toBe(2); // the PTO fired (RFC 9002 §6.2.4)
    log.length = 0;
    const sent = client.transmit(t);
    const packets = log.filter((e) => e.name === 'transport:packet_sent').map((e) => (e.data as { frames: string[] }).frames);
    const probes = packets.filter((frames) => !frames.includes('path_response') && frames.some((f) => f !== 'ack' && f !== 'padding'));
    expect(probes.length).toBe(2);
    expect(sent.filter((d) => d.to.via === undefined).length).toBeGreaterThanOrEqual(2);
    // The answer went too, through the old socket, in a packet of its own.
    expect(sent.some((d) => d.to.via === 1)).toBe(true);
    expect(packets.some((frames) => frames.includes('path_response') && frames.every((f) => f === 'path_response' || f === 'padding'))).toBe(true);
  });
});
