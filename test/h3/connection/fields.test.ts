/**
 * Field sections as messages: the size checks (RFC 9114 §4.2.2: the quick bound agrees with the
 * exact size) and the split of pseudo-headers from regular fields (RFC 9114 §4.3).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldSectionFits, fieldSectionSize, parseRequestHead, parseResponseHead, parseTrailers, requestFieldLines, responseFieldLines } from '../../../src/h3/connection/fields.js';

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

describe('outgoing field lines (RFC 9114 §4.3.1, §4.3.2, §4.4)', () => {
  const plain = (lines: readonly (readonly [string, string])[]) => lines.map(([n, v]) => [n, v]);

  it('request pseudo-headers in order, then the regular lines, for any method and scheme (property)', () => {
    const token = fc.stringMatching(/^[A-Z]{1,8}$/);
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'), token), fc.constantFrom('https', 'http', 'masque'), fc.string(), fc.string(), (method, scheme, authority, path) => {
        if (method === 'CONNECT') return;
        const lines = requestFieldLines({ method, scheme, authority, path }, [['x-a', '1']]);
        expect(plain(lines)).toEqual([[':method', method], [':scheme', scheme], [':authority', authority], [':path', path], ['x-a', '1']]);
      }),
      { numRuns: 300 },
    );
  });

  it('CONNECT has :method and :authority only (RFC 9114 §4.4)', () => {
    expect(plain(requestFieldLines({ method: 'CONNECT', scheme: 'https', authority: 'h:443', path: '/' }, [['x-a', '1']]))).toEqual([[':method', 'CONNECT'], [':authority', 'h:443'], ['x-a', '1']]);
  });

  it('shared pseudo-header lines are never changed by a message: later messages get the same values', () => {
    const first = responseFieldLines(200, [['content-type', 'text/plain']]);
    const second = responseFieldLines(200, []);
    expect(plain(first)).toEqual([[':status', '200'], ['content-type', 'text/plain']]);
    expect(plain(second)).toEqual([[':status', '200']]);
    expect(plain(responseFieldLines(404, []))).toEqual([[':status', '404']]);
    const a = requestFieldLines({ method: 'GET', scheme: 'https', authority: 'one', path: '/1' }, []);
    const b = requestFieldLines({ method: 'GET', scheme: 'https', authority: 'two', path: '/2' }, [['user-agent', 'x']]);
    expect(plain(a)).toEqual([[':method', 'GET'], [':scheme', 'https'], [':authority', 'one'], [':path', '/1']]);
    expect(plain(b)).toEqual([[':method', 'GET'], [':scheme', 'https'], [':authority', 'two'], [':path', '/2'], ['user-agent', 'x']]);
  });

  it(':status is the decimal status for any three-digit code (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 999 }), (status) => {
        expect(plain(responseFieldLines(status, []))).toEqual([[':status', String(status)]]);
        expect(plain(responseFieldLines(status, []))).toEqual([[':status', String(status)]]);
      }),
      { numRuns: 300 },
    );
  });
});
