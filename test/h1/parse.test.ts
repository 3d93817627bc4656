/**
 * Request and response head parsers (RFC 9112 §2–§5): request-line and target forms, field-line
 * syntax, limits (414/431), split invariance of pipelined streams, and random input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H1Error } from '../../src/core/errors.js';
import { DEFAULT_LIMITS } from '../../src/core/limits.js';
import { RequestHeadParser, ResponseHeadParser, parseTarget, type RequestHead } from '../../src/h1/parse.js';
import { readRequests, splitAt } from './stream.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function parseWhole(text: string, limits = {}): RequestHead {
  const got = new RequestHeadParser(limits).push(bytes(text));
  if (got === null) throw new Error('head incomplete');
  return got.head;
}

/** The status of the H1Error that parsing `text` throws. */
function statusOf(text: string, limits = {}): number {
  try {
    const got = new RequestHeadParser(limits).push(bytes(text));
    return got === null ? 0 : 200;
  } catch (error) {
    if (error instanceof H1Error) return error.status;
    throw error;
  }
}

describe('RequestHeadParser: request-line (RFC 9112 §3)', () => {
  it('parses a simple request and returns the bytes after the head untouched', () => {
    const input = bytes('GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \r\n\r\nBODY');
    const got = new RequestHeadParser().push(input)!;
    expect(got.head).toMatchObject({
      method: 'GET',
      target: '/a?b=c',
      path: '/a?b=c',
      form: 'origin',
      authority: null,
      version: '1.1',
      headers: [
        ['host', 'example.com'],
        ['accept', '*/*'],
      ],
      rawLength: input.length - 4,
    });
    expect(got.rest.toString()).toBe('BODY');
    // rest is a view of the input, not a copy
    expect(got.rest.buffer).toBe(input.buffer);
  });

  it('gives an empty rest when the head ends its push, and the parser reads the next head after it', () => {
    const parser = new RequestHeadParser();
    const first = parser.push(Buffer.from('GET /1 HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'))!;
    expect(first.rest.length).toBe(0);
    const second = parser.push(Buffer.from('GET /2 HTTP/1.1\r\nHost: a\r\n\r\nX', 'latin1'))!;
    expect(second.head.path).toBe('/2');
    expect(second.rest.toString()).toBe('X');
  });

  it('keeps the method case-sensitive and accepts any token method (RFC 9110 §9.1)', () => {
    expect(parseWhole('get / HTTP/1.1\r\nHost: a\r\n\r\n').method).toBe('get');
    expect(parseWhole('M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n'.replace('*', '/')).method).toBe('M-SEARCH');
  });

  it('maps HTTP/1.0 and HTTP/1.x (x > 1) versions (RFC 9110 §6.2)', () => {
    expect(parseWhole('GET / HTTP/1.0\r\n\r\n').version).toBe('1.0');
    expect(parseWhole('GET / HTTP/1.9\r\nHost: a\r\n\r\n').version).toBe('1.1');
  });

  it.each([
    ['GET / HTTP/2.0', 505],
    ['GET / HTTP/0.9', 505],
    ['GET / HTTP/3.0', 505],
    ['GET / http/1.1', 400],
    ['GET / HTTP/1.1 ', 400],
    ['GET / HTTP/1', 400],
    ['GET / HTTP/11.1', 400],
    ['GET / HTTP/1.a', 400],
    ['GET  / HTTP/1.1', 400],
    ['GET /  HTTP/1.1', 400],
    ['GET\t/ HTTP/1.1', 400],
    [' GET / HTTP/1.1', 400],
    ['GET /', 400],
    ['GET', 400],
    ['G(T / HTTP/1.1', 400],
    ['GET /a b HTTP/1.1', 400],
    ['GET /\x7f HTTP/1.1', 400],
    ['GET /\xe9 HTTP/1.1', 400],
    ['GET /a#frag HTTP/1.1', 400],
    ['GET /%zz HTTP/1.1', 400],
    ['GET / HTTP/1.1\r', 400],
  ])('rejects %j with %i', (line, status) => {
    expect(statusOf(`${line}\r\nHost: a\r\n\r\n`)).toBe(status);
  });

  it('ignores empty lines before the request-line (RFC 9112 §2.2)', () => {
    const head = parseWhole('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(head.method).toBe('GET');
    expect(head.rawLength).toBe(4 + 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'.length);
  });

  it('bounds the empty lines it ignores by the request-line budget', () => {
    const parser = new RequestHeadParser({ maxRequestLineBytes: 64 });
    expect(parser.push(bytes('\r\n'.repeat(32)))).toBeNull();
    expect(() => parser.push(bytes('\r\n'))).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('answers 414 for a long target and 400 for a long garbage line (RFC 9112 §3)', () => {
    const limits = { maxRequestLineBytes: 64 };
    expect(statusOf(`GET /${'a'.repeat(100)} HTTP/1.1\r\n\r\n`, limits)).toBe(414);
    expect(statusOf(`${'a'.repeat(100)}\r\n\r\n`, limits)).toBe(400);
    // Detected before the line ends: the partial line is never buffered beyond the limit.
    const parser = new RequestHeadParser(limits);
    expect(parser.push(bytes('GET /'))).toBeNull();
    expect(() => parser.push(bytes('a'.repeat(100)))).toThrow(expect.objectContaining({ status: 414 }));
    // A line of exactly the limit is fine.
    const line = `GET /${'a'.repeat(64 - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
    expect(line.length).toBe(64);
    expect(statusOf(`${line}\r\nHost: a\r\n\r\n`, limits)).toBe(200);
  });

  it('stays failed after an error', () => {
    const parser = new RequestHeadParser();
    expect(() => parser.push(bytes('GET / HTTP/2.0\r\n'))).toThrow(H1Error);
    expect(() => parser.push(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n'))).toThrow(/HTTP\/2.0/);
  });
});

describe('request-target forms (RFC 9112 §3.2)', () => {
  it('origin-form', () => {
    expect(parseTarget('GET', '/p/q?x=1&y=%20')).toEqual({ form: 'origin', path: '/p/q?x=1&y=%20', authority: null });
  });

  it('absolute-form gives path and authority (§3.2.2), "/" for an empty path', () => {
    expect(parseTarget('GET', 'http://example.com:8080/a?b')).toEqual({
      form: 'absolute',
      path: '/a?b',
      authority: 'example.com:8080',
    });
    expect(parseTarget('GET', 'HTTPS://[::1]')).toEqual({ form: 'absolute', path: '/', authority: '[::1]' });
    expect(parseTarget('GET', 'http://h?q')).toEqual({ form: 'absolute', path: '/?q', authority: 'h' });
  });

  it('authority-form only for CONNECT, with a port (§3.2.3)', () => {
    expect(parseTarget('CONNECT', 'example.com:443')).toEqual({ form: 'authority', path: '', authority: 'example.com:443' });
    expect(() => parseTarget('CONNECT', 'example.com')).toThrow(H1Error);
    expect(() => parseTarget('CONNECT', '/path')).toThrow(H1Error);
    expect(() => parseTarget('GET', 'example.com:443')).toThrow(H1Error);
  });

  it('asterisk-form only for OPTIONS (§3.2.4)', () => {
    expect(parseTarget('OPTIONS', '*')).toEqual({ form: 'asterisk', path: '*', authority: null });
    expect(() => parseTarget('GET', '*')).toThrow(H1Error);
  });

  it.each([
    'ftp://example.com/',
    'javascript:alert(1)',
    'http://user:pw@example.com/',
    'http:///path',
    'http://exa mple.com/',
    'http://[::1/',
    'http://[zz::1]/',
    'http://example.com:99999/',
    'http://example.com:8a/',
    'example.com/path',
  ])('rejects %j with 400', (target) => {
    expect(() => parseTarget('GET', target)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('field lines (RFC 9112 §5)', () => {
  it('lower-cases names, keeps order and repeats, trims OWS, keeps inner whitespace and obs-text', () => {
    const head = parseWhole('GET / HTTP/1.1\r\nHost: a\r\nX-A:\t one  two \t\r\nx-a:3\r\nX-Empty:\r\nX-Latin: caf\xe9\r\n\r\n');
    expect(head.headers).toEqual([
      ['host', 'a'],
      ['x-a', 'one  two'],
      ['x-a', '3'],
      ['x-empty', ''],
      ['x-latin', 'caf\xe9'],
    ]);
  });

  it.each([
    ['whitespace before colon (§5.1)', 'Transfer-Encoding : chunked'],
    ['tab before colon (§5.1)', 'Host\t: a'],
    ['no colon', 'Host a'],
    ['empty name', ': a'],
    ['invalid name char', 'Ho(st: a'],
    ['space in name', 'X A: b'],
    ['NUL in value', 'X-A: a\x00b'],
    ['bare CR in value', 'X-A: a\rb'],
    ['DEL in value', 'X-A: a\x7fb'],
    ['VT in value', 'X-A: \x0bchunked'],
    ['obs-fold (§5.2)', 'X-A: a\r\n b'],
    ['obs-fold with tab (§5.2)', 'X-A: a\r\n\tb'],
    ['bare LF line end (§2.2)', 'X-A: a\nX-B: b'],
  ])('rejects %s with 400', (_what, field) => {
    expect(statusOf(`GET / HTTP/1.1\r\nHost: a\r\n${field}\r\n\r\n`)).toBe(400);
  });

  it('rejects whitespace between the start-line and the first field (RFC 9112 §2.2)', () => {
    expect(statusOf('GET / HTTP/1.1\r\n Host: a\r\n\r\n')).toBe(400);
  });

  it('rejects a bare LF at the end of the request-line or the head', () => {
    expect(statusOf('GET / HTTP/1.1\nHost: a\r\n\r\n')).toBe(400);
    expect(statusOf('GET / HTTP/1.1\r\nHost: a\r\n\n')).toBe(400);
    expect(statusOf('\nGET / HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(400);
  });

  it('answers 431 for too many fields or too many bytes (RFC 6585 §5)', () => {
    const many = Array.from({ length: 5 }, (_, i) => `X-${i}: v\r\n`).join('');
    expect(statusOf(`GET / HTTP/1.1\r\n${many}\r\n`, { maxHeaderCount: 4 })).toBe(431);
    expect(statusOf(`GET / HTTP/1.1\r\n${many}\r\n`, { maxHeaderCount: 5 })).toBe(200);
    const big = `X-Big: ${'v'.repeat(100)}\r\n`;
    expect(statusOf(`GET / HTTP/1.1\r\n${big}\r\n`, { maxHeaderBytes: 100 })).toBe(431);
    expect(statusOf(`GET / HTTP/1.1\r\n${big}\r\n`, { maxHeaderBytes: big.length })).toBe(200);
    // Detected while the line is still arriving.
    const parser = new RequestHeadParser({ maxHeaderBytes: 100 });
    parser.push(bytes('GET / HTTP/1.1\r\nX-Big: '));
    expect(() => parser.push(bytes('v'.repeat(200)))).toThrow(expect.objectContaining({ status: 431 }));
  });

  it('the default limits accept a head just under them', () => {
    const value = 'v'.repeat(DEFAULT_LIMITS.maxHeaderBytes - 'X-Big: \r\n'.length);
    expect(statusOf(`GET / HTTP/1.1\r\nX-Big: ${value}\r\n\r\n`)).toBe(200);
    expect(statusOf(`GET / HTTP/1.1\r\nX-Big: ${value}x\r\n\r\n`)).toBe(431);
  });
});

describe('RequestHeadParser: incremental input', () => {
  const request = 'POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc';

  it('gives the same head for every split into two and byte by byte', () => {
    const whole = parseWhole(request);
    const input = bytes(request);
    for (let cut = 0; cut <= input.length; cut++) {
      const parser = new RequestHeadParser();
      const first = parser.push(input.subarray(0, cut));
      const got = first ?? parser.push(input.subarray(cut));
      expect(got?.head).toEqual(whole);
    }
    const parser = new RequestHeadParser();
    let got = null;
    for (let i = 0; i < input.length && got === null; i++) got = parser.push(input.subarray(i, i + 1));
    expect(got?.head).toEqual(whole);
  });

  it('parse(input) scans only new bytes of a growing buffer and reports what it consumed', () => {
    const parser = new RequestHeadParser();
    const input = bytes(request);
    expect(parser.parse(input.subarray(0, 10))).toBeNull();
    expect(parser.parse(input.subarray(0, 30))).toBeNull();
    const got = parser.parse(input)!;
    expect(got.head.path).toBe('/upload');
    expect(input.subarray(got.consumed).toString()).toBe('abc');
    // Ready for the next head from a fresh buffer.
    expect(parser.parse(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n'))?.consumed).toBe(27);
  });
});

// ----- properties -----

const tokenChar = fc.constantFrom(...'!#$%&\'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''));
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const pathChar = fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@/?'.split(''));
const path = fc.string({ unit: pathChar, maxLength: 20 }).map((p) => `/${p}`);
const vchar = fc.integer({ min: 0x21, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c));
const fieldValue = fc
  .array(fc.oneof(vchar, fc.constant(' '), fc.constant('\t')), { maxLength: 20 })
  .map((cs) => cs.join('').replace(/^[ \t]+|[ \t]+$/g, ''));
const reserved = new Set(['host', 'content-length', 'transfer-encoding', 'expect', 'connection', 'te', 'upgrade', 'http2-settings']);
const field = fc.tuple(token, fieldValue).filter(([n]) => !reserved.has(n.toLowerCase()));

interface Model {
  method: string;
  target: string;
  headers: [string, string][];
  body: string;
  chunks: string[] | null;
}

const requestModel: fc.Arbitrary<Model> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'X-CUSTOM'),
  target: path,
  headers: fc.array(field, { maxLength: 6 }),
  body: fc.string({ maxLength: 30 }),
  chunks: fc.option(fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 4 })),
});

function serialize(m: Model): string {
  let text = `${m.method} ${m.target} HTTP/1.1\r\nHost: example.com\r\n`;
  for (const [n, v] of m.headers) text += `${n}: ${v}\r\n`;
  if (m.chunks !== null) {
    text += 'Transfer-Encoding: chunked\r\n\r\n';
    for (const c of m.chunks) text += `${Buffer.byteLength(c, 'latin1').toString(16)}\r\n${c}\r\n`;
    return `${text}0\r\n\r\n`;
  }
  const body = Buffer.from(m.body, 'latin1');
  if (body.length > 0) text += `Content-Length: ${body.length}\r\n`;
  return `${text}\r\n${m.body}`;
}

describe('properties', () => {
  it('a pipelined stream parses to the same requests however it is split', () => {
    fc.assert(
      fc.property(
        fc.array(requestModel.map((m) => ({ ...m, body: Buffer.from(m.body, 'utf8').toString('latin1') })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (models, cuts) => {
          const stream = bytes(models.map(serialize).join(''));
          const whole = readRequests([stream]);
          expect(whole.error).toBeNull();
          expect(whole.requests).toHaveLength(models.length);
          whole.requests.forEach((r, i) => {
            const m = models[i]!;
            expect(r.head.method).toBe(m.method);
            expect(r.head.target).toBe(m.target);
            expect(r.head.headers.slice(1, 1 + m.headers.length)).toEqual(m.headers.map(([n, v]) => [n.toLowerCase(), v]));
            expect(r.body.toString('latin1')).toBe(m.chunks === null ? m.body : m.chunks.join(''));
          });
          const split = readRequests(splitAt(stream, cuts.map((c) => c % (stream.length + 1))));
          expect(split).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes give a head, need-more or an H1Error — never another throw', () => {
    const prefixes = ['', 'GET / HTTP/1.1\r\n', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 5 }), (prefix, noise, cuts) => {
        const stream = Buffer.concat([bytes(prefix), noise]);
        const result = readRequests(splitAt(stream, cuts.map((c) => c % (stream.length + 1))), {
          maxRequestLineBytes: 64,
          maxHeaderBytes: 128,
        });
        if (result.error !== null) expect(result.error).toBeInstanceOf(H1Error);
      }),
      { numRuns: 500 },
    );
  });

  it('mutated valid requests: the same verdict for any split, and only H1Error', () => {
    const seeds = [
      'POST http://[::1]:80/a?b HTTP/1.1\r\nHost: a:1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5;a="b";c=d\r\nhello\r\n0\r\nX-T: 1\r\n\r\n',
      'PUT /x HTTP/1.0\r\nContent-Length: 5, 5\r\nConnection: keep-alive\r\n\r\nhelloGET / HTTP/1.1\r\nHost: b\r\n\r\n',
      'CONNECT a.b:443 HTTP/1.1\r\nHost: a.b:443\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
    ];
    const mutation = fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.integer({ min: 0, max: 255 }));
    const verdict = (r: ReturnType<typeof readRequests>) => ({
      requests: r.requests.map((q) => [q.head, q.body.toString('latin1'), q.trailers]),
      error: r.error && [r.error.status, r.error.section],
    });
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 4 }), (seed, mutations, cuts) => {
        const b = [...bytes(seed)];
        for (const [at, op, byte] of mutations) {
          const i = at % (b.length + 1);
          if (op === 'insert') b.splice(i, 0, byte);
          else if (op === 'delete') b.splice(i, 1);
          else b[i] = byte;
        }
        const stream = Buffer.from(b);
        const whole = readRequests([stream], { maxBodyBytes: 1000 });
        const split = readRequests(splitAt(stream, cuts.map((c) => c % (stream.length + 1))), { maxBodyBytes: 1000 });
        expect(verdict(split)).toEqual(verdict(whole));
      }),
      { numRuns: 400 },
    );
  });

  it('random field lines from a hostile alphabet never throw anything but H1Error', () => {
    const alphabet = fc.constantFrom('a', 'A', ':', ' ', '\t', '\r', '\n', '\r\n', '\x00', '\x7f', '\xff', 'chunked', '0');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (parts) => {
        try {
          new RequestHeadParser().push(bytes(`GET / HTTP/1.1\r\n${parts.join('')}\r\n\r\n`));
        } catch (error) {
          expect(error).toBeInstanceOf(H1Error);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('ResponseHeadParser (RFC 9112 §4)', () => {
  it('parses a status-line and fields', () => {
    const got = new ResponseHeadParser().push(bytes('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'))!;
    expect(got.head).toMatchObject({ version: '1.1', status: 404, reason: 'Not Found', headers: [['content-length', '0']] });
  });

  it('accepts an empty reason-phrase with or without its SP', () => {
    expect(new ResponseHeadParser().push(bytes('HTTP/1.1 200 \r\n\r\n'))!.head.reason).toBe('');
    expect(new ResponseHeadParser().push(bytes('HTTP/1.0 200\r\n\r\n'))!.head).toMatchObject({ status: 200, version: '1.0' });
  });

  it('replaces obs-fold with SP in a response (RFC 9112 §5.2)', () => {
    const got = new ResponseHeadParser().push(bytes('HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\n\r\n'))!;
    expect(got.head.headers).toEqual([['x-a', 'one two']]);
  });

  it.each(['HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 099 X', 'HTTP/1.1 600 X', 'HTTP/2 200 OK', 'ICY 200 OK', 'HTTP/1.1 200 O\x00K'])(
    'rejects %j with 502',
    (line) => {
      expect(() => new ResponseHeadParser().push(bytes(`${line}\r\n\r\n`))).toThrow(expect.objectContaining({ status: 502 }));
    },
  );
});
