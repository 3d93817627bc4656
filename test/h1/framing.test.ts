/**
 * Message body length and connection handling (RFC 9112 §3.2, §6.1–§6.3, §9.3; RFC 9110 §8.6,
 * §10.1.1): request and response framing decisions and the body readers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H1Error } from '../../src/core/errors.js';
import {
  createBodyDecoder,
  LengthDecoder,
  parseContentLength,
  parseTransferEncoding,
  requestFraming,
  responseFraming,
  UntilCloseDecoder,
} from '../../src/h1/framing.js';
import { RequestHeadParser, ResponseHeadParser, type RequestHead, type ResponseHead } from '../../src/h1/parse.js';
import { splitAt } from './stream.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function request(head: string): RequestHead {
  return new RequestHeadParser().push(bytes(`${head}\r\n\r\n`))!.head;
}

function response(head: string): ResponseHead {
  return new ResponseHeadParser().push(bytes(`${head}\r\n\r\n`))!.head;
}

function framingError(head: string, limits = {}): { status: number; section: string } {
  try {
    requestFraming(request(head), limits);
  } catch (error) {
    if (error instanceof H1Error) return { status: error.status, section: error.section };
    throw error;
  }
  throw new Error('no error');
}

describe('parseContentLength (RFC 9110 §8.6, RFC 9112 §6.3 item 5)', () => {
  it.each([
    [['0'], 0],
    [['42'], 42],
    [['007'], 7],
    [['5', '5'], 5],
    [['5, 5'], 5],
    [['5 ,5,  5'], 5],
    [['999999999999999'], 999999999999999],
  ])('%j → %i', (values, length) => {
    expect(parseContentLength(values)).toBe(length);
  });

  it.each([[['']], [['5', '6']], [['5, 6']], [['5,']], [[',5']], [['+5']], [['-5']], [['5 5']], [['0x5']], [['1e3']], [['1.0']], [['1234567890123456']], [['５']]])(
    '%j is invalid',
    (values) => {
      expect(parseContentLength(values)).toBeNull();
    },
  );
});

describe('parseTransferEncoding (RFC 9112 §6.1, §7)', () => {
  it('splits lists across lines, lower-cases names, notes parameters', () => {
    expect(parseTransferEncoding(['gzip;level=1, Chunked', 'x'])).toEqual([
      { name: 'gzip', hasParameters: true },
      { name: 'chunked', hasParameters: false },
      { name: 'x', hasParameters: false },
    ]);
    expect(parseTransferEncoding(['foo ; a = "b;c"'])).toEqual([{ name: 'foo', hasParameters: true }]);
  });

  it.each(['"chunked"', 'chunked;', 'chunked;a', 'chu nked', 'chunked;a=', '@'])('%j is malformed', (value) => {
    expect(parseTransferEncoding([value])).toBeNull();
  });
});

describe('requestFraming: body length (RFC 9112 §6.3)', () => {
  it('no Content-Length and no Transfer-Encoding: no content (item 7)', () => {
    expect(requestFraming(request('POST / HTTP/1.1\r\nHost: a')).body).toEqual({ kind: 'none' });
  });

  it('Content-Length (item 6) and chunked (item 4)', () => {
    expect(requestFraming(request('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12')).body).toEqual({ kind: 'length', length: 12 });
    expect(requestFraming(request('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked')).body).toEqual({ kind: 'chunked' });
  });

  it.each([
    ['TE and CL', 'Transfer-Encoding: chunked\r\nContent-Length: 5', 400, 'RFC 9112 §6.1'],
    ['CL and TE', 'Content-Length: 5\r\nTransfer-Encoding: chunked', 400, 'RFC 9112 §6.1'],
    ['chunked not final', 'Transfer-Encoding: chunked, gzip', 400, 'RFC 9112 §6.3'],
    ['no chunked', 'Transfer-Encoding: gzip', 400, 'RFC 9112 §6.3'],
    ['unknown coding before chunked', 'Transfer-Encoding: br, chunked', 501, 'RFC 9112 §6.1'],
    ['chunked twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked', 400, 'RFC 9112 §6.1'],
    ['malformed', 'Transfer-Encoding: chunked;', 400, 'RFC 9112 §6.1'],
    ['differing CL', 'Content-Length: 1\r\nContent-Length: 2', 400, 'RFC 9112 §6.3'],
    ['CL over limit', 'Content-Length: 1001', 413, 'RFC 9110 §15.5.14'],
  ])('%s → %i', (_what, fields, status, section) => {
    expect(framingError(`POST / HTTP/1.1\r\nHost: a\r\n${fields}`, { maxBodyBytes: 1000 })).toEqual({ status, section });
  });

  it('Transfer-Encoding in an HTTP/1.0 request is faulty framing (RFC 9112 §6.1)', () => {
    expect(framingError('POST / HTTP/1.0\r\nTransfer-Encoding: chunked')).toEqual({ status: 400, section: 'RFC 9112 §6.1' });
  });

  it('a Content-Length at the limit is fine', () => {
    expect(requestFraming(request('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000'), { maxBodyBytes: 1000 }).body).toEqual({
      kind: 'length',
      length: 1000,
    });
  });
});

describe('requestFraming: Host and authority (RFC 9112 §3.2)', () => {
  it('takes the authority from Host for origin-form', () => {
    const framing = requestFraming(request('GET /x HTTP/1.1\r\nHost: example.com:8080'));
    expect(framing).toMatchObject({ authority: 'example.com:8080', path: '/x' });
  });

  it('ignores Host for absolute-form (§3.2.2)', () => {
    const framing = requestFraming(request('GET http://origin.example/p HTTP/1.1\r\nHost: other.example'));
    expect(framing).toMatchObject({ authority: 'origin.example', path: '/p' });
  });

  it('accepts IP literals and an empty Host', () => {
    expect(requestFraming(request('GET / HTTP/1.1\r\nHost: [2001:db8::1]:443')).authority).toBe('[2001:db8::1]:443');
    expect(requestFraming(request('GET / HTTP/1.1\r\nHost: 192.0.2.1')).authority).toBe('192.0.2.1');
    expect(requestFraming(request('GET / HTTP/1.1\r\nHost:')).authority).toBe('');
  });

  it('checks every new Host value, whatever was accepted before', () => {
    for (let i = 0; i < 3; i++) {
      expect(requestFraming(request('GET / HTTP/1.1\r\nHost: a.example:80')).authority).toBe('a.example:80');
      expect(() => requestFraming(request('GET / HTTP/1.1\r\nHost: a.example:80/x'))).toThrow(H1Error);
      expect(() => requestFraming(request('GET / HTTP/1.1\r\nHost: a.example:800000'))).toThrow(H1Error);
    }
  });

  it('does not need Host in HTTP/1.0', () => {
    expect(requestFraming(request('GET / HTTP/1.0')).authority).toBe('');
  });

  it.each([
    ['missing', 'GET / HTTP/1.1'],
    ['two lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: a'],
    ['two lines in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b'],
    ['a path', 'GET / HTTP/1.1\r\nHost: a/b'],
    ['userinfo', 'GET / HTTP/1.1\r\nHost: u@a'],
    ['port out of range', 'GET / HTTP/1.1\r\nHost: a:65536'],
    ['bad IPv6', 'GET / HTTP/1.1\r\nHost: [::g]'],
  ])('rejects Host %s with 400', (_what, head) => {
    expect(framingError(head)).toEqual({ status: 400, section: 'RFC 9112 §3.2' });
  });
});

describe('requestFraming: persistence, Expect, TE, h2c', () => {
  it.each([
    ['GET / HTTP/1.1\r\nHost: a', true],
    ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close', false],
    ['GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close', false],
    ['GET / HTTP/1.0', false],
    ['GET / HTTP/1.0\r\nConnection: Keep-Alive', true],
    ['GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close', false],
  ])('keepAlive for %j is %s (RFC 9112 §9.3)', (head, keepAlive) => {
    expect(requestFraming(request(head)).keepAlive).toBe(keepAlive);
  });

  it('Expect: 100-continue with content (RFC 9110 §10.1.1)', () => {
    const head = 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5';
    expect(requestFraming(request(head)).expectContinue).toBe(true);
    // No content: nothing to continue; HTTP/1.0: MUST be ignored.
    expect(requestFraming(request('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue')).expectContinue).toBe(false);
    expect(requestFraming(request('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5')).expectContinue).toBe(false);
  });

  it('other expectations → 417 (RFC 9110 §10.1.1)', () => {
    expect(framingError('GET / HTTP/1.1\r\nHost: a\r\nExpect: something')).toEqual({ status: 417, section: 'RFC 9110 §10.1.1' });
    expect(framingError('GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x')).toEqual({ status: 417, section: 'RFC 9110 §10.1.1' });
  });

  it('TE: trailers (RFC 9110 §10.1.4)', () => {
    expect(requestFraming(request('GET / HTTP/1.1\r\nHost: a\r\nTE: trailers')).acceptsTrailers).toBe(true);
    expect(requestFraming(request('GET / HTTP/1.1\r\nHost: a\r\nTE: gzip;q=0.5, Trailers')).acceptsTrailers).toBe(true);
    expect(requestFraming(request('GET / HTTP/1.1\r\nHost: a')).acceptsTrailers).toBe(false);
  });

  it('h2c upgrade only when every RFC 7540 §3.2 condition holds, over cleartext', () => {
    const upgrade = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__';
    expect(requestFraming(request(upgrade), {}, 'http').upgradeH2c).toBe(true);
    expect(requestFraming(request(upgrade), {}, 'https').upgradeH2c).toBe(false);
    expect(requestFraming(request(upgrade.replace('Upgrade, ', '')), {}, 'http').upgradeH2c).toBe(false);
    expect(requestFraming(request(`${upgrade}\r\nHTTP2-Settings: AAMAAABkAAQAAP__`), {}, 'http').upgradeH2c).toBe(false);
    expect(requestFraming(request(upgrade.replace('HTTP/1.1', 'HTTP/1.0')), {}, 'http').upgradeH2c).toBe(false);
  });
});

describe('responseFraming (RFC 9112 §6.3)', () => {
  it.each([
    ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 100', { kind: 'none' }],
    ['GET', 'HTTP/1.1 101 Switching Protocols', { kind: 'none' }],
    ['GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 5', { kind: 'none' }],
    ['GET', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked', { kind: 'none' }],
    ['CONNECT', 'HTTP/1.1 200 OK\r\nContent-Length: 5', { kind: 'tunnel' }],
    ['CONNECT', 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5', { kind: 'length', length: 5 }],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', { kind: 'chunked' }],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip', { kind: 'until-close' }],
    ['GET', 'HTTP/1.1 200 OK\r\nContent-Length: 5, 5', { kind: 'length', length: 5 }],
    ['GET', 'HTTP/1.1 200 OK', { kind: 'until-close' }],
    ['GET', 'HTTP/1.0 200 OK\r\nContent-Length: 3', { kind: 'length', length: 3 }],
  ])('%s → %s', (method, head, body) => {
    expect(responseFraming(response(head), method).body).toEqual(body);
  });

  it('keepAlive follows §9.3 and is false for until-close bodies', () => {
    expect(responseFraming(response('HTTP/1.1 200 OK\r\nContent-Length: 0'), 'GET').keepAlive).toBe(true);
    expect(responseFraming(response('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close'), 'GET').keepAlive).toBe(false);
    expect(responseFraming(response('HTTP/1.0 200 OK\r\nContent-Length: 0'), 'GET').keepAlive).toBe(false);
    expect(responseFraming(response('HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive'), 'GET').keepAlive).toBe(true);
    expect(responseFraming(response('HTTP/1.1 200 OK'), 'GET').keepAlive).toBe(false);
  });

  it.each([
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6',
    'HTTP/1.1 200 OK\r\nContent-Length: -1',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked',
    'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked',
  ])('%j is an invalid response (502)', (head) => {
    expect(() => responseFraming(response(head), 'GET')).toThrow(expect.objectContaining({ status: 502 }));
  });
});

describe('body readers', () => {
  it('LengthDecoder reads exactly its length and returns the rest', () => {
    const decoder = new LengthDecoder(5);
    const a = decoder.push(bytes('hel'));
    expect(a).toMatchObject({ done: false, consumed: 3 });
    const input = bytes('loGET');
    const b = decoder.push(input);
    expect(Buffer.concat(b.data).toString()).toBe('lo');
    expect(b).toMatchObject({ done: true, consumed: 2 });
    expect(b.rest.toString()).toBe('GET');
    expect(b.data[0]!.buffer).toBe(input.buffer);
    expect(() => decoder.end()).not.toThrow();
  });

  it('LengthDecoder reports a body cut short (RFC 9112 §8)', () => {
    const decoder = new LengthDecoder(5);
    decoder.push(bytes('abc'));
    expect(() => decoder.end()).toThrow(expect.objectContaining({ status: 400, section: 'RFC 9112 §8' }));
  });

  it('UntilCloseDecoder ends at EOF', () => {
    const decoder = new UntilCloseDecoder();
    expect(decoder.push(bytes('abc'))).toMatchObject({ done: false, consumed: 3 });
    decoder.end();
    expect(decoder.done).toBe(true);
  });

  it('createBodyDecoder picks the reader for the framing', () => {
    expect(createBodyDecoder({ kind: 'none' }).done).toBe(true);
    expect(createBodyDecoder({ kind: 'length', length: 3 }).push(bytes('abcd')).rest.toString()).toBe('d');
    expect(createBodyDecoder({ kind: 'chunked' }).push(bytes('1\r\na\r\n0\r\n\r\nX')).rest.toString()).toBe('X');
    expect(createBodyDecoder({ kind: 'until-close' }).push(bytes('abcd')).consumed).toBe(4);
  });

  it('LengthDecoder gives the same body for any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat({ max: 60 }), fc.array(fc.nat(), { maxLength: 6 }), (input, length, cuts) => {
        const decoder = new LengthDecoder(length);
        const data: Uint8Array[] = [];
        const rest: Uint8Array[] = [];
        for (const piece of splitAt(input, cuts.map((c) => c % (input.length + 1)))) {
          const out = decoder.push(piece);
          data.push(...out.data);
          rest.push(out.rest);
          expect(out.consumed + out.rest.length).toBe(piece.length);
        }
        expect(Buffer.concat(data)).toEqual(Buffer.from(input.subarray(0, length)));
        expect(Buffer.concat(rest)).toEqual(Buffer.from(input.subarray(length)));
        expect(decoder.done).toBe(input.length >= length);
      }),
      { numRuns: 300 },
    );
  });
});
