/**
 * The router forgets a closed connection in handleTimeout(); a driver that polls events through
 * `router.connections` gets the forgotten ones handed back, with their 'closed' event still
 * unread (issue 5: QuicEndpoint lost it, and a benchmark waited for ever).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { CA, SERVER_ADDR, seededBytes, START } from '../sim/harness.js';

describe('ConnectionRouter.handleTimeout(now, forgotten)', () => {
  it('the router hands a connection it forgets to the driver with its closed event unread', () => {
    // A client router alone: nothing it sends is answered, so only its timers run.
    const router = new ConnectionRouter({ random: seededBytes('alone'), transport: { maxIdleTimeout: 1000 } });
    const conn = router.connect(SERVER_ADDR, { serverName: 'localhost', alpn: ['h3'], ca: [CA] }, START);
    const forgotten: Connection[] = [];
    let now = START;
    for (let steps = 0; router.connections.size > 0 && steps < 100; steps++) {
      router.transmit(now);
      now = router.nextTimeout() ?? now;
      router.handleTimeout(now, forgotten);
    }
    expect(router.connections.size).toBe(0);
    expect(forgotten).toEqual([conn]);
    const closed = conn.poll();
    expect(closed?.type === 'closed' && closed.error.source).toBe('idle');
  });
});
