/**
 * A connection whose peer has gone silent ends by idle timeout (RFC 9000 §10.1) although it keeps
 * probing: the idle period is at least three PTOs without their backoff, so the exponentially
 * growing probe interval (RFC 9002 §6.2.1) cannot push the deadline out for ever. Issue 5: a
 * handshake benchmark hung on a client whose server had forgotten it.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { Pair } from '../sim/harness.js';

const closedOf = (events: ConnectionEvent[]) => events.find((e) => e.type === 'closed') as Extract<ConnectionEvent, { type: 'closed' }> | undefined;

describe('idle timeout with a silent peer (RFC 9000 §10.1)', () => {
  it('a client whose Initials never get an answer closes after max(idle, 3 × PTO) and reports it', () => {
    // Nothing reaches the server: no RTT sample, so the PTO rests on the initial RTT (RFC 9002 §6.2.2).
    const pair = new Pair({ link: { delay: 10, loss: 1, lossyDirection: 'to-server' }, client: { transport: { maxIdleTimeout: 2000 } } });
    const start = pair.now;
    expect(pair.run(() => pair.client.state === 'closed', 120_000)).toBe(true);
    expect(closedOf(pair.clientEvents)?.error.source).toBe('idle');
    // 3 × (333 + 4 × 333/2 + max_ack_delay 25) ≈ 3.07 s; the backed-off probes are at 1, 3, 7 … s.
    expect(pair.now - start).toBeGreaterThanOrEqual(2000);
    expect(pair.now - start).toBeLessThan(3500);
    // It did probe in the meantime (RFC 9002 §6.2.4).
    expect(pair.clientSent.length).toBeGreaterThan(1);
  });

  it('an established connection whose path goes dead closes by idle timeout, not probing for ever', () => {
    const pair = new Pair({ client: { transport: { maxIdleTimeout: 1000 } }, serverRouter: { transport: { maxIdleTimeout: 1000 } } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 200); // HANDSHAKE_DONE and the last ACKs
    // From now on every datagram in both directions is lost; the client has data in flight.
    pair.link.conditions.blackholes = [[pair.now, Infinity]];
    const id = pair.client.openStream(true)!;
    pair.client.write(id, Buffer.alloc(1000, 1), true);
    const quietFrom = pair.now;
    expect(pair.run(() => pair.client.state === 'closed' && pair.server!.state === 'closed', 120_000)).toBe(true);
    expect(closedOf(pair.clientEvents)?.error.source).toBe('idle');
    expect(closedOf(pair.serverEvents)?.error.source).toBe('idle');
    // The PTO on this 20 ms path is well under 1 s / 3, so max_idle_timeout itself applies.
    expect(pair.now - quietFrom).toBeLessThan(1500);
  });
});
