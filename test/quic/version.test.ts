import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { greaseVersion, isReservedVersion, isSupportedVersion, QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS } from '../../src/quic/version.js';

describe('QUIC versions', () => {
  it('knows v1 (RFC 9000 §15) and v2 (RFC 9369 §3.1)', () => {
    expect(QUIC_V1).toBe(0x00000001);
    expect(QUIC_V2).toBe(0x6b3343cf);
    expect(SUPPORTED_VERSIONS).toEqual([QUIC_V1, QUIC_V2]);
    expect(isSupportedVersion(QUIC_V1)).toBe(true);
    expect(isSupportedVersion(QUIC_V2)).toBe(true);
    expect(isSupportedVersion(0xff00001d)).toBe(false); // draft-29
    expect(isSupportedVersion(0)).toBe(false);
  });

  it('recognises the reserved pattern 0x?a?a?a?a (RFC 9000 §15)', () => {
    expect(isReservedVersion(0x0a0a0a0a)).toBe(true);
    expect(isReservedVersion(0xfafafafa)).toBe(true);
    expect(isReservedVersion(0x1a2a3a4a)).toBe(true);
    expect(isReservedVersion(0x0a0a0a0b)).toBe(false);
    expect(isReservedVersion(QUIC_V1)).toBe(false);
    expect(isReservedVersion(QUIC_V2)).toBe(false);
  });

  it('makes grease versions that are reserved and unsupported (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (random) => {
        const v = greaseVersion(random);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(0xffffffff);
        expect(isReservedVersion(v)).toBe(true);
        expect(isSupportedVersion(v)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
