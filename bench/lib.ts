/** Shared benchmark plumbing: server processes, h2load runs, tables with ratios. */
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findProgram(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (!dir) continue;
    try { accessSync(join(dir, name), constants.X_OK); return join(dir, name); } catch { /* next */ }
  }
  return null;
}

export interface ServerProcess {
  port: number;
  rss(): Promise<number>;
  /** JS heap in use after a full GC, in bytes. */
  heap(): Promise<number>;
  /** CPU time the server process has used so far, in microseconds. */
  cpu(): Promise<number>;
  stop(): void;
}

export function startServerProcess(impl: 'h123' | 'node', proto: 'h1' | 'h2' | 'h2c' | 'h3', tls?: { certFile: string; keyFile: string }): Promise<ServerProcess> {
  const script = fileURLToPath(new URL('./server-process.js', import.meta.url));
  const args = ['--expose-gc', script, impl, proto];
  if (tls) args.push(tls.certFile, tls.keyFile);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => waiting.push(r));
  return next().then((first) => {
    const port = Number(first.split(' ')[1]);
    return {
      port,
      async rss() {
        child.stdin.write('rss\n');
        return Number((await next()).split(' ')[1]);
      },
      async heap() {
        child.stdin.write('heap\n');
        return Number((await next()).split(' ')[1]);
      },
      async cpu() {
        child.stdin.write('cpu\n');
        return Number((await next()).split(' ')[1]);
      },
      stop() { child.stdin.end(); child.kill(); },
    };
  });
}

export interface LoadResult { reqPerSec: number; mbPerSec: number; succeeded: number; total: number }

export function h2load(args: string[]): Promise<LoadResult> {
  const bin = findProgram('h2load');
  if (!bin) throw new Error('h2load not installed');
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 1 << 24 }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      const fin = /finished in [\d.]+m?s, ([\d.]+) req\/s, ([\d.]+)([KMG]?)B\/s/.exec(stdout);
      const req = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded/.exec(stdout);
      if (!fin || !req) return reject(new Error(`cannot read h2load output:\n${stdout}`));
      const scale = { '': 1 / 1e6, K: 1 / 1e3, M: 1, G: 1e3 }[fin[3] as '' | 'K' | 'M' | 'G'];
      resolve({ reqPerSec: Number(fin[1]), mbPerSec: Number(fin[2]) * scale, total: Number(req[1]), succeeded: Number(req[2]) });
    });
  });
}

export function table(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  console.log(`\n${title}`);
  for (const [i, r] of cells.entries()) {
    console.log('  ' + r.map((c, j) => String(c).padStart(widths[j]!)).join('  '));
    if (i === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** A port nothing listens on now (asked of TCP; native QUIC peers bind the same number on UDP). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
