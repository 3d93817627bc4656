/**
 * `npm run bench -- h1`: h123 and node:http serving the same workloads, each in its own process,
 * loaded by h2load --h1 from a third process. Rounds alternate between the two servers and the
 * median of each is reported, so that a busy machine's swings hit both alike. Prints requests/s,
 * MB/s, server CPU per request, RSS and ratios.
 */
import net from 'node:net';
import { h2load, ratio, startServerProcess, table, findProgram, type ServerProcess } from './lib.js';

const REQUESTS = { S: 20_000, B: 1_000 };
/** Alternating rounds per workload: five, so that one round disturbed by other load does not set the median. */
const ROUNDS = 5;
/** Idle keep-alive connections for the memory figure: many, so that RSS noise per connection is small. */
const IDLE = 5_000;

interface Sample { rps: number; mbps: number; cpuPerReq: number }

async function idleConnections(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => new Promise<void>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', reject);
      s.on('connect', () => s.write('GET /x HTTP/1.1\r\nHost: bench\r\n\r\n'));
      s.once('data', () => resolve()); // one request answered: now an idle keep-alive connection
      sockets.push(s);
    })));
  }
  return sockets;
}

interface IdleMemory { idleKB: number; idleHeapKB: number }

/**
 * Memory per idle keep-alive connection, measured in a fresh server process: after a load run the
 * heap has grown and the free space it keeps would hide what connections cost. A first round of
 * connections, closed again, warms the code paths up before the baseline is read.
 */
export async function idleMemory(impl: 'h123' | 'node'): Promise<IdleMemory> {
  const server = await startServerProcess(impl, 'h1');
  try {
    for (const s of await idleConnections(server.port, 200)) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const heapBefore = await server.heap();
    const rssBefore = await server.rss();
    const sockets = await idleConnections(server.port, IDLE);
    const heapAfter = await server.heap();
    const rssAfter = await server.rss();
    for (const s of sockets) s.destroy();
    return { idleKB: (rssAfter - rssBefore) / IDLE / 1000, idleHeapKB: (heapAfter - heapBefore) / IDLE / 1000 };
  } finally {
    server.stop();
  }
}

async function load(server: ServerProcess, path: string, n: number): Promise<Sample> {
  const cpu0 = await server.cpu();
  const r = await h2load(['--h1', '-n', String(n), '-c', '50', '-t', '1', `http://127.0.0.1:${server.port}${path}`]);
  const cpuPerReq = ((await server.cpu()) - cpu0) / r.total;
  if (r.succeeded !== r.total) throw new Error(`${path}: ${r.total - r.succeeded} requests failed`);
  return { rps: r.reqPerSec, mbps: r.mbPerSec, cpuPerReq };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medianSample = (xs: Sample[]): Sample => ({ rps: median(xs.map((x) => x.rps)), mbps: median(xs.map((x) => x.mbps)), cpuPerReq: median(xs.map((x) => x.cpuPerReq)) });

export async function run(): Promise<void> {
  if (!findProgram('h2load')) {
    console.log('bench h1: skipped: h2load is not installed (Debian package nghttp2-client)');
    return;
  }
  const servers = { h123: await startServerProcess('h123', 'h1'), node: await startServerProcess('node', 'h1') };
  try {
    const result: Record<'h123' | 'node', Record<'S' | 'B', Sample> & IdleMemory & { rssMB: number }> = {} as never;
    const samples = { h123: { S: [] as Sample[], B: [] as Sample[] }, node: { S: [] as Sample[], B: [] as Sample[] } };
    for (const [name, path] of [['S', '/s'], ['B', '/b']] as const) {
      for (const impl of ['h123', 'node'] as const) await load(servers[impl], path, Math.floor(REQUESTS[name] / 10)); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        for (const impl of round % 2 ? (['node', 'h123'] as const) : (['h123', 'node'] as const)) {
          samples[impl][name].push(await load(servers[impl], path, REQUESTS[name]));
        }
      }
    }
    for (const impl of ['h123', 'node'] as const) {
      result[impl] = { S: medianSample(samples[impl].S), B: medianSample(samples[impl].B), rssMB: (await servers[impl].rss()) / 1e6, ...(await idleMemory(impl)) };
    }
    const h = result.h123, n = result.node;
    table(`HTTP/1.1 — h123 vs node:http (h2load --h1 -c 50 -t 1, loopback, median of ${ROUNDS} alternating rounds)`, ['workload', 'h123', 'node:http', 'h123/node'], [
      ['S req/s (5×16 B flushed)', h.S.rps, n.S.rps, ratio(h.S.rps, n.S.rps)],
      ['S server CPU µs/request', h.S.cpuPerReq, n.S.cpuPerReq, ratio(n.S.cpuPerReq, h.S.cpuPerReq) + ' less CPU'],
      ['B MB/s (1 MiB in 16 KiB)', h.B.mbps, n.B.mbps, ratio(h.B.mbps, n.B.mbps)],
      ['B server CPU µs/request', h.B.cpuPerReq, n.B.cpuPerReq, ratio(n.B.cpuPerReq, h.B.cpuPerReq) + ' less CPU'],
      ['RSS after load (MB)', h.rssMB, n.rssMB, ratio(h.rssMB, n.rssMB)],
      [`KB per idle keep-alive conn (RSS, ${IDLE}, fresh server)`, h.idleKB, n.idleKB, ratio(h.idleKB, n.idleKB)],
      [`KB per idle keep-alive conn (JS heap, ${IDLE}, fresh server)`, h.idleHeapKB, n.idleHeapKB, ratio(h.idleHeapKB, n.idleHeapKB)],
    ]);
  } finally {
    servers.h123.stop();
    servers.node.stop();
  }
}
