/**
 * A client endpoint with zero-length connection IDs over real UDP sockets on 127.0.0.1 (RFC 9000
 * §5.1, §5.2.1): the server addresses it with an empty Destination Connection ID and the endpoint
 * routes by the server's address — one connection per server address and port on its socket,
 * several servers at once. A server endpoint refuses cidLength 0 (it routes its clients by ID).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../src/quic/connection.js';
import { QuicEndpoint } from '../../src/quic/endpoint.js';
import { CA, CERT, KEY, pattern, sha256 } from './sim/harness.js';

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

const MB = 1024 * 1024;
const BODY = pattern(MB);
const TLS = { serverName: 'localhost', alpn: ['h3'], ca: [CA] };
const SERVER_TLS = { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] };

/** A server that answers a stream's FIN with BODY. */
async function server(): Promise<QuicEndpoint> {
  const offsets = new Map<Connection, Map<number, number>>();
  const pump = (conn: Connection, id: number) => {
    const of = offsets.get(conn)!;
    let offset = of.get(id)!;
    while (offset < BODY.length) {
      const end = Math.min(offset + 64 * 1024, BODY.length);
      const more = conn.write(id, BODY.subarray(offset, end), end === BODY.length);
      offset = end;
      if (!more) break;
    }
    of.set(id, offset);
  };
  const endpoint = await QuicEndpoint.listen({
    host: '127.0.0.1',
    server: SERVER_TLS,
    onConnection: (conn) => offsets.set(conn, new Map()),
    onEvent(conn, e) {
      if (e.type === 'stream-data' && e.fin) {
        offsets.get(conn)!.set(e.id, 0);
        pump(conn, e.id);
      } else if (e.type === 'writable') pump(conn, e.id);
    },
  });
  endpoints.push(endpoint);
  return endpoint;
}

/** A client endpoint with cidLength 0 that downloads BODY once per connection; `onData` sees progress. */
async function client(onData?: (endpoint: QuicEndpoint, received: number) => void) {
  const bodies = new Map<Connection, Buffer[]>();
  const finished = new Map<Connection, () => void>();
  const endpoint: QuicEndpoint = await QuicEndpoint.listen({
    host: '127.0.0.1',
    cidLength: 0,
    onEvent(conn, e: ConnectionEvent) {
      if (e.type === 'handshake-complete') conn.write(conn.openStream()!, Buffer.from('GET'), true);
      if (e.type === 'stream-data') {
        const parts = bodies.get(conn)!;
        parts.push(Buffer.from(e.data));
        onData?.(endpoint, parts.reduce((n, p) => n + p.length, 0));
        if (e.fin) finished.get(conn)?.();
      }
    },
  });
  endpoints.push(endpoint);
  const download = (to: QuicEndpoint): { conn: Connection; body: Promise<Buffer> } => {
    const conn = endpoint.connect(to.address, TLS);
    bodies.set(conn, []);
    const body = new Promise<Buffer>((resolve) => finished.set(conn, () => resolve(Buffer.concat(bodies.get(conn)!))));
    return { conn, body };
  };
  return { endpoint, download };
}

describe('a client endpoint with zero-length connection IDs (RFC 9000 §5.1, §5.2.1)', () => {
  it('downloads 1 MB from our server, whose packets to it carry an empty DCID', async () => {
    const srv = await server();
    const cli = await client();
    const { conn, body } = cli.download(srv);
    expect(sha256(await body)).toBe(sha256(BODY));
    expect(conn.state).toBe('established');
    // Nothing arrived that the endpoint could not route or the connection could not open.
    expect(cli.endpoint.router.dropped).toBe(0);
    expect(conn.stats.packetsDropped).toBe(0);
    const [serverConn] = srv.router.connections;
    expect(serverConn!.remote.port).toBe(cli.endpoint.address.port);
  });

  it('talks to two servers at once from one socket, and refuses a second connection to the same one', async () => {
    const [a, b] = [await server(), await server()];
    const cli = await client();
    const first = cli.download(a);
    expect(() => cli.endpoint.connect(a.address, TLS)).toThrow(/RFC 9000 §5\.1/);
    expect(() => cli.endpoint.connect({ address: 'localhost', port: a.address.port }, TLS)).toThrow(/not an IP address/);
    const second = cli.download(b);
    const [bodyA, bodyB] = await Promise.all([first.body, second.body]);
    expect(sha256(bodyA)).toBe(sha256(BODY));
    expect(sha256(bodyB)).toBe(sha256(BODY));
    expect(cli.endpoint.router.dropped).toBe(0);
  });

  it('keeps routing by the server\'s address after rebind() moves it to a new socket (RFC 9000 §9.2)', async () => {
    const srv = await server();
    let rebound: Promise<void> | undefined;
    const cli = await client((endpoint, received) => {
      if (rebound === undefined && received >= BODY.length / 4) rebound = endpoint.rebind();
    });
    const before = cli.endpoint.address.port;
    const { body } = cli.download(srv);
    expect(sha256(await body)).toBe(sha256(BODY));
    await rebound;
    expect(cli.endpoint.address.port).not.toBe(before);
    const [serverConn] = srv.router.connections;
    expect(serverConn!.remote.port).toBe(cli.endpoint.address.port);
  });
});

describe('a server endpoint refuses zero-length connection IDs', () => {
  it('listen() rejects with the reason and leaves the port free', async () => {
    const probe = await QuicEndpoint.listen({ host: '127.0.0.1' });
    const port = probe.address.port;
    await probe.close(0, '', 100);
    await expect(QuicEndpoint.listen({ host: '127.0.0.1', port, cidLength: 0, server: SERVER_TLS })).rejects.toThrow(/tells its clients apart by the connection IDs/);
    const again = await QuicEndpoint.listen({ host: '127.0.0.1', port, server: SERVER_TLS });
    endpoints.push(again);
    expect(again.address.port).toBe(port);
  });
});
