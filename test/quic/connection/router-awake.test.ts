/**
 * The router's pumps visit only awake connections (router.ts `awake`, issue 5): a quiet connection
 * (Connection.isQuiet) leaves transmit(), handleTimeout(), nextTimeout() and the driver's polling
 * until a public call or an input wakes it (Connection onWake) or its deadline comes. These tests
 * check that nothing is lost that way: the router's deadline is the earliest of every connection's,
 * a woken connection sends within the same pump, deadlines of quiet connections still fire (idle
 * timeout RFC 9000 §10.1, end of the closing period §10.2), and closed ones are forgotten.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { CA, computedTimeout, earliestOf, Pair, SERVER_ADDR } from '../sim/harness.js';

/** A pair with a second client connection on the same routers, both established and settled. */
function twoConnections(maxIdleTimeout = 30_000): { pair: Pair; second: Connection } {
  const pair = new Pair({ serverRouter: { transport: { maxIdleTimeout } }, client: { transport: { maxIdleTimeout } } });
  const second = pair.clientRouter.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, pair.now);
  expect(pair.run(() => pair.client.state === 'established' && second.state === 'established' && pair.serverRouter.connections.size === 2)).toBe(true);
  for (let i = 0; i < 200 && pair.step(pair.now + 100); i++);
  pair.flush();
  for (const c of pair.serverRouter.connections) for (let e = c.poll(); e !== undefined; e = c.poll());
  for (let e = second.poll(); e !== undefined; e = second.poll());
  pair.flush();
  return { pair, second };
}

describe('QUIC router: only awake connections are pumped (issue 5)', () => {
  it('idle connections leave the pumps, and the router keeps their earliest deadline', () => {
    const { pair } = twoConnections();
    for (const router of [pair.clientRouter, pair.serverRouter]) {
      expect(router.connections.size).toBe(2);
      expect(router.awake.size).toBe(0);
      expect(router.nextTimeout()).toBeDefined();
      expect(router.nextTimeout()).toBe(earliestOf(router));
    }
  });

  it('a write to a sleeping connection wakes it and is sent within the same pump', () => {
    const { pair, second } = twoConnections();
    const id = second.openStream(true)!;
    second.write(id, Buffer.from('wake up'));
    expect([...pair.clientRouter.awake]).toEqual([second]);
    expect(pair.clientRouter.transmit(pair.now).length).toBeGreaterThan(0);
    // The server's connection for it wakes on the datagram and delivers the data.
    expect(pair.run(() => {
      for (const c of pair.serverRouter.connections) for (let e = c.poll(); e !== undefined; e = c.poll()) if (e.type === 'stream-data') return true;
      return false;
    }, 1000)).toBe(true);
  });

  it('the idle timeout of sleeping connections fires and they are forgotten (RFC 9000 §10.1)', () => {
    const { pair, second } = twoConnections(2_000);
    const deadline = pair.clientRouter.nextTimeout()!;
    expect(deadline).toBe(earliestOf(pair.clientRouter));
    pair.clientRouter.handleTimeout(deadline - 1);
    expect(pair.clientRouter.connections.size).toBe(2);
    const forgotten: Connection[] = [];
    pair.clientRouter.handleTimeout(Math.max(computedTimeout(pair.client)!, computedTimeout(second)!), forgotten);
    expect(forgotten.length).toBe(2);
    expect(pair.clientRouter.connections.size).toBe(0);
    expect(pair.clientRouter.awake.size).toBe(0);
    expect(pair.clientRouter.nextTimeout()).toBeUndefined();
    for (const c of forgotten) expect(c.poll()).toMatchObject({ type: 'closed' });
  });

  it('a closed connection sleeps through its closing period while the other works, then is forgotten (RFC 9000 §10.2)', () => {
    const { pair, second } = twoConnections();
    second.close(0, 'done');
    pair.flush();
    for (let e = second.poll(); e !== undefined; e = second.poll());
    pair.flush();
    expect(second.state).toBe('closing');
    expect(pair.clientRouter.awake.has(second)).toBe(false);
    expect(pair.clientRouter.nextTimeout()).toBe(earliestOf(pair.clientRouter));
    // The first connection keeps working meanwhile.
    const id = pair.client.openStream(true)!;
    pair.client.write(id, Buffer.from('still here'), true);
    expect(pair.run(() => pair.serverEvents.some((e) => e.type === 'stream-data'), 1000)).toBe(true);
    expect(pair.run(() => pair.clientRouter.connections.size === 1 && pair.serverRouter.connections.size === 1, 10_000)).toBe(true);
    expect(second.state).toBe('closed');
    expect(pair.client.state).toBe('established');
  });

  it('after any sequence of calls, the router deadline is the earliest of its connections (property)', () => {
    type Op = { kind: 'write' | 'step' | 'poll' | 'close'; which: 0 | 1; n: number };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('write', 'step', 'step', 'poll', 'close'),
      which: fc.constantFrom<0 | 1>(0, 1),
      n: fc.integer({ min: 0, max: 3000 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        const { pair, second } = twoConnections();
        for (const o of ops) {
          const conn = o.which === 0 ? pair.client : second;
          if (o.kind === 'write' && conn.state === 'established') {
            const id = conn.openStream(false);
            if (id !== null) conn.write(id, Buffer.alloc(o.n, 1), true);
          } else if (o.kind === 'step') pair.step(pair.now + o.n / 10);
          else if (o.kind === 'poll') for (let e = second.poll(); e !== undefined; e = second.poll());
          else if (o.kind === 'close' && o.n < 300) conn.close(1, 'done');
          pair.flush();
          for (const router of [pair.clientRouter, pair.serverRouter]) {
            expect(router.nextTimeout()).toBe(earliestOf(router));
            for (const c of router.connections) if (!router.awake.has(c)) expect(c.isQuiet).toBe(true);
          }
        }
        pair.client.close(0, '');
        second.close(0, '');
        for (let i = 0; i < 2000 && pair.step(); i++) for (let e = second.poll(); e !== undefined; e = second.poll());
        expect(pair.clientRouter.connections.size + pair.serverRouter.connections.size).toBe(0);
      }),
      { numRuns: 20 },
    );
  });
});
