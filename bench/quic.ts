/**
 * `npm run bench -- quic`: the QUIC transport (RFC 9000/9001/9002) over loopback UDP, h123 client ↔
 * h123 server in this one process (so the process's CPU time covers both ends: every packet is
 * sealed once and opened once here).
 *
 *  1. Goodput of one stream (BULK_BYTES, server → client) with the default 1,452-byte maximum
 *     datagram size, next to the packet-protection ceiling of one core measured in the same run:
 *     AES-128-GCM seal+open of full-size packets per CPU-second, counted in payload bytes.
 *     Target: goodput ≥ 60% of the ceiling.
 *  2. The same transfer with a 65,527-byte maximum (max_udp_payload_size, RFC 9000 §18.2; DPLPMTUD,
 *     §14.3, settles on what loopback carries). Target ≥ 3× the default.
 *  3. Full 1-RTT handshakes per second (RFC 9001 §4), sequential and some concurrent. Target ≥ 1,000/s.
 *  4. ngtcp2 (gtlsclient ← gtlsserver, a static file) on the same loopback, the native reference,
 *     with the CPU both of its processes used per byte.
 *
 * Wall-clock rates depend on what else the machine runs; per-CPU-second rates are steadier, so both
 * are printed. Run alone: npx tsc -p . && node dist/bench/quic.js
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOrCreateDevCertificate, type DevCertificate } from '../src/cert/dev-cert.js';
import type { Connection } from '../src/quic/connection.js';
import { QuicEndpoint } from '../src/quic/endpoint.js';
import { findProgram, ratio, table } from './lib.js';

const BULK_BYTES = Number(process.env.QUIC_BENCH_BYTES ?? 200_000_000);
const DEFAULT_DATAGRAM = 1452;
const JUMBO_DATAGRAM = 65_527;
const SEQUENTIAL_HANDSHAKES = 300;
const CONCURRENT_HANDSHAKES = 300;
const CONCURRENCY = 20;
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
 * Stream payload bytes per CPU-second that one core can seal and open in packets of `datagram`
 * bytes with bare node:crypto AES-128-GCM (a cipher object per packet, as RFC 9001 §5.3 needs a
 * fresh nonce per packet): what a transfer would reach if protection were the only work.
 */
function protectionCeiling(datagram: number, seconds = 1): number {
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

interface TransferResult {
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  /** The datagram size DPLPMTUD settled on (RFC 9000 §14.3). */
  datagramSize: number;
  datagrams: number;
  lost: number;
}

function clientTls(cert: DevCertificate) {
  return { serverName: 'localhost', alpn: ['bench'], ca: [cert.caCertPem] };
}

function serverTls(cert: DevCertificate) {
  return { certificateChain: [cert.certPem], privateKey: cert.keyPem, alpn: ['bench'] };
}

/** The server sends `bytes` on the stream the client opens; the client counts them. */
async function transfer(cert: DevCertificate, bytes: number, maxUdpPayloadSize: number): Promise<TransferResult> {
  const transport = { maxUdpPayloadSize };
  const sent = new Map<number, number>();
  const pump = (conn: Connection, id: number): void => {
    let offset = sent.get(id) ?? 0;
    while (offset < bytes) {
      const n = Math.min(CHUNK.length, bytes - offset);
      offset += n;
      const more = conn.write(id, CHUNK.subarray(0, n), offset === bytes);
      if (!more) break;
    }
    sent.set(id, offset);
  };
  const server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    transport,
    server: serverTls(cert),
    onEvent(conn, e) {
      if (e.type === 'stream-data' && e.fin) pump(conn, e.id);
      else if (e.type === 'writable') pump(conn, e.id);
    },
  });
  let received = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const client = await QuicEndpoint.listen({
    host: '127.0.0.1',
    transport,
    onEvent(conn, e) {
      if (e.type === 'handshake-complete') conn.write(conn.openStream()!, Buffer.from('GET'), true);
      else if (e.type === 'stream-data') {
        received += e.data.length;
        if (e.fin) finished();
      } else if (e.type === 'closed') finished();
    },
  });
  try {
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    const conn = client.connect(server.address, clientTls(cert));
    await done;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds() - cpu0;
    if (received !== bytes) throw new Error(`transfer: ${received} of ${bytes} bytes arrived (${conn.closeReason?.reason ?? 'open'})`);
    const serverConn = [...server.router.connections][0];
    return {
      bytes,
      seconds,
      cpuSeconds: cpu,
      datagramSize: serverConn?.datagramSize ?? 0,
      datagrams: serverConn?.stats.datagramsSent ?? 0,
      lost: serverConn?.stats.packetsLost ?? 0,
    };
  } finally {
    await client.close(0, '', 1000);
    await server.close(0, '', 1000);
  }
}

// ==== Handshakes =================================================================================

/** Full 1-RTT handshakes (complete at both ends) per wall-clock second, `concurrency` at a time. */
async function handshakes(cert: DevCertificate, count: number, concurrency: number): Promise<{ perSecond: number; cpuPerHandshake: number }> {
  const waiting = new Map<Connection, () => void>();
  const server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    server: { ...serverTls(cert), newTokens: false },
    onEvent(conn, e) {
      if (e.type === 'handshake-complete') conn.close();
    },
  });
  const client = await QuicEndpoint.listen({
    host: '127.0.0.1',
    onEvent(conn, e) {
      // The client completes on the server's Finished; the server then closes on the client's
      // Finished, so 'closed' marks a handshake both ends completed.
      if (e.type === 'closed') waiting.get(conn)?.();
    },
  });
  try {
    const one = (): Promise<void> => new Promise<void>((resolve, reject) => {
      const conn = client.connect(server.address, clientTls(cert));
      waiting.set(conn, () => {
        waiting.delete(conn);
        if (!conn.isHandshakeComplete) reject(new Error(`handshake failed: ${conn.closeReason?.reason}`));
        else resolve();
      });
    });
    /** `n` handshakes, `workers` of them in progress at any time. */
    const batch = async (n: number, workers: number): Promise<void> => {
      let started = 0;
      const worker = async (): Promise<void> => {
        while (started < n) {
          started++;
          await one();
        }
      };
      await Promise.all(Array.from({ length: workers }, worker));
    };
    await batch(20, Math.min(concurrency, 10)); // warm-up
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    await batch(count, concurrency);
    const seconds = (performance.now() - t0) / 1000;
    return { perSecond: count / seconds, cpuPerHandshake: (cpuSeconds() - cpu0) / count };
  } finally {
    await client.close(0, '', 1000);
    await server.close(0, '', 1000);
  }
}

// ==== ngtcp2, the native reference ================================================================

/** A port nothing listens on now (asked of TCP; gtlsserver binds the same number on UDP). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

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

/** One row of the goodput table: MB/s, Mbit/s, CPU ns per byte (both ends), and a ratio. */
function row(measure: string, bytesPerSecond: number, nsPerByte: number | '', note: string): (string | number)[] {
  return [measure, bytesPerSecond / 1e6, bytesPerSecond * 8 / 1e6, nsPerByte, note];
}

export async function run(): Promise<void> {
  const certDir = mkdtempSync(join(tmpdir(), 'h123-bench-quic-cert-'));
  const cert = loadOrCreateDevCertificate(certDir);
  try {
    await transfer(cert, 10_000_000, DEFAULT_DATAGRAM); // warm-up: JIT, socket buffers
    // The machine's load drifts: the ceiling is the mean of one measure before and one after.
    const ceilingBefore = protectionCeiling(DEFAULT_DATAGRAM);
    const normal = await transfer(cert, BULK_BYTES, DEFAULT_DATAGRAM);
    const ceiling = (ceilingBefore + protectionCeiling(DEFAULT_DATAGRAM)) / 2;
    const jumbo = await transfer(cert, BULK_BYTES, JUMBO_DATAGRAM);
    const jumboCeiling = protectionCeiling(Math.max(jumbo.datagramSize, 1200));
    const sequential = await handshakes(cert, SEQUENTIAL_HANDSHAKES, 1);
    const concurrent = await handshakes(cert, CONCURRENT_HANDSHAKES, CONCURRENCY);
    const ngtcp2 = await ngtcp2Goodput(cert, BULK_BYTES);

    const wall = normal.bytes / normal.seconds;
    const perCpu = normal.bytes / normal.cpuSeconds;
    const jumboWall = jumbo.bytes / jumbo.seconds;
    const jumboPerCpu = jumbo.bytes / jumbo.cpuSeconds;
    const nsPerByte = (r: TransferResult): number => r.cpuSeconds / r.bytes * 1e9;
    // Wall clock ≈ per CPU-second × the share of a core the process got: on a busy machine the
    // datagrams in flight wait in the socket buffers for the one event loop, and the RTT grows.
    const share = (r: TransferResult): string => `used ${(100 * r.cpuSeconds / r.seconds).toFixed(0)}% of a core`;
    const rows = [
      row(`packet protection ceiling, ${DEFAULT_DATAGRAM}-B packets (per CPU-s)`, ceiling, 1e9 / ceiling, 'AES-128-GCM seal+open, one core'),
      row(`h123 ${BULK_BYTES / 1e6} MB, max datagram ${DEFAULT_DATAGRAM} (wall clock)`, wall, nsPerByte(normal), `${ratio(wall, ceiling)} of ceiling (target ≥ 0.60×)`),
      row('  the same per CPU-second of the process', perCpu, nsPerByte(normal), `${ratio(perCpu, ceiling)} of ceiling; ${share(normal)}`),
      row(`packet protection ceiling, ${jumbo.datagramSize}-B packets (per CPU-s)`, jumboCeiling, 1e9 / jumboCeiling, ''),
      row(`h123 max datagram ${JUMBO_DATAGRAM}, settled on ${jumbo.datagramSize} (wall clock)`, jumboWall, nsPerByte(jumbo), `${ratio(jumboWall, wall)} of ${DEFAULT_DATAGRAM} (target ≥ 3×)`),
      row('  the same per CPU-second of the process', jumboPerCpu, nsPerByte(jumbo), `${ratio(jumboPerCpu, perCpu)} of ${DEFAULT_DATAGRAM}; ${ratio(jumboPerCpu, jumboCeiling)} of its ceiling; ${share(jumbo)}`),
    ];
    if (typeof ngtcp2 !== 'string') {
      const native = BULK_BYTES / ngtcp2.seconds;
      const nativeNs = ngtcp2.cpuSeconds !== undefined ? ngtcp2.cpuSeconds / BULK_BYTES * 1e9 : '';
      rows.push(row(`ngtcp2 gtlsclient ← gtlsserver, ${BULK_BYTES / 1e6} MB file (wall clock)`, native, nativeNs, `h123/ngtcp2 ${ratio(wall, native)} (two processes)`));
      if (ngtcp2.cpuSeconds !== undefined) {
        const nativePerCpu = BULK_BYTES / ngtcp2.cpuSeconds;
        rows.push(row('  the same per CPU-second of both processes', nativePerCpu, nativeNs, `h123/ngtcp2 ${ratio(perCpu, nativePerCpu)}`));
      }
    } else {
      rows.push(['ngtcp2 gtlsclient ← gtlsserver', ngtcp2, '', '', '']);
    }
    table(`QUIC bulk transfer over loopback UDP, one stream, h123 client ↔ h123 server in one process (CPU = both ends); ` +
      `default: ${normal.datagrams} datagrams, ${normal.lost} lost; jumbo: ${jumbo.datagrams} datagrams, ${jumbo.lost} lost`,
    ['measure', 'MB/s', 'Mbit/s', 'CPU ns/B', 'ratio'], rows);
    table('QUIC handshakes over loopback UDP (full 1-RTT, complete at both ends, one process)', ['handshakes', 'per second', 'CPU ms each', 'of 1,000/s target'], [
      [`${SEQUENTIAL_HANDSHAKES} sequential`, sequential.perSecond, sequential.cpuPerHandshake * 1e3, ratio(sequential.perSecond, 1000)],
      [`${CONCURRENT_HANDSHAKES}, ${CONCURRENCY} at a time`, concurrent.perSecond, concurrent.cpuPerHandshake * 1e3, ratio(concurrent.perSecond, 1000)],
    ]);
  } finally {
    rmSync(certDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
