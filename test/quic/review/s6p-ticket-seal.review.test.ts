/**
 * Review of f63dfa7 (issue 5): session tickets sealed in JavaScript, ChaCha20 (RFC 8439 §2.4) +
 * HMAC-SHA-256 encrypt-then-MAC (RFC 5077 §4's construction; RFC 8446 §4.6.1 leaves the format to
 * the server). Checked here against node:crypto, independently of the code under review:
 * - the construction: nonce = the 12 random bytes, cipher and MAC keys expanded from the ticket key
 *   under distinct labels (RFC 5869 §2.3), counter 0, tag = HMAC(nonce || ciphertext) cut to 16;
 * - the cache of expanded keys: two servers with different keys in one process, a key Buffer
 *   changed in place (and back), equal keys in different Buffers;
 * - a ticket that passes the MAC but holds a malformed state opens to null (never a throw), as does
 *   any random input;
 * - chacha20XorInPlace's block counter near 2^32 (RFC 8439 §2.4: the counter must not wrap).
 */
import { createCipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chacha20KeyWords, chacha20XorInPlace } from '../../../src/quic/crypto/chacha20.js';
import { openTicket, sealTicket, type TicketState } from '../../../src/quic/tls/tickets.js';

const state: TicketState = {
  suite: 0x1301,
  psk: Buffer.alloc(32, 0x5a),
  issuedAt: 1_900_000_000_000,
  lifetime: 7200,
  ageAdd: 0x01020304,
  maxEarlyData: 0xffffffff,
  alpn: 'h3',
  id: Buffer.alloc(16, 0x11),
  contextHash: Buffer.alloc(32, 0x22),
};

/** HKDF-Expand (RFC 5869 §2.3) for L = 32: T(1) = HMAC(PRK, info || 0x01). */
function expand32(prk: Buffer, info: string): Buffer {
  return createHmac('sha256', prk).update(Buffer.concat([Buffer.from(info, 'latin1'), Buffer.of(1)])).digest();
}

/** ChaCha20 with node:crypto: its 16-byte IV is the 32-bit counter (little-endian) then the nonce. */
function nodeChacha(key: Buffer, nonce: Buffer, counter: number, data: Buffer): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  nonce.copy(iv, 4);
  const c = createCipheriv('chacha20', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

function fixedRandom(bytes: Buffer): (n: number) => Buffer {
  return (n) => {
    expect(n).toBe(bytes.length);
    return Buffer.from(bytes);
  };
}

/** A ticket as the construction defines it, for any plaintext: what the server would accept if the MAC is all it checks. */
function forge(ticketKey: Buffer, nonce: Buffer, plaintext: Buffer): Buffer {
  const body = Buffer.concat([nonce, nodeChacha(expand32(ticketKey, 'h123 ticket chacha20'), nonce, 0, plaintext)]);
  const tag = createHmac('sha256', expand32(ticketKey, 'h123 ticket hmac-sha256')).update(body).digest().subarray(0, 16);
  return Buffer.concat([body, tag]);
}

describe('review f63dfa7: the ticket construction (RFC 8446 §4.6.1, RFC 8439 §2.4, RFC 5077 §4)', () => {
  const ticketKey = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');

  it('nonce || ChaCha20(K_enc, nonce, counter 0, state) || HMAC-SHA-256(K_mac, nonce || ciphertext)[0..16], keys from distinct labels', () => {
    const nonce = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaab', 'hex');
    const ticket = sealTicket(ticketKey, state, fixedRandom(nonce));
    // The nonce is exactly the 12 random bytes.
    expect(ticket.subarray(0, 12)).toEqual(nonce);
    const end = ticket.length - 16;
    const macKey = expand32(ticketKey, 'h123 ticket hmac-sha256');
    const cipherKey = expand32(ticketKey, 'h123 ticket chacha20');
    // Key separation: neither key is the ticket key, and they differ from each other.
    expect(macKey.equals(cipherKey) || macKey.equals(ticketKey) || cipherKey.equals(ticketKey)).toBe(false);
    // The tag covers the nonce and the ciphertext, cut to 128 bits.
    expect(ticket.subarray(end)).toEqual(createHmac('sha256', macKey).update(ticket.subarray(0, end)).digest().subarray(0, 16));
    // The body decrypts under the cipher key from block counter 0; the state is not in clear.
    const plain = nodeChacha(cipherKey, nonce, 0, ticket.subarray(12, end));
    expect(plain[0]).toBe(2); // TICKET_FORMAT
    expect(plain.readUInt16BE(1)).toBe(state.suite);
    expect(plain[3]).toBe(32);
    expect(plain.subarray(4, 36)).toEqual(state.psk);
    expect(ticket.includes(state.psk)).toBe(false);
    // And a ticket forged with the same construction opens to the same state (same layout both ways).
    expect(openTicket(ticketKey, forge(ticketKey, nonce, plain))).toEqual(state);
  });

  it('two tickets of the same state under the same key differ in nonce and ciphertext (fresh nonce each time)', () => {
    let counter = 0;
    const random = (n: number) => Buffer.alloc(n, ++counter);
    const a = sealTicket(ticketKey, state, random);
    const b = sealTicket(ticketKey, state, random);
    expect(a.subarray(0, 12).equals(b.subarray(0, 12))).toBe(false);
    // Same key stream would give equal ciphertexts for equal states: it must not.
    expect(a.subarray(12, 40).equals(b.subarray(12, 40))).toBe(false);
    expect(openTicket(ticketKey, a)).toEqual(state);
    expect(openTicket(ticketKey, b)).toEqual(state);
  });

  it('a ticket that passes the MAC but holds a malformed state opens to null, never throws', () => {
    const nonce = Buffer.alloc(12, 7);
    const good = nodeChacha(expand32(ticketKey, 'h123 ticket chacha20'), nonce, 0, sealTicket(ticketKey, state, fixedRandom(nonce)).subarray(12, -16));
    const cases: Buffer[] = [
      Buffer.concat([good, Buffer.of(0)]), // a byte past the end (r.end())
      good.subarray(0, good.length - 1), // one byte short
      Buffer.concat([Buffer.of(1), good.subarray(1)]), // the previous format
      Buffer.concat([good.subarray(0, 3), Buffer.of(255), good.subarray(4)]), // psk length past the end
      Buffer.alloc(27, 2), // the fixed size, all fields short
    ];
    for (const plain of cases) expect(openTicket(ticketKey, forge(ticketKey, nonce, plain))).toBeNull();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
        const plain = Buffer.from(bytes);
        if (plain.length > 0) plain[0] = 2;
        expect(() => openTicket(ticketKey, forge(ticketKey, nonce, plain))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('random input of any length opens to null without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        expect(openTicket(ticketKey, Buffer.from(bytes))).toBeNull();
      }),
      { numRuns: 300 },
    );
    // A key of the wrong length opens nothing either (sealing with it is refused).
    expect(openTicket(Buffer.alloc(16), sealTicket(ticketKey, state, fixedRandom(Buffer.alloc(12))))).toBeNull();
    expect(() => sealTicket(Buffer.alloc(48), state, fixedRandom(Buffer.alloc(12)))).toThrow(RangeError);
  });
});

describe('review f63dfa7: the cache of expanded ticket keys', () => {
  it('two servers with different keys in one process, interleaved: each opens only its own tickets', () => {
    const keyA = Buffer.alloc(32, 0xa1);
    const keyB = Buffer.alloc(32, 0xb2);
    const random = (n: number) => Buffer.alloc(n, 3);
    for (let i = 0; i < 3; i++) {
      const a = sealTicket(keyA, { ...state, lifetime: i }, random);
      const b = sealTicket(keyB, { ...state, lifetime: 100 + i }, random);
      expect(openTicket(keyA, a)?.lifetime).toBe(i);
      expect(openTicket(keyB, b)?.lifetime).toBe(100 + i);
      expect(openTicket(keyB, a)).toBeNull();
      expect(openTicket(keyA, b)).toBeNull();
      // The same nonce under two keys: the ciphertexts differ (no key stream shared across keys).
      expect(a.subarray(12, 40).equals(b.subarray(12, 40))).toBe(false);
    }
  });

  it('a key Buffer changed in place seals and opens under its new bytes; changed back, the old tickets open again', () => {
    const key = Buffer.alloc(32, 0x42);
    const random = (n: number) => Buffer.alloc(n, 9);
    const before = sealTicket(key, state, random);
    expect(openTicket(key, before)).toEqual(state);
    key[31] ^= 1; // rotated in place
    expect(openTicket(key, before)).toBeNull();
    const after = sealTicket(key, state, random);
    expect(openTicket(key, after)).toEqual(state);
    // The new ticket is the one node:crypto computes for the new bytes.
    expect(after).toEqual(forge(Buffer.from(key), Buffer.alloc(12, 9), nodeChacha(expand32(Buffer.from(key), 'h123 ticket chacha20'), Buffer.alloc(12, 9), 0, after.subarray(12, -16))));
    key[31] ^= 1;
    expect(openTicket(key, before)).toEqual(state);
    expect(openTicket(key, after)).toBeNull();
    // Equal bytes in another Buffer (a view of other memory) are the same key.
    const copy = Buffer.concat([Buffer.alloc(5), key]).subarray(5);
    expect(openTicket(copy, before)).toEqual(state);
  });
});

describe('review f63dfa7: chacha20XorInPlace block counter (RFC 8439 §2.4)', () => {
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
  const nonce = Buffer.from('000000000000004a00000000', 'hex');

  it('the last block before the counter wraps equals node:crypto; one byte more is refused', () => {
    const data = Buffer.alloc(64, 0x33);
    const expected = nodeChacha(key, nonce, 0xffffffff, data);
    chacha20XorInPlace(chacha20KeyWords(key), nonce, 0xffffffff, data);
    expect(data).toEqual(expected);
    expect(() => chacha20XorInPlace(chacha20KeyWords(key), nonce, 0xffffffff, Buffer.alloc(65))).toThrow(RangeError);
    expect(() => chacha20XorInPlace(chacha20KeyWords(key), nonce, 0xfffffffe, Buffer.alloc(129))).toThrow(RangeError);
  });

  it('RFC 8439 §2.4.2: the sunscreen vector, counter 1', () => {
    const plaintext = Buffer.from(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
      'latin1',
    );
    const expected =
      '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d';
    const data = Buffer.from(plaintext);
    chacha20XorInPlace(chacha20KeyWords(key), nonce, 1, data);
    expect(data.toString('hex')).toBe(expected);
  });
});
