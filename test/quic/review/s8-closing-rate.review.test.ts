/**
 * Review of d2bbbfd (found by review of d2bbbfd; RFC 9000 §10.2.1). Fails on the current code.
 * "An endpoint SHOULD limit the rate at which it generates packets in the closing state. For
 * instance, an endpoint could wait for a progressively increasing number of received packets or
 * amount of time before responding to received packets." The closing state answers every datagram
 * that arrives between two transmit() calls (closeDatagramsOwed is capped at 1 per call, nothing
 * more): a peer, or anyone who saw the connection ID, that sends N small datagrams gets N
 * CONNECTION_CLOSE datagrams to the peer's address, for the whole three PTOs.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_ADDR, establishedPair } from '../sim/harness.js';

describe('s8 review: the closing state limits its rate (RFC 9000 §10.2.1)', () => {
  it('64 datagrams, each followed by a transmit(), get a progressively thinned answer, not 64', () => {
    const pair = establishedPair();
    const server = pair.server!;
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('x'), true);
    const [late] = pair.client.transmit(pair.now);
    server.close(0, 'bye');
    expect(server.transmit(pair.now)).toHaveLength(1);
    let answers = 0;
    for (let i = 0; i < 64; i++) {
      server.receive(late!.data, CLIENT_ADDR, pair.now + i);
      answers += server.transmit(pair.now + i).length;
    }
    // Answering the 1st, 2nd, 4th, 8th, ... datagram gives 7; allow a little more.
    expect(answers).toBeGreaterThan(0);
    expect(answers).toBeLessThanOrEqual(10);
  });
});
