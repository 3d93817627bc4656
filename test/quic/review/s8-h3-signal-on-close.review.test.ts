/**
 * Review of b74abde (release() of ended QUIC connections, RFC 9000 §10.2) from the HTTP/3 side:
 * a request in flight when the connection ends, whichever way it ends (the peer's CONNECTION_CLOSE,
 * the idle timeout, a stateless reset), still gets what the application is owed: the server
 * handler's req.signal aborts and its late writes and end() neither throw nor hang (RFC 9114 §5.3;
 * DESIGN.md: "A client that disconnects ... aborts req.signal; later writes are dropped and end()
 * resolves"), and the client's pending request rejects.
 */
import { describe, expect, it } from 'vitest';
import type { Handler } from '../../../src/core/types.js';
import { H3ClientConnection, H3ServerConnection } from '../../../src/h3/connection.js';
import { isStreamEvent } from '../../../src/h3/transport.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { seededRandom } from '../../h3/connection-harness.js';
import { CERT, CLIENT_ADDR, KEY, Pair, SERVER_ADDR, seededBytes } from '../sim/harness.js';

interface Held {
  aborted: Promise<unknown>;
  /** The handler's end() after the abort: resolved (true) or thrown (the error). */
  ended: Promise<true | unknown>;
}

function setup(transport?: { maxIdleTimeout: number }) {
  const pair = new Pair({ link: { delay: 10 }, serverRouter: transport ? { transport } : undefined });
  const client = new H3ClientConnection(pair.client, { random: seededRandom(1) });
  let server: H3ServerConnection | undefined;
  let started!: (h: Held) => void;
  const held = new Promise<Held>((resolve) => (started = resolve));
  const handler: Handler = (req, res) => {
    res.writeHead(200);
    res.write('first part');
    res.flush();
    const aborted = new Promise((resolve) => req.signal.addEventListener('abort', () => resolve(req.signal.reason), { once: true }));
    const ended = aborted.then(async () => {
      res.write('late');
      await res.end('late end');
      return true as const;
    }).catch((err: unknown) => err);
    started({ aborted, ended });
  };
  pair.onClientEvent = (e) => {
    if (e.type === 'handshake-complete') client.start();
    else if (isStreamEvent(e)) client.handleEvent(e);
  };
  pair.onServerEvent = (e) => {
    server ??= new H3ServerConnection(pair.server!, { clock: Date.now, handler, remoteAddress: '10.0.0.1', remotePort: 50000, random: seededRandom(2), onHandlerError: () => {} });
    if (e.type === 'handshake-complete') server.start();
    else if (isStreamEvent(e)) server.handleEvent(e);
  };
  expect(pair.handshake()).toBe(true);
  const response = client.request({ method: 'GET', scheme: 'https', authority: 'localhost', path: '/held' });
  const settled = response.then(async (r) => {
    for await (const _ of r.body);
    return 'complete' as const;
  }).catch((err: unknown) => err);
  /** Steps simulated time and turns the event loop until `done` settles. */
  async function until<T>(done: Promise<T>, maxSimMs = 120_000): Promise<T> {
    let finished = false;
    let value!: T;
    void done.then((v) => {
      finished = true;
      value = v;
    });
    const deadline = pair.now + maxSimMs;
    while (!finished) {
      if (pair.now > deadline) throw new Error('simulated time ran out');
      pair.step(pair.now + 5);
      await new Promise((r) => setImmediate(r));
    }
    return value;
  }
  return { pair, held, settled, until };
}

describe('s8 review: requests in flight when the QUIC connection ends', () => {
  it('the client closes the connection: the handler sees req.signal abort, and end() resolves', async () => {
    const s = setup();
    const held = await s.until(s.held);
    s.pair.client.close(0x100, 'going away');
    await s.until(held.aborted);
    expect(await s.until(held.ended)).toBe(true);
    expect(await s.until(s.settled)).toBeInstanceOf(Error);
    // The server drained and let its state go (RFC 9000 §10.2.2).
    expect(s.pair.server!.state === 'draining' || s.pair.server!.state === 'closed').toBe(true);
    expect(s.pair.server!.isReleased).toBe(true);
  });

  it('the server idle timeout ends it while the client is silent: req.signal aborts (RFC 9000 §10.1)', async () => {
    const s = setup({ maxIdleTimeout: 3_000 });
    const held = await s.until(s.held);
    // Nothing reaches the server any more.
    s.pair.link.conditions = { delay: 10, blackholes: [[s.pair.now, s.pair.now + 3_600_000]] };
    await s.until(held.aborted, 60_000);
    expect(s.pair.server!.closeReason).toMatchObject({ source: 'idle' });
    expect(await s.until(held.ended)).toBe(true);
  });

  it('a stateless reset ends the client: its pending request rejects (RFC 9000 §10.3)', async () => {
    const s = setup();
    await s.until(s.held);
    // The server loses its state: a new router with the same static keys answers with a reset.
    const fresh = new ConnectionRouter({ random: seededBytes('server-1'), server: { certificateChain: [CERT], privateKey: KEY, alpn: ['h3'] } });
    s.pair.client.write(s.pair.client.openStream()!, Buffer.from('anyone?'), true);
    for (const d of s.pair.client.transmit(s.pair.now)) fresh.receive(d.data, CLIENT_ADDR, s.pair.now);
    const [reset] = fresh.transmit(s.pair.now);
    expect(reset).toBeDefined();
    s.pair.clientRouter.receive(reset!.data, SERVER_ADDR, s.pair.now);
    const outcome = await s.until(s.settled);
    expect(outcome).toBeInstanceOf(Error);
    expect(s.pair.client.closeReason).toMatchObject({ source: 'reset' });
    expect(s.pair.client.isReleased).toBe(true);
  });
});
