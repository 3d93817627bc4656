/**
 * The quic-interop-runner test cases, re-created in memory over a simulated link with a fake
 * clock and seeded randomness. Each transfer checks that every byte arrived once and in order.
 */
import { describe, expect, it } from 'vitest';
import { TLS_CHACHA20_POLY1305_SHA256 } from '../../../src/quic/crypto/suites.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/quic/version.js';
import { CLIENT_ADDR, download, Pair, pattern, sha256, START, StreamSink } from '../sim/harness.js';

const SIZE = 512 * 1024;

function expectDownload(pair: Pair, size = SIZE, maxMs = 300_000): void {
  const { ok, data } = download(pair, size, maxMs);
  expect(ok).toBe(true);
  expect(data.length).toBe(size);
  expect(sha256(data)).toBe(sha256(pattern(size)));
}

describe('interop-runner cases over a simulated link', () => {
  it('handshakeloss: 30% loss both ways, handshake and transfer complete', () => {
    for (const seed of [1, 2, 3]) {
      const pair = new Pair({ link: { delay: 15, loss: 0.3 }, seed });
      expectDownload(pair, 16 * 1024);
      expect(pair.link.stats.lost).toBeGreaterThan(0);
    }
  });

  it('transferloss: 2% loss', () => {
    const pair = new Pair({ link: { delay: 10, loss: 0.02 }, seed: 7 });
    expectDownload(pair);
    expect(pair.link.stats.lost).toBeGreaterThan(0);
  });

  it('handshakecorruption: 30% of datagrams with a flipped bit', () => {
    const pair = new Pair({ link: { delay: 15, corrupt: 0.3 }, seed: 4 });
    expectDownload(pair, 16 * 1024);
    expect(pair.link.stats.corrupted).toBeGreaterThan(0);
  });

  it('transfercorruption: 2% bit flips', () => {
    const pair = new Pair({ link: { delay: 10, corrupt: 0.02 }, seed: 5 });
    expectDownload(pair);
    expect(pair.link.stats.corrupted).toBeGreaterThan(0);
    expect(pair.client.stats.packetsDropped + pair.server!.stats.packetsDropped).toBeGreaterThan(0);
  });

  it('longrtt: 1.5 s round trip', () => {
    const pair = new Pair({ link: { delay: 750 } });
    expectDownload(pair, 256 * 1024);
  });

  it('blackhole: the link is cut for 2 s mid-transfer and the transfer recovers', () => {
    const pair = new Pair({ link: { delay: 10, blackholes: [[START + 100, START + 2100]] } });
    const { ok, data } = download(pair, 4 * 1024 * 1024);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(4 * 1024 * 1024)));
    expect(pair.link.stats.lost).toBeGreaterThan(0);
  });

  it('reorder: a fifth of the datagrams overtaken', () => {
    const pair = new Pair({ link: { delay: 10, reorder: 0.2, reorderDelay: 15 }, seed: 9 });
    expectDownload(pair);
    expect(pair.link.stats.reordered).toBeGreaterThan(0);
  });

  it('duplication: a fifth of the datagrams delivered twice', () => {
    const pair = new Pair({ link: { delay: 10, duplicate: 0.2 }, seed: 10 });
    expectDownload(pair);
    expect(pair.link.stats.duplicated).toBeGreaterThan(0);
  });

  it('chacha20: TLS_CHACHA20_POLY1305_SHA256 only', () => {
    const pair = new Pair({ suites: [TLS_CHACHA20_POLY1305_SHA256] });
    expectDownload(pair, 64 * 1024);
  });

  it('retry: the server validates the address with Retry first (RFC 9000 §8.1.2)', () => {
    const pair = new Pair({ server: { retry: true } });
    expectDownload(pair, 64 * 1024);
    // The first server datagram is a Retry: long header, type 3 in v1.
    const first = pair.serverSent[0]!.data;
    expect(first[0]! & 0xf0).toBe(0xf0);
  });

  it('amplificationlimit: the server sends at most 3× what it received before validation (RFC 9000 §8.1)', () => {
    // Everything the client sends after its first datagram is lost for 3 s.
    const pair = new Pair({ link: { delay: 10, lossyDirection: 'to-server', blackholes: [[START + 1, START + 3000]] } });
    expectDownload(pair, 16 * 1024);
    const received = pair.serverReceived.filter((d) => d.at < START + 3000).reduce((n, d) => n + d.length, 0);
    const sent = pair.serverSent.filter((d) => d.at < START + 3000).reduce((n, d) => n + d.data.length, 0);
    expect(received).toBeGreaterThanOrEqual(1200);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(3 * received);
  });

  it('keyupdate: the client updates keys mid-transfer, the server follows (RFC 9001 §6)', () => {
    const pair = new Pair({ link: { delay: 5 } });
    let updated = false;
    const sink = new StreamSink();
    pair.onClientEvent = (e) => {
      sink.onEvent(e);
      if (!updated && e.type === 'stream-data' && sink.data(e.id).length > 100_000) updated = pair.client.updateKeys();
    };
    const serverSink = new StreamSink();
    pair.onServerEvent = (e) => {
      serverSink.onEvent(e);
      if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(SIZE), true);
    };
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('GET'), true);
    expect(pair.run(() => sink.finished.has(id))).toBe(true);
    expect(updated).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(pattern(SIZE)));
    expect(pair.client.keyUpdates).toBe(1);
    expect(pair.server!.keyUpdates).toBe(1);
  });

  it('rebind-port: a NAT gives the client a new port mid-transfer (RFC 9000 §9.3)', () => {
    const pair = new Pair({ link: { delay: 10 } });
    let rebound = false;
    const result = (() => {
      const sink = new StreamSink();
      pair.onServerEvent = (e) => {
        if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(SIZE), true);
      };
      pair.onClientEvent = (e) => {
        sink.onEvent(e);
        if (!rebound && e.type === 'stream-data' && sink.data(e.id).length > 50_000) {
          rebound = true;
          pair.clientAddr = { address: pair.clientAddr.address, port: pair.clientAddr.port + 1 };
        }
      };
      pair.handshake();
      const id = pair.client.openStream()!;
      pair.client.write(id, Buffer.from('GET'), true);
      const ok = pair.run(() => sink.finished.has(id));
      return { ok, data: sink.data(id) };
    })();
    expect(rebound).toBe(true);
    expect(result.ok).toBe(true);
    expect(sha256(result.data)).toBe(sha256(pattern(SIZE)));
    expect(pair.server!.remote.port).toBe(pair.clientAddr.port);
  });

  it('connectionmigration: the client moves to a new address and a new connection ID (RFC 9000 §9.2, §9.5)', () => {
    const pair = new Pair({ link: { delay: 10 } });
    let migrated = false;
    const sink = new StreamSink();
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) pair.server!.write(e.id, pattern(SIZE), true);
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
    expect(sha256(sink.data(id))).toBe(sha256(pattern(SIZE)));
    expect(pair.server!.remote).toEqual({ address: '10.0.0.9', port: 40000 });
  });

  it('v2: compatible version negotiation from v1 to v2 when the server prefers it (RFC 9368 §2.3, RFC 9369)', () => {
    const pair = new Pair({ serverRouter: { versions: [QUIC_V2, QUIC_V1] } });
    expectDownload(pair, 64 * 1024);
    expect(pair.client.version).toBe(QUIC_V2);
    expect(pair.server!.version).toBe(QUIC_V2);
    // The client's first Initial is v1; every long header from the server is v2.
    expect(pair.clientSent[0]!.readUInt32BE(1)).toBe(QUIC_V1);
    for (const d of pair.serverSent) if ((d.data[0]! & 0x80) !== 0) expect(d.data.readUInt32BE(1)).toBe(QUIC_V2);
  });

  it('v2 is not chosen when the client does not list it', () => {
    const pair = new Pair({ client: { versions: [QUIC_V1] }, serverRouter: { versions: [QUIC_V2, QUIC_V1] } });
    expectDownload(pair, 16 * 1024);
    expect(pair.client.version).toBe(QUIC_V1);
    expect(pair.server!.version).toBe(QUIC_V1);
  });
});

describe('path validation failure (RFC 9000 §8.2.4, §9.3.2)', () => {
  it('a packet replayed from a spoofed address moves the server only until validation fails', () => {
    const pair = new Pair({ link: { delay: 10 } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 500);
    // The client sends one packet; an attacker delivers it first, from another address.
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('hello'), true);
    const [datagram] = pair.client.transmit(pair.now);
    const spoofed = { address: '203.0.113.66', port: 6666 };
    pair.server!.receive(datagram!.data, spoofed, pair.now + 10);
    expect(pair.server!.remote).toEqual(spoofed);
    // Nothing reaches the spoofed address, and nothing more from the client gets through: only
    // the abandoned validation can bring the server back.
    pair.link.conditions = { delay: 10, lossyDirection: 'to-server', blackholes: [[pair.now, pair.now + 5_000]] };
    pair.run(() => false, 4_000);
    expect(pair.server!.remote).toEqual(CLIENT_ADDR);
    expect(pair.server!.state).toBe('established');
    // Once the link heals, the answer goes out on the old path.
    expect(pair.serverEvents).toContainEqual(expect.objectContaining({ type: 'stream-data', id }));
    pair.server!.write(id, Buffer.from('world'), true);
    const sink = new StreamSink();
    pair.onClientEvent = (e) => sink.onEvent(e);
    expect(pair.run(() => sink.finished.has(id), 30_000)).toBe(true);
    expect(sink.data(id).toString()).toBe('world');
  });
});
