/**
 * `npm run bench -- h1`: h123 and node:http serving the same workloads, each in its own process,
 * loaded by h2load --h1 from a third process. Prints requests/s, MB/s, RSS and ratios.
 */
import net from 'node:net';
import { h2load, ratio, startServerProcess, table, findProgram } from './lib.js';

const DURATION_REQUESTS = { S: 40_000, B: 2_000 };

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

export async function run(): Promise<void> {
  if (!findProgram('h2load')) {
    console.log('bench h1: skipped: h2load is not installed (Debian package nghttp2-client)');
    return;
  }
  const rows: (string | number)[][] = [];
  const results: Record<string, Record<string, { rps: number; mbps: number; rss: number; cpuPerReq: number }>> = {};
  for (const impl of ['h123', 'node'] as const) {
    const server = await startServerProcess(impl, 'h1');
    results[impl] = {};
    try {
      for (const [name, path, n] of [['S', '/s', DURATION_REQUESTS.S], ['B', '/b', DURATION_REQUESTS.B]] as const) {
        await h2load(['--h1', '-n', String(Math.floor(n / 10)), '-c', '50', '-t', '1', `http://127.0.0.1:${server.port}${path}`]); // warm-up
        const cpu0 = await server.cpu();
        const r = await h2load(['--h1', '-n', String(n), '-c', '50', '-t', '1', `http://127.0.0.1:${server.port}${path}`]);
        const cpuPerReq = ((await server.cpu()) - cpu0) / r.total;
        if (r.succeeded !== r.total) throw new Error(`${impl} ${name}: ${r.total - r.succeeded} requests failed`);
        results[impl]![name] = { rps: r.reqPerSec, mbps: r.mbPerSec, rss: await server.rss(), cpuPerReq };
      }
      const before = await server.rss();
      const sockets = await idleConnections(server.port, 1000);
      const after = await server.rss();
      results[impl]!.idle = { rps: 0, mbps: 0, rss: (after - before) / 1000, cpuPerReq: 0 };
      for (const s of sockets) s.destroy();
    } finally {
      server.stop();
    }
  }
  const h = results.h123!, n = results.node!;
  rows.push(['S req/s (5×16 B flushed)', h.S!.rps, n.S!.rps, ratio(h.S!.rps, n.S!.rps)]);
  rows.push(['S server CPU µs/request', h.S!.cpuPerReq, n.S!.cpuPerReq, ratio(n.S!.cpuPerReq, h.S!.cpuPerReq) + ' (node/h123)']);
  rows.push(['B MB/s (1 MiB in 16 KiB)', h.B!.mbps, n.B!.mbps, ratio(h.B!.mbps, n.B!.mbps)]);
  rows.push(['B server CPU µs/request', h.B!.cpuPerReq, n.B!.cpuPerReq, ratio(n.B!.cpuPerReq, h.B!.cpuPerReq) + ' (node/h123)']);
  rows.push(['B req/s', h.B!.rps, n.B!.rps, ratio(h.B!.rps, n.B!.rps)]);
  rows.push(['RSS after load (MB)', h.B!.rss / 1e6, n.B!.rss / 1e6, ratio(h.B!.rss, n.B!.rss)]);
  rows.push(['KB per idle keep-alive conn', h.idle!.rss / 1e3, n.idle!.rss / 1e3, ratio(h.idle!.rss, n.idle!.rss)]);
  table('HTTP/1.1 — h123 vs node:http (h2load --h1 -c 50 -t 1, loopback)', ['workload', 'h123', 'node:http', 'h123/node'], rows);
}
