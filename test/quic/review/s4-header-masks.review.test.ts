/**
 * Review of this session's batched header protection (issue 5, commits deef208, 9693038, f96b41f),
 * RFC 9001 §5.4.1–§5.4.4, for the cases the commits' own tests leave out:
 *
 * - sender (HeaderMaskQueue): long header packets (four protected bits of the first byte, §5.4.1)
 *   and short ones under one queue, AES and ChaCha20 (§5.4.3, §5.4.4); the plaintext buffer the
 *   packet writer reuses for the next packet (its module scratch) changed after queueing; a queue
 *   applied twice masks nothing twice;
 * - receiver (PrefetchedMasks): a mask is handed out only for the very packet object, key and
 *   sample offset (an equal copy of the bytes, another offset or a forgotten batch get none), and
 *   unmasking with prefetched masks for long and short headers equals unmasking without;
 * - receiveBatch: a receive that starts another batch (re-entrancy) loses no datagram of the outer
 *   batch, and the lookahead is empty afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { receiveBatch, receiveLookahead } from '../../../src/quic/connection/receive-lookahead.js';
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

const SUITES: CipherSuite[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

function protector(suite: CipherSuite, fill: number): PacketProtector {
  return PacketProtector.fromSecret(QUIC_V1, suite, Buffer.alloc(CIPHER_SUITES[suite].secretLength, fill));
}

interface Plain {
  plain: Buffer;
  pnOffset: number;
  pnLength: number;
  pn: number;
}

/** RFC 9000 §17.2.4: a Handshake packet (long header), DCID and SCID of 8 bytes, 2-byte Length. */
function longPacket(pn: number, pnLength: number, payloadLength: number): Plain {
  const first = 0xe0 | (pnLength - 1); // form 1, fixed 1, type 2 (Handshake), reserved 00
  const pnBytes = Buffer.alloc(4);
  pnBytes.writeUInt32BE(pn >>> 0);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(0x4000 | (pnLength + payloadLength + 16));
  const header = Buffer.concat([
    Uint8Array.of(first), Buffer.from('00000001', 'hex'), Uint8Array.of(8), Buffer.alloc(8, 0xaa), Uint8Array.of(8), Buffer.alloc(8, 0xbb), length,
  ]);
  const plain = Buffer.concat([header, pnBytes.subarray(4 - pnLength), Buffer.alloc(payloadLength, (pn * 7) & 0xff)]);
  return { plain, pnOffset: header.length, pnLength, pn };
}

/** RFC 9000 §17.3.1: a 1-RTT packet with an 8-byte DCID. */
function shortPacket(pn: number, pnLength: number, payloadLength: number): Plain {
  const first = 0x40 | ((pn & 1) << 2) | (pnLength - 1);
  const pnBytes = Buffer.alloc(4);
  pnBytes.writeUInt32BE(pn >>> 0);
  const plain = Buffer.concat([Uint8Array.of(first), Buffer.alloc(8, 0xcd), pnBytes.subarray(4 - pnLength), Buffer.alloc(payloadLength, (pn * 3) & 0xff)]);
  return { plain, pnOffset: 9, pnLength, pn };
}

const packetArb = fc.record({
  long: fc.boolean(),
  key: fc.nat(5),
  pn: fc.nat(2 ** 31),
  pnLength: fc.integer({ min: 1, max: 4 }),
  size: fc.integer({ min: 3, max: 200 }),
});

describe('HeaderMaskQueue (RFC 9001 §5.4.1, sender)', () => {
  const keys = SUITES.flatMap((s) => [protector(s, 3), protector(s, 4)]);

  it('masks long and short header packets in one queue exactly as protectPacket, under every suite', () => {
    const queue = new HeaderMaskQueue();
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 40 }), (burst) => {
        const pairs = burst.map(({ long, key, pn, pnLength, size }) => {
          const p = long ? longPacket(pn, pnLength, size) : shortPacket(pn, pnLength, size);
          const expected = protectPacket(keys[key]!, p.plain, p.pnOffset, p.pnLength, p.pn);
          const queued = protectPacketLater(keys[key]!, p.plain, p.pnOffset, p.pnLength, p.pn, queue);
          return { p, key, expected, queued };
        });
        queue.apply();
        for (const { p, key, expected, queued } of pairs) {
          expect(queued.equals(expected)).toBe(true);
          // and the receiver reads the header back (the bits a long header masks are only four)
          const unmasked = removeHeaderProtection(keys[key]!, queued, p.pnOffset);
          expect(unmasked!.header.equals(p.plain.subarray(0, p.pnOffset + p.pnLength))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the sample of a queued packet when the plaintext buffer is reused for the next one', () => {
    // The packet writer seals every packet from one module scratch buffer: the queue must not
    // depend on that buffer after protectPacketLater returns.
    for (const suite of SUITES) {
      const key = protector(suite, 9);
      const queue = new HeaderMaskQueue();
      const scratch = Buffer.alloc(400);
      const expected: Buffer[] = [];
      const queued: Buffer[] = [];
      for (let pn = 0; pn < 20; pn++) {
        const p = shortPacket(pn, 1 + (pn % 4), 100 + pn);
        p.plain.copy(scratch);
        const view = scratch.subarray(0, p.plain.length);
        expected.push(protectPacket(key, p.plain, p.pnOffset, p.pnLength, pn));
        queued.push(protectPacketLater(key, view, p.pnOffset, p.pnLength, pn, queue));
        scratch.fill(0xee); // the next packet overwrites the scratch
      }
      queue.apply();
      for (let i = 0; i < expected.length; i++) expect(queued[i]!.equals(expected[i]!)).toBe(true);
    }
  });

  it('gives the RFC 9001 Appendix A.5 ChaCha20-Poly1305 short header packet byte for byte (§5.4.4)', () => {
    const secret = Buffer.from('9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b', 'hex');
    const key = PacketProtector.fromSecret(QUIC_V1, TLS_CHACHA20_POLY1305_SHA256, secret);
    const queue = new HeaderMaskQueue();
    // unprotected header 4200bff4 (3-byte packet number, empty DCID), payload 01 (PING)
    const sealed = protectPacketLater(key, Buffer.from('4200bff401', 'hex'), 1, 3, 654360564, queue);
    queue.apply();
    expect(sealed.toString('hex')).toBe('4cfe4189655e5cd55c41f69080575d7999c25a5bfb');
  });

  it('masks a packet once: a second apply() is a no-op', () => {
    const key = protector(TLS_AES_128_GCM_SHA256, 5);
    const queue = new HeaderMaskQueue();
    const p = shortPacket(77, 2, 60);
    const expected = protectPacket(key, p.plain, p.pnOffset, p.pnLength, p.pn);
    const queued = protectPacketLater(key, p.plain, p.pnOffset, p.pnLength, p.pn, queue);
    queue.apply();
    queue.apply();
    expect(queue.length).toBe(0);
    expect(queued.equals(expected)).toBe(true);
  });
});

describe('PrefetchedMasks (RFC 9001 §5.4.2, receiver)', () => {
  it('gives no mask for an equal copy of the packet, another sample offset or after forget()', () => {
    const key = protector(TLS_AES_128_GCM_SHA256, 6);
    const hp = key.headerProtection;
    const a = protectPacket(key, shortPacket(1, 4, 50).plain, 9, 4, 1);
    const b = protectPacket(key, shortPacket(2, 4, 50).plain, 9, 4, 2);
    const masks = new PrefetchedMasks();
    masks.prefetch(hp, [a, b], [13, 13]);
    expect(masks.take(hp, Buffer.from(a), 13)).toBe(-1); // same bytes, another object
    expect(masks.take(hp, a, 14)).toBe(-1);
    expect(masks.take(protector(TLS_AES_128_GCM_SHA256, 6).headerProtection, a, 13)).toBe(-1); // equal key, other object
    expect(masks.take(hp, a, 13)).toBe(0);
    masks.forget();
    expect(masks.take(hp, b, 13)).toBe(-1);
  });

  it('unmasks long and short headers with masks prefetched for some of them as without', () => {
    const keys = SUITES.map((s) => protector(s, 8));
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 30 }), fc.nat(5), (burst, suiteIndex) => {
        const key = keys[suiteIndex % keys.length]!;
        const sealed = burst.map(({ long, pn, pnLength, size }) => {
          const p = long ? longPacket(pn, pnLength, size) : shortPacket(pn, pnLength, size);
          return { p, bytes: protectPacket(key, p.plain, p.pnOffset, p.pnLength, p.pn) };
        });
        // The connection guesses with the first short header's offset (1 + DCID length, §17.3.1);
        // long header packets have theirs at another offset and must not take a short one's mask.
        const prefetched = new PrefetchedMasks();
        prefetched.prefetch(key.headerProtection, sealed.map((s) => s.bytes), sealed.map(() => 9 + 4));
        for (const { p, bytes } of sealed) {
          const withMasks = removeHeaderProtection(key.headerProtection, bytes, p.pnOffset, prefetched);
          expect(withMasks!.header.equals(p.plain.subarray(0, p.pnOffset + p.pnLength))).toBe(true);
          expect(withMasks!.truncatedPn).toBe(p.pn % 2 ** (8 * p.pnLength));
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('receiveBatch', () => {
  it('delivers every datagram of a batch in order when a receive runs another batch inside it', () => {
    const outer = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')];
    const inner = [Buffer.from('x'), Buffer.from('y')];
    const seen: string[] = [];
    receiveBatch(outer, (d, i) => {
      seen.push(`${d.toString()}${i}`);
      if (i === 0) receiveBatch(inner, (e, j) => seen.push(`${e.toString()}${j}`));
    });
    expect(seen).toEqual(['a0', 'x0', 'y1', 'b1', 'c2']);
    expect(receiveLookahead.datagrams).toHaveLength(0);
    expect(receiveLookahead.prefetched).toHaveLength(0);
  });
});
