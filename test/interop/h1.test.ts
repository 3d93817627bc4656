/**
 * Real clients against the h1 server on loopback: curl (chunk timing), our own client (keep-alive,
 * streaming bodies, trailers) and an EventSource-style reader for /sse with reconnect.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from '../../src/core/types.js';
import { demoHandler } from '../../src/demo/routes.js';
import { H1Agent, h1Request } from '../../src/h1/client.js';
import { readAll } from '../../src/core/body.js';
import { startCleartext } from '../helpers/server.js';
import { findProgram, skipMessage } from '../helpers/peers.js';

const writeTimes = new Map<string, number[]>();
const remotePorts = new Map<string, number>();
const handler: Handler = (req, res) => {
  remotePorts.set(req.path, req.remotePort);
  const times: number[] = [];
  writeTimes.set(req.path, times);
  const write = res.write.bind(res);
  res.write = (chunk) => { times.push(performance.now()); return write(chunk); };
  return demoHandler(req, res);
};

let server: Awaited<ReturnType<typeof startCleartext>>;
beforeAll(async () => { server = await startCleartext(handler, { h2: false }); });
afterAll(async () => { await server.close(); });

const curl = findProgram('curl');

describe('curl', () => {
  it.skipIf(!curl)(`receives each /stream chunk as it is flushed (${curl ? 'curl found' : skipMessage('curl', 'curl')})`, async () => {
    const path = '/stream?n=3&interval=300&c=curl';
    const child = spawn(curl!, ['--no-buffer', '-s', '--http1.1', `${server.url}${path}`]);
    const arrivals: { at: number; text: string }[] = [];
    child.stdout.on('data', (d: Buffer) => arrivals.push({ at: performance.now(), text: d.toString() }));
    await new Promise((r) => child.on('close', r));
    expect(arrivals.map((a) => a.text).join('')).toBe('chunk 1\nchunk 2\nchunk 3\n');
    const writes = writeTimes.get(path)!;
    expect(writes).toHaveLength(3);
    const first = arrivals.find((a) => a.text.includes('chunk 1'))!;
    // The first chunk reached curl before the server even wrote the second one.
    expect(first.at).toBeLessThan(writes[1]!);
  });
});

describe('h123 HTTP/1.1 client', () => {
  it('reuses a keep-alive connection', async () => {
    const agent = new H1Agent();
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const path = `/bytes?size=1000&reuse=${i}`;
      const res = await agent.request(new URL(`${server.url}${path}`));
      expect(res.status).toBe(200);
      expect((await readAll(res.body)).length).toBe(1000);
      ports.add(remotePorts.get(path)!);
    }
    agent.close();
    expect(ports.size).toBe(1); // one client port: one connection for all three
  });

  it('streams a request body and reads trailers', async () => {
    async function* parts() { yield Buffer.from('one '); yield Buffer.from('two'); }
    const echoed = await h1Request(`${server.url}/echo`, { method: 'POST', body: parts() });
    expect((await readAll(echoed.body)).toString()).toBe('one two');
    const t = await h1Request(`${server.url}/trailers`);
    const body = await readAll(t.body);
    const trailers = await t.trailers;
    const { createHash } = await import('node:crypto');
    expect(trailers?.get('x-checksum')).toBe(createHash('sha256').update(body).digest('hex'));
  });
});

/** An EventSource-style reader (HTML §9.2): parses events, reconnects with Last-Event-ID. */
async function readEvents(url: string, lastEventId: string | undefined, stopAfter: number): Promise<{ id: string; data: string }[]> {
  const controller = new AbortController();
  const res = await h1Request(url, { headers: lastEventId ? [['last-event-id', lastEventId]] : [], signal: controller.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: { id: string; data: string }[] = [];
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      buffer += Buffer.from(chunk).toString();
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = '', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (data) events.push({ id, data });
        if (events.length === stopAfter) { controller.abort(); return events; }
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  }
  return events;
}

describe('/sse with reconnect', () => {
  it('resumes after Last-Event-ID', async () => {
    const url = `${server.url}/sse?n=5&interval=20`;
    const first = await readEvents(url, undefined, 2); // the connection drops after two events
    expect(first).toEqual([{ id: '1', data: 'message 1' }, { id: '2', data: 'message 2' }]);
    const rest = await readEvents(url, first.at(-1)!.id, 100);
    expect(rest.map((e) => e.id)).toEqual(['3', '4', '5']);
    expect(rest.map((e) => e.data)).toEqual(['message 3', 'message 4', 'message 5']);
  });
});
