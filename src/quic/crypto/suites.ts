/**
 * The TLS 1.3 cipher suites QUIC can use for packet protection, and what each one means for QUIC:
 * the AEAD that protects payloads (RFC 9001 §5.3), the header protection cipher (RFC 9001 §5.4.3,
 * §5.4.4), the hash that drives HKDF (RFC 9001 §5.1) and the AEAD usage limits (RFC 9001 §6.6).
 *
 * TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 are left out: Node has no one-shot CCM that
 * streams like GCM, and CCM_8 has no header protection scheme at all (RFC 9001 §5.3).
 */
import type { HashName } from '../tls/hkdf.js';

/** TLS 1.3 cipher suite code points (RFC 8446 §B.4). */
export const TLS_AES_128_GCM_SHA256 = 0x1301;
export const TLS_AES_256_GCM_SHA384 = 0x1302;
export const TLS_CHACHA20_POLY1305_SHA256 = 0x1303;

export type CipherSuite =
  | typeof TLS_AES_128_GCM_SHA256
  | typeof TLS_AES_256_GCM_SHA384
  | typeof TLS_CHACHA20_POLY1305_SHA256;

/** Node/OpenSSL cipher names. */
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type HeaderProtectionName = 'aes-128-ecb' | 'aes-256-ecb' | 'chacha20';

export interface SuiteParams {
  readonly id: CipherSuite;
  readonly name: string;
  /** Hash of the suite: HKDF for "quic key"/"quic iv"/"quic hp"/"quic ku" (RFC 9001 §5.1, §6). */
  readonly hash: HashName;
  /** Length of the secret a TLS traffic secret has with this hash (Hash.length). */
  readonly secretLength: number;
  readonly aead: AeadName;
  /** AEAD key length in bytes ("quic key" Length). */
  readonly keyLength: number;
  /** IV length: max(8, AEAD nonce length) = 12 for every suite here (RFC 9001 §5.1). */
  readonly ivLength: number;
  /** All TLS 1.3 AEADs QUIC allows expand by a 16-byte tag (RFC 9001 §5.3). */
  readonly tagLength: number;
  readonly headerProtection: HeaderProtectionName;
  /** Header protection key length ("quic hp" Length): the AES or ChaCha20 key size. */
  readonly hpKeyLength: number;
  /** Packets one key may seal before a key update is required (RFC 9001 §6.6). */
  readonly confidentialityLimit: number;
  /** Failed openings per connection before AEAD_LIMIT_REACHED (RFC 9001 §6.6). */
  readonly integrityLimit: number;
}

/** Bytes of ciphertext sampled for header protection, for every suite here (RFC 9001 §5.4.2). */
export const SAMPLE_LENGTH = 16;
/** AEAD expansion of every suite here (RFC 9001 §5.3). */
export const TAG_LENGTH = 16;

export const CIPHER_SUITES: Readonly<Record<CipherSuite, SuiteParams>> = {
  [TLS_AES_128_GCM_SHA256]: {
    id: TLS_AES_128_GCM_SHA256,
    name: 'TLS_AES_128_GCM_SHA256',
    hash: 'sha256',
    secretLength: 32,
    aead: 'aes-128-gcm',
    keyLength: 16,
    ivLength: 12,
    tagLength: TAG_LENGTH,
    headerProtection: 'aes-128-ecb',
    hpKeyLength: 16,
    confidentialityLimit: 2 ** 23, // RFC 9001 §6.6
    integrityLimit: 2 ** 52, // RFC 9001 §6.6
  },
  [TLS_AES_256_GCM_SHA384]: {
    id: TLS_AES_256_GCM_SHA384,
    name: 'TLS_AES_256_GCM_SHA384',
    hash: 'sha384',
    secretLength: 48,
    aead: 'aes-256-gcm',
    keyLength: 32,
    ivLength: 12,
    tagLength: TAG_LENGTH,
    headerProtection: 'aes-256-ecb',
    hpKeyLength: 32,
    confidentialityLimit: 2 ** 23, // RFC 9001 §6.6
    integrityLimit: 2 ** 52, // RFC 9001 §6.6
  },
  [TLS_CHACHA20_POLY1305_SHA256]: {
    id: TLS_CHACHA20_POLY1305_SHA256,
    name: 'TLS_CHACHA20_POLY1305_SHA256',
    hash: 'sha256',
    secretLength: 32,
    aead: 'chacha20-poly1305',
    keyLength: 32,
    ivLength: 12,
    tagLength: TAG_LENGTH,
    headerProtection: 'chacha20',
    hpKeyLength: 32,
    // RFC 9001 §6.6: the confidentiality limit exceeds 2^62 packets, so it never binds.
    confidentialityLimit: Number.POSITIVE_INFINITY,
    integrityLimit: 2 ** 36, // RFC 9001 §6.6
  },
};

/** Parameters of a suite offered on the wire, or undefined when QUIC here cannot use it. */
export function suiteParams(id: number): SuiteParams | undefined {
  return Object.hasOwn(CIPHER_SUITES, id) ? CIPHER_SUITES[id as CipherSuite] : undefined;
}

export function isCipherSuite(id: number): id is CipherSuite {
  return suiteParams(id) !== undefined;
}
