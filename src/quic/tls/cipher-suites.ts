/**
 * The TLS 1.3 cipher suites this stack negotiates (RFC 8446 §B.4) and what the handshake needs
 * to know about each: the hash for the key schedule and transcript, and the AEAD that the record
 * layer (QUIC packet protection, RFC 9001 §5) will use with the secrets we hand over.
 * TLS_AES_128_CCM_SHA256 is left out: RFC 9001 §5.3 allows it but nothing here implements CCM.
 */
import type { HashName } from './hkdf.js';

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly hash: HashName;
  /** node:crypto cipher name of the AEAD. */
  readonly aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  readonly keyLength: number;
  readonly ivLength: number;
}

export const TLS_AES_128_GCM_SHA256 = 0x1301;
export const TLS_AES_256_GCM_SHA384 = 0x1302;
export const TLS_CHACHA20_POLY1305_SHA256 = 0x1303;

const SUITES: ReadonlyMap<number, CipherSuite> = new Map([
  [TLS_AES_128_GCM_SHA256, { id: TLS_AES_128_GCM_SHA256, name: 'TLS_AES_128_GCM_SHA256', hash: 'sha256', aead: 'aes-128-gcm', keyLength: 16, ivLength: 12 }],
  [TLS_AES_256_GCM_SHA384, { id: TLS_AES_256_GCM_SHA384, name: 'TLS_AES_256_GCM_SHA384', hash: 'sha384', aead: 'aes-256-gcm', keyLength: 32, ivLength: 12 }],
  [TLS_CHACHA20_POLY1305_SHA256, { id: TLS_CHACHA20_POLY1305_SHA256, name: 'TLS_CHACHA20_POLY1305_SHA256', hash: 'sha256', aead: 'chacha20-poly1305', keyLength: 32, ivLength: 12 }],
] as const);

/** Our preference order when we choose (server) or offer (client). */
export const DEFAULT_CIPHER_SUITES: readonly number[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

export function cipherSuite(id: number): CipherSuite | undefined {
  return SUITES.get(id);
}
