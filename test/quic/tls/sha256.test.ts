/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104) in JavaScript: the FIPS 180-2 Appendix B
 * examples, the RFC 4231 §4 HMAC-SHA-256 test cases, every padding boundary, node:crypto as the
 * oracle over random keys and messages, and the running hash: any split of the input gives the
 * same digests, digest() leaves it running, copy() is independent.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256, hmacSha256, Sha256, sha256 } from '../../../src/quic/tls/sha256.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const text = (s: string) => Buffer.from(s, 'latin1');

describe('SHA-256 (FIPS 180-2 Appendix B)', () => {
  it('B.1 one block: "abc"', () => {
    expect(sha256(text('abc')).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('B.2 two blocks: 56 bytes, the length no longer fits after the padding byte', () => {
    expect(sha256(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toString('hex')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('B.3 one million "a"', () => {
    expect(sha256(Buffer.alloc(1_000_000, 'a')).toString('hex')).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('the empty message', () => {
    expect(sha256(new Uint8Array(0)).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('every length around the one- and two-block padding boundaries (55, 56, 63, 64, 119, 120, 128)', () => {
    for (let length = 0; length <= 130; length++) {
      const data = Buffer.alloc(length, length);
      expect(sha256(data).equals(createHash('sha256').update(data).digest()), `length ${length}`).toBe(true);
    }
  });
});

/** RFC 4231 §4.2–§4.8: key, data and HMAC-SHA-256 (test case 5 is truncated to 128 bits, §4.6). */
const RFC4231 = [
  { name: '4.2 test case 1', key: hex('0b'.repeat(20)), data: text('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  {
    name: '4.3 test case 2: a key shorter than the output',
    key: text('Jefe'),
    data: text('what do ya want for nothing?'),
    mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  { name: '4.4 test case 3: 50 bytes of data', key: hex('aa'.repeat(20)), data: hex('dd'.repeat(50)), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
  {
    name: '4.5 test case 4: a 25-byte key',
    key: hex('0102030405060708090a0b0c0d0e0f10111213141516171819'),
    data: hex('cd'.repeat(50)),
    mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
  },
  { name: '4.6 test case 5: truncation to 128 bits', key: hex('0c'.repeat(20)), data: text('Test With Truncation'), mac: 'a3b6167473100ee06e0c796c2955552b' },
  {
    name: '4.7 test case 6: a key longer than the block is hashed first',
    key: hex('aa'.repeat(131)),
    data: text('Test Using Larger Than Block-Size Key - Hash Key First'),
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
  {
    name: '4.8 test case 7: a long key and data longer than the block',
    key: hex('aa'.repeat(131)),
    data: text(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  },
];

describe('HMAC-SHA-256 (RFC 4231 §4)', () => {
  for (const v of RFC4231) {
    it(v.name, () => {
      const mac = hmacSha256(v.key, v.data);
      expect(mac.subarray(0, v.mac.length / 2).toString('hex')).toBe(v.mac);
      expect(new HmacSha256(v.key).mac(v.data).equals(mac)).toBe(true);
    });
  }
});

describe('HMAC-SHA-256 against node:crypto', () => {
  it('equals createHmac for any key and message, across block boundaries', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (key, data) => {
        expect(hmacSha256(key, data).equals(createHmac('sha256', key).update(data).digest())).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('one prepared key gives the one-shot MAC for each of several messages, in any order', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.array(fc.uint8Array({ maxLength: 130 }), { minLength: 1, maxLength: 5 }), (key, messages) => {
        const prepared = new HmacSha256(key);
        for (const m of messages) expect(prepared.mac(m).equals(createHmac('sha256', key).update(m).digest())).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keys prepared one after another, a short one after a long one, each keep their own MAC (RFC 2104 §2 zero padding)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 140 }), { minLength: 2, maxLength: 6 }), fc.uint8Array({ maxLength: 70 }), (keys, data) => {
        const prepared = keys.map((key) => new HmacSha256(key));
        prepared.forEach((p, i) => expect(p.mac(data).equals(createHmac('sha256', keys[i]!).update(data).digest())).toBe(true));
      }),
      { numRuns: 200 },
    );
  });

  it('mac(data, length) is the first `length` bytes of the MAC, in a buffer of exactly that length; past 32 is a RangeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 130 }), fc.integer({ min: 0, max: 32 }), (key, data, length) => {
        const cut = new HmacSha256(key).mac(data, length);
        expect(cut.length).toBe(length);
        expect(cut.equals(createHmac('sha256', key).update(data).digest().subarray(0, length))).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(() => new HmacSha256(Buffer.alloc(32)).mac(text('x'), 33)).toThrow(RangeError);
    expect(() => new HmacSha256(Buffer.alloc(32)).mac(text('x'), -1)).toThrow(RangeError);
  });

  it('a prepared key does not see later changes to the caller’s key bytes, and each MAC is a new buffer', () => {
    const key = Buffer.alloc(32, 7);
    const prepared = new HmacSha256(key);
    const first = prepared.mac(text('x'));
    key.fill(0);
    const second = prepared.mac(text('x'));
    expect(second.equals(createHmac('sha256', Buffer.alloc(32, 7)).update('x').digest())).toBe(true);
    expect(second).not.toBe(first);
    first.fill(0);
    expect(second.equals(first)).toBe(false);
  });
});

describe('Sha256, the running hash', () => {
  it('FIPS 180-2 B.2 fed in pieces of every size gives the one-shot digest', () => {
    const message = text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
    for (let piece = 1; piece <= message.length; piece++) {
      const h = new Sha256();
      for (let i = 0; i < message.length; i += piece) h.update(message.subarray(i, i + piece));
      expect(h.digest().toString('hex'), `pieces of ${piece}`).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    }
  });

  it('after any split, digest() at every step is SHA-256 of what was given so far, and the hash goes on', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 150 }), { maxLength: 10 }), (pieces) => {
        const h = new Sha256();
        const node = createHash('sha256');
        for (const p of pieces) {
          h.update(p);
          node.update(p);
          expect(h.digest().equals(node.copy().digest())).toBe(true);
        }
        expect(h.digest().equals(node.digest())).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('copy() goes its own way, and neither sees later writes into the caller’s buffers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 150 }), (common, a, b) => {
        const h = new Sha256();
        const input = Buffer.from(common);
        h.update(input);
        input.fill(0xff); // a reused receive buffer
        const twin = h.copy();
        h.update(a);
        twin.update(b);
        expect(h.digest().equals(sha256(Buffer.concat([common, a])))).toBe(true);
        expect(twin.digest().equals(sha256(Buffer.concat([common, b])))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
