/**
 * The connection's sets of stream IDs (readable, paused, waiting for 'writable', known for the
 * graceful close) start as one shared empty set and become the connection's own when first written
 * (issue 5). These tests hold that each connection's sets stay its own: pausing a stream on one
 * connection holds back nothing on another (RFC 9000 §4.1 flow control is per connection), and
 * resuming delivers what was held, in order.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { Pair } from '../sim/harness.js';

const dataOf = (events: ConnectionEvent[], id: number): string =>
  events.map((e) => (e.type === 'stream-data' && e.id === id ? Buffer.from(e.data).toString() : '')).join('');

describe('per-connection stream ID sets', () => {
  it('a stream paused on one connection is delivered on another connection with the same stream ID', () => {
    const paused = new Pair();
    const free = new Pair();
    expect(paused.handshake()).toBe(true);
    expect(free.handshake()).toBe(true);
    const a = paused.client.openStream()!;
    const b = free.client.openStream()!;
    expect(b).toBe(a);
    paused.client.write(a, Buffer.from('ping'));
    free.client.write(b, Buffer.from('ping'));
    // Each server answers on the stream it accepted, one after the other.
    for (const pair of [paused, free]) {
      pair.run(() => pair.serverEvents.some((e) => e.type === 'stream-data' && e.id === a));
      pair.server!.write(a, Buffer.from('pong'));
      pair.server!.end(a);
    }
    paused.client.pauseReading(a);
    expect(paused.run(() => dataOf(paused.clientEvents, a).length > 0, 500)).toBe(false);
    expect(free.run(() => dataOf(free.clientEvents, b) === 'pong')).toBe(true);
    paused.client.resumeReading(a);
    expect(paused.run(() => dataOf(paused.clientEvents, a) === 'pong')).toBe(true);
  });
});
