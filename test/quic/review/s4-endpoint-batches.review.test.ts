/**
 * Review of the receiver's batch at the endpoint (issue 5, commits 9693038, f96b41f) over real UDP
 * on loopback: the batch lives in one module-level object (connection/receive-lookahead.ts) that
 * every endpoint of the process shares, and a connection computes the header protection masks of
 * the later datagrams of a batch with its DCID (RFC 9001 §5.4). Three downloads at once — two
 * connections on one client endpoint (one socket, so one batch holds datagrams of both, DCIDs of
 * the same length) and one on a second client endpoint, all from one server endpoint — must each
 * arrive byte for byte.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../../src/quic/connection.js';
import { QuicEndpoint } from '../../../src/quic/endpoint.js';
import { CA, CERT, KEY, pattern, sha256 } from '../sim/harness.js';

const BODY = pattern(1024 * 1024);
const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

/** A server that answers any finished request stream with BODY. */
async function server(): Promise<QuicEndpoint> {
  const offsets = new Map<Connection, Map<number, number>>();
  const pump = (conn: Connection, id: number) => {
    const byStream = offsets.get(conn)!;
    let offset = byStream.get(id)!;
    while (offset < BODY.length) {
      const end = Math.min(offset + 64 * 1024, BODY.length);
      const more = conn.write(id, BODY.subarray(offset, end), end === BODY.length);
      offset = end;
      if (!more) break;
    }
    byStream.set(id, offset);
  };
  const ep = await QuicEndpoint.listen({
    host: '127.0.0.1',
    server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
    onEvent(conn, e) {
      if (e.type === 'stream-data' && e.fin) {
        if (!offsets.has(conn)) offsets.set(conn, new Map());
        offsets.get(conn)!.set(e.id, 0);
        pump(conn, e.id);
      } else if (e.type === 'writable' && offsets.get(conn)?.has(e.id)) pump(conn, e.id);
    },
  });
  endpoints.push(ep);
  return ep;
}

/** A client endpoint; each connection it opens asks for BODY once and collects the answer. */
async function client() {
  const parts = new Map<Connection, Buffer[]>();
  const finish = new Map<Connection, (b: Buffer) => void>();
  const bodies = new Map<Connection, Promise<Buffer>>();
  const ep = await QuicEndpoint.listen({
    host: '127.0.0.1',
    onEvent(conn, e: ConnectionEvent) {
      if (e.type === 'handshake-complete') {
        const id = conn.openStream()!;
        conn.write(id, Buffer.from('GET'), true);
      } else if (e.type === 'stream-data') {
        parts.get(conn)!.push(Buffer.from(e.data));
        if (e.fin) finish.get(conn)!(Buffer.concat(parts.get(conn)!));
      }
    },
  });
  endpoints.push(ep);
  // Events come at the endpoint's next pump, never inside connect(): tracking after it is in time.
  const open = (remote: QuicEndpoint['address'], tls: Parameters<QuicEndpoint['connect']>[1]) => {
    const conn = ep.connect(remote, tls);
    parts.set(conn, []);
    bodies.set(conn, new Promise((resolve) => finish.set(conn, resolve)));
  };
  return { open, bodies };
}

describe('endpoints sharing the receive lookahead', () => {
  it('three downloads at once, two on one socket, each byte for byte', async () => {
    const srv = await server();
    const a = await client();
    const b = await client();
    const tls = { serverName: 'localhost', alpn: ['h3'], ca: [CA] };
    a.open(srv.address, tls);
    a.open(srv.address, tls);
    b.open(srv.address, tls);
    const bodies = await Promise.all([...a.bodies.values(), ...b.bodies.values()]);
    expect(bodies).toHaveLength(3);
    for (const body of bodies) {
      expect(body.length).toBe(BODY.length);
      expect(sha256(body)).toBe(sha256(BODY));
    }
  }, 30_000);
});
