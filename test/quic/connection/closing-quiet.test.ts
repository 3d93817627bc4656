/**
 * Closing and draining connections are quiet (connection.ts enterClosingQuiet, issue 5): once the
 * CONNECTION_CLOSE owed is sent and every event and readable stream is delivered, a pump's visit
 * costs a flag test. These tests check that the rules of RFC 9000 §10.2 still hold from that
 * state: a datagram in the closing period is answered within the same pump and at most once per
 * transmit (§10.2.1), a draining connection sends nothing (§10.2.2), the period ends at three PTOs
 * with no other input, and events and stream data queued before the close are still delivered.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { computedTimeout, establishedPair } from '../sim/harness.js';

/** Calls of the stream manager's control-frame collection on `conn` while `fn` runs. */
function controlCollections(conn: Connection, fn: () => void): number {
  const streams = (conn as unknown as { streams: { takeControlFrames: (...a: unknown[]) => unknown } }).streams;
  const original = streams.takeControlFrames;
  let calls = 0;
  streams.takeControlFrames = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    fn();
  } finally {
    streams.takeControlFrames = original;
  }
  return calls;
}

describe('QUIC closing and draining connections are quiet (issue 5, RFC 9000 §10.2)', () => {
  it('a closing server that sent its CONNECTION_CLOSE is visited by pumps without stream work', () => {
    const pair = establishedPair();
    const server = pair.server!;
    server.close(0, 'bye');
    expect(pair.serverRouter.transmit(pair.now).length).toBe(1); // the CONNECTION_CLOSE (lost: never sent on)
    expect(server.poll()).toMatchObject({ type: 'closed' });
    expect(server.state).toBe('closing');
    // One pump with the event taken: the connection looks at its streams once more, then is quiet.
    expect(server.poll()).toBeUndefined();
    expect(pair.serverRouter.transmit(pair.now)).toEqual([]);
    const calls = controlCollections(server, () => {
      for (let i = 0; i < 10; i++) {
        pair.serverRouter.handleTimeout(pair.now);
        expect(server.poll()).toBeUndefined();
        expect(pair.serverRouter.transmit(pair.now)).toEqual([]);
        expect(pair.serverRouter.nextTimeout()).toBe(computedTimeout(server));
      }
    });
    expect(calls).toBe(0);
  });

  it('a datagram in the closing period is answered within the same pump, once per transmit (RFC 9000 §10.2.1)', () => {
    const pair = establishedPair();
    const server = pair.server!;
    server.close(0, 'bye');
    pair.serverRouter.transmit(pair.now);
    server.poll();
    expect(pair.serverRouter.transmit(pair.now)).toEqual([]);
    // The client, unaware, sends more: each of its datagrams reaches the quiet closing server.
    const id = pair.client.openStream(true)!;
    pair.client.write(id, Buffer.from('still here'));
    const [datagram] = pair.client.transmit(pair.now);
    expect(datagram).toBeDefined();
    pair.serverRouter.receive(datagram!.data, pair.clientAddr, pair.now);
    pair.serverRouter.receive(datagram!.data, pair.clientAddr, pair.now);
    const answers = pair.serverRouter.transmit(pair.now);
    expect(answers.length).toBe(1);
    expect(answers[0]!.data.length).toBeLessThan(datagram!.data.length + 64);
    expect(pair.serverRouter.transmit(pair.now)).toEqual([]);
    // The answer closes the client: it drains.
    pair.clientRouter.receive(answers[0]!.data, { address: '10.0.0.2', port: 443 }, pair.now);
    expect(pair.client.state).toBe('draining');
  });

  it('the closing and draining periods end with no other input, driven only by the routers (RFC 9000 §10.2)', () => {
    const pair = establishedPair();
    const server = pair.server!;
    server.close(0, 'bye');
    for (let i = 0; i < 1000 && pair.step(); i++);
    expect(server.state).toBe('closed');
    expect(pair.client.state).toBe('closed');
    expect(pair.serverRouter.connections.size).toBe(0);
    expect(pair.clientRouter.connections.size).toBe(0);
    expect(pair.clientEvents.filter((e) => e.type === 'closed').length).toBe(1);
    expect(pair.serverEvents.filter((e) => e.type === 'closed').length).toBe(1);
  });

  it('a draining connection sends nothing and keeps its deadline (RFC 9000 §10.2.2)', () => {
    const pair = establishedPair();
    pair.server!.close(0, 'bye');
    const [close] = pair.serverRouter.transmit(pair.now);
    pair.clientRouter.receive(close!.data, { address: '10.0.0.2', port: 443 }, pair.now);
    const client = pair.client;
    expect(client.state).toBe('draining');
    expect(client.poll()).toMatchObject({ type: 'closed' });
    const deadline = computedTimeout(client)!;
    for (let i = 0; i < 3; i++) {
      expect(pair.clientRouter.transmit(pair.now)).toEqual([]);
      expect(client.nextTimeout()).toBe(deadline);
    }
    // More from the server while draining: still nothing sent, same deadline.
    pair.clientRouter.receive(close!.data, { address: '10.0.0.2', port: 443 }, pair.now);
    expect(pair.clientRouter.transmit(pair.now)).toEqual([]);
    expect(client.nextTimeout()).toBe(deadline);
    pair.clientRouter.handleTimeout(deadline - 1);
    expect(client.state).toBe('draining');
    pair.clientRouter.handleTimeout(deadline);
    expect(client.state).toBe('closed');
    expect(pair.clientRouter.connections.size).toBe(0);
  });

  it('stream data that arrived before the close is still delivered after it', () => {
    const pair = establishedPair();
    const id = pair.client.openStream(true)!;
    pair.client.write(id, Buffer.from('last words'), true);
    for (const d of pair.client.transmit(pair.now)) pair.serverRouter.receive(d.data, pair.clientAddr, pair.now);
    const server = pair.server!;
    // The application closes before reading: the queued 'closed' event and the data both stay deliverable.
    server.close(0, 'bye');
    expect(pair.serverRouter.transmit(pair.now).length).toBe(1);
    expect(pair.serverRouter.transmit(pair.now)).toEqual([]);
    const events = [];
    for (let e = server.poll(); e !== undefined; e = server.poll()) events.push(e);
    expect(events.some((e) => e.type === 'closed')).toBe(true);
    const data = events.filter((e) => e.type === 'stream-data');
    expect(Buffer.concat(data.map((e) => (e as { data: Uint8Array }).data)).toString()).toBe('last words');
  });
});
