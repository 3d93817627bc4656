import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fieldNameOf, methodOf } from '../../../src/h1/parse/field-names.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 30 });

function name(text: string): string {
  const bytes = Buffer.from(`xx${text}:`, 'latin1');
  return fieldNameOf(bytes, 2, 2 + text.length);
}

describe('field names (RFC 9110 §5.1: case-insensitive, handed on in lower case)', () => {
  it('gives well-known names in lower case whatever the case on the wire', () => {
    expect(name('Host')).toBe('host');
    expect(name('CONTENT-LENGTH')).toBe('content-length');
    expect(name('Transfer-Encoding')).toBe('transfer-encoding');
    expect(name('user-agent')).toBe('user-agent');
  });

  it('does not mistake a look-alike token for a well-known name', () => {
    // "^" | 0x20 is "~", "_" | 0x20 is DEL: neither may match a letter, digit or "-".
    expect(name('hos^')).toBe('hos^');
    expect(name('content_length')).toBe('content_length');
    expect(name('X-Custom')).toBe('x-custom');
  });

  it('equals the lower-cased latin1 text for any token (property)', () => {
    fc.assert(fc.property(token, (t) => name(t) === t.toLowerCase()), { numRuns: 500 });
  });
});

describe('methods (RFC 9110 §9.1: case-sensitive)', () => {
  const method = (text: string): string => methodOf(Buffer.from(` ${text} `, 'latin1'), 1, 1 + text.length);

  it('keeps the method exactly as sent', () => {
    expect(method('GET')).toBe('GET');
    expect(method('get')).toBe('get');
    expect(method('Options')).toBe('Options');
    expect(method('PROPFIND')).toBe('PROPFIND');
  });

  it('equals the latin1 text for any token (property)', () => {
    fc.assert(fc.property(token, (t) => method(t) === t), { numRuns: 500 });
  });
});
