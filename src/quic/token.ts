/**
 * Address validation tokens (RFC 9000 §8.1.2–§8.1.4): the tokens a server puts in Retry packets and
 * NEW_TOKEN frames, and checks when a client's Initial carries one back.
 *
 * A token is AES-256-GCM over what the server must remember — its kind, when it was issued, and for
 * a Retry token the Original Destination Connection ID and the Retry's Source Connection ID
 * (needed for the §7.3 transport parameters) — with the client's IP address as associated data,
 * so a token works only from the address it was given to (§8.1.3). The key is the server's own:
 * tokens are opaque to everyone else (§8.1.1), and nothing is stored per token.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type TokenKind = 'retry' | 'new-token';

export interface TokenContent {
  kind: TokenKind;
  /** When the token was made, ms. */
  issuedAt: number;
  /** Retry only: the DCID of the client's first Initial (RFC 9000 §7.3). */
  originalDcid?: Buffer;
  /** Retry only: the SCID of the Retry packet (RFC 9000 §7.3 retry_source_connection_id). */
  retryScid?: Buffer;
}

const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KIND_BYTE: Record<TokenKind, number> = { retry: 1, 'new-token': 2 };

/** Seals a token for a client at `address` (its IP, without port: NAT rebinding keeps the IP). */
export function sealToken(key: Uint8Array, address: string, content: TokenContent, random: (n: number) => Buffer): Buffer {
  const odcid = content.originalDcid ?? Buffer.alloc(0);
  const scid = content.retryScid ?? Buffer.alloc(0);
  const plain = Buffer.allocUnsafe(8 + 2 + odcid.length + scid.length);
  plain.writeDoubleBE(content.issuedAt, 0);
  plain[8] = odcid.length;
  odcid.copy(plain, 9);
  plain[9 + odcid.length] = scid.length;
  scid.copy(plain, 10 + odcid.length);
  const iv = random(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(content.kind, address));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.of(KIND_BYTE[content.kind]), iv, body, cipher.getAuthTag()]);
}

/**
 * The kind a token claims to be, readable without the key (the kind byte is in the clear and
 * bound to the ciphertext as associated data). Undefined for bytes that are no token of ours.
 */
export function claimedTokenKind(token: Uint8Array): TokenKind | undefined {
  return token[0] === KIND_BYTE.retry ? 'retry' : token[0] === KIND_BYTE['new-token'] ? 'new-token' : undefined;
}

/**
 * Opens a token from a client at `address`. Null when it is not ours, was altered, belongs to
 * another address, or is older than `maxAgeMs` (RFC 9000 §8.1.3: tokens SHOULD expire). Never throws.
 */
export function openToken(key: Uint8Array, address: string, token: Uint8Array, now: number, maxAgeMs: number): TokenContent | null {
  if (token.length < 1 + IV_LENGTH + 10 + TAG_LENGTH) return null;
  const kind = claimedTokenKind(token);
  if (kind === undefined) return null;
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, token.subarray(1, 1 + IV_LENGTH));
    decipher.setAAD(aad(kind, address));
    decipher.setAuthTag(token.subarray(token.length - TAG_LENGTH));
    plain = Buffer.concat([decipher.update(token.subarray(1 + IV_LENGTH, token.length - TAG_LENGTH)), decipher.final()]);
  } catch {
    return null;
  }
  const issuedAt = plain.readDoubleBE(0);
  if (!(now - issuedAt <= maxAgeMs) || issuedAt > now + 1000) return null;
  const odcidLength = plain[8]!;
  const originalDcid = plain.subarray(9, 9 + odcidLength);
  const retryScid = plain.subarray(10 + odcidLength, 10 + odcidLength + plain[9 + odcidLength]!);
  return kind === 'retry' ? { kind, issuedAt, originalDcid, retryScid } : { kind, issuedAt };
}

function aad(kind: TokenKind, address: string): Buffer {
  return Buffer.from(`${kind}|${address}`);
}
