/**
 * Review of b74abde and 6e5b6ef (release() of closing, draining and closed connections, RFC 9000
 * §10.2, §10.2.1, §10.2.2) and d2bbbfd (the closing datagram resent byte for byte): in every way a
 * connection ends, any order of datagrams (the peer's real ones, replays, random bytes, from its
 * address or another), timers and application calls, before and after the application has polled
 * everything, throws nothing and keeps the rules of its state:
 * - a closing connection sends nothing but the datagram it built when closing started (§10.2.1),
 *   at most one per transmit(), and while the peer's address is unvalidated never more than three
 *   times what it received from it (§8.1);
 * - a draining or closed one sends nothing (§10.2.2);
 * - the state only moves forward, to 'closed' at the end of the period, and the router then forgets
 *   the connection;
 * - the application gets its 'closed' event once, with the error it had, and every stream byte
 *   that arrived before the close.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent, PeerAddress } from '../../../src/quic/connection.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { StreamUsageError } from '../../../src/quic/stream/errors.js';
import { CERT, CLIENT_ADDR, establishedPair, KEY, Pair, SERVER_ADDR, seededBytes } from '../sim/harness.js';

interface Ending {
  conn: Connection;
  router: ConnectionRouter;
  /** The peer's address, and datagrams of the peer's to replay. */
  peer: PeerAddress;
  replays: Buffer[];
  /** Events polled before the property starts. */
  events: ConnectionEvent[];
  /** Bytes received from and sent to the peer so far (anti-amplification, §8.1). */
  received: number;
  sent: number;
  /** The datagram built when closing started (closing only). */
  closeDatagram?: Buffer;
  /** Whether the peer's address was unvalidated when the connection closed. */
  unvalidated: boolean;
}

function pollAll(conn: Connection, into: ConnectionEvent[]): void {
  for (let e = conn.poll(); e !== undefined; e = conn.poll()) into.push(e);
}

const sum = (ds: { length: number }[]) => ds.reduce((n, d) => n + d.length, 0);

/** The server closes an established connection; the last client data is in flight to it. */
function serverCloses(pollFirst: boolean): Ending {
  const pair = establishedPair();
  const server = pair.server!;
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('in flight'), true);
  const late = pair.client.transmit(pair.now).map((d) => d.data);
  server.close(0x100, 'bye');
  const out = server.transmit(pair.now);
  expect(out.length).toBe(1);
  const events: ConnectionEvent[] = [];
  if (pollFirst) pollAll(server, events);
  return { conn: server, router: pair.serverRouter, peer: CLIENT_ADDR, replays: [...pair.clientSent.slice(-6), ...late], events, received: 0, sent: 0, closeDatagram: out[0]!.data, unvalidated: false };
}

/** The client receives the server's CONNECTION_CLOSE and drains. */
function clientDrains(pollFirst: boolean): Ending {
  const pair = establishedPair();
  pair.server!.close(0x100, 'bye');
  const [close] = pair.server!.transmit(pair.now);
  pair.clientRouter.receive(close!.data, SERVER_ADDR, pair.now);
  expect(pair.client.state).toBe('draining');
  const events: ConnectionEvent[] = [];
  if (pollFirst) pollAll(pair.client, events);
  return { conn: pair.client, router: pair.clientRouter, peer: SERVER_ADDR, replays: [...pair.serverSent.slice(-6).map((d) => d.data), close!.data], events, received: 0, sent: 0, unvalidated: false };
}

/** The client's idle timer ends the connection (§10.1). */
function clientIdles(pollFirst: boolean): Ending {
  const pair = establishedPair({ client: { transport: { maxIdleTimeout: 2_000 } } });
  const client = pair.client;
  let now = pair.now;
  for (let i = 0; i < 100 && client.state !== 'closed'; i++) {
    now = Math.max(now, client.nextTimeout() ?? now);
    client.handleTimeout(now);
    client.transmit(now);
  }
  expect(client.state).toBe('closed');
  const events: ConnectionEvent[] = [];
  if (pollFirst) pollAll(client, events);
  return { conn: client, router: pair.clientRouter, peer: SERVER_ADDR, replays: pair.serverSent.slice(-6).map((d) => d.data), events, received: 0, sent: 0, unvalidated: false };
}

/** A stateless reset from a server that lost its state ends the client (§10.3). */
function clientReset(pollFirst: boolean): Ending {
  const pair = establishedPair();
  const client = pair.client;
  const fresh = new ConnectionRouter({ random: seededBytes('server-1'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } });
  client.write(client.openStream()!, Buffer.from('anyone there?'), true);
  for (const d of client.transmit(pair.now)) fresh.receive(d.data, CLIENT_ADDR, pair.now);
  const [reset] = fresh.transmit(pair.now);
  client.receive(reset!.data, SERVER_ADDR, pair.now);
  expect(client.state === 'closed' || client.state === 'draining').toBe(true);
  const events: ConnectionEvent[] = [];
  if (pollFirst) pollAll(client, events);
  return { conn: client, router: pair.clientRouter, peer: SERVER_ADDR, replays: [...pair.serverSent.slice(-6).map((d) => d.data), reset!.data], events, received: 0, sent: 0, unvalidated: false };
}

/** The server closes in the handshake, the client's address not validated yet (§8.1, §10.2.3). */
function serverClosesInHandshake(pollFirst: boolean): Ending {
  const pair = new Pair();
  pair.flush(); // the client's first Initial
  pair.step();
  const server = pair.server!;
  expect(server.state).toBe('handshake');
  const received = sum(pair.serverReceived);
  const flight = server.transmit(pair.now);
  server.close(0x100, 'refused');
  const out = server.transmit(pair.now);
  const events: ConnectionEvent[] = [];
  if (pollFirst) pollAll(server, events);
  return {
    conn: server, router: pair.serverRouter, peer: CLIENT_ADDR, replays: pair.clientSent.slice(), events,
    received, sent: sum(pair.serverSent.map((d) => d.data)) + sum(flight.map((d) => d.data)) + sum(out.map((d) => d.data)),
    closeDatagram: out[0]?.data, unvalidated: true,
  };
}

/** The client closes in the handshake. */
function clientClosesInHandshake(pollFirst: boolean): Ending {
  const pair = new Pair();
  pair.flush();
  pair.step();
  pair.flush();
  pair.step();
  pair.client.close(0x101, 'gave up');
  const out = pair.client.transmit(pair.now);
  expect(out.length).toBe(1);
  const events: ConnectionEvent[] = [];
  if (pollFirst) pollAll(pair.client, events);
  return { conn: pair.client, router: pair.clientRouter, peer: SERVER_ADDR, replays: pair.serverSent.map((d) => d.data), events, received: 0, sent: 0, closeDatagram: out[0]!.data, unvalidated: false };
}

const ENDINGS = { serverCloses, clientDrains, clientIdles, clientReset, serverClosesInHandshake, clientClosesInHandshake };


const OTHER: PeerAddress = { address: '203.0.113.9', port: 4444 };

const op = fc.oneof(
  fc.record({ op: fc.constant('replay' as const), index: fc.nat(), other: fc.boolean() }),
  fc.record({ op: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 80 }), prefixCid: fc.boolean() }),
  fc.record({ op: fc.constantFrom('transmit', 'timeout', 'poll', 'open', 'close', 'graceful', 'migrate', 'update' as const) }),
  fc.record({ op: fc.constantFrom('write', 'end', 'reset', 'stop', 'pause', 'resume', 'buffered' as const), id: fc.nat(12) }),
  fc.record({ op: fc.constant('router' as const) }),
);

/**
 * A write or end: after release it does nothing; before, a write after the stream's end is the
 * application's error (StreamUsageError), as on an open connection, and nothing else may throw.
 */
function appCall(conn: Connection, call: () => unknown): void {
  const released = conn.isReleased;
  try {
    call();
  } catch (err) {
    if (released || !(err instanceof StreamUsageError)) throw err;
  }
}

/** One step: time moves by `dt`, the input arrives; the invariants of the state are checked. */
function runSequence(e: Ending, steps: [fc.Arbitrary<unknown> extends never ? never : { op: string; [k: string]: unknown }, number][], start: number): void {
  const { conn, router } = e;
  const reason = conn.closeReason;
  expect(reason).toBeDefined();
  const events = e.events;
  let received = e.received;
  let sent = e.sent;
  let now = start;
  let state = conn.state;
  const order = ['closing', 'draining', 'closed'];
  for (const [step, dt] of steps) {
    now += dt;
    switch (step.op) {
      case 'replay': {
        const d = e.replays[(step['index'] as number) % e.replays.length]!;
        const from = step['other'] ? OTHER : e.peer;
        if (from === e.peer) received += d.length;
        conn.receive(Buffer.from(d), from, now);
        break;
      }
      case 'random': {
        const bytes = Buffer.from(step['bytes'] as Uint8Array);
        const d = step['prefixCid'] ? Buffer.concat([Buffer.from([0x40]), conn.sourceConnectionId, bytes]) : bytes;
        received += d.length;
        conn.receive(d, e.peer, now);
        break;
      }
      case 'transmit': {
        const out = conn.transmit(now);
        if (conn.state !== 'closing') expect(out).toEqual([]);
        expect(out.length).toBeLessThanOrEqual(1);
        for (const d of out) {
          expect(d.data.equals(e.closeDatagram!)).toBe(true);
          expect(d.to).toEqual(e.peer);
          sent += d.data.length;
        }
        break;
      }
      case 'timeout': conn.handleTimeout(now); break;
      case 'poll': pollAll(conn, events); break;
      case 'open':
        // RFC 9000 §10.2: nothing new once closing or draining, released or not (6a2f244).
        expect(conn.openStream(true)).toBeNull();
        break;
      case 'close': conn.close(7, 'again'); break;
      case 'graceful': conn.closeGracefully(8, 'again'); break;
      case 'migrate': conn.migrate(); break;
      case 'update':
        expect(conn.updateKeys()).toBe(false);
        break;
      case 'write':
        appCall(conn, () => conn.write(step['id'] as number, Buffer.from('late')));
        break;
      case 'end':
        appCall(conn, () => conn.end(step['id'] as number));
        break;
      case 'reset': conn.resetStream(step['id'] as number, 1); break;
      case 'stop': conn.stopSending(step['id'] as number, 2); break;
      case 'pause': conn.pauseReading(step['id'] as number); break;
      case 'resume': conn.resumeReading(step['id'] as number); break;
      case 'buffered': conn.bufferedAmount(step['id'] as number); break;
      case 'router': {
        router.handleTimeout(now);
        for (const d of router.transmit(now)) {
          // The router answers for this connection only with its closing datagram; anything else
          // is a stateless answer to an unknown ID, smaller than what triggered it (§10.3.3).
          if (e.closeDatagram !== undefined && d.data.equals(e.closeDatagram)) sent += d.data.length;
          else expect(d.data.length).toBeLessThan(100);
        }
        break;
      }
    }
    // The state only moves forward, and ends with the period.
    expect(order.indexOf(conn.state)).toBeGreaterThanOrEqual(order.indexOf(state));
    state = conn.state;
    expect(conn.closeReason).toBe(reason);
    if (e.unvalidated) expect(sent).toBeLessThanOrEqual(3 * received);
  }
  // The end of the period: closed, and forgotten by the router.
  const deadline = conn.nextTimeout();
  now = Math.max(now, deadline ?? now) + 1;
  conn.handleTimeout(now);
  router.handleTimeout(now);
  expect(conn.state).toBe('closed');
  expect(conn.transmit(now)).toEqual([]);
  expect(router.connections.has(conn)).toBe(false);
  pollAll(conn, events);
  // The 'closed' event came once, with the error the connection closed with.
  const closed = events.filter((ev) => ev.type === 'closed');
  expect(closed).toHaveLength(1);
  expect(closed[0]).toMatchObject({ type: 'closed', error: { code: reason!.code, source: reason!.source } });
  // Released once everything is polled, even after resumeReading() then pauseReading() of an ID
  // that has no receiving part (6a2f244).
  expect(conn.isReleased).toBe(true);
}

describe('s8 review: a connection that has ended takes any input in any order (RFC 9000 §10.2)', () => {
  for (const [name, make] of Object.entries(ENDINGS)) {
    it(`${name}: random datagrams, replays, timers and calls, before and after release`, () => {
      const steps = fc.array(fc.tuple(op, fc.oneof(fc.constant(0), fc.nat(40), fc.nat(3_000))), { maxLength: 25 });
      fc.assert(
        fc.property(fc.boolean(), steps, (pollFirst, s) => {
          const e = make(pollFirst);
          runSequence(e, s as never, (e.conn as unknown as { now: number }).now);
        }),
        { numRuns: 30 },
      );
    });
  }

  it('the stream data that reached the server with the close is all delivered, however the calls interleave', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('transmit', 'poll', 'receive', 'timeout'), { maxLength: 8 }), (calls) => {
        const pair = establishedPair();
        const id = pair.client.openStream()!;
        pair.client.write(id, Buffer.from('last words'), true);
        const data = pair.client.transmit(pair.now);
        for (const d of data) pair.serverRouter.receive(d.data, CLIENT_ADDR, pair.now);
        const server = pair.server!;
        server.close(0, 'bye');
        const events: ConnectionEvent[] = [];
        for (const c of calls) {
          if (c === 'transmit') server.transmit(pair.now);
          else if (c === 'poll') { const ev = server.poll(); if (ev) events.push(ev); }
          else if (c === 'receive') server.receive(data[0]!.data, CLIENT_ADDR, pair.now);
          else server.handleTimeout(pair.now);
        }
        server.transmit(pair.now);
        pollAll(server, events);
        const bytes = Buffer.concat(events.filter((ev): ev is Extract<ConnectionEvent, { type: 'stream-data' }> => ev.type === 'stream-data').map((ev) => ev.data));
        expect(bytes.toString()).toBe('last words');
        expect(events.filter((ev) => ev.type === 'closed')).toHaveLength(1);
        expect(server.isReleased).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});
