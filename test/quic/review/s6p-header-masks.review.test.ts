/**
 * Review of cc49dcd and 599b288 (issue 5), header protection (RFC 9001 §5.4):
 * - cc49dcd: one module-level sample buffer serves every HeaderMaskQueue and PrefetchedMasks, and a
 *   queue reads each packet's sample at apply(). Checked: many connections' queues and prefetches
 *   interleaved in any order, with bursts past the buffer's first size, each masked packet equals
 *   protectPacket's and each prefetched mask stays the mask of its own sample (§5.4.2) after the
 *   others ran; the sample is taken from the final ciphertext.
 * - 599b288: AES-128 round keys carved from shared slabs. Checked through header protection, which
 *   uses them for a key's first blocks: hundreds of keys alive at once (several slabs), used round
 *   robin, each equal to node:crypto AES-128-ECB (§5.4.3); a schedule never changes while its key lives.
 */
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aes128KeySchedule } from '../../../src/quic/crypto/aes-block.js';
import { createHeaderProtection } from '../../../src/quic/crypto/header-protection.js';
import { HeaderMaskQueue, PrefetchedMasks, protectPacket, protectPacketLater } from '../../../src/quic/crypto/packet-protection.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { CIPHER_SUITES, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from '../../../src/quic/crypto/suites.js';
import { QUIC_V1 } from '../../../src/quic/version.js';

const suites: CipherSuite[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

function protector(suite: CipherSuite, fill: number): PacketProtector {
  return PacketProtector.fromSecret(QUIC_V1, suite, Buffer.alloc(CIPHER_SUITES[suite].secretLength, fill));
}

/** An unprotected short-header packet (RFC 9000 §17.3.1): first byte, 8-byte DCID, packet number, payload. */
function shortPacket(pn: number, payloadLength: number): { plain: Buffer; pnOffset: number; pnLength: number } {
  const pnLength = 1 + (pn % 4);
  const pnBytes = Buffer.alloc(4);
  pnBytes.writeUInt32BE(pn >>> 0);
  const plain = Buffer.concat([Uint8Array.of(0x40 | (pnLength - 1)), Buffer.alloc(8, 0xcd), pnBytes.subarray(4 - pnLength), Buffer.alloc(payloadLength, pn & 0xff)]);
  return { plain, pnOffset: 9, pnLength };
}

/** The mask of RFC 9001 §5.4.3 (AES) or §5.4.4 (ChaCha20) computed by node:crypto for one sample. */
function referenceMask(suite: CipherSuite, hpKey: Buffer, sample: Buffer): Buffer {
  if (suite === TLS_CHACHA20_POLY1305_SHA256) {
    const c = createCipheriv('chacha20', hpKey, sample);
    return c.update(Buffer.alloc(5));
  }
  const algorithm = hpKey.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb';
  return createCipheriv(algorithm, hpKey, null).setAutoPadding(false).update(sample).subarray(0, 5);
}

type Op =
  | { kind: 'add'; conn: number; key: number; pn: number; size: number }
  | { kind: 'apply'; conn: number }
  | { kind: 'prefetch'; conn: number; key: number; count: number };

describe('review cc49dcd: one sample buffer shared by every queue and prefetch (RFC 9001 §5.4.1, §5.4.2)', () => {
  const keys = suites.flatMap((s) => [protector(s, 1), protector(s, 2)]);
  const CONNS = 3;

  it('interleaved connections: every packet masked as protectPacket does, every prefetched mask stays its sample\'s', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), conn: fc.nat(CONNS - 1), key: fc.nat(keys.length - 1), pn: fc.nat(1 << 30), size: fc.integer({ min: 3, max: 80 }) }),
      fc.record({ kind: fc.constant('apply' as const), conn: fc.nat(CONNS - 1) }),
      fc.record({ kind: fc.constant('prefetch' as const), conn: fc.nat(CONNS - 1), key: fc.nat(keys.length - 1), count: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 9, max: 150 })) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.nat(200), (ops, bigBurst) => {
        // A first burst past the shared buffer's initial room (64 samples), on connection 0.
        const all: Op[] = [...Array.from({ length: 60 + bigBurst }, (_, i): Op => ({ kind: 'add', conn: 0, key: i % 2, pn: i, size: 20 })), ...ops];
        const queues = Array.from({ length: CONNS }, () => new HeaderMaskQueue());
        const waiting: { out: Buffer; expected: Buffer }[][] = Array.from({ length: CONNS }, () => []);
        const prefetched = Array.from({ length: CONNS }, () => new PrefetchedMasks());
        const expectedMasks: (Buffer[] | undefined)[] = Array.from({ length: CONNS }, () => undefined);
        let prefetches = 0;
        const checkPrefetched = () => {
          prefetched.forEach((p, c) => {
            const want = expectedMasks[c];
            if (want === undefined) return;
            want.forEach((mask, i) => expect(Buffer.from(p.masks.subarray(16 * i, 16 * i + 5))).toEqual(mask));
          });
        };
        for (const o of [...all, ...Array.from({ length: CONNS }, (_, conn): Op => ({ kind: 'apply', conn }))]) {
          if (o.kind === 'add') {
            const { plain, pnOffset, pnLength } = shortPacket(o.pn, o.size);
            const expected = protectPacket(keys[o.key]!, plain, pnOffset, pnLength, o.pn);
            waiting[o.conn]!.push({ out: protectPacketLater(keys[o.key]!, plain, pnOffset, pnLength, o.pn, queues[o.conn]!), expected });
          } else if (o.kind === 'apply') {
            queues[o.conn]!.apply();
            for (const { out, expected } of waiting[o.conn]!.splice(0)) expect(out.toString('hex')).toBe(expected.toString('hex'));
          } else {
            // A fresh key: AES-128 keys mask their first blocks in JavaScript (into a buffer of their own).
            const p = protector(suites[o.key % suites.length]!, 100 + (prefetches++ % 100));
            const packets = Array.from({ length: o.count }, (_, i) => createHash('sha256').update(`${o.conn}/${i}/${o.key}`).digest());
            prefetched[o.conn]!.prefetch(p.headerProtection, packets, packets.map(() => i16(o.count)));
            expectedMasks[o.conn] = packets.map((pkt) => Buffer.from(p.headerProtection.maskAt(pkt, i16(o.count)).subarray(0, 5)));
          }
          checkPrefetched();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('the sample is read from the final ciphertext of each packet, with header protection of the reference cipher', () => {
    for (const [index, suite] of suites.entries()) {
      const secret = Buffer.alloc(CIPHER_SUITES[suite].secretLength, 0x30 + index);
      const p = PacketProtector.fromSecret(QUIC_V1, suite, secret);
      const queue = new HeaderMaskQueue();
      const { plain, pnOffset, pnLength } = shortPacket(0x01020304, 40);
      const out = protectPacketLater(p, plain, pnOffset, pnLength, 0x01020304, queue);
      const unmasked = Buffer.from(out);
      queue.apply();
      // RFC 9001 §5.4.2: sample_offset = pn_offset + 4, over the sealed packet.
      const sample = unmasked.subarray(pnOffset + 4, pnOffset + 20);
      const hpKey = hpKeyOf(suite, secret);
      const mask = referenceMask(suite, hpKey, sample);
      expect(out[0]).toBe(unmasked[0]! ^ (mask[0]! & 0x1f));
      for (let i = 0; i < pnLength; i++) expect(out[pnOffset + i]).toBe(unmasked[pnOffset + i]! ^ mask[1 + i]!);
      expect(out.subarray(pnOffset + pnLength)).toEqual(unmasked.subarray(pnOffset + pnLength));
    }
  });
});

/** A sample offset valid in a 32-byte packet, varied with the batch. */
function i16(n: number): number {
  return n % 17;
}

/** The "quic hp" key of a secret (RFC 9001 §5.1): HKDF-Expand-Label(secret, "quic hp", "", length), one HMAC block. */
function hpKeyOf(suite: CipherSuite, secret: Buffer): Buffer {
  const hash = suite === TLS_AES_256_GCM_SHA384 ? 'sha384' : 'sha256';
  const length = suite === TLS_AES_128_GCM_SHA256 ? 16 : 32;
  const label = Buffer.from('tls13 quic hp', 'latin1');
  const info = Buffer.concat([Buffer.of(0, length, label.length), label, Buffer.of(0)]);
  return createHmac(hash, secret).update(Buffer.concat([info, Buffer.of(1)])).digest().subarray(0, length);
}

describe('review 599b288: AES-128 round keys in shared slabs (FIPS 197 §5.2, RFC 9001 §5.4.3)', () => {
  it('hundreds of header protection keys alive at once, used round robin: every mask equals node:crypto\'s', () => {
    const hpKeyBytes = Array.from({ length: 400 }, (_, i) => createHash('sha256').update(`hp ${i}`).digest().subarray(0, 16));
    const hps = hpKeyBytes.map((k) => createHeaderProtection(TLS_AES_128_GCM_SHA256, k));
    // The caller's key buffers are reused at once (a scratch secret): the keys must not change.
    for (const k of hpKeyBytes) k.fill(0);
    const original = Array.from({ length: 400 }, (_, i) => createHash('sha256').update(`hp ${i}`).digest().subarray(0, 16));
    // Up to 8 blocks per key run in JavaScript on the slab schedules; round robin, 6 rounds.
    for (let round = 0; round < 6; round++) {
      hps.forEach((hp, i) => {
        const sample = createHash('sha256').update(`sample ${round} ${i}`).digest().subarray(0, 16);
        expect(Buffer.from(hp.maskAt(sample, 0).subarray(0, 5))).toEqual(referenceMask(TLS_AES_128_GCM_SHA256, original[i]!, sample));
      });
    }
  });

  it('a schedule is never overwritten while its key lives: 1,000 later expansions leave it as it was', () => {
    const first = aes128KeySchedule(Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex'));
    const snapshot = Uint32Array.from(first);
    expect(first[43]!.toString(16)).toBe('b6630ca6'); // FIPS 197 Appendix A.1
    for (let i = 0; i < 1000; i++) aes128KeySchedule(createHash('sha256').update(`k${i}`).digest().subarray(0, 16));
    expect(Array.from(first)).toEqual(Array.from(snapshot));
    expect(first.length).toBe(44);
  });
});
