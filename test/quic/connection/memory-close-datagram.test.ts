/**
 * The closing state resends the very datagram it built when it started (RFC 9000 §10.2.1: "An
 * endpoint MAY retransmit the same packet containing a CONNECTION_CLOSE frame", an exception to
 * the rule of §12.3 that each packet gets a new number), so it keeps no keys or packet number
 * state to build another: every answer is byte for byte the first CONNECTION_CLOSE datagram.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_ADDR, establishedPair, Pair, SERVER_ADDR } from '../sim/harness.js';

describe('QUIC closing state resends its first CONNECTION_CLOSE datagram (RFC 9000 §10.2.1)', () => {
  it('an established server answers later packets with byte-identical datagrams', () => {
    const pair = establishedPair();
    const server = pair.server!;
    server.close(7, 'bye');
    const [first] = pair.serverRouter.transmit(pair.now);
    expect(first).toBeDefined();
    expect(server.state).toBe('closing');
    const sentBefore = server.stats.datagramsSent;
    const answers = [];
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      // The client, unaware of the close, keeps sending: its 1st, 2nd and 4th datagrams are answered
      // (§10.2.1: a progressively increasing number of packets between answers).
      const id = pair.client.openStream(true)!;
      pair.client.write(id, Buffer.from(`more ${i}`));
      pair.now += 5;
      const sent = pair.client.transmit(pair.now);
      expect(sent.length).toBe(1);
      for (const d of sent) pair.serverRouter.receive(d.data, CLIENT_ADDR, pair.now);
      const out = pair.serverRouter.transmit(pair.now);
      counts.push(out.length);
      answers.push(...out);
    }
    expect(counts).toEqual([1, 1, 0, 1]);
    for (const answer of answers) {
      expect(answer.data.equals(first!.data)).toBe(true);
      expect(answer.to).toEqual(first!.to);
    }
    expect(server.stats.datagramsSent).toBe(sentBefore + 3);
    // The resent datagram still closes the peer with the code sent.
    pair.clientRouter.receive(answers[2]!.data, SERVER_ADDR, pair.now);
    expect(pair.client.state).toBe('draining');
    expect(pair.client.closeReason).toMatchObject({ code: 7, application: true, reason: 'bye', source: 'peer' });
  });

  it('a client closing during the handshake resends its padded Initial close unchanged (RFC 9000 §10.2.3, §14.1)', () => {
    const pair = new Pair();
    const first = pair.clientRouter.transmit(pair.now);
    expect(first.length).toBe(1);
    for (const d of first) pair.serverRouter.receive(d.data, CLIENT_ADDR, pair.now);
    pair.serverRouter.accept();
    const fromServer = pair.serverRouter.transmit(pair.now);
    expect(fromServer.length).toBeGreaterThan(0);
    pair.client.close(1, 'changed my mind');
    const [close] = pair.clientRouter.transmit(pair.now);
    expect(close).toBeDefined();
    expect(close!.data.length).toBeGreaterThanOrEqual(1200);
    // The server's flight arrives after the close: each datagram is answered with the same bytes.
    for (const d of fromServer) {
      pair.clientRouter.receive(d.data, SERVER_ADDR, pair.now);
      const again = pair.clientRouter.transmit(pair.now);
      expect(again.length).toBe(1);
      expect(again[0]!.data.equals(close!.data)).toBe(true);
    }
  });
});
