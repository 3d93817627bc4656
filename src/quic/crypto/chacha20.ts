/**
 * The ChaCha20 block function (RFC 8439 §2.3) for QUIC header protection (RFC 9001 §5.4.4), which
 * needs only the first 5 bytes of one keystream block per packet. Creating a node:crypto
 * "chacha20" cipher for that costs several microseconds (its IV is the per-packet sample, so it
 * cannot be reused); one block computed here costs about one. Payload encryption stays on
 * node:crypto's AEAD. Cross-checked against node:crypto and RFC 8439 §2.3.2 in the tests.
 *
 * chacha20XorInPlace is the cipher of RFC 8439 §2.4 over a few blocks, for the server's session
 * tickets (a hundred bytes sealed once per handshake, ./../tls/tickets.ts).
 */

/** "expand 32-byte k" as four little-endian words (RFC 8439 §2.3). */
const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

/** Four bytes as a little-endian word; a DataView per call would allocate on the per-packet path. */
function littleEndianWord(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** A 32-byte key as the eight little-endian words the state takes (RFC 8439 §2.3). */
export function chacha20KeyWords(key: Uint8Array): Uint32Array {
  if (key.length !== 32) throw new RangeError('ChaCha20 keys are 32 bytes');
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = littleEndianWord(key, i * 4);
  return words;
}

/**
 * One block: state = constants || key || counter || nonce, where `counterAndNonce` (from `offset`)
 * is the 4-byte little-endian block counter followed by the 12-byte nonce (RFC 8439 §2.3); 20 rounds as 10 double
 * rounds of column then diagonal quarter rounds (§2.1, §2.3.1); the input added back. The 16 output
 * words go to `out`; serialised little-endian they are the 64-byte keystream block.
 */
export function chacha20Block(key: Uint32Array, counterAndNonce: Uint8Array, out: Uint32Array, offset = 0): void {
  if (!(offset >= 0 && offset + 16 <= counterAndNonce.length)) throw new RangeError('ChaCha20 takes a 4-byte counter and a 12-byte nonce');
  const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!, k4 = key[4]!, k5 = key[5]!, k6 = key[6]!, k7 = key[7]!;
  const n0 = littleEndianWord(counterAndNonce, offset), n1 = littleEndianWord(counterAndNonce, offset + 4);
  const n2 = littleEndianWord(counterAndNonce, offset + 8), n3 = littleEndianWord(counterAndNonce, offset + 12);
  let x0 = SIGMA0, x1 = SIGMA1, x2 = SIGMA2, x3 = SIGMA3;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  let x12 = n0, x13 = n1, x14 = n2, x15 = n3;
  // Quarter round (RFC 8439 §2.1): a += b; d ^= a; d <<<= 16; c += d; b ^= c; b <<<= 12;
  //                                a += b; d ^= a; d <<<= 8;  c += d; b ^= c; b <<<= 7.
  // Written out by hand: a helper taking and returning four words would allocate per call.
  for (let i = 0; i < 10; i++) {
    // Column rounds: (0,4,8,12) (1,5,9,13) (2,6,10,14) (3,7,11,15)
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16); x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24); x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16); x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24); x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16); x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24); x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16); x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24); x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);
    // Diagonal rounds: (0,5,10,15) (1,6,11,12) (2,7,8,13) (3,4,9,14)
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16); x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24); x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16); x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24); x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16); x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24); x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16); x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24); x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  // RFC 8439 §2.3: add the original input words to the result (the Uint32Array store wraps mod 2^32).
  out[0] = x0 + SIGMA0; out[1] = x1 + SIGMA1; out[2] = x2 + SIGMA2; out[3] = x3 + SIGMA3;
  out[4] = x4 + k0; out[5] = x5 + k1; out[6] = x6 + k2; out[7] = x7 + k3;
  out[8] = x8 + k4; out[9] = x9 + k5; out[10] = x10 + k6; out[11] = x11 + k7;
  out[12] = x12 + n0; out[13] = x13 + n1; out[14] = x14 + n2; out[15] = x15 + n3;
}

/** The counter block and one keystream block of chacha20XorInPlace, reused (and wiped) per call. */
const streamInput = new Uint8Array(16);
const streamBlock = new Uint32Array(16);

/**
 * ChaCha20 encryption (RFC 8439 §2.4): `data[start..end)` XORed in place with the keystream of
 * the blocks `counter`, `counter + 1`, … under `key` and the 12-byte `nonce`. Decryption is the
 * same operation. The 32-bit block counter must not wrap (§2.4: at most 2^32 blocks per nonce).
 */
export function chacha20XorInPlace(key: Uint32Array, nonce: Uint8Array, counter: number, data: Uint8Array, start = 0, end = data.length): void {
  if (nonce.length !== 12) throw new RangeError('ChaCha20 nonces are 12 bytes');
  if (!(start >= 0 && start <= end && end <= data.length)) throw new RangeError('ChaCha20: range outside the data');
  const blocks = Math.ceil((end - start) / 64);
  if (!(Number.isInteger(counter) && counter >= 0 && counter + blocks <= 0x1_0000_0000)) throw new RangeError('ChaCha20 block counter out of range');
  streamInput.set(nonce, 4);
  for (let at = start, n = counter; at < end; at += 64, n++) {
    // §2.3: the counter is the first word of the input, little-endian.
    streamInput[0] = n; streamInput[1] = n >>> 8; streamInput[2] = n >>> 16; streamInput[3] = n >>> 24;
    chacha20Block(key, streamInput, streamBlock);
    const stop = Math.min(end, at + 64);
    for (let i = at; i < stop; i++) data[i]! ^= streamBlock[(i - at) >>> 2]! >>> (8 * ((i - at) & 3));
  }
  streamBlock.fill(0); // no keystream left behind
}
