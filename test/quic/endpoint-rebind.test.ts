/**
 * Client connection migration over real UDP sockets (RFC 9000 §9.2): QuicEndpoint.rebind() moves a
 * client's connections to a new local socket in the middle of a download; the server validates the
 * new path and sends the rest there, every byte once and in order. The replaced socket drains
 * (RFC 9000 §9.3): what the server still sends to the old port arrives, then the socket closes,
 * on its own, at close(), or at the next rebind().
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connection, ConnectionEvent } from '../../src/quic/connection.js';
import { QuicEndpoint, REBIND_DRAIN_CAP_MS } from '../../src/quic/endpoint.js';
import { CA, CERT, KEY, pattern, sha256 } from './sim/harness.js';

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

const BODY = pattern(4 * 1024 * 1024);

/** A server that answers a stream's FIN with `body`, and lists its connections. */
async function server(body = BODY): Promise<{ endpoint: QuicEndpoint; conns: Connection[] }> {
  const conns: Connection[] = [];
  const offsets = new Map<number, number>();
  const pump = (conn: Connection, id: number) => {
    let offset = offsets.get(id)!;
    while (offset < body.length) {
      const end = Math.min(offset + 64 * 1024, body.length);
      const more = conn.write(id, body.subarray(offset, end), end === body.length);
      offset = end;
      if (!more) break;
    }
    offsets.set(id, offset);
  };
  const endpoint = await QuicEndpoint.listen({
    host: '127.0.0.1',
    server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
    onConnection: (conn) => conns.push(conn),
    onEvent(conn, e) {
      if (e.type === 'stream-data' && e.fin) {
        offsets.set(e.id, 0);
        pump(conn, e.id);
      } else if (e.type === 'writable') pump(conn, e.id);
    },
  });
  endpoints.push(endpoint);
  return { endpoint, conns };
}

/** Whether a UDP socket can be bound on 127.0.0.1:`port` now (no socket of ours holds it). */
async function portFree(port: number): Promise<boolean> {
  const probe = createSocket({ type: 'udp4', reuseAddr: false });
  const bound = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.bind(port, '127.0.0.1', () => resolve(true));
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return bound;
}

/** Polls portFree() until it answers true or `ms` pass (a socket closes asynchronously). */
async function becomesFree(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await portFree(port)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A client endpoint connected to `srv`, with one request answered (so the handshake is confirmed
 * by then: HANDSHAKE_DONE precedes the response, RFC 9001 §4.1.2, and migration waits for it,
 * RFC 9000 §9). `request()` sends "GET" on a new stream and resolves with the whole answer.
 * `slowdown` slows the client's clock: the drain period, counted in PTOs on that clock, then lasts
 * that many times longer in real time, so that a check made during it stays within it however
 * loaded the machine is.
 */
async function connectedClient(srv: { endpoint: QuicEndpoint }, slowdown = 1): Promise<{ client: QuicEndpoint; clock: () => number; request: () => Promise<Buffer> }> {
  const t0 = Date.now();
  const clock = () => t0 + (Date.now() - t0) / slowdown;
  const pending = new Map<number, { parts: Buffer[]; resolve: (body: Buffer) => void }>();
  let conn!: Connection;
  let handshake!: () => void;
  const ready = new Promise<void>((r) => (handshake = r));
  const client = await QuicEndpoint.listen({
    host: '127.0.0.1',
    clock,
    onEvent(_c, e) {
      if (e.type === 'handshake-complete') handshake();
      if (e.type === 'stream-data') {
        const stream = pending.get(e.id)!;
        stream.parts.push(Buffer.from(e.data));
        if (e.fin) stream.resolve(Buffer.concat(stream.parts));
      }
    },
  });
  endpoints.push(client);
  conn = client.connect(srv.endpoint.address, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
  const request = () => new Promise<Buffer>((resolve) => {
    const id = conn.openStream()!;
    pending.set(id, { parts: [], resolve });
    conn.write(id, Buffer.from('GET'), true);
    client.flush();
  });
  await ready;
  await request();
  return { client, clock, request };
}

/** `p`, or 'timeout' after `ms`; the timer is cleared either way (the handle check counts timers). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('QuicEndpoint.rebind(): client migration over loopback UDP (RFC 9000 §9.2)', () => {
  it('a download continues on the new socket: the server validates it and moves there', async () => {
    const srv = await server();
    const parts: Buffer[] = [];
    let received = 0;
    let conn!: Connection;
    let rebound: Promise<void> | undefined;
    const clientLog: string[] = [];
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const client: QuicEndpoint = await QuicEndpoint.listen({
      host: '127.0.0.1',
      qlog: () => (e) => clientLog.push(e.name),
      onEvent(_c, e: ConnectionEvent) {
        if (e.type === 'handshake-complete') conn.write(conn.openStream()!, Buffer.from('GET'), true);
        if (e.type === 'stream-data') {
          parts.push(Buffer.from(e.data));
          received += e.data.length;
          // Migrate once a quarter of the body has arrived (the handshake is confirmed by then).
          if (rebound === undefined && received >= BODY.length / 4) rebound = client.rebind();
          if (e.fin) resolveDone();
        }
      },
    });
    endpoints.push(client);
    const before = client.address.port;
    conn = client.connect(srv.endpoint.address, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
    await done;
    await rebound;
    const body = Buffer.concat(parts);
    expect(body.length).toBe(BODY.length);
    expect(sha256(body)).toBe(sha256(BODY));
    expect(client.address.port).not.toBe(before);
    // The server now sends to the new socket, after validating it (RFC 9000 §8.2, §9.3).
    expect(srv.conns[0]!.remote.port).toBe(client.address.port);
    expect(clientLog).toContain('connectivity:path_validated');
  }, 30_000);

  it('an endpoint that is closing does not rebind, and its socket is closed', async () => {
    const client = await QuicEndpoint.listen({ host: '127.0.0.1' });
    const port = client.address.port;
    const rebinding = client.rebind();
    const closing = client.close(0, '', 200);
    await expect(rebinding).rejects.toThrow(/closed/);
    await closing;
    await expect(client.rebind()).rejects.toThrow(/closed/);
    // The port is free again: the socket close() knew was the one in use.
    const again = await QuicEndpoint.listen({ host: '127.0.0.1', port });
    endpoints.push(again);
    expect(again.address.port).toBe(port);
  });

  it('a server endpoint refuses to migrate (RFC 9000 §9)', async () => {
    const srv = await server();
    await expect(srv.endpoint.rebind()).rejects.toThrow(/server/);
  });
});

/** Two loop turns: a UDP handle is released in the close phase after its 'close' event. */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}

/** The sockets and timers that keep this process alive now. */
function handles(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return { sockets: info.filter((r) => r === 'UDPWrap').length, timers: info.filter((r) => r === 'Timeout').length };
}

describe('QuicEndpoint.rebind(): the replaced socket drains, then closes (RFC 9000 §9.3)', () => {
  const SMALL = pattern(64 * 1024, 3);

  it('a response the server still sends to the old port after rebind() is delivered', async () => {
    const srv = await server(SMALL);
    const { client, request } = await connectedClient(srv, 10);
    const oldPort = client.address.port;
    // A server that has not seen the client's new address yet: every datagram goes to the old port.
    const router = srv.endpoint.router;
    const transmit = router.transmit.bind(router);
    let toOldPort = 0;
    const redirect = vi.spyOn(router, 'transmit').mockImplementation((now: number) => transmit(now).map((d) => {
      toOldPort++;
      return { ...d, to: { address: d.to.address, port: oldPort } };
    }));
    await client.rebind();
    expect(client.address.port).not.toBe(oldPort);
    // Closed at once, the old socket would lose the response and every retransmission of it.
    const body = await within(request(), 10_000);
    redirect.mockRestore();
    expect(body).not.toBe('timeout');
    expect(sha256(body as Buffer)).toBe(sha256(SMALL));
    expect(toOldPort).toBeGreaterThan(0);
  });

  it('a PATH_CHALLENGE that reaches the old socket is answered through it (RFC 9000 §8.2.2)', async () => {
    const srv = await server(SMALL);
    const { client, request } = await connectedClient(srv, 10);
    const oldPort = client.address.port;
    await client.rebind();
    const old = (client as unknown as { draining: { socket: Socket } }).draining.socket;
    // What leaves through the old socket. Before §8.2.2 was kept, it sent nothing: the answer to the
    // server's check of the old path (RFC 9000 §9.3.3) left from the new socket.
    const sentFromOld: number[] = [];
    const send = old.send.bind(old) as (...args: unknown[]) => void;
    old.send = ((...args: unknown[]) => {
      sentFromOld.push(args[1] as number);
      send(...args);
    }) as typeof old.send;
    // Non-probing packets from the new port move the server, which then challenges the old one.
    expect(sha256(await request())).toBe(sha256(SMALL));
    const deadline = Date.now() + 5_000;
    while (!sentFromOld.includes(srv.endpoint.address.port) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(sentFromOld).toContain(srv.endpoint.address.port);
    expect(srv.conns[0]!.remote.port).toBe(client.address.port); // the server stays on the new path
    expect(client.address.port).not.toBe(oldPort);
  });

  it('the old socket is open during the drain period and closed after it; the connection carries on', async () => {
    const srv = await server(SMALL);
    const { client, request } = await connectedClient(srv, 10);
    const oldPort = client.address.port;
    await client.rebind();
    // Three PTOs of at least max_ack_delay (25 ms) on a clock 10 times slower: 750 ms at least.
    expect(await portFree(oldPort)).toBe(false);
    // Some PTOs more while the server still sends there, never past the cap (30 s on this clock).
    expect(await becomesFree(oldPort, 20_000)).toBe(true);
    expect(sha256(await request())).toBe(sha256(SMALL));
    expect(srv.conns[0]!.remote.port).toBe(client.address.port);
  }, 30_000);

  it('with a real clock the drain ends well within the cap', async () => {
    const srv = await server(SMALL);
    const { client } = await connectedClient(srv);
    const oldPort = client.address.port;
    await client.rebind();
    expect(await becomesFree(oldPort, REBIND_DRAIN_CAP_MS + 2_000)).toBe(true);
  });

  it('the drain goes on while datagrams still arrive on the old port, and ends once they stop', async () => {
    const srv = await server(SMALL);
    const { client, clock } = await connectedClient(srv, 5);
    const oldPort = client.address.port;
    await client.rebind();
    // The end of the three PTOs, as the endpoint computed it from its connection's RTT (read from
    // the private field: the RTT, and so the period, depends on how loaded the machine is).
    const { until, pto } = (client as unknown as { draining: { until: number; pto: number } }).draining;
    // Datagrams every 10 ms to the old port (refused by the router: no connection has their ID).
    const sender = createSocket('udp4');
    const spray = setInterval(() => sender.send(Buffer.alloc(40, 0x40), oldPort, '127.0.0.1'), 10);
    try {
      // Two PTOs past those three, the old port is still held while they arrive.
      while (clock() < until + 2 * pto) await new Promise((r) => setTimeout(r, 20));
      expect(await portFree(oldPort)).toBe(false);
    } finally {
      clearInterval(spray);
    }
    // A PTO without them and it closes, long before the cap (15 s on this clock).
    expect(await becomesFree(oldPort, 10_000)).toBe(true);
    sender.close();
  }, 30_000);

  it('close() during the drain closes the old socket too and leaves no socket or timer behind', async () => {
    await settle(); // the sockets of the tests before, closed by afterEach
    const before = handles();
    const srv = await server(SMALL);
    const { client } = await connectedClient(srv, 10);
    const oldPort = client.address.port;
    await client.rebind();
    const newPort = client.address.port;
    expect(await portFree(oldPort)).toBe(false);
    await client.close(0, '', 200);
    expect(await portFree(oldPort)).toBe(true);
    expect(await portFree(newPort)).toBe(true);
    await srv.endpoint.close(0, '', 200);
    await settle();
    // Sockets exactly; timers at most as many (one of the runner's may have ended meanwhile).
    const after = handles();
    expect(after.sockets).toBe(before.sockets);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });

  it('a second rebind() closes the socket still draining from the first; the one it replaces drains', async () => {
    const srv = await server(SMALL);
    const { client, request } = await connectedClient(srv, 10);
    const first = client.address.port;
    await client.rebind();
    const second = client.address.port;
    expect(await portFree(first)).toBe(false);
    await client.rebind();
    expect(await portFree(first)).toBe(true);
    expect(await portFree(second)).toBe(false);
    expect(sha256(await request())).toBe(sha256(SMALL));
  });

  it('an endpoint without connections closes the old socket at once', async () => {
    const client = await QuicEndpoint.listen({ host: '127.0.0.1' });
    endpoints.push(client);
    const oldPort = client.address.port;
    await client.rebind();
    expect(await portFree(oldPort)).toBe(true);
  });
});
