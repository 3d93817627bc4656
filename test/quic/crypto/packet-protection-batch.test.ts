/**
 * Header protection for many packets at once (RFC 9001 §5.4): a sender's HeaderMaskQueue masks a
 * burst of sealed packets after the fact and must give exactly the bytes protectPacket gives one
 * by one, whatever the mix of keys; a receiver's PrefetchedMasks hands out a mask only for the
 * packet, key and sample it was computed for, so that removeHeaderProtection gives the same
 * result with or without it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HeaderMaskQueue,
  PrefetchedMasks,
  protectPacket,
  protectPacketLater,
  removeHeaderProtection,
} from '../../../src/quic/crypto/packet-protection.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { CIPHER_SUITES, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from '../../../src/quic/crypto/suites.js';
import { QUIC_V1 } from '../../../src/quic/version.js';

const suites: CipherSuite[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

function protector(suite: CipherSuite, fill: number): PacketProtector {
  return PacketProtector.fromSecret(QUIC_V1, suite, Buffer.alloc(CIPHER_SUITES[suite].secretLength, fill));
}

/** An unprotected short-header packet (RFC 9000 §17.3.1): first byte, 8-byte DCID, packet number, payload. */
function shortPacket(pn: number, pnLength: number, keyPhase: number, payloadLength: number): { plain: Buffer; pnOffset: number } {
  const first = 0x40 | (keyPhase << 2) | (pnLength - 1);
  const pnBytes = Buffer.alloc(4);
  pnBytes.writeUInt32BE(pn >>> 0);
  const plain = Buffer.concat([Uint8Array.of(first), Buffer.alloc(8, 0xcd), pnBytes.subarray(4 - pnLength), Buffer.alloc(payloadLength, pn & 0xff)]);
  return { plain, pnOffset: 9 };
}

/** A sealed, still unmasked 1-RTT packet and its masked twin, under `p`. */
function sealedPair(p: PacketProtector, pn: number, payloadLength: number) {
  const { plain, pnOffset } = shortPacket(pn, 1 + (pn % 4), pn & 1, payloadLength);
  return { plain, pnOffset, pnLength: 1 + (pn % 4), pn, masked: protectPacket(p, plain, pnOffset, 1 + (pn % 4), pn) };
}

describe('HeaderMaskQueue and protectPacketLater', () => {
  it('give the bytes of protectPacket for every packet of a burst, whatever the runs of keys (RFC 9001 §5.4.1)', () => {
    const keys = suites.flatMap((s) => [protector(s, 1), protector(s, 2)]);
    const queue = new HeaderMaskQueue();
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.nat(keys.length - 1), pn: fc.nat(1 << 30), size: fc.integer({ min: 3, max: 300 }) }), { maxLength: 150 }),
        (burst) => {
          const later = burst.map(({ key, pn, size }) => {
            const { plain, pnOffset, pnLength, masked } = sealedPair(keys[key]!, pn, size);
            const out = protectPacketLater(keys[key]!, plain, pnOffset, pnLength, pn, queue);
            return { out, masked };
          });
          expect(queue.length).toBe(burst.length);
          queue.apply();
          expect(queue.length).toBe(0);
          for (const { out, masked } of later) expect(out.toString('hex')).toBe(masked.toString('hex'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('uses one masksOf call per run of packets under the same header protection key', () => {
    const a = protector(TLS_AES_128_GCM_SHA256, 1);
    const b = protector(TLS_AES_128_GCM_SHA256, 2);
    // A key update keeps the header protection key (RFC 9001 §6): a and its next generation are one run.
    const a2 = a.nextGeneration();
    expect(a2.headerProtection).toBe(a.headerProtection);
    const calls: number[] = [];
    for (const hp of [a.headerProtection, b.headerProtection]) {
      const original = hp.masksOf.bind(hp);
      hp.masksOf = (samples, count) => {
        calls.push(count);
        return original(samples, count);
      };
    }
    const queue = new HeaderMaskQueue();
    const order = [a, a2, a, b, b, a];
    const outs = order.map((p, i) => {
      const { plain, pnOffset, pnLength, masked } = sealedPair(p, i + 10, 100);
      return { out: protectPacketLater(p, plain, pnOffset, pnLength, i + 10, queue), masked };
    });
    queue.apply();
    expect(calls).toEqual([3, 2, 1]);
    for (const { out, masked } of outs) expect(out.equals(masked)).toBe(true);
  });

  it('keeps queues and prefetches apart while they share one sample buffer: filled together, applied in any order', () => {
    const a = protector(TLS_AES_128_GCM_SHA256, 4);
    const b = protector(TLS_AES_256_GCM_SHA384, 5);
    const first = new HeaderMaskQueue();
    const second = new HeaderMaskQueue();
    const burst = (p: PacketProtector, queue: HeaderMaskQueue, base: number, count: number) =>
      Array.from({ length: count }, (_, i) => {
        const { plain, pnOffset, pnLength, masked } = sealedPair(p, base + i, 50 + i);
        return { out: protectPacketLater(p, plain, pnOffset, pnLength, base + i, queue), masked };
      });
    const one = burst(a, first, 100, 70); // past the 64 samples the shared buffer starts with
    const two = burst(b, second, 300, 5);
    // A receiver's prefetch in between: its masks must outlive the queues' use of the buffer.
    const received = [1, 2, 3].map((pn) => sealedPair(a, pn, 60));
    const prefetched = new PrefetchedMasks();
    prefetched.prefetch(a.headerProtection, received.map((x) => x.masked), received.map((x) => x.pnOffset + 4));
    second.apply();
    first.apply();
    for (const { out, masked } of [...one, ...two]) expect(out.equals(masked)).toBe(true);
    for (const { masked, pnOffset, pn } of received) {
      expect(removeHeaderProtection(a.headerProtection, masked, pnOffset, prefetched)!.truncatedPn).toBe(pn % 2 ** (8 * (1 + (pn % 4))));
    }
    expect(prefetched.pending).toBe(0);
  });

  it('refuses what protectPacket refuses, queuing nothing; clear() drops the queue unmasked', () => {
    const p = protector(TLS_AES_128_GCM_SHA256, 3);
    const queue = new HeaderMaskQueue();
    const { plain, pnOffset } = shortPacket(5, 2, 0, 1);
    // Too short to sample (RFC 9001 §5.4.2), a first byte that says another length, a bad offset.
    expect(() => protectPacketLater(p, plain, pnOffset, 2, 5, queue)).toThrow(RangeError);
    expect(() => protectPacketLater(p, shortPacket(5, 2, 0, 30).plain, pnOffset, 3, 5, queue)).toThrow(RangeError);
    expect(() => protectPacketLater(p, shortPacket(5, 2, 0, 30).plain, 0, 2, 5, queue)).toThrow(RangeError);
    expect(queue.length).toBe(0);
    const { plain: ok, pnOffset: at } = shortPacket(6, 2, 0, 30);
    const out = protectPacketLater(p, ok, at, 2, 6, queue);
    const unmasked = Buffer.from(out);
    queue.clear();
    queue.apply();
    expect(out.equals(unmasked)).toBe(true);
  });
});

describe('PrefetchedMasks with removeHeaderProtection', () => {
  it('gives the same header, packet number length and truncated number as without, for every suite', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...suites),
        fc.array(fc.record({ pn: fc.nat(1 << 30), size: fc.integer({ min: 3, max: 200 }), prefetch: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        (suite, specs) => {
          const p = protector(suite, 7);
          const packets = specs.map(({ pn, size }) => sealedPair(p, pn, size));
          const chosen = packets.filter((_, i) => specs[i]!.prefetch);
          const prefetched = new PrefetchedMasks();
          prefetched.prefetch(p.headerProtection, chosen.map((x) => x.masked), chosen.map((x) => x.pnOffset + 4));
          for (const { masked, pnOffset, pnLength, pn } of packets) {
            const plainResult = removeHeaderProtection(p.headerProtection, masked, pnOffset)!;
            const batched = removeHeaderProtection(p.headerProtection, masked, pnOffset, prefetched)!;
            expect(batched.header.toString('hex')).toBe(plainResult.header.toString('hex'));
            expect(batched.pnLength).toBe(pnLength);
            expect(batched.truncatedPn).toBe(plainResult.truncatedPn);
            expect(batched.truncatedPn).toBe(pn % 2 ** (8 * pnLength));
          }
          expect(prefetched.pending).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('computes a first batch larger than its initial room of 64 samples, then a small one', () => {
    const p = protector(TLS_AES_128_GCM_SHA256, 10);
    const prefetched = new PrefetchedMasks();
    for (const count of [100, 3]) {
      const packets = Array.from({ length: count }, (_, i) => sealedPair(p, 1000 * count + i, 40));
      prefetched.prefetch(p.headerProtection, packets.map((x) => x.masked), packets.map((x) => x.pnOffset + 4));
      for (const { masked, pnOffset } of packets) {
        const batched = removeHeaderProtection(p.headerProtection, masked, pnOffset, prefetched)!;
        expect(batched.header.equals(removeHeaderProtection(p.headerProtection, masked, pnOffset)!.header)).toBe(true);
      }
      expect(prefetched.pending).toBe(0);
    }
  });

  it('hands out a mask only for the same key, packet object and sample offset, passing over skipped entries', () => {
    const p = protector(TLS_AES_128_GCM_SHA256, 8);
    const other = protector(TLS_AES_128_GCM_SHA256, 9);
    const [d0, d1, d2] = [1, 2, 3].map((pn) => sealedPair(p, pn, 60).masked);
    const prefetched = new PrefetchedMasks();
    prefetched.prefetch(p.headerProtection, [d0!, d1!, d2!], [13, 13, 13]);
    expect(prefetched.pending).toBe(3);
    expect(prefetched.take(other.headerProtection, d0!, 13)).toBe(-1); // another key
    expect(prefetched.take(p.headerProtection, Buffer.from(d0!), 13)).toBe(-1); // equal bytes, another packet
    expect(prefetched.take(p.headerProtection, d0!, 12)).toBe(-1); // another sample
    expect(prefetched.pending).toBe(3); // misses change nothing
    // d0 went elsewhere: taking d1 passes over it, and d0 is not handed out afterwards.
    expect(prefetched.take(p.headerProtection, d1!, 13)).toBe(16);
    expect(prefetched.take(p.headerProtection, d0!, 13)).toBe(-1);
    expect(prefetched.pending).toBe(1);
    expect(prefetched.take(p.headerProtection, d2!, 13)).toBe(32);
    // All taken: the datagrams are let go, and the masks of the last take stay readable.
    expect(prefetched.pending).toBe(0);
    expect(Buffer.from(prefetched.masks.subarray(32, 37)).equals(Buffer.from(p.maskAt(d2!, 13).subarray(0, 5)))).toBe(true);
    expect(prefetched.take(p.headerProtection, d2!, 13)).toBe(-1);
  });

  it('refuses a sample outside its packet, and forget() drops every mask', () => {
    const p = protector(TLS_CHACHA20_POLY1305_SHA256, 4);
    const d = sealedPair(p, 9, 40).masked;
    const prefetched = new PrefetchedMasks();
    expect(() => prefetched.prefetch(p.headerProtection, [d], [d.length - 15])).toThrow(RangeError);
    expect(prefetched.take(p.headerProtection, d, d.length - 15)).toBe(-1);
    prefetched.prefetch(p.headerProtection, [d], [13]);
    prefetched.forget();
    expect(prefetched.pending).toBe(0);
    expect(prefetched.take(p.headerProtection, d, 13)).toBe(-1);
  });
});
