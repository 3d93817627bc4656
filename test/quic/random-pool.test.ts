import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../src/quic/random-pool.js';

describe('pooledRandomBytes', () => {
  it('returns exactly n bytes in a buffer of its own, for any sequence of sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 60 }), (sizes) => {
        const random = pooledRandomBytes(512);
        const results = sizes.map((n) => random(n));
        results.forEach((r, i) => expect(r.length).toBe(sizes[i]));
        // Writing into one result never changes another (no shared memory handed out twice).
        results.forEach((r, i) => r.fill(i));
        results.forEach((r, i) => expect(r.equals(Buffer.alloc(sizes[i]!, i))).toBe(true));
      }),
      { numRuns: 200 },
    );
  });

  it('never repeats across many pool refills (32-byte draws are unique)', () => {
    const random = pooledRandomBytes(256);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(random(32).toString('hex'));
    expect(seen.size).toBe(2000);
  });

  it('draws look uniform: every byte value appears in 64 KiB', () => {
    const random = pooledRandomBytes();
    const counts = new Uint32Array(256);
    for (let i = 0; i < 1024; i++) for (const b of random(64)) counts[b]!++;
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });
});
