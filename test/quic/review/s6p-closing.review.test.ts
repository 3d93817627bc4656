/**
 * Review guard for the closing work of issue 5 (closed connections kept as a small record): what a
 * server router must do with a connection it closed or that the peer closed, whatever keeps the
 * state (RFC 9000 §10.2):
 * - §10.2.1 closing: every datagram to one of its connection IDs is answered with a
 *   CONNECTION_CLOSE, at most one per pump and never more than the datagrams received;
 * - §10.2.2 draining: nothing at all is sent;
 * - §10.2: the state lasts at least three PTOs from the close and then ends: the router forgets the
 *   connection and its connection IDs;
 * - §10.3: a datagram to a forgotten connection ID is then answered with a stateless reset that
 *   carries the token the client holds for one of that connection's IDs;
 * - the 'closed' event is delivered exactly once.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../../src/quic/connection.js';
import { Pair, SERVER_ADDR } from '../sim/harness.js';

function establishedPair(): Pair {
  const pair = new Pair();
  expect(pair.handshake()).toBe(true);
  // The client sends something so that we hold a recent 1-RTT datagram of its own to replay.
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('hello'), false);
  pair.settle();
  return pair;
}

/** The client's last short-header datagram (a 1-RTT packet to one of the server's IDs). */
function lastShortDatagram(pair: Pair): Buffer {
  for (let i = pair.clientSent.length - 1; i >= 0; i--) if ((pair.clientSent[i]![0]! & 0x80) === 0) return Buffer.from(pair.clientSent[i]!);
  throw new Error('no 1-RTT datagram from the client');
}

function peerTokens(conn: Connection): Set<string> {
  const ids = (conn as unknown as { peerCids: { ids: Map<number, { resetToken?: Buffer }> } }).peerCids.ids;
  return new Set([...ids.values()].map((id) => id.resetToken?.toString('hex') ?? ''));
}

function ptoOf(conn: Connection): number {
  return (conn as unknown as { loss: { ptoPeriod(space: number): number } }).loss.ptoPeriod(2);
}

function closedEvents(events: ConnectionEvent[]): number {
  return events.filter((e) => e.type === 'closed').length;
}

describe('review issue 5 closing: a server connection closed by the application (RFC 9000 §10.2.1, §10.3)', () => {
  it('answers each pump\'s datagrams with at most one CONNECTION_CLOSE, lasts three PTOs, then stateless-resets its IDs', () => {
    const pair = establishedPair();
    const server = pair.server!;
    const router = pair.serverRouter;
    const events: ConnectionEvent[] = [];
    const poll = () => {
      for (let e = server.poll(); e !== undefined; e = server.poll()) events.push(e);
    };
    const replay = lastShortDatagram(pair);
    const tokens = peerTokens(pair.client);
    const pto = ptoOf(server);
    const closedAt = pair.now;
    server.close(0, 'bye');
    expect(router.transmit(pair.now)).toHaveLength(1); // the CONNECTION_CLOSE (not sent on: the client never learns)
    poll();

    // §10.2.1: five datagrams in one pump get one answer; after that the 8th, 16th... datagram is
    // answered (a progressively increasing number of packets between answers).
    let now = pair.now + 1;
    for (let i = 0; i < 5; i++) router.receive(Buffer.from(replay), pair.clientAddr, now);
    router.handleTimeout(now);
    const burst = router.transmit(now);
    expect(burst).toHaveLength(1);
    expect(burst[0]!.to).toEqual(pair.clientAddr);
    poll();
    let answered = 0;
    for (let i = 0; i < 4; i++) {
      now += 1;
      router.receive(Buffer.from(replay), pair.clientAddr, now);
      router.handleTimeout(now);
      const out = router.transmit(now);
      expect(out.length).toBeLessThanOrEqual(1);
      answered += out.length;
      poll();
    }
    expect(answered).toBeGreaterThanOrEqual(1);
    // No answer without a datagram.
    router.handleTimeout(now + 1);
    expect(router.transmit(now + 1)).toEqual([]);

    // §10.2: still closing (answering) just before three PTOs from the close...
    now = closedAt + 3 * pto - 2;
    router.handleTimeout(now);
    poll();
    // Datagrams 10 to 16 since the close: the 16th is answered.
    let late: ReturnType<typeof router.transmit> = [];
    for (let i = 10; i <= 16; i++) {
      router.receive(Buffer.from(replay), pair.clientAddr, now);
      router.handleTimeout(now);
      late = router.transmit(now);
      expect(late.length).toBe(i === 16 ? 1 : 0);
    }
    // It is the CONNECTION_CLOSE (not a stateless reset of a connection already forgotten): the client reads it.
    pair.clientRouter.receive(late[0]!.data, SERVER_ADDR, now);
    expect(pair.client.closeReason).toMatchObject({ reason: 'bye', application: true, source: 'peer' });
    // ...and gone some time after (a PTO of slack for the deadline's start at the first transmit).
    now = closedAt + 4 * pto + 10;
    const forgotten: Connection[] = [];
    router.handleTimeout(now, forgotten);
    poll();
    expect([...router.connections]).not.toContain(server);
    expect(closedEvents(events)).toBe(1);

    // §10.3: the ID now routes nowhere; the answer is a stateless reset with the token the client holds.
    router.receive(Buffer.from(replay), pair.clientAddr, now);
    const reset = router.transmit(now);
    expect(reset).toHaveLength(1);
    expect(reset[0]!.data.length).toBeLessThan(replay.length);
    expect(tokens.has(reset[0]!.data.subarray(reset[0]!.data.length - 16).toString('hex'))).toBe(true);
    expect(closedEvents(events)).toBe(1);
  });
});

describe('review issue 5 closing: a server connection the client closed (RFC 9000 §10.2.2)', () => {
  it('sends nothing while draining, whatever arrives, and is forgotten after three PTOs', () => {
    const pair = establishedPair();
    const server = pair.server!;
    const router = pair.serverRouter;
    const replay = lastShortDatagram(pair);
    const pto = ptoOf(server);
    const events: ConnectionEvent[] = [];
    pair.client.close(0, 'client done');
    // Deliver the client's CONNECTION_CLOSE only.
    for (const d of pair.clientRouter.transmit(pair.now)) router.receive(d.data, pair.clientAddr, pair.now);
    for (let e = server.poll(); e !== undefined; e = server.poll()) events.push(e);
    expect(server.state).toBe('draining');
    const drainedAt = pair.now;
    let now = pair.now;
    for (let i = 0; i < 10; i++) {
      now += 1;
      router.receive(Buffer.from(replay), pair.clientAddr, now);
      router.handleTimeout(now);
      expect(router.transmit(now)).toEqual([]);
    }
    now = drainedAt + 3 * pto + 10;
    router.handleTimeout(now);
    for (let e = server.poll(); e !== undefined; e = server.poll()) events.push(e);
    expect(router.transmit(now)).toEqual([]);
    expect([...router.connections]).not.toContain(server);
    expect(closedEvents(events)).toBe(1);
    expect(events.find((e) => e.type === 'closed')).toMatchObject({ error: { source: 'peer', reason: 'client done' } });
  });
});
