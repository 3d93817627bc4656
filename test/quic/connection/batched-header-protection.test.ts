/**
 * Header protection of many packets in one cipher call (RFC 9001 §5.4). The sender masks the
 * one-packet datagrams of a transmit() together after sealing them; the receiver, given a driver's
 * batch (receive-lookahead.ts), computes the masks of its datagrams in the batch at once. Both
 * must be invisible on the wire and in what arrives: every byte once and in order, through key
 * updates (the header protection key stays, RFC 9001 §6) and batches shared with other connections.
 */
import { describe, expect, it } from 'vitest';
import type { HeaderProtection } from '../../../src/quic/crypto/header-protection.js';
import type { Connection } from '../../../src/quic/connection.js';
import { receiveBatch, receiveLookahead } from '../../../src/quic/connection/receive-lookahead.js';
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
  it('the sender masks all one-packet datagrams of a transmit() in one call, and the receiver of a batch in one call', () => {
    const body = pattern(400_000);
    const { pair, sink, id } = download(1, body);
    const sent = spy(pair.server!, 'write');
    const received = spy(pair.client, 'read');
    let bursts = 0;
    for (let round = 0; round < 2000 && !sink.finished.has(id); round++) {
      const burst = pair.serverRouter.transmit(pair.now).map((d) => d.data);
      if (burst.length > 1) bursts++;
      receiveBatch(burst, (d) => pair.clientRouter.receive(d, SERVER_ADDR, pair.now));
      answer(pair);
    }
    expect(sink.finished.has(id)).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(bursts).toBeGreaterThan(10);
    // One masksOf per transmit() that sent datagrams, none one by one (RFC 9001 §5.4.1 after sealing).
    expect(sent.maskAt).toBe(0);
    expect(sent.masksOf.filter((n) => n > 1).length).toBeGreaterThanOrEqual(bursts);
    // The receiver computed every mask of a multi-datagram batch ahead: maskAt only for lone datagrams.
    const prefetched = received.masksOf.reduce((a, b) => a + b, 0);
    expect(received.masksOf.every((n) => n > 1)).toBe(true);
    expect(prefetched + received.maskAt).toBeGreaterThanOrEqual(pair.client.stats.datagramsReceived - 10);
    expect(prefetched).toBeGreaterThan(received.maskAt);
    expect(received.masksOf.length).toBeLessThanOrEqual(bursts + 5);
    expect(receiveLookahead.datagrams.length).toBe(0);
  });

  it('a key update in the middle of a batch keeps the masks computed ahead (the HP key stays, RFC 9001 §6)', () => {
    const body = pattern(300_000);
    const { pair, sink, id } = download(2, body);
    const received = spy(pair.client, 'read');
    let updatedInBatch = false;
    for (let round = 0; round < 2000 && !sink.finished.has(id); round++) {
      const first = pair.serverRouter.transmit(pair.now).map((d) => d.data);
      const half = first.length >> 1;
      // The server starts a key update after half of this burst was sent: the rest go under the new keys.
      const updated = half > 1 && !updatedInBatch && pair.server!.updateKeys();
      let batch = first;
      if (updated) {
        updatedInBatch = true;
        // Re-seal the second half by sending it again under the new key phase: simplest is to send
        // what the server has now, after the update, behind the first burst.
        batch = first.concat(pair.serverRouter.transmit(pair.now).map((d) => d.data));
      }
      const before = received.maskAt;
      receiveBatch(batch, (d) => pair.clientRouter.receive(d, SERVER_ADDR, pair.now));
      if (updated) expect(received.maskAt).toBe(before);
      answer(pair);
    }
    expect(updatedInBatch).toBe(true);
    expect(pair.client.keyUpdates).toBeGreaterThanOrEqual(1);
    expect(sha256(sink.data(id))).toBe(sha256(body));
  });

  it('two connections sharing one batch, their datagrams interleaved, each get every byte once and in order', () => {
    const bodyA = pattern(200_000);
    const bodyB = pattern(150_000, 7);
    const a = download(3, bodyA);
    const b = download(4, bodyB);
    const spyA = spy(a.pair.client, 'read');
    const spyB = spy(b.pair.client, 'read');
    for (let round = 0; round < 3000 && !(a.sink.finished.has(a.id) && b.sink.finished.has(b.id)); round++) {
      const fromA = a.pair.serverRouter.transmit(a.pair.now).map((d) => d.data);
      const fromB = b.pair.serverRouter.transmit(b.pair.now).map((d) => d.data);
      const batch: Buffer[] = [];
      const owner = new Map<Buffer, Pair>();
      for (let i = 0; i < Math.max(fromA.length, fromB.length); i++) {
        for (const [list, pair] of [[fromA, a.pair], [fromB, b.pair]] as const) {
          if (i < list.length) {
            batch.push(list[i]!);
            owner.set(list[i]!, pair);
          }
        }
      }
      receiveBatch(batch, (d) => {
        const pair = owner.get(d)!;
        pair.clientRouter.receive(d, SERVER_ADDR, pair.now);
      });
      answer(a.pair);
      answer(b.pair);
    }
    expect(sha256(a.sink.data(a.id))).toBe(sha256(bodyA));
    expect(sha256(b.sink.data(b.id))).toBe(sha256(bodyB));
    // Each prefetched only its own datagrams (same DCID): masks computed ahead never exceed what it received.
    expect(spyA.masksOf.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(a.pair.client.stats.datagramsReceived);
    expect(spyB.masksOf.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(b.pair.client.stats.datagramsReceived);
    expect(spyA.masksOf.length).toBeGreaterThan(0);
    expect(spyB.masksOf.length).toBeGreaterThan(0);
  });

  it('a corrupted datagram in a batch is dropped as before and the others are processed', () => {
    const body = pattern(100_000);
    const { pair, sink, id } = download(5, body);
    let corrupted = 0;
    for (let round = 0; round < 2000 && !sink.finished.has(id); round++) {
      const burst = pair.serverRouter.transmit(pair.now).map((d) => Buffer.from(d.data));
      // A bit flipped in the header protection sample of every fifth datagram: its mask, computed
      // ahead from the flipped sample, gives a wrong packet number or fails authentication (RFC 9001 §5.5).
      for (let i = 4; i < burst.length; i += 5) {
        burst[i]![1 + 8 + 4 + 3]! ^= 0x10;
        corrupted++;
      }
      receiveBatch(burst, (d) => pair.clientRouter.receive(d, SERVER_ADDR, pair.now));
      answer(pair);
      pair.now += 30; // lets loss recovery resend what was dropped
    }
    expect(corrupted).toBeGreaterThan(0);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(pair.client.stats.packetsDropped).toBeGreaterThanOrEqual(corrupted);
  });

  it('computes ahead only for datagrams whose whole DCID is its own, and keeps no datagram after the batch', () => {
    // 7-byte connection IDs: compared as one 4-byte word and three single bytes.
    const pair = new Pair({ seed: 6, link: { delay: 5 }, client: { cidLength: 7 } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 100);
    const id = pair.server!.openStream()!;
    pair.server!.write(id, pattern(60_000), true);
    const burst = pair.serverRouter.transmit(pair.now).map((d) => d.data);
    expect(burst.length).toBeGreaterThanOrEqual(5);
    expect(burst.every((d) => (d[0]! & 0x80) === 0 && d.subarray(1, 8).equals(burst[0]!.subarray(1, 8)))).toBe(true);
    // Foreign DCIDs one byte away from ours, in the word and in the tail (the router drops them).
    const firstByteOff = Buffer.from(burst[1]!);
    firstByteOff[1]! ^= 0x01;
    const lastByteOff = Buffer.from(burst[2]!);
    lastByteOff[7]! ^= 0x80;
    const received = spy(pair.client, 'read');
    const batch = [burst[0]!, firstByteOff, burst[1]!, lastByteOff, ...burst.slice(2)];
    // The last datagram is in the batch but never reaches the connection (as if dropped on the way):
    // no later take() passes over its mask.
    const skipped = burst[burst.length - 1]!;
    receiveBatch(batch, (d) => {
      if (d !== skipped) pair.clientRouter.receive(d, SERVER_ADDR, pair.now);
    });
    expect(received.masksOf).toEqual([burst.length]);
    // Every mask not taken is forgotten with the batch: nothing holds the skipped datagram.
    const prefetched = (pair.client as unknown as { prefetchedMasks: { pending: number } }).prefetchedMasks;
    expect(prefetched.pending).toBe(0);
  });

  it('a datagram with our DCID too short to sample at the front of a batch leaves computing ahead on for the rest', () => {
    const pair = new Pair({ seed: 7, link: { delay: 5 } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 100);
    const id = pair.server!.openStream()!;
    pair.server!.write(id, pattern(60_000), true);
    const burst = pair.serverRouter.transmit(pair.now).map((d) => d.data);
    expect(burst.length).toBeGreaterThanOrEqual(5);
    // RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number offset (1 + 8-byte DCID)
    // and is 16 bytes long, so 28 bytes cannot be sampled; the router still routes it here.
    const junk = Buffer.from(burst[0]!.subarray(0, 28));
    const received = spy(pair.client, 'read');
    receiveBatch([junk, ...burst], (d) => pair.clientRouter.receive(d, SERVER_ADDR, pair.now));
    // Every real datagram's mask in one call, none one by one (was: no call ahead, a maskAt each).
    expect(received.masksOf).toEqual([burst.length]);
    expect(received.maskAt).toBe(0);
  });

  it('receiveBatch empties the lookahead even when a receive throws', () => {
    const d = Buffer.alloc(30);
    expect(() => receiveBatch([d, d], (_, i) => {
      expect(receiveLookahead.index).toBe(i);
      expect(receiveLookahead.datagrams[i]).toBe(d);
      if (i === 1) throw new Error('boom');
    })).toThrow('boom');
    expect(receiveLookahead.datagrams.length).toBe(0);
  });
});
