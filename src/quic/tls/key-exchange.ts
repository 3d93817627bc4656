/**
 * (EC)DHE key shares for the two groups we support (RFC 8446 §4.2.7, §4.2.8.2, §7.4):
 * x25519 (RFC 7748) and secp256r1 with uncompressed points. Private keys come from the caller's
 * random function, so a handshake is reproducible under a seeded generator.
 */
import { createECDH, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { AlertDescription, TlsAlert } from './alerts.js';

export const NamedGroup = {
  secp256r1: 0x0017,
  x25519: 0x001d,
} as const;

export const DEFAULT_GROUPS: readonly number[] = [NamedGroup.x25519, NamedGroup.secp256r1];

export function isSupportedGroup(group: number): boolean {
  return group === NamedGroup.x25519 || group === NamedGroup.secp256r1;
}

export interface KeyShare {
  readonly group: number;
  /** key_exchange bytes as sent in a KeyShareEntry. */
  readonly publicKey: Buffer;
  /** The shared secret with the peer's key_exchange; a TlsAlert for an invalid share. */
  computeSecret(peerPublic: Uint8Array): Buffer;
}

// DER prefix that wraps a raw 32-byte X25519 private key as PKCS#8 (RFC 8410 §7).
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function invalidShare(why: string): TlsAlert {
  return new TlsAlert(AlertDescription.illegal_parameter, `invalid key share: ${why}`, 'RFC 8446 §4.2.8.2');
}

/**
 * Imports a raw X25519 private key. JWK import is an order of magnitude faster than PKCS#8 DER
 * in OpenSSL 3; Node derives the public key from `d`, so `x` is a placeholder there. DER is the
 * fallback should a Node version insist that `x` match.
 */
function importX25519Private(raw: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: raw.toString('base64url'), x: ZERO_32 }, format: 'jwk' });
  } catch {
    return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  }
}

const ZERO_32 = Buffer.alloc(32).toString('base64url');
const ZERO_SECRET = Buffer.alloc(32);

function x25519Share(random: (n: number) => Buffer): KeyShare {
  const privateKey = importX25519Private(random(32));
  // The private key's JWK carries the public value OpenSSL derived from `d` (RFC 8037 §2), without a public KeyObject.
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    group: NamedGroup.x25519,
    publicKey: Buffer.from(jwk.x!, 'base64url'),
    computeSecret(peer) {
      if (peer.length !== 32) throw invalidShare('x25519 key_exchange must be 32 bytes');
      const peerBytes = Buffer.isBuffer(peer) ? peer : Buffer.from(peer.buffer, peer.byteOffset, peer.byteLength); // a view, not a copy
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerBytes.toString('base64url') }, format: 'jwk' });
      let secret: Buffer;
      try {
        secret = diffieHellman({ privateKey, publicKey });
      } catch {
        throw invalidShare('x25519 shared secret is all zeros'); // OpenSSL refuses a zero result itself
      }
      // RFC 8446 §7.4.2: an all-zero X25519 result means a small-order peer key.
      if (secret.equals(ZERO_SECRET)) throw invalidShare('x25519 shared secret is all zeros');
      return secret;
    },
  };
}

function p256Share(random: (n: number) => Buffer): KeyShare {
  const ecdh = createECDH('prime256v1');
  // A 32-byte string is a valid scalar except with negligible probability; retry if not.
  for (let attempt = 0; ; attempt++) {
    try {
      ecdh.setPrivateKey(random(32));
      break;
    } catch (err) {
      if (attempt > 8) throw err;
    }
  }
  return {
    group: NamedGroup.secp256r1,
    publicKey: ecdh.getPublicKey(undefined, 'uncompressed'),
    computeSecret(peer) {
      // RFC 8446 §4.2.8.2: UncompressedPointRepresentation, legacy_form 4, 65 bytes for P-256.
      if (peer.length !== 65 || peer[0] !== 4) throw invalidShare('secp256r1 key_exchange must be an uncompressed point');
      try {
        return ecdh.computeSecret(peer); // OpenSSL rejects points not on the curve (§4.2.8.2 validation)
      } catch {
        throw invalidShare('secp256r1 point is not on the curve');
      }
    },
  };
}

export function generateKeyShare(group: number, random: (n: number) => Buffer): KeyShare {
  if (group === NamedGroup.x25519) return x25519Share(random);
  if (group === NamedGroup.secp256r1) return p256Share(random);
  throw new RangeError(`unsupported group 0x${group.toString(16)}`);
}
