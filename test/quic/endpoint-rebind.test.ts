/**
 * Client connection migration over real UDP sockets (RFC 9000 §9.2): QuicEndpoint.rebind() moves a
 * client's connections to a new local socket in the middle of a download; the server validates the
 * new path and sends the rest there, every byte once and in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../src/quic/connection.js';
import { QuicEndpoint } from '../../src/quic/endpoint.js';
import { CA, CERT, KEY, pattern, sha256 } from './sim/harness.js';

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

const BODY = pattern(4 * 1024 * 1024);

/** A server that answers a stream's FIN with BODY, and lists its connections. */
async function server(): Promise<{ endpoint: QuicEndpoint; conns: Connection[] }> {
  const conns: Connection[] = [];
  const offsets = new Map<number, number>();
  const pump = (conn: Connection, id: number) => {
    let offset = offsets.get(id)!;
    while (offset < BODY.length) {
      const end = Math.min(offset + 64 * 1024, BODY.length);
      const more = conn.write(id, BODY.subarray(offset, end), end === BODY.length);
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
