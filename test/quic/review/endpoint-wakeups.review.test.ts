/**
 * Review of the endpoint's wake-ups (f8adc21, 52a31ce; src/quic/endpoint.ts armTimer): a due
 * deadline after a pump that sent is served on the next turn, after one that sent nothing by the
 * timer. The bound must hold per pump, not once per run: a router that has something to send on
 * every other pump while a deadline stays due (an ACK owed that the amplification limit holds
 * back, RFC 9000 §8.1, next to a connection that sends now and then) must not spin either.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingDatagram } from '../../../src/quic/connection/types.js';
import { QuicEndpoint } from '../../../src/quic/endpoint.js';

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(endpoints.splice(0).map((e) => e.close(0, '', 200)));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('review: endpoint wake-ups with a deadline that stays due', () => {
  it('sending on every other pump: each pump that sent nothing waits for the timer, so at most about two pumps per millisecond', async () => {
    const sink = createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    const ep = await QuicEndpoint.listen({ host: '127.0.0.1' });
    endpoints.push(ep);
    const to = { address: '127.0.0.1', port: sink.address().port };
    let pumps = 0;
    let sent = 0;
    vi.spyOn(ep.router, 'transmit').mockImplementation((): OutgoingDatagram[] => {
      pumps++;
      if (pumps % 2 === 1) {
        sent++;
        return [{ data: Buffer.alloc(20), to }];
      }
      return [];
    });
    let due = true;
    vi.spyOn(ep.router, 'nextTimeout').mockImplementation(() => (due ? Date.now() : undefined));
    ep.flush();
    await sleep(100);
    due = false;
    await sleep(5);
    // One timer-driven pump (sends) and the immediate one after it (sends nothing) per timer
    // tick: about 200 in 100 ms at most. A guard that remembers an earlier send would spin.
    expect(sent).toBeGreaterThan(1);
    expect(pumps).toBeLessThan(400);
    sink.close();
  });
});
