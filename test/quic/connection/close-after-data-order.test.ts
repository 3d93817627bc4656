/**
 * Data before a close is delivered before the close (RFC 9000 §10.2): a peer that sends stream
 * data and then CONNECTION_CLOSE has both processed in one receive batch; the application polls
 * the stream data, then 'closed' — not 'closed' first, after which it would drop the data.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../../src/quic/connection.js';
import { CLIENT_ADDR, establishedPair } from '../sim/harness.js';

describe('QUIC events: stream data that arrived before the close comes before closed (RFC 9000 §10.2)', () => {
  it('two streams of data, then the close, in one batch: both streams, then closed', () => {
    const pair = establishedPair();
    const server = pair.server!;
    for (let e = server.poll(); e !== undefined; e = server.poll());
    const a = pair.client.openStream()!;
    const b = pair.client.openStream()!;
    pair.client.write(a, Buffer.from('first'), true);
    pair.client.write(b, Buffer.from('second'), false);
    const data = pair.client.transmit(pair.now);
    pair.client.close(0x101, 'done');
    const close = pair.client.transmit(pair.now);
    expect(data.length).toBeGreaterThan(0);
    expect(close.length).toBe(1);
    for (const d of [...data, ...close]) pair.serverRouter.receive(d.data, CLIENT_ADDR, pair.now);
    const events: ConnectionEvent[] = [];
    for (let e = server.poll(); e !== undefined; e = server.poll()) events.push(e);
    const kinds = events.map((e) => (e.type === 'stream-data' ? `data ${e.id} ${Buffer.from(e.data).toString()}${e.fin ? ' fin' : ''}` : e.type));
    const closedAt = kinds.indexOf('closed');
    expect(closedAt).toBe(kinds.length - 1);
    expect(kinds).toContain(`data ${a} first fin`);
    expect(kinds).toContain(`data ${b} second`);
    expect(events[closedAt]).toMatchObject({ type: 'closed', error: { code: 0x101, application: true, source: 'peer' } });
  });

  it('a paused stream does not hold the close back, and keeps its data for a resume', () => {
    const pair = establishedPair();
    const server = pair.server!;
    for (let e = server.poll(); e !== undefined; e = server.poll());
    const a = pair.client.openStream()!;
    server.pauseReading(a); // before its data arrives
    pair.client.write(a, Buffer.from('held'), true);
    const data = pair.client.transmit(pair.now);
    pair.client.close(0, 'bye');
    for (const d of [...data, ...pair.client.transmit(pair.now)]) pair.serverRouter.receive(d.data, CLIENT_ADDR, pair.now);
    const events: ConnectionEvent[] = [];
    for (let e = server.poll(); e !== undefined; e = server.poll()) events.push(e);
    expect(events.map((e) => e.type)).toEqual(['stream-opened', 'closed']);
    expect(server.isReleased).toBe(false); // the paused stream's data is still owed
    server.resumeReading(a);
    expect(server.poll()).toMatchObject({ type: 'stream-data', id: a, fin: true });
    expect(server.poll()).toBeUndefined();
    expect(server.isReleased).toBe(true);
  });
});
