/**
 * `npm run bench -- h3`:
 *  1. Goodput: a 100 MB download by the same native client (ngtcp2's gtlsclient) from our h3
 *     server (/bytes) and from ngtcp2's gtlsserver (a static file of the same size), side by side,
 *     each after warm-up downloads.
 *     Target: ours ≥ 0.25× ngtcp2's.
 *  2. Workloads S (five flushed 16-byte chunks) and B (1 MiB in 16 KiB pieces) over h1, h2 and h3,
 *     each server in its own process with the same handler, loaded by the h123 client with 10
 *     requests in flight (h1: a pool of connections; h2 and h3: one multiplexed connection).
 *     Target: h3 S requests/s ≥ 0.5× our h2's. CPU per request of each side is shown too: on a
 *     shared machine it varies much less than requests per second.
 *     Each protocol is first warmed up with as many S requests as are then measured (and a tenth
 *     of B): with a 100-request warm-up about half of each process's CPU in the measured window was
 *     V8 compiling and collecting on its background threads, a start-up cost and not the protocol's
 *     per-request cost (measured per thread from /proc, issue 6).
 * Environment: H3_BENCH_S / H3_BENCH_B request counts, H3_BENCH_SKIP_GOODPUT=1 for part 2 only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevCertificate } from '../src/cert/dev-cert.js';
import { readAll } from '../src/core/body.js';
import { resolveLimits } from '../src/core/limits.js';
import { demoHandler, patternSlice } from '../src/demo/routes.js';
import { request } from '../src/client.js';
import type { ClientResponse } from '../src/h1/client.js';
import { connectH3 } from '../src/h3/client.js';
import { listenH3 } from '../src/h3/server.js';
import { findProgram, freePort, ratio, startServerProcess, table, type ServerProcess } from './lib.js';

const DOWNLOAD_BYTES = 100_000_000;
/**
 * Downloads from our server before the measured one. A fresh process keeps getting cheaper per
 * byte for its first ~200 MB while V8 optimizes the per-packet code (bench/quic.ts measures the
 * same ramp); a long-running server is past it. The warm-up rates are printed.
 */
const WARM_UP_DOWNLOADS = 2;
const REQUESTS = { S: Number(process.env.H3_BENCH_S ?? 2_000), B: Number(process.env.H3_BENCH_B ?? 100) };
/** H3_BENCH_SKIP_GOODPUT=1 runs the workloads only. */
const SKIP_GOODPUT = process.env.H3_BENCH_SKIP_GOODPUT === '1';
const IN_FLIGHT = 10;

/** Runs gtlsclient for one URL and returns the seconds it took (the body is not kept). */
async function ngtcp2Download(gtlsclient: string, port: number, path: string): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'h123-bench-h3-dl-'));
  const started = performance.now();
  try {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(gtlsclient, ['--quiet', '--exit-on-all-streams-close', '--no-quic-dump', '--no-http-dump', `--download=${out}`, '127.0.0.1', String(port), `https://localhost:${port}${path}`], { stdio: 'ignore' });
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`gtlsclient exited with ${code}`);
    return (performance.now() - started) / 1000;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function goodput(cert: { certPem: string; keyPem: string; certPath: string; keyPath: string }): Promise<void> {
  const gtlsclient = findProgram('gtlsclient');
  if (!gtlsclient) {
    console.log('bench h3 goodput: skipped: gtlsclient is not installed (Debian package ngtcp2-client)');
    return;
  }
  const ours = await listenH3({ addresses: ['127.0.0.1'], port: 0, cert: cert.certPem, key: cert.keyPem, handler: demoHandler, limits: resolveLimits({}) });
  const mbits = (seconds: number): string => (DOWNLOAD_BYTES * 8 / seconds / 1e6).toFixed(0);
  let oursSeconds: number;
  let oursCpuNsPerByte: number;
  try {
    const warmUp: number[] = [];
    for (let i = 0; i < WARM_UP_DOWNLOADS; i++) warmUp.push(await ngtcp2Download(gtlsclient, ours.port, `/bytes?size=${DOWNLOAD_BYTES}`));
    console.log(`\nh3 goodput warm-up of our server: ${warmUp.map(mbits).join(', ')} Mbit/s`);
    const cpu0 = process.cpuUsage();
    oursSeconds = await ngtcp2Download(gtlsclient, ours.port, `/bytes?size=${DOWNLOAD_BYTES}`);
    const cpu = process.cpuUsage(cpu0);
    oursCpuNsPerByte = (cpu.user + cpu.system) * 1e3 / DOWNLOAD_BYTES;
  } finally {
    await ours.close();
  }
  const rows: (string | number)[][] = [['h123 h3 server', DOWNLOAD_BYTES * 8 / oursSeconds / 1e6, oursSeconds, oursCpuNsPerByte]];
  const gtlsserver = findProgram('gtlsserver');
  if (gtlsserver) {
    const htdocs = mkdtempSync(join(tmpdir(), 'h123-bench-h3-htdocs-'));
    const file = Buffer.allocUnsafe(DOWNLOAD_BYTES);
    for (let o = 0; o < DOWNLOAD_BYTES; o += 16 * 1024) patternSlice(o, Math.min(16 * 1024, DOWNLOAD_BYTES - o)).copy(file, o);
    writeFileSync(join(htdocs, 'bytes'), file);
    const port = await freePort();
    const child = spawn(gtlsserver, ['--quiet', `--htdocs=${htdocs}`, '127.0.0.1', String(port), cert.keyPath, cert.certPath], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      await ngtcp2Download(gtlsclient, port, '/bytes'); // the same warm-up: the file into the page cache
      const seconds = await ngtcp2Download(gtlsclient, port, '/bytes');
      rows.push(['ngtcp2 gtlsserver', DOWNLOAD_BYTES * 8 / seconds / 1e6, seconds, '']);
      rows.push(['h123 / ngtcp2', ratio(seconds, oursSeconds), '', '']);
    } finally {
      child.kill();
      rmSync(htdocs, { recursive: true, force: true });
    }
  } else {
    console.log('ngtcp2 server reference: skipped: gtlsserver is not installed (Debian package ngtcp2-server)');
  }
  table(`HTTP/3 goodput — ${DOWNLOAD_BYTES / 1e6} MB to ngtcp2's gtlsclient, loopback, after ${WARM_UP_DOWNLOADS} warm-up downloads`,
    ['server', 'Mbit/s', 'seconds', 'server CPU ns/B'], rows);
}

interface LoadResult {
  perSecond: number;
  /** CPU time per request, µs: the server process's and this (client) process's. */
  serverCpu: number;
  clientCpu: number;
}

/**
 * `count` requests, IN_FLIGHT at a time. Requests per second depend on what else the machine
 * runs; CPU per request on each side much less, so both are reported.
 */
async function load(server: ServerProcess, send: () => Promise<ClientResponse>, count: number): Promise<LoadResult> {
  const serverBefore = await server.cpu();
  const clientBefore = process.cpuUsage();
  const perSecond = await rate(send, count);
  const client = process.cpuUsage(clientBefore);
  const serverCpu = (await server.cpu()) - serverBefore;
  return { perSecond, serverCpu: serverCpu / count, clientCpu: (client.user + client.system) / count };
}

/** `count` requests, IN_FLIGHT at a time; returns requests per second. */
async function rate(send: () => Promise<ClientResponse>, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      const res = await send();
      await readAll(res.body);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return count / ((performance.now() - started) / 1000);
}

async function workloads(cert: { caCertPem: string; certPath: string; keyPath: string }): Promise<void> {
  const tls = { certFile: cert.certPath, keyFile: cert.keyPath };
  const rows: (string | number)[][] = [];
  const results: Record<string, { S: LoadResult; B: LoadResult }> = {};
  for (const proto of ['h1', 'h2', 'h3'] as const) {
    const server = await startServerProcess('h123', proto, tls);
    try {
      // server-process.ts serves h1 in cleartext, h2 and h3 over TLS.
      const base = proto === 'h1' ? `http://127.0.0.1:${server.port}` : `https://localhost:${server.port}`;
      // URLs parsed once: the client CPU per request is then the protocol's, not URL parsing.
      const urlS = new URL('/s', base);
      const urlB = new URL('/b', base);
      let send: (url: URL) => Promise<ClientResponse>;
      let close = async () => {};
      if (proto === 'h3') {
        const conn = await connectH3(new URL(base), { ca: [cert.caCertPem] });
        send = (url) => conn.request(url);
        close = () => conn.close();
      } else {
        const options = { protocol: proto === 'h1' ? 'http/1.1' as const : 'h2' as const, ca: [cert.caCertPem] };
        send = (url) => request(url, options);
      }
      try {
        // Warm-up to steady state, the same for every protocol (see the comment at the top).
        await rate(() => send(urlS), REQUESTS.S);
        await rate(() => send(urlB), Math.max(10, Math.floor(REQUESTS.B / 10)));
        const S = await load(server, () => send(urlS), REQUESTS.S);
        const B = await load(server, () => send(urlB), REQUESTS.B);
        results[proto] = { S, B };
        rows.push([proto, S.perSecond, S.serverCpu, S.clientCpu, B.perSecond, B.perSecond * 1.048576 * 8, B.serverCpu / 1000, B.clientCpu / 1000]);
      } finally {
        await close();
      }
    } finally {
      server.stop();
    }
  }
  table(
    `Workloads with the h123 client (${IN_FLIGHT} requests in flight, loopback; CPU per request of the server process and of the client)`,
    ['protocol', 'S req/s', 'S server µs', 'S client µs', 'B req/s', 'B Mbit/s', 'B server ms', 'B client ms'],
    rows,
  );
  if (results.h2 && results.h3) {
    console.log(`  h3/h2 S requests/s: ${ratio(results.h3.S.perSecond, results.h2.S.perSecond)} (target ≥ 0.5)`);
    console.log(`  h3/h2 S CPU per request: server ${ratio(results.h3.S.serverCpu, results.h2.S.serverCpu)}, client ${ratio(results.h3.S.clientCpu, results.h2.S.clientCpu)}`);
  }
}

export async function run(): Promise<void> {
  const certDir = mkdtempSync(join(tmpdir(), 'h123-bench-h3-'));
  const cert = loadOrCreateDevCertificate(certDir);
  try {
    if (!SKIP_GOODPUT) await goodput(cert);
    await workloads(cert);
  } finally {
    rmSync(certDir, { recursive: true, force: true });
  }
}
