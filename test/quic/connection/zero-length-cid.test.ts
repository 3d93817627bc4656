/**
 * Zero-length connection IDs at the level of the connection, in memory with a fake clock
 * (RFC 9000 §5.1, §5.1.1, §5.2, §7.2, §7.3, §9.5, §10.3, §19.15, §19.16):
 *  - a client that sends a zero-length Source Connection ID (our client router with cidLength 0)
 *    against our server: handshake, 1 MB with its checksum, Retry, NAT rebinding, its own
 *    migration, a stateless reset, and the frames it must not send or receive;
 *  - a server that chose a zero-length ID (a Connection built directly, sim/zero-length-server-pair)
 *    against our client: handshake, 1 MB, no migration, NEW_CONNECTION_ID refused;
 *  - the routers' rules: a server refuses cidLength 0, a client routes by the server's address.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionEvent, QlogEvent } from '../../../src/quic/connection.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { CA, CERT, KEY, Pair, pattern, seededBytes, SERVER_ADDR, sha256, START, StreamSink, StreamWriter } from '../sim/harness.js';
import { ZeroLengthServerPair } from '../sim/zero-length-server-pair.js';

const MB = 1024 * 1024;
const TLS = { serverName: 'localhost', alpn: ['h3'], ca: [CA] };

/** The connection's private connection-ID state, to make it send what a conforming peer never would. */
interface CidInternals {
  localCids: { active: Map<number, { sequence: number; cid: Buffer; resetToken: Buffer }> };
  pendingNewCids: number[];
  pendingRetireCids: number[];
  peerCids: { dcid: Buffer };
}
const internals = (conn: Connection) => conn as unknown as CidInternals;

/** Frame types in the packets a qlog shows sent. */
function framesSent(log: QlogEvent[]): string[] {
  return log.filter((e) => e.name === 'transport:packet_sent').flatMap((e) => (e.data['frames'] as string[] | undefined) ?? []);
}

/** A pair whose client uses zero-length connection IDs, with both qlogs. */
function zeroLengthClientPair(options: { retry?: boolean; seed?: number } = {}) {
  const clientLog: QlogEvent[] = [];
  const serverLog: QlogEvent[] = [];
  const pair = new Pair({
    seed: options.seed,
    client: { cidLength: 0, qlog: () => (e) => clientLog.push(e) },
    server: { retry: options.retry },
    serverRouter: { qlog: () => (e) => serverLog.push(e) },
  });
  return { pair, clientLog, serverLog };
}

/**
 * The client asks for `size` bytes of the pattern on a new stream and the server writes them;
 * `midway` runs once when a quarter has arrived. Works for either pair.
 */
function download(
  pair: { client: Connection; server: Connection | undefined; run(done: () => boolean, maxMs?: number): boolean; onServerEvent: (e: ConnectionEvent) => void; onClientEvent: (e: ConnectionEvent) => void },
  size: number,
  midway?: () => void,
): Buffer | undefined {
  const writers = new Map<number, StreamWriter>();
  const sink = new StreamSink();
  const body = pattern(size);
  let quarter = midway;
  pair.onServerEvent = (e) => {
    if (e.type === 'stream-data' && e.fin) {
      const w = new StreamWriter(pair.server!, e.id, body);
      writers.set(e.id, w);
      w.pump();
    } else if (e.type === 'writable') writers.get(e.id)?.pump();
  };
  const id = pair.client.openStream()!;
  pair.onClientEvent = (e) => {
    sink.onEvent(e);
    if (quarter !== undefined && sink.data(id).length >= size / 4) {
      quarter();
      quarter = undefined;
    }
  };
  pair.client.write(id, Buffer.from(`GET ${size}`), true);
  return pair.run(() => sink.finished.has(id), 120_000) ? sink.data(id) : undefined;
}

function closedEvent(events: ConnectionEvent[]) {
  return events.find((e): e is Extract<ConnectionEvent, { type: 'closed' }> => e.type === 'closed')?.error;
}

describe('a client with a zero-length Source Connection ID, against our server (RFC 9000 §5.1, §5.1.1)', () => {
  it('completes the handshake and a 1 MB download; the server addresses every packet with an empty DCID', () => {
    const { pair, clientLog, serverLog } = zeroLengthClientPair();
    expect(pair.handshake()).toBe(true);
    const data = download(pair, MB);
    expect(data && sha256(data)).toBe(sha256(pattern(MB)));
    // §5.1.1: "A zero-length Destination Connection ID field is used in all packets sent toward
    // such an endpoint". Long headers show it; a short header with any other DCID would not open
    // at the client (its bytes would be read as the packet number and payload).
    const long = pair.serverSent.filter((d) => (d.data[0]! & 0x80) !== 0);
    expect(long.length).toBeGreaterThan(0);
    for (const d of long) expect(d.data[5]).toBe(0);
    expect(pair.client.stats.packetsDropped).toBe(0);
    expect(pair.clientRouter.dropped).toBe(0);
    // The server still gives the client IDs to send to (§5.1.1: the client uses them); the client
    // announces none (it has only its empty one) and neither side retires anything (§19.16).
    expect(framesSent(serverLog)).toContain('new_connection_id');
    expect(framesSent(clientLog)).not.toContain('new_connection_id');
    expect(framesSent(serverLog)).not.toContain('retire_connection_id');
    expect(pair.client.state).toBe('established');
    expect(pair.server!.state).toBe('established');
  });

  it('completes the handshake after a Retry addressed to its empty ID (RFC 9000 §17.2.5, §7.3)', () => {
    const { pair } = zeroLengthClientPair({ retry: true });
    expect(pair.handshake()).toBe(true);
    const retry = pair.serverSent[0]!.data;
    expect(retry[0]! & 0xf0).toBe(0xf0); // long header, type Retry (RFC 9000 §17.2.5)
    expect(retry[5]).toBe(0); // DCID = the client's empty SCID
  });

  it('a NEW_CONNECTION_ID from it is a PROTOCOL_VIOLATION (RFC 9000 §19.15)', () => {
    const { pair } = zeroLengthClientPair();
    expect(pair.handshake()).toBe(true);
    // A conforming client cannot send one (§5.1.1); this one is made to.
    const client = internals(pair.client);
    client.localCids.active.set(1, { sequence: 1, cid: Buffer.alloc(8, 0x11), resetToken: Buffer.alloc(16, 0x22) });
    client.pendingNewCids.push(1);
    pair.client.write(pair.client.openStream()!, Buffer.from('wake'), false);
    expect(pair.run(() => pair.server!.state !== 'established', 5_000)).toBe(true);
    const error = closedEvent(pair.serverEvents);
    expect(error).toMatchObject({ code: TransportErrorCode.PROTOCOL_VIOLATION, frameType: 0x18, source: 'local' });
    expect(pair.run(() => pair.client.state === 'draining' || pair.client.state === 'closed', 5_000)).toBe(true);
    expect(closedEvent(pair.clientEvents)).toMatchObject({ code: TransportErrorCode.PROTOCOL_VIOLATION, source: 'peer' });
  });

  it('a RETIRE_CONNECTION_ID sent to it is a PROTOCOL_VIOLATION there (RFC 9000 §19.16)', () => {
    const { pair } = zeroLengthClientPair();
    expect(pair.handshake()).toBe(true);
    internals(pair.server!).pendingRetireCids.push(0); // our server cannot send this on its own
    pair.server!.write(pair.server!.openStream()!, Buffer.from('wake'), false);
    expect(pair.run(() => pair.client.state !== 'established', 5_000)).toBe(true);
    expect(closedEvent(pair.clientEvents)).toMatchObject({ code: TransportErrorCode.PROTOCOL_VIOLATION, frameType: 0x19, source: 'local' });
  });

  for (const change of ['port', 'address'] as const) {
    it(`a NAT rebinding (new ${change}) mid-download: the server validates the new path and keeps the empty DCID (RFC 9000 §9.3, §9.5, §5.1.1)`, () => {
      const { pair, serverLog } = zeroLengthClientPair();
      expect(pair.handshake()).toBe(true);
      const moved = change === 'port' ? { address: pair.clientAddr.address, port: 50001 } : { address: '10.0.0.66', port: 50000 };
      const data = download(pair, MB, () => {
        pair.clientAliases.push(pair.clientAddr); // the NAT still delivers to the old binding
        pair.clientAddr = moved;
      });
      expect(data && sha256(data)).toBe(sha256(pattern(MB)));
      expect(pair.server!.remote).toEqual(moved);
      // §9.3: the new path was validated; §9.3.3: the old one was checked too.
      const validated = serverLog.filter((e) => e.name === 'connectivity:path_validated').map((e) => e.data['remote']);
      expect(validated).toContainEqual(moved);
      // §5.1.1, §9.5: no other ID exists for the client, so the empty one goes on every path (a
      // short header with another DCID would not open at the client), and nothing is retired.
      expect(internals(pair.server!).peerCids.dcid.length).toBe(0);
      expect(pair.client.stats.packetsDropped).toBe(0);
      expect(framesSent(serverLog)).not.toContain('retire_connection_id');
    });
  }

  it('may itself migrate (RFC 9000 §9.5 advises against migrating toward a zero-length peer, and our server is not one)', () => {
    const { pair, clientLog } = zeroLengthClientPair();
    expect(pair.handshake()).toBe(true);
    expect(pair.run(() => pair.client.canMigrate, 5_000)).toBe(true); // once the handshake is confirmed (§9)
    const moved = { address: '10.0.0.9', port: 40000 };
    const data = download(pair, MB, () => {
      pair.clientAliases.push(pair.clientAddr);
      pair.clientAddr = moved;
      pair.client.migrate();
    });
    expect(data && sha256(data)).toBe(sha256(pattern(MB)));
    expect(pair.server!.remote).toEqual(moved);
    // §9.5: a fresh server ID on the new path, and the old one retired.
    expect(framesSent(clientLog)).toContain('path_challenge');
    expect(framesSent(clientLog)).toContain('retire_connection_id');
  });

  it('a stateless reset from the server that lost the connection ends it; one from elsewhere is dropped unread (RFC 9000 §10.3, §5.2.1)', () => {
    const { pair } = zeroLengthClientPair();
    expect(pair.handshake()).toBe(true);
    expect(pair.run(() => pair.client.canMigrate, 5_000)).toBe(true);
    // The server loses its state: a new router with the same static keys (same random source).
    pair.serverRouter = new ConnectionRouter({ random: seededBytes('server-1'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } });
    pair.client.write(pair.client.openStream()!, Buffer.from('anyone there?'), true);
    pair.flush();
    pair.step(); // the stream data reaches the new server, which answers with a stateless reset
    const resets = pair.serverRouter.transmit(pair.now);
    expect(resets.length).toBeGreaterThan(0);
    const reset = resets[0]!.data;
    expect(reset[0]! & 0xc0).toBe(0x40);
    // From another address the same bytes route to no connection (a zero-length DCID is matched
    // by address, §5.2.1): dropped, and the connection is untouched.
    const dropped = pair.clientRouter.dropped;
    pair.clientRouter.receive(reset, { address: '10.0.0.3', port: 443 }, pair.now);
    expect(pair.clientRouter.dropped).toBe(dropped + 1);
    expect(pair.client.state).toBe('established');
    // From the server's address it reaches the connection, whose token it carries (§10.3.1).
    pair.clientRouter.receive(reset, SERVER_ADDR, pair.now);
    expect(pair.client.state === 'draining' || pair.client.state === 'closed').toBe(true);
    pair.pollEvents();
    expect(closedEvent(pair.clientEvents)).toMatchObject({ source: 'reset' });
  });
});

describe('a server that chose a zero-length connection ID, against our client (RFC 9000 §5.1.1, §7.2, §9.5)', () => {
  it('completes the handshake and a 1 MB download; the client addresses it with an empty DCID', () => {
    const pair = new ZeroLengthServerPair();
    expect(pair.handshake()).toBe(true);
    const data = download(pair, MB);
    expect(data && sha256(data)).toBe(sha256(pattern(MB)));
    // §7.2: the first Initial has a random 8-byte DCID; once the server's empty SCID arrived, every
    // long header has an empty DCID, and the server (reading 0-byte DCIDs) opened every packet.
    expect(pair.clientSent[0]![5]).toBe(8);
    const lastLong = pair.clientSent.filter((d) => (d[0]! & 0x80) !== 0).at(-1)!;
    expect(lastLong[5]).toBe(0);
    expect(pair.server!.stats.packetsDropped).toBe(0);
    expect(pair.client.stats.packetsDropped).toBe(0);
    expect(framesSent(pair.clientLog)).not.toContain('retire_connection_id'); // §19.16
  });

  it('the client does not migrate toward it (RFC 9000 §9.5 SHOULD NOT): canMigrate is false, migrate() sends no PATH_CHALLENGE', () => {
    const pair = new ZeroLengthServerPair();
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 1_000); // the handshake is confirmed by now
    expect(pair.client.canMigrate).toBe(false);
    pair.client.migrate();
    const data = download(pair, 64 * 1024);
    expect(data?.length).toBe(64 * 1024);
    expect(framesSent(pair.clientLog)).not.toContain('path_challenge');
  });

  it('a NEW_CONNECTION_ID from it is a PROTOCOL_VIOLATION (RFC 9000 §19.15)', () => {
    const pair = new ZeroLengthServerPair();
    expect(pair.handshake()).toBe(true);
    const server = internals(pair.server!);
    server.localCids.active.set(1, { sequence: 1, cid: Buffer.alloc(8, 0x33), resetToken: Buffer.alloc(16, 0x44) });
    server.pendingNewCids.push(1);
    pair.server!.write(pair.server!.openStream()!, Buffer.from('wake'), false);
    expect(pair.run(() => pair.client.state !== 'established', 5_000)).toBe(true);
    expect(closedEvent(pair.clientEvents)).toMatchObject({ code: TransportErrorCode.PROTOCOL_VIOLATION, frameType: 0x18, source: 'local' });
  });
});

describe('routers and zero-length connection IDs (RFC 9000 §5.1, §5.2)', () => {
  it('a server router refuses cidLength 0 and says why', () => {
    expect(() => new ConnectionRouter({ cidLength: 0, server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } })).toThrow(/tells its clients apart by the connection IDs/);
    for (const cidLength of [21, -1, 1.5, Number.NaN]) expect(() => new ConnectionRouter({ cidLength })).toThrow(RangeError);
  });

  it('a client router with cidLength 0 takes one connection per server address and port, IP literals only (§5.1, §5.2.1)', () => {
    const router = new ConnectionRouter({ cidLength: 0, random: seededBytes('zl-router') });
    const first = router.connect(SERVER_ADDR, TLS, START);
    expect(() => router.connect({ ...SERVER_ADDR }, TLS, START)).toThrow(/RFC 9000 §5\.1/);
    expect(() => router.connect({ address: `::ffff:${SERVER_ADDR.address}`, port: SERVER_ADDR.port }, TLS, START)).toThrow(/RFC 9000 §5\.1/);
    expect(() => router.connect({ address: 'localhost', port: 443 }, TLS, START)).toThrow(/not an IP address/);
    expect(router.connections.size).toBe(1);
    router.connect({ address: SERVER_ADDR.address, port: 8443 }, TLS, START);
    router.connect({ address: '10.0.0.3', port: SERVER_ADDR.port }, TLS, START);
    expect(router.connections.size).toBe(3);
    // Once the first is closed, its server address is free again.
    first.close(0, 'done');
    expect(() => router.connect(SERVER_ADDR, TLS, START)).toThrow(/RFC 9000 §5\.1/); // closing still holds it
    let now = START;
    for (let i = 0; i < 100 && first.state !== 'closed'; i++) {
      router.transmit(now);
      now = Math.max(now, first.nextTimeout() ?? now + 1000);
      router.handleTimeout(now);
    }
    expect(first.state).toBe('closed');
    expect(() => router.connect(SERVER_ADDR, TLS, now)).not.toThrow();
  });

  it('a zero-length client reconnects to a server that closed it while the old connection drains (RFC 9000 §10.2.2)', () => {
    const { pair } = zeroLengthClientPair();
    expect(pair.handshake()).toBe(true);
    pair.server!.close(0, 'bye');
    expect(pair.run(() => pair.client.state === 'draining', 5_000)).toBe(true);
    // The draining connection sends nothing and takes nothing: the server address is free again.
    const second = pair.clientRouter.connect(SERVER_ADDR, TLS, pair.now);
    expect(pair.run(() => second.isHandshakeComplete, 5_000)).toBe(true);
    expect(pair.client.state === 'draining' || pair.client.state === 'closed').toBe(true);
    expect(pair.run(() => pair.client.state === 'closed', 10_000)).toBe(true);
    expect(second.state).toBe('established');
  });

  it('a client router with cidLength 0 drops long headers with a non-empty DCID and anything from unknown addresses', () => {
    const router = new ConnectionRouter({ cidLength: 0, random: seededBytes('zl-router-2') });
    const conn = router.connect(SERVER_ADDR, TLS, START);
    const [initial] = router.transmit(START);
    // Our own Initial, reflected: its DCID is 8 bytes, which no connection of this router uses.
    router.receive(initial!.data, SERVER_ADDR, START);
    expect(router.dropped).toBe(1);
    router.receive(Buffer.from([0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]), { address: '10.0.0.3', port: 443 }, START);
    expect(router.dropped).toBe(2);
    expect(conn.state).toBe('handshake');
  });

  it('random datagrams to a cidLength 0 client router never throw; from an unknown address each is dropped (property)', () => {
    const router = new ConnectionRouter({ cidLength: 0, random: seededBytes('zl-router-3') });
    const conn = router.connect(SERVER_ADDR, TLS, START);
    router.transmit(START);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 1500 }), fc.boolean(), (bytes, fromServer) => {
        const dropped = router.dropped;
        const taken = router.receive(Buffer.from(bytes), fromServer ? SERVER_ADDR : { address: '10.0.0.3', port: 443 }, START);
        if (!fromServer) {
          expect(taken).toBeUndefined();
          expect(router.dropped).toBe(dropped + 1);
        }
      }),
      { numRuns: 300 },
    );
    expect(conn.state).toBe('handshake'); // nothing random opened with its keys
  });
});
