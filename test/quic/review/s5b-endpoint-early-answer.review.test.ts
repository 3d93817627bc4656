/**
 * Review (session 5) of fe986a4: the endpoint answers a connection that took long-header datagrams
 * as soon as the next datagram of the turn's batch belongs to another connection (answerNow), so
 * the application's onEvent now runs inside the batch, with the rest of the batch (and the masks
 * its connections computed ahead, receive-lookahead.ts) still pending.
 *
 * Over loopback UDP, with the server's datagrams held and handed over in batches that mix several
 * clients (as a busy server's turn does), checked and holding: onConnection comes before any event
 * of that connection, each connection's events keep their order and every echo arrives byte for
 * byte; an application that, from inside the batch, closes its connection, writes to another one
 * or calls endpoint.close() leaves no connection behind, loses no 'closed' event, throws nothing,
 * and close() ends promptly (RFC 9000 §10.2: closing connections send CONNECTION_CLOSE; new
 * Initials after close are refused).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import type { ConnectionEvent, PeerAddress } from '../../../src/quic/connection/types.js';
import { QuicEndpoint } from '../../../src/quic/endpoint.js';
import { CA, CERT, KEY } from '../sim/harness.js';

/** endpoint.close()'s timeout in the close-from-the-batch test: it asserts a third of it at most. */
const CLOSE_TIMEOUT_MS = 30_000;

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

/** Holds the server's arrivals and hands them over every `everyMs` in one turn, so batches mix clients. */
function batchArrivals(ep: QuicEndpoint, everyMs: number): { batches: number[] } {
  const internals = ep as unknown as { onMessage(datagram: Buffer, from: PeerAddress): void };
  const onMessage = internals.onMessage.bind(ep);
  const held: [Buffer, PeerAddress][] = [];
  const stats = { batches: [] as number[] };
  let timer: NodeJS.Timeout | undefined;
  internals.onMessage = (datagram, from) => {
    held.push([datagram, from]);
    timer ??= setTimeout(() => {
      timer = undefined;
      const ports = new Set(held.map(([, f]) => f.port));
      stats.batches.push(ports.size);
      for (const [d, f] of held.splice(0)) onMessage(d, f);
    }, everyMs);
  };
  return stats;
}

interface Client {
  ep: QuicEndpoint;
  conn: Connection;
  events: ConnectionEvent[];
  received: Buffer[];
  closed: Promise<void>;
}

async function clients(count: number, server: PeerAddress, message: (i: number) => Buffer, alpn = (_i: number) => 'h3'): Promise<Client[]> {
  const list: Client[] = [];
  for (let i = 0; i < count; i++) {
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    const events: ConnectionEvent[] = [];
    const received: Buffer[] = [];
    let conn!: Connection;
    const ep = await QuicEndpoint.listen({
      host: '127.0.0.1',
      onEvent(c, e) {
        events.push(e);
        if (e.type === 'handshake-complete') {
          const id = c.openStream(true)!;
          c.write(id, message(i), true);
        } else if (e.type === 'stream-data') received.push(Buffer.from(e.data));
        else if (e.type === 'closed') closedResolve();
      },
    });
    endpoints.push(ep);
    conn = ep.connect(server, { serverName: 'localhost', alpn: [alpn(i)], ca: [CA] });
    list.push({ ep, conn, events, received, closed });
  }
  return list;
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

describe('endpoint early answers (fe986a4) with an application acting inside the batch', () => {
  it('onConnection precedes every event of its connection; per-connection order kept; every echo byte-exact', async () => {
    const order: string[] = [];
    const known = new Set<Connection>();
    const seen = new Map<Connection, ConnectionEvent[]>();
    const srv = await QuicEndpoint.listen({
      host: '127.0.0.1',
      server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
      onConnection(conn) {
        expect(known.has(conn)).toBe(false);
        known.add(conn);
      },
      onEvent(conn, e) {
        if (!known.has(conn)) order.push(`event ${e.type} before onConnection`);
        let list = seen.get(conn);
        if (list === undefined) seen.set(conn, (list = []));
        list.push(e);
        if (e.type === 'stream-data') conn.write(e.id, e.data, e.fin);
      },
    });
    endpoints.push(srv);
    const stats = batchArrivals(srv, 4);
    const message = (i: number) => Buffer.alloc(3000 + i * 500, 0x41 + i);
    const list = await clients(6, srv.address, message);
    await within(
      Promise.all(list.map((c) => new Promise<void>((resolve) => {
        const check = () => (Buffer.concat(c.received).length >= message(list.indexOf(c)).length ? resolve() : setTimeout(check, 5));
        check();
      }))),
      8000,
      'echoes',
    );
    expect(order).toEqual([]);
    expect(stats.batches.some((n) => n > 1)).toBe(true);
    list.forEach((c, i) => expect(Buffer.concat(c.received).equals(message(i))).toBe(true));
    for (const events of seen.values()) {
      // handshake-complete once and first; stream data after the stream was opened.
      expect(events.filter((e) => e.type === 'handshake-complete').length).toBe(1);
      expect(events[0]!.type).toBe('handshake-complete');
      const opened = events.findIndex((e) => e.type === 'stream-opened');
      const data = events.findIndex((e) => e.type === 'stream-data');
      if (data >= 0) expect(opened).toBeGreaterThanOrEqual(0);
      if (data >= 0) expect(opened).toBeLessThan(data);
    }
  }, 15_000);

  it("a handshake refused on the first datagram (no common ALPN, RFC 9001 §8.1): its 'closed' event comes after onConnection", async () => {
    const order: string[] = [];
    const srv = await QuicEndpoint.listen({
      host: '127.0.0.1',
      server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
      onConnection(conn) {
        order.push(`accept ${conn.sourceConnectionId.toString('hex')}`);
      },
      onEvent(conn, e) {
        order.push(`${e.type} ${conn.sourceConnectionId.toString('hex')}`);
      },
    });
    endpoints.push(srv);
    const stats = batchArrivals(srv, 4);
    const list = await clients(6, srv.address, () => Buffer.from('x'), (i) => (i % 2 === 0 ? 'nope' : 'h3'));
    await within(Promise.all(list.filter((_, i) => i % 2 === 0).map((c) => c.closed)), 5000, 'refused clients closed');
    expect(stats.batches.some((n) => n > 1)).toBe(true);
    const closedEvents = order.filter((o) => o.startsWith('closed '));
    expect(closedEvents.length).toBeGreaterThanOrEqual(3);
    for (const entry of order) {
      if (entry.startsWith('accept ')) continue;
      const id = entry.slice(entry.indexOf(' ') + 1);
      expect(order.indexOf(`accept ${id}`)).toBeGreaterThanOrEqual(0);
      expect(order.indexOf(`accept ${id}`)).toBeLessThan(order.indexOf(entry));
    }
  }, 15_000);

  it('conn.close() of its own connection and a write to another, from inside the batch: all clients learn, nothing left', async () => {
    const conns: Connection[] = [];
    const errors: unknown[] = [];
    let closes = 0;
    const srv = await QuicEndpoint.listen({
      host: '127.0.0.1',
      server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
      onConnection(conn) {
        conns.push(conn);
      },
      onEvent(conn, e) {
        try {
          if (e.type === 'handshake-complete') {
            // Every other connection is closed at once; the others get a server-initiated stream.
            if (conns.indexOf(conn) % 2 === 0) {
              conn.close(3, 'go away');
              closes++;
            } else {
              const other = conns.find((c) => c !== conn && c.state === 'established');
              const target = other ?? conn;
              const id = target.openStream(false);
              if (id !== null) target.write(id, Buffer.from('hello'), true);
            }
          }
        } catch (err) {
          errors.push(err);
        }
      },
    });
    endpoints.push(srv);
    batchArrivals(srv, 4);
    const list = await clients(6, srv.address, () => Buffer.from('x'));
    await within(Promise.all(list.filter((_, i) => i % 2 === 0).map((c) => c.closed)), 5000, 'clients told of the close');
    expect(errors).toEqual([]);
    expect(closes).toBeGreaterThan(0);
    for (const c of list) {
      const closed = c.events.find((e) => e.type === 'closed');
      if (closed !== undefined) expect(closed).toMatchObject({ error: { code: 3 } });
    }
    // Closed server connections are forgotten after their closing period.
    await within(
      new Promise<void>((resolve) => {
        const check = () => ([...srv.router.connections].every((c) => c.state === 'established') ? resolve() : setTimeout(check, 20));
        check();
      }),
      5000,
      'closing periods over',
    );
  }, 15_000);

  it('endpoint.close() from inside the batch ends promptly; later Initials of the batch are refused, no connection is left', async () => {
    let closing: Promise<void> | undefined;
    let closeStarted = 0;
    const srv = await QuicEndpoint.listen({
      host: '127.0.0.1',
      server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
      onEvent(_conn, e) {
        // The flag is set before the call: close() pumps, and this callback runs again inside it.
        if (e.type === 'handshake-complete' && closeStarted === 0) {
          closeStarted = Date.now();
          closing = srv.close(0, 'bye', CLOSE_TIMEOUT_MS); // long, so that only the bug waits it out
        }
      },
    });
    const stats = batchArrivals(srv, 4);
    const list = await clients(6, srv.address, () => Buffer.from('x'));
    while (closing === undefined) await new Promise((r) => setTimeout(r, 5));
    await closing;
    expect(Date.now() - closeStarted).toBeLessThan(CLOSE_TIMEOUT_MS / 3);
    expect(stats.batches.some((n) => n > 1)).toBe(true);
    expect(srv.router.connections.size === 0 || [...srv.router.connections].every((c) => c.state !== 'established' && c.state !== 'handshake')).toBe(true);
    // Every client that got a connection hears of the close (CONNECTION_CLOSE, RFC 9000 §10.2) or was refused.
    await within(Promise.all(list.map((c) => c.closed)), 5000, 'every client closed');
  }, CLOSE_TIMEOUT_MS + 10_000);
});
