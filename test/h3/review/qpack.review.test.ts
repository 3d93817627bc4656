/**
 * Review of the QPACK allocation changes (src/h3/qpack): the tables' nested-map lookups find
 * exactly what a scan of the live entries finds (RFC 9204 §3.1, §3.2), and the bytes the encoder
 * and decoder hand out (field sections, encoder and decoder stream data, RFC 9204 §4) stay
 * unchanged while later sections reuse the writers they came from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QpackDecoder } from '../../../src/h3/qpack/decoder.js';
import { DynamicTable } from '../../../src/h3/qpack/dynamic-table.js';
import { QpackEncoder } from '../../../src/h3/qpack/encoder.js';
import { STATIC_TABLE, staticIndexOf, staticNameIndex } from '../../../src/h3/qpack/static-table.js';

// A small vocabulary, with NUL inside names and values: the old "name\0value" key confused these.
const NAMES = ['a', 'a\0b', 'b', 'x-long-name', 'content-type'];
const VALUES = ['', 'c', 'b\0c', '\0', 'text/plain', 'v'.repeat(40)];

/** Newest live absolute index matching `match`, by scanning the table (the reference answer). */
function scan(table: DynamicTable, match: (name: string, value: string) => boolean): number {
  for (let abs = table.insertCount - 1; abs >= table.droppedCount; abs--) {
    const e = table.get(abs)!;
    if (match(e.name, e.value)) return abs;
  }
  return -1;
}

describe('QPACK table lookups (RFC 9204 §3.1, §3.2)', () => {
  it('dynamic table: findExact and findName equal a scan of the live entries after any inserts and evictions (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), name: fc.constantFrom(...NAMES), value: fc.constantFrom(...VALUES) }),
      fc.record({ kind: fc.constant('capacity' as const), capacity: fc.constantFrom(0, 40, 100, 200, 400) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const table = new DynamicTable();
        table.setCapacity(200);
        for (const o of ops) {
          if (o.kind === 'insert') table.insert(o.name, o.value);
          else table.setCapacity(o.capacity);
          for (const name of NAMES) {
            expect(table.findName(name)).toBe(scan(table, (n) => n === name));
            for (const value of VALUES) expect(table.findExact(name, value)).toBe(scan(table, (n, v) => n === name && v === value));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('names and values containing NUL do not match each other', () => {
    const table = new DynamicTable();
    table.setCapacity(4096);
    const abs = table.insert('a\0b', 'c');
    expect(table.findExact('a\0b', 'c')).toBe(abs);
    expect(table.findExact('a', 'b\0c')).toBe(-1);
    const other = table.insert('a', 'b\0c');
    expect(table.findExact('a', 'b\0c')).toBe(other);
    expect(table.findExact('a\0b', 'c')).toBe(abs);
  });

  it('static table: every entry is found at its own index, and nothing else matches', () => {
    for (const [index, [name, value]] of STATIC_TABLE.entries()) {
      expect(staticIndexOf(name, value)).toBe(index);
      expect(STATIC_TABLE[staticNameIndex(name)]![0]).toBe(name);
    }
    expect(staticIndexOf(':method\0', 'GET')).toBe(-1);
    expect(staticIndexOf(':method', 'GET\0')).toBe(-1);
    expect(staticIndexOf('content-type', 'text/plain\0')).toBe(-1);
  });
});

describe('QPACK output buffers are not reused (RFC 9204 §4)', () => {
  const fieldArb = fc.tuple(fc.constantFrom('x-a', 'x-b', 'user-agent', 'cookie', 'x-big'), fc.string({ maxLength: 300 }));
  const sectionsArb = fc.array(fc.array(fieldArb, { maxLength: 12 }), { minLength: 1, maxLength: 20 });

  it('sections and stream data handed out keep their bytes while later ones are encoded and decoded (property)', () => {
    fc.assert(
      fc.property(sectionsArb, fc.constantFrom(0, 256, 4096), (sections, capacity) => {
        const encoder = new QpackEncoder({ maxTableCapacity: capacity });
        encoder.applyPeerSettings({ qpackMaxTableCapacity: capacity, qpackBlockedStreams: 100 });
        const decoder = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: 100 });
        const handedOut: { bytes: Buffer; copy: Buffer }[] = [];
        const keep = (bytes: Buffer): Buffer => {
          handedOut.push({ bytes, copy: Buffer.from(bytes) });
          return bytes;
        };
        const encoded: Buffer[] = [];
        for (const [i, fields] of sections.entries()) {
          // Latin-1 only: QPACK strings here are latin1, one byte per character.
          const latin = fields.map(([n, v]) => [n, Buffer.from(v, 'latin1').toString('latin1')] as [string, string]);
          encoded.push(keep(encoder.encodeFieldSection(i * 4, latin)));
          keep(encoder.takeEncoderStreamData());
        }
        // The decoder sees every encoder stream piece first, then the sections in order.
        for (const { bytes } of handedOut.filter((_, i) => i % 2 === 1)) decoder.onEncoderStreamData(bytes);
        for (const [i, bytes] of encoded.entries()) {
          const result = decoder.decodeFieldSection(i * 4, bytes);
          expect('headers' in result).toBe(true);
          expect((result as { headers: [string, string][] }).headers).toEqual(
            sections[i]!.map(([n, v]) => [n, Buffer.from(v, 'latin1').toString('latin1')]),
          );
          keep(decoder.takeDecoderStreamData());
        }
        for (const { bytes, copy } of handedOut) expect(bytes.equals(copy)).toBe(true);
        // Acknowledgments read back by the encoder release every reference.
        for (const { bytes } of handedOut.slice(2 * sections.length)) encoder.onDecoderStreamData(bytes);
        expect(encoder.blockedStreamCount).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
