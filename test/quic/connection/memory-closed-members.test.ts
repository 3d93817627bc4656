/**
 * A connection that is closing, draining or closed keeps only what that state needs (RFC 9000
 * §10.2.1: enough to send its CONNECTION_CLOSE again and recognise its packets; §10.2.2: a draining
 * endpoint sends nothing), once the application has had everything it is owed (connection.ts
 * release()). Every public member stays safe to call afterwards: it does nothing, answers with the
 * value it had at the close, or refuses as for a stream that does not exist.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../../src/quic/connection.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { CERT, CLIENT_ADDR, establishedPair, KEY, SERVER_ADDR, seededBytes } from '../sim/harness.js';

interface Internals {
  spaces: { discarded: boolean; readKeys: unknown; writeKeys: unknown; ack: unknown; cryptoIn: unknown; cryptoOut: { hasChunkToSend: boolean } | undefined }[];
  keyPhase: unknown;
  streams: { size: number };
}

function internals(conn: Connection): Internals {
  return conn as unknown as Internals;
}

function drain(conn: Connection): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let e = conn.poll(); e !== undefined; e = conn.poll()) events.push(e);
  return events;
}

/** The connection holds no streams, keys, trackers or CRYPTO data. */
function expectReleased(conn: Connection): void {
  expect(conn.isReleased).toBe(true);
  const view = internals(conn);
  for (const space of view.spaces) {
    expect(space).toMatchObject({ discarded: true, readKeys: undefined, writeKeys: undefined, ack: undefined, cryptoIn: undefined });
    expect(space.cryptoOut?.hasChunkToSend ?? false).toBe(false);
  }
  expect(view.keyPhase).toBeUndefined();
  expect(view.streams.size).toBe(0);
}

interface Before {
  alpn: string | null;
  keyUpdates: number;
  version: number;
  scid: Buffer;
}

function before(conn: Connection): Before {
  return { alpn: conn.alpn, keyUpdates: conn.keyUpdates, version: conn.version, scid: Buffer.from(conn.sourceConnectionId) };
}

/**
 * Calls every public member of `conn` (released, in `state`) with `datagram` as input and checks
 * that nothing throws and every answer is what a connection in that state gives.
 */
function callEveryMember(conn: Connection, state: 'closing' | 'draining' | 'closed', was: Before, from: typeof CLIENT_ADDR, datagram: Buffer, now: number): void {
  const reason = conn.closeReason;
  expect(reason).toBeDefined();
  expect(conn.state).toBe(state);
  expect(conn.version).toBe(was.version);
  expect(conn.sourceConnectionId.equals(was.scid)).toBe(true);
  expect(conn.isHandshakeComplete).toBe(true);
  expect(conn.alpn).toBe(was.alpn);
  expect(conn.keyUpdates).toBe(was.keyUpdates);
  const recovery = conn.recovery;
  for (const value of Object.values(recovery)) expect(Number.isFinite(value)).toBe(true);
  expect(recovery.ptoPeriod).toBeGreaterThan(0);
  expect(conn.recovery).toEqual(recovery);
  expect(conn.canMigrate).toBe(false);
  expect(typeof conn.isQuiet).toBe('boolean');
  expect(conn.datagramSize).toBeGreaterThanOrEqual(1200);
  expect(conn.stats.datagramsReceived).toBeGreaterThan(0);

  // Stream calls: nothing to open, write, read or reset any more.
  expect(conn.openStream(true)).toBeNull();
  expect(conn.openStream(false)).toBeNull();
  for (const id of [0, 1, 2, 3, 4, 1000]) {
    expect(conn.write(id, Buffer.from('late'))).toBe(false);
    expect(conn.write(id, Buffer.alloc(0), true)).toBe(false);
    conn.end(id);
    conn.resetStream(id, 1);
    conn.stopSending(id, 2);
    conn.pauseReading(id);
    conn.resumeReading(id);
    expect(conn.bufferedAmount(id)).toBe(0);
  }
  conn.migrate();
  conn.migrate({ portOnly: true });
  expect(conn.updateKeys()).toBe(false);
  conn.closeGracefully(5, 'again');
  conn.close(6, 'again');
  expect(conn.closeReason).toBe(reason);
  expect(conn.poll()).toBeUndefined();

  // Input and timers: a closing connection answers once per transmit, the others send nothing.
  const timeout = conn.nextTimeout();
  if (state === 'closed') expect(timeout).toBeUndefined();
  else expect(timeout).toBeGreaterThanOrEqual(now);
  conn.receive(datagram, from, now);
  conn.receive(Buffer.from([0x40, 1, 2, 3]), from, now);
  conn.receive(Buffer.alloc(0), from, now);
  const out = conn.transmit(now);
  expect(out.length).toBe(state === 'closing' ? 1 : 0);
  expect(conn.transmit(now)).toEqual([]);
  conn.handleTimeout(now);
  expect(conn.state).toBe(state);
  expect(conn.nextTimeout()).toBe(timeout);
  expect(conn.poll()).toBeUndefined();
  expect(conn.closeReason).toBe(reason);
  expectReleased(conn);
}

/** Runs the connection past the end of its closing or draining period. */
function runOut(conn: Connection, now: number): number {
  const deadline = conn.nextTimeout()!;
  expect(deadline).toBeGreaterThanOrEqual(now);
  conn.handleTimeout(deadline);
  expect(conn.state).toBe('closed');
  return deadline;
}

describe('QUIC closing, draining and closed connections release their state (RFC 9000 §10.2)', () => {
  it('closing after a local close, draining after the peer close, closed after the period: every member is safe', () => {
    const pair = establishedPair();
    const server = pair.server!;
    const client = pair.client;
    const serverWas = before(server);
    const clientWas = before(client);
    // A datagram of the client's that the server will see after its close.
    const id = client.openStream(true)!;
    client.write(id, Buffer.from('after the close'));
    const [late] = client.transmit(pair.now);
    expect(late).toBeDefined();

    server.close(0x100, 'bye');
    const [close] = pair.serverRouter.transmit(pair.now);
    expect(close).toBeDefined();
    expect(server.isReleased).toBe(false); // the 'closed' event is still owed
    expect(drain(server).map((e) => e.type)).toEqual(['closed']);
    expectReleased(server);
    // RFC 9000 §10.2.1: released, it still answers with the same datagram.
    server.receive(late!.data, CLIENT_ADDR, pair.now);
    expect(server.transmit(pair.now)[0]!.data.equals(close!.data)).toBe(true);
    callEveryMember(server, 'closing', serverWas, CLIENT_ADDR, late!.data, pair.now);

    client.receive(close!.data, SERVER_ADDR, pair.now);
    expect(client.state).toBe('draining');
    expect(drain(client).map((e) => e.type)).toEqual(['closed']);
    expect(client.closeReason).toMatchObject({ code: 0x100, application: true, source: 'peer' });
    callEveryMember(client, 'draining', clientWas, SERVER_ADDR, close!.data, pair.now);

    const serverEnd = runOut(server, pair.now);
    callEveryMember(server, 'closed', serverWas, CLIENT_ADDR, late!.data, serverEnd);
    const clientEnd = runOut(client, pair.now);
    callEveryMember(client, 'closed', clientWas, SERVER_ADDR, close!.data, clientEnd);
  });

  it('closed by the idle timeout (RFC 9000 §10.1): released once its event is polled', () => {
    const pair = establishedPair({ client: { transport: { maxIdleTimeout: 5_000 } } });
    const client = pair.client;
    const was = before(client);
    const deadline = client.nextTimeout()!;
    let now = pair.now;
    for (let i = 0; i < 100 && client.state !== 'closed'; i++) {
      now = Math.max(now, client.nextTimeout() ?? now);
      client.handleTimeout(now);
      client.transmit(now);
    }
    expect(now).toBeGreaterThanOrEqual(deadline);
    expect(client.state).toBe('closed');
    expect(client.isReleased).toBe(false);
    expect(drain(client).map((e) => e.type)).toEqual(['closed']);
    expect(client.closeReason).toMatchObject({ source: 'idle' });
    callEveryMember(client, 'closed', was, SERVER_ADDR, Buffer.alloc(1200), now);
  });

  it('closed by a stateless reset (RFC 9000 §10.3): released once its event is polled', () => {
    const pair = establishedPair();
    const client = pair.client;
    const was = before(client);
    // The server loses its state: a new router with the same static keys (same random source).
    pair.serverRouter = new ConnectionRouter({ random: seededBytes('server-1'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } });
    client.write(client.openStream()!, Buffer.from('anyone there?'), true);
    const sent = client.transmit(pair.now);
    expect(sent.length).toBeGreaterThan(0);
    for (const d of sent) pair.serverRouter.receive(d.data, CLIENT_ADDR, pair.now);
    const [reset] = pair.serverRouter.transmit(pair.now);
    expect(reset).toBeDefined();
    client.receive(reset!.data, SERVER_ADDR, pair.now);
    expect(client.state).toBe('closed');
    const events = drain(client);
    expect(events.at(-1)).toMatchObject({ type: 'closed', error: { source: 'reset' } });
    callEveryMember(client, 'closed', was, SERVER_ADDR, reset!.data, pair.now);
  });

  it('stream data and events that arrived before the close are delivered first, then the state goes', () => {
    const pair = establishedPair();
    const id = pair.client.openStream(true)!;
    pair.client.write(id, Buffer.from('last words'), true);
    for (const d of pair.client.transmit(pair.now)) pair.serverRouter.receive(d.data, CLIENT_ADDR, pair.now);
    const server = pair.server!;
    server.close(0, 'bye');
    expect(pair.serverRouter.transmit(pair.now).length).toBe(1);
    expect(server.isReleased).toBe(false);
    const events = drain(server);
    expect(events.map((e) => e.type)).toContain('closed');
    const data = events.filter((e): e is Extract<ConnectionEvent, { type: 'stream-data' }> => e.type === 'stream-data');
    expect(Buffer.concat(data.map((e) => e.data)).toString()).toBe('last words');
    expect(data.at(-1)!.fin).toBe(true);
    expectReleased(server);
  });

  it('a connection closed before its CONNECTION_CLOSE is built keeps its keys until then (RFC 9000 §10.2.1)', () => {
    const pair = establishedPair();
    const server = pair.server!;
    server.close(0, 'bye');
    expect(drain(server).map((e) => e.type)).toEqual(['closed']);
    expect(server.isReleased).toBe(false);
    const [close] = server.transmit(pair.now);
    expect(close).toBeDefined();
    expectReleased(server);
    pair.client.receive(close!.data, SERVER_ADDR, pair.now);
    expect(pair.client.closeReason).toMatchObject({ code: 0, reason: 'bye', source: 'peer' });
  });

  it('any sequence of calls on a released closing connection: no throw, the same close datagram or nothing, same state (property)', () => {
    const pair = establishedPair();
    const server = pair.server!;
    server.close(0, 'bye');
    const [close] = server.transmit(pair.now);
    drain(server);
    expectReleased(server);
    const deadline = server.nextTimeout()!;
    const start = pair.now;
    const call = fc.oneof(
      fc.record({ op: fc.constant('receive' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({ op: fc.constantFrom('transmit', 'timeout', 'poll', 'open', 'close', 'graceful', 'migrate', 'update' as const) }),
      fc.record({ op: fc.constantFrom('write', 'end', 'reset', 'stop', 'pause', 'resume', 'buffered' as const), id: fc.nat(64) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(call, fc.nat(10)), { maxLength: 30 }), (calls) => {
        let now = start;
        for (const [c, dt] of calls) {
          now = Math.min(now + dt, deadline - 1);
          switch (c.op) {
            case 'receive': server.receive(Buffer.from(c.bytes), CLIENT_ADDR, now); break;
            case 'transmit': {
              const out = server.transmit(now);
              expect(out.length).toBeLessThanOrEqual(1);
              if (out.length === 1) expect(out[0]!.data.equals(close!.data)).toBe(true);
              break;
            }
            case 'timeout': server.handleTimeout(now); break;
            case 'poll': expect(server.poll()).toBeUndefined(); break;
            case 'open':
              expect(server.openStream(true)).toBeNull();
              expect(server.openStream(false)).toBeNull();
              break;
            case 'close': server.close(1, 'x'); break;
            case 'graceful': server.closeGracefully(2, 'y'); break;
            case 'migrate': server.migrate(); break;
            case 'update': expect(server.updateKeys()).toBe(false); break;
            case 'write': expect(server.write(c.id, Buffer.from('z'))).toBe(false); break;
            case 'end': server.end(c.id); break;
            case 'reset': server.resetStream(c.id, 3); break;
            case 'stop': server.stopSending(c.id, 4); break;
            case 'pause': server.pauseReading(c.id); break;
            case 'resume': server.resumeReading(c.id); break;
            case 'buffered': expect(server.bufferedAmount(c.id)).toBe(0); break;
          }
          expect(server.state).toBe('closing');
          expect(server.nextTimeout()).toBe(deadline);
        }
      }),
      { numRuns: 300 },
    );
    expect(server.closeReason).toMatchObject({ code: 0, reason: 'bye', source: 'local' });
    expectReleased(server);
  });
});
