import { describe, expect, it } from 'vitest';
import { STATIC_TABLE, staticIndexOf, staticNameIndex } from '../../../src/h3/qpack/static-table.js';

describe('static table (RFC 9204 Appendix A)', () => {
  it('has the 99 entries of the RFC at their indices', () => {
    expect(STATIC_TABLE).toHaveLength(99);
    expect(STATIC_TABLE[0]).toEqual([':authority', '']);
    expect(STATIC_TABLE[17]).toEqual([':method', 'GET']);
    expect(STATIC_TABLE[25]).toEqual([':status', '200']);
    expect(STATIC_TABLE[85]).toEqual(['content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"]);
    expect(STATIC_TABLE[98]).toEqual(['x-frame-options', 'sameorigin']);
  });

  it('looks up name + value and name alone, preferring the lowest index', () => {
    expect(staticIndexOf(':method', 'POST')).toBe(20);
    expect(staticIndexOf(':method', 'PATCH')).toBe(-1);
    expect(staticNameIndex(':method')).toBe(15);
    expect(staticNameIndex(':status')).toBe(24);
    expect(staticNameIndex('x-unknown')).toBe(-1);
    for (let i = 0; i < STATIC_TABLE.length; i++) {
      const [name, value] = STATIC_TABLE[i]!;
      expect(staticIndexOf(name, value)).toBe(i);
    }
  });
});
