/**
 * Chunked transfer coding (RFC 9112 §7.1): encoder output, decoder errors and limits, extensions
 * (§7.1.1), trailers (§7.1.2), and round-trip / split / random-input properties.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H1Error } from '../../src/core/errors.js';
import { chunkHeader, ChunkedDecoder, CRLF, encodeChunk, encodeLastChunk, FORBIDDEN_TRAILERS, validChunkExtensions } from '../../src/h1/chunked.js';
import { splitAt } from './stream.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Decodes `pieces` with a fresh decoder; returns the body, trailers and bytes after the body. */
function decode(pieces: Uint8Array[], limits = {}) {
  const decoder = new ChunkedDecoder(limits);
  const data: Buffer[] = [];
  let trailers: [string, string][] = [];
  let rest = Buffer.alloc(0);
  let done = false;
  for (const piece of pieces) {
    const out = decoder.push(piece);
    data.push(...out.data);
    if (out.done) {
      done = true;
      trailers = out.trailers;
      rest = Buffer.concat([rest, out.rest]);
    } else {
      expect(out.consumed).toBe(piece.length);
    }
    if (done && !out.done) throw new Error('done flag went back');
  }
  return { body: Buffer.concat(data), trailers, rest, done };
}

function statusOf(text: string, limits = {}): number {
  try {
    return decode([bytes(text)], limits).done ? 200 : 0;
  } catch (error) {
    if (error instanceof H1Error) return error.status;
    throw error;
  }
}

describe('encoder (RFC 9112 §7.1)', () => {
  it('frames data as hex size line, the data unchanged, CRLF', () => {
    const data = bytes('Wikipedia in chunks.');
    const pieces = encodeChunk(data);
    expect(pieces).toHaveLength(3);
    expect(pieces[1]).toBe(data); // no copy
    expect(Buffer.concat(pieces).toString()).toBe('14\r\nWikipedia in chunks.\r\n');
  });

  it('sends several pieces as one chunk and skips empty pieces', () => {
    const a = bytes('abc');
    const b = bytes('defghijklmnopq');
    const pieces = encodeChunk([a, new Uint8Array(0), b]);
    expect(pieces).toEqual([bytes('11\r\n'), a, b, CRLF]);
    expect(pieces[1]).toBe(a);
    expect(pieces[2]).toBe(b);
  });

  it('writes the hex size line for every size, cached or not (RFC 9112 §7.1)', () => {
    for (const size of [1, 15, 16, 255, 4096, 8191, 8192, 8193, 65536, 0x123456789]) {
      expect(chunkHeader(size).toString('latin1')).toBe(`${size.toString(16)}\r\n`);
      expect(chunkHeader(size).toString('latin1')).toBe(`${size.toString(16)}\r\n`); // second, cached call
    }
    expect(chunkHeader(16)).toBe(chunkHeader(16)); // small sizes share one line
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) expect(() => chunkHeader(bad)).toThrow(RangeError);
  });

  it('never produces a zero chunk for an empty write', () => {
    expect(encodeChunk(new Uint8Array(0))).toEqual([]);
    expect(encodeChunk([])).toEqual([]);
    expect(encodeChunk([new Uint8Array(0), new Uint8Array(0)])).toEqual([]);
  });

  it('ends with the last chunk and trailer section (RFC 9112 §7.1.2)', () => {
    expect(encodeLastChunk().toString()).toBe('0\r\n\r\n');
    expect(encodeLastChunk([['X-Checksum', 'abc'], ['server-timing', 'db;dur=53']]).toString()).toBe(
      '0\r\nX-Checksum: abc\r\nserver-timing: db;dur=53\r\n\r\n',
    );
  });

  it.each([
    ['bad name', 'X Bad', 'v'],
    ['CRLF in value (response splitting)', 'x-a', 'v\r\nSet-Cookie: a=b'],
    ['NUL in value', 'x-a', 'v\x00'],
    ['forbidden trailer (RFC 9110 §6.5.1)', 'Content-Length', '5'],
    ['forbidden trailer (RFC 9110 §6.5.1)', 'transfer-encoding', 'chunked'],
  ])('refuses a trailer with %s', (_what, name, value) => {
    expect(() => encodeLastChunk([[name, value]])).toThrow(TypeError);
  });
});

describe('decoder (RFC 9112 §7.1)', () => {
  it('decodes a body with its data as views of the input (no copy)', () => {
    const input = bytes('4\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n');
    const decoder = new ChunkedDecoder();
    const out = decoder.push(input);
    expect(Buffer.concat(out.data).toString()).toBe('Wikipedia in \r\n\r\nchunks.');
    expect(out.done).toBe(true);
    expect(out.consumed).toBe(input.length);
    for (const piece of out.data) expect(piece.buffer).toBe(input.buffer);
    expect(decoder.done).toBe(true);
    expect(() => decoder.end()).not.toThrow();
  });

  it('returns the bytes after the body for the next message', () => {
    const out = new ChunkedDecoder().push(bytes('3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n'));
    expect(out.rest.toString()).toBe('GET / HTTP/1.1\r\n');
    expect(out.consumed).toBe('3\r\nabc\r\n0\r\n\r\n'.length);
  });

  it('accepts upper- and lower-case hex, leading zeros and 1*("0") last-chunk', () => {
    const got = decode([bytes('0A\r\n0123456789\r\na\r\n0123456789\r\n000\r\n\r\n')]);
    expect(got.body.length).toBe(20);
  });

  it('parses and ignores valid chunk extensions (RFC 9112 §7.1.1)', () => {
    const got = decode([bytes('3;a\r\nabc\r\n3 ; name = value ;q="x;\\"y\\" \t"\r\ndef\r\n0;last=1\r\n\r\n')]);
    expect(got.body.toString()).toBe('abcdef');
  });

  it('reads trailers with the header field rules (RFC 9112 §7.1.2)', () => {
    const got = decode([bytes('1\r\na\r\n0\r\nX-Checksum:  sha256=ab \r\nServer-Timing: x\r\n\r\n')]);
    expect(got.trailers).toEqual([
      ['x-checksum', 'sha256=ab'],
      ['server-timing', 'x'],
    ]);
  });

  it.each([
    ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', 400],
    ['negative size', '-5\r\nhello\r\n0\r\n\r\n', 400],
    ['plus sign', '+5\r\nhello\r\n0\r\n\r\n', 400],
    ['empty size line', '\r\nhello\r\n0\r\n\r\n', 400],
    ['trailing junk after size', '5x\r\nhello\r\n0\r\n\r\n', 400],
    ['trailing space after size', '5 \r\nhello\r\n0\r\n\r\n', 400],
    ['17 hex digits', '00000000000000005\r\nhello\r\n0\r\n\r\n', 400],
    ['overflowing size', 'ffffffffffffffffff\r\nx\r\n0\r\n\r\n', 400],
    ['size beyond MAX_SAFE_INTEGER', '20000000000000\r\nx\r\n0\r\n\r\n', 400],
    ['bare LF after size', '5\nhello\r\n0\r\n\r\n', 400],
    ['bare CR after size', '5\rhello\r\n0\r\n\r\n', 400],
    ['bare LF after data', '5\r\nhello\n0\r\n\r\n', 400],
    ['data longer than size', '5\r\nhello!\r\n0\r\n\r\n', 400],
    ['data shorter than size', '5\r\nhell\r\n0\r\n\r\n', 400],
    ['missing CRLF after data', '5\r\nhello0\r\n\r\n', 400],
    ['bare LF ending the trailers', '0\r\n\n', 400],
    ['extension without name', '5;\r\nhello\r\n0\r\n\r\n', 400],
    ['extension with bad name', '5;a b\r\nhello\r\n0\r\n\r\n', 400],
    ['extension with empty value', '5;a=\r\nhello\r\n0\r\n\r\n', 400],
    ['extension with unterminated quote', '5;a="b\r\nhello\r\n0\r\n\r\n', 400],
    ['extension with CTL', '5;a=\x01\r\nhello\r\n0\r\n\r\n', 400],
    ['extension after trailing whitespace', '5;a \r\nhello\r\n0\r\n\r\n', 400],
    ['forbidden trailer Content-Length', '0\r\nContent-Length: 5\r\n\r\n', 400],
    ['forbidden trailer Host', '0\r\nHost: evil\r\n\r\n', 400],
    ['forbidden trailer Transfer-Encoding', '0\r\ntransfer-encoding: chunked\r\n\r\n', 400],
    ['trailer with obs-fold', '0\r\nX-A: a\r\n b\r\n\r\n', 400],
    ['trailer with space before colon', '0\r\nX-A : a\r\n\r\n', 400],
    ['trailer with NUL', '0\r\nX-A: a\x00\r\n\r\n', 400],
  ])('rejects %s with %i', (_what, body, status) => {
    expect(statusOf(body)).toBe(status);
  });

  it('limits the chunk-size line (RFC 9112 §7.1.1) even before it ends', () => {
    const ext = `;a=${'b'.repeat(100)}`;
    expect(statusOf(`5${ext}\r\nhello\r\n0\r\n\r\n`, { maxChunkLineBytes: 64 })).toBe(400);
    expect(statusOf(`5${ext}\r\nhello\r\n0\r\n\r\n`, { maxChunkLineBytes: ext.length + 1 })).toBe(200);
    const decoder = new ChunkedDecoder({ maxChunkLineBytes: 64 });
    expect(() => decoder.push(bytes(`5;a=${'b'.repeat(1000)}`))).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('answers 413 for a body over maxBodyBytes, at the size line before any data', () => {
    expect(statusOf('6\r\nabcdef\r\n0\r\n\r\n', { maxBodyBytes: 5 })).toBe(413);
    expect(statusOf('3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n', { maxBodyBytes: 5 })).toBe(413);
    expect(statusOf('5\r\nabcde\r\n0\r\n\r\n', { maxBodyBytes: 5 })).toBe(200);
    expect(() => new ChunkedDecoder({ maxBodyBytes: 1024 }).push(bytes('100000\r\n'))).toThrow(
      expect.objectContaining({ status: 413 }),
    );
  });

  it('answers 431 for trailer sections over the header limits', () => {
    expect(statusOf('0\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n', { maxHeaderCount: 2 })).toBe(431);
    expect(statusOf(`0\r\nX-A: ${'v'.repeat(100)}\r\n\r\n`, { maxHeaderBytes: 64 })).toBe(431);
  });

  it('reports a body cut by the end of the connection (RFC 9112 §8)', () => {
    const decoder = new ChunkedDecoder();
    decoder.push(bytes('5\r\nhel'));
    expect(() => decoder.end()).toThrow(H1Error);
  });

  it('stays failed after an error', () => {
    const decoder = new ChunkedDecoder();
    expect(() => decoder.push(bytes('z\r\n'))).toThrow(H1Error);
    expect(() => decoder.push(bytes('0\r\n\r\n'))).toThrow(H1Error);
  });
});

describe('validChunkExtensions (RFC 9112 §7.1.1)', () => {
  it.each([
    ['', true],
    [';a', true],
    [' ;a', true],
    ['\t; a = b', true],
    [';a=b;c="d e"', true],
    [';a="\\"q\\""', true],
    [';a=b c', false],
    [';', false],
    ['a', false],
    [';a=', false],
    [';a="', false],
    [';a="x"y', false],
    [' ', false],
  ])('%j → %s', (ext, valid) => {
    expect(validChunkExtensions(bytes(ext), 0)).toBe(valid);
  });
});

// ----- properties -----

const token = fc.string({ unit: fc.constantFrom(...'abcXYZ019!#$%&\'*+-.^_`|~'.split('')), minLength: 1, maxLength: 6 });
const quoted = fc
  .array(fc.oneof(fc.constantFrom('a', ' ', '\t', ';', '=', ',', '\xe9'), fc.constant('\\"'), fc.constant('\\\\')), { maxLength: 6 })
  .map((parts) => `"${parts.join('')}"`);
const bws = fc.constantFrom('', ' ', '\t', ' \t ');
const extension = fc
  .tuple(bws, bws, token, fc.option(fc.tuple(bws, bws, fc.oneof(token, quoted))))
  .map(([a, b, name, value]) => `${a};${b}${name}${value === null ? '' : `${value[0]}=${value[1]}${value[2]}`}`);
const trailerName = token.filter((n) => !FORBIDDEN_TRAILERS.has(n.toLowerCase()));
const trailerValue = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\t', '!', '\xff'), maxLength: 10 });

describe('properties', () => {
  it('decode(encode(chunks)) = concat(chunks), whatever the chunking and the split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.tuple(trailerName, trailerValue), { maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (chunks, trailers, cuts) => {
          const encoded = Buffer.concat([...chunks.flatMap((c) => encodeChunk(c)), encodeLastChunk(trailers)]);
          const pieces = splitAt(encoded, cuts.map((c) => c % (encoded.length + 1)));
          const got = decode(pieces);
          expect(got.done).toBe(true);
          expect(got.body).toEqual(Buffer.concat(chunks));
          expect(got.trailers).toEqual(trailers.map(([n, v]) => [n.toLowerCase(), v.replace(/^[ \t]+|[ \t]+$/g, '')]));
          expect(got.rest.length).toBe(0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('extensions, trailers and trailing bytes: same body and trailers for any split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 30 }), fc.array(extension, { maxLength: 2 })), { maxLength: 6 }),
        fc.array(extension, { maxLength: 2 }),
        fc.array(fc.tuple(trailerName, trailerValue), { maxLength: 3 }),
        fc.uint8Array({ maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (chunks, lastExt, trailers, after, cuts) => {
          const parts: Buffer[] = [];
          for (const [data, exts] of chunks) parts.push(bytes(`${data.length.toString(16)}${exts.join('')}\r\n`), Buffer.from(data), CRLF);
          // The last chunk written by hand, extensions and all; the trailer section by the encoder.
          parts.push(bytes(`0${lastExt.join('')}\r\n`), encodeLastChunk(trailers).subarray(3), Buffer.from(after));
          const encoded = Buffer.concat(parts);
          const got = decode(splitAt(encoded, cuts.map((c) => c % (encoded.length + 1))));
          expect(got.body).toEqual(Buffer.concat(chunks.map(([d]) => d)));
          expect(got.trailers.map(([n]) => n)).toEqual(trailers.map(([n]) => n.toLowerCase()));
          expect(got.rest).toEqual(Buffer.from(after));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes give data, need-more or an H1Error — never another throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.array(fc.constantFrom('0', '5', 'a', 'f', ';', '=', '"', ' ', '\r', '\n', '\r\n', 'x: y', 'hello'), { maxLength: 30 }).map((p) => bytes(p.join(''))),
        ),
        fc.array(fc.nat(), { maxLength: 5 }),
        (input, cuts) => {
          try {
            decode(splitAt(input, cuts.map((c) => c % (input.length + 1))), { maxBodyBytes: 1 << 20, maxChunkLineBytes: 32 });
          } catch (error) {
            expect(error).toBeInstanceOf(H1Error);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
