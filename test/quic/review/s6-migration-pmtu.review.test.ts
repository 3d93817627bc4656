/**
 * Review of the per-path datagram size (RFC 9000 §14, §9.4; RFC 8899 §5.2) across a client
 * migration (RFC 9000 §9.2): a DPLPMTUD probe sent on the old path and acknowledged after the
 * change must not set the datagram size of the new, unvalidated path.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, QlogEvent } from '../../../src/quic/connection.js';
import { Pair, pattern } from '../sim/harness.js';

/** The DPLPMTUD probe size in flight of a connection's path in use (private state under review). */
function probeInFlight(conn: Connection): number | undefined {
  return (conn as unknown as { pmtu: { inFlight: { size: number } | undefined } }).pmtu.inFlight?.size;
}

/**
 * A path of 1,500 bytes searched up to 8,952: the search runs for several round trips (a lost
 * 8,952-byte probe first), so that one of its probes that the path carries is still in flight
 * once the client may migrate — a round trip after confirmation, when the server has acknowledged
 * the client's spare connection IDs (RFC 9000 §5.1.1). With 1,452 at most the first probe was
 * acknowledged together with those IDs.
 */
const SEARCHING_PATH = {
  link: { delay: 10, mtu: 1500 },
  client: { transport: { maxUdpPayloadSize: 8952 } },
  serverRouter: { transport: { maxUdpPayloadSize: 8952 } },
};

/** A probe of the first path that it carries (over 1,200 bytes, at most its 1,500) is in flight. */
function oldPathProbe(conn: Connection): boolean {
  const size = probeInFlight(conn) ?? 0;
  return size > 1200 && size <= 1500;
}

/**
 * Failed before the fix: the ACK of the old path's probe reaches connection.ts handleAcked, which calls
 * this.pmtu.onAcked(size) on the search of the path in use — the new path's — and sets its size
 * to 1452 before validation (found: early = [1452]).
 */
function oldProbeLeavesNewPathAt1200(): void {
  let migrated = false;
  let validated = false;
  /** Datagram sizes the client adopted after migrate() and before its new path was validated. */
  const early: number[] = [];
  const pair = new Pair({
    ...SEARCHING_PATH,
    client: {
      ...SEARCHING_PATH.client,
      qlog: () => (e) => {
        if (!migrated) return;
        if (e.name === 'connectivity:path_validated') validated = true;
        if (e.name === 'connectivity:mtu_updated' && !validated) early.push(e.data['new'] as number);
      },
    },
  });
  expect(pair.handshake()).toBe(true);
  // Run until the client has a probe larger than 1200 bytes in flight on its first path, and may
  // migrate (the server acknowledged a spare connection ID of the client's, RFC 9000 §5.1.1).
  expect(pair.run(() => pair.client.canMigrate && oldPathProbe(pair.client), 5_000)).toBe(true);
  // The client moves to a new IP address; the old one still receives for a while.
  pair.clientAliases.push(pair.clientAddr);
  pair.clientAddr = { address: '10.0.0.9', port: 40000 };
  pair.client.migrate();
  migrated = true;
  expect(pair.client.datagramSize).toBe(1200);
  expect(pair.run(() => validated, 10_000)).toBe(true);
  // RFC 9000 §14 / RFC 8899 §5.2: the new path starts at BASE_PLPMTU; the acknowledgment of a
  // probe sent from the old address says nothing about it.
  expect(early).toEqual([]);
}

/**
 * Failed before the fix: the same leak on a new path with a 1280-byte MTU: the client sends data packets of
 * 1446-1448 bytes on it (lost) until its black-hole detection falls back.
 */
function oldProbeOnSmallerNewPath(): void {
  let migrated = false;
  /** Lengths of the client's packets other than PMTU probes, sent after migrate(). */
  const dataPackets: number[] = [];
  const pair = new Pair({
    ...SEARCHING_PATH,
    client: {
      ...SEARCHING_PATH.client,
      qlog: () => (e) => {
        if (migrated && e.name === 'transport:packet_sent' && e.data['pmtu_probe'] !== true) dataPackets.push(e.data['length'] as number);
      },
    },
  });
  expect(pair.handshake()).toBe(true);
  expect(pair.run(() => pair.client.canMigrate && oldPathProbe(pair.client), 5_000)).toBe(true);
  pair.clientAliases.push(pair.clientAddr);
  pair.clientAddr = { address: '10.0.0.9', port: 40000 };
  pair.client.migrate();
  migrated = true;
  // The new path's MTU is 1280 (the probe already on its way still arrives).
  pair.link.conditions.mtu = 1280;
  const id = pair.client.openStream()!;
  const upload = pattern(200_000);
  let received = 0;
  let finished = false;
  pair.onServerEvent = (e) => {
    if (e.type === 'stream-data' && e.id === id) {
      received += e.data.length;
      if (e.fin) finished = true;
    }
  };
  pair.client.write(id, upload, true);
  expect(pair.run(() => finished, 60_000)).toBe(true);
  expect(received).toBe(upload.length);
  // RFC 9000 §14: the client may send larger datagrams on its new path only after probing them there.
  expect(dataPackets.filter((n) => n > 1280)).toEqual([]);
}

describe('PMTU probes across a client migration (RFC 9000 §14, §9.2, §9.4)', () => {
  // A PMTU probe's ACK or loss goes to the search of the path it was sent on (its sent record
  // keeps that PmtuSearch); the datagram size changes only when that search is the path in use's.
  it('a probe of the old path acknowledged after migrate() leaves the new path at 1200 bytes until it is validated', oldProbeLeavesNewPathAt1200);
  it('on a new path that carries only 1280 bytes, a probe of the old path does not make the client send larger data packets', oldProbeOnSmallerNewPath);
});
