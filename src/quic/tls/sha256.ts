/**
 * SHA-256 (FIPS 180-4 §6.2) and HMAC-SHA-256 (RFC 2104) in JavaScript, for the TLS 1.3 and QUIC
 * key schedules (RFC 8446 §7.1, RFC 9001 §5). Those hash a few dozen bytes at a time, some forty
 * times per handshake on each side; node:crypto's createHmac costs several microseconds per call
 * in object set-up alone, while the work is two to five 64-byte blocks.
 *
 * Sha256 is a running hash whose digest() leaves it running, as the handshake transcript needs
 * (RFC 8446 §4.4.1: Transcript-Hash at several points of one message sequence); node:crypto needs
 * a copy() of its Hash object for each such digest.
 *
 * HmacSha256 keeps the states after the key's ipad and opad blocks (RFC 2104 §2: H(K ^ ipad, …),
 * H(K ^ opad, …)), so that several MACs under one key — the key, IV and header protection key
 * of one traffic secret (RFC 9001 §5.1) — pay for the key once. The code has no branches or
 * table look-ups that depend on the key or the data.
 */

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);

/** FIPS 180-4 §5.3.3: the initial hash value. */
const INITIAL_STATE = Int32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);

export const SHA256_BLOCK_LENGTH = 64;
export const SHA256_LENGTH = 32;

/** The message schedule, reused by every call (the code is synchronous). */
const W = new Int32Array(64);
/** The working state of the hash being finished, a copy of a starting state. */
const working = new Int32Array(8);
/** The last one or two blocks of a message with its padding (§5.1.1). */
const tail = new Uint8Array(128);
const tailView = new DataView(tail.buffer);

/** FIPS 180-4 §6.2.2: one 64-byte block at `offset` into `state`. */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let t = 0, i = offset; t < 16; t++, i += 4) {
    W[t] = (block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15]!;
    const w2 = W[t - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;
  let e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[t]! + W[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/**
 * Hashes `data` from `start`, a state that has absorbed `prefixLength` bytes (a whole number of
 * blocks), pads (§5.1.1: 0x80, zeros, the message length in bits as 64 bits) and writes the
 * digest to `out` at `outOffset`. `start` is not changed. `data` is read before `out` is written,
 * so a digest of at most 55 bytes may be hashed into itself.
 */
function finish(start: Int32Array, prefixLength: number, data: Uint8Array, out: Uint8Array, outOffset: number): void {
  const state = working;
  state.set(start);
  const whole = data.length - (data.length % SHA256_BLOCK_LENGTH);
  for (let i = 0; i < whole; i += SHA256_BLOCK_LENGTH) compress(state, data, i);
  const rest = data.length - whole;
  tail.set(data.subarray(whole), 0);
  tail[rest] = 0x80;
  // One block when the 0x80 byte and the 8-byte length fit after the rest, else two.
  const tailLength = rest + 9 <= SHA256_BLOCK_LENGTH ? SHA256_BLOCK_LENGTH : 2 * SHA256_BLOCK_LENGTH;
  tail.fill(0, rest + 1, tailLength - 8);
  const bits = (prefixLength + data.length) * 8;
  tailView.setUint32(tailLength - 8, Math.floor(bits / 0x1_0000_0000));
  tailView.setUint32(tailLength - 4, bits >>> 0);
  compress(state, tail, 0);
  if (tailLength > SHA256_BLOCK_LENGTH) compress(state, tail, SHA256_BLOCK_LENGTH);
  for (let i = 0; i < 8; i++) {
    const word = state[i]!;
    const o = outOffset + 4 * i;
    out[o] = word >>> 24;
    out[o + 1] = word >>> 16;
    out[o + 2] = word >>> 8;
    out[o + 3] = word;
  }
}

/** SHA-256(data) (FIPS 180-4 §6.2). */
export function sha256(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SHA256_LENGTH);
  finish(INITIAL_STATE, 0, data, out, 0);
  return out;
}

/** SHA-256 over data given in pieces; digest() may be asked for at any point and the hash goes on. */
export class Sha256 {
  private readonly state = INITIAL_STATE.slice();
  /** The bytes of an unfinished block, copied: the caller may reuse its buffers. */
  private readonly pending = new Uint8Array(SHA256_BLOCK_LENGTH);
  private pendingLength = 0;
  /** Bytes hashed into `state` so far, a whole number of blocks. */
  private absorbed = 0;

  update(data: Uint8Array): this {
    let offset = 0;
    if (this.pendingLength > 0) {
      offset = Math.min(SHA256_BLOCK_LENGTH - this.pendingLength, data.length);
      this.pending.set(offset === data.length ? data : data.subarray(0, offset), this.pendingLength);
      this.pendingLength += offset;
      if (this.pendingLength < SHA256_BLOCK_LENGTH) return this;
      compress(this.state, this.pending, 0);
      this.absorbed += SHA256_BLOCK_LENGTH;
      this.pendingLength = 0;
    }
    // Whole blocks straight from `data`, the rest kept for the next call.
    const wholeEnd = data.length - ((data.length - offset) % SHA256_BLOCK_LENGTH);
    this.absorbed += wholeEnd - offset;
    for (; offset < wholeEnd; offset += SHA256_BLOCK_LENGTH) compress(this.state, data, offset);
    if (offset < data.length) {
      this.pending.set(data.subarray(offset), 0);
      this.pendingLength = data.length - offset;
    }
    return this;
  }

  /** SHA-256 of everything given so far, in a new Buffer; the hash goes on. */
  digest(): Buffer {
    const out = Buffer.allocUnsafe(SHA256_LENGTH);
    finish(this.state, this.absorbed, this.pending.subarray(0, this.pendingLength), out, 0);
    return out;
  }

  /** An independent hash in the same state. */
  copy(): Sha256 {
    const twin = new Sha256();
    twin.state.set(this.state);
    twin.pending.set(this.pending);
    twin.pendingLength = this.pendingLength;
    twin.absorbed = this.absorbed;
    return twin;
  }
}

const IPAD = 0x36;
const OPAD = 0x5c;

/** HMAC-SHA-256 under one key (RFC 2104 §2), for any number of messages. */
export class HmacSha256 {
  /** The state after the block K ^ ipad. */
  private readonly inner: Int32Array;
  /** The state after the block K ^ opad. */
  private readonly outer: Int32Array;

  constructor(key: Uint8Array) {
    // RFC 2104 §2: a key longer than the block is hashed first; a shorter one is padded with zeros.
    const k = key.length > SHA256_BLOCK_LENGTH ? sha256(key) : key;
    const pad = new Uint8Array(SHA256_BLOCK_LENGTH);
    pad.set(k);
    for (let i = 0; i < SHA256_BLOCK_LENGTH; i++) pad[i]! ^= IPAD;
    this.inner = INITIAL_STATE.slice();
    compress(this.inner, pad, 0);
    for (let i = 0; i < SHA256_BLOCK_LENGTH; i++) pad[i]! ^= IPAD ^ OPAD;
    this.outer = INITIAL_STATE.slice();
    compress(this.outer, pad, 0);
  }

  /** HMAC(K, data) = H((K ^ opad) || H((K ^ ipad) || data)), 32 bytes in a new Buffer. */
  mac(data: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(SHA256_LENGTH);
    finish(this.inner, SHA256_BLOCK_LENGTH, data, out, 0);
    finish(this.outer, SHA256_BLOCK_LENGTH, out, out, 0);
    return out;
  }
}

/** HMAC-SHA-256(key, data) with a key used once. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Buffer {
  return new HmacSha256(key).mac(data);
}
