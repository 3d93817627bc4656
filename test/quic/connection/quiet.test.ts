/**
 * An idle connection's quiet state (connection.ts `quiet`, issue 5): once a transmit() of an
 * established connection finds nothing to send, transmit(), nextTimeout() and poll() answer from
 * what it saw until an input or an application call. These tests check that every call that can
 * create output wakes the connection within the same pump, that deadlines nobody touches still
 * fire (idle timeout RFC 9000 §10.1, PTO RFC 9002 §6.2, ACK delay RFC 9000 §13.2.1), and that the
 * cached answers always equal freshly computed ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { computedTimeout, Pair, SERVER_ADDR } from '../sim/harness.js';

/** Handshake, then run until nothing is left to exchange before the idle deadline. */
function idlePair(maxIdleTimeout = 30_000): Pair {
  const pair = new Pair({ serverRouter: { transport: { maxIdleTimeout } }, client: { transport: { maxIdleTimeout } } });
  expect(pair.handshake()).toBe(true);
  pair.settle();
  return pair;
}

/** Whether the connection's transmit() now sends nothing, twice in a row (the second from the quiet state). */
function isIdle(conn: Connection, now: number): boolean {
  return conn.transmit(now).length === 0 && conn.transmit(now).length === 0;
}

describe('QUIC connection quiet state (issue 5)', () => {
  const wakers: [string, (p: Pair) => void][] = [
    // The stream is opened first (that alone sends nothing) and the connection made quiet again.
    ['write', (p) => { const id = p.server!.openStream(false)!; expect(isIdle(p.server!, p.now)).toBe(true); p.server!.write(id, Buffer.from('hello')); }],
    ['end', (p) => { const id = p.server!.openStream(false)!; expect(isIdle(p.server!, p.now)).toBe(true); p.server!.end(id); }],
    ['updateKeys + write', (p) => {
      const id = p.server!.openStream(false)!;
      expect(p.server!.updateKeys()).toBe(true);
      expect(isIdle(p.server!, p.now)).toBe(true);
      p.server!.write(id, Buffer.from('new keys'));
    }],
    ['close', (p) => p.server!.close(0, 'bye')],
    ['closeGracefully', (p) => p.server!.closeGracefully(0, 'bye')],
  ];
  for (const [name, wake] of wakers) {
    it(`an idle connection woken only by ${name}() sends within the same pump`, () => {
      const pair = idlePair();
      expect(isIdle(pair.server!, pair.now)).toBe(true);
      expect(pair.serverRouter.transmit(pair.now)).toEqual([]);
      wake(pair);
      expect(pair.serverRouter.transmit(pair.now).length).toBeGreaterThan(0);
    });
  }

  it('resetStream() and stopSending() of an idle connection send within the same pump (RFC 9000 §19.4, §19.5)', () => {
    const pair = idlePair();
    const id = pair.client.openStream(true)!;
    pair.client.write(id, Buffer.from('request'));
    pair.run(() => pair.serverEvents.some((e) => e.type === 'stream-data' && e.id === id));
    for (let i = 0; i < 100 && pair.step(pair.now + 100); i++);
    pair.flush();
    expect(isIdle(pair.server!, pair.now)).toBe(true);
    pair.server!.stopSending(id, 7);
    expect(pair.server!.transmit(pair.now).length).toBeGreaterThan(0);
    expect(isIdle(pair.server!, pair.now)).toBe(true);
    pair.server!.write(id, Buffer.from('x'));
    pair.server!.transmit(pair.now);
    expect(isIdle(pair.server!, pair.now)).toBe(true);
    pair.server!.resetStream(id, 9);
    expect(pair.server!.transmit(pair.now).length).toBeGreaterThan(0);
  });

  it('migrate() of an idle client sends a PATH_CHALLENGE within the same pump (RFC 9000 §9.2)', () => {
    const pair = idlePair();
    expect(isIdle(pair.client, pair.now)).toBe(true);
    pair.client.migrate();
    expect(pair.client.transmit(pair.now).length).toBeGreaterThan(0);
  });

  it('an idle timeout nobody touches still fires (RFC 9000 §10.1)', () => {
    const pair = idlePair(2_000);
    const server = pair.server!;
    expect(isIdle(server, pair.now)).toBe(true);
    const deadline = pair.serverRouter.nextTimeout();
    expect(deadline).toBeDefined();
    expect(deadline).toBe(computedTimeout(server));
    pair.serverRouter.handleTimeout(deadline! - 1);
    expect(server.state).toBe('established');
    pair.serverRouter.handleTimeout(deadline!);
    expect(server.state).toBe('closed');
    expect(pair.serverRouter.connections.size).toBe(0);
    expect(pair.serverRouter.nextTimeout()).toBeUndefined();
    expect(server.poll()).toMatchObject({ type: 'closed' });
  });

  it('a PTO of data nobody acknowledges fires and probes, driven only by the router (RFC 9002 §6.2)', () => {
    const pair = idlePair();
    const server = pair.server!;
    const id = server.openStream(false)!;
    server.write(id, Buffer.from('lost'));
    expect(pair.serverRouter.transmit(pair.now).length).toBe(1); // dropped: never delivered
    expect(isIdle(server, pair.now)).toBe(true);
    const pto = pair.serverRouter.nextTimeout()!;
    expect(pto).toBe(computedTimeout(server));
    expect(server.transmit(pto - 1)).toEqual([]);
    pair.serverRouter.handleTimeout(pto);
    expect(pair.serverRouter.transmit(pto).length).toBeGreaterThan(0);
  });

  it('an ACK owed after max_ack_delay goes out with no other input (RFC 9000 §13.2.1)', () => {
    const pair = idlePair();
    const server = pair.server!;
    const id = pair.client.openStream(false)!;
    pair.client.write(id, Buffer.from('one packet'));
    const [datagram] = pair.client.transmit(pair.now);
    expect(datagram).toBeDefined();
    pair.serverRouter.receive(datagram!.data, pair.clientAddr, pair.now);
    let now = pair.now;
    let sent = 0;
    // The router's own deadline loop: transmit, then wait for nextTimeout.
    for (let i = 0; i < 10 && sent === 0; i++) {
      sent = pair.serverRouter.transmit(now).length;
      if (sent > 0) break;
      const next = pair.serverRouter.nextTimeout()!;
      expect(next).toBe(computedTimeout(server));
      now = Math.max(now, next);
      pair.serverRouter.handleTimeout(now);
    }
    expect(sent).toBeGreaterThan(0);
    expect(now - pair.now).toBeLessThanOrEqual(25);
  });

  it('the quiet answers equal computed ones after any sequence of calls (property)', () => {
    type Op = { kind: 'write' | 'step' | 'poll' | 'close' | 'key'; side: 'client' | 'server'; n: number };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('write', 'step', 'step', 'poll', 'close', 'key'),
      side: fc.constantFrom<Op['side']>('client', 'server'),
      n: fc.integer({ min: 0, max: 3000 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const pair = idlePair();
        for (const o of ops) {
          const conn = o.side === 'client' ? pair.client : pair.server!;
          if (o.kind === 'write' && conn.state === 'established') {
            const id = conn.openStream(false);
            if (id !== null) conn.write(id, Buffer.alloc(o.n, 1), true);
          } else if (o.kind === 'step') pair.step(pair.now + o.n / 10);
          else if (o.kind === 'poll') pair.pollEvents();
          else if (o.kind === 'close' && o.n < 300) conn.close(1, 'done');
          else if (o.kind === 'key') conn.updateKeys();
          for (const c of [pair.client, pair.server!]) {
            expect(c.nextTimeout()).toBe(computedTimeout(c));
            c.transmit(pair.now).forEach((d) => pair.link.send(d.data, c === pair.client ? pair.clientAddr : SERVER_ADDR, d.to, pair.now));
            expect(c.nextTimeout()).toBe(computedTimeout(c));
          }
        }
        // Whatever happened, the pair runs to the end of both connections.
        pair.client.close(0, '');
        pair.server!.close(0, '');
        for (let i = 0; i < 1000 && pair.step(); i++);
        expect(pair.clientRouter.connections.size + pair.serverRouter.connections.size).toBe(0);
      }),
      { numRuns: 25 },
    );
  });
});
