/**
 * Key derivation for QUIC packet protection: Initial secrets from the client's Destination
 * Connection ID (RFC 9001 §5.2, RFC 9369 §3.3.1), packet protection key/IV/header protection key
 * from a secret (RFC 9001 §5.1, RFC 9369 §3.3.2) and the key update chain (RFC 9001 §6.1).
 *
 * QUIC v2 differs from v1 only in the salt and in the label prefix ("quicv2 " for "quic ").
 */
import { expandLabelWithKey, hkdfExpandLabel, hkdfKey, type HkdfKey } from '../tls/hkdf.js';
import { QUIC_V1, QUIC_V2 } from '../version.js';
import { CIPHER_SUITES, TLS_AES_128_GCM_SHA256, type CipherSuite } from './suites.js';

/** A version whose packet protection this module knows: v1 (RFC 9001) and v2 (RFC 9369). */
export type ProtectedVersion = typeof QUIC_V1 | typeof QUIC_V2;

export function hasPacketProtection(version: number): version is ProtectedVersion {
  return version === QUIC_V1 || version === QUIC_V2;
}

interface VersionConstants {
  readonly initialSalt: Buffer;
  readonly keyLabel: string;
  readonly ivLabel: string;
  readonly hpLabel: string;
  readonly kuLabel: string;
}

const VERSION_CONSTANTS: Readonly<Record<ProtectedVersion, VersionConstants>> = {
  [QUIC_V1]: {
    initialSalt: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), // RFC 9001 §5.2
    keyLabel: 'quic key', // RFC 9001 §5.1
    ivLabel: 'quic iv',
    hpLabel: 'quic hp',
    kuLabel: 'quic ku', // RFC 9001 §6.1
  },
  [QUIC_V2]: {
    initialSalt: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'), // RFC 9369 §3.3.1
    keyLabel: 'quicv2 key', // RFC 9369 §3.3.2
    ivLabel: 'quicv2 iv',
    hpLabel: 'quicv2 hp',
    kuLabel: 'quicv2 ku',
  },
};

/** Constants of a version; a version we do not speak is the caller's bug (send Version Negotiation first). */
export function versionConstants(version: number): VersionConstants {
  if (!hasPacketProtection(version)) {
    throw new RangeError(`QUIC version 0x${(version >>> 0).toString(16)} has no packet protection here`);
  }
  return VERSION_CONSTANTS[version];
}

/** Raw key material for one direction at one encryption level. */
export interface PacketKeys {
  /** AEAD key ("quic key"). */
  readonly key: Buffer;
  /** AEAD IV ("quic iv"), XORed with the packet number to form the nonce (RFC 9001 §5.3). */
  readonly iv: Buffer;
  /** Header protection key ("quic hp"); it survives key updates (RFC 9001 §6). */
  readonly hp: Buffer;
}

const EMPTY = new Uint8Array(0);

/** Each version's Initial salt prepared as an HMAC key once: HKDF-Extract(salt, DCID) = HMAC(salt, DCID) (RFC 5869 §2.2). */
const initialSaltKeys = new Map<ProtectedVersion, HkdfKey>();

function initialSaltKey(version: number): HkdfKey {
  const { initialSalt } = versionConstants(version);
  let key = initialSaltKeys.get(version as ProtectedVersion);
  if (key === undefined) {
    key = hkdfKey('sha256', initialSalt);
    initialSaltKeys.set(version as ProtectedVersion, key);
  }
  return key;
}

/**
 * Initial secrets (RFC 9001 §5.2): HKDF-Extract(version salt, client DCID), then "client in" and
 * "server in" with SHA-256 whatever suite TLS later picks. The DCID may be 0..20 bytes (0 after a
 * Retry with an empty SCID); longer is accepted here since only packet parsing knows the limit.
 */
export function initialSecrets(version: number, dcid: Uint8Array): { client: Buffer; server: Buffer } {
  const initialSecret = hkdfKey('sha256', initialSaltKey(version).mac(dcid));
  return {
    client: expandLabelWithKey(initialSecret, 'client in', EMPTY, 32),
    server: expandLabelWithKey(initialSecret, 'server in', EMPTY, 32),
  };
}

/** Key, IV and header protection key for a traffic secret (RFC 9001 §5.1; RFC 9369 §3.3.2 labels). */
export function packetKeys(version: number, suite: CipherSuite, secret: Uint8Array): PacketKeys {
  const labels = versionConstants(version);
  const params = CIPHER_SUITES[suite];
  // RFC 9001 §5.1: every Expand-Label in QUIC has an empty Context; the secret is prepared once for the three.
  const prk = hkdfKey(params.hash, secret);
  return {
    key: expandLabelWithKey(prk, labels.keyLabel, EMPTY, params.keyLength),
    iv: expandLabelWithKey(prk, labels.ivLabel, EMPTY, params.ivLength),
    hp: expandLabelWithKey(prk, labels.hpLabel, EMPTY, params.hpKeyLength),
  };
}

/** Keys for Initial packets: always AEAD_AES_128_GCM with SHA-256 (RFC 9001 §5, §5.2). */
export function initialPacketKeys(version: number, dcid: Uint8Array): { client: PacketKeys; server: PacketKeys } {
  const secrets = initialSecrets(version, dcid);
  return {
    client: packetKeys(version, TLS_AES_128_GCM_SHA256, secrets.client),
    server: packetKeys(version, TLS_AES_128_GCM_SHA256, secrets.server),
  };
}

/**
 * Next 1-RTT secret for a key update (RFC 9001 §6.1):
 *   secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length)
 */
export function nextSecret(version: number, suite: CipherSuite, secret: Uint8Array): Buffer {
  const { kuLabel } = versionConstants(version);
  const params = CIPHER_SUITES[suite];
  return hkdfExpandLabel(params.hash, secret, kuLabel, EMPTY, params.secretLength);
}
