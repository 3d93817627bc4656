/**
 * The transcript hash (RFC 8446 §4.4.1): after any sequence of messages, digest() is the hash of
 * their concatenation, however often it is asked for between messages, whether the hash was fixed
 * before or after the first messages, and after a HelloRetryRequest's message_hash substitution;
 * digestWith() hashes one more piece without keeping it (the PSK binder's truncated ClientHello).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Transcript } from '../../../src/quic/tls/transcript.js';

const hashOf = (hash: string, ...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash(hash)).digest();

describe('Transcript', () => {
  it('digest() is Hash(messages so far) at every step, asked once or twice, started early or late', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sha256' as const, 'sha384' as const),
        fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 8 }),
        fc.nat(8),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (hash, messages, startAfter, askTwice) => {
          const t = new Transcript();
          const start = Math.min(startAfter, messages.length);
          messages.forEach((m, i) => {
            if (i === start) t.start(hash);
            t.add(m);
            if (i >= start) {
              const expected = hashOf(hash, ...messages.slice(0, i + 1));
              expect(t.digest().equals(expected)).toBe(true);
              if (askTwice[i]) expect(t.digest().equals(expected)).toBe(true);
            }
          });
          if (start === messages.length) {
            t.start(hash);
            expect(t.digest().equals(hashOf(hash, ...messages))).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('replaces ClientHello1 by message_hash after a HelloRetryRequest (§4.4.1)', () => {
    const ch1 = Buffer.from('client hello 1');
    const hrr = Buffer.from('hello retry request');
    const t = new Transcript();
    t.add(ch1);
    t.start('sha256');
    const before = t.digest();
    t.replaceWithMessageHash();
    const synthetic = Buffer.concat([Buffer.of(254, 0, 0, 32), hashOf('sha256', ch1)]);
    expect(before.equals(hashOf('sha256', ch1))).toBe(true);
    expect(t.digest().equals(hashOf('sha256', synthetic))).toBe(true);
    t.add(hrr);
    expect(t.digest().equals(hashOf('sha256', synthetic, hrr))).toBe(true);
  });

  it('digestWith(extra) is Hash(messages so far, extra) and leaves the transcript as it was (§4.2.11.2)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sha256' as const, 'sha384' as const),
        fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 5 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 100 }),
        (hash, messages, extra, next) => {
          const t = new Transcript();
          t.start(hash);
          for (const m of messages) t.add(m);
          expect(t.digestWith(extra).equals(hashOf(hash, ...messages, extra))).toBe(true);
          expect(t.digest().equals(hashOf(hash, ...messages))).toBe(true);
          t.add(next);
          expect(t.digest().equals(hashOf(hash, ...messages, next))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
