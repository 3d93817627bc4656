import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openToken, sealToken } from '../../src/quic/token.js';

const key = Buffer.alloc(32, 3);

describe('address validation tokens (RFC 9000 §8.1.2–§8.1.4)', () => {
  it('a Retry token round-trips the original DCID and Retry SCID for the same address', () => {
    const token = sealToken(key, '192.0.2.1', { kind: 'retry', issuedAt: 1000, originalDcid: Buffer.alloc(8, 1), retryScid: Buffer.alloc(8, 2) }, randomBytes);
    expect(openToken(key, '192.0.2.1', token, 2000, 10_000)).toEqual({ kind: 'retry', issuedAt: 1000, originalDcid: Buffer.alloc(8, 1), retryScid: Buffer.alloc(8, 2) });
  });

  it('refuses another address, an expired token, another key and any altered byte', () => {
    const token = sealToken(key, '192.0.2.1', { kind: 'new-token', issuedAt: 1000 }, randomBytes);
    expect(openToken(key, '192.0.2.1', token, 1500, 10_000)).toEqual({ kind: 'new-token', issuedAt: 1000 });
    expect(openToken(key, '192.0.2.2', token, 1500, 10_000)).toBeNull();
    expect(openToken(key, '192.0.2.1', token, 20_000, 10_000)).toBeNull();
    expect(openToken(Buffer.alloc(32, 4), '192.0.2.1', token, 1500, 10_000)).toBeNull();
    for (let i = 0; i < token.length; i++) {
      const altered = Buffer.from(token);
      altered[i]! ^= 0x01;
      expect(openToken(key, '192.0.2.1', altered, 1500, 10_000)).toBeNull();
    }
  });

  it('random bytes are refused without a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      expect(openToken(key, '192.0.2.1', bytes, 0, 10_000)).toBeNull();
    }), { numRuns: 300 });
  });
});
