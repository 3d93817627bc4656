/**
 * Field sections as messages: the size checks (RFC 9114 §4.2.2: the quick bound agrees with the
 * exact size) and the split of pseudo-headers from regular fields (RFC 9114 §4.3).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldSectionFits, fieldSectionSize, parseRequestHead, parseResponseHead, parseTrailers } from '../../../src/h3/connection/fields.js';

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

describe('pseudo-headers and regular fields (RFC 9114 §4.3)', () => {
  it('parseRequestHead / parseResponseHead / parseTrailers: pseudo-headers read, regular lines kept in order (property)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).filter((n) => !['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host', 'content-length'].includes(n));
    const value = fc.stringMatching(/^[!-~]([ -~]{0,10}[!-~])?$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), (regular) => {
        const request = parseRequestHead([[':method', 'GET'], [':scheme', 'https'], [':authority', 'a.example'], [':path', '/x'], ...regular]);
        expect(request).toMatchObject({ method: 'GET', scheme: 'https', authority: 'a.example', path: '/x' });
        expect([...request.headers]).toEqual(regular);
        const response = parseResponseHead([[':status', '204'], ...regular]);
        expect(response.status).toBe(204);
        expect([...response.headers]).toEqual(regular);
        expect([...parseTrailers([...regular])]).toEqual(regular);
        if (regular.length > 0) {
          // RFC 9114 §4.3: a pseudo-header after a regular field, or in trailers, is malformed.
          expect(() => parseResponseHead([...regular, [':status', '200']])).toThrow(/after regular fields/);
          expect(() => parseTrailers([...regular, [':path', '/']])).toThrow(/after regular fields/);
        }
      }),
      { numRuns: 300 },
    );
    expect(() => parseRequestHead([[':method', 'GET'], [':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']])).toThrow(/repeated pseudo-header :method/);
    expect(() => parseTrailers([[':status', '200']])).toThrow(/not allowed here/);
  });
});
