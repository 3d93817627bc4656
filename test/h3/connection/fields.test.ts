/** Field section size checks (RFC 9114 §4.2.2): the quick bound agrees with the exact size. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldSectionFits, fieldSectionSize } from '../../../src/h3/connection/fields.js';

describe('fieldSectionFits', () => {
  it('is fieldSectionSize(lines) <= limit, for any strings (UTF-8 up to 4 bytes per character)', () => {
    const line = fc.tuple(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 80 }));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.integer({ min: 0, max: 4000 }), (lines, limit) => {
        expect(fieldSectionFits(lines, limit)).toBe(fieldSectionSize(lines) <= limit);
      }),
      { numRuns: 400 },
    );
  });

  it('counts UTF-8 bytes, not characters, next to the limit', () => {
    const lines: [string, string][] = [['x-name', 'é'.repeat(10)]]; // 6 + 20 + 32 = 58 bytes
    expect(fieldSectionSize(lines)).toBe(58);
    expect(fieldSectionFits(lines, 58)).toBe(true);
    expect(fieldSectionFits(lines, 57)).toBe(false);
  });
});
