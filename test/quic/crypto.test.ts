/**
 * QUIC packet protection: RFC 9001 Appendix A and RFC 9369 Appendix A byte for byte, the key update
 * chain (RFC 9001 §6.1), and properties of sealing, opening and header protection for every suite.
 */
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CIPHER_SUITES,
  PacketProtector,
  RETRY_SECRETS,
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
  initialPacketKeys,
  initialProtectors,
  initialSecrets,
  isCipherSuite,
  nextSecret,
  packetKeys,
  protectPacket,
  removeHeaderProtection,
  retryIntegrityTag,
  suiteParams,
  unprotectPacket,
  verifyRetryIntegrity,
  type CipherSuite,
} from '../../src/quic/crypto.js';
import { chacha20Block, chacha20KeyWords, chacha20XorInPlace } from '../../src/quic/crypto/chacha20.js';
import { QUIC_V1, QUIC_V2 } from '../../src/quic/version.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Keys { secret: string; key: string; iv: string; hp: string }
interface Vectors {
  dcid: string;
  initialSecret: string;
  client: Keys;
  server: Keys;
  clientInitial: { packetNumber: number; pnLength: number; frames: string; payloadLength: number; header: string; sample: string; mask: string; protectedHeader: string; packet: string };
  serverInitial: { packetNumber: number; pnLength: number; payload: string; header: string; sample: string; mask: string; protectedHeader: string; packet: string };
  retry: { originalDcid: string; packet: string };
  chacha20ShortHeader: Keys & { ku: string; packetNumber: number; pnLength: number; nonce: string; header: string; plaintext: string; ciphertext: string; sample: string; mask: string; protectedHeader: string; packet: string };
}

const load = (path: string): Vectors => JSON.parse(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8')) as Vectors;

/** RFC 9000 Appendix A.3, so that these tests can open packets without the packet codec. */
function decodePacketNumber(largest: number, truncated: number, pnLength: number): number {
  const expected = largest + 1;
  const win = 2 ** (pnLength * 8);
  const hwin = win / 2;
  const candidate = expected - (expected % win) + truncated; // (expected & ~(win - 1)) | truncated
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

/** RFC 9001 §5.4.2 pn_offset of an Initial packet with an empty token and a 2-byte Length, as in the vectors. */
function initialPnOffset(packet: Uint8Array): number {
  const dcidLength = packet[5]!;
  const scidLength = packet[6 + dcidLength]!;
  return 7 + dcidLength + scidLength + 1 /* Token Length = 0 */ + 2 /* Length */;
}

for (const [name, version, file] of [
  ['RFC 9001 (QUIC v1)', QUIC_V1, 'rfc9001/appendix-a.json'],
  ['RFC 9369 (QUIC v2)', QUIC_V2, 'rfc9369/appendix-a.json'],
] as const) {
  const v = load(file);

  describe(`${name} Appendix A`, () => {
    it('A.1 derives the Initial secrets and keys', () => {
      const secrets = initialSecrets(version, hex(v.dcid));
      expect(toHex(secrets.client)).toBe(v.client.secret);
      expect(toHex(secrets.server)).toBe(v.server.secret);
      for (const side of ['client', 'server'] as const) {
        const keys = packetKeys(version, TLS_AES_128_GCM_SHA256, secrets[side]);
        expect(toHex(keys.key)).toBe(v[side].key);
        expect(toHex(keys.iv)).toBe(v[side].iv);
        expect(toHex(keys.hp)).toBe(v[side].hp);
      }
    });

    it('A.1 initialPacketKeys and initialProtectors give the same keys', () => {
      const keys = initialPacketKeys(version, hex(v.dcid));
      expect(toHex(keys.client.key)).toBe(v.client.key);
      expect(toHex(keys.server.hp)).toBe(v.server.hp);
      const protectors = initialProtectors(version, hex(v.dcid));
      expect(protectors.client.suite).toBe(TLS_AES_128_GCM_SHA256);
      expect(toHex(protectors.server.mask(hex(v.serverInitial.sample)))).toBe(v.serverInitial.mask);
    });

    it('A.2 protects the client Initial byte for byte and opens it again', () => {
      const c = v.clientInitial;
      const protector = PacketProtector.fromSecret(version, TLS_AES_128_GCM_SHA256, hex(v.client.secret));
      const payload = Buffer.alloc(c.payloadLength); // CRYPTO frame then PADDING (zeros)
      hex(c.frames).copy(payload);
      const header = hex(c.header);
      const pnOffset = header.length - c.pnLength;
      expect(toHex(protector.mask(hex(c.sample)))).toBe(c.mask);

      const packet = protectPacket(protector, Buffer.concat([header, payload]), pnOffset, c.pnLength, c.packetNumber);
      expect(toHex(packet)).toBe(c.packet);
      expect(toHex(packet.subarray(0, header.length))).toBe(c.protectedHeader);
      expect(toHex(packet.subarray(pnOffset + 4, pnOffset + 20))).toBe(c.sample);

      // The server reads it with the client's Initial keys, derived from the DCID alone.
      const receiver = initialProtectors(version, hex(v.dcid)).client;
      expect(initialPnOffset(packet)).toBe(pnOffset);
      const opened = unprotectPacket(receiver, hex(c.packet), pnOffset, (t, l) => decodePacketNumber(-1, t, l));
      expect(opened).not.toBeNull();
      expect(toHex(opened!.header)).toBe(c.header);
      expect(opened!.pnLength).toBe(c.pnLength);
      expect(opened!.truncatedPn).toBe(c.packetNumber);
      expect(opened!.packetNumber).toBe(c.packetNumber);
      expect(opened!.payload.equals(payload)).toBe(true);
    });

    it('A.3 protects the server Initial byte for byte and opens it again', () => {
      const s = v.serverInitial;
      const protector = PacketProtector.fromSecret(version, TLS_AES_128_GCM_SHA256, hex(v.server.secret));
      const header = hex(s.header);
      const pnOffset = header.length - s.pnLength;
      expect(toHex(protector.mask(hex(s.sample)))).toBe(s.mask);
      const packet = protectPacket(protector, Buffer.concat([header, hex(s.payload)]), pnOffset, s.pnLength, s.packetNumber);
      expect(toHex(packet)).toBe(s.packet);
      expect(toHex(packet.subarray(0, header.length))).toBe(s.protectedHeader);

      const clientSide = initialProtectors(version, hex(v.dcid)).server;
      const opened = unprotectPacket(clientSide, packet, pnOffset, (t, l) => decodePacketNumber(0, t, l));
      expect(opened?.packetNumber).toBe(s.packetNumber);
      expect(toHex(opened!.payload)).toBe(s.payload);
    });

    it('A.4 computes and verifies the Retry Integrity Tag', () => {
      const { originalDcid, packet } = v.retry;
      const retry = hex(packet);
      const tag = retryIntegrityTag(version, hex(originalDcid), retry.subarray(0, retry.length - 16));
      expect(toHex(tag)).toBe(toHex(retry.subarray(retry.length - 16)));
      expect(verifyRetryIntegrity(version, hex(originalDcid), retry)).toBe(true);
      // Bound to the ODCID, the version and every byte of the packet.
      expect(verifyRetryIntegrity(version, hex('8394c8f03e515709'), retry)).toBe(false);
      expect(verifyRetryIntegrity(version === QUIC_V1 ? QUIC_V2 : QUIC_V1, hex(originalDcid), retry)).toBe(false);
      for (let bit = 0; bit < retry.length * 8; bit += 7) {
        const corrupted = Buffer.from(retry);
        corrupted[bit >> 3]! ^= 1 << (bit & 7);
        expect(verifyRetryIntegrity(version, hex(originalDcid), corrupted)).toBe(false);
      }
      expect(verifyRetryIntegrity(version, hex(originalDcid), retry.subarray(0, 15))).toBe(false);
    });

    it('A.5 protects the ChaCha20-Poly1305 short header packet byte for byte', () => {
      const c = v.chacha20ShortHeader;
      const keys = packetKeys(version, TLS_CHACHA20_POLY1305_SHA256, hex(c.secret));
      expect(toHex(keys.key)).toBe(c.key);
      expect(toHex(keys.iv)).toBe(c.iv);
      expect(toHex(keys.hp)).toBe(c.hp);
      expect(toHex(nextSecret(version, TLS_CHACHA20_POLY1305_SHA256, hex(c.secret)))).toBe(c.ku);

      const protector = PacketProtector.fromSecret(version, TLS_CHACHA20_POLY1305_SHA256, hex(c.secret));
      const header = hex(c.header);
      expect(toHex(protector.seal(c.packetNumber, header, hex(c.plaintext)))).toBe(c.ciphertext);
      expect(toHex(protector.mask(hex(c.sample)))).toBe(c.mask);
      const packet = protectPacket(protector, Buffer.concat([header, hex(c.plaintext)]), 1, c.pnLength, c.packetNumber);
      expect(toHex(packet)).toBe(c.packet);
      expect(packet.length).toBe(21); // the smallest packet RFC 9001 §5.4.2 allows

      // Short header: the pn is sent truncated to 3 bytes (49140) and decoded near the last one.
      const opened = unprotectPacket(protector, packet, 1, (t, l) => {
        expect(t).toBe(c.packetNumber % 2 ** 24);
        return decodePacketNumber(c.packetNumber - 1, t, l);
      });
      expect(opened?.packetNumber).toBe(c.packetNumber);
      expect(toHex(opened!.payload)).toBe(c.plaintext);
    });

    it('derives the fixed Retry key and nonce from the published Retry secret', () => {
      const keys = packetKeys(version, TLS_AES_128_GCM_SHA256, hex(RETRY_SECRETS[version]!));
      const expected = version === QUIC_V1
        ? { key: 'be0c690b9f66575a1d766b54e368c84e', nonce: '461599d35d632bf2239825bb' } // RFC 9001 §5.8
        : { key: '8fb4b01b56ac48e260fbcbcead7ccc92', nonce: 'd86969bc2d7c6d9990efb04a' }; // RFC 9369 §3.3.3
      expect(toHex(keys.key)).toBe(expected.key);
      expect(toHex(keys.iv)).toBe(expected.nonce);
    });
  });
}

describe('cipher suites', () => {
  it('lists the three TLS 1.3 suites QUIC can use here with their parameters', () => {
    expect(suiteParams(0x1301)).toMatchObject({ hash: 'sha256', keyLength: 16, aead: 'aes-128-gcm', headerProtection: 'aes-128-ecb' });
    expect(suiteParams(0x1302)).toMatchObject({ hash: 'sha384', keyLength: 32, aead: 'aes-256-gcm', headerProtection: 'aes-256-ecb', secretLength: 48 });
    expect(suiteParams(0x1303)).toMatchObject({ hash: 'sha256', keyLength: 32, aead: 'chacha20-poly1305', headerProtection: 'chacha20' });
    // TLS_AES_128_CCM_8_SHA256 has no header protection scheme (RFC 9001 §5.3); CCM is not offered.
    expect(isCipherSuite(0x1305)).toBe(false);
    expect(isCipherSuite(0x1304)).toBe(false);
    expect(suiteParams(0)).toBeUndefined();
  });

  it('refuses to derive keys for a version it does not speak', () => {
    expect(() => initialSecrets(0xff00001d, hex('00'))).toThrow(RangeError);
  });
});

describe('ChaCha20 block function for header protection (RFC 8439 §2.3, RFC 9001 §5.4.4)', () => {
  const serialise = (words: Uint32Array): string => {
    const bytes = Buffer.alloc(64);
    words.forEach((word, i) => bytes.writeUInt32LE(word, i * 4));
    return bytes.toString('hex');
  };

  it('matches the RFC 8439 §2.3.2 test vector', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const counterAndNonce = hex('01000000' + '000000090000004a00000000'); // block count 1, then the nonce
    const out = new Uint32Array(16);
    chacha20Block(chacha20KeyWords(key), counterAndNonce, out);
    expect(serialise(out)).toBe(
      '10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e' +
        'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e',
    );
  });

  it('gives the same keystream as node:crypto chacha20 for any key and counter||nonce', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (key, iv) => {
        const out = new Uint32Array(16);
        chacha20Block(chacha20KeyWords(key), iv, out);
        expect(serialise(out)).toBe(createCipheriv('chacha20', key, iv).update(Buffer.alloc(64)).toString('hex'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('ChaCha20 encryption for session tickets (RFC 8439 §2.4)', () => {
  it('matches the RFC 8439 §2.4.2 test vector', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const text = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.", 'latin1');
    chacha20XorInPlace(chacha20KeyWords(key), hex('000000000000004a00000000'), 1, text);
    expect(text.toString('hex')).toBe(
      '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b' +
        'f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8' +
        '07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d',
    );
  });

  it('equals node:crypto chacha20 over any range, leaves the bytes outside it alone, and undoes itself', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.nat({ max: 1000 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        (key, nonce, counter, bytes, a, b) => {
          const start = bytes.length ? a % (bytes.length + 1) : 0;
          const end = start + (bytes.length - start ? b % (bytes.length - start + 1) : 0);
          const data = Buffer.from(bytes);
          chacha20XorInPlace(chacha20KeyWords(key), nonce, counter, data, start, end);
          const iv = Buffer.concat([Buffer.alloc(4), nonce]);
          iv.writeUInt32LE(counter, 0);
          const expected = createCipheriv('chacha20', key, iv).update(Buffer.from(bytes).subarray(start, end));
          expect(data.subarray(start, end).equals(expected)).toBe(true);
          expect(data.subarray(0, start).equals(Buffer.from(bytes).subarray(0, start))).toBe(true);
          expect(data.subarray(end).equals(Buffer.from(bytes).subarray(end))).toBe(true);
          chacha20XorInPlace(chacha20KeyWords(key), nonce, counter, data, start, end);
          expect(data.equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a short nonce, a range outside the data and a counter that would wrap', () => {
    const key = chacha20KeyWords(Buffer.alloc(32));
    expect(() => chacha20XorInPlace(key, Buffer.alloc(8), 0, Buffer.alloc(10))).toThrow(RangeError);
    expect(() => chacha20XorInPlace(key, Buffer.alloc(12), 0, Buffer.alloc(10), 4, 11)).toThrow(RangeError);
    expect(() => chacha20XorInPlace(key, Buffer.alloc(12), 0xffffffff, Buffer.alloc(65))).toThrow(RangeError);
    expect(() => chacha20XorInPlace(key, Buffer.alloc(12), 0xffffffff, Buffer.alloc(64))).not.toThrow();
  });
});

describe('key update (RFC 9001 §6)', () => {
  const suites: CipherSuite[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

  it('nextGeneration() uses secret_<n+1> = Expand-Label(secret_n, "quic ku") for key and IV, and keeps the hp key', () => {
    for (const version of [QUIC_V1, QUIC_V2]) {
      for (const suite of suites) {
        const secret0 = Buffer.alloc(CIPHER_SUITES[suite].secretLength, 7);
        const secret1 = nextSecret(version, suite, secret0);
        const secret2 = nextSecret(version, suite, secret1);
        expect(secret1.length).toBe(CIPHER_SUITES[suite].secretLength);
        expect(secret1.equals(secret0)).toBe(false);

        const gen0 = PacketProtector.fromSecret(version, suite, secret0);
        const gen2 = gen0.nextGeneration().nextGeneration();
        const direct2 = PacketProtector.fromSecret(version, suite, secret2);
        const header = hex('41aabbcc01');
        const payload = Buffer.from('key update payload');
        expect(gen2.seal(9, header, payload).equals(direct2.seal(9, header, payload))).toBe(true);
        expect(gen0.seal(9, header, payload).equals(gen2.seal(9, header, payload))).toBe(false);
        // Old keys cannot open new packets: that is how the peer notices a failed update.
        expect(gen0.open(9, header, gen2.seal(9, header, payload))).toBeNull();
        // Header protection does not change with a key update.
        const sample = Buffer.alloc(16, 3);
        expect(gen2.mask(sample).equals(gen0.mask(sample))).toBe(true);
      }
    }
  });

  it('the v2 chain differs from the v1 chain ("quicv2 ku", RFC 9369 §3.3.2)', () => {
    const secret = Buffer.alloc(32, 1);
    expect(nextSecret(QUIC_V1, TLS_AES_128_GCM_SHA256, secret).equals(nextSecret(QUIC_V2, TLS_AES_128_GCM_SHA256, secret))).toBe(false);
  });
});

describe('properties, every suite', () => {
  const suiteArb = fc.constantFrom<CipherSuite>(TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256);
  const protectorArb = fc
    .tuple(fc.constantFrom(QUIC_V1, QUIC_V2), suiteArb, fc.uint8Array({ minLength: 48, maxLength: 48 }))
    .map(([version, suite, secret]) => PacketProtector.fromSecret(version, suite, secret.subarray(0, CIPHER_SUITES[suite].secretLength)));
  const pnArb = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.maxSafeInteger().filter((n) => n >= 0));

  it('open(seal(x)) = x', () => {
    fc.assert(
      fc.property(protectorArb, pnArb, fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 1500 }), (p, pn, header, payload) => {
        const sealed = p.seal(pn, header, payload);
        expect(sealed.length).toBe(payload.length + 16);
        expect(toHex(p.open(pn, header, sealed)!)).toBe(toHex(payload));
      }),
      { numRuns: 300 },
    );
  });

  it('openAt(packet, start) opens the ciphertext||tag after `start` as open() does, and only that', () => {
    fc.assert(
      fc.property(protectorArb, pnArb, fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (p, pn, header, payload, prefix) => {
        const sealed = p.seal(pn, header, payload);
        const packet = Buffer.concat([prefix, sealed]);
        expect(toHex(p.openAt(pn, header, packet, prefix.length)!)).toBe(toHex(payload));
        const failures = p.failedOpens;
        // A start one byte off takes a different ciphertext (or leaves less than a tag): it fails.
        if (prefix.length > 0) expect(p.openAt(pn, header, packet, prefix.length - 1)).toBeNull();
        expect(p.openAt(pn, header, packet, prefix.length + 1)).toBeNull();
        expect(p.failedOpens).toBe(failures + (prefix.length > 0 ? 2 : 1));
      }),
      { numRuns: 300 },
    );
  });

  it('any single bit flipped in header, ciphertext or tag, or a different packet number, makes open fail', () => {
    fc.assert(
      fc.property(protectorArb, pnArb, fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), fc.nat(), (p, pn, header, payload, where) => {
        const sealed = p.seal(pn, header, payload);
        const bit = where % ((header.length + sealed.length) * 8);
        const h = Buffer.from(header);
        const s = Buffer.from(sealed);
        if (bit < h.length * 8) h[bit >> 3]! ^= 1 << (bit & 7);
        else s[(bit >> 3) - h.length]! ^= 1 << (bit & 7);
        const failures = p.failedOpens;
        expect(p.open(pn, h, s)).toBeNull();
        expect(p.open(pn + 1, header, sealed)).toBeNull();
        expect(p.failedOpens).toBe(failures + 2);
      }),
      { numRuns: 300 },
    );
  });

  it('protectPacket then unprotectPacket gives back header, packet number and payload (long and short headers)', () => {
    fc.assert(
      fc.property(
        protectorArb,
        fc.boolean(),
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 1, max: 4 }),
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.uint8Array({ minLength: 3, maxLength: 300 }),
        (p, long, bits, pnLength, middle, pn, payload) => {
          // Long: type and reserved bits; short: spin, reserved and key phase bits (RFC 9000 §17).
          const first = (long ? 0xc0 : 0x40) | (bits & 0x3c) | (pnLength - 1);
          const pnOffset = 1 + middle.length;
          const pnBytes = Buffer.alloc(8);
          pnBytes.writeBigUInt64BE(BigInt(pn));
          const header = Buffer.concat([Uint8Array.of(first), middle, pnBytes.subarray(8 - pnLength)]);
          const plain = Buffer.concat([header, payload]);
          const packet = protectPacket(p, plain, pnOffset, pnLength, pn);
          // Only the protected bits of the first byte and the packet number change.
          expect(packet[0]! & (long ? 0xf0 : 0xe0)).toBe(first & (long ? 0xf0 : 0xe0));
          expect(toHex(packet.subarray(1, pnOffset))).toBe(toHex(middle));
          expect(toHex(plain)).toBe(toHex(Buffer.concat([header, payload]))); // input untouched

          const opened = unprotectPacket(p, packet, pnOffset, (t, l) => {
            expect(l).toBe(pnLength);
            return decodePacketNumber(pn - 1, t, l);
          });
          expect(opened).not.toBeNull();
          expect(toHex(opened!.header)).toBe(toHex(header));
          expect(opened!.truncatedPn).toBe(pn % 2 ** (8 * pnLength));
          expect(opened!.packetNumber).toBe(pn);
          expect(toHex(opened!.payload)).toBe(toHex(payload));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw out of unprotectPacket: a result or null', () => {
    fc.assert(
      fc.property(protectorArb, fc.uint8Array({ maxLength: 200 }), fc.integer({ min: -2, max: 220 }), (p, bytes, pnOffset) => {
        const result = unprotectPacket(p, bytes, pnOffset, (t) => t);
        // A forgery that authenticates would be a 2^-128 event: random input is always rejected.
        expect(result).toBeNull();
      }),
      { numRuns: 400 },
    );
  });
});

describe('edge cases', () => {
  const protector = PacketProtector.fromSecret(QUIC_V1, TLS_AES_128_GCM_SHA256, Buffer.alloc(32, 5));

  it('rejects a packet whose sample would run past its end (RFC 9001 §5.4.2)', () => {
    const packet = protectPacket(protector, hex('4000aabbcc'), 1, 1, 0); // 1 + 1 + 3 + 16 = 21 bytes: just enough
    expect(packet.length).toBe(21);
    expect(unprotectPacket(protector, packet, 1, (t) => t)).not.toBeNull();
    expect(unprotectPacket(protector, packet.subarray(0, 20), 1, (t) => t)).toBeNull();
    expect(removeHeaderProtection(protector, packet, 2)).toBeNull();
  });

  it('refuses to build a packet too short to sample, or with inconsistent lengths', () => {
    expect(() => protectPacket(protector, hex('4000aabb'), 1, 1, 0)).toThrow(RangeError);
    expect(() => protectPacket(protector, hex('4100aabbccdd'), 1, 1, 0)).toThrow(RangeError); // first byte says 2
    expect(() => protectPacket(protector, hex('4000aabbccdd'), 1, 1, 0, 3)).toThrow(RangeError);
    expect(() => protectPacket(protector, hex('4000aabbccdd'), 1, 5, 0)).toThrow(RangeError);
  });

  it('open() returns null, never throws, on input shorter than a tag or a bad packet number', () => {
    expect(protector.open(0, hex('40'), hex('00'.repeat(15)))).toBeNull();
    expect(protector.open(-1, hex('40'), hex('00'.repeat(32)))).toBeNull();
    expect(protector.open(2 ** 53, hex('40'), hex('00'.repeat(32)))).toBeNull();
    // openAt: a start past the tag, a negative or non-integer start never throws.
    expect(protector.openAt(0, hex('40'), hex('00'.repeat(32)), 17)).toBeNull();
    expect(protector.openAt(0, hex('40'), hex('00'.repeat(32)), -1)).toBeNull();
    expect(protector.openAt(0, hex('40'), hex('00'.repeat(32)), Number.NaN)).toBeNull();
  });

  it('uses the high bits of large packet numbers in the nonce', () => {
    const header = hex('40');
    const payload = hex('01');
    const low = protector.seal(5, header, payload);
    const high = protector.seal(5 + 2 ** 32, header, payload);
    expect(low.equals(high)).toBe(false);
    expect(protector.open(5 + 2 ** 32, header, high)).not.toBeNull();
    expect(protector.open(5, header, high)).toBeNull();
  });

  it('counts sealed packets for the confidentiality limit (RFC 9001 §6.6)', () => {
    const p = PacketProtector.fromSecret(QUIC_V1, TLS_AES_128_GCM_SHA256, Buffer.alloc(32));
    p.seal(0, hex('40'), hex('01'));
    protectPacket(p, hex('4000aabbcc'), 1, 1, 1);
    expect(p.sealedPackets).toBe(2);
    expect(p.params.confidentialityLimit).toBe(2 ** 23);
  });

  it('Initial keys depend on the DCID, including an empty one after Retry (RFC 9001 §5.2)', () => {
    const empty = initialSecrets(QUIC_V1, new Uint8Array(0));
    const one = initialSecrets(QUIC_V1, hex('00'));
    expect(empty.client.equals(one.client)).toBe(false);
    expect(empty.client.equals(empty.server)).toBe(false);
  });
});
