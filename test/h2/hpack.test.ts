import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import hpack from 'hpack.js';
import { readFileSync } from 'node:fs';
import { HeaderListTooLargeError, HpackDecoder, HpackEncoder, type FieldInput } from '../../src/h2/hpack.js';
import { ErrorCode, H2Error } from '../../src/h2/errors.js';

interface Block { headers: Array<[string, string]>; hex: string; table: { entries: Array<{ size: number; name: string; value: string }>; size: number } }
interface Sequence { tableSize: number; huffman: boolean; blocks: Block[] }
const vectors = JSON.parse(readFileSync(new URL('../../fixtures/rfc7541/appendix-c.json', import.meta.url), 'utf8')) as
  { 'C.2': Block[]; 'C.3': Sequence; 'C.4': Sequence; 'C.5': Sequence; 'C.6': Sequence };

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decodeError(decoder: HpackDecoder, block: Buffer): H2Error {
  try {
    decoder.decode(block);
  } catch (error) {
    expect(error).toBeInstanceOf(H2Error);
    return error as H2Error;
  }
  throw new Error('expected an error');
}

describe('RFC 7541 Appendix C through the adapter', () => {
  it.each(vectors['C.2'].map((b, i) => [`C.2.${i + 1}`, b] as const))('%s decodes to the listed field and table', (_name, block) => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex(block.hex))).toEqual(block.headers);
    expect(decoder.entries()).toEqual(block.table.entries.map(({ name, value, size }) => ({ name, value, size })));
    expect(decoder.tableSize).toBe(block.table.size);
  });

  for (const id of ['C.3', 'C.4', 'C.5', 'C.6'] as const) {
    const sequence = vectors[id];
    it(`${id} decodes each block in sequence, with the dynamic table after each`, () => {
      const decoder = new HpackDecoder({ maxTableSize: sequence.tableSize });
      for (const block of sequence.blocks) {
        expect(decoder.decode(hex(block.hex))).toEqual(block.headers);
        expect(decoder.entries()).toEqual(block.table.entries);
        expect(decoder.tableSize).toBe(block.table.size);
      }
    });

    it(`${id} encodes the same bytes as the RFC, evicting as it does`, () => {
      const encoder = new HpackEncoder({ maxTableSize: sequence.tableSize, huffman: sequence.huffman });
      sequence.blocks.forEach((block, i) => {
        // A table below the initial 4096 must be announced first (RFC 7541 §4.2): 001 + 256 = 3f e1 01.
        const announce = i === 0 && sequence.tableSize !== 4096 ? '3fe101' : '';
        expect(encoder.encode(block.headers).toString('hex')).toBe(announce + block.hex);
        expect(encoder.tableSize).toBe(block.table.size);
      });
    });
  }
});

const token = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const name = fc.oneof(token, fc.constantFrom('constructor', '__proto__', 'tostring', ':path', 'cookie', 'authorization', 'accept'));
const value = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 10 }), fc.constantFrom('toString', 'valueOf', '__proto__', 'constructor', 'GET', ''));

describe('round trips', () => {
  it('header lists survive encode/decode over many blocks, with table size changes between them', () => {
    const step = fc.record({
      fields: fc.array(fc.tuple(name, value), { maxLength: 8 }),
      resize: fc.option(fc.integer({ min: 0, max: 8192 }), { nil: undefined }),
    });
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 8192 }), (steps, capacity) => {
      const encoder = new HpackEncoder({ maxTableSize: capacity });
      const decoder = new HpackDecoder({ maxHeaderListSize: Infinity });
      for (const { fields, resize } of steps) {
        if (resize !== undefined) {
          // Our SETTINGS_HEADER_TABLE_SIZE, acknowledged: both sides learn it before the next block.
          encoder.setPeerMaxTableSize(resize);
          decoder.setMaxTableSize(resize);
        }
        expect(decoder.decode(encoder.encode(fields))).toEqual(fields);
        expect(decoder.tableSize).toBe(encoder.tableSize);
      }
    }), { numRuns: 200 });
  });

  it('arbitrary value octets round trip exactly with latin1 decoding', () => {
    fc.assert(fc.property(fc.array(fc.tuple(token, fc.uint8Array({ maxLength: 40 })), { maxLength: 6 }), (fields) => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder({ valueEncoding: 'latin1' });
      const decoded = decoder.decode(encoder.encode(fields));
      expect(decoded.map(([n, v]) => [n, Buffer.from(v, 'latin1')])).toEqual(fields.map(([n, v]) => [n, Buffer.from(v)]));
    }), { numRuns: 300 });
  });

  it('UTF-8 values go out as their UTF-8 octets, raw (not Huffman), and come back as the same string', () => {
    const block = new HpackEncoder().encode([['x-name', 'héllo ✓']]);
    expect(block.includes(Buffer.from('héllo ✓', 'utf8'))).toBe(true);
    expect(new HpackDecoder().decode(block)).toEqual([['x-name', 'héllo ✓']]);
  });

  it('random bytes decode to fields or an H2Error, never another exception', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 30 }), { minLength: 1, maxLength: 4 }), (blocks) => {
      const decoder = new HpackDecoder({ maxHeaderListSize: 200 });
      for (const block of blocks) {
        try {
          decoder.decode(block);
        } catch (error) {
          if (!(error instanceof H2Error)) throw error;
        }
      }
    }), { numRuns: 500 });
  });
});

describe('hpack.js traps', () => {
  it("the README's { size } option disables eviction; the adapter uses maxSize and evicts", () => {
    const readme = hpack.table.create({ size: 64 });
    readme.add('a', 'x'.repeat(100), 1, 100);
    readme.add('b', 'y'.repeat(100), 1, 100);
    expect(readme.size).toBe(266); // never evicted although far above 64
    expect(() => readme.updateSize(10)).toThrow();

    const decoder = new HpackDecoder({ maxTableSize: 64 });
    decoder.decode(new HpackEncoder().encode([['a', 'x'.repeat(20)]]));
    expect(decoder.tableSize).toBe(53);
    decoder.decode(new HpackEncoder().encode([['b', 'y'.repeat(20)]]));
    expect(decoder.tableSize).toBe(53); // the first entry was evicted
  });

  it('hpack.js Compressor emits no size update when the peer lowers SETTINGS_HEADER_TABLE_SIZE', () => {
    const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
    compressor.updateTableSize(100);
    compressor.write([{ name: 'accept', value: 'x' }]);
    const block = compressor.read()!;
    expect(block[0]! & 0xe0).not.toBe(0x20);
    // and a decoder that lowered its limit to 100 rejects that block (RFC 7541 §4.2)
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(100);
    expect(decodeError(decoder, block).code).toBe(ErrorCode.COMPRESSION_ERROR);
  });

  it('HpackEncoder emits the size update at the start of the next block when the peer lowers the size', () => {
    const encoder = new HpackEncoder();
    encoder.encode([['x-a', 'one']]);
    encoder.setPeerMaxTableSize(100);
    const block = encoder.encode([[':method', 'GET']]);
    expect(block.toString('hex')).toBe('3f45' + '82'); // 001 + (100 = 31 + 69), then :method GET
    expect(encoder.maxTableSize).toBe(100);
    expect(encoder.encode([[':method', 'GET']]).toString('hex')).toBe('82'); // signalled once
  });

  it('lowered then raised between blocks: the minimum, then the final size (RFC 7541 §4.2)', () => {
    const encoder = new HpackEncoder();
    encoder.encode([['x-a', 'one']]);
    encoder.setPeerMaxTableSize(0);
    encoder.setPeerMaxTableSize(4096);
    const block = encoder.encode([]);
    expect(block.toString('hex')).toBe('20' + '3fe11f'); // 0, then 4096
    expect(encoder.tableSize).toBe(0); // the 0 evicted everything

    const decoder = new HpackDecoder();
    decoder.decode(new HpackEncoder().encode([['x-a', 'one']]));
    expect(decoder.decode(block)).toEqual([]);
    expect(decoder.tableSize).toBe(0);
  });

  it('a peer raising the size above what the encoder wants to use changes nothing on the wire', () => {
    const encoder = new HpackEncoder({ maxTableSize: 4096 });
    encoder.setPeerMaxTableSize(65536);
    expect(encoder.encode([[':method', 'GET']]).toString('hex')).toBe('82');
  });

  it('hpack.js Decompressor accepts a size update after a field; the adapter says COMPRESSION_ERROR', () => {
    const block = hex('82 3f e1 01'); // :method GET, then a size update to 256
    const decompressor = hpack.decompressor.create({ table: { maxSize: 4096 } });
    decompressor.write(block);
    decompressor.execute();
    expect(decompressor.read()).toEqual({ name: ':method', value: 'GET', neverIndex: false });
    expect(decompressor._table.maxSize).toBe(256);

    const error = decodeError(new HpackDecoder(), block);
    expect(error.code).toBe(ErrorCode.COMPRESSION_ERROR);
    expect(error.scope).toBe('connection');
    expect(error.section).toBe('RFC 7541 §4.2');
  });

  it('a size update above SETTINGS_HEADER_TABLE_SIZE is a COMPRESSION_ERROR', () => {
    expect(new HpackDecoder().decode(hex('3f e1 1f 82'))).toEqual([[':method', 'GET']]); // 4096: allowed
    const error = decodeError(new HpackDecoder(), hex('3f e2 1f 82')); // 4097
    expect(error.code).toBe(ErrorCode.COMPRESSION_ERROR);
    expect(error.section).toBe('RFC 7541 §6.3');
  });

  it('hpack.js checks size updates against its creation size, not the SETTINGS value in force', () => {
    const raise = hex('3f e1 1f 82'); // size update to 4096, then :method GET
    // We lowered SETTINGS_HEADER_TABLE_SIZE to 256; hpack.js has no notion of it and accepts 4096.
    const decompressor = hpack.decompressor.create({ table: { maxSize: 4096 } });
    decompressor.updateTableSize(256);
    decompressor.write(raise);
    decompressor.execute();
    expect(decompressor._table.maxSize).toBe(4096);

    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(256);
    expect(decodeError(decoder, raise).section).toBe('RFC 7541 §6.3');
  });

  it('a truncated block is a COMPRESSION_ERROR (hpack.js cannot resume; blocks are fed whole)', () => {
    const block = hex(vectors['C.4'].blocks[0]!.hex);
    expect(decodeError(new HpackDecoder(), block.subarray(0, block.length - 3)).code).toBe(ErrorCode.COMPRESSION_ERROR);
  });

  it.each([
    ['index 0', '80'],
    ['index past the table', 'ff 00'],
    ['literal name index past the table', '7f 10 01 61'],
    ['string longer than the block', '40 05 61'],
    ['Huffman EOS in a string', '40 81 ff 81 ff'],
    ['Huffman padding not all ones', '40 81 00 81 00'],
    ['integer over 4 continuation octets', 'ff ff ff ff ff ff 01'],
  ])('any throw inside hpack.js (%s) is a COMPRESSION_ERROR, and the decoder stays failed', (_name, bytes) => {
    const decoder = new HpackDecoder();
    const error = decodeError(decoder, hex(bytes));
    expect(error.code).toBe(ErrorCode.COMPRESSION_ERROR);
    expect(decodeError(decoder, hex('82'))).toBe(error);
  });

  it('hpack.js static map is a plain object: "constructor", "__proto__" and "toString" break it, not the adapter', () => {
    const table = hpack.table.create({ maxSize: 4096 });
    expect(() => table.reverseLookup('__proto__', 'x')).toThrow();
    expect(table.reverseLookup('constructor', 'x')).toBeNaN();
    expect(typeof table.reverseLookup('accept', 'toString')).toBe('function');
    const fields: FieldInput[] = [['constructor', 'x'], ['__proto__', 'y'], ['accept', 'toString'], [':method', 'constructor'], ['accept', 'toString']];
    expect(new HpackDecoder().decode(new HpackEncoder().encode(fields))).toEqual(fields);
  });
});

describe('header list size limit (RFC 9113 §6.5.2, §10.5.1)', () => {
  const sizeOf = (fields: Array<[string, string]>) => fields.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0);

  it('accepts a list of exactly the limit and refuses one octet more, distinctly from COMPRESSION_ERROR', () => {
    const fields: Array<[string, string]> = [['x-a', 'hello'], ['x-b', 'world!']];
    const limit = sizeOf(fields);
    expect(new HpackDecoder({ maxHeaderListSize: limit }).decode(new HpackEncoder().encode(fields))).toEqual(fields);
    const decoder = new HpackDecoder({ maxHeaderListSize: limit - 1 });
    const error = decodeError(decoder, new HpackEncoder().encode(fields));
    expect(error).toBeInstanceOf(HeaderListTooLargeError);
    expect(error.code).not.toBe(ErrorCode.COMPRESSION_ERROR);
    expect(error.scope).toBe('stream');
  });

  it('keeps decoding the refused block so the dynamic table stays in sync', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder({ maxHeaderListSize: 100 });
    expect(decodeError(decoder, encoder.encode([['x-big', 'v'.repeat(200)], ['x-later', 'indexed']]))).toBeInstanceOf(HeaderListTooLargeError);
    expect(decoder.tableSize).toBe(encoder.tableSize);
    // the next block refers to the entries added by the refused one
    const next = encoder.encode([['x-later', 'indexed']]);
    expect(next.toString('hex')).toMatch(/^be$/);
    expect(decoder.decode(next)).toEqual([['x-later', 'indexed']]);
  });

  it('a bomb of references to one large dynamic entry is refused without building the list', () => {
    const big = 'z'.repeat(4000);
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder({ maxHeaderListSize: 16 * 1024 });
    decoder.decode(encoder.encode([['x-bomb', big]]));
    const bomb = Buffer.alloc(64 * 1024, 0xbe); // 65536 × "index 62" = 65536 × 4038 octets ≈ 264 MB decoded
    const started = performance.now();
    const error = decodeError(decoder, bomb);
    expect(error).toBeInstanceOf(HeaderListTooLargeError);
    expect((error as HeaderListTooLargeError).listSize).toBe(65536 * 4038);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(decoder.decode(hex('be'))).toEqual([['x-bomb', big]]);
  });
});

describe('never-indexed fields (RFC 7541 §6.2.3, §7.1.3)', () => {
  it.each([
    ['authorization', 'Bearer abc'],
    ['proxy-authorization', 'Basic Zm9v'],
    ['cookie', 'id=12345'],
  ])('%s is sent as a never-indexed literal and not added to the table', (fieldName, fieldValue) => {
    const encoder = new HpackEncoder();
    const block = encoder.encode([[fieldName, fieldValue]]);
    expect(block[0]! & 0xf0).toBe(0x10);
    expect(encoder.tableSize).toBe(0);
    expect(new HpackDecoder().decode(block)).toEqual([[fieldName, fieldValue]]);
  });

  it('a long (high-entropy) cookie is indexed', () => {
    const encoder = new HpackEncoder();
    const block = encoder.encode([['cookie', 'session=' + 'a1b2c3d4e5f6'.repeat(3)]]);
    expect(block[0]).toBe(0x60); // 01 + static index 32 (cookie)
    expect(encoder.tableSize).toBeGreaterThan(0);
  });

  it('a field marked sensitive, or a configured name, is never indexed', () => {
    const encoder = new HpackEncoder({ sensitiveNames: ['x-api-key'] });
    const block = encoder.encode([['x-token', 'secret', true], ['x-api-key', 'k']]);
    expect(encoder.tableSize).toBe(0);
    expect(block[0]).toBe(0x10);
    expect(new HpackDecoder().decode(block)).toEqual([['x-token', 'secret'], ['x-api-key', 'k']]);
  });

  it('decodes the C.2.3 never-indexed literal without touching the table', () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'))).toEqual([['password', 'secret']]);
    expect(decoder.tableSize).toBe(0);
  });
});

describe('SETTINGS_HEADER_TABLE_SIZE on the decoding side (RFC 7541 §4.2)', () => {
  it('after lowering our limit, the next block must begin with an update within it', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('40 03 78 2d 61 03 6f 6e 65')); // x-a: one, indexed
    decoder.setMaxTableSize(0);
    expect(decoder.decode(hex('20 82'))).toEqual([[':method', 'GET']]);
    expect(decoder.tableSize).toBe(0);
    expect(decoder.decode(hex('82'))).toEqual([[':method', 'GET']]); // only the first block must signal
  });

  it('an encoder with a table of 0 announces it and never indexes', () => {
    const encoder = new HpackEncoder({ maxTableSize: 0 });
    const block = encoder.encode([['x-a', 'one']]);
    expect(block[0]).toBe(0x20);
    expect(encoder.tableSize).toBe(0);
    const decoder = new HpackDecoder();
    expect(decoder.decode(block)).toEqual([['x-a', 'one']]);
    expect(decoder.maxTableSize).toBe(0);
  });
});
