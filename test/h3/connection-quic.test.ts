/**
 * HTTP/3 over the real sans-I/O QUIC connection (src/quic/connection.ts) and the simulated link
 * (test/quic/sim): the demo routes with loss, reordering and duplication, and a graceful shutdown
 * that loses no accepted request (RFC 9114 §5.2). Simulated time advances in small steps and the
 * event loop turns between them, so that handlers (promises, timers) run as they would live.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readAll } from '../../src/core/body.js';
import type { Handler } from '../../src/core/types.js';
import { demoHandler } from '../../src/demo/routes.js';
import { H3ClientConnection, H3RequestRejected, H3ServerConnection } from '../../src/h3/connection.js';
import { H3ErrorCode } from '../../src/h3/errors.js';
import { isStreamEvent } from '../../src/h3/transport.js';
import type { LinkConditions } from '../quic/sim/link.js';
import { Pair, pattern, sha256 } from '../quic/sim/harness.js';
import { seededRandom } from './connection-harness.js';

interface H3Pair {
  pair: Pair;
  client: H3ClientConnection;
  server: () => H3ServerConnection;
  /** Steps simulated time (≤ 5 ms at a time) and real time until `done` settles. */
  until<T>(done: Promise<T>, maxSimMs?: number): Promise<T>;
}

function h3Pair(handler: Handler, link: LinkConditions, seed = 1): H3Pair {
  const pair = new Pair({ link, seed });
  const client = new H3ClientConnection(pair.client, { random: seededRandom(seed) });
  let server: H3ServerConnection | undefined;
  pair.onClientEvent = (e) => {
    if (e.type === 'handshake-complete') client.start();
    else if (isStreamEvent(e)) client.handleEvent(e);
  };
  pair.onServerEvent = (e) => {
    server ??= new H3ServerConnection(pair.server!, { clock: Date.now, handler, remoteAddress: '10.0.0.1', remotePort: 50000, random: seededRandom(seed + 1), onHandlerError: () => {} });
    if (e.type === 'handshake-complete') server.start();
    else if (isStreamEvent(e)) server.handleEvent(e);
  };
  return {
    pair,
    client,
    server: () => server!,
    async until<T>(done: Promise<T>, maxSimMs = 120_000): Promise<T> {
      let settled = false;
      let failure: unknown;
      let value!: T;
      done.then((v) => { settled = true; value = v; }, (err) => { settled = true; failure = err; });
      const deadline = pair.now + maxSimMs;
      while (!settled) {
        if (pair.now > deadline) throw new Error('simulated time ran out');
        pair.step(pair.now + 5);
        await new Promise((r) => setImmediate(r));
      }
      pair.flush();
      if (failure !== undefined) throw failure;
      return value;
    },
  };
}

const LOSSY: LinkConditions = { delay: 15, loss: 0.03, reorder: 0.05, reorderDelay: 10, duplicate: 0.02 };

const get = (client: H3ClientConnection, path: string, method = 'GET', body?: Uint8Array) =>
  client.request({ method, scheme: 'https', authority: 'localhost', path, body });

describe('HTTP/3 over QUIC on a lossy simulated link', () => {
  it('the demo routes: /bytes checksum, /stream, /trailers, POST /echo', async () => {
    const h = h3Pair(demoHandler, LOSSY, 3);
    expect(h.pair.handshake()).toBe(true);
    const size = 300_000;
    const bytes = await h.until(get(h.client, `/bytes?size=${size}`).then((r) => readAll(r.body)));
    expect(bytes.length).toBe(size);
    expect(sha256(bytes)).toBe(sha256(pattern(size)));

    const stream = await h.until(get(h.client, '/stream?n=4&interval=0').then((r) => readAll(r.body)));
    expect(stream.toString()).toBe('chunk 1\nchunk 2\nchunk 3\nchunk 4\n');

    const trailers = await h.until(get(h.client, '/trailers').then(async (r) => ({ body: await readAll(r.body), trailers: await r.trailers })));
    expect(trailers.trailers?.get('x-checksum')).toBe(createHash('sha256').update(trailers.body).digest('hex'));

    const input = pattern(100_000, 7);
    const echoed = await h.until(get(h.client, '/echo', 'POST', input).then((r) => readAll(r.body)));
    expect(echoed.equals(input)).toBe(true);
  }, 60_000);

  it('graceful shutdown loses no accepted request (RFC 9114 §5.2)', async () => {
    let started = 0;
    const releases: (() => void)[] = [];
    const handler: Handler = async (_req, res) => {
      started++;
      await new Promise<void>((r) => releases.push(r));
      await res.end('done');
    };
    const h = h3Pair(handler, { delay: 10, loss: 0.02 }, 5);
    expect(h.pair.handshake()).toBe(true);
    const accepted = [get(h.client, '/1'), get(h.client, '/2'), get(h.client, '/3')];
    await h.until((async () => { while (started < 3) await new Promise((r) => setImmediate(r)); })());
    h.server().shutdown();
    const late = get(h.client, '/late');
    // Rejected while the accepted requests are still open, in simulated time (a real-time wait
    // stepped fewer simulated milliseconds on a loaded machine).
    await expect(h.until(late)).rejects.toBeInstanceOf(H3RequestRejected);
    expect(started).toBe(3);
    releases.forEach((r) => r());
    const bodies = await h.until(Promise.all(accepted.map(async (p) => (await readAll((await p).body)).toString())));
    expect(bodies).toEqual(['done', 'done', 'done']);
    expect(started).toBe(3);
    // The server closes once the last accepted response is acknowledged: wait for that event.
    await h.until((async () => { while (h.pair.server!.closeReason === undefined) await new Promise((r) => setImmediate(r)); })());
    expect(h.pair.server!.closeReason?.code).toBe(H3ErrorCode.H3_NO_ERROR);
  }, 60_000);
});
