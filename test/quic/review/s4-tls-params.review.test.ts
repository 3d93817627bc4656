/**
 * Review of this session's TLS and transport parameter CPU changes (issue 5), against node:crypto
 * and the RFC rules rather than the code's own earlier output:
 *
 * - SHA-256 block function (242c3d6, FIPS 180-4 §6.2.2, padding §5.1.1): one-shot and streamed
 *   digests at the padding boundaries 0, 55, 56, 63, 64, 65, 119, 120, 1000 and random lengths and
 *   cuts; HMAC-SHA-256 keys around the block size (RFC 2104 §2);
 * - prepared salts (1e6f3b5): Initial secrets of v1 and v2 interleaved (RFC 9001 §5.2, RFC 9369
 *   §3.3.1) against HKDF written out on createHmac, and the Handshake Secret with the no-PSK salt
 *   prepared once against the same secret reached through an equal but separate Early Secret
 *   (RFC 8446 §7.1), both hashes;
 * - transport parameters decoded in place (5465839, RFC 9000 §18): integers in every varint length
 *   read from a view at a non-zero byte offset, a varint that does not fill its value, a length past
 *   the end, duplicates at the identifier boundaries of the bit set (31, 32) and of large identifiers;
 * - credentials (8d1cdbd, RFC 8446 §4.4.2): the same array mutated in place never answers with the
 *   old key.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialSecrets } from '../../../src/quic/crypto/keys.js';
import { TransportError } from '../../../src/quic/errors.js';
import { decodeTransportParameters } from '../../../src/quic/transport-params.js';
import { loadCredentials } from '../../../src/quic/tls/credentials.js';
import type { HashName } from '../../../src/quic/tls/hkdf.js';
import { earlySecret, handshakeSecret, masterSecret } from '../../../src/quic/tls/key-schedule.js';
import { HmacSha256, Sha256, sha256 } from '../../../src/quic/tls/sha256.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/quic/version.js';
import { CERTS } from '../tls/harness.js';

function bytes(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 17 + (i >> 3)) & 0xff;
  return b;
}

describe('SHA-256 (FIPS 180-4 §6.2.2) against node:crypto', () => {
  const lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000];

  it('digests the padding-boundary lengths, one-shot and a byte at a time', () => {
    for (const n of lengths) {
      const data = bytes(n, n);
      const expected = createHash('sha256').update(data).digest('hex');
      expect(sha256(data).toString('hex'), `length ${n}`).toBe(expected);
      const h = new Sha256();
      for (let i = 0; i < n; i++) h.update(data.subarray(i, i + 1));
      expect(h.digest().toString('hex'), `length ${n} bytewise`).toBe(expected);
    }
  });

  it('digests random lengths cut anywhere, with digest() midway leaving the hash going on', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.array(fc.nat(700), { maxLength: 6 }), (data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const h = new Sha256();
        let at = 0;
        for (const p of points) {
          h.update(data.subarray(at, p));
          at = p;
          expect(h.digest().toString('hex')).toBe(createHash('sha256').update(data.subarray(0, p)).digest('hex'));
        }
        h.update(data.subarray(at));
        expect(h.digest().toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('HMAC-SHA-256 with keys around the block size, one key prepared for many messages (RFC 2104 §2)', () => {
    for (const keyLength of [0, 1, 32, 63, 64, 65, 128, 200]) {
      const key = bytes(keyLength, keyLength + 1);
      const prepared = new HmacSha256(key);
      for (const n of lengths) {
        const data = bytes(n, 3 * n + 1);
        expect(prepared.mac(data).toString('hex'), `key ${keyLength}, data ${n}`).toBe(createHmac('sha256', key).update(data).digest('hex'));
      }
    }
  });
});

// ---- HKDF on createHmac (RFC 5869 §2.2, §2.3; RFC 8446 §7.1 HkdfLabel) ----

function extract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac(hash, salt).update(ikm).digest();
}

function expandLabel(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Uint8Array.of(length >> 8, length & 0xff, full.length), full, Uint8Array.of(context.length), context, Uint8Array.of(1)]);
  return createHmac(hash, secret).update(info).digest().subarray(0, length);
}

describe('prepared HMAC salts (1e6f3b5)', () => {
  const salts = {
    [QUIC_V1]: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), // RFC 9001 §5.2
    [QUIC_V2]: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'), // RFC 9369 §3.3.1
  };

  it('Initial secrets of v1 and v2 interleaved, any DCID, equal HKDF on createHmac (RFC 9001 §5.2)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 20 })), { minLength: 1, maxLength: 8 }), (calls) => {
        for (const [v2, dcid] of calls) {
          const version = v2 ? QUIC_V2 : QUIC_V1;
          const initial = extract('sha256', salts[version], dcid);
          const got = initialSecrets(version, dcid);
          expect(got.client.toString('hex')).toBe(expandLabel('sha256', initial, 'client in', Buffer.alloc(0), 32).toString('hex'));
          expect(got.server.toString('hex')).toBe(expandLabel('sha256', initial, 'server in', Buffer.alloc(0), 32).toString('hex'));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('RFC 9001 Appendix A.1 client initial secret, after v2 used the other prepared salt', () => {
    initialSecrets(QUIC_V2, Buffer.from('8394c8f03e515708', 'hex'));
    expect(initialSecrets(QUIC_V1, Buffer.from('8394c8f03e515708', 'hex')).client.toString('hex')).toBe(
      'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea',
    );
  });

  it('the Handshake and Master Secrets with and without the cached no-PSK salt agree, for both hashes (RFC 8446 §7.1)', () => {
    for (const hash of ['sha256', 'sha384'] as const) {
      const length = hash === 'sha256' ? 32 : 48;
      const empty = createHash(hash).digest();
      const zeros = Buffer.alloc(length);
      const early = extract(hash, zeros, zeros);
      const salt = expandLabel(hash, early, 'derived', empty, length);
      for (let seed = 0; seed < 5; seed++) {
        const shared = bytes(32, seed);
        const expected = extract(hash, salt, shared);
        expect(handshakeSecret(hash, earlySecret(hash), shared).toString('hex')).toBe(expected.toString('hex'));
        // an equal Early Secret in another buffer takes the longhand path, same value
        expect(handshakeSecret(hash, Buffer.from(earlySecret(hash)), shared).toString('hex')).toBe(expected.toString('hex'));
        const masterSalt = expandLabel(hash, expected, 'derived', empty, length);
        expect(masterSecret(hash, expected).toString('hex')).toBe(extract(hash, masterSalt, zeros).toString('hex'));
      }
      // with a PSK the salt is another one
      const psk = bytes(length, 99);
      const pskEarly = extract(hash, zeros, psk);
      expect(earlySecret(hash, psk).toString('hex')).toBe(pskEarly.toString('hex'));
      const shared = bytes(32, 42);
      expect(handshakeSecret(hash, earlySecret(hash, psk), shared).toString('hex')).toBe(
        extract(hash, expandLabel(hash, pskEarly, 'derived', empty, length), shared).toString('hex'),
      );
    }
  });
});

// ---- transport parameters (RFC 9000 §18) ----

function varint(value: number | bigint, length?: 1 | 2 | 4 | 8): Buffer {
  const v = BigInt(value);
  const n = length ?? (v < 64n ? 1 : v < 16384n ? 2 : v < 2n ** 30n ? 4 : 8);
  const out = Buffer.alloc(n);
  let rest = v;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  out[0]! |= { 1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0 }[n]!;
  return out;
}

function param(id: number, value: Buffer): Buffer {
  return Buffer.concat([varint(id), varint(value.length), value]);
}

/** `data` as a view at byte offset 5 of a larger buffer, so that offsets relative to the view matter. */
function atOffset(data: Buffer): Uint8Array {
  const backing = Buffer.alloc(data.length + 10, 0xff);
  data.copy(backing, 5);
  return new Uint8Array(backing.buffer, backing.byteOffset + 5, data.length);
}

/** initial_source_connection_id, which every endpoint sends (RFC 9000 §7.3). */
const ISCID = param(0x0f, Buffer.alloc(8, 1));

function decodeError(data: Uint8Array, sender: 'client' | 'server' = 'client'): TransportError {
  try {
    decodeTransportParameters(data, sender);
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    return err as TransportError;
  }
  throw new Error('decoded without error');
}

describe('decodeTransportParameters in place (5465839, RFC 9000 §18)', () => {
  it('reads an integer in every varint length, non-minimal too, from a view at an offset', () => {
    const cases: [number | bigint, 1 | 2 | 4 | 8][] = [
      [0, 1], [63, 1], [63, 2], [16383, 2], [16383, 4], [2 ** 30 - 1, 4], [2 ** 30 - 1, 8], [2 ** 30, 8], [2 ** 53 - 1, 8],
    ];
    for (const [value, length] of cases) {
      // initial_max_data, max_idle_timeout, initial_source_connection_id (required, RFC 9000 §7.3)
      const data = Buffer.concat([param(0x04, varint(value, length)), param(0x01, varint(30000, 4)), ISCID]);
      const p = decodeTransportParameters(atOffset(data), 'client');
      expect(p.initialMaxData, `${value} in ${length} bytes`).toBe(Number(value));
      expect(p.maxIdleTimeout).toBe(30000);
    }
  });

  it('refuses a varint shorter or longer than its value, and a value past the end (TRANSPORT_PARAMETER_ERROR)', () => {
    const bad = [
      Buffer.concat([varint(0x04), varint(3), varint(1000, 2), Buffer.of(0)]), // value one byte longer than its varint
      Buffer.concat([varint(0x04), varint(1), Buffer.of(0x40)]), // 2-byte varint in a 1-byte value
      Buffer.concat([varint(0x04), varint(0)]), // empty value
      Buffer.concat([varint(0x04), varint(8), varint(1, 4)]), // length past the end
      Buffer.concat([varint(0x04), varint(2 ** 40, 8)]), // length of 2^40
    ];
    for (const data of bad) expect(decodeError(atOffset(data)).code).toBe(0x08);
  });

  it('refuses duplicates of identifiers 31 and 32 and of a large reserved one, and keeps distinct ones (RFC 9000 §7.4)', () => {
    for (const id of [0x00 + 0x1f, 0x20, 27 + 31 * 1000, 2 ** 40]) {
      const once = param(id, varint(1200, 2)); // a value max_datagram_frame_size (0x20, RFC 9221 §3) takes too
      expect(() => decodeTransportParameters(atOffset(Buffer.concat([once, param(0x04, varint(7)), ISCID])), 'client')).not.toThrow();
      expect(decodeError(atOffset(Buffer.concat([once, param(0x04, varint(7)), ISCID, once]))).code).toBe(0x08);
    }
    // 1 << 31 is negative in 32-bit arithmetic: identifier 31 must not collide with the unknown
    // identifiers below it, each sent once
    const unknown = Buffer.concat(Array.from({ length: 0x1f - 0x12 + 1 }, (_, i) => param(0x12 + i, Buffer.of(i))));
    expect(() => decodeTransportParameters(atOffset(Buffer.concat([unknown, ISCID])), 'client')).not.toThrow();
    expect(decodeError(atOffset(Buffer.concat([unknown, ISCID, param(0x1f, Buffer.alloc(0))]))).code).toBe(0x08);
  });
});

describe('loadCredentials cache (8d1cdbd, RFC 8446 §4.4.2)', () => {
  it('never answers the same array, mutated in place, with the key or chain of before', () => {
    const chain = [CERTS.ecdsa.cert];
    const ecdsa = loadCredentials(chain, CERTS.ecdsa.key);
    chain[0] = CERTS.rsa.cert;
    const rsa = loadCredentials(chain, CERTS.rsa.key);
    expect(rsa.privateKey.asymmetricKeyType).toBe('rsa');
    chain[0] = CERTS.ecdsa.cert;
    expect(loadCredentials(chain, CERTS.ecdsa.key).privateKey.asymmetricKeyType).toBe(ecdsa.privateKey.asymmetricKeyType);
    // a chain that grows in place is seen too
    chain.push(CERTS.rsa.cert);
    expect(loadCredentials(chain, CERTS.ecdsa.key).chain).toHaveLength(2);
    chain.length = 1;
    expect(loadCredentials(chain, CERTS.ecdsa.key).chain).toHaveLength(1);
  });
});
