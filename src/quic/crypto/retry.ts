/**
 * Retry Integrity Tag (RFC 9001 §5.8; v2 key and nonce in RFC 9369 §3.3.3): AEAD_AES_128_GCM with
 * a fixed key and nonce over the Retry Pseudo-Packet = ODCID Length || ODCID || Retry packet
 * without its tag, with an empty plaintext. The tag is the whole output.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';
import { QUIC_V1, QUIC_V2 } from '../version.js';
import { hasPacketProtection } from './keys.js';
import { TAG_LENGTH } from './suites.js';

interface RetryKey {
  readonly key: Buffer;
  readonly nonce: Buffer;
}

/**
 * Fixed values from the RFCs; each is HKDF-Expand-Label of a published secret with the version's
 * "quic key"/"quic iv" labels (the test checks that derivation).
 */
const RETRY_KEYS: Readonly<Record<number, RetryKey>> = {
  // RFC 9001 §5.8
  [QUIC_V1]: {
    key: Buffer.from('be0c690b9f66575a1d766b54e368c84e', 'hex'),
    nonce: Buffer.from('461599d35d632bf2239825bb', 'hex'),
  },
  // RFC 9369 §3.3.3
  [QUIC_V2]: {
    key: Buffer.from('8fb4b01b56ac48e260fbcbcead7ccc92', 'hex'),
    nonce: Buffer.from('d86969bc2d7c6d9990efb04a', 'hex'),
  },
};

/** Secrets the fixed Retry keys are derived from (RFC 9001 §5.8, RFC 9369 §3.3.3). */
export const RETRY_SECRETS: Readonly<Record<number, string>> = {
  [QUIC_V1]: 'd9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e',
  [QUIC_V2]: 'c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f',
};

/** The 16-byte Retry Integrity Tag for a Retry packet given without its tag (RFC 9001 §5.8). */
export function retryIntegrityTag(version: number, originalDcid: Uint8Array, retryPacketWithoutTag: Uint8Array): Buffer {
  if (!hasPacketProtection(version)) throw new RangeError(`no Retry integrity key for version 0x${(version >>> 0).toString(16)}`);
  // RFC 9000 §17.2: a connection ID is at most 20 bytes; the pseudo-packet's length byte holds it.
  if (originalDcid.length > 20) throw new RangeError('original destination connection ID is at most 20 bytes');
  const { key, nonce } = RETRY_KEYS[version]!;
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  // RFC 9001 §5.8: A = Retry Pseudo-Packet; P is empty.
  cipher.setAAD(Buffer.concat([Uint8Array.of(originalDcid.length), originalDcid, retryPacketWithoutTag]));
  cipher.final();
  return cipher.getAuthTag();
}

/**
 * True when the last 16 bytes of `retryPacket` are its valid integrity tag. A client discards a
 * Retry that fails this check (RFC 9000 §17.2.5.2). Never throws on packet content.
 */
export function verifyRetryIntegrity(version: number, originalDcid: Uint8Array, retryPacket: Uint8Array): boolean {
  if (!hasPacketProtection(version) || originalDcid.length > 20 || retryPacket.length < TAG_LENGTH) return false;
  const tagStart = retryPacket.length - TAG_LENGTH;
  const expected = retryIntegrityTag(version, originalDcid, retryPacket.subarray(0, tagStart));
  return timingSafeEqual(expected, retryPacket.subarray(tagStart));
}
