/**
 * QuicEndpoint.ref()/unref(), as net.Socket's: an unref'd endpoint — its UDP socket and the timer
 * it arms for its connections' deadlines — does not keep the process alive, so an idle pooled
 * HTTP/3 client connection lets a program exit. Checked in child processes against a server here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuicEndpoint } from '../../src/quic/endpoint.js';
import { CERT, KEY } from './sim/harness.js';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
let server: QuicEndpoint;

beforeAll(async () => {
  server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] },
    onEvent(conn, e) {
      if (e.type === 'stream-data' && e.fin) conn.write(e.id, Buffer.from('ok'), true);
    },
  });
});
afterAll(async () => {
  await server.close(0, '', 200);
});

/** Starts the idle client; resolves once it holds an idle open connection. */
async function idleClient(mode: 'unref' | 'ref' | 'unref-then-ref'): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [here('./child/run-ts.mjs'), here('./child/idle-client.ts'), String(server.address.port), mode, here('./tls/certs/ca.pem')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('idle')) resolve();
    });
    void exited.then((code) => reject(new Error(`child exited (${code}) before its request finished: ${stderr}`)));
  });
  return { child, exited };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms))]);

describe('QuicEndpoint ref/unref', () => {
  it('a process whose client endpoint is unref\'d exits while its connection is open and idle', async () => {
    const { exited } = await idleClient('unref');
    // The connection's idle timeout is 30 s: only an unref'd socket and timer let it go now.
    expect(await within(exited, 5_000)).toBe(0);
  }, 20_000);

  it('a referenced endpoint (by default, or ref() after unref()) keeps the process alive', async () => {
    const clients = await Promise.all([idleClient('ref'), idleClient('unref-then-ref')]);
    for (const { exited } of clients) expect(await within(exited, 1_000)).toBe('timeout');
    for (const { child, exited } of clients) {
      child.kill();
      await exited;
    }
  }, 20_000);

  it('ref() and unref() return the endpoint', async () => {
    const ep = await QuicEndpoint.listen({ host: '127.0.0.1' });
    expect(ep.unref()).toBe(ep);
    expect(ep.ref()).toBe(ep);
    await ep.close(0, '', 100);
  });
});
