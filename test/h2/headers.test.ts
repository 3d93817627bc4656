import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ContentLengthCheck,
  contentLengthOf,
  joinCookies,
  validateRequestHeaders,
  validateResponseHeaders,
  validateTrailers,
} from '../../src/h2/headers.js';
import type { HeaderField } from '../../src/h2/hpack.js';
import { ErrorCode, H2Error } from '../../src/h2/errors.js';

const GET: HeaderField[] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']];

function rejects(run: () => unknown, section: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(H2Error);
  const error = caught as H2Error;
  expect(error.code).toBe(ErrorCode.PROTOCOL_ERROR);
  expect(error.scope).toBe('stream');
  expect(error.streamId).toBe(1);
  expect(error.section).toBe(section);
}

describe('request header sections (RFC 9113 §8.2, §8.3.1, §8.5)', () => {
  it('returns the control data and the regular fields in order', () => {
    const head = validateRequestHeaders([...GET, ['accept', '*/*'], ['x-a', '1'], ['accept', 'text/html']], 1);
    expect(head).toEqual({ method: 'GET', scheme: 'https', authority: 'example.com', path: '/', headers: [['accept', '*/*'], ['x-a', '1'], ['accept', 'text/html']] });
  });

  const valid: Array<[string, HeaderField[]]> = [
    ['no :authority, host instead', [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['host', 'example.com']]],
    ['host equal to :authority after normalization', [...GET, ['host', 'EXAMPLE.com:443']]],
    ['OPTIONS *', [[':method', 'OPTIONS'], [':scheme', 'https'], [':authority', 'a'], [':path', '*']]],
    ['CONNECT with :authority only', [[':method', 'CONNECT'], [':authority', 'example.com:443']]],
    ['te: trailers', [...GET, ['te', 'trailers']]],
    ['obs-text and inner whitespace in a value', [...GET, ['x-v', 'a\tb c é']]],
    ['non-http scheme with a non-slash path', [[':method', 'GET'], [':scheme', 'urn'], [':path', 'x:y']]],
  ];
  it.each(valid)('accepts %s', (_name, fields) => {
    expect(() => validateRequestHeaders(fields, 1)).not.toThrow();
  });

  const malformed: Array<[string, HeaderField[], string]> = [
    ['an uppercase field name', [...GET, ['Accept', 'x']], 'RFC 9113 §8.2.1'],
    ['a space in a name', [...GET, ['x a', 'x']], 'RFC 9113 §8.2.1'],
    ['a colon inside a regular name', [...GET, ['x:a', 'x']], 'RFC 9113 §8.2.1'],
    ['an empty name', [...GET, ['', 'x']], 'RFC 9113 §8.2.1'],
    ['a non-ASCII name', [...GET, ['naïve', 'x']], 'RFC 9113 §8.2.1'],
    ['NUL in a value', [...GET, ['x-a', 'a\0b']], 'RFC 9113 §8.2.1'],
    ['CR in a value', [...GET, ['x-a', 'a\rb']], 'RFC 9113 §8.2.1'],
    ['LF in a value', [...GET, ['x-a', 'a\nb']], 'RFC 9113 §8.2.1'],
    ['a leading space in a value', [...GET, ['x-a', ' a']], 'RFC 9113 §8.2.1'],
    ['a trailing tab in a value', [...GET, ['x-a', 'a\t']], 'RFC 9113 §8.2.1'],
    ['a leading tab in a value', [...GET, ['x-a', '\ta']], 'RFC 9113 §8.2.1'],
    ['a trailing space in a value', [...GET, ['x-a', 'a ']], 'RFC 9113 §8.2.1'],
    ['a value that is one space', [...GET, ['x-a', ' ']], 'RFC 9113 §8.2.1'],
    ['a trailing space in :method', [[':method', 'GET '], [':scheme', 'https'], [':path', '/']], 'RFC 9113 §8.2.1'],
    ['connection', [...GET, ['connection', 'close']], 'RFC 9113 §8.2.2'],
    ['keep-alive', [...GET, ['keep-alive', 'timeout=5']], 'RFC 9113 §8.2.2'],
    ['proxy-connection', [...GET, ['proxy-connection', 'close']], 'RFC 9113 §8.2.2'],
    ['transfer-encoding', [...GET, ['transfer-encoding', 'chunked']], 'RFC 9113 §8.2.2'],
    ['upgrade', [...GET, ['upgrade', 'h2c']], 'RFC 9113 §8.2.2'],
    ['te other than trailers', [...GET, ['te', 'gzip']], 'RFC 9113 §8.2.2'],
    ['an unknown pseudo-header', [...GET, [':foo', 'x']], 'RFC 9113 §8.3'],
    ['a response pseudo-header in a request', [...GET, [':status', '200']], 'RFC 9113 §8.3'],
    ['a pseudo-header after a regular field', [[':method', 'GET'], [':scheme', 'https'], ['x-a', '1'], [':path', '/']], 'RFC 9113 §8.3'],
    ['a repeated :path', [...GET, [':path', '/again']], 'RFC 9113 §8.3'],
    ['a repeated :method', [[':method', 'GET'], ...GET.slice(0)], 'RFC 9113 §8.3'],
    ['no :method', GET.slice(1), 'RFC 9113 §8.3.1'],
    ['no :scheme', GET.filter(([n]) => n !== ':scheme'), 'RFC 9113 §8.3.1'],
    ['no :path', GET.filter(([n]) => n !== ':path'), 'RFC 9113 §8.3.1'],
    ['a space inside :path', [[':method', 'GET'], [':scheme', 'https'], [':path', '/a b']], 'RFC 9113 §8.2.1'],
    ['a control character in :authority', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a\x01b'], [':path', '/']], 'RFC 9113 §8.2.1'],
    ['an empty :path', [[':method', 'GET'], [':scheme', 'https'], [':path', '']], 'RFC 9113 §8.3.1'],
    ['a relative :path for https', [[':method', 'GET'], [':scheme', 'https'], [':path', 'index.html']], 'RFC 9113 §8.3.1'],
    ['* on a non-OPTIONS request', [[':method', 'GET'], [':scheme', 'https'], [':path', '*']], 'RFC 9113 §8.3.1'],
    ['host differing from :authority', [...GET, ['host', 'evil.example']], 'RFC 9113 §8.3.1'],
    ['userinfo in :authority', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'user@example.com'], [':path', '/']], 'RFC 9113 §8.3.1'],
    ['CONNECT with :path', [[':method', 'CONNECT'], [':authority', 'a:443'], [':path', '/']], 'RFC 9113 §8.5'],
    ['CONNECT with :scheme', [[':method', 'CONNECT'], [':authority', 'a:443'], [':scheme', 'https']], 'RFC 9113 §8.5'],
    ['CONNECT without :authority', [[':method', 'CONNECT']], 'RFC 9113 §8.5'],
    [':protocol when not enabled', [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/'], [':authority', 'a']], 'RFC 8441 §4'],
  ];
  it.each(malformed)('rejects %s as a stream PROTOCOL_ERROR', (_name, fields, section) => {
    rejects(() => validateRequestHeaders(fields, 1), section);
  });

  it('extended CONNECT (RFC 8441 §4) when enabled: :protocol with :scheme, :path and :authority', () => {
    const fields: HeaderField[] = [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat'], [':authority', 'a']];
    expect(validateRequestHeaders(fields, 1, { enableConnectProtocol: true })).toMatchObject({ method: 'CONNECT', protocol: 'websocket', path: '/chat' });
    rejects(() => validateRequestHeaders([[':method', 'GET'], ...fields.slice(1)], 1, { enableConnectProtocol: true }), 'RFC 8441 §4');
    rejects(() => validateRequestHeaders(fields.filter(([n]) => n !== ':path'), 1, { enableConnectProtocol: true }), 'RFC 9113 §8.3.1');
  });

  it('never throws anything but H2Error on arbitrary field lists', () => {
    const field = fc.tuple(fc.oneof(fc.constantFrom(':method', ':path', ':scheme', ':authority', ':status', ':protocol', 'host', 'te', 'content-length'), fc.string({ maxLength: 8 })), fc.string({ maxLength: 8 }));
    fc.assert(fc.property(fc.array(field, { maxLength: 8 }), (fields) => {
      for (const run of [() => validateRequestHeaders(fields, 1, { enableConnectProtocol: true }), () => validateResponseHeaders(fields, 1), () => validateTrailers(fields, 1), () => contentLengthOf(fields, 1)]) {
        try {
          run();
        } catch (error) {
          expect(error).toBeInstanceOf(H2Error);
        }
      }
    }), { numRuns: 300 });
  });
});

describe('response header sections (RFC 9113 §8.3.2)', () => {
  it('returns the numeric status and the fields', () => {
    expect(validateResponseHeaders([[':status', '200'], ['content-type', 'text/plain']], 1)).toEqual({ status: 200, headers: [['content-type', 'text/plain']] });
  });

  it('accepts an interim response without END_STREAM', () => {
    expect(validateResponseHeaders([[':status', '103'], ['link', '</a.css>; rel=preload']], 1).status).toBe(103);
  });

  const malformed: Array<[string, HeaderField[], boolean, string]> = [
    ['no :status', [['content-type', 'x']], false, 'RFC 9113 §8.3.2'],
    ['a two-digit status', [[':status', '20']], false, 'RFC 9113 §8.3.2'],
    ['a four-digit status', [[':status', '2000']], false, 'RFC 9113 §8.3.2'],
    ['a non-numeric status', [[':status', '2x0']], false, 'RFC 9113 §8.3.2'],
    ['status 600', [[':status', '600']], false, 'RFC 9113 §8.3.2'],
    ['a request pseudo-header', [[':status', '200'], [':path', '/']], false, 'RFC 9113 §8.3'],
    ['two :status', [[':status', '200'], [':status', '204']], false, 'RFC 9113 §8.3'],
    ['101 Switching Protocols', [[':status', '101']], false, 'RFC 9113 §8.6'],
    ['an interim response ending the stream', [[':status', '100']], true, 'RFC 9113 §8.1'],
    ['transfer-encoding', [[':status', '200'], ['transfer-encoding', 'chunked']], false, 'RFC 9113 §8.2.2'],
  ];
  it.each(malformed)('rejects %s', (_name, fields, endStream, section) => {
    rejects(() => validateResponseHeaders(fields, 1, endStream), section);
  });
});

describe('trailers (RFC 9113 §8.1)', () => {
  it('accepts regular fields', () => {
    expect(validateTrailers([['x-checksum', 'abc']], 1)).toEqual([['x-checksum', 'abc']]);
  });
  it('rejects any pseudo-header field', () => {
    rejects(() => validateTrailers([['x-a', '1'], [':status', '200']], 1), 'RFC 9113 §8.1');
  });
  it('rejects invalid fields', () => {
    rejects(() => validateTrailers([['x-a', 'a\nb']], 1), 'RFC 9113 §8.2.1');
  });
});

describe('content-length against DATA (RFC 9113 §8.1.1)', () => {
  it.each([
    [[], null],
    [[['content-length', '0']], 0],
    [[['content-length', '42']], 42],
    [[['content-length', '42'], ['content-length', '42']], 42],
    [[['content-length', '42, 42']], 42],
  ] as Array<[HeaderField[], number | null]>)('parses %j as %s', (fields, expected) => {
    expect(contentLengthOf(fields, 1)).toBe(expected);
  });

  it.each([
    [[['content-length', '-1']]],
    [[['content-length', '1.5']]],
    [[['content-length', '']]],
    [[['content-length', '1'], ['content-length', '2']]],
    [[['content-length', '99999999999999999999']]],
  ] as Array<[HeaderField[]]>)('rejects %j', (fields) => {
    rejects(() => contentLengthOf(fields, 1), 'RFC 9110 §8.6');
  });

  it('accepts DATA summing to content-length, in any split', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 10 }), (lengths) => {
      const check = new ContentLengthCheck(1, lengths.reduce((a, b) => a + b, 0));
      for (const length of lengths) check.data(length);
      check.end();
      expect(check.receivedBytes).toBe(check.expected);
    }), { numRuns: 200 });
  });

  it('rejects more DATA than content-length as soon as it arrives', () => {
    const check = new ContentLengthCheck(1, 10);
    check.data(10);
    rejects(() => check.data(1), 'RFC 9113 §8.1.1');
  });

  it('rejects less DATA than content-length at END_STREAM', () => {
    const check = new ContentLengthCheck(1, 10);
    check.data(9);
    rejects(() => check.end(), 'RFC 9113 §8.1.1');
  });

  it('without content-length, anything goes', () => {
    const check = new ContentLengthCheck(1, null);
    check.data(1e9);
    expect(() => check.end()).not.toThrow();
  });
});

describe('cookie crumbs (RFC 9113 §8.2.3)', () => {
  it('joins cookie lines with "; " at the position of the first', () => {
    expect(joinCookies([['cookie', 'a=b'], ['x', '1'], ['cookie', 'c=d'], ['cookie', 'e=f']]))
      .toEqual([['cookie', 'a=b; c=d; e=f'], ['x', '1']]);
  });
  it('leaves a single cookie line alone', () => {
    expect(joinCookies([['x', '1'], ['cookie', 'a=b']])).toEqual([['x', '1'], ['cookie', 'a=b']]);
  });
});
