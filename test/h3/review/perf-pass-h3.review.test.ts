/**
 * Review of the HTTP/3 performance pass (issue 6): QPACK without an object per field line and with
 * the blocked-stream decision worked out only when needed (c7ba224, RFC 9204 §2.1.1, §2.1.2,
 * §2.2.1), pseudo-headers read into a fixed record and regular lines adopted as one slice (072982d,
 * RFC 9114 §4.1.2, §4.2, §4.3), outgoing lines already lower-case passed on (edc8373, §4.2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequestHead, parseResponseHead, parseTrailers, requestFieldLines } from '../../../src/h3/connection/fields.js';
import { H3Error, H3ErrorCode, QpackErrorCode } from '../../../src/h3/errors.js';
import { QpackDecoder, type FieldLine } from '../../../src/h3/qpack/decoder.js';
import { QpackEncoder } from '../../../src/h3/qpack/encoder.js';
import { ByteWriter } from '../../../src/h3/qpack/byte-writer.js';
import { readFieldSectionPrefix, writeFieldSectionPrefix, writeLiteralNameRefLine, writeLiteralPostBaseNameRefLine } from '../../../src/h3/qpack/field-lines.js';

function h3Error(fn: () => unknown): H3Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H3Error);
    return err as H3Error;
  }
  throw new Error('expected an H3Error');
}

const REQUEST: FieldLine[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.org'],
  [':path', '/'],
  ['accept', '*/*'],
];

/** REQUEST with `line` put at `at` (or replacing the line there). */
function withLine(line: FieldLine, at: number, replace = false): FieldLine[] {
  const lines = REQUEST.map((l) => [l[0], l[1]] as FieldLine);
  lines.splice(at, replace ? 1 : 0, line);
  return lines;
}

describe('review: malformed messages are still H3_MESSAGE_ERROR of the stream (RFC 9114 §4.1.2)', () => {
  const malformedRequests: [string, FieldLine[]][] = [
    ['a pseudo-header after a regular field (§4.3)', withLine([':path', '/x'], 5)],
    ['a pseudo-header between regular fields (§4.3)', [...REQUEST, [':status', '200'], ['x-a', 'b']]],
    ['a repeated :method (§4.3)', withLine([':method', 'GET'], 1)],
    ['a repeated :path (§4.3)', withLine([':path', '/'], 4)],
    ['a response pseudo-header in a request (§4.3)', withLine([':status', '200'], 0)],
    ['an unknown pseudo-header (§4.3)', withLine([':protocol-x', 'a'], 0)],
    ['a pseudo-header named after an Object property (§4.3)', withLine([':__proto__', 'a'], 0)],
    ['a pseudo-header named toString (§4.3)', withLine([':toString', 'a'], 0)],
    ['an uppercase pseudo-header name (§4.2)', withLine([':Method', 'GET'], 0, true)],
    ['an uppercase field name (§4.2)', withLine(['Accept', '*/*'], 4, true)],
    ['an empty field name (§4.2)', withLine(['', 'x'], 5)],
    ['Connection (§4.2)', withLine(['connection', 'close'], 5)],
    ['Keep-Alive (§4.2)', withLine(['keep-alive', '5'], 5)],
    ['Proxy-Connection (§4.2)', withLine(['proxy-connection', 'x'], 5)],
    ['Transfer-Encoding (§4.2)', withLine(['transfer-encoding', 'chunked'], 5)],
    ['Upgrade (§4.2)', withLine(['upgrade', 'h2c'], 5)],
    ['TE other than trailers (§4.2)', withLine(['te', 'gzip'], 5)],
    ['a CR in a pseudo-header value (§4.2)', withLine([':path', '/a\r\nx: y'], 3, true)],
    ['a NUL in a field value (§4.2)', withLine(['accept', 'a\0b'], 4, true)],
  ];
  for (const [what, lines] of malformedRequests) {
    it(`request with ${what}`, () => {
      const err = h3Error(() => parseRequestHead(lines));
      expect(err.code).toBe(H3ErrorCode.H3_MESSAGE_ERROR);
      expect(err.scope).toBe('stream');
    });
  }

  it('responses and trailers: pseudo-headers out of place, repeated or foreign are malformed', () => {
    for (const lines of [
      [[':status', '200'], [':status', '200']],
      [['x-a', '1'], [':status', '200']],
      [[':status', '200'], [':path', '/']],
      [[':status', '200'], ['Content-Type', 'text/plain']],
      [[':status', '200'], ['transfer-encoding', 'chunked']],
    ] as FieldLine[][]) {
      const err = h3Error(() => parseResponseHead(lines));
      expect([err.code, err.scope]).toEqual([H3ErrorCode.H3_MESSAGE_ERROR, 'stream']);
    }
    for (const lines of [[[':status', '200']], [['x-a', '1'], [':path', '/']], [['X-A', '1']]] as FieldLine[][]) {
      const err = h3Error(() => parseTrailers(lines));
      expect([err.code, err.scope]).toEqual([H3ErrorCode.H3_MESSAGE_ERROR, 'stream']);
    }
  });

  it('a well-formed request keeps its pseudo-headers and exactly its regular lines, and its headers do not follow later changes to the line array', () => {
    const lines = withLine(['x-b', '2'], 5);
    const head = parseRequestHead(lines);
    expect([head.method, head.scheme, head.authority, head.path]).toEqual(['GET', 'https', 'example.org', '/']);
    expect([...head.headers]).toEqual([['accept', '*/*'], ['x-b', '2']]);
    lines.push(['x-late', '3']);
    lines.splice(4, 2);
    expect([...head.headers]).toEqual([['accept', '*/*'], ['x-b', '2']]);
  });

  it('outgoing lines: connection-specific fields are dropped and names lower-cased whether or not they already were (§4.2)', () => {
    const headers: [string, string][] = [['accept', 'a'], ['X-Mixed', 'b'], ['Connection', 'close'], ['upgrade', 'x'], ['te', 'gzip'], ['TE', 'trailers'], ['host', 'h']];
    const lines = requestFieldLines({ method: 'GET', scheme: 'https', authority: 'a.example', path: '/' }, headers);
    expect(lines.map((l) => [l[0], l[1]])).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':authority', 'a.example'], [':path', '/'],
      ['accept', 'a'], ['x-mixed', 'b'], ['te', 'trailers'],
    ]);
    // What goes out parses back as a well-formed request.
    expect(() => parseRequestHead(lines.map((l) => [l[0], l[1]]))).not.toThrow();
  });
});

/** The Required Insert Count a section from `encoder` carries, decoded as RFC 9204 §4.5.1.1 says. */
function requiredInsertCount(encoder: QpackEncoder, section: Buffer, capacity: number): number {
  const encoded = readFieldSectionPrefix(section).encodedInsertCount;
  if (encoded === 0) return 0;
  const fullRange = 2 * Math.floor(capacity / 32);
  const maxValue = encoder.table.insertCount + fullRange / 2;
  let ric = Math.floor(maxValue / fullRange) * fullRange + encoded - 1;
  if (ric > maxValue) ric -= fullRange;
  return ric;
}

describe('review: QPACK blocked streams through name references (RFC 9204 §2.1.2)', () => {
  /** An encoder that inserts only x-name: v1, so other x-name values can use only its name. */
  function encoder(blockedStreams: number): QpackEncoder {
    const e = new QpackEncoder({ shouldIndex: (name, value) => name === 'x-name' && value === 'v1' });
    e.applyPeerSettings({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: blockedStreams });
    return e;
  }

  it('a second stream may not block through a name reference alone when the limit is reached', () => {
    const e = encoder(1);
    expect(requiredInsertCount(e, e.encodeFieldSection(0, [['x-name', 'v1']]), 4096)).toBe(1); // stream 0 blocks
    expect(e.blockedStreamCount).toBe(1);
    // Stream 4: no insert and no exact match, only the unacknowledged name: a literal name instead.
    const section = e.encodeFieldSection(4, [['x-name', 'other']]);
    expect(requiredInsertCount(e, section, 4096)).toBe(0);
    expect(e.blockedStreamCount).toBe(1);
    // The stream that already blocks may use the name (§2.1.2).
    expect(requiredInsertCount(e, e.encodeFieldSection(0, [['x-name', 'other']]), 4096)).toBe(1);
    expect(e.blockedStreamCount).toBe(1);
  });

  it('with room for another blocked stream, the name is referenced and that stream counts as blocked', () => {
    const e = encoder(2);
    e.encodeFieldSection(0, [['x-name', 'v1']]);
    const section = e.encodeFieldSection(4, [['x-name', 'other']]);
    expect(requiredInsertCount(e, section, 4096)).toBe(1);
    expect(e.blockedStreamCount).toBe(2);
    // A third stream then may not.
    expect(requiredInsertCount(e, e.encodeFieldSection(8, [['x-name', 'third']]), 4096)).toBe(0);
    expect(e.blockedStreamCount).toBe(2);
  });

  it('random sections on random streams, acknowledged late: never more blocked streams than allowed, and every section decodes (property)', () => {
    const nameArb = fc.constantFrom('x-a', 'x-b', 'x-c', 'user-agent', 'content-type');
    const valueArb = fc.constantFrom('1', '2', '3', 'a-longer-value', 'v'.repeat(30));
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('encode' as const), stream: fc.constantFrom(0, 4, 8, 12), fields: fc.array(fc.tuple(nameArb, valueArb), { minLength: 1, maxLength: 5 }) }),
      fc.record({ kind: fc.constant('deliver' as const) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2), fc.constantFrom(128, 256, 4096), fc.array(opArb, { maxLength: 30 }), (blocked, capacity, ops) => {
        const enc = new QpackEncoder({ shouldIndex: (n, v) => n.length + v.length + 32 <= capacity / 2 });
        enc.applyPeerSettings({ qpackMaxTableCapacity: capacity, qpackBlockedStreams: blocked });
        const dec = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked, maxQueuedSectionsPerStream: 64 });
        const pending: { stream: number; section: Buffer; fields: FieldLine[] }[] = [];
        const decoded = new Map<number, FieldLine[][]>();
        const expected = new Map<number, FieldLine[][]>();
        const take = (stream: number, result: { headers?: FieldLine[] }) => {
          if (result.headers) (decoded.get(stream) ?? decoded.set(stream, []).get(stream)!).push(result.headers);
        };
        // Sections reach the decoder before the encoder stream does: the worst case for blocking.
        const deliver = () => {
          for (const p of pending.splice(0)) {
            const r = dec.decodeFieldSection(p.stream, p.section);
            if (!('blocked' in r)) take(p.stream, r);
          }
          for (const stream of dec.onEncoderStreamData(enc.takeEncoderStreamData())) {
            for (let r = dec.takeResumed(stream); r !== undefined; r = dec.takeResumed(stream)) {
              if ('error' in r) throw r.error;
              take(stream, r);
            }
          }
          enc.onDecoderStreamData(dec.takeDecoderStreamData());
        };
        for (const op of ops) {
          if (op.kind === 'deliver') {
            deliver();
            continue;
          }
          const section = enc.encodeFieldSection(op.stream, op.fields);
          expect(enc.blockedStreamCount).toBeLessThanOrEqual(blocked);
          pending.push({ stream: op.stream, section, fields: op.fields });
          (expected.get(op.stream) ?? expected.set(op.stream, []).get(op.stream)!).push(op.fields);
        }
        deliver();
        deliver();
        expect(decoded).toEqual(expected);
        expect(enc.blockedStreamCount).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('review: the decoder checks the Required Insert Count against name references too (RFC 9204 §2.2.1, §4.5.1.1)', () => {
  /** A decoder holding one dynamic entry (x-name: v1), inserted through its encoder stream. */
  function decoderWithOneEntry(): QpackDecoder {
    const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 0 });
    const e = new QpackEncoder();
    e.applyPeerSettings({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 0 });
    expect(e.insert('x-name', 'v1')).toBe(true);
    dec.onEncoderStreamData(e.takeEncoderStreamData());
    return dec;
  }

  /** A section whose only line is a literal value with the name of dynamic entry 0. */
  function nameRefSection(requiredInsertCount: number, postBase: boolean): Buffer {
    const w = new ByteWriter();
    const base = postBase ? 0 : 1;
    writeFieldSectionPrefix(w, requiredInsertCount, base, Math.floor(4096 / 32));
    if (postBase) writeLiteralPostBaseNameRefLine(w, false, 0, 'other', false);
    else writeLiteralNameRefLine(w, false, false, 0, 'other', false);
    return Buffer.from(w.view());
  }

  for (const postBase of [false, true]) {
    it(`${postBase ? 'post-base' : 'relative'} name reference: the exact count decodes and is acknowledged; a larger one is QPACK_DECOMPRESSION_FAILED`, () => {
      const dec = decoderWithOneEntry();
      expect(dec.decodeFieldSection(0, nameRefSection(1, postBase))).toEqual({ headers: [['x-name', 'other']] });
      // §4.4.1: a Section Acknowledgment (0x80 | stream 0) goes out.
      expect([...dec.takeDecoderStreamData()]).toContain(0x80);
      const e = new QpackEncoder();
      e.applyPeerSettings({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 0 });
      e.insert('x-name', 'v1');
      e.insert('x-other', 'v2');
      dec.onEncoderStreamData(e.takeEncoderStreamData().subarray(0)); // now two more entries (0..2)
      const tooLarge = nameRefSection(2, postBase); // references entry 0, claims 2
      const err = h3Error(() => dec.decodeFieldSection(4, tooLarge));
      expect(err.code).toBe(QpackErrorCode.QPACK_DECOMPRESSION_FAILED);
    });
  }
});
