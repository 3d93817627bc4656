/**
 * Review (session 5) of beec3c5: past maxPieces (1,024) stored pieces, a Reassembler refuses data
 * only when the pieces average under SMALL_PIECE_BYTES (512) bytes (RFC 9000 §21.7).
 *
 * What holds: the average is checked whenever an insert leaves more than maxPieces pieces, and
 * stored bytes never exceed maxAhead, so a stream never stores more than
 * max(maxPieces, maxAhead / 512) pieces, whatever mix of overlapping, duplicated, large and tiny
 * pieces and reads the peer causes; the property below checks the looser maxPieces + maxAhead / 512,
 * which the fix proposed for the defect keeps too. Duplicates and overlaps add no piece; a reset
 * stream stores nothing.
 *
 * What did not, fixed after this review (reassembly.ts now bounds the pieces under 512 bytes
 * themselves): the average was only checked on insert, and reading took bytes away without taking
 * the tiny pieces with it. A peer sent one large in-order piece and, behind it, 1-byte pieces with
 * gaps: the large piece carried the average, so the tiny ones were accepted far past maxPieces;
 * once the application read the large piece, the tiny ones stayed — with RecvStream's maxAhead of
 * 16 MiB, 32,767 one-byte pieces (each its own copied ArrayBuffer, ~400 B of heap and external
 * memory measured): ~13 MB per stream where the old limit kept ~0.4 MB.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SMALL_PIECE_BYTES, Reassembler } from '../../../src/quic/stream/reassembly.js';
import { StreamError } from '../../../src/quic/stream/errors.js';
import { RecvStream } from '../../../src/quic/stream/recv-stream.js';

/** Stored pieces: not part of the public API, read here to check the bound itself. */
function storedPieces(r: Reassembler): number {
  return (r as unknown as { pieces: unknown[] }).pieces.length;
}

/** The stream's byte at offset o is o mod 251 (a prime, so a misplaced piece shows). */
const PATTERN = Buffer.from(Array.from({ length: 251 + 64 * 1024 }, (_, i) => i % 251));

/** A piece's bytes, in a buffer of its own size (so that no piece counts as a small view). */
function bytesAt(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafeSlow(length);
  const from = offset % 251;
  PATTERN.copy(b, 0, from, from + length);
  return b;
}

type Op = { kind: 'insert'; offset: number; length: number; count: number } | { kind: 'read'; max: number };

describe('Reassembler piece bound past maxPieces (RFC 9000 §21.7)', () => {
  it('never stores more than maxPieces + maxAhead / 512 pieces; what is read is the stream', () => {
    const maxPieces = 16;
    const maxAhead = 64 * 1024; // maxAhead / 512 = 128 pieces
    const op: fc.Arbitrary<Op> = fc.oneof(
      // A run of `count` tiny pieces one byte apart (gaps between them), as an attacker sends them.
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), offset: fc.nat(maxAhead + 4096), length: fc.integer({ min: 1, max: 3 }), count: fc.integer({ min: 1, max: 24 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), offset: fc.nat(maxAhead), length: fc.integer({ min: 512, max: 24_576 }), count: fc.constant(1) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), max: fc.integer({ min: 1, max: 40_000 }) }) },
    );
    let pastMaxPieces = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 200, size: 'max' }), (ops) => {
        const r = new Reassembler({ maxAhead, maxPieces });
        let wentPast = false;
        let readUpTo = 0;
        let highest = 0;
        for (const o of ops) {
          if (o.kind === 'read') {
            for (let part = r.read(o.max); part !== null; part = r.read(o.max)) {
              expect(Buffer.from(part).equals(bytesAt(readUpTo, part.byteLength))).toBe(true);
              readUpTo += part.byteLength;
            }
            continue;
          }
          const first = r.readOffset + (o.offset % maxAhead);
          let refusedHere = false;
          for (let k = 0; k < o.count && !refusedHere; k++) {
            const offset = first + k * (o.length + 1);
            const length = Math.min(o.length, r.readOffset + maxAhead - offset);
            if (length <= 0) break;
            try {
              r.insert(offset, bytesAt(offset, length));
            } catch (e) {
              // RFC 9000 §21.7: refused as too many small pieces; the connection closes, nothing more to check.
              expect(e).toBeInstanceOf(StreamError);
              expect((e as StreamError).code).toBe(0x0a); // PROTOCOL_VIOLATION
              expect(storedPieces(r)).toBeGreaterThan(maxPieces);
              refusedHere = true;
              break;
            }
            highest = Math.max(highest, offset + length);
            // The bound after every accepted insert.
            const pieces = storedPieces(r);
            if (r.bufferedBytes > maxAhead) throw new Error(`${r.bufferedBytes} bytes stored, beyond maxAhead`);
            // maxPieces small ones at most, and pieces of 512 B or more fit maxAhead / 512 times (the
            // rule of beec3c5 keeps within max() of the two; the fix proposed for its defect, within the sum).
            if (pieces > maxPieces + maxAhead / SMALL_PIECE_BYTES) throw new Error(`${pieces} pieces stored`);
            if (pieces > maxPieces && !wentPast) {
              pastMaxPieces++;
              wentPast = true;
            }
          }
          if (refusedHere) {
            refused++;
            return;
          }
        }
        expect(r.highestOffset).toBe(highest);
      }),
      { numRuns: 200 },
    );
    // The runs reach the rule both ways: kept past maxPieces, and refused.
    expect(pastMaxPieces).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  });

  it('duplicated and overlapping pieces add no piece and no byte', () => {
    const r = new Reassembler({ maxAhead: 1 << 20 });
    for (let i = 0; i < 1024; i++) r.insert(2 + 2 * i, bytesAt(2 + 2 * i, 1));
    expect(storedPieces(r)).toBe(1024);
    // Every one of them again, and pieces that cover only stored bytes: nothing new to store.
    for (let i = 0; i < 1024; i++) r.insert(2 + 2 * i, bytesAt(2 + 2 * i, 1));
    for (let i = 0; i < 1024; i += 7) r.insert(2 + 2 * i, bytesAt(2 + 2 * i, 1));
    expect(storedPieces(r)).toBe(1024);
    expect(r.bufferedBytes).toBe(1024);
    // One piece over the gaps fills each gap with a piece of its own: refused, not merged away.
    expect(() => r.insert(0, bytesAt(0, 2048))).toThrow(/separate pieces/);
  });

  it('full packets behind one lost packet are kept past maxPieces (the case beec3c5 fixed)', () => {
    const r = new Reassembler({ maxAhead: 16 * 1024 * 1024 });
    for (let i = 1; i <= 3000; i++) r.insert(i * 1400, bytesAt(i * 1400, 1400));
    expect(storedPieces(r)).toBe(3000);
    r.insert(0, bytesAt(0, 1400));
    let at = 0;
    for (let part = r.read(); part !== null; part = r.read()) {
      expect(Buffer.from(part).equals(bytesAt(at, part.byteLength))).toBe(true);
      at += part.byteLength;
    }
    expect(at).toBe(3001 * 1400);
  });

  it('RESET_STREAM drops every stored piece, and later frames of the reset stream store none (RFC 9000 §3.2, §4.5)', () => {
    const window = 1 << 20;
    const stream = new RecvStream({ streamId: 0, initialWindow: window, maxWindow: window });
    const buffer = (stream as unknown as { buffer: Reassembler }).buffer;
    const large = window - 3002;
    stream.onStreamFrame(0, Buffer.alloc(large), false);
    for (let i = 0; i < 1000; i++) stream.onStreamFrame(large + 1 + 2 * i, bytesAt(large + 1 + 2 * i, 1), false);
    expect(storedPieces(buffer)).toBe(1001);
    stream.onResetStream(7, window);
    expect(storedPieces(buffer)).toBe(0);
    expect(stream.bufferedBytes).toBe(0);
    // A late retransmission below the final size: checked and counted, not stored.
    for (let i = 0; i < 100; i++) stream.onStreamFrame(large + 2 + 2 * i, bytesAt(large + 2 + 2 * i, 1), false);
    expect(storedPieces(buffer)).toBe(0);
    expect(stream.read(0, 10)).toBeNull();
  });

  // Failed before the fix (1-byte pieces counted into an average that one large piece kept high):
  // all 2,000 were accepted, and they stayed stored after the large piece was read. Now at most
  // maxPieces pieces under SMALL_PIECE_BYTES bytes are stored (reassembly.ts smallPieces).
  it('1-byte pieces past maxPieces are refused even behind a large piece, and none outlive its read', () => {
    const r = new Reassembler({ maxAhead: 1 << 20 });
    const tiny = 2000;
    const large = (1 << 20) - 2 * tiny - 2;
    r.insert(0, Buffer.alloc(large, 1));
    let accepted = 0;
    let refused = false;
    try {
      for (let i = 0; i < tiny; i++) {
        r.insert(large + 1 + 2 * i, Buffer.alloc(1, 2));
        accepted++;
      }
    } catch (e) {
      expect(e).toBeInstanceOf(StreamError);
      refused = true;
    }
    expect(refused).toBe(true);
    expect(accepted).toBe(1024);
    while (r.read() !== null);
    expect(storedPieces(r)).toBeLessThanOrEqual(1025);
  });
});
