/**
 * One-block AES-128 encryption (FIPS 197 §5.1, key expansion §5.2) in JavaScript, for the header
 * protection masks of RFC 9001 §5.4.3 where a key masks only a few packets: a handshake uses each
 * of its six header protection keys per end for one to three packets, and a node:crypto ECB cipher
 * object costs ~5-8 µs to make, several times what this costs for a block (header-protection.ts
 * decides when to use which).
 *
 * The round function uses the usual four 256-entry tables (SubBytes, ShiftRows and MixColumns in
 * one lookup per byte). Table lookups indexed by key-dependent bytes are not constant-time in a
 * cache; header-protection.ts therefore encrypts at most a handful of blocks per key this way,
 * far too few for a cache-timing attack, and hands the rest of a connection to OpenSSL.
 */

/** S-box and the four round tables, computed once from GF(2^8) arithmetic (FIPS 197 §5.1.1, §5.1.3). */
const SBOX = new Uint8Array(256);
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);

/** Round constants of the key expansion (FIPS 197 §5.2): x^(i-1) in GF(2^8), in the top byte. */
const RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];

function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

(function buildTables(): void {
  // Walk the multiplicative group with generator 3 to find inverses (p * q = 1).
  let p = 1;
  let q = 1;
  do {
    p = p ^ xtime(p); // p *= 3
    q ^= q << 1; // q /= 3
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    // Affine transformation of the inverse q (FIPS 197 §5.1.1).
    const r = q ^ ((q << 1) | (q >>> 7)) ^ ((q << 2) | (q >>> 6)) ^ ((q << 3) | (q >>> 5)) ^ ((q << 4) | (q >>> 4));
    SBOX[p] = (r ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63; // 0 has no inverse
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i]!;
    const s2 = xtime(s);
    const s3 = s2 ^ s;
    // MixColumns column (2s, s, s, 3s), big-endian word; T1..T3 are its byte rotations.
    const t = ((s2 << 24) | (s << 16) | (s << 8) | s3) >>> 0;
    T0[i] = t;
    T1[i] = ((t >>> 8) | (t << 24)) >>> 0;
    T2[i] = ((t >>> 16) | (t << 16)) >>> 0;
    T3[i] = ((t >>> 24) | (t << 8)) >>> 0;
  }
})();

/**
 * Round keys are carved out of shared slabs: a Uint32Array of its own (176 bytes, past V8's 64-byte
 * limit for typed arrays kept on the JS heap) costs 1-2 µs to make, several times the expansion
 * itself, and a handshake expands six keys per end. A slab lives as long as a key carved from it,
 * so it is small: a key that stays on this path (under 9 blocks, e.g. an idle connection's) keeps
 * at most 16 × 176 bytes alive, not the 128 × 176 of the first version (found by review).
 */
const ROUND_KEY_WORDS = 44;
const KEYS_PER_SLAB = 16;
let slab = new Uint32Array(ROUND_KEY_WORDS * KEYS_PER_SLAB);
let slabUsed = 0;

function roundKeyWords(): Uint32Array {
  if (slabUsed + ROUND_KEY_WORDS > slab.length) {
    slab = new Uint32Array(ROUND_KEY_WORDS * KEYS_PER_SLAB);
    slabUsed = 0;
  }
  const w = slab.subarray(slabUsed, slabUsed + ROUND_KEY_WORDS);
  slabUsed += ROUND_KEY_WORDS;
  return w;
}

/** The 44 round-key words of a 16-byte AES-128 key (FIPS 197 §5.2). RangeError for another length. */
export function aes128KeySchedule(key: Uint8Array): Uint32Array {
  if (key.length !== 16) throw new RangeError('AES-128 key is 16 bytes');
  const w = roundKeyWords();
  let w0 = (key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!;
  let w1 = (key[4]! << 24) | (key[5]! << 16) | (key[6]! << 8) | key[7]!;
  let w2 = (key[8]! << 24) | (key[9]! << 16) | (key[10]! << 8) | key[11]!;
  let w3 = (key[12]! << 24) | (key[13]! << 16) | (key[14]! << 8) | key[15]!;
  w[0] = w0;
  w[1] = w1;
  w[2] = w2;
  w[3] = w3;
  // Four words per round: the first from SubWord(RotWord(w[i-1])) ^ Rcon, the rest chained (§5.2).
  for (let round = 0, i = 4; round < 10; round++, i += 4) {
    const t = w3;
    w0 ^= ((SBOX[(t >>> 16) & 0xff]! << 24) | (SBOX[(t >>> 8) & 0xff]! << 16) | (SBOX[t & 0xff]! << 8) | SBOX[t >>> 24]!) ^ (RCON[round]! << 24);
    w1 ^= w0;
    w2 ^= w1;
    w3 ^= w2;
    w[i] = w0;
    w[i + 1] = w1;
    w[i + 2] = w2;
    w[i + 3] = w3;
  }
  return w;
}

/**
 * AES-128 encryption of the 16-byte block at `input[inOffset]` with `roundKeys`
 * (aes128KeySchedule), written to `out[outOffset]` (FIPS 197 §5.1). The caller checks the bounds.
 */
export function aes128EncryptBlock(roundKeys: Uint32Array, input: Uint8Array, inOffset: number, out: Uint8Array, outOffset: number): void {
  const k = roundKeys;
  const i = inOffset;
  let s0 = (((input[i]! << 24) | (input[i + 1]! << 16) | (input[i + 2]! << 8) | input[i + 3]!) ^ k[0]!) >>> 0;
  let s1 = (((input[i + 4]! << 24) | (input[i + 5]! << 16) | (input[i + 6]! << 8) | input[i + 7]!) ^ k[1]!) >>> 0;
  let s2 = (((input[i + 8]! << 24) | (input[i + 9]! << 16) | (input[i + 10]! << 8) | input[i + 11]!) ^ k[2]!) >>> 0;
  let s3 = (((input[i + 12]! << 24) | (input[i + 13]! << 16) | (input[i + 14]! << 8) | input[i + 15]!) ^ k[3]!) >>> 0;
  // Rounds 1..9: SubBytes, ShiftRows, MixColumns and AddRoundKey by table (FIPS 197 §5.1.1-5.1.4).
  for (let r = 4; r < 40; r += 4) {
    const t0 = T0[s0 >>> 24]! ^ T1[(s1 >>> 16) & 0xff]! ^ T2[(s2 >>> 8) & 0xff]! ^ T3[s3 & 0xff]! ^ k[r]!;
    const t1 = T0[s1 >>> 24]! ^ T1[(s2 >>> 16) & 0xff]! ^ T2[(s3 >>> 8) & 0xff]! ^ T3[s0 & 0xff]! ^ k[r + 1]!;
    const t2 = T0[s2 >>> 24]! ^ T1[(s3 >>> 16) & 0xff]! ^ T2[(s0 >>> 8) & 0xff]! ^ T3[s1 & 0xff]! ^ k[r + 2]!;
    const t3 = T0[s3 >>> 24]! ^ T1[(s0 >>> 16) & 0xff]! ^ T2[(s1 >>> 8) & 0xff]! ^ T3[s2 & 0xff]! ^ k[r + 3]!;
    s0 = t0 >>> 0;
    s1 = t1 >>> 0;
    s2 = t2 >>> 0;
    s3 = t3 >>> 0;
  }
  // Final round: no MixColumns; column c takes its rows from columns c, c+1, c+2, c+3 (ShiftRows).
  finalColumn(s0, s1, s2, s3, k[40]!, out, outOffset);
  finalColumn(s1, s2, s3, s0, k[41]!, out, outOffset + 4);
  finalColumn(s2, s3, s0, s1, k[42]!, out, outOffset + 8);
  finalColumn(s3, s0, s1, s2, k[43]!, out, outOffset + 12);
}

/** One output column of the last round: SubBytes of the shifted rows, then AddRoundKey (FIPS 197 §5.1). */
function finalColumn(a: number, b: number, d: number, e: number, rk: number, out: Uint8Array, o: number): void {
  out[o] = SBOX[a >>> 24]! ^ (rk >>> 24);
  out[o + 1] = SBOX[(b >>> 16) & 0xff]! ^ ((rk >>> 16) & 0xff);
  out[o + 2] = SBOX[(d >>> 8) & 0xff]! ^ ((rk >>> 8) & 0xff);
  out[o + 3] = SBOX[e & 0xff]! ^ (rk & 0xff);
}
