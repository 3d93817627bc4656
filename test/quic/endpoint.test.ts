/**
 * The endpoint over real UDP sockets on loopback: an h123 client and an h123 server, a transfer
 * with checksum, and the stateless answers a server gives to packets no connection owns.
 */
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../src/quic/connection.js';
import { QuicEndpoint } from '../../src/quic/endpoint.js';
import { QUIC_V1 } from '../../src/quic/version.js';
import { CA, CERT, KEY, pattern, sha256 } from './sim/harness.js';

const endpoints: QuicEndpoint[] = [];
/** IPv6 loopback is absent in some containers: that test says so and skips. */
const hasIPv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.internal));
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

async function server(extra: Partial<Parameters<typeof QuicEndpoint.listen>[0]> = {}): Promise<QuicEndpoint> {
  const writers = new Map<number, { offset: number }>();
  const body = pattern(8 * 1024 * 1024);
  const pump = (conn: Connection, id: number) => {
    const w = writers.get(id)!;
    while (w.offset < body.length) {
      const end = Math.min(w.offset + 64 * 1024, body.length);
      const more = conn.write(id, body.subarray(w.offset, end), end === body.length);
      w.offset = end;
      if (!more) return;
    }
  };
  const ep = await QuicEndpoint.listen({
    host: '127.0.0.1',
    server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
    onEvent(conn, e) {
      if (e.type === 'stream-data' && e.fin) {
        writers.set(e.id, { offset: 0 });
        pump(conn, e.id);
      } else if (e.type === 'writable') pump(conn, e.id);
    },
    ...extra,
  });
  endpoints.push(ep);
  return ep;
}

describe('QUIC endpoint over loopback UDP', () => {
  it('h123 client ↔ h123 server: 8 MB on a stream, checksum intact', async () => {
    const srv = await server();
    const parts: Buffer[] = [];
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let conn!: Connection;
    const client = await QuicEndpoint.listen({
      host: '127.0.0.1',
      onEvent(_c, e: ConnectionEvent) {
        if (e.type === 'handshake-complete') {
          const id = conn.openStream()!;
          conn.write(id, Buffer.from('GET'), true);
        } else if (e.type === 'stream-data') {
          parts.push(Buffer.from(e.data));
          if (e.fin) resolveDone();
        }
      },
    });
    endpoints.push(client);
    conn = client.connect(srv.address, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
    await done;
    const body = Buffer.concat(parts);
    expect(body.length).toBe(8 * 1024 * 1024);
    expect(sha256(body)).toBe(sha256(pattern(8 * 1024 * 1024)));
  }, 30_000);

  it.skipIf(!hasIPv6Loopback)('works over IPv6 (::1) — skipped when the host has no IPv6 loopback', async () => {
    const srv = await server({ host: '::1' });
    let resolveDone!: (alpn: string | null) => void;
    const done = new Promise<string | null>((r) => (resolveDone = r));
    const client = await QuicEndpoint.listen({
      host: '::1',
      onEvent(_c, e) {
        if (e.type === 'handshake-complete') resolveDone(e.alpn);
      },
    });
    endpoints.push(client);
    client.connect(srv.address, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
    expect(await done).toBe('h3');
  });

  it('close() ends every connection gracefully: the peer sees NO_ERROR', async () => {
    const srv = await server();
    let conn!: Connection;
    let resolveOpen!: () => void;
    const open = new Promise<void>((r) => (resolveOpen = r));
    let resolveClosed!: (e: ConnectionEvent) => void;
    const closed = new Promise<ConnectionEvent>((r) => (resolveClosed = r));
    const client = await QuicEndpoint.listen({
      host: '127.0.0.1',
      onEvent(_c, e) {
        if (e.type === 'handshake-complete') resolveOpen();
        if (e.type === 'closed') resolveClosed(e);
      },
    });
    endpoints.push(client);
    conn = client.connect(srv.address, { serverName: 'localhost', alpn: ['h3'], ca: [CA] });
    await open;
    await srv.close(0, 'shutdown', 2000);
    const event = await closed;
    expect(event).toMatchObject({ type: 'closed', error: { code: 0, application: true, reason: 'shutdown', source: 'peer' } });
    expect(conn.state === 'draining' || conn.state === 'closed').toBe(true);
  });

  it('answers an unknown version with Version Negotiation (RFC 9000 §6.1)', async () => {
    const srv = await server();
    const reply = await exchange(srv.address.port, (() => {
      const d = Buffer.alloc(1200);
      d[0] = 0xc0;
      d.writeUInt32BE(0x1a2a3a4a, 1);
      d[5] = 8;
      Buffer.from('0123456789abcdef', 'hex').copy(d, 6);
      d[14] = 4;
      Buffer.from('cafebabe', 'hex').copy(d, 15);
      return d;
    })());
    expect(reply.readUInt32BE(1)).toBe(0);
    expect(reply.subarray(6, 10).toString('hex')).toBe('cafebabe'); // our SCID echoed as DCID
    const versions = [];
    for (let i = 6 + 5 + 8; i + 4 <= reply.length; i += 4) versions.push(reply.readUInt32BE(i));
    expect(versions).toContain(QUIC_V1);
  });

  it('answers a short header for an unknown connection with a smaller stateless reset (RFC 9000 §10.3)', async () => {
    const srv = await server();
    const junk = Buffer.alloc(100, 7);
    junk[0] = 0x41;
    const reply = await exchange(srv.address.port, junk);
    expect(reply.length).toBeLessThan(junk.length);
    expect(reply.length).toBeGreaterThanOrEqual(21);
    expect(reply[0]! & 0xc0).toBe(0x40);
  });

  it('binds to a host name as well as to an address (names still go through dns.lookup)', async () => {
    const ep = await QuicEndpoint.listen({ host: 'localhost', type: 'udp4' });
    endpoints.push(ep);
    expect(ep.address.address).toBe('127.0.0.1');
    expect(ep.address.port).toBeGreaterThan(0);
  });

  it('ignores client Initials in datagrams under 1200 bytes (RFC 9000 §14.1)', async () => {
    const srv = await server();
    const small = Buffer.alloc(300);
    small[0] = 0xc0;
    small.writeUInt32BE(QUIC_V1, 1);
    small[5] = 8;
    await expect(exchange(srv.address.port, small, 150)).rejects.toThrow('no reply');
    expect(srv.router.connections.size).toBe(0);
  });
});

function exchange(port: number, datagram: Buffer, waitMs = 1000): Promise<Buffer> {
  const socket = createSocket('udp4');
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no reply'));
    }, waitMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(datagram, port, '127.0.0.1');
  });
}
