/**
 * Review of the receiver's batch (issue 5, commits 9693038, f96b41f): a connection computes the
 * header protection masks of its later datagrams of a driver's batch ahead (RFC 9001 §5.4). Cases
 * the commits' tests leave out, at the connection level:
 *
 * - a stateless reset (RFC 9000 §10.3) that carries our DCID, so that it is routed to us and its
 *   mask is computed ahead with the real packets: the failed decryption must still be followed by
 *   the reset check of §10.3.1, and the connection drains;
 * - junk with our DCID in every batch (a datagram shorter than the sample, §5.4.2; one with the
 *   Fixed Bit cleared, dropped after its mask was computed ahead; a long header packet; a
 *   bit-flipped copy of a real one): the real datagrams all arrive, every byte in order.
 */
import { describe, expect, it } from 'vitest';
import type { HeaderProtection } from '../../../src/quic/crypto/header-protection.js';
import type { Connection, ConnectionEvent } from '../../../src/quic/connection.js';
import { receiveBatch } from '../../../src/quic/connection/receive-lookahead.js';
import { Pair, pattern, SERVER_ADDR, sha256, StreamSink } from '../sim/harness.js';

/** Counts masksOf calls on the client's 1-RTT read header protection (shared by key phases, RFC 9001 §6). */
function countMasksOf(conn: Connection): number[] {
  const hp = (conn as unknown as { keyPhase: { read: { headerProtection: HeaderProtection } } }).keyPhase.read.headerProtection;
  const counts: number[] = [];
  const masksOf = hp.masksOf.bind(hp);
  hp.masksOf = (samples, count) => {
    counts.push(count);
    return masksOf(samples, count);
  };
  return counts;
}

function download(seed: number, body: Buffer): { pair: Pair; sink: StreamSink; id: number } {
  const pair = new Pair({ seed, link: { delay: 5 } });
  expect(pair.handshake()).toBe(true);
  pair.run(() => false, 100);
  const sink = new StreamSink();
  pair.onClientEvent = (e) => sink.onEvent(e);
  const id = pair.server!.openStream()!;
  pair.server!.write(id, body, true);
  return { pair, sink, id };
}

/** The client's answers go straight to the server; the clock moves 1 ms. */
function answer(pair: Pair): void {
  pair.pollEvents();
  for (const d of pair.clientRouter.transmit(pair.now)) pair.serverRouter.receive(d.data, pair.clientAddr, pair.now);
  pair.serverRouter.handleTimeout(pair.now);
  pair.clientRouter.handleTimeout(pair.now);
  pair.now += 1;
}

/** The server's next burst of at least two datagrams (the client answering in between). */
function nextBurst(pair: Pair): Buffer[] {
  for (let round = 0; round < 200; round++) {
    const burst = pair.serverRouter.transmit(pair.now).map((d) => d.data);
    if (burst.length >= 2) return burst;
    for (const d of burst) pair.clientRouter.receive(d, SERVER_ADDR, pair.now);
    answer(pair);
  }
  throw new Error('no burst');
}

describe('receiver batch and prefetched masks', () => {
  it('a stateless reset with our DCID, its mask computed ahead, still closes the connection (RFC 9000 §10.3.1)', () => {
    const { pair } = download(11, pattern(300_000));
    const counts = countMasksOf(pair.client);
    const burst = nextBurst(pair);
    const internals = pair.client as unknown as { cidLength: number; peerCids: { ids: Map<number, { resetToken?: Buffer }> } };
    const token = [...internals.peerCids.ids.values()].find((id) => id.resetToken !== undefined)!.resetToken!;
    // RFC 9000 §10.3: 0b01 then unpredictable bits, the token in the last 16 bytes. Our DCID after
    // the first byte (an endpoint's own CID in a reset is allowed, it is unpredictable to others).
    const reset = Buffer.alloc(60);
    for (let i = 0; i < reset.length; i++) reset[i] = (i * 97 + 13) & 0xff;
    reset[0] = 0x40 | (reset[0]! & 0x3f);
    burst[0]!.copy(reset, 1, 1, 1 + internals.cidLength);
    token.copy(reset, reset.length - 16);
    const batch = [...burst, reset];
    receiveBatch(batch, (d) => pair.clientRouter.receive(d, SERVER_ADDR, pair.now));
    expect(counts).toContain(batch.length); // the reset's mask was computed ahead with the others
    pair.pollEvents();
    const closed = pair.clientEvents.find((e) => e.type === 'closed') as Extract<ConnectionEvent, { type: 'closed' }> | undefined;
    expect(closed?.error.source).toBe('reset');
  });

  it('junk with our DCID in every batch (too short to sample, fixed bit 0, long header, bit-flipped) costs no real datagram', () => {
    const body = pattern(300_000);
    const { pair, sink, id } = download(12, body);
    const counts = countMasksOf(pair.client);
    const cidLength = (pair.client as unknown as { cidLength: number }).cidLength;
    for (let round = 0; round < 3000 && !sink.finished.has(id); round++) {
      const burst = pair.serverRouter.transmit(pair.now).map((d) => d.data);
      const batch: Buffer[] = [];
      for (const d of burst) {
        // Real datagram first in odd rounds (its connection computes ahead), junk first in even ones.
        if (round % 2 === 1) batch.push(d);
        // RFC 9001 §5.4.2: shorter than pnOffset + 4 + 16 — dropped before header protection.
        batch.push(Buffer.from(d.subarray(0, 1 + cidLength + 4 + 15)));
        // RFC 9000 §17.3.1: Fixed Bit 0 — discarded unprotected, though long enough for its mask
        // to be computed ahead: the real datagram after it must not take that mask.
        const unfixed = Buffer.from(d);
        unfixed[0]! &= ~0x40;
        unfixed[unfixed.length - 1]! ^= 0xff;
        batch.push(unfixed);
        if (round % 2 === 0) batch.push(d);
        const flipped = Buffer.from(d);
        flipped[flipped.length - 20]! ^= 0x01; // fails authentication (RFC 9001 §5.5), sample intact or not
        batch.push(flipped);
        const long = Buffer.from(d);
        long[0] = 0xc0 | (long[0]! & 0x0f); // a long header now: parsed as one, then dropped
        batch.push(long);
      }
      receiveBatch(batch, (d) => pair.clientRouter.receive(d, SERVER_ADDR, pair.now));
      answer(pair);
    }
    expect(sink.finished.has(id)).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(pair.client.state).toBe('established');
    expect(pair.server!.stats.packetsLost).toBe(0); // every real datagram was taken at the first try
    expect(counts.some((n) => n > 2)).toBe(true); // the batches were computed ahead
  });
});
