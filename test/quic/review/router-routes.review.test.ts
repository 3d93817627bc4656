/**
 * Review of the router's per-connection route sets (issue 5; src/quic/connection/router.ts): the
 * connection IDs a connection adds after the handshake (NEW_CONNECTION_ID, RFC 9000 §5.1.1), the
 * one a migrating client moves to (§9.5) and the ones it retires (§19.16) must each stop routing at
 * the right time — a retired one at once, all of them when the connection is gone — so that a
 * short-header packet to any of them is then answered with a stateless reset (§10.3).
 */
import { describe, expect, it } from 'vitest';
import { Pair, pattern, StreamSink } from '../sim/harness.js';

/** The DCID (8 bytes, the router's default length) of a short-header datagram. */
function shortDcid(d: Buffer): string {
  return d.subarray(1, 9).toString('hex');
}

/** A copy of `sample` (a short-header datagram) sent to `cid` instead. */
function to(sample: Buffer, cid: string): Buffer {
  const d = Buffer.from(sample);
  Buffer.from(cid, 'hex').copy(d, 1);
  return d;
}

/** What the server router answers right away to `datagram` (its pending output is drained first). */
function answer(pair: Pair, datagram: Buffer): Buffer[] {
  pair.serverRouter.transmit(pair.now);
  pair.serverRouter.receive(datagram, pair.clientAddr, pair.now);
  return pair.serverRouter.transmit(pair.now).map((d) => d.data);
}

function isStatelessReset(d: Buffer, trigger: Buffer): boolean {
  return (d[0]! & 0xc0) === 0x40 && d.length < trigger.length;
}

describe('review: router routes of a migrated connection (RFC 9000 §5.1, §9.5, §10.3)', () => {
  it('a retired ID stops routing at once; every ID the connection ever had stops when it is gone', () => {
    const pair = new Pair({ link: { delay: 10 } });
    const sink = new StreamSink();
    let migrated = false;
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(200_000), true);
    };
    pair.onClientEvent = (e) => {
      sink.onEvent(e);
      if (!migrated && e.type === 'stream-data' && sink.data(e.id).length > 50_000) {
        migrated = true;
        pair.clientAddr = { address: '10.0.0.9', port: 40000 };
        pair.client.migrate();
      }
    };
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('GET'), true);
    expect(pair.run(() => sink.finished.has(id))).toBe(true);
    expect(migrated).toBe(true);

    const shortHeaders = pair.clientSent.filter((d) => (d[0]! & 0x80) === 0);
    const used = [...new Set(shortHeaders.map(shortDcid))];
    expect(used.length).toBeGreaterThanOrEqual(2); // the first ID, and the one the client migrated to
    const sample = shortHeaders.at(-1)!;
    const current = shortDcid(sample);
    const retired = used.filter((cid) => cid !== current);

    // §19.16: the IDs the client left behind were retired; they no longer reach the connection.
    for (const cid of retired) {
      const d = to(sample, cid);
      const out = answer(pair, d);
      expect(out).toHaveLength(1);
      expect(isStatelessReset(out[0]!, d)).toBe(true);
    }
    // The current one still reaches the live connection (a replayed packet: dropped, no reset).
    expect(answer(pair, to(sample, current))).toHaveLength(0);

    // Every ID the server issued and still had, used or not (§5.1.1), from its NEW_CONNECTION_ID frames.
    const issued = (pair.server as unknown as { localCids: { all(): { cid: Buffer }[] } }).localCids.all().map((c) => c.cid.toString('hex'));
    expect(issued.length).toBeGreaterThan(1);

    pair.server!.close(0, 'bye');
    expect(pair.run(() => pair.client.state === 'closed' && pair.server!.state === 'closed', 10_000)).toBe(true);
    pair.serverRouter.handleTimeout(pair.now);
    expect(pair.serverRouter.connections.size).toBe(0);
    for (const cid of new Set([...used, ...issued])) {
      const d = to(sample, cid);
      const out = answer(pair, d);
      expect(out, `ID ${cid} still routed`).toHaveLength(1);
      expect(isStatelessReset(out[0]!, d)).toBe(true);
    }
  });
});
