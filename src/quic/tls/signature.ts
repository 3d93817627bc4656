/**
 * Signature schemes (RFC 8446 §4.2.3) and the CertificateVerify signature input (§4.4.3).
 * The server signs with whatever key its certificate has; the client verifies any of the
 * schemes it offers. RSASSA-PKCS1-v1_5 is never used for CertificateVerify in TLS 1.3 (§4.2.3).
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto';

export const SignatureScheme = {
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
} as const;

interface SchemeInfo {
  keyType: 'ec' | 'rsa' | 'ed25519';
  /** Digest for node:crypto sign/verify; null for Ed25519 (PureEdDSA). */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** Required curve for ECDSA: in TLS 1.3 the curve is bound to the scheme (§4.2.3). */
  curve?: string;
  pss?: boolean;
}

const SCHEMES: ReadonlyMap<number, SchemeInfo> = new Map<number, SchemeInfo>([
  [SignatureScheme.ecdsa_secp256r1_sha256, { keyType: 'ec', hash: 'sha256', curve: 'prime256v1' }],
  [SignatureScheme.ecdsa_secp384r1_sha384, { keyType: 'ec', hash: 'sha384', curve: 'secp384r1' }],
  [SignatureScheme.rsa_pss_rsae_sha256, { keyType: 'rsa', hash: 'sha256', pss: true }],
  [SignatureScheme.rsa_pss_rsae_sha384, { keyType: 'rsa', hash: 'sha384', pss: true }],
  [SignatureScheme.rsa_pss_rsae_sha512, { keyType: 'rsa', hash: 'sha512', pss: true }],
  [SignatureScheme.ed25519, { keyType: 'ed25519', hash: null }],
]);

/** What a client offers in signature_algorithms, most preferred first. */
export const DEFAULT_SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.ed25519,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
];

export function isSupportedScheme(scheme: number): boolean {
  return SCHEMES.has(scheme);
}

/** Whether `key` (public or private) can produce/verify signatures of `scheme`. */
export function schemeFitsKey(scheme: number, key: KeyObject): boolean {
  const info = SCHEMES.get(scheme);
  if (!info || info.keyType !== key.asymmetricKeyType) return false;
  if (info.curve) return key.asymmetricKeyDetails?.namedCurve === info.curve;
  return true;
}

/** The schemes a server key can sign with, in our preference order. */
export function schemesForKey(key: KeyObject): number[] {
  return DEFAULT_SIGNATURE_SCHEMES.filter((s) => schemeFitsKey(s, key));
}

function options(info: SchemeInfo) {
  // RFC 8446 §4.2.3: RSASSA-PSS salt length equals the digest length.
  return info.pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : {};
}

export function signWithScheme(scheme: number, privateKey: KeyObject, data: Uint8Array): Buffer {
  const info = SCHEMES.get(scheme);
  if (!info || !schemeFitsKey(scheme, privateKey)) throw new RangeError(`key cannot sign with scheme 0x${scheme.toString(16)}`);
  return sign(info.hash, data, { key: privateKey, ...options(info) });
}

/** False for a bad signature, an unknown scheme or a key that does not fit the scheme. */
export function verifyWithScheme(scheme: number, publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const info = SCHEMES.get(scheme);
  if (!info || !schemeFitsKey(scheme, publicKey)) return false;
  try {
    // RFC 8446 §4.2.3: the PSS salt must be exactly the digest length, not merely any length.
    const pss = info.pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digestLength(info.hash!) } : {};
    return verify(info.hash, data, { key: publicKey, ...pss }, signature);
  } catch {
    return false; // malformed DER signature etc.
  }
}

function digestLength(hash: 'sha256' | 'sha384' | 'sha512'): number {
  return hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64;
}

const SERVER_CONTEXT = Buffer.from('TLS 1.3, server CertificateVerify', 'latin1');
const CLIENT_CONTEXT = Buffer.from('TLS 1.3, client CertificateVerify', 'latin1');

/**
 * RFC 8446 §4.4.3: 64 octets of 0x20, the context string, a zero byte, then
 * Transcript-Hash(Handshake Context, Certificate).
 */
export function certificateVerifyInput(transcriptHash: Uint8Array, server: boolean): Buffer {
  const context = server ? SERVER_CONTEXT : CLIENT_CONTEXT;
  const out = Buffer.alloc(64 + context.length + 1 + transcriptHash.length, 0x20);
  context.copy(out, 64);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}
