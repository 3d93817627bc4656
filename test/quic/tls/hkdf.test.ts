/**
 * HKDF (RFC 5869) and HKDF-Expand-Label (RFC 8446 §7.1): the RFC 5869 Appendix A vectors, node's
 * own hkdfSync as an independent oracle over random inputs and every length class (one block,
 * several blocks), and Expand-Label against its definition written out longhand, also with the
 * Secret prepared once (hkdfKey) for several labels.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveSecret,
  deriveSecretWithKey,
  expandLabelWithKey,
  hashLength,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
  hkdfKey,
  hmac,
  type HashName,
} from '../../../src/quic/tls/hkdf.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('RFC 5869 Appendix A (SHA-256)', () => {
  it('A.1 basic test case: PRK and 42-byte OKM (two blocks)', () => {
    const prk = hkdfExtract('sha256', hex('000102030405060708090a0b0c'), hex('0b'.repeat(22)));
    expect(prk.toString('hex')).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    expect(hkdfExpand('sha256', prk, hex('f0f1f2f3f4f5f6f7f8f9'), 42).toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('A.3 zero-length salt and info: the salt becomes HashLen zeros (§2.2)', () => {
    const prk = hkdfExtract('sha256', Buffer.alloc(0), hex('0b'.repeat(22)));
    expect(prk.toString('hex')).toBe('19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04');
    expect(hkdfExpand('sha256', prk, Buffer.alloc(0), 42).toString('hex')).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });
});

const hashArb = fc.constantFrom<HashName>('sha256', 'sha384');

describe('HKDF matches node:crypto hkdfSync', () => {
  it('Extract then Expand for any salt, IKM, info and length up to 255·HashLen', () => {
    fc.assert(
      fc.property(
        hashArb,
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.oneof(fc.integer({ min: 0, max: 48 }), fc.integer({ min: 0, max: 255 * 32 })),
        (hash, salt, ikm, info, length) => {
          const ours = hkdfExpand(hash, hkdfExtract(hash, salt, ikm), info, length);
          const theirs = Buffer.from(hkdfSync(hash, ikm, salt, info, length));
          expect(ours.equals(theirs)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses lengths beyond 255·HashLen (§2.3)', () => {
    expect(() => hkdfExpand('sha256', Buffer.alloc(32), Buffer.alloc(0), 255 * 32 + 1)).toThrow(RangeError);
    expect(() => hkdfExpand('sha384', Buffer.alloc(48), Buffer.alloc(0), -1)).toThrow(RangeError);
  });
});

/** RFC 8446 §7.1 written out: HkdfLabel, then HKDF-Expand block by block. */
function expandLabelLonghand(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const fullLabel = Buffer.from('tls13 ' + label, 'latin1');
  const info = Buffer.concat([Buffer.of(length >> 8, length & 0xff, fullLabel.length), fullLabel, Buffer.of(context.length), context]);
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * hashLength(hash) < length; i++) {
    previous = createHmac(hash, secret).update(Buffer.concat([previous, info, Buffer.of(i)])).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

describe('HKDF-Expand-Label', () => {
  it('equals the §7.1 definition for any secret, label, context and length', () => {
    fc.assert(
      fc.property(
        hashArb,
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.constantFrom('quic key', 'quic iv', 'quic hp', 'c hs traffic', 'derived', 'finished', 'resumption', 'x'),
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 120 }),
        (hash, secret, label, context, length) => {
          const expected = expandLabelLonghand(hash, secret, label, context, length);
          expect(hkdfExpandLabel(hash, secret, label, context, length).equals(expected)).toBe(true);
          // Built-once label bytes are not disturbed by a caller writing into an earlier result.
          hkdfExpandLabel(hash, secret, label, context, length).fill(0);
          expect(hkdfExpandLabel(hash, secret, label, context, length).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a context longer than 255 bytes (context<0..255>)', () => {
    expect(() => hkdfExpandLabel('sha256', Buffer.alloc(32), 'x', Buffer.alloc(256), 32)).toThrow(RangeError);
  });
});

describe('a Secret prepared once (hkdfKey) for several labels', () => {
  it('gives what the one-shot Expand-Label and Derive-Secret give, for each label in turn', () => {
    fc.assert(
      fc.property(
        hashArb,
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.array(fc.tuple(fc.constantFrom('quic key', 'quic iv', 'quic hp', 'c ap traffic', 'derived', 'x'), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 120 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (hash, secret, uses) => {
          const prepared = hkdfKey(hash, secret);
          for (const [label, context, length] of uses) {
            expect(expandLabelWithKey(prepared, label, context, length).equals(expandLabelLonghand(hash, secret, label, context, length))).toBe(true);
          }
          const transcriptHash = Buffer.alloc(hashLength(hash), 1);
          expect(deriveSecretWithKey(prepared, 'c hs traffic', transcriptHash).equals(deriveSecret(hash, secret, 'c hs traffic', transcriptHash))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps its own copy of the Secret: a caller overwriting its buffer afterwards changes nothing', () => {
    for (const hash of ['sha256', 'sha384'] as const) {
      const secret = Buffer.alloc(hashLength(hash), 5);
      const expected = hkdfExpandLabel(hash, secret, 'quic key', Buffer.alloc(0), 16);
      const prepared = hkdfKey(hash, secret);
      secret.fill(0);
      expect(expandLabelWithKey(prepared, 'quic key', Buffer.alloc(0), 16).equals(expected)).toBe(true);
    }
  });

  it('hmac() equals node:crypto createHmac for both hashes (RFC 2104)', () => {
    fc.assert(
      fc.property(hashArb, fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 150 }), (hash, key, data) => {
        expect(hmac(hash, key, data).equals(createHmac(hash, key).update(data).digest())).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a prepared key’s mac(data, length) is the MAC cut to `length` bytes, for both hashes; longer than Hash.length is a RangeError', () => {
    fc.assert(
      fc.property(hashArb, fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 150 }), fc.nat(), (hash, key, data, n) => {
        const length = n % (hashLength(hash) + 1);
        const cut = hkdfKey(hash, key).mac(data, length);
        expect(cut.length).toBe(length);
        expect(cut.equals(createHmac(hash, key).update(data).digest().subarray(0, length))).toBe(true);
        expect(() => hkdfKey(hash, key).mac(data, hashLength(hash) + 1)).toThrow(RangeError);
      }),
      { numRuns: 200 },
    );
  });
});
