/**
 * Header protection masks on the per-packet path (RFC 9001 §5.4): maskAt() reads the sample in
 * place and may hand back a scratch buffer; it must give the same 5 bytes as mask() of a copied
 * sample for every suite (§5.4.3 AES-ECB, §5.4.4 ChaCha20), refuse a sample that runs past the
 * packet (§5.4.2), and a refused call must not disturb the masks that follow.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHeaderProtection } from '../../../src/quic/crypto/header-protection.js';
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
