/**
 * HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label / Derive-Secret (RFC 8446 §7.1). QUIC uses the
 * same Expand-Label for its packet protection keys (RFC 9001 §5.1).
 *
 * A handshake runs some forty of these on each side, each over a few dozen bytes, so:
 * - every Expand-Label in TLS 1.3 and QUIC asks for at most Hash.length bytes, which is the single
 *   block T(1) = HMAC(PRK, info || 0x01) of RFC 5869 §2.3, and the HkdfLabel bytes for an empty
 *   Context depend only on (Label, Length), so they are built once;
 * - HMAC-SHA-256 runs in JavaScript (./sha256.ts), which for such short inputs costs a fraction of
 *   node:crypto's per-call set-up, and an HkdfKey prepares a PRK once for several labels (the key,
 *   IV and header protection key of one secret, RFC 9001 §5.1). SHA-384 stays on node:crypto.
 */
import { createHash, createHmac } from 'node:crypto';
import { HmacSha256 } from './sha256.js';

export type HashName = 'sha256' | 'sha384';

export function hashLength(hash: HashName): number {
  return hash === 'sha256' ? 32 : 48;
}

const ZEROS: Readonly<Record<HashName, Buffer>> = { sha256: Buffer.alloc(32), sha384: Buffer.alloc(48) };

/** A key prepared for HMAC-Hash (RFC 2104): a PRK for Expand, a salt for Extract, a finished_key. */
export interface HkdfKey {
  readonly hash: HashName;
  /** HMAC-Hash(key, data) in a new Buffer: Hash.length bytes, or the first `length` (at most Hash.length). */
  mac(data: Uint8Array, length?: number): Buffer;
}

class NodeHmacKey implements HkdfKey {
  private readonly key: Buffer;
  constructor(readonly hash: HashName, key: Uint8Array) {
    this.key = Buffer.from(key); // own copy: the caller's buffer may change later
  }
  mac(data: Uint8Array, length?: number): Buffer {
    const out = createHmac(this.hash, this.key).update(data).digest();
    if (length === undefined || length === out.length) return out;
    if (!(length >= 0 && length < out.length)) throw new RangeError(`HMAC-${this.hash} output is at most ${out.length} bytes`);
    return out.subarray(0, length);
  }
}

/** Prepares `key` for any number of HMACs; later changes to `key`'s bytes do not reach it. */
export function hkdfKey(hash: HashName, key: Uint8Array): HkdfKey {
  // HmacSha256 is an HkdfKey as it is: it names its hash and keeps its own key states.
  return hash === 'sha256' ? new HmacSha256(key) : new NodeHmacKey(hash, key);
}

/** HMAC-Hash(key, data) with a key used once (RFC 2104). */
export function hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Buffer {
  return hkdfKey(hash, key).mac(data);
}

/** HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM) (RFC 5869 §2.2); an absent salt is Hash.length zeros. */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Buffer {
  return hmac(hash, salt.length ? salt : ZEROS[hash], ikm);
}

/**
 * T(1) = HMAC(PRK, info || 0x01) cut to `length` (RFC 5869 §2.3 for L ≤ HashLen). `infoAndCounter`
 * is info followed by one byte that holds the counter 0x01 already.
 */
function expandOneBlock(prk: HkdfKey, infoAndCounter: Uint8Array, length: number): Buffer {
  // The MAC written straight at its cut length: a packet key or IV costs one small Buffer, not a digest and a view of it.
  return prk.mac(infoAndCounter, length);
}

/** HKDF-Expand(PRK, info, L) (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) || info || i), L ≤ 255·HashLen. */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  return expandWithKey(hkdfKey(hash, prk), info, length);
}

function expandWithKey(prk: HkdfKey, info: Uint8Array, length: number): Buffer {
  const hashLen = hashLength(prk.hash);
  if (!Number.isInteger(length) || length < 0 || length > 255 * hashLen) throw new RangeError('HKDF-Expand: length out of range');
  // One buffer T(i-1) || info || i, rewritten per block; T(0) is empty.
  const block = Buffer.allocUnsafe(hashLen + info.length + 1);
  block.set(info, hashLen);
  if (length <= hashLen) {
    block[hashLen + info.length] = 1;
    return expandOneBlock(prk, block.subarray(hashLen), length);
  }
  const out = Buffer.allocUnsafe(length);
  let previous = block.subarray(hashLen); // T(0) || info || counter
  for (let i = 1, filled = 0; filled < length; i++) {
    block[hashLen + info.length] = i;
    const t = prk.mac(previous);
    filled += t.copy(out, filled);
    t.copy(block, 0);
    previous = block;
  }
  return out;
}

/**
 * struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } up to
 * the context's length byte (RFC 8446 §7.1), and the whole HkdfLabel for an empty Context followed
 * by the counter byte 0x01 of T(1). Built once per (Label, Length) and never written to.
 */
interface LabelBytes {
  readonly heads: Map<number, Buffer>;
  readonly emptyContextInfos: Map<number, Buffer>;
}

/** By Label: the labels are the fixed strings of RFC 8446 §7.1 and RFC 9001 §5; the table is bounded anyway. */
const labelTable = new Map<string, LabelBytes>();
const MAX_LABELS = 64;

function labelBytes(label: string): LabelBytes {
  let bytes = labelTable.get(label);
  if (bytes === undefined) {
    bytes = { heads: new Map(), emptyContextInfos: new Map() };
    if (labelTable.size < MAX_LABELS) labelTable.set(label, bytes);
  }
  return bytes;
}

function labelHead(label: string, length: number): Buffer {
  const { heads } = labelBytes(label);
  let head = heads.get(length);
  if (head === undefined) {
    const fullLabel = Buffer.from('tls13 ' + label, 'latin1');
    if (fullLabel.length > 255) throw new RangeError('HKDF-Expand-Label: label longer than 255 bytes');
    head = Buffer.allocUnsafe(2 + 1 + fullLabel.length);
    head.writeUInt16BE(length, 0);
    head[2] = fullLabel.length;
    fullLabel.copy(head, 3);
    if (heads.size < MAX_LABELS) heads.set(length, head);
  }
  return head;
}

function emptyContextInfo(label: string, length: number): Buffer {
  const { emptyContextInfos } = labelBytes(label);
  let info = emptyContextInfos.get(length);
  if (info === undefined) {
    const head = labelHead(label, length);
    info = Buffer.allocUnsafe(head.length + 2);
    head.copy(info, 0);
    info[head.length] = 0; // context<0..255>: empty
    info[head.length + 1] = 1; // RFC 5869 §2.3 counter of T(1)
    if (emptyContextInfos.size < MAX_LABELS) emptyContextInfos.set(length, info);
  }
  return info;
}

/**
 * HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1):
 *   struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
 */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Buffer {
  return expandLabelWithKey(hkdfKey(hash, secret), label, context, length);
}

/** HKDF-Expand-Label with the Secret prepared once by hkdfKey(), for several labels of one secret. */
export function expandLabelWithKey(secret: HkdfKey, label: string, context: Uint8Array, length: number): Buffer {
  if (context.length > 255) throw new RangeError('HKDF-Expand-Label: context longer than 255 bytes');
  if (length > hashLength(secret.hash)) {
    const head = labelHead(label, length);
    const info = Buffer.allocUnsafe(head.length + 1 + context.length);
    head.copy(info, 0);
    info[head.length] = context.length;
    info.set(context, head.length + 1);
    return expandWithKey(secret, info, length);
  }
  if (context.length === 0) return expandOneBlock(secret, emptyContextInfo(label, length), length);
  const head = labelHead(label, length);
  const info = Buffer.allocUnsafe(head.length + 1 + context.length + 1);
  head.copy(info, 0);
  info[head.length] = context.length;
  info.set(context, head.length + 1);
  info[info.length - 1] = 1; // RFC 5869 §2.3 counter of T(1)
  return expandOneBlock(secret, info, length);
}

/** Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length). */
export function deriveSecret(hash: HashName, secret: Uint8Array, label: string, transcriptHash: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hashLength(hash));
}

/** Derive-Secret with the Secret prepared once by hkdfKey(). */
export function deriveSecretWithKey(secret: HkdfKey, label: string, transcriptHash: Uint8Array): Buffer {
  return expandLabelWithKey(secret, label, transcriptHash, hashLength(secret.hash));
}

export function digest(hash: HashName, data: Uint8Array): Buffer {
  return createHash(hash).update(data).digest();
}
