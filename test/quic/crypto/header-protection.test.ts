/**
 * Header protection masks on the per-packet path (RFC 9001 §5.4): maskAt() reads the sample in
 * place and may hand back a scratch buffer; it must give the same 5 bytes as mask() of a copied
 * sample for every suite (§5.4.3 AES-ECB, §5.4.4 ChaCha20), refuse a sample that runs past the
 * packet (§5.4.2), and a refused call must not disturb the masks that follow. masksOf() gives the
 * masks of many back-to-back samples in one call, each equal to maskAt() of its sample.
 */
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHeaderProtection, JS_AES_BLOCKS_PER_KEY } from '../../../src/quic/crypto/header-protection.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { CIPHER_SUITES, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 } from '../../../src/quic/crypto/suites.js';
import { QUIC_V1 } from '../../../src/quic/version.js';

const suites = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256] as const;

describe('HeaderProtection.maskAt', () => {
  it('gives mask(sample) for the sample at any offset of a packet, for every suite (RFC 9001 §5.4.1)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...suites),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 80 }),
        fc.nat(),
        (suite, key, packet, at) => {
          const hp = createHeaderProtection(suite, key.subarray(0, CIPHER_SUITES[suite].hpKeyLength));
          const offset = at % (packet.length - 15);
          const expected = Buffer.from(hp.mask(Buffer.from(packet.subarray(offset, offset + 16))));
          expect(expected).toHaveLength(5);
          const got = hp.maskAt(packet, offset);
          expect(Buffer.from(got.subarray(0, 5)).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches the RFC 9001 Appendix A.2 and A.5 masks when the sample is read in place', () => {
    // A.2: client Initial, sample d1b1c98dd7689fb8ec11d242b123dc9b, mask 437b9aec36.
    const aes = createHeaderProtection(TLS_AES_128_GCM_SHA256, Buffer.from('9f50449e04a0e810283a1e9933adedd2', 'hex'));
    const initial = Buffer.concat([Buffer.alloc(7), Buffer.from('d1b1c98dd7689fb8ec11d242b123dc9b', 'hex'), Buffer.alloc(3)]);
    expect(Buffer.from(aes.maskAt(initial, 7).subarray(0, 5)).toString('hex')).toBe('437b9aec36');
    // A.5: ChaCha20 short header, sample 5e5cd55c41f69080575d7999c25a5bfb, mask aefefe7d03.
    const chacha = createHeaderProtection(TLS_CHACHA20_POLY1305_SHA256, Buffer.from('25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4', 'hex'));
    const short = Buffer.concat([Buffer.alloc(2), Buffer.from('5e5cd55c41f69080575d7999c25a5bfb', 'hex')]);
    expect(Buffer.from(chacha.maskAt(short, 2).subarray(0, 5)).toString('hex')).toBe('aefefe7d03');
  });

  it('refuses a sample that runs past the packet (RFC 9001 §5.4.2), and later masks stay right', () => {
    for (const suite of suites) {
      const p = PacketProtector.fromSecret(QUIC_V1, suite, Buffer.alloc(CIPHER_SUITES[suite].secretLength, 9));
      const sample = Buffer.alloc(16, 0x5a);
      const before = p.mask(sample);
      expect(() => p.maskAt(Buffer.alloc(20), 5)).toThrow(RangeError);
      expect(() => p.maskAt(Buffer.alloc(20), -1)).toThrow(RangeError);
      expect(() => p.mask(Buffer.alloc(15))).toThrow(RangeError);
      // The AES-ECB cipher is reused: a partial block left inside it would shift every later mask.
      expect(p.mask(sample).equals(before)).toBe(true);
      expect(Buffer.from(p.maskAt(Buffer.concat([Buffer.alloc(3), sample]), 3).subarray(0, 5)).equals(before)).toBe(true);
    }
  });
});

describe('HeaderProtection.masksOf', () => {
  it('gives, for each of n back-to-back samples, the mask maskAt() gives for it, for every suite (RFC 9001 §5.4.1)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...suites),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 16 }),
        (suite, key, count, seed, spare) => {
          const hp = createHeaderProtection(suite, key.subarray(0, CIPHER_SUITES[suite].hpKeyLength));
          const samples = Buffer.alloc(count * 16 + spare);
          for (let i = 0; i < samples.length; i++) samples[i] = (seed >>> (i % 24)) ^ (i * 31);
          const masks = Buffer.from(hp.masksOf(samples, count)); // copied: the next call may reuse it
          expect(masks.length).toBeGreaterThanOrEqual(count * 16);
          for (let i = 0; i < count; i++) {
            const one = Buffer.from(hp.maskAt(samples, i * 16).subarray(0, 5));
            expect(masks.subarray(i * 16, i * 16 + 5).equals(one)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches the RFC 9001 Appendix A.2 and A.3 masks (client and server Initial) in one call', () => {
    // A.2 and A.3 use the client's and the server's hp key; one sample under the client key twice
    // and a second sample show that each block is masked on its own (ECB, §5.4.3).
    const aes = createHeaderProtection(TLS_AES_128_GCM_SHA256, Buffer.from('9f50449e04a0e810283a1e9933adedd2', 'hex'));
    const a2 = Buffer.from('d1b1c98dd7689fb8ec11d242b123dc9b', 'hex');
    const masks = aes.masksOf(Buffer.concat([a2, Buffer.alloc(16), a2]), 3);
    expect(Buffer.from(masks.subarray(0, 5)).toString('hex')).toBe('437b9aec36');
    expect(Buffer.from(masks.subarray(32, 37)).toString('hex')).toBe('437b9aec36');
    const server = createHeaderProtection(TLS_AES_128_GCM_SHA256, Buffer.from('c206b8d9b9f0f37644430b490eeaa314', 'hex'));
    expect(Buffer.from(server.masksOf(Buffer.from('2cd0991cd25b0aac406a5816b6394100', 'hex'), 1).subarray(0, 5)).toString('hex')).toBe('2ec0d8356a');
  });

  it('refuses fewer samples than asked for or a bad count, and later masks stay right', () => {
    for (const suite of suites) {
      const p = PacketProtector.fromSecret(QUIC_V1, suite, Buffer.alloc(CIPHER_SUITES[suite].secretLength, 9));
      const sample = Buffer.alloc(16, 0x5a);
      const before = p.mask(sample);
      expect(() => p.masksOf(Buffer.alloc(31), 2)).toThrow(RangeError);
      expect(() => p.masksOf(Buffer.alloc(32), -1)).toThrow(RangeError);
      expect(() => p.masksOf(Buffer.alloc(32), 1.5)).toThrow(RangeError);
      expect(p.masksOf(Buffer.alloc(0), 0).length).toBe(0);
      expect(Buffer.from(p.masksOf(sample, 1).subarray(0, 5)).equals(before)).toBe(true);
      expect(p.mask(sample).equals(before)).toBe(true);
    }
  });
});

describe('AES header protection in JavaScript, then node:crypto (RFC 9001 §5.4.3)', () => {
  /** AES-ECB(key, sample), the mask by definition. */
  function reference(algorithm: 'aes-128-ecb' | 'aes-256-ecb', key: Uint8Array, sample: Uint8Array): Buffer {
    return createCipheriv(algorithm, key, null).setAutoPadding(false).update(sample).subarray(0, 5);
  }

  it('gives AES-ECB masks before and after the switch to node:crypto, with maskAt and masksOf mixed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.record({ batch: fc.integer({ min: 0, max: 12 }), seed: fc.uint8Array({ minLength: 16, maxLength: 16 }) }), { maxLength: 12 }),
        (suite, keyBytes, calls) => {
          const key = keyBytes.subarray(0, CIPHER_SUITES[suite].hpKeyLength);
          const algorithm = suite === TLS_AES_128_GCM_SHA256 ? 'aes-128-ecb' : 'aes-256-ecb';
          const hp = createHeaderProtection(suite, key);
          const kept: { masks: Uint8Array; expected: Buffer[] }[] = [];
          for (const { batch, seed } of calls) {
            const samples = Buffer.alloc(Math.max(1, batch) * 16);
            for (let i = 0; i < samples.length; i++) samples[i] = seed[i % 16]! ^ i;
            if (batch === 0) {
              const mask = hp.maskAt(samples, 0);
              expect(Buffer.from(mask.subarray(0, 5)).equals(reference(algorithm, key, samples.subarray(0, 16)))).toBe(true);
            } else {
              const masks = hp.masksOf(samples, batch);
              const expected = Array.from({ length: batch }, (_, i) => reference(algorithm, key, samples.subarray(16 * i, 16 * i + 16)));
              kept.push({ masks, expected });
            }
          }
          // masksOf() results stay valid through later calls (a receiver holds a batch's masks while it unmasks).
          for (const { masks, expected } of kept) {
            expected.forEach((m, i) => expect(Buffer.from(masks.subarray(16 * i, 16 * i + 5)).equals(m)).toBe(true));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it(`an AES-128 key makes no node:crypto cipher for its first ${JS_AES_BLOCKS_PER_KEY} blocks`, () => {
    const hp = createHeaderProtection(TLS_AES_128_GCM_SHA256, Buffer.from('9f50449e04a0e810283a1e9933adedd2', 'hex'));
    const sample = Buffer.from('d1b1c98dd7689fb8ec11d242b123dc9b', 'hex');
    const internals = hp as unknown as { ecb: unknown };
    for (let i = 0; i < JS_AES_BLOCKS_PER_KEY; i++) expect(Buffer.from(hp.maskAt(sample, 0).subarray(0, 5)).toString('hex')).toBe('437b9aec36');
    expect(internals.ecb).toBeUndefined();
    expect(Buffer.from(hp.maskAt(sample, 0).subarray(0, 5)).toString('hex')).toBe('437b9aec36');
    expect(internals.ecb).toBeDefined();
  });
});
