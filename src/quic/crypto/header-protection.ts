/**
 * Header protection masks (RFC 9001 §5.4): a 5-byte mask computed from a 16-byte sample of the
 * packet's ciphertext, with AES-ECB for the AES suites (§5.4.3; a key's first blocks by
 * aes-block.ts, the rest by node:crypto) and raw ChaCha20 for
 * ChaCha20-Poly1305 (§5.4.4, one block of chacha20.ts). Applying the mask to the header lives in
 * packet-protection.ts.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { aes128EncryptBlock, aes128KeySchedule } from './aes-block.js';
import { chacha20Block, chacha20KeyWords } from './chacha20.js';
import { CIPHER_SUITES, SAMPLE_LENGTH, type CipherSuite } from './suites.js';

export interface HeaderProtection {
  /** First 5 bytes of the mask for a 16-byte ciphertext sample (RFC 9001 §5.4.1). */
  mask(sample: Uint8Array): Buffer;
  /**
   * The mask for the 16-byte sample at `packet[sampleOffset]`, for the per-packet path: bytes 0..4
   * of the result are the mask, and it may be a scratch buffer that the next call overwrites. No
   * view of the sample and no 5-byte copy are made. RangeError if the packet ends before the sample does.
   */
  maskAt(packet: Uint8Array, sampleOffset: number): Uint8Array;
  /**
   * The masks of `count` samples laid back to back in `samples` (16 bytes each), in one call: mask i
   * is bytes 16i..16i+4 of the result. AES-ECB works block by block (RFC 9001 §5.4.3), so the masks
   * of a whole batch of packets cost one cipher call instead of one each. The result may be a
   * scratch buffer that the next call overwrites, but never `samples` itself: callers gather the
   * samples in one shared buffer (header-protection batches) and read the masks after it is reused.
   * RangeError if `samples` holds fewer than `count` samples.
   */
  masksOf(samples: Uint8Array, count: number): Uint8Array;
}

function checkSamples(samples: Uint8Array, count: number): void {
  if (!(Number.isInteger(count) && count >= 0 && count * SAMPLE_LENGTH <= samples.length)) {
    throw new RangeError('header protection samples are 16 bytes each (RFC 9001 §5.4.2)');
  }
}

function checkSample(packet: Uint8Array, sampleOffset: number): void {
  // A short sample would also leave a partial block inside the reused ECB cipher (see below).
  if (!(sampleOffset >= 0 && sampleOffset + SAMPLE_LENGTH <= packet.length)) {
    throw new RangeError('header protection sample is 16 bytes (RFC 9001 §5.4.2)');
  }
}

/**
 * Blocks a header protection key encrypts in JavaScript (aes-block.ts) before a node:crypto ECB
 * cipher takes over. A handshake masks one to three packets per key and direction, and making the
 * cipher costs ~5-8 µs, several blocks' worth; few blocks per key also keep the table-based AES far
 * from what a cache-timing attack needs.
 */
export const JS_AES_BLOCKS_PER_KEY = 8;

/**
 * RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample). ECB keeps no state between whole blocks, so one
 * cipher object serves every packet as long as only 16-byte blocks go in and final() is never
 * called. With AES-128 the first JS_AES_BLOCKS_PER_KEY blocks are encrypted in JavaScript and the
 * cipher object is made only when a key is used for more.
 */
class AesHeaderProtection implements HeaderProtection {
  private ecb: Cipher | undefined;
  /** Our copy of the key until the cipher is made (the caller's buffer may be reused). */
  private key: Buffer | undefined;
  /** AES-128 round keys, made at the first mask; blocks they may still encrypt. */
  private roundKeys: Uint32Array | undefined;
  private jsBlocksLeft: number;
  /** maskAt()'s result on the JS path, overwritten by each call. */
  private scratch: Buffer | undefined;

  /** `key` is this object's own (createHeaderProtection copies it when it must). */
  constructor(
    private readonly algorithm: 'aes-128-ecb' | 'aes-256-ecb',
    key: Buffer,
  ) {
    this.key = key;
    this.jsBlocksLeft = algorithm === 'aes-128-ecb' ? JS_AES_BLOCKS_PER_KEY : 0;
  }

  mask(sample: Uint8Array): Buffer {
    return Buffer.from(this.maskAt(sample, 0).subarray(0, 5));
  }
  maskAt(packet: Uint8Array, sampleOffset: number): Uint8Array {
    checkSample(packet, sampleOffset);
    if (this.jsBlocksLeft > 0) return this.encryptInJs(packet, sampleOffset, 1, (this.scratch ??= Buffer.allocUnsafe(SAMPLE_LENGTH)));
    // One block in, one block out (16 bytes; the mask is its first 5).
    return this.cipher().update(packet.subarray(sampleOffset, sampleOffset + SAMPLE_LENGTH));
  }
  masksOf(samples: Uint8Array, count: number): Uint8Array {
    checkSamples(samples, count);
    // A new buffer, as node:crypto's update() gives: a receiver keeps a batch's masks while it unmasks packets one by one.
    if (count === 0) return Buffer.alloc(0);
    if (count <= this.jsBlocksLeft) return this.encryptInJs(samples, 0, count, Buffer.allocUnsafe(count * SAMPLE_LENGTH));
    // Whole blocks only, as in maskAt: the cipher is left with no partial block.
    return this.cipher().update(samples.subarray(0, count * SAMPLE_LENGTH));
  }

  /** AES-128 of `count` blocks from `input[offset]` into `out` (aes-block.ts). */
  private encryptInJs(input: Uint8Array, offset: number, count: number, out: Buffer): Buffer {
    this.roundKeys ??= aes128KeySchedule(this.key!);
    this.jsBlocksLeft -= count;
    for (let i = 0; i < count; i++) aes128EncryptBlock(this.roundKeys, input, offset + i * SAMPLE_LENGTH, out, i * SAMPLE_LENGTH);
    return out;
  }

  private cipher(): Cipher {
    if (this.ecb === undefined) {
      // The raw key, not a KeyObject: the cipher is made once, and importing a KeyObject first costs as much again.
      this.ecb = createCipheriv(this.algorithm, this.key!, null).setAutoPadding(false);
      this.key = undefined;
      this.roundKeys = undefined;
      this.scratch = undefined;
      this.jsBlocksLeft = 0;
    }
    return this.ecb;
  }
}

/**
 * RFC 9001 §5.4.4: counter = sample[0..3] (little-endian), nonce = sample[4..15],
 * mask = ChaCha20(hp_key, counter, nonce, {0,0,0,0,0}): the first 5 keystream bytes, since
 * encrypting zeros yields the keystream. One block function call, no cipher object per packet.
 */
class ChaChaHeaderProtection implements HeaderProtection {
  private readonly keyWords: Uint32Array;
  private readonly block = new Uint32Array(16);
  /** maskAt()'s result, overwritten by each call. */
  private readonly scratch = Buffer.alloc(5);
  constructor(key: Uint8Array) {
    this.keyWords = chacha20KeyWords(key);
  }
  mask(sample: Uint8Array): Buffer {
    return Buffer.from(this.maskAt(sample, 0));
  }
  maskAt(packet: Uint8Array, sampleOffset: number): Uint8Array {
    checkSample(packet, sampleOffset);
    chacha20Block(this.keyWords, packet, this.block, sampleOffset);
    this.scratch.writeUInt32LE(this.block[0]!, 0); // keystream bytes 0..3: word 0, little-endian
    this.scratch[4] = this.block[1]! & 0xff; // keystream byte 4: low byte of word 1
    return this.scratch;
  }
  masksOf(samples: Uint8Array, count: number): Uint8Array {
    checkSamples(samples, count);
    // No cipher call to save here: one block function per sample, as maskAt.
    const out = Buffer.allocUnsafe(count * SAMPLE_LENGTH);
    for (let i = 0; i < count; i++) {
      chacha20Block(this.keyWords, samples, this.block, i * SAMPLE_LENGTH);
      out.writeUInt32LE(this.block[0]!, i * SAMPLE_LENGTH);
      out[i * SAMPLE_LENGTH + 4] = this.block[1]! & 0xff;
    }
    return out;
  }
}

/**
 * Header protection for a suite's "quic hp" key; the key lasts the whole connection (RFC 9001 §6).
 * The key is copied unless `adoptKey`: a key derived for this header protection alone, which no
 * one else holds or changes (PacketProtector.adopt).
 */
export function createHeaderProtection(suite: CipherSuite, hpKey: Uint8Array, adoptKey = false): HeaderProtection {
  const params = CIPHER_SUITES[suite];
  if (hpKey.length !== params.hpKeyLength) {
    throw new RangeError(`${params.name} header protection key is ${params.hpKeyLength} bytes`);
  }
  return params.headerProtection === 'chacha20'
    ? new ChaChaHeaderProtection(hpKey)
    : new AesHeaderProtection(params.headerProtection, adoptKey && Buffer.isBuffer(hpKey) ? hpKey : Buffer.from(hpKey));
}
