/**
 * One-block AES-128 in JavaScript (aes-block.ts, FIPS 197): the FIPS 197 Appendix C.1 vector, the
 * key expansion of Appendix A.1, and agreement with node:crypto's AES-128-ECB for any key and block.
 */
import { createCipheriv, createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aes128EncryptBlock, aes128KeySchedule } from '../../../src/quic/crypto/aes-block.js';

function encrypt(key: Uint8Array, block: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  aes128EncryptBlock(aes128KeySchedule(key), block, 0, out, 0);
  return out;
}

describe('AES-128 block (FIPS 197)', () => {
  it('encrypts the FIPS 197 Appendix C.1 example', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    expect(encrypt(key, Buffer.from('00112233445566778899aabbccddeeff', 'hex')).toString('hex')).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
  });

  it('expands the FIPS 197 Appendix A.1 key', () => {
    const w = aes128KeySchedule(Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex'));
    expect(w[4]!.toString(16)).toBe('a0fafe17');
    expect(w[43]!.toString(16)).toBe('b6630ca6');
  });

  it('agrees with node:crypto AES-128-ECB for any key and block, read and written at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 40 }), fc.nat(24), (key, input, at) => {
        const offset = at % (input.length - 15);
        const out = Buffer.alloc(40, 0xaa);
        aes128EncryptBlock(aes128KeySchedule(key), input, offset, out, 7);
        const expected = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(input.subarray(offset, offset + 16));
        expect(out.subarray(7, 23).equals(expected)).toBe(true);
        expect(out[6]).toBe(0xaa);
        expect(out[23]).toBe(0xaa);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every key\'s round keys its own across many expansions (shared slabs of 128 keys)', () => {
    // 300 keys cross two slab boundaries; each schedule is then used after all others were made.
    const keys = Array.from({ length: 300 }, (_, i) => createHash('sha256').update(`key ${i}`).digest().subarray(0, 16));
    const schedules = keys.map((key) => aes128KeySchedule(key));
    const block = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    schedules.forEach((w, i) => {
      expect(w.length).toBe(44);
      const out = Buffer.alloc(16);
      aes128EncryptBlock(w, block, 0, out, 0);
      const expected = createCipheriv('aes-128-ecb', keys[i]!, null).setAutoPadding(false).update(block);
      expect(out.toString('hex')).toBe(expected.toString('hex'));
    });
  });

  it('refuses a key that is not 16 bytes', () => {
    expect(() => aes128KeySchedule(new Uint8Array(32))).toThrow(RangeError);
  });

  it('a schedule keeps at most 16 schedules\' memory alive (its shared slab)', () => {
    // A key that stays on the JavaScript path (an idle connection's) pins its whole slab.
    for (let i = 0; i < 40; i++) {
      const w = aes128KeySchedule(new Uint8Array(16).fill(i));
      expect(w.length).toBe(44);
      expect(w.buffer.byteLength).toBeLessThanOrEqual(16 * 44 * 4);
    }
  });
});
