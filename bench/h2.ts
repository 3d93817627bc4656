/**
 * `npm run bench -- h2`: h123 and node:http2 serving the same workloads over TLS (ALPN h2), each in
 * its own process, loaded by h2load -c 50 -m 10 from a third. Workloads S (five flushed 16-byte
 * chunks) and B (1 MiB in 16 KiB pieces), then 100 concurrent streams on one connection whose
 * reader is slow (it reads nothing: the server holds what flow control does not let out) to compare
 * memory per stalled stream. Load rounds alternate between the two servers and the median of each
 * is reported, with the server's CPU per request (robust when the machine is busy). nghttpd
 * serving the same bytes as static files is a native reference.
 */
import http2 from 'node:http2';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevCertificate } from '../src/cert/dev-cert.js';
import { B_PIECES, CHUNK_16, PIECE_16K } from './handlers.js';
import { h2load, ratio, startServerProcess, table, findProgram, type LoadResult, type ServerProcess } from './lib.js';

const REQUESTS = { S: 40_000, B: 2_000 };
const ROUNDS = 3;
const SLOW_STREAMS = 100;

interface Sample { rps: number; mbps: number; cpuPerReq: number }

function loadOnce(port: number, path: string, n: number): Promise<LoadResult> {
  return h2load(['-n', String(n), '-c', '50', '-m', '10', '-t', '1', `https://127.0.0.1:${port}${path}`]);
}

async function load(port: number, path: string, n: number): Promise<LoadResult> {
  await loadOnce(port, path, Math.floor(n / 10)); // warm-up
  const r = await loadOnce(port, path, n);
  if (r.succeeded !== r.total) throw new Error(`${path}: ${r.total - r.succeeded} requests failed`);
  return r;
}

/** One measured load, with the server CPU it cost per request (µs). */
async function sample(server: ServerProcess, path: string, n: number): Promise<Sample> {
  const cpu0 = await server.cpu();
  const r = await loadOnce(server.port, path, n);
  const cpuPerReq = ((await server.cpu()) - cpu0) / r.total;
  if (r.succeeded !== r.total) throw new Error(`${path}: ${r.total - r.succeeded} requests failed`);
  return { rps: r.reqPerSec, mbps: r.mbPerSec, cpuPerReq };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medianSample = (xs: Sample[]): Sample => ({ rps: median(xs.map((x) => x.rps)), mbps: median(xs.map((x) => x.mbps)), cpuPerReq: median(xs.map((x) => x.cpuPerReq)) });

/** Opens `count` streams of /b on one connection and reads none of them; returns a closer. */
async function slowStreams(port: number, ca: string, count: number): Promise<() => void> {
  const session = http2.connect(`https://localhost:${port}`, { ca });
  await new Promise<void>((resolve, reject) => { session.once('connect', () => resolve()); session.once('error', reject); });
  const streams = Array.from({ length: count }, () => {
    const s = session.request({ ':path': '/b' });
    s.pause(); // a slow reader: windows fill, the server must hold the rest
    s.on('error', () => {});
    return s;
  });
  await new Promise((r) => setTimeout(r, 1000));
  return () => { for (const s of streams) s.close(); session.destroy(); };
}

async function nghttpdReference(certFile: string, keyFile: string): Promise<{ S: LoadResult; B: LoadResult } | null> {
  const bin = findProgram('nghttpd');
  if (!bin) return null;
  const docroot = mkdtempSync(join(tmpdir(), 'h123-nghttpd-'));
  writeFileSync(join(docroot, 's'), Buffer.concat(Array(5).fill(CHUNK_16)));
  writeFileSync(join(docroot, 'b'), Buffer.concat(Array(B_PIECES).fill(PIECE_16K)));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(bin, ['-d', docroot, '--address=127.0.0.1', String(port), keyFile, certFile], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    return { S: await load(port, '/s', REQUESTS.S), B: await load(port, '/b', REQUESTS.B) };
  } finally {
    child.kill();
    rmSync(docroot, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  if (!findProgram('h2load')) {
    console.log('bench h2: skipped: h2load is not installed (Debian package nghttp2-client)');
    return;
  }
  const certDir = mkdtempSync(join(tmpdir(), 'h123-bench-h2-'));
  const cert = loadOrCreateDevCertificate(certDir);
  const tls = { certFile: cert.certPath, keyFile: cert.keyPath };
  const servers: Partial<Record<'h123' | 'node', ServerProcess>> = {};
  try {
    const slowKb = { h123: 0, node: 0 };
    for (const impl of ['h123', 'node'] as const) {
      const server = await startServerProcess(impl, 'h2', tls);
      servers[impl] = server;
      // Stalled streams first, on a fresh process, so that memory freed after the load runs
      // does not hide what the streams hold.
      const before = await server.rss();
      const close = await slowStreams(server.port, cert.caCertPem, SLOW_STREAMS);
      const after = await server.rss();
      close();
      slowKb[impl] = (after - before) / 1e3 / SLOW_STREAMS;
    }
    const samples = { h123: { S: [] as Sample[], B: [] as Sample[] }, node: { S: [] as Sample[], B: [] as Sample[] } };
    for (const [name, path] of [['S', '/s'], ['B', '/b']] as const) {
      for (const impl of ['h123', 'node'] as const) await loadOnce(servers[impl]!.port, path, Math.floor(REQUESTS[name] / 10)); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        for (const impl of round % 2 ? (['node', 'h123'] as const) : (['h123', 'node'] as const)) {
          samples[impl][name].push(await sample(servers[impl]!, path, REQUESTS[name]));
        }
      }
    }
    const result = (impl: 'h123' | 'node') => ({ S: medianSample(samples[impl].S), B: medianSample(samples[impl].B), slowKb: slowKb[impl] });
    const h = { ...result('h123'), rss: await servers.h123!.rss() };
    const n = { ...result('node'), rss: await servers.node!.rss() };
    table(`HTTP/2 — h123 vs node:http2 (TLS, h2load -c 50 -m 10 -t 1, loopback, median of ${ROUNDS} alternating rounds)`, ['workload', 'h123', 'node:http2', 'h123/node'], [
      ['S req/s (5×16 B flushed)', h.S.rps, n.S.rps, ratio(h.S.rps, n.S.rps)],
      ['S server CPU µs/request', h.S.cpuPerReq, n.S.cpuPerReq, ratio(n.S.cpuPerReq, h.S.cpuPerReq) + ' less CPU'],
      ['B MB/s (1 MiB in 16 KiB)', h.B.mbps, n.B.mbps, ratio(h.B.mbps, n.B.mbps)],
      ['B req/s', h.B.rps, n.B.rps, ratio(h.B.rps, n.B.rps)],
      ['B server CPU µs/request', h.B.cpuPerReq, n.B.cpuPerReq, ratio(n.B.cpuPerReq, h.B.cpuPerReq) + ' less CPU'],
      ['RSS after load (MB)', h.rss / 1e6, n.rss / 1e6, ratio(h.rss, n.rss)],
      [`KB per stalled stream (${SLOW_STREAMS} on one conn)`, h.slowKb, n.slowKb, ratio(h.slowKb, n.slowKb)],
    ]);
    servers.h123!.stop();
    servers.node!.stop();
    delete servers.h123;
    delete servers.node;
    const native = await nghttpdReference(cert.certPath, cert.keyPath);
    if (native) {
      table('Reference: nghttpd (C, static files, same bytes)', ['workload', 'nghttpd', 'h123/nghttpd'], [
        ['S req/s', native.S.reqPerSec, ratio(h.S.rps, native.S.reqPerSec)],
        ['B MB/s', native.B.mbPerSec, ratio(h.B.mbps, native.B.mbPerSec)],
      ]);
    } else {
      console.log('nghttpd reference: skipped: nghttpd is not installed (Debian package nghttp2-server)');
    }
  } finally {
    servers.h123?.stop();
    servers.node?.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
}
