/**
 * Review (session 5) of 6d20c79: header protection masks (RFC 9001 §5.4.3) for a key's first
 * JS_AES_BLOCKS_PER_KEY AES-128 blocks come from aes-block.ts (FIPS 197), then from node:crypto.
 *
 * Checked and holding: the FIPS 197 Appendix C.1 vector and random keys and blocks against
 * node:crypto's AES-128-ECB; any interleaving of mask, maskAt and masksOf (counts that cross the
 * switch at 8 blocks, counts of 0) gives AES-ECB(hp_key, sample) for AES-128 and AES-256 suites and
 * ChaCha20 stays as before (§5.4.4, checked here against node's chacha20); results of masksOf stay
 * valid through later calls; the key is copied, so a caller that wipes or reuses its buffer (key
 * update discards old keys, RFC 9001 §6.1; a pool reuses buffers) does not change the masks.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aes128EncryptBlock, aes128KeySchedule } from '../../../src/quic/crypto/aes-block.js';
import { createHeaderProtection, JS_AES_BLOCKS_PER_KEY } from '../../../src/quic/crypto/header-protection.js';
import { TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from '../../../src/quic/crypto/suites.js';

function ecb(key: Uint8Array, blocks: Uint8Array): Buffer {
  const algorithm = key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb';
  return createCipheriv(algorithm, key, null).setAutoPadding(false).update(blocks);
}

/** RFC 9001 §5.4.4 by definition: ChaCha20 keystream with counter = sample[0..3] LE, nonce = sample[4..15]. */
function chachaMask(key: Uint8Array, sample: Uint8Array): Buffer {
  // node's chacha20 takes a 16-byte IV: the 32-bit little-endian counter followed by the 96-bit nonce.
  return createCipheriv('chacha20', key, sample).update(Buffer.alloc(5));
}

function expected(suite: CipherSuite, key: Uint8Array, sample: Uint8Array): Buffer {
  return suite === TLS_CHACHA20_POLY1305_SHA256 ? chachaMask(key, sample) : ecb(key, sample).subarray(0, 5);
}

describe('AES-128 in JavaScript (FIPS 197)', () => {
  it('gives the FIPS 197 Appendix C.1 ciphertext', () => {
    const out = Buffer.alloc(20, 0xee);
    aes128EncryptBlock(aes128KeySchedule(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex')), Buffer.from('ff00112233445566778899aabbccddeeff', 'hex'), 1, out, 2);
    expect(out.subarray(2, 18).toString('hex')).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
    expect(out[0]).toBe(0xee);
    expect(out[1]).toBe(0xee);
    expect(out[18]).toBe(0xee);
  });

  it('equals node:crypto AES-128-ECB for random keys and blocks (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (key, block) => {
        const out = new Uint8Array(16);
        aes128EncryptBlock(aes128KeySchedule(key), block, 0, out, 0);
        expect(Buffer.from(out).toString('hex')).toBe(ecb(key, block).toString('hex'));
      }),
      { numRuns: 400 },
    );
  });
});

describe('header protection across the switch to node:crypto at 8 blocks (RFC 9001 §5.4)', () => {
  type Call = { kind: 'mask' | 'maskAt' | 'masksOf'; count: number; offset: number };
  const call = fc.record({
    kind: fc.constantFrom<Call['kind']>('mask', 'maskAt', 'masksOf'),
    count: fc.integer({ min: 0, max: 12 }),
    offset: fc.integer({ min: 0, max: 40 }),
  });

  for (const [name, suite, keyLength] of [
    ['AES-128', TLS_AES_128_GCM_SHA256, 16],
    ['AES-256', TLS_AES_256_GCM_SHA384, 32],
    ['ChaCha20', TLS_CHACHA20_POLY1305_SHA256, 32],
  ] as const) {
    it(`${name}: every call gives the mask by definition, kept masksOf results stay valid (property)`, () => {
      fc.assert(
        fc.property(fc.array(call, { minLength: 1, maxLength: 14 }), fc.nat(), (calls, seed) => {
          const key = Buffer.alloc(keyLength);
          for (let i = 0; i < keyLength; i++) key[i] = (seed * 31 + i * 7) & 0xff;
          const original = Buffer.from(key);
          const hp = createHeaderProtection(suite, key);
          // The caller discards its key (RFC 9001 §6.1) or a pool reuses the buffer: our masks must not change.
          key.fill(0x5a);
          const kept: { result: Uint8Array; copy: Buffer }[] = [];
          for (const c of calls) {
            if (c.kind === 'mask') {
              const sample = randomBytes(16);
              expect(hp.mask(sample).toString('hex')).toBe(expected(suite, original, sample).toString('hex'));
            } else if (c.kind === 'maskAt') {
              const packet = randomBytes(c.offset + 16 + (c.count & 3));
              const sample = packet.subarray(c.offset, c.offset + 16);
              const got = hp.maskAt(packet, c.offset);
              expect(Buffer.from(got.subarray(0, 5)).toString('hex')).toBe(expected(suite, original, sample).toString('hex'));
              expect(packet.subarray(c.offset, c.offset + 16).equals(sample)).toBe(true);
            } else {
              const samples = randomBytes(c.count * 16 + (c.offset & 15));
              const before = Buffer.from(samples);
              const got = hp.masksOf(samples, c.count);
              expect(got.length).toBeGreaterThanOrEqual(c.count * 16);
              for (let i = 0; i < c.count; i++) {
                expect(Buffer.from(got.subarray(16 * i, 16 * i + 5)).toString('hex')).toBe(expected(suite, original, samples.subarray(16 * i, 16 * i + 16)).toString('hex'));
              }
              expect(samples.equals(before)).toBe(true);
              kept.push({ result: got, copy: Buffer.from(got.subarray(0, c.count * 16)) });
            }
          }
          // A receiver keeps a batch's masks while it unmasks its packets one by one.
          for (const k of kept) expect(Buffer.from(k.result.subarray(0, k.copy.length)).equals(k.copy)).toBe(true);
        }),
        { numRuns: 250 },
      );
    });
  }

  it('AES-128: masksOf counts of 7, 1, 1 cross the switch and 8 then 1 start it exactly; both give AES-ECB', () => {
    expect(JS_AES_BLOCKS_PER_KEY).toBe(8);
    for (const counts of [[7, 1, 1], [8, 1], [9], [3, 5, 2], [0, 8, 0, 8]]) {
      const key = randomBytes(16);
      const hp = createHeaderProtection(TLS_AES_128_GCM_SHA256, key);
      for (const n of counts) {
        const samples = randomBytes(16 * n);
        const got = hp.masksOf(samples, n);
        expect(Buffer.from(got.subarray(0, 16 * n)).toString('hex')).toBe(ecb(key, samples).toString('hex'));
      }
    }
  });

  it('a key of the wrong length is refused for each suite', () => {
    expect(() => createHeaderProtection(TLS_AES_128_GCM_SHA256, Buffer.alloc(32))).toThrow(RangeError);
    expect(() => createHeaderProtection(TLS_AES_256_GCM_SHA384, Buffer.alloc(16))).toThrow(RangeError);
    expect(() => aes128KeySchedule(Buffer.alloc(15))).toThrow(RangeError);
  });
});
