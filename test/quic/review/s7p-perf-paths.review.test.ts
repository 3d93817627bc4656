/**
 * Review of this session's QUIC allocation commits (issue 5) along their less common paths:
 * - 1fb53e7: protectors keep the key, IV and header protection key derived for them. Checked that
 *   no two live protectors of a pair of connections hold overlapping bytes (a shared pool slice
 *   rewritten per packet would corrupt another key silently, RFC 9001 §5.3), through a Retry
 *   (RFC 9001 §5.2 re-keying of Initial keys) and key updates both ways (§6), and that data still
 *   flows after them.
 * - 4404937, 622f482: reset tokens derived lazily with a key prepared once. Checked that every
 *   token the peer holds (stateless_reset_token for the server's first ID after a Retry, RFC 9000
 *   §18.2; NEW_CONNECTION_ID, §19.15) is the one the issuer keeps and the one its router would
 *   put in a stateless reset (§10.3.2), and that it does not change later.
 * - 98ca74c: the shared empty set of stream IDs stays empty after stream resets, STOP_SENDING,
 *   paused reads, writers that wait for 'writable' and a graceful close on several connections.
 */
import { describe, expect, it } from 'vitest';
import { statelessResetToken } from '../../../src/quic/cid.js';
import type { Connection } from '../../../src/quic/connection.js';
import type { PacketProtector } from '../../../src/quic/crypto/protector.js';
import type { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { Pair } from '../sim/harness.js';

interface Internals {
  spaces: { readKeys?: PacketProtector; writeKeys?: PacketProtector }[];
  keyPhase?: { read: PacketProtector; write: PacketProtector; nextRead?: PacketProtector; previousRead?: PacketProtector };
  earlyRead?: PacketProtector;
  earlyWrite?: PacketProtector;
  originalInitialRead?: PacketProtector;
  localCids: { all(): { sequence: number; cid: Buffer; resetToken: Buffer }[] };
  peerCids: { ids: Map<number, { sequence: number; cid: Buffer; resetToken: Buffer | undefined }> };
  readable: ReadonlySet<number>;
  paused: ReadonlySet<number>;
  wantWritable: ReadonlySet<number>;
  knownStreams: ReadonlySet<number>;
}

const internals = (c: Connection) => c as unknown as Internals;

function protectorsOf(c: Connection): PacketProtector[] {
  const i = internals(c);
  const all = [
    ...i.spaces.flatMap((s) => [s.readKeys, s.writeKeys]),
    i.keyPhase?.read,
    i.keyPhase?.write,
    i.keyPhase?.nextRead,
    i.keyPhase?.previousRead,
    i.earlyRead,
    i.earlyWrite,
    i.originalInitialRead,
  ];
  return [...new Set(all.filter((p): p is PacketProtector => p !== undefined))];
}

interface Held {
  owner: object;
  what: string;
  bytes: Uint8Array;
}

/** The byte buffers each protector (key, nonce) and each header protection (key) holds. */
function heldBuffers(connections: Connection[]): Held[] {
  const held: Held[] = [];
  const headerProtections = new Set<object>();
  for (const c of connections) {
    for (const p of protectorsOf(c)) {
      const raw = p as unknown as { key: Buffer; nonce: Buffer };
      held.push({ owner: p, what: 'key', bytes: raw.key }, { owner: p, what: 'nonce', bytes: raw.nonce });
      headerProtections.add(p.headerProtection);
    }
  }
  for (const hp of headerProtections) {
    const key = (hp as { key?: Buffer }).key;
    if (key !== undefined) held.push({ owner: hp, what: 'hp', bytes: key });
  }
  return held;
}

function overlaps(held: Held[]): string[] {
  const found: string[] = [];
  for (let a = 0; a < held.length; a++) {
    for (let b = a + 1; b < held.length; b++) {
      const x = held[a]!;
      const y = held[b]!;
      if (x.bytes.buffer !== y.bytes.buffer) continue;
      const xEnd = x.bytes.byteOffset + x.bytes.byteLength;
      const yEnd = y.bytes.byteOffset + y.bytes.byteLength;
      if (x.bytes.byteOffset < yEnd && y.bytes.byteOffset < xEnd) found.push(`${x.what} / ${y.what}`);
    }
  }
  return found;
}

function resetKeyOf(router: ConnectionRouter): Buffer {
  return (router as unknown as { resetKey: Buffer }).resetKey;
}

/** Sends `size` bytes on a new client stream and runs until the server has them all. */
function transfer(pair: Pair, size: number): boolean {
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.alloc(size, 7), true);
  let got = 0;
  const before = pair.serverEvents.length;
  return pair.run(() => {
    got = 0;
    let fin = false;
    for (const e of pair.serverEvents.slice(before)) {
      if (e.type === 'stream-data' && e.id === id) {
        got += e.data.length;
        fin ||= e.fin;
      }
    }
    return fin && got === size;
  }, 20_000);
}

describe('review 1fb53e7: adopted key buffers are never shared or rewritten by another protector', () => {
  it('through a Retry, the handshake and key updates both ways, no two protectors hold overlapping bytes and data keeps flowing (RFC 9001 §5.2, §5.3, §6)', () => {
    const pair = new Pair({ server: { retry: true } });
    const seen: string[] = [];
    const check = () => {
      const conns = [pair.client, ...(pair.server ? [pair.server] : [])];
      seen.push(...overlaps(heldBuffers(conns)));
    };
    expect(pair.run(() => {
      check();
      return pair.client.isHandshakeComplete && pair.server?.isHandshakeComplete === true && pair.server.state === 'established';
    }, 30_000)).toBe(true);
    expect(transfer(pair, 30_000)).toBe(true);
    check();
    expect(pair.client.updateKeys()).toBe(true);
    expect(transfer(pair, 30_000)).toBe(true);
    check();
    // The server initiates only once a packet it sent with its current keys was acknowledged (§6.1).
    const reply = pair.server!.openStream()!;
    pair.server!.write(reply, Buffer.alloc(5_000, 9), true);
    expect(pair.run(() => pair.clientEvents.some((e) => e.type === 'stream-data' && e.id === reply && e.fin), 20_000)).toBe(true);
    pair.run(() => false, 200);
    expect(pair.server!.updateKeys()).toBe(true);
    expect(transfer(pair, 30_000)).toBe(true);
    const back = pair.server!.openStream()!;
    pair.server!.write(back, Buffer.alloc(30_000, 8), true);
    expect(pair.run(() => pair.clientEvents.some((e) => e.type === 'stream-data' && e.id === back && e.fin), 20_000)).toBe(true);
    check();
    expect(pair.client.keyUpdates).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([]);
    // The check looked at something: both ends' 1-RTT, Handshake and header protection buffers.
    expect(heldBuffers([pair.client, pair.server!]).length).toBeGreaterThanOrEqual(8);
  });

  it('the overlap check itself finds two views of one buffer', () => {
    const slab = Buffer.alloc(32);
    const owner = {};
    expect(overlaps([{ owner, what: 'a', bytes: slab.subarray(0, 16) }, { owner, what: 'b', bytes: slab.subarray(8, 20) }])).toEqual(['a / b']);
    expect(overlaps([{ owner, what: 'a', bytes: slab.subarray(0, 16) }, { owner, what: 'b', bytes: slab.subarray(16, 32) }])).toEqual([]);
  });
});

describe('review 4404937 and 622f482: reset tokens are the ones the peer got, for the life of each ID', () => {
  it('after a Retry, each token the peer holds equals the issuer\'s and its router\'s statelessResetToken, and stays so (RFC 9000 §10.3.2, §18.2, §19.15)', () => {
    const pair = new Pair({ server: { retry: true } });
    expect(pair.handshake()).toBe(true);
    expect(transfer(pair, 10_000)).toBe(true);
    const server = pair.server!;
    // The client's own IDs go out once its handshake is confirmed, a round trip after completion.
    expect(pair.run(() => internals(server).peerCids.ids.size > 1, 1_000)).toBe(true);
    const check = (issuer: Connection, router: ConnectionRouter, holder: Connection, firstSent: boolean) => {
      const issued = new Map(internals(issuer).localCids.all().map((i) => [i.sequence, i]));
      const held = [...internals(holder).peerCids.ids.values()];
      expect(held.length).toBeGreaterThan(1);
      for (const h of held) {
        const mine = issued.get(h.sequence);
        if (mine === undefined) continue; // retired since
        expect(h.cid.equals(mine.cid)).toBe(true);
        if (h.sequence === 0 && !firstSent) {
          expect(h.resetToken).toBeUndefined(); // a client's first ID has no token (§10.3)
          continue;
        }
        expect(h.resetToken).toBeDefined();
        expect(mine.resetToken.equals(h.resetToken!)).toBe(true);
        expect(mine.resetToken).toBe(mine.resetToken); // derived once
        expect(statelessResetToken(resetKeyOf(router), mine.cid).equals(h.resetToken!)).toBe(true);
      }
    };
    check(server, pair.serverRouter, pair.client, true);
    check(pair.client, pair.clientRouter, server, false);
    // The server's first ID (sequence 0, in its transport parameters) is the Retry's chosen one or
    // its own; either way its token is the router's for that ID.
    const first = internals(pair.client).peerCids.ids.get(0);
    if (first !== undefined) expect(first.resetToken!.equals(statelessResetToken(resetKeyOf(pair.serverRouter), first.cid))).toBe(true);
    // Later traffic does not change them.
    expect(transfer(pair, 10_000)).toBe(true);
    check(server, pair.serverRouter, pair.client, true);
  });
});

describe('review 98ca74c: the shared empty set of stream IDs stays empty on every write path', () => {
  it('resets, STOP_SENDING, paused reads, waiting writers and a graceful close on one connection leave other connections\' sets empty', () => {
    const busy = new Pair({ seed: 3 });
    const idle = new Pair({ seed: 4 });
    expect(busy.handshake()).toBe(true);
    expect(idle.handshake()).toBe(true);
    const sets = (c: Connection) => {
      const i = internals(c);
      return [i.readable, i.paused, i.wantWritable, i.knownStreams];
    };
    const idleSets = [...sets(idle.client), ...sets(idle.server!)];
    const empty = idleSets[0]!;
    for (const s of idleSets) expect(s).toBe(empty); // all still the one shared set

    const a = busy.client.openStream()!;
    const b = busy.client.openStream()!;
    const c = busy.client.openStream()!;
    busy.client.write(a, Buffer.alloc(3_000_000, 1)); // past the stream mark: waits for 'writable'
    busy.client.write(b, Buffer.alloc(1000, 2));
    busy.client.write(c, Buffer.alloc(1000, 3));
    busy.run(() => busy.serverEvents.some((e) => e.type === 'stream-data' && e.id === c), 10_000);
    busy.server!.pauseReading(a);
    busy.server!.stopSending(b, 5);
    busy.client.resetStream(c, 6);
    busy.run(() => false, 200);
    busy.server!.resumeReading(a);
    busy.run(() => false, 200);
    busy.client.closeGracefully(0, 'done');
    busy.run(() => busy.client.state !== 'established', 20_000);

    for (const s of idleSets) {
      expect(s).toBe(empty);
      expect(s.size).toBe(0);
    }
    // Each path above wrote to a set of its own: readable and paused on the server, the writers
    // waiting for 'writable' and the known streams on the client.
    const [readable, paused] = sets(busy.server!);
    const [, , wantWritable, knownStreams] = sets(busy.client);
    for (const own of [readable, paused, wantWritable, knownStreams]) expect(own).not.toBe(empty);
    expect(sets(new Pair({ seed: 5 }).client)[0]!.size).toBe(0);
  });
});
