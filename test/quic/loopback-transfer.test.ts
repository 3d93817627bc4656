/**
 * The QUIC transport over real UDP sockets on 127.0.0.1 (RFC 9000 §2–§4 streams and flow control,
 * RFC 9002 recovery and congestion control, with whatever the kernel's loopback does to timing):
 * an h123 client endpoint and an h123 server endpoint on ephemeral ports exchange
 *  - 100 MiB on one stream, server → client, every byte hashed as it is written and as it arrives;
 *  - a few hundred KB echoed on each of 50 concurrent bidirectional streams of one connection
 *    (client → server → client), with the server pausing reads while its send side is full.
 * Both check that what arrived is exactly what was sent (length and SHA-256) and that the
 * connection ended cleanly. Rates are for bench/quic.ts; nothing here is timed.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent } from '../../src/quic/connection.js';
import { QuicEndpoint } from '../../src/quic/endpoint.js';
import { CA, CERT, KEY } from './sim/harness.js';

const BULK_BYTES = 100 * 1024 * 1024;
const BULK_CHUNK = 256 * 1024;
const ECHO_STREAMS = 50;
const ALPN = ['h123-test'];

/** The bulk stream's content: a random block with the chunk's index stamped in, so that a chunk
 *  delivered twice or in the wrong place changes the hash. */
const BLOCK = randomBytes(BULK_CHUNK);
function bulkChunk(index: number, length: number): Buffer {
  const chunk = Buffer.allocUnsafe(length);
  BLOCK.copy(chunk, 0, 0, length);
  chunk.writeUInt32BE(index, 0);
  return chunk;
}

interface BulkSender { index: number; offset: number; total: number; hash: Hash }

/** Server: a stream whose whole request is `BULK <n>` gets n bytes back; any other is echoed. */
class TestServer {
  readonly bulk = new Map<number, BulkSender>();
  /** sha-256 of each bulk stream as written, by stream ID. */
  readonly bulkDigests = new Map<number, string>();
  private readonly requests = new Map<number, Buffer[]>();
  private readonly echo = new Set<number>();
  /** Echo bytes waiting for the send side to drain (the stream's reading is paused meanwhile). */
  private readonly echoBacklog = new Map<number, { data: Buffer; fin: boolean }[]>();

  handle(conn: Connection, e: ConnectionEvent): void {
    if (e.type === 'stream-data') this.onData(conn, e.id, Buffer.from(e.data), e.fin);
    else if (e.type === 'writable') {
      if (this.bulk.has(e.id)) this.pumpBulk(conn, e.id);
      else this.drainEcho(conn, e.id);
    }
  }

  private onData(conn: Connection, id: number, data: Buffer, fin: boolean): void {
    if (this.echo.has(id)) return this.echoData(conn, id, data, fin);
    const parts = this.requests.get(id) ?? [];
    parts.push(data);
    this.requests.set(id, parts);
    const soFar = Buffer.concat(parts);
    if (soFar.length >= 5 && soFar.subarray(0, 5).toString() !== 'BULK ') {
      this.requests.delete(id);
      this.echo.add(id);
      return this.echoData(conn, id, soFar, fin);
    }
    if (!fin) return;
    this.requests.delete(id);
    const total = Number(soFar.subarray(5).toString());
    this.bulk.set(id, { index: 0, offset: 0, total, hash: createHash('sha256') });
    this.pumpBulk(conn, id);
  }

  /** Writes bulk chunks until the stream is over its high-water mark ('writable' resumes it). */
  private pumpBulk(conn: Connection, id: number): void {
    const s = this.bulk.get(id)!;
    while (s.offset < s.total) {
      const chunk = bulkChunk(s.index++, Math.min(BULK_CHUNK, s.total - s.offset));
      s.offset += chunk.length;
      s.hash.update(chunk);
      const last = s.offset === s.total;
      if (last) this.bulkDigests.set(id, s.hash.digest('hex'));
      if (!conn.write(id, chunk, last)) return;
    }
    // Done: forget the stream. Stream IDs start again at 0 on the next connection, and a stale
    // entry would take that connection's 'writable' events away from its echo streams.
    this.bulk.delete(id);
  }

  private echoData(conn: Connection, id: number, data: Buffer, fin: boolean): void {
    const backlog = this.echoBacklog.get(id);
    if (backlog !== undefined) {
      backlog.push({ data, fin });
      return;
    }
    if (!conn.write(id, data, fin) && !fin) {
      // RFC 9000 §4.1: not reading holds the peer back by flow control until we can send again.
      conn.pauseReading(id);
      this.echoBacklog.set(id, []);
    }
  }

  private drainEcho(conn: Connection, id: number): void {
    const backlog = this.echoBacklog.get(id);
    if (backlog === undefined) return;
    this.echoBacklog.delete(id);
    for (const { data, fin } of backlog) conn.write(id, data, fin);
    conn.resumeReading(id);
  }
}

/** What arrived on one stream at the client. */
interface Arrival { bytes: number; hash: Hash; done: boolean }

let server: QuicEndpoint;
let testServer: TestServer;
const clients: QuicEndpoint[] = [];

beforeAll(async () => {
  testServer = new TestServer();
  server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    port: 0,
    server: { certificateChain: [CERT], privateKey: KEY, alpn: ALPN },
    onEvent: (conn, e) => testServer.handle(conn, e),
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close(0, '', 2_000)));
  await server?.close(0, '', 2_000);
});

/**
 * A client endpoint with one connection; `start` runs once the handshake completes and the
 * returned promise settles when every stream in `arrivals` has its fin (or the connection ends).
 */
async function connect(start: (conn: Connection) => void): Promise<{ conn: Connection; arrivals: Map<number, Arrival>; finished: Promise<void> }> {
  const arrivals = new Map<number, Arrival>();
  let settle!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  const client = await QuicEndpoint.listen({
    host: '127.0.0.1',
    port: 0,
    onEvent(conn, e) {
      if (e.type === 'handshake-complete') {
        try {
          start(conn);
        } catch (err) {
          settle(err as Error);
        }
        client.flush();
      } else if (e.type === 'stream-data') {
        const a = arrivals.get(e.id);
        if (a === undefined) return settle(new Error(`data on unexpected stream ${e.id}`));
        a.bytes += e.data.length;
        a.hash.update(e.data);
        if (e.fin) {
          a.done = true;
          if ([...arrivals.values()].every((x) => x.done)) settle();
        }
      } else if (e.type === 'stream-reset') settle(new Error(`stream ${e.id} reset with ${e.code}`));
      else if (e.type === 'closed') settle(new Error(`connection closed: ${JSON.stringify(e.error)}`));
    },
  });
  clients.push(client);
  const conn = client.connect(server.address, { serverName: 'localhost', alpn: ALPN, ca: [CA] });
  return { conn, arrivals, finished };
}

const track = (arrivals: Map<number, Arrival>, id: number): void => {
  arrivals.set(id, { bytes: 0, hash: createHash('sha256'), done: false });
};

describe('QUIC over loopback UDP, h123 client ↔ h123 server', () => {
  it('100 MiB on one stream arrive complete and in order (sha-256 of sent = received)', async () => {
    let bulkId = -1;
    const { conn, arrivals, finished } = await connect((c) => {
      bulkId = c.openStream()!;
      track(arrivals, bulkId);
      c.write(bulkId, Buffer.from(`BULK ${BULK_BYTES}`), true);
    });
    await finished;
    const got = arrivals.get(bulkId)!;
    expect(got.bytes).toBe(BULK_BYTES);
    expect(got.hash.digest('hex')).toBe(testServer.bulkDigests.get(bulkId));
    expect(conn.state).toBe('established');
    expect(conn.stats.bytesReceived).toBeGreaterThan(BULK_BYTES);
  }, 300_000);

  it('50 concurrent streams each echo a few hundred KB intact, both directions (RFC 9000 §2, §4)', async () => {
    const sent = new Map<number, string>();
    const { conn, arrivals, finished } = await connect((c) => {
      for (let i = 0; i < ECHO_STREAMS; i++) {
        const id = c.openStream();
        if (id === null) throw new Error(`stream ${i} refused: the server allows fewer than ${ECHO_STREAMS} concurrent streams`);
        // 'E' first: an echo request; sizes differ so that streams end at different times.
        const body = Buffer.concat([Buffer.from('E'), randomBytes(200_000 + i * 4_099)]);
        sent.set(id, createHash('sha256').update(body).digest('hex'));
        track(arrivals, id);
        // Written at once, over the high-water mark: the connection buffers and sends as credit allows.
        c.write(id, body, true);
      }
    });
    await finished;
    expect(arrivals.size).toBe(ECHO_STREAMS);
    for (const [id, a] of arrivals) expect({ id, hash: a.hash.digest('hex') }).toEqual({ id, hash: sent.get(id) });
    expect(conn.state).toBe('established');
  }, 180_000);
});
