/**
 * HPACK as the server's decoder sees it (RFC 7541; every decoding error is a connection error of
 * type COMPRESSION_ERROR, RFC 9113 §4.3): index address space (§2.3.3), dynamic table size
 * updates (§4.2, §6.3), integer and string literals (§5.1, §5.2, Huffman padding and EOS), and
 * each field representation (§6.1, §6.2.1–§6.2.3) accepted with and without Huffman coding.
 *
 * Field blocks here are written by hand (frames.ts), after the request's own fields, which use
 * static-table indexes and literals without indexing, so the dynamic table holds only what a case
 * puts there.
 */
import type { FieldInput } from '../../../../src/h2/hpack.js';
import type { ConformanceCase } from '../case.js';
import type { H2TestClient } from '../client.js';
import { expectConnectionError, expectResponse } from '../expect.js';
import { E, F, T, frame, indexed, literalIndexedName, literalNewName, plainBlock, sizeUpdate, type LiteralKind } from '../frames.js';

/** A request on `streamId` whose field block is `before`, the request fields as raw literals, then `after`. */
function sendBlock(c: H2TestClient, request: readonly FieldInput[], after: Buffer, before: Buffer = Buffer.alloc(0), streamId = 1): void {
  const fields = request.map(([n, v]) => [n, typeof v === 'string' ? v : Buffer.from(v).toString('latin1')] as const);
  c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, streamId, Buffer.concat([before, plainBlock(fields), after])));
}

function decodingError(section: string, name: string, expect: string, after: Buffer, before?: Buffer): ConformanceCase {
  return {
    section,
    name,
    expect: `${expect}: connection error COMPRESSION_ERROR`,
    async run(c, ctx) {
      sendBlock(c, ctx.request(), after, before);
      await expectConnectionError(c, E.COMPRESSION_ERROR);
    },
  };
}

function accepted(section: string, name: string, after: Buffer, before?: Buffer): ConformanceCase {
  return {
    section,
    name,
    expect: 'decoded: a response',
    async run(c, ctx) {
      sendBlock(c, ctx.request(), after, before);
      await expectResponse(c, 1);
    },
  };
}

/** Literal-representation cases: each kind × indexed/new name × raw/Huffman (RFC 7541 §6.2). */
function literalCases(): ConformanceCase[] {
  const kinds: [LiteralKind, string][] = [['incremental', '§6.2.1'], ['without', '§6.2.2'], ['never', '§6.2.3']];
  const cases: ConformanceCase[] = [];
  for (const [kind, section] of kinds) {
    const label = kind === 'incremental' ? 'with incremental indexing' : kind === 'without' ? 'without indexing' : 'never indexed';
    for (const huffman of [false, true]) {
      const coding = huffman ? ', Huffman coded' : '';
      // Static index 31 is "content-type" (RFC 7541 Appendix A): a harmless request field.
      cases.push(accepted(`RFC 7541 ${section}`, `literal ${label}, indexed name${coding}`, literalIndexedName(kind, 31, 'text/plain', huffman)));
      cases.push(accepted(`RFC 7541 ${section}`, `literal ${label}, new name${coding}`, literalNewName(kind, 'x-hpack-test', 'value', huffman)));
    }
  }
  return cases;
}

export const hpackCases: ConformanceCase[] = [
  // §2.3.3, §6.1
  decodingError('RFC 7541 §6.1', 'indexed field with index 0', '"The index value of 0 is not used. It MUST be treated as a decoding error"', indexed(0)),
  decodingError('RFC 7541 §2.3.3', 'indexed field beyond the static and (empty) dynamic table: index 70', '"Indices strictly greater than the sum of the lengths of both tables MUST be treated as a decoding error"', indexed(70)),
  decodingError('RFC 7541 §2.3.3', 'literal whose name index is beyond both tables: index 70', 'a decoding error', literalIndexedName('without', 70, 'x')),
  decodingError('RFC 7541 §2.3.3', 'indexed field one past a 1-entry dynamic table: index 63', 'only index 62 exists: a decoding error', Buffer.concat([literalNewName('incremental', 'x-one', '1'), indexed(63)])),
  accepted('RFC 7541 §6.1', 'indexed field from the static table', indexed(31)),
  accepted('RFC 7541 §2.3.3', 'indexed field referring to the dynamic table (index 62)', Buffer.concat([literalNewName('incremental', 'x-one', '1'), indexed(62)])),
  {
    section: 'RFC 7541 §2.3.2',
    name: 'dynamic table entry added in one request, used in the next',
    expect: 'the table persists across field blocks: both requests answered',
    async run(c, ctx) {
      sendBlock(c, ctx.request(), literalNewName('incremental', 'x-shared', 'kept'));
      await expectResponse(c, 1);
      sendBlock(c, ctx.request(), indexed(62), undefined, 3);
      await expectResponse(c, 3);
    },
  },

  // §4.2, §6.3
  decodingError('RFC 7541 §4.2', 'dynamic table size update at the end of a block', '"This dynamic table size update MUST occur at the beginning of the first header block following the change"', sizeUpdate(0)),
  decodingError('RFC 7541 §4.2', 'dynamic table size update between two field lines', 'a size update after a field line is a decoding error', Buffer.concat([sizeUpdate(100), indexed(31)])),
  decodingError('RFC 7541 §6.3', 'dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (4097)', '"The new maximum size MUST be lower than or equal to the limit ... A change in the maximum size ... that exceeds this limit MUST be treated as a decoding error"', Buffer.alloc(0), sizeUpdate(4097)),
  accepted('RFC 7541 §6.3', 'dynamic table size update to 0 at the start of a block', Buffer.alloc(0), sizeUpdate(0)),
  accepted('RFC 7541 §4.2', 'two dynamic table size updates at the start of a block (0, then 4096)', Buffer.alloc(0), Buffer.concat([sizeUpdate(0), sizeUpdate(4096)])),
  {
    section: 'RFC 7541 §4.3',
    name: 'entry evicted by a size update to 0, then referenced',
    expect: 'a size update evicts entries; index 62 is then out of range: connection error COMPRESSION_ERROR',
    async run(c, ctx) {
      sendBlock(c, ctx.request(), literalNewName('incremental', 'x-shared', 'kept'));
      await expectResponse(c, 1);
      sendBlock(c, ctx.request(), indexed(62), sizeUpdate(0), 3);
      await expectConnectionError(c, E.COMPRESSION_ERROR);
    },
  },

  // §5.1, §5.2
  decodingError('RFC 7541 §5.1', 'integer that does not fit in 32 bits', '"Integer encodings that exceed implementation limits ... MUST be treated as decoding errors"', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])),
  decodingError('RFC 7541 §5.2', 'string literal longer than the rest of the block', 'the block ends inside the string: a decoding error', Buffer.from([0x00, 0x05, 0x61, 0x62])),
  decodingError('RFC 7541 §5.2', 'Huffman string with more than 7 bits of padding', '"A padding strictly longer than 7 bits MUST be treated as a decoding error"', Buffer.from('0085f2b24a84ff8449509fff', 'hex')),
  decodingError('RFC 7541 §5.2', 'Huffman string padded with zero bits', '"A padding not corresponding to the most significant bits of the code for the EOS symbol MUST be treated as a decoding error"', Buffer.from('0085f2b24a84ff83495090', 'hex')),
  decodingError('RFC 7541 §5.2', 'Huffman string containing the EOS symbol', '"A Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding error"', Buffer.from('0085f2b24a84ff874951fffffffa7f', 'hex')),
  accepted('RFC 7541 §5.2', 'Huffman strings padded with the EOS prefix (x-test: test)', Buffer.from('0085f2b24a84ff8349509f', 'hex')),
  ...literalCases(),
];
