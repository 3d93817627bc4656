/** Field syntax tables and validators (RFC 9110 §5.1, §5.5, §5.6). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FIELD_VALUE_CHAR,
  FIELD_VCHAR,
  isFieldValue,
  isFieldValueString,
  isToken,
  isTokenString,
  quotedStringLength,
  splitList,
  TCHAR,
  trimOwsString,
} from '../../src/h1/syntax.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const members = (table: Uint8Array): number[] => [...table.keys()].filter((b) => table[b] === 1);

describe('character tables', () => {
  it('tchar is exactly the RFC 9110 §5.6.2 set', () => {
    const expected = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    expect(String.fromCharCode(...members(TCHAR))).toBe([...expected].sort().join(''));
  });

  it('field-vchar is VCHAR and obs-text; field values add SP and HTAB (RFC 9110 §5.5)', () => {
    expect(members(FIELD_VCHAR)).toEqual([...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => 0x21 + i), ...Array.from({ length: 128 }, (_, i) => 0x80 + i)]);
    expect(members(FIELD_VALUE_CHAR)).toEqual([0x09, 0x20, ...members(FIELD_VCHAR)]);
  });
});

describe('validators', () => {
  it('tokens', () => {
    expect(isToken(bytes('Content-Type'))).toBe(true);
    expect(isToken(bytes(''))).toBe(false);
    expect(isToken(bytes('a b'))).toBe(false);
    expect(isToken(bytes('xa:b'), 1, 2)).toBe(true);
    expect(isTokenString('x-ok')).toBe(true);
    expect(isTokenString('x\u0100')).toBe(false);
  });

  it('field values reject NUL, CR, LF and CTLs except HTAB', () => {
    expect(isFieldValue(bytes('a\tb c\xff'))).toBe(true);
    for (const bad of ['\x00', '\r', '\n', '\x7f', '\x1f']) expect(isFieldValue(bytes(`a${bad}b`))).toBe(false);
    expect(isFieldValueString('a\r\nb')).toBe(false);
    expect(isFieldValueString('caf\u00e9')).toBe(true);
    expect(isFieldValueString('\u2028')).toBe(false);
  });

  it('quoted-string (RFC 9110 §5.6.4)', () => {
    expect(quotedStringLength(bytes('"a\\"b" rest'), 0, 11)).toBe(6);
    expect(quotedStringLength(bytes('""'), 0, 2)).toBe(2);
    expect(quotedStringLength(bytes('"abc'), 0, 4)).toBe(-1);
    expect(quotedStringLength(bytes('"a\\'), 0, 3)).toBe(-1);
    expect(quotedStringLength(bytes('"a\x00"'), 0, 4)).toBe(-1);
    expect(quotedStringLength(bytes('abc'), 0, 3)).toBe(-1);
  });

  it('lists drop empty members and OWS (RFC 9110 §5.6.1)', () => {
    expect(splitList(' a ,, b\t,\t')).toEqual(['a', 'b']);
    expect(trimOwsString(' \t x y \t')).toBe('x y');
  });

  it('trimming is linear on long whitespace runs', () => {
    const value = `a${' '.repeat(200_000)}b`;
    expect(trimOwsString(value)).toBe(value);
  });

  it('table and string validators agree', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 20 }), (s) => {
        expect(isFieldValueString(s)).toBe(isFieldValue(bytes(s)));
        expect(isTokenString(s)).toBe(isToken(bytes(s)));
      }),
      { numRuns: 300 },
    );
  });
});
