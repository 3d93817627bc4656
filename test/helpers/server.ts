/** Starts h123 servers on loopback with ephemeral ports for tests; each test closes its own. */
import net from 'node:net';
import { serve, type RunningServer, type ServeOptions } from '../../src/serve.js';
import type { Handler } from '../../src/core/types.js';

export async function startCleartext(handler: Handler, options: ServeOptions = {}): Promise<RunningServer & { url: string }> {
  const server = await serve(handler, { host: '127.0.0.1', port: 0, httpPort: 0, h3: false, ...options });
  return Object.assign(server, { url: `http://127.0.0.1:${server.httpPort}` });
}

/** Sends raw bytes and collects everything until the server closes (or `timeoutMs`). */
export function rawExchange(port: number, chunks: (string | Buffer)[], timeoutMs = 3000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => { socket.destroy(); done(); }, timeoutMs);
    const done = (): void => { clearTimeout(timer); resolve({ data: Buffer.concat(received), closed }); };
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => {});
    socket.on('close', () => { closed = true; done(); });
    socket.on('connect', () => { for (const c of chunks) socket.write(c); });
  });
}

export function statusLines(data: Buffer): number[] {
  return [...data.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
