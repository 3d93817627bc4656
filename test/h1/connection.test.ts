/**
 * The sans-I/O HTTP/1.1 connection in memory, with an injected clock: the same input gives the
 * same output however it is split, hostile bytes never throw, and timeouts fire at exact times.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H1ServerConnection } from '../../src/h1/connection.js';
import type { Handler } from '../../src/core/types.js';
import { readAll } from '../../src/core/body.js';

const handler: Handler = async (req, res) => {
  const body = await readAll(req.body);
  res.writeHead(200, { 'x-path': req.path });
  res.write(`${req.method} ${body.length}`);
  res.flush();
  await res.end('\n');
};

async function run(pieces: Uint8Array[], h: Handler = handler): Promise<{ out: string; state: string }> {
  const conn = new H1ServerConnection({ handler: h, scheme: 'http', remoteAddress: '127.0.0.1', remotePort: 1, clock: () => 0 });
  const out: Uint8Array[] = [];
  conn.onWake = () => { out.push(...conn.transmit()); };
  for (const p of pieces) {
    conn.receive(p, 0);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  out.push(...conn.transmit());
  return { out: Buffer.concat(out).toString('latin1'), state: conn.state };
}

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let last = 0;
  for (const p of points) { pieces.push(bytes.subarray(last, p)); last = p; }
  pieces.push(bytes.subarray(last));
  return pieces.filter((p) => p.length > 0);
}

const requests = Buffer.from(
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
  'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
  'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nx-t: 1\r\n\r\n' +
  'GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1');

describe('H1ServerConnection (sans-I/O)', () => {
  it('answers pipelined requests in order, then closes on Connection: close', async () => {
    const { out, state } = await run([requests]);
    const paths = [...out.matchAll(/x-path: (\S+)/g)].map((m) => m[1]);
    expect(paths).toEqual(['/a', '/b', '/c', '/d']);
    expect(out).toContain('GET 0');
    // /b by Content-Length and /c chunked (with an extension and a trailer) both carry 5 bytes.
    expect(out.match(/POST 5/g)).toHaveLength(2);
    expect(state).toBe('closing');
  });

  it('gives byte-identical output for any split of the input (property)', async () => {
    const whole = (await run([requests])).out;
    await fc.assert(fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (cuts) => {
      const { out } = await run(split(requests, cuts));
      expect(out).toBe(whole);
    }), { numRuns: 60 });
  });

  it('never throws on random bytes, and answers with a status or waits (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 4 }), async (bytes, cuts) => {
      const { out } = await run(split(Buffer.from(bytes), cuts));
      if (out.length > 0) expect(out).toMatch(/^HTTP\/1\.1 \d{3} /);
    }), { numRuns: 150 });
  });

  it('times out a slow head at exactly headersTimeoutMs with 408', () => {
    let now = 1000;
    const conn = new H1ServerConnection({ handler, scheme: 'http', remoteAddress: '', remotePort: 0, clock: () => now, limits: { headersTimeoutMs: 500 } });
    conn.receive(Buffer.from('GET / HTTP/1.1\r\n'), now);
    expect(conn.nextTimeout()).toBe(1500);
    now = 1499;
    conn.handleTimeout(now);
    expect(conn.transmit()).toHaveLength(0);
    now = 1500;
    conn.handleTimeout(now);
    expect(Buffer.concat(conn.transmit()).toString()).toMatch(/^HTTP\/1\.1 408 /);
    expect(conn.shouldClose).toBe(true);
  });
});

describe('H1ServerConnection response heads (RFC 9112 §6.1, §6.3, §9.6; RFC 9110 §6.6.1, §8.6)', () => {
  const head = (out: string): string[] => out.slice(0, out.indexOf('\r\n\r\n')).split('\r\n');

  it('replaces the handler’s Transfer-Encoding with its own chunked coding', async () => {
    const { out } = await run([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], async (_req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'gzip', 'x-a': '1' });
      res.flush();
      await res.end('abc');
    });
    expect(head(out).slice(1, -1)).toEqual(['x-a: 1', 'transfer-encoding: chunked']);
    expect(out).toContain('\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  });

  it('drops an invalid Content-Length and sends the body chunked', async () => {
    const { out } = await run([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], async (_req, res) => {
      res.setHeader('content-length', '1x');
      res.flush();
      await res.end('abc');
    });
    expect(out).not.toMatch(/content-length/i);
    expect(head(out)).toContain('transfer-encoding: chunked');
  });

  it('keeps a valid Content-Length, sends no Content-Length in a 204, and keeps the handler’s Date', async () => {
    const { out } = await run([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n')], async (req, res) => {
      if (req.path === '/') {
        res.writeHead(200, { 'content-length': '3', date: 'Sun, 06 Nov 1994 08:49:37 GMT' });
        res.flush();
        await res.end('abc');
      } else {
        res.writeHead(204, { 'content-length': '3' });
        await res.end();
      }
    });
    const [first, second] = out.split('HTTP/1.1 ').slice(1).map((r) => head(`HTTP/1.1 ${r}`));
    expect(first!.slice(1)).toEqual(['content-length: 3', 'date: Sun, 06 Nov 1994 08:49:37 GMT']);
    expect(second![0]).toBe('HTTP/1.1 204 No Content');
    expect(second!.filter((l) => /^content-length/i.test(l))).toEqual([]);
    expect(second!.filter((l) => l.startsWith('date: '))).toHaveLength(1);
  });

  it('sends one Connection: close when the handler closes, and closes after the response', async () => {
    const { out, state } = await run([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], async (_req, res) => {
      res.writeHead(200, { connection: 'Close', 'content-length': '2' });
      await res.end('ok');
    });
    expect(head(out).filter((l) => l.startsWith('connection:'))).toEqual(['connection: close']);
    expect(state).toBe('closing');
  });

  it('answers an HTTP/1.0 keep-alive request with Connection: keep-alive, replacing the handler’s', async () => {
    const { out, state } = await run([Buffer.from('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')], async (_req, res) => {
      res.writeHead(200, { connection: 'x-custom', 'content-length': '2' });
      await res.end('ok');
    });
    expect(head(out).filter((l) => l.startsWith('connection:'))).toEqual(['connection: keep-alive']);
    expect(state).toBe('idle');
  });
});
