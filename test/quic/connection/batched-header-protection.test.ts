/**
 * Header protection of many packets in one cipher call (RFC 9001 §5.4): the sender masks the
 * one-packet datagrams of a transmit() together after sealing them. It must be invisible on the
 * wire and in what arrives: every byte once and in order.
 */
import { describe, expect, it } from 'vitest';
import type { HeaderProtection } from '../../../src/quic/crypto/header-protection.js';
import type { Connection } from '../../../src/quic/connection.js';
import { Pair, pattern, SERVER_ADDR, sha256, StreamSink } from '../sim/harness.js';

interface Calls {
  maskAt: number;
  masksOf: number[];
}

/** Counts the calls on a connection's 1-RTT header protection (shared by every key phase, RFC 9001 §6). */
function spy(conn: Connection, direction: 'read' | 'write'): Calls {
  const hp = (conn as unknown as { keyPhase: Record<'read' | 'write', { headerProtection: HeaderProtection }> }).keyPhase[direction].headerProtection;
  const calls: Calls = { maskAt: 0, masksOf: [] };
  const maskAt = hp.maskAt.bind(hp);
  const masksOf = hp.masksOf.bind(hp);
  hp.maskAt = (packet, offset) => {
    calls.maskAt++;
    return maskAt(packet, offset);
  };
  hp.masksOf = (samples, count) => {
    calls.masksOf.push(count);
    return masksOf(samples, count);
  };
  return calls;
}

/** A pair past its handshake whose server sends `body` on a stream of its own, and the client's sink. */
function download(seed: number, body: Buffer): { pair: Pair; sink: StreamSink; id: number } {
  const pair = new Pair({ seed, link: { delay: 5 } });
  expect(pair.handshake()).toBe(true);
  // Let the handshake settle (HANDSHAKE_DONE acknowledged: keys may be updated, RFC 9001 §6.1).
  pair.run(() => false, 100);
  const sink = new StreamSink();
  pair.onClientEvent = (e) => sink.onEvent(e);
  const id = pair.server!.openStream()!;
  pair.server!.write(id, body, true);
  return { pair, sink, id };
}

/** The client's answers (ACKs) go straight to the server; the clock moves 1 ms. */
function answer(pair: Pair): void {
  pair.pollEvents();
  for (const d of pair.clientRouter.transmit(pair.now)) pair.serverRouter.receive(d.data, d.to.address === SERVER_ADDR.address ? pair.clientAddr : d.to, pair.now);
  pair.serverRouter.handleTimeout(pair.now);
  pair.clientRouter.handleTimeout(pair.now);
  pair.now += 1;
}

describe('batched header protection', () => {
  it('the sender masks all one-packet datagrams of a transmit() in one call, and every byte arrives', () => {
    const body = pattern(400_000);
    const { pair, sink, id } = download(1, body);
    const sent = spy(pair.server!, 'write');
    let bursts = 0;
    for (let round = 0; round < 2000 && !sink.finished.has(id); round++) {
      const burst = pair.serverRouter.transmit(pair.now).map((d) => d.data);
      if (burst.length > 1) bursts++;
      for (const d of burst) pair.clientRouter.receive(d, SERVER_ADDR, pair.now);
      answer(pair);
    }
    expect(sink.finished.has(id)).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(bursts).toBeGreaterThan(10);
    // One masksOf per transmit() that sent datagrams, none one by one (RFC 9001 §5.4.1 after sealing).
    expect(sent.maskAt).toBe(0);
    expect(sent.masksOf.filter((n) => n > 1).length).toBeGreaterThanOrEqual(bursts);
  });
});
