/**
 * `npm run bench -- quic`: the QUIC transport (RFC 9000/9001/9002) over loopback UDP. For the bulk
 * transfers the h123 server runs in a child process (`node quic.js --serve <certDir>`) and the h123
 * client in this one, so each end has a core, as in a real transfer and as ngtcp2's two processes
 * have; the CPU time of each end is measured by its own process.cpuUsage().
 *
 *  1. Wall-clock goodput of one stream (BULK_BYTES, server → client) with the default 1,452-byte
 *     maximum datagram size, after 200 MB of warm-up transfers in the same processes, next to the packet-protection ceiling of one core measured in the same
 *     run: AES-128-GCM seal+open of full-size packets per CPU-second, counted in payload bytes.
 *     Target: goodput ≥ 60% of the ceiling. CPU ns per byte of the sender, the receiver and both.
 *  2. The same transfer with a 65,527-byte maximum (max_udp_payload_size, RFC 9000 §18.2; DPLPMTUD,
 *     §14.3, settles on what loopback carries). Target ≥ 3× the default.
 *  3. Full 1-RTT handshakes per second (RFC 9001 §4), sequential and some concurrent. Target ≥ 1,000/s.
 *     The server is the bulk server's process, which has served the transfers above and plays no
 *     other role, as a deployed server; the client runs in a child of its own (`node quic.js
 *     --handshake-client …`), so each end's CPU ms per handshake is measured apart. The figure with
 *     both ends in this process follows, labelled. Each process first runs WARM_UP_HANDSHAKES, so
 *     that the figures are a long-running server's. In the headline sets the client closes as its
 *     handshake completes, as a load generator does: its Finished and its CONNECTION_CLOSE leave in
 *     one datagram, and the server counts each handshake it completed. In the set of earlier
 *     sessions the server closes instead, which costs it one more datagram to send and the client
 *     one more to receive. Where ngtcp2 is installed the same client also runs against its
 *     gtlsserver: with a native server, how many handshakes this client can make on this machine.
 *  4. ngtcp2 (gtlsclient ← gtlsserver, a static file) on the same loopback, the native reference,
 *     with the CPU both of its processes used per byte.
 *
 * Wall-clock rates depend on what else the machine runs; per-CPU-second rates are steadier, so both
 * are printed. Run alone: npx tsc -p . && node dist/bench/quic.js
 */
import { fork, spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadOrCreateDevCertificate, type DevCertificate } from '../src/cert/dev-cert.js';
import type { Connection } from '../src/quic/connection.js';
import { QuicEndpoint } from '../src/quic/endpoint.js';
import { findProgram, freePort, ratio, table } from './lib.js';

const BULK_BYTES = Number(process.env.QUIC_BENCH_BYTES ?? 200_000_000);
const DEFAULT_DATAGRAM = 1452;
const JUMBO_DATAGRAM = 65_527;
const SEQUENTIAL_HANDSHAKES = 600;
const CONCURRENT_HANDSHAKES = 2_000;
const CONCURRENCY = 20;
/** The sets each pair of processes measures, in this order, after one warm-up. */
const HANDSHAKE_SETS: readonly HandshakeSet[] = [
  { count: SEQUENTIAL_HANDSHAKES, concurrency: 1, closer: 'client' },
  { count: CONCURRENT_HANDSHAKES, concurrency: CONCURRENCY, closer: 'client' },
  { count: CONCURRENT_HANDSHAKES, concurrency: CONCURRENCY, closer: 'server' },
];
/**
 * Handshakes that each process runs before the measured sets, 20 at a time, so that what is
 * measured is a long-running server's steady state and not V8's warm-up. A fresh process needs
 * thousands: over UDP, client in a child, in batches of 1,000 the rate went 281, 433, 501, 705,
 * 810, 764, 857, 844, 794, 815, 802, 714, 770, 823, 762, 726/s (server CPU per handshake 3.1, 2.0,
 * 1.7, 1.2, then 0.93-1.19 ms). TurboFan kept compiling all along: --trace-opt counted 316, 168,
 * 172, 69, 64, 47, 23, 13, 8, 4, 2 ... optimizations per 500 server handshakes, with "wrong map"
 * deoptimizations (fields generalized by paths seen for the first time) until about 3,500, and
 * the compiler threads used ~0.17 ms of CPU per handshake at 2,000-4,000 (earlier runs of this
 * bench warmed up 2,000 and measured that). A warm-up at concurrency 1 would take minutes, and
 * the code paths are the same ones.
 */
const WARM_UP_HANDSHAKES = 6_000;
const WARM_UP_CONCURRENCY = 20;
/**
 * Bulk transfers run before the measured one, in the same two processes. Both ends keep getting
 * cheaper per byte for the first 150-200 MB that a process moves: V8 is still optimizing and
 * re-optimizing the per-packet functions (--trace-opt counts 500, 92, 96, 40, 14, 18 compilations
 * in six successive 30 MB transfers), and the receiver went 48 -> 31 ns of CPU per byte over eight.
 * A long-running server lives in the settled state, so that is what is measured; the warm-up's
 * first and last rates are printed with the result.
 */
const WARM_UP_TRANSFERS = 8;
const WARM_UP_TRANSFER_BYTES = 25_000_000;
/** A 1-RTT packet: 1-byte flags, 8-byte DCID, 2-byte packet number; a STREAM frame header of ~10. */
const SHORT_HEADER = 11;
const STREAM_FRAME_OVERHEAD = 10;
const TAG = 16;
/** One chunk written again and again: the sender's source costs nothing. */
const CHUNK = randomBytes(256 * 1024);

const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

// ==== The packet-protection ceiling ==============================================================

/**
 * CPU-seconds of each ceiling measurement. This machine's speed drifts from second to second: the
 * same loop measured in twelve successive 1-second windows of one process gave 348 to 649 Mbit/s
 * (ninth session), while a 200 MB transfer averages over six seconds or more. With 1-second
 * windows the ceiling of one run came out at 552 Mbit/s against 402 and 453 in the runs around it.
 */
const CEILING_SECONDS = 3;

/**
 * Stream payload bytes per CPU-second that one core can seal and open in packets of `datagram`
 * bytes with bare node:crypto AES-128-GCM (a cipher object per packet, as RFC 9001 §5.3 needs a
 * fresh nonce per packet): what a transfer would reach if protection were the only work.
 */
function protectionCeiling(datagram: number, seconds = CEILING_SECONDS): number {
  const key = createSecretKey(randomBytes(16));
  const iv = randomBytes(12);
  const header = randomBytes(SHORT_HEADER);
  const payload = randomBytes(datagram - SHORT_HEADER - TAG);
  const options = { authTagLength: 16 } as const;
  const sealOpen = (): void => {
    const cipher = createCipheriv('aes-128-gcm', key, iv, options);
    cipher.setAAD(header);
    const sealed = cipher.update(payload);
    cipher.final();
    const decipher = createDecipheriv('aes-128-gcm', key, iv, options);
    decipher.setAAD(header);
    decipher.setAuthTag(cipher.getAuthTag());
    decipher.update(sealed);
    decipher.final();
  };
  for (let i = 0; i < 500; i++) sealOpen(); // warm up
  let packets = 0;
  const start = cpuSeconds();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let i = 0; i < 50; i++) sealOpen();
    packets += 50;
    elapsed = cpuSeconds() - start;
  }
  return (packets * (datagram - SHORT_HEADER - TAG - STREAM_FRAME_OVERHEAD)) / elapsed;
}

// ==== Bulk transfer ==============================================================================

/** One end's share of a transfer: CPU seconds it used. */
export interface TransferResult {
  bytes: number;
  seconds: number;
  /** CPU seconds of the receiving client (this process) and of the sending server (the child). */
  clientCpuSeconds: number;
  serverCpuSeconds: number;
  /** The datagram size DPLPMTUD settled on (RFC 9000 §14.3). */
  datagramSize: number;
  datagrams: number;
  /** Datagrams the server received: the client's ACKs (RFC 9000 §13.2). */
  acks: number;
  lost: number;
}

/** The application protocol of the bench's own client and servers. */
const BENCH_ALPN = 'bench';

function clientTls(cert: DevCertificate) {
  return { serverName: 'localhost', alpn: [BENCH_ALPN], ca: [cert.caCertPem] };
}

function serverTls(cert: DevCertificate) {
  return { certificateChain: [cert.certPem], privateKey: cert.keyPem, alpn: [BENCH_ALPN] };
}

/** Messages between this process and the bulk server child (over the fork IPC channel). */
type ToServer = { type: 'stats' } | { type: 'exit' };
type FromServer =
  | { type: 'ready'; ports: Record<string, number>; handshakePort: number }
  | { type: 'stats'; cpuSeconds: number; datagramSize: number; datagrams: number; acks: number; lost: number; handshakesCompleted: number };

/**
 * The sending end, run in a child process (`node quic.js --serve <certDir>`) so that, as in a real
 * transfer and as with ngtcp2's two processes, each end has a core of its own. One endpoint per
 * maximum datagram size; a client's stream carries the number of bytes to send back on it. One
 * more endpoint closes each connection once its handshake completes: the handshake server.
 *
 * The handshake server lives here, and not in the process that ran the transfers' client, because
 * a process that has run both roles has compiled both roles' paths through the same functions: in
 * the eighth session's runs that server took 1.03-1.09 ms of CPU per handshake against 0.92-0.97
 * for a fresh one. A deployed server plays one role, as this process has; it is not fresh either.
 */
async function serveBulk(certDir: string): Promise<void> {
  const cert = loadOrCreateDevCertificate(certDir);
  let last: Connection | undefined;
  const listen = (maxUdpPayloadSize: number): Promise<QuicEndpoint> => {
    /** Per connection and stream: the request read so far, then how much to send and how much was. */
    const streams = new WeakMap<Connection, Map<number, { request: string; bytes: number; sent: number }>>();
    const pump = (conn: Connection, id: number): void => {
      const s = streams.get(conn)?.get(id);
      if (s === undefined) return;
      while (s.sent < s.bytes) {
        const n = Math.min(CHUNK.length, s.bytes - s.sent);
        s.sent += n;
        const more = conn.write(id, CHUNK.subarray(0, n), s.sent === s.bytes);
        if (!more) break;
      }
    };
    return QuicEndpoint.listen({
      host: '127.0.0.1',
      transport: { maxUdpPayloadSize },
      server: serverTls(cert),
      onEvent(conn, e) {
        if (e.type === 'stream-data') {
          let byId = streams.get(conn);
          if (byId === undefined) streams.set(conn, (byId = new Map()));
          let s = byId.get(e.id);
          if (s === undefined) byId.set(e.id, (s = { request: '', bytes: 0, sent: 0 }));
          s.request += e.data.toString();
          if (!e.fin) return;
          s.bytes = Number(s.request);
          last = conn;
          pump(conn, e.id);
        } else if (e.type === 'writable') pump(conn, e.id);
      },
    });
  };
  const endpoints = { [DEFAULT_DATAGRAM]: await listen(DEFAULT_DATAGRAM), [JUMBO_DATAGRAM]: await listen(JUMBO_DATAGRAM) };
  const handshakes = await listenHandshakeServer(cert);
  const send = (m: FromServer): void => void process.send!(m);
  process.on('message', async (m: ToServer) => {
    if (m.type === 'stats') {
      send({
        type: 'stats', cpuSeconds: cpuSeconds(), datagramSize: last?.datagramSize ?? 0,
        datagrams: last?.stats.datagramsSent ?? 0, acks: last?.stats.datagramsReceived ?? 0, lost: last?.stats.packetsLost ?? 0,
        handshakesCompleted: handshakes.completed(),
      });
    } else {
      for (const e of [...Object.values(endpoints), handshakes.endpoint]) await e.close(0, '', 1000);
      process.disconnect();
    }
  });
  send({ type: 'ready', ports: Object.fromEntries(Object.entries(endpoints).map(([k, e]) => [k, e.address.port])), handshakePort: handshakes.endpoint.address.port });
}

/** The bulk server child and a way to ask it for its CPU time and its last connection's counters. */
export async function startBulkServer(certDir: string): Promise<{ ports: Record<string, number>; handshakePort: number; stats(): Promise<Extract<FromServer, { type: 'stats' }>>; stop(): Promise<void> }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', certDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: { resolve: (m: FromServer) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: FromServer) => waiting.shift()?.resolve(m));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`bulk server exited with ${code}`));
  });
  const next = (): Promise<FromServer> => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('bulk server did not start');
  return {
    ports: ready.ports,
    handshakePort: ready.handshakePort,
    async stats() {
      const reply = next();
      child.send({ type: 'stats' } satisfies ToServer);
      const m = await reply;
      if (m.type !== 'stats') throw new Error('bulk server: unexpected reply');
      return m;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'exit' } satisfies ToServer);
      await exited;
    },
  };
}

/** The server child sends `bytes` on a stream this process opens; this process counts them. */
export async function transfer(
  cert: DevCertificate,
  server: Awaited<ReturnType<typeof startBulkServer>>,
  bytes: number,
  maxUdpPayloadSize: number,
): Promise<TransferResult> {
  let received = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const client = await QuicEndpoint.listen({
    host: '127.0.0.1',
    transport: { maxUdpPayloadSize },
    onEvent(conn, e) {
      if (e.type === 'handshake-complete') conn.write(conn.openStream()!, Buffer.from(String(bytes)), true);
      else if (e.type === 'stream-data') {
        received += e.data.length;
        if (e.fin) finished();
      } else if (e.type === 'closed') finished();
    },
  });
  try {
    const serverCpu0 = (await server.stats()).cpuSeconds;
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    const conn = client.connect({ address: '127.0.0.1', port: server.ports[maxUdpPayloadSize]! }, clientTls(cert));
    await done;
    const seconds = (performance.now() - t0) / 1000;
    const clientCpu = cpuSeconds() - cpu0;
    const end = await server.stats();
    if (received !== bytes) throw new Error(`transfer: ${received} of ${bytes} bytes arrived (${conn.closeReason?.reason ?? 'open'})`);
    return {
      bytes,
      seconds,
      clientCpuSeconds: clientCpu,
      serverCpuSeconds: end.cpuSeconds - serverCpu0,
      datagramSize: end.datagramSize,
      datagrams: end.datagrams,
      acks: end.acks,
      lost: end.lost,
    };
  } finally {
    await client.close(0, '', 1000);
  }
}

// ==== Handshakes =================================================================================

/**
 * A measured set: `count` handshakes, `concurrency` of them in progress at any time, each closed
 * by `closer` as its handshake completes there.
 */
interface HandshakeSet {
  count: number;
  concurrency: number;
  closer: 'client' | 'server';
}

/** What one set of handshakes measured: wall-clock rate and CPU per handshake of each end. */
interface HandshakeResult {
  perSecond: number;
  /** CPU seconds per handshake of the server's process and of the client's; one figure for both when they share a process. */
  serverCpu?: number;
  clientCpu?: number;
  bothCpu: number | undefined;
  /** Handshakes the server completed in the set, where it can tell (not ngtcp2's). */
  serverCompleted?: number;
}

/**
 * The handshake server: it closes each connection as its handshake completes, unless the client
 * closed first (close() on a closed connection does nothing), and counts the handshakes it completed.
 */
async function listenHandshakeServer(cert: DevCertificate): Promise<{ endpoint: QuicEndpoint; completed(): number }> {
  let completed = 0;
  const endpoint = await QuicEndpoint.listen({
    host: '127.0.0.1',
    server: { ...serverTls(cert), newTokens: false },
    onEvent(conn, e) {
      if (e.type !== 'handshake-complete') return;
      completed++;
      conn.close();
    },
  });
  return { endpoint, completed: () => completed };
}

/**
 * A client endpoint and `batch(set)`, which runs `set.count` full handshakes to `server`,
 * `set.concurrency` of them in progress at any time, each closed by `set.closer` as it completes.
 */
async function handshakeClient(cert: DevCertificate, server: { address: string; port: number }, alpn = [BENCH_ALPN]) {
  const waiting = new Map<Connection, () => void>();
  const closeAtCompletion = new Set<Connection>();
  const client = await QuicEndpoint.listen({
    host: '127.0.0.1',
    // When the server's CONNECTION_CLOSE is lost, the client learns of the end only by its idle
    // timeout (RFC 9000 §10.1): a short one keeps such a rare handshake from stalling the run.
    transport: { maxIdleTimeout: 2_000 },
    onEvent(conn, e) {
      // The client completes on the server's Finished. Closing then sends its Finished and the
      // CONNECTION_CLOSE together (the server counts the handshakes it completes); otherwise the
      // server closes on the client's Finished, so 'closed' marks a handshake both ends completed.
      if (e.type === 'handshake-complete' && closeAtCompletion.delete(conn)) conn.close();
      else if (e.type === 'closed') waiting.get(conn)?.();
    },
  });
  const one = (closer: HandshakeSet['closer']): Promise<void> => new Promise<void>((resolve, reject) => {
    const conn = client.connect(server, { ...clientTls(cert), alpn });
    if (closer === 'client') closeAtCompletion.add(conn);
    waiting.set(conn, () => {
      waiting.delete(conn);
      closeAtCompletion.delete(conn);
      if (!conn.isHandshakeComplete) reject(new Error(`handshake failed: ${conn.closeReason?.reason}`));
      else resolve();
    });
  });
  const batch = async ({ count, concurrency, closer }: HandshakeSet): Promise<void> => {
    let started = 0;
    const worker = async (): Promise<void> => {
      while (started < count) {
        started++;
        await one(closer);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  return { client, batch };
}

/** WARM_UP_HANDSHAKES split between the ways the sets to come will close. */
async function warmUp(batch: (set: HandshakeSet) => Promise<void>, closers: readonly HandshakeSet['closer'][]): Promise<void> {
  const kinds = [...new Set(closers)];
  for (const closer of kinds) await batch({ count: Math.ceil(WARM_UP_HANDSHAKES / kinds.length), concurrency: WARM_UP_CONCURRENCY, closer });
}

/** Both ends in this process: the figure of earlier runs, kept for comparison. */
async function handshakesInOneProcess(cert: DevCertificate, sets: readonly HandshakeSet[]): Promise<HandshakeResult[]> {
  const server = await listenHandshakeServer(cert);
  const { client, batch } = await handshakeClient(cert, server.endpoint.address);
  try {
    await warmUp(batch, sets.map((s) => s.closer));
    const results: HandshakeResult[] = [];
    for (const set of sets) {
      const completed0 = server.completed();
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      await batch(set);
      const seconds = (performance.now() - t0) / 1000;
      // A client that closes is done when its last close leaves; the server reads it a moment later.
      for (const end = performance.now() + 1_000; server.completed() - completed0 < set.count && performance.now() < end;) await new Promise((r) => setTimeout(r, 5));
      results.push({ perSecond: set.count / seconds, bothCpu: (cpuSeconds() - cpu0) / set.count, serverCompleted: server.completed() - completed0 });
    }
    return results;
  } finally {
    await client.close(0, '', 1000);
    await server.endpoint.close(0, '', 1000);
  }
}

/** Messages between this process (the handshake server) and the handshake client child. */
type ToHandshakeClient = { type: 'go'; set: HandshakeSet } | { type: 'end' };
type FromHandshakeClient = { type: 'ready' } | { type: 'done'; seconds: number; cpuSeconds: number };

/**
 * The client end of the two-process handshakes, run in a child process
 * (`node quic.js --handshake-client <certDir> <port> <alpn> <closers>`): it warms up, says it is
 * ready, then runs each set it is sent and reports its wall-clock and CPU seconds, until told to end.
 */
async function runHandshakeClient(certDir: string, port: number, alpn: string, closers: HandshakeSet['closer'][]): Promise<void> {
  const cert = loadOrCreateDevCertificate(certDir);
  const { client, batch } = await handshakeClient(cert, { address: '127.0.0.1', port }, [alpn]);
  const send = (m: FromHandshakeClient): void => void process.send!(m);
  const next = (): Promise<ToHandshakeClient> => new Promise((resolve) => process.once('message', resolve));
  await warmUp(batch, closers);
  send({ type: 'ready' });
  for (let m = await next(); m.type === 'go'; m = await next()) {
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    await batch(m.set);
    send({ type: 'done', seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds() - cpu0 });
  }
  await client.close(0, '', 1000);
  process.disconnect();
}

/** A handshake server in another process, as the client child's sets see it. */
interface RemoteHandshakeServer {
  port: number;
  alpn: string;
  /** The server process's CPU seconds and the handshakes it has completed so far, where it can tell. */
  sample(): Promise<{ cpuSeconds: number | undefined; completed: number | undefined }>;
}

/** The bulk server's process as a handshake server. */
function bulkHandshakeServer(server: Awaited<ReturnType<typeof startBulkServer>>): RemoteHandshakeServer {
  return {
    port: server.handshakePort,
    alpn: BENCH_ALPN,
    async sample() {
      const stats = await server.stats();
      return { cpuSeconds: stats.cpuSeconds, completed: stats.handshakesCompleted };
    },
  };
}

/**
 * The server in another process and the client in a child, so that each end has a core and each
 * end's CPU per handshake is its own process's: the rate a server reaches with clients elsewhere.
 */
async function handshakesWithClientChild(certDir: string, server: RemoteHandshakeServer, sets: readonly HandshakeSet[]): Promise<HandshakeResult[]> {
  const closers = JSON.stringify(sets.map((s) => s.closer));
  const child = fork(fileURLToPath(import.meta.url), ['--handshake-client', certDir, String(server.port), server.alpn, closers], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const next = (): Promise<FromHandshakeClient> => new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`handshake client exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (m: FromHandshakeClient) => {
        child.off('exit', onExit);
        resolve(m);
      });
    });
    if ((await next()).type !== 'ready') throw new Error('handshake client did not start');
    const results: HandshakeResult[] = [];
    for (const set of sets) {
      const before = await server.sample();
      const done = next();
      child.send({ type: 'go', set } satisfies ToHandshakeClient);
      const m = await done;
      if (m.type !== 'done') throw new Error('handshake client: unexpected reply');
      // A client that closes is done when its last close leaves; the server reads it a moment later.
      let after = await server.sample();
      for (const end = performance.now() + 1_000; after.completed !== undefined && after.completed - before.completed! < set.count && performance.now() < end;) {
        await new Promise((r) => setTimeout(r, 5));
        after = await server.sample();
      }
      const serverCpu = after.cpuSeconds !== undefined && before.cpuSeconds !== undefined ? (after.cpuSeconds - before.cpuSeconds) / set.count : undefined;
      const clientCpu = m.cpuSeconds / set.count;
      const serverCompleted = after.completed !== undefined && before.completed !== undefined ? after.completed - before.completed : undefined;
      results.push({ perSecond: set.count / m.seconds, serverCpu, clientCpu, bothCpu: serverCpu === undefined ? undefined : serverCpu + clientCpu, serverCompleted });
    }
    child.send({ type: 'end' } satisfies ToHandshakeClient);
    return results;
  } catch (error) {
    child.kill(); // it may be waiting for a message that will not come
    throw error;
  } finally {
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  }
}

// ==== ngtcp2, the native reference ================================================================

/** CPU seconds a running process has used (Linux /proc/<pid>/stat utime + stime, in 1/100 s), if readable. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface NativeResult { seconds: number; cpuSeconds: number | undefined }

/**
 * The handshake client child against ngtcp2's gtlsserver (h3; it never closes first, so the client
 * does): how many handshakes per second this client makes on this machine when the server is native.
 */
async function ngtcp2Handshakes(certDir: string, cert: DevCertificate, set: HandshakeSet): Promise<HandshakeResult | string> {
  const gtlsserver = findProgram('gtlsserver');
  if (!gtlsserver) return 'skipped: gtlsserver (ngtcp2-server) not installed';
  const port = await freePort();
  const server = spawn(gtlsserver, ['--quiet', '127.0.0.1', String(port), cert.keyPath, cert.certPath], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const native: RemoteHandshakeServer = {
      port,
      alpn: 'h3',
      sample: async () => ({ cpuSeconds: processCpuSeconds(server.pid), completed: undefined }),
    };
    const [result] = await handshakesWithClientChild(certDir, native, [{ ...set, closer: 'client' }]);
    return result!;
  } finally {
    server.kill();
  }
}

/**
 * gtlsclient downloading a `bytes` file from gtlsserver over h3 on loopback: wall seconds and the
 * CPU seconds of both processes (the client's from bash's `times`, the server's from /proc), or
 * why it did not run.
 */
async function ngtcp2Goodput(cert: DevCertificate, bytes: number): Promise<NativeResult | string> {
  const gtlsclient = findProgram('gtlsclient');
  const gtlsserver = findProgram('gtlsserver');
  if (!gtlsclient || !gtlsserver) {
    return `skipped: ${[!gtlsclient && 'gtlsclient (ngtcp2-client)', !gtlsserver && 'gtlsserver (ngtcp2-server)'].filter(Boolean).join(' and ')} not installed`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'h123-bench-quic-'));
  const htdocs = join(dir, 'htdocs');
  const download = join(dir, 'download');
  try {
    mkdirSync(htdocs);
    mkdirSync(download);
    const file = Buffer.allocUnsafe(bytes);
    for (let o = 0; o < bytes; o += CHUNK.length) CHUNK.copy(file, o, 0, Math.min(CHUNK.length, bytes - o));
    writeFileSync(join(htdocs, 'file'), file);
    const port = await freePort();
    const server = spawn(gtlsserver, ['--quiet', `--htdocs=${htdocs}`, '127.0.0.1', String(port), cert.keyPath, cert.certPath], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const serverCpu0 = processCpuSeconds(server.pid);
      const t0 = performance.now();
      const clientArgs = ['--quiet', '--exit-on-all-streams-close', '--no-quic-dump', '--no-http-dump', `--download=${download}`,
        '127.0.0.1', String(port), `https://localhost:${port}/file`];
      // bash's `times` prints the CPU time of its children last: the client's own.
      const child = spawn('bash', ['-c', '"$0" "$@"; rc=$?; times; exit $rc', gtlsclient, ...clientArgs], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      const seconds = (performance.now() - t0) / 1000;
      const serverCpu1 = processCpuSeconds(server.pid);
      if (code !== 0) return `failed: gtlsclient exited with ${code}`;
      const times = [...out.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].pop();
      const clientCpu = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : undefined;
      const cpuSeconds = clientCpu !== undefined && serverCpu0 !== undefined && serverCpu1 !== undefined ? clientCpu + serverCpu1 - serverCpu0 : undefined;
      return { seconds, cpuSeconds };
    } finally {
      server.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ==== The table ==================================================================================

/** One row of the goodput table: MB/s, Mbit/s, CPU ns per byte, and a ratio. */
function row(measure: string, bytesPerSecond: number, nsPerByte: number | '', note: string): (string | number)[] {
  return [measure, bytesPerSecond / 1e6, bytesPerSecond * 8 / 1e6, nsPerByte, note];
}

/**
 * The rows of one h123 transfer: wall-clock goodput against the one-core ceiling (the headline),
 * then the CPU each end used per byte and per CPU-second, so that neither end's cost is hidden.
 */
function transferRows(label: string, r: TransferResult, ceiling: number, target: string): (string | number)[][] {
  const wall = r.bytes / r.seconds;
  const ns = (cpu: number): number => cpu / r.bytes * 1e9;
  const share = (cpu: number): string => `${(100 * cpu / r.seconds).toFixed(0)}% of a core`;
  const both = r.serverCpuSeconds + r.clientCpuSeconds;
  return [
    row(`${label} (wall clock)`, wall, ns(both), `${ratio(wall, ceiling)} of one-core ceiling${target}`),
    row('  server (sender) per its CPU-second', r.bytes / r.serverCpuSeconds, ns(r.serverCpuSeconds), `${ratio(r.bytes / r.serverCpuSeconds, ceiling)} of ceiling; used ${share(r.serverCpuSeconds)}`),
    row('  client (receiver) per its CPU-second', r.bytes / r.clientCpuSeconds, ns(r.clientCpuSeconds), `${ratio(r.bytes / r.clientCpuSeconds, ceiling)} of ceiling; used ${share(r.clientCpuSeconds)}`),
    row('  both ends per CPU-second', r.bytes / both, ns(both), `${ratio(r.bytes / both, ceiling)} of ceiling`),
  ];
}

export async function run(): Promise<void> {
  const certDir = mkdtempSync(join(tmpdir(), 'h123-bench-quic-cert-'));
  const cert = loadOrCreateDevCertificate(certDir);
  const server = await startBulkServer(certDir);
  try {
    const warmUp: TransferResult[] = [];
    for (let i = 0; i < WARM_UP_TRANSFERS; i++) warmUp.push(await transfer(cert, server, WARM_UP_TRANSFER_BYTES, DEFAULT_DATAGRAM));
    // The machine's load drifts: the ceiling is the mean of one measure before and one after.
    const ceilingBefore = protectionCeiling(DEFAULT_DATAGRAM);
    const normal = await transfer(cert, server, BULK_BYTES, DEFAULT_DATAGRAM);
    const ceiling = (ceilingBefore + protectionCeiling(DEFAULT_DATAGRAM)) / 2;
    const jumbo = await transfer(cert, server, BULK_BYTES, JUMBO_DATAGRAM);
    const jumboCeiling = protectionCeiling(Math.max(jumbo.datagramSize, 1200));
    const [sequential, concurrent, serverCloses] = await handshakesWithClientChild(certDir, bulkHandshakeServer(server), HANDSHAKE_SETS);
    await server.stop();
    const [sequentialOne, concurrentOne, serverClosesOne] = await handshakesInOneProcess(cert, HANDSHAKE_SETS);
    const ngtcp2 = await ngtcp2Goodput(cert, BULK_BYTES);
    const ngtcp2Handshake = await ngtcp2Handshakes(certDir, cert, HANDSHAKE_SETS[1]!);

    const wall = normal.bytes / normal.seconds;
    const jumboWall = jumbo.bytes / jumbo.seconds;
    const rows = [
      row(`packet protection ceiling, ${DEFAULT_DATAGRAM}-B packets (per CPU-s)`, ceiling, 1e9 / ceiling, 'AES-128-GCM seal+open, one core'),
      ...transferRows(`h123 ${BULK_BYTES / 1e6} MB, max datagram ${DEFAULT_DATAGRAM}`, normal, ceiling, ' (target ≥ 0.60×)'),
      row(`packet protection ceiling, ${jumbo.datagramSize}-B packets (per CPU-s)`, jumboCeiling, 1e9 / jumboCeiling, ''),
      ...transferRows(`h123 max datagram ${JUMBO_DATAGRAM}, settled on ${jumbo.datagramSize}`, jumbo, jumboCeiling, `; ${ratio(jumboWall, wall)} of ${DEFAULT_DATAGRAM} (target ≥ 3×)`),
    ];
    if (typeof ngtcp2 !== 'string') {
      const native = BULK_BYTES / ngtcp2.seconds;
      const nativeNs = ngtcp2.cpuSeconds !== undefined ? ngtcp2.cpuSeconds / BULK_BYTES * 1e9 : '';
      rows.push(row(`ngtcp2 gtlsclient ← gtlsserver, ${BULK_BYTES / 1e6} MB file (wall clock)`, native, nativeNs, `h123/ngtcp2 ${ratio(wall, native)}`));
      if (ngtcp2.cpuSeconds !== undefined) {
        const nativePerCpu = BULK_BYTES / ngtcp2.cpuSeconds;
        const ours = normal.bytes / (normal.serverCpuSeconds + normal.clientCpuSeconds);
        rows.push(row('  the same per CPU-second of both processes', nativePerCpu, nativeNs, `h123/ngtcp2 ${ratio(ours, nativePerCpu)}`));
      }
    } else {
      rows.push(['ngtcp2 gtlsclient ← gtlsserver', ngtcp2, '', '', '']);
    }
    const perByte = (r: TransferResult, cpu: number): string => (cpu / r.bytes * 1e9).toFixed(1);
    const rate = (r: TransferResult): string =>
      `${(r.bytes / r.seconds / 1e6).toFixed(1)} MB/s (${perByte(r, r.serverCpuSeconds)}/${perByte(r, r.clientCpuSeconds)} ns/B)`;
    console.log(`\nwarm-up: ${WARM_UP_TRANSFERS} transfers of ${WARM_UP_TRANSFER_BYTES / 1e6} MB at ${DEFAULT_DATAGRAM} B, ` +
      `first ${rate(warmUp[0]!)}, last ${rate(warmUp[warmUp.length - 1]!)} (sender/receiver CPU)`);
    table(`QUIC bulk transfer over loopback UDP, one stream, h123 server (child process) → h123 client; ` +
      `default: ${normal.datagrams} datagrams (${normal.acks} back), ${normal.lost} lost; jumbo: ${jumbo.datagrams} datagrams (${jumbo.acks} back), ${jumbo.lost} lost`,
    ['measure', 'MB/s', 'Mbit/s', 'CPU ns/B', 'ratio'], rows);
    const ms = (cpu: number | undefined): number | string => (cpu === undefined ? '' : cpu * 1e3);
    // What one core of the server completes per second when its clients run elsewhere.
    const perServerCore = (r: HandshakeResult): number | string => (r.serverCpu === undefined ? '' : 1 / r.serverCpu);
    const completed = (r: HandshakeResult, count: number): string => (r.serverCompleted === undefined ? '' : `${r.serverCompleted} of ${count}`);
    const handshakeRow = (label: string, r: HandshakeResult, count: number): (string | number)[] =>
      [label, r.perSecond, ms(r.serverCpu), ms(r.clientCpu), ms(r.bothCpu), perServerCore(r), completed(r, count), ratio(r.perSecond, 1000)];
    const own = 'server and client each in a process of its own';
    const concurrently = `${CONCURRENT_HANDSHAKES}, ${CONCURRENCY} at a time`;
    const handshakeRows = [
      handshakeRow(`${SEQUENTIAL_HANDSHAKES} sequential, ${own}`, sequential!, SEQUENTIAL_HANDSHAKES),
      handshakeRow(`${concurrently}, ${own}`, concurrent!, CONCURRENT_HANDSHAKES),
      handshakeRow(`${concurrently}, ${own}; the server closes (earlier sessions' set)`, serverCloses!, CONCURRENT_HANDSHAKES),
      handshakeRow(`${SEQUENTIAL_HANDSHAKES} sequential, both ends in one process`, sequentialOne!, SEQUENTIAL_HANDSHAKES),
      handshakeRow(`${concurrently}, both ends in one process`, concurrentOne!, CONCURRENT_HANDSHAKES),
      handshakeRow(`${concurrently}, both ends in one process; the server closes`, serverClosesOne!, CONCURRENT_HANDSHAKES),
    ];
    if (typeof ngtcp2Handshake !== 'string') handshakeRows.push(handshakeRow(`${concurrently}, the same client against ngtcp2 gtlsserver (native reference)`, ngtcp2Handshake, CONCURRENT_HANDSHAKES));
    else handshakeRows.push(['the same client against ngtcp2 gtlsserver', ngtcp2Handshake, '', '', '', '', '', '']);
    table('QUIC handshakes over loopback UDP (full 1-RTT); the client closes as its handshake completes, and the server counts the handshakes it completed, ' +
      'unless the row says the server closes; 1,000/s on two cores needs ≤ 1 ms of CPU per handshake at each end',
      ['handshakes', 'per second', 'server CPU ms each', 'client CPU ms each', 'both ends CPU ms', 'per server CPU-s', 'server completed', 'of 1,000/s target'], handshakeRows);
  } finally {
    await server.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--serve') await serveBulk(process.argv[3]!);
  else if (process.argv[2] === '--handshake-client') await runHandshakeClient(process.argv[3]!, Number(process.argv[4]), process.argv[5]!, JSON.parse(process.argv[6]!));
  else await run();
}
