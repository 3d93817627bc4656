/**
 * Header protection masks (RFC 9001 §5.4): a 5-byte mask computed from a 16-byte sample of the
 * packet's ciphertext, with AES-ECB for the AES suites (§5.4.3) and raw ChaCha20 for
 * ChaCha20-Poly1305 (§5.4.4, one block of chacha20.ts). Applying the mask to the header lives in
 * packet-protection.ts.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { chacha20Block, chacha20KeyWords } from './chacha20.js';
import { CIPHER_SUITES, SAMPLE_LENGTH, type CipherSuite } from './suites.js';

export interface HeaderProtection {
  /** First 5 bytes of the mask for a 16-byte ciphertext sample (RFC 9001 §5.4.1). */
  mask(sample: Uint8Array): Buffer;
}

/**
 * RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample). ECB keeps no state between whole blocks, so one
 * cipher object serves every packet as long as only 16-byte blocks go in and final() is never called.
 */
class AesHeaderProtection implements HeaderProtection {
  private readonly ecb: Cipher;
  constructor(algorithm: 'aes-128-ecb' | 'aes-256-ecb', key: Uint8Array) {
    // The raw key, not a KeyObject: the cipher is made once, and importing a KeyObject first costs as much again.
    this.ecb = createCipheriv(algorithm, key, null).setAutoPadding(false);
  }
  mask(sample: Uint8Array): Buffer {
    if (sample.length < SAMPLE_LENGTH) throw new RangeError('header protection sample is 16 bytes (RFC 9001 §5.4.2)');
    return this.ecb.update(sample.subarray(0, SAMPLE_LENGTH)).subarray(0, 5);
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
  constructor(key: Uint8Array) {
    this.keyWords = chacha20KeyWords(key);
  }
  mask(sample: Uint8Array): Buffer {
    if (sample.length < SAMPLE_LENGTH) throw new RangeError('header protection sample is 16 bytes (RFC 9001 §5.4.2)');
    chacha20Block(this.keyWords, sample, this.block);
    const mask = Buffer.allocUnsafe(5);
    mask.writeUInt32LE(this.block[0]!, 0); // keystream bytes 0..3: word 0, little-endian
    mask[4] = this.block[1]! & 0xff; // keystream byte 4: low byte of word 1
    return mask;
  }
}

/** Header protection for a suite's "quic hp" key; the key lasts the whole connection (RFC 9001 §6). */
export function createHeaderProtection(suite: CipherSuite, hpKey: Uint8Array): HeaderProtection {
  const params = CIPHER_SUITES[suite];
  if (hpKey.length !== params.hpKeyLength) {
    throw new RangeError(`${params.name} header protection key is ${params.hpKeyLength} bytes`);
  }
  return params.headerProtection === 'chacha20'
    ? new ChaChaHeaderProtection(hpKey)
    : new AesHeaderProtection(params.headerProtection, hpKey);
}
