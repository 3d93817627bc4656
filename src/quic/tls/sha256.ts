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
 *
 * Speed: the block function keeps the message schedule in sixteen local variables (a rolling
 * window of W, §6.2.2) and runs the rounds sixteen at a time, so nothing but the block and the
 * state is read from memory; the scratch blocks are Buffers, like nearly every caller's data, so
 * that the block function sees one kind of array.
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

/** The working state of the hash being finished, a copy of a starting state. */
const working = new Int32Array(8);
/** The last one or two blocks of a message with its padding (§5.1.1). */
const tail = Buffer.alloc(2 * SHA256_BLOCK_LENGTH);
const tailView = new DataView(tail.buffer, tail.byteOffset, tail.length);
/** The same bytes as a plain Uint8Array: its fill() is V8's, Buffer's is a slower JavaScript wrapper. */
const tailBytes = new Uint8Array(tail.buffer, tail.byteOffset, tail.length);

/**
 * The outer block of every HMAC (RFC 2104 §2): the 32-byte inner hash, then the padding of a
 * 96-byte message (K ^ opad is the first 64), the same for every MAC, so written once here.
 */
const outerBlock = Buffer.alloc(SHA256_BLOCK_LENGTH);
outerBlock[SHA256_LENGTH] = 0x80;
outerBlock.writeUInt16BE((SHA256_BLOCK_LENGTH + SHA256_LENGTH) * 8, SHA256_BLOCK_LENGTH - 2);

/**
 * FIPS 180-4 §6.2.2: one 64-byte block at `o` into `state`. The sixteen rounds in the loop are
 * the same round with the next K and W; Ch(e,f,g) is written g ^ (e & (f ^ g)) and Maj(a,b,c)
 * (a & b) | (c & (a | b)), the same functions with fewer operations.
 */
function compress(state: Int32Array, block: Uint8Array, o: number): void {
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;
  let e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  let t1: number, t2: number;
  let w0 = (block[o + 0]! << 24) | (block[o + 1]! << 16) | (block[o + 2]! << 8) | block[o + 3]!;
  let w1 = (block[o + 4]! << 24) | (block[o + 5]! << 16) | (block[o + 6]! << 8) | block[o + 7]!;
  let w2 = (block[o + 8]! << 24) | (block[o + 9]! << 16) | (block[o + 10]! << 8) | block[o + 11]!;
  let w3 = (block[o + 12]! << 24) | (block[o + 13]! << 16) | (block[o + 14]! << 8) | block[o + 15]!;
  let w4 = (block[o + 16]! << 24) | (block[o + 17]! << 16) | (block[o + 18]! << 8) | block[o + 19]!;
  let w5 = (block[o + 20]! << 24) | (block[o + 21]! << 16) | (block[o + 22]! << 8) | block[o + 23]!;
  let w6 = (block[o + 24]! << 24) | (block[o + 25]! << 16) | (block[o + 26]! << 8) | block[o + 27]!;
  let w7 = (block[o + 28]! << 24) | (block[o + 29]! << 16) | (block[o + 30]! << 8) | block[o + 31]!;
  let w8 = (block[o + 32]! << 24) | (block[o + 33]! << 16) | (block[o + 34]! << 8) | block[o + 35]!;
  let w9 = (block[o + 36]! << 24) | (block[o + 37]! << 16) | (block[o + 38]! << 8) | block[o + 39]!;
  let w10 = (block[o + 40]! << 24) | (block[o + 41]! << 16) | (block[o + 42]! << 8) | block[o + 43]!;
  let w11 = (block[o + 44]! << 24) | (block[o + 45]! << 16) | (block[o + 46]! << 8) | block[o + 47]!;
  let w12 = (block[o + 48]! << 24) | (block[o + 49]! << 16) | (block[o + 50]! << 8) | block[o + 51]!;
  let w13 = (block[o + 52]! << 24) | (block[o + 53]! << 16) | (block[o + 54]! << 8) | block[o + 55]!;
  let w14 = (block[o + 56]! << 24) | (block[o + 57]! << 16) | (block[o + 58]! << 8) | block[o + 59]!;
  let w15 = (block[o + 60]! << 24) | (block[o + 61]! << 16) | (block[o + 62]! << 8) | block[o + 63]!;
  for (let t = 0; ; t += 16) {
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t] + w0) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 1] + w1) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 2] + w2) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 3] + w3) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 4] + w4) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 5] + w5) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 6] + w6) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 7] + w7) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 8] + w8) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 9] + w9) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 10] + w10) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 11] + w11) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 12] + w12) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 13] + w13) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 14] + w14) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[t + 15] + w15) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    if (t === 48) break;
    // W[t..t+15] for the next 16 rounds, each from W[t-16], W[t-15], W[t-7] and W[t-2] (§6.2.2 step 1).
    w0 = (w0 + (((w14 >>> 17) | (w14 << 15)) ^ ((w14 >>> 19) | (w14 << 13)) ^ (w14 >>> 10)) + w9
      + (((w1 >>> 7) | (w1 << 25)) ^ ((w1 >>> 18) | (w1 << 14)) ^ (w1 >>> 3))) | 0;
    w1 = (w1 + (((w15 >>> 17) | (w15 << 15)) ^ ((w15 >>> 19) | (w15 << 13)) ^ (w15 >>> 10)) + w10
      + (((w2 >>> 7) | (w2 << 25)) ^ ((w2 >>> 18) | (w2 << 14)) ^ (w2 >>> 3))) | 0;
    w2 = (w2 + (((w0 >>> 17) | (w0 << 15)) ^ ((w0 >>> 19) | (w0 << 13)) ^ (w0 >>> 10)) + w11
      + (((w3 >>> 7) | (w3 << 25)) ^ ((w3 >>> 18) | (w3 << 14)) ^ (w3 >>> 3))) | 0;
    w3 = (w3 + (((w1 >>> 17) | (w1 << 15)) ^ ((w1 >>> 19) | (w1 << 13)) ^ (w1 >>> 10)) + w12
      + (((w4 >>> 7) | (w4 << 25)) ^ ((w4 >>> 18) | (w4 << 14)) ^ (w4 >>> 3))) | 0;
    w4 = (w4 + (((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10)) + w13
      + (((w5 >>> 7) | (w5 << 25)) ^ ((w5 >>> 18) | (w5 << 14)) ^ (w5 >>> 3))) | 0;
    w5 = (w5 + (((w3 >>> 17) | (w3 << 15)) ^ ((w3 >>> 19) | (w3 << 13)) ^ (w3 >>> 10)) + w14
      + (((w6 >>> 7) | (w6 << 25)) ^ ((w6 >>> 18) | (w6 << 14)) ^ (w6 >>> 3))) | 0;
    w6 = (w6 + (((w4 >>> 17) | (w4 << 15)) ^ ((w4 >>> 19) | (w4 << 13)) ^ (w4 >>> 10)) + w15
      + (((w7 >>> 7) | (w7 << 25)) ^ ((w7 >>> 18) | (w7 << 14)) ^ (w7 >>> 3))) | 0;
    w7 = (w7 + (((w5 >>> 17) | (w5 << 15)) ^ ((w5 >>> 19) | (w5 << 13)) ^ (w5 >>> 10)) + w0
      + (((w8 >>> 7) | (w8 << 25)) ^ ((w8 >>> 18) | (w8 << 14)) ^ (w8 >>> 3))) | 0;
    w8 = (w8 + (((w6 >>> 17) | (w6 << 15)) ^ ((w6 >>> 19) | (w6 << 13)) ^ (w6 >>> 10)) + w1
      + (((w9 >>> 7) | (w9 << 25)) ^ ((w9 >>> 18) | (w9 << 14)) ^ (w9 >>> 3))) | 0;
    w9 = (w9 + (((w7 >>> 17) | (w7 << 15)) ^ ((w7 >>> 19) | (w7 << 13)) ^ (w7 >>> 10)) + w2
      + (((w10 >>> 7) | (w10 << 25)) ^ ((w10 >>> 18) | (w10 << 14)) ^ (w10 >>> 3))) | 0;
    w10 = (w10 + (((w8 >>> 17) | (w8 << 15)) ^ ((w8 >>> 19) | (w8 << 13)) ^ (w8 >>> 10)) + w3
      + (((w11 >>> 7) | (w11 << 25)) ^ ((w11 >>> 18) | (w11 << 14)) ^ (w11 >>> 3))) | 0;
    w11 = (w11 + (((w9 >>> 17) | (w9 << 15)) ^ ((w9 >>> 19) | (w9 << 13)) ^ (w9 >>> 10)) + w4
      + (((w12 >>> 7) | (w12 << 25)) ^ ((w12 >>> 18) | (w12 << 14)) ^ (w12 >>> 3))) | 0;
    w12 = (w12 + (((w10 >>> 17) | (w10 << 15)) ^ ((w10 >>> 19) | (w10 << 13)) ^ (w10 >>> 10)) + w5
      + (((w13 >>> 7) | (w13 << 25)) ^ ((w13 >>> 18) | (w13 << 14)) ^ (w13 >>> 3))) | 0;
    w13 = (w13 + (((w11 >>> 17) | (w11 << 15)) ^ ((w11 >>> 19) | (w11 << 13)) ^ (w11 >>> 10)) + w6
      + (((w14 >>> 7) | (w14 << 25)) ^ ((w14 >>> 18) | (w14 << 14)) ^ (w14 >>> 3))) | 0;
    w14 = (w14 + (((w12 >>> 17) | (w12 << 15)) ^ ((w12 >>> 19) | (w12 << 13)) ^ (w12 >>> 10)) + w7
      + (((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3))) | 0;
    w15 = (w15 + (((w13 >>> 17) | (w13 << 15)) ^ ((w13 >>> 19) | (w13 << 13)) ^ (w13 >>> 10)) + w8
      + (((w0 >>> 7) | (w0 << 25)) ^ ((w0 >>> 18) | (w0 << 14)) ^ (w0 >>> 3))) | 0;
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
 * Hashes the first `length` bytes of `data` from the state in `start[0..7]` (an HMAC key keeps
 * two states in one array), which has absorbed `prefixLength` bytes (a whole number of blocks), and pads (§5.1.1: 0x80, zeros, the message
 * length in bits as 64 bits): the hash is then in `working`. `start` is not changed.
 */
function hashRest(start: Int32Array, prefixLength: number, data: Uint8Array, length: number): void {
  const state = working;
  for (let i = 0; i < 8; i++) state[i] = start[i]!;
  const rest = length % SHA256_BLOCK_LENGTH;
  const whole = length - rest;
  for (let i = 0; i < whole; i += SHA256_BLOCK_LENGTH) compress(state, data, i);
  // The rest into the padding block; bytes of `data` past `length` that come along are overwritten
  // below or lie past the last block, so short inputs are copied without a view.
  if (rest > 0) tail.set(whole === 0 && data.length <= tail.length ? data : data.subarray(whole, length), 0);
  tail[rest] = 0x80;
  // One block when the 0x80 byte and the 8-byte length fit after the rest, else two.
  const tailLength = rest + 9 <= SHA256_BLOCK_LENGTH ? SHA256_BLOCK_LENGTH : 2 * SHA256_BLOCK_LENGTH;
  tailBytes.fill(0, rest + 1, tailLength - 8);
  const bits = (prefixLength + length) * 8;
  tailView.setUint32(tailLength - 8, Math.floor(bits / 0x1_0000_0000));
  tailView.setUint32(tailLength - 4, bits >>> 0);
  compress(state, tail, 0);
  if (tailLength > SHA256_BLOCK_LENGTH) compress(state, tail, SHA256_BLOCK_LENGTH);
}

/**
 * The first `length` bytes of the eight words of `state` as big-endian bytes at `offset` (§6.2.2
 * step 4: H0 || … || H7, 32 bytes; fewer for a truncated output).
 */
function writeDigest(state: Int32Array, out: Uint8Array, offset: number, length = SHA256_LENGTH): void {
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const word = state[i]!;
    const o = offset + 4 * i;
    out[o] = word >>> 24;
    out[o + 1] = word >>> 16;
    out[o + 2] = word >>> 8;
    out[o + 3] = word;
  }
  for (let j = words * 4; j < length; j++) out[offset + j] = state[j >>> 2]! >>> (24 - 8 * (j & 3));
}

/** SHA-256 from `start` over the rest of a message, in a new Buffer. */
function finish(start: Int32Array, prefixLength: number, data: Uint8Array, length: number): Buffer {
  hashRest(start, prefixLength, data, length);
  const out = Buffer.allocUnsafe(SHA256_LENGTH);
  writeDigest(working, out, 0);
  return out;
}

/** SHA-256(data) (FIPS 180-4 §6.2). */
export function sha256(data: Uint8Array): Buffer {
  return finish(INITIAL_STATE, 0, data, data.length);
}

/** SHA-256 over data given in pieces; digest() may be asked for at any point and the hash goes on. */
export class Sha256 {
  private readonly state = INITIAL_STATE.slice();
  /** The bytes of an unfinished block, copied: the caller may reuse its buffers. */
  private readonly pending = Buffer.alloc(SHA256_BLOCK_LENGTH);
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
      this.pending.set(offset === 0 ? data : data.subarray(offset), 0);
      this.pendingLength = data.length - offset;
    }
    return this;
  }

  /** SHA-256 of everything given so far, in a new Buffer; the hash goes on. */
  digest(): Buffer {
    return finish(this.state, this.absorbed, this.pending, this.pendingLength);
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

/** RFC 2104 §2: ipad and opad, as 32-bit words to XOR the key block four bytes at a time. */
const IPAD_WORD = 0x36363636;
const OPAD_WORD = 0x5c5c5c5c;
/** The key block K ^ ipad, then K ^ opad; zeroed after use so that no key material stays behind. */
const padBlock = Buffer.alloc(SHA256_BLOCK_LENGTH);
const padWords = new Int32Array(padBlock.buffer, padBlock.byteOffset, SHA256_BLOCK_LENGTH / 4);
const padZeros = new Uint8Array(padBlock.buffer, padBlock.byteOffset, SHA256_BLOCK_LENGTH);

/** HMAC-SHA-256 under one key (RFC 2104 §2), for any number of messages. */
export class HmacSha256 {
  /** The hash, for callers that keep keys of several hashes side by side (the key schedule's HkdfKey). */
  readonly hash = 'sha256' as const;
  /** The state after the block K ^ ipad (words 0..7), then the state after the block K ^ opad (8..15): one array per key. */
  private readonly states = new Int32Array(16);

  constructor(key: Uint8Array) {
    // RFC 2104 §2: a key longer than the block is hashed first; a shorter one is padded with zeros.
    const k = key.length > SHA256_BLOCK_LENGTH ? sha256(key) : key;
    padBlock.set(k, 0);
    padZeros.fill(0, k.length);
    for (let i = 0; i < padWords.length; i++) padWords[i]! ^= IPAD_WORD;
    working.set(INITIAL_STATE);
    compress(working, padBlock, 0);
    this.states.set(working, 0);
    for (let i = 0; i < padWords.length; i++) padWords[i]! ^= IPAD_WORD ^ OPAD_WORD;
    working.set(INITIAL_STATE);
    compress(working, padBlock, 0);
    this.states.set(working, 8);
    padZeros.fill(0);
  }

  /**
   * HMAC(K, data) = H((K ^ opad) || H((K ^ ipad) || data)) in a new Buffer: all 32 bytes, or the
   * first `length` (0..32) when the caller keeps no more, as HKDF-Expand's L does (RFC 5869 §2.3).
   */
  mac(data: Uint8Array, length: number = SHA256_LENGTH): Buffer {
    if (!(length >= 0 && length <= SHA256_LENGTH)) throw new RangeError('HMAC-SHA-256 output is at most 32 bytes');
    hashRest(this.states, SHA256_BLOCK_LENGTH, data, data.length);
    writeDigest(working, outerBlock, 0);
    hashOuter(this.states);
    const out = Buffer.allocUnsafe(length);
    writeDigest(working, out, 0, length);
    return out;
  }
}

/** `working` = the outer hash over `outerBlock` from the opad state at `states[8..15]`. */
function hashOuter(states: Int32Array): void {
  for (let i = 0; i < 8; i++) working[i] = states[8 + i]!;
  compress(working, outerBlock, 0);
}

/** HMAC-SHA-256(key, data) with a key used once. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Buffer {
  return new HmacSha256(key).mac(data);
}
