import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SMALL_PIECE_BYTES, Reassembler, createCryptoReassembler } from '../../../src/quic/stream/reassembly.js';
import { StreamError, TransportErrorCode } from '../../../src/quic/stream/errors.js';

function expectStreamError(fn: () => unknown, code: number): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe(code);
    return;
  }
  expect.fail(`expected StreamError 0x${code.toString(16)}`);
}

function readEverything(r: Reassembler): Buffer {
  const parts: Uint8Array[] = [];
  for (let p = r.read(); p !== null; p = r.read()) parts.push(p);
  return Buffer.concat(parts);
}

/** A byte string, cut into consecutive chunks, plus extra overlapping pieces of it. */
const scenario = fc
  .uint8Array({ minLength: 0, maxLength: 600 })
  .chain((bytes) =>
    fc.record({
      bytes: fc.constant(bytes),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: 20 }),
      extras: fc.array(
        fc.tuple(fc.nat(bytes.length), fc.nat(bytes.length)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
        { maxLength: 10 },
      ),
      seed: fc.integer(),
      readEvery: fc.integer({ min: 1, max: 5 }),
      readMax: fc.integer({ min: 1, max: 700 }),
    }),
  );

describe('Reassembler', () => {
  it('appends in-order pieces behind a gap without making them readable, then reads all once the gap fills', () => {
    const r = new Reassembler({ maxAhead: 1000 });
    const bytes = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
    r.insert(0, bytes.subarray(0, 10));
    r.insert(20, bytes.subarray(20, 30)); // a gap at [10, 20)
    r.insert(30, bytes.subarray(30, 40)); // in order after the last piece
    expect(r.contiguousEnd).toBe(10);
    expect(r.bufferedBytes).toBe(30);
    expect(readEverything(r)).toEqual(bytes.subarray(0, 10));
    r.insert(10, bytes.subarray(10, 20));
    expect(r.contiguousEnd).toBe(40);
    expect(readEverything(r)).toEqual(bytes.subarray(10, 40));
    // After everything was read, the next in-order piece is readable at once.
    r.insert(40, Buffer.from([40]));
    expect(r.contiguousEnd).toBe(41);
    expect(readEverything(r)).toEqual(Buffer.from([40]));
  });

  it('counts in-order pieces against the piece limit too (RFC 9000 §21.7)', () => {
    const r = new Reassembler({ maxAhead: 1000, maxPieces: 2 });
    r.insert(10, Buffer.alloc(1)); // behind a gap: stays stored
    r.insert(11, Buffer.alloc(1));
    expectStreamError(() => r.insert(12, Buffer.alloc(1)), TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('yields exactly the original bytes, once and in order, for any chunking, order, duplication and overlap', () => {
    fc.assert(
      fc.property(scenario, ({ bytes, cuts, extras, seed, readEvery, readMax }) => {
        const points = [0, ...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length];
        const pieces: Array<{ offset: number; data: Uint8Array; fin: boolean }> = [];
        for (let i = 0; i + 1 < points.length; i++) {
          const [a, b] = [points[i]!, points[i + 1]!];
          pieces.push({ offset: a, data: bytes.subarray(a, b), fin: b === bytes.length });
        }
        if (bytes.length === 0) pieces.push({ offset: 0, data: bytes, fin: true });
        for (const [a, b] of extras) pieces.push({ offset: a, data: bytes.subarray(a, b), fin: false });
        // duplicates of every third piece
        pieces.push(...pieces.filter((_, i) => i % 3 === 0));
        // deterministic shuffle from the seed
        let state = seed >>> 0 || 1;
        for (let i = pieces.length - 1; i > 0; i--) {
          state = (state * 1103515245 + 12345) >>> 0;
          const j = state % (i + 1);
          [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
        }
        const r = new Reassembler({ maxAhead: 1 << 20 });
        const out: Uint8Array[] = [];
        pieces.forEach((p, i) => {
          r.insert(p.offset, p.data, p.fin);
          if (i % readEvery === 0) {
            for (let c = r.read(readMax); c !== null; c = r.read(readMax)) {
              expect(c.byteLength).toBeLessThanOrEqual(readMax);
              out.push(c);
            }
          }
        });
        out.push(readEverything(r));
        expect(Buffer.concat(out).equals(Buffer.from(bytes))).toBe(true);
        expect(r.finalSize).toBe(bytes.length);
        expect(r.isComplete).toBe(true);
        expect(r.isFinished).toBe(true);
        expect(r.bufferedBytes).toBe(0);
        expect(r.read()).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('hands out stored views without copying', () => {
    const r = new Reassembler({ maxAhead: 1000 });
    const datagram = Buffer.alloc(100, 7);
    const payload = datagram.subarray(10, 90);
    r.insert(0, payload);
    const out = r.read();
    expect(out?.buffer).toBe(datagram.buffer);
    expect(out?.byteOffset).toBe(datagram.byteOffset + 10);
  });

  it('copies a tiny piece of a large datagram so the datagram can be freed', () => {
    const r = new Reassembler({ maxAhead: 1000 });
    const datagram = new Uint8Array(1500);
    r.insert(0, datagram.subarray(0, 3));
    expect(r.read()?.buffer).not.toBe(datagram.buffer);
  });

  it('stores each offset once: a duplicate adds no buffered bytes', () => {
    const r = new Reassembler({ maxAhead: 1000 });
    r.insert(10, Buffer.alloc(10, 1));
    r.insert(5, Buffer.alloc(20, 2));
    expect(r.bufferedBytes).toBe(20);
    r.insert(0, Buffer.alloc(30, 3));
    expect(r.bufferedBytes).toBe(30);
    expect(r.readableBytes).toBe(30);
    // first received bytes win: [10, 20) stays 1s
    expect([...readEverything(r)]).toEqual([...Array(5).fill(3), ...Array(5).fill(2), ...Array(10).fill(1), ...Array(5).fill(2), ...Array(5).fill(3)]);
  });

  it('reports how much each piece raised the highest offset (flow-control credit used)', () => {
    const r = new Reassembler({ maxAhead: 1000 });
    expect(r.insert(10, new Uint8Array(10))).toBe(20);
    expect(r.insert(0, new Uint8Array(10))).toBe(0);
    expect(r.insert(15, new Uint8Array(10))).toBe(5);
    expect(r.highestOffset).toBe(25);
  });

  describe('final size (RFC 9000 §4.5)', () => {
    it('data beyond a known final size is FINAL_SIZE_ERROR', () => {
      const r = new Reassembler({ maxAhead: 1000 });
      r.insert(0, new Uint8Array(10), true);
      expectStreamError(() => r.insert(5, new Uint8Array(6)), TransportErrorCode.FINAL_SIZE_ERROR);
      expectStreamError(() => r.insert(10, new Uint8Array(1)), TransportErrorCode.FINAL_SIZE_ERROR);
      r.insert(5, new Uint8Array(5)); // within the final size: fine
      r.insert(10, new Uint8Array(0), true); // the same final size again: fine
    });

    it('a changed final size is FINAL_SIZE_ERROR', () => {
      const r = new Reassembler({ maxAhead: 1000 });
      r.insert(0, new Uint8Array(10), true);
      expectStreamError(() => r.insert(0, new Uint8Array(9), true), TransportErrorCode.FINAL_SIZE_ERROR);
      expectStreamError(() => r.setFinalSize(11), TransportErrorCode.FINAL_SIZE_ERROR);
    });

    it('a final size below data already received is FINAL_SIZE_ERROR', () => {
      const r = new Reassembler({ maxAhead: 1000 });
      r.insert(20, new Uint8Array(10));
      expectStreamError(() => r.insert(0, new Uint8Array(10), true), TransportErrorCode.FINAL_SIZE_ERROR);
      expectStreamError(() => r.setFinalSize(29), TransportErrorCode.FINAL_SIZE_ERROR);
      expect(r.setFinalSize(30)).toBe(0);
      expect(r.finalSize).toBe(30);
    });

    it('CRYPTO data has no final size', () => {
      const r = new Reassembler({ maxAhead: 1000, hasFinalSize: false });
      r.insert(0, new Uint8Array(10), true);
      r.insert(10, new Uint8Array(10));
      expect(r.finalSize).toBeUndefined();
      expect(r.readableBytes).toBe(20);
    });
  });

  describe('bounds', () => {
    it('data past read offset + maxAhead is refused with the configured error', () => {
      const stream = new Reassembler({ maxAhead: 100 });
      stream.insert(0, new Uint8Array(100));
      expectStreamError(() => stream.insert(100, new Uint8Array(1)), TransportErrorCode.FLOW_CONTROL_ERROR);
      stream.read(50);
      stream.insert(100, new Uint8Array(50)); // the read moved the bound

      const crypto = new Reassembler({
        maxAhead: 4096,
        hasFinalSize: false,
        limitError: { code: TransportErrorCode.CRYPTO_BUFFER_EXCEEDED, section: 'RFC 9000 §7.5' },
      });
      expectStreamError(() => crypto.insert(4000, new Uint8Array(97)), TransportErrorCode.CRYPTO_BUFFER_EXCEEDED);
    });

    it('a CRYPTO buffer holds at least 4096 bytes out of order, then CRYPTO_BUFFER_EXCEEDED (RFC 9000 §7.5)', () => {
      const crypto = createCryptoReassembler(1000);
      crypto.insert(100, new Uint8Array(3996)); // up to 4096: must be accepted
      expectStreamError(() => crypto.insert(4096, new Uint8Array(1)), TransportErrorCode.CRYPTO_BUFFER_EXCEEDED);
      crypto.insert(0, new Uint8Array(100));
      expect(crypto.readAll()?.byteLength).toBe(4096);
      crypto.insert(4096, new Uint8Array(4096), true); // the fin bit means nothing for CRYPTO
      expect(crypto.finalSize).toBeUndefined();
    });

    it('too many separate pieces are refused (RFC 9000 §21.7)', () => {
      const r = new Reassembler({ maxAhead: 1 << 20, maxPieces: 8 });
      for (let i = 1; i <= 8; i++) r.insert(i * 10, new Uint8Array(1));
      expectStreamError(() => r.insert(100, new Uint8Array(1)), TransportErrorCode.PROTOCOL_VIOLATION);
    });

    it('thousands of full packets behind one lost packet are kept, not taken for an attack (§21.7)', () => {
      // A sender's window of 3,000 packets of 1,400 stream bytes; the first packet is lost.
      const r = new Reassembler({ maxAhead: 8 << 20 });
      const stream = Buffer.alloc(3001 * 1400);
      for (let i = 0; i < stream.length; i++) stream[i] = i % 251;
      for (let n = 1; n <= 3000; n++) r.insert(n * 1400, stream.subarray(n * 1400, (n + 1) * 1400));
      expect(r.readableBytes).toBe(0);
      r.insert(0, stream.subarray(0, 1400));
      expect(Buffer.compare(readEverything(r), stream)).toBe(0);
    });

    it(`large pieces do not count against maxPieces; the small ones (under ${SMALL_PIECE_BYTES} bytes) do (§21.7)`, () => {
      const r = new Reassembler({ maxAhead: 1 << 20, maxPieces: 8 });
      // Twelve pieces of 1,000 bytes, each behind a gap: more pieces than maxPieces, all large.
      for (let i = 1; i <= 12; i++) r.insert(i * 2000, new Uint8Array(1000));
      // Eight one-byte pieces fit beside them, however large the average stays; the ninth is refused.
      for (let k = 0; k < 8; k++) r.insert(100_000 + k * 10, new Uint8Array(1));
      expectStreamError(() => r.insert(100_000 + 8 * 10, new Uint8Array(1)), TransportErrorCode.PROTOCOL_VIOLATION);
    });

    it(`a large piece read in part below ${SMALL_PIECE_BYTES} bytes counts as small (§21.7)`, () => {
      const r = new Reassembler({ maxAhead: 1 << 20, maxPieces: 2 });
      r.insert(0, new Uint8Array(1000));
      r.insert(2000, new Uint8Array(1)); // small: 1 of 2
      expect(r.read(600)?.byteLength).toBe(600); // the first piece is 400 bytes now: 2 of 2
      expectStreamError(() => r.insert(3000, new Uint8Array(1)), TransportErrorCode.PROTOCOL_VIOLATION);
    });

    it('offset + length beyond 2^62-1 is FRAME_ENCODING_ERROR (RFC 9000 §19.8)', () => {
      const r = new Reassembler({ maxAhead: Number.MAX_SAFE_INTEGER });
      expectStreamError(() => r.insert(2 ** 62, new Uint8Array(1)), TransportErrorCode.FRAME_ENCODING_ERROR);
      expectStreamError(() => r.insert(-1, new Uint8Array(1)), TransportErrorCode.FRAME_ENCODING_ERROR);
    });

    it('hostile pieces give a StreamError or nothing, and buffered bytes stay within the bound', () => {
      const piece = fc.record({
        offset: fc.oneof(fc.nat(3000), fc.constant(2 ** 62), fc.nat()),
        length: fc.nat(600),
        fin: fc.boolean(),
        read: fc.boolean(),
      });
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
          const r = new Reassembler({ maxAhead: 2048, maxPieces: 16 });
          for (const p of pieces) {
            try {
              r.insert(p.offset, new Uint8Array(p.length), p.fin);
            } catch (err) {
              expect(err).toBeInstanceOf(StreamError);
              return;
            }
            if (p.read) r.read(100);
            expect(r.bufferedBytes).toBeLessThanOrEqual(2048);
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  it('skipTo drops buffered data and moves the read offset', () => {
    const r = new Reassembler({ maxAhead: 1000 });
    r.insert(0, new Uint8Array(10));
    r.insert(20, new Uint8Array(10));
    expect(r.skipTo(30)).toBe(30);
    expect(r.bufferedBytes).toBe(0);
    expect(r.read()).toBeNull();
    r.insert(30, Buffer.from('abc'));
    expect(Buffer.from(r.read()!).toString()).toBe('abc');
  });
});

describe('small pieces of large datagrams (RFC 9000 §21.7)', () => {
  const datagram = () => Buffer.alloc(1400, 7); // each its own buffer, as decrypted packets are
  const small = (d: Buffer, at = 100, n = 20) => d.subarray(at, at + n);

  it('are copied on arrival by default, so that the datagram can be freed', () => {
    const r = new Reassembler({ maxAhead: 1 << 20 });
    const d = datagram();
    r.insert(0, small(d));
    expect(r.pinnedBytes).toBe(0);
    expect(r.read()!.buffer).not.toBe(d.buffer);
  });

  it('when borrowing: kept as views and counted as pinning their buffers until read', () => {
    const r = new Reassembler({ maxAhead: 1 << 20, borrowSmallPieces: true });
    const d1 = datagram();
    const d2 = datagram();
    r.insert(0, small(d1));
    r.insert(40, small(d2)); // after a gap
    expect(r.pinnedBytes).toBe(2800);
    const first = r.read()!;
    expect(first.buffer).toBe(d1.buffer); // read in the same pass: never copied
    expect(r.pinnedBytes).toBe(1400);
    r.insert(20, small(d1, 0)); // fills the gap
    expect(r.pinnedBytes).toBe(2800);
    r.skipTo(60);
    expect(r.pinnedBytes).toBe(0);
  });

  it('when borrowing: adoptBorrowed copies what is still stored and pins nothing', () => {
    const r = new Reassembler({ maxAhead: 1 << 20, borrowSmallPieces: true });
    const d = datagram();
    d.fill(1, 100, 120);
    r.insert(0, small(d));
    r.insert(30, Buffer.alloc(100, 2)); // not a small view: never counted
    expect(r.pinnedBytes).toBe(1400);
    r.adoptBorrowed();
    expect(r.pinnedBytes).toBe(0);
    d.fill(9); // the datagram may be reused or freed now
    const out = r.read()!;
    expect(out.buffer).not.toBe(d.buffer);
    expect(Buffer.from(out).equals(Buffer.alloc(20, 1))).toBe(true);
  });

  it('when borrowing: the same bytes as copying, and pinned buffers are let go by read, skip and adopt (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), offset: fc.nat(300), length: fc.integer({ min: 1, max: 150 }), at: fc.nat(1200) }),
      fc.record({ kind: fc.constant('read' as const), max: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant('adopt' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const source = Buffer.from(Array.from({ length: 600 }, (_, i) => i % 251));
        const borrowing = new Reassembler({ maxAhead: 1 << 20, borrowSmallPieces: true });
        const copying = new Reassembler({ maxAhead: 1 << 20 });
        const adopted = new Set<ArrayBufferLike>(); // datagrams of pieces stored before an adopt
        const stored = new Set<ArrayBufferLike>();
        for (const o of ops) {
          if (o.kind === 'insert') {
            // The piece sits at `at` inside a datagram of its own: at most 150 B of 1400+ B is small.
            const d = Buffer.alloc(1400 + o.length);
            source.copy(d, o.at, o.offset, o.offset + o.length);
            const piece = d.subarray(o.at, o.at + Math.min(o.length, 600 - o.offset));
            if (piece.byteLength === 0) continue;
            borrowing.insert(o.offset, piece);
            copying.insert(o.offset, Buffer.from(piece));
            stored.add(d.buffer);
            if (borrowing.bufferedBytes > 0 && piece.byteLength < borrowing.bufferedBytes) {
              // Each stored small view counts its whole datagram (a piece cut by gaps, once a part).
              expect(borrowing.pinnedBytes).toBeLessThanOrEqual(borrowing.bufferedBytes * (1400 + 150));
            }
          } else if (o.kind === 'read') {
            const a = borrowing.read(o.max);
            const b = copying.read(o.max);
            if (a !== null) expect(adopted.has(a.buffer)).toBe(false);
            expect(a === null ? null : Buffer.from(a)).toEqual(b === null ? null : Buffer.from(b));
          } else {
            borrowing.adoptBorrowed();
            expect(borrowing.pinnedBytes).toBe(0);
            for (const b of stored) adopted.add(b);
            stored.clear();
          }
          expect(borrowing.bufferedBytes).toBe(copying.bufferedBytes);
          expect(borrowing.pinnedBytes).toBeGreaterThanOrEqual(0);
        }
        if (borrowing.bufferedBytes === 0) expect(borrowing.pinnedBytes).toBe(0);
        borrowing.adoptBorrowed();
        expect(borrowing.pinnedBytes).toBe(0);
        expect(readEverything(borrowing).equals(readEverything(copying))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
