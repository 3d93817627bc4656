/**
 * Review (session 3): Reassembler.keep() meant to copy a small piece out of a large received
 * buffer so that the buffer can be freed (RFC 9000 §21.7), but Buffer.prototype.slice() returns a
 * view: every buffered byte behind a gap pinned its whole datagram (1,425 B per byte with
 * 1,452-byte datagrams, 64 KB per byte with jumbo ones).
 */
import { describe, expect, it } from 'vitest';
import { Reassembler } from '../../../src/quic/stream/reassembly.js';

describe('Reassembler.keep(): small pieces of large Buffers are copied (RFC 9000 §21.7)', () => {
  for (const payload of [1425, 65_500]) {
    it(`1- and 5-byte pieces of ${payload}-byte Buffers own their bytes; most of a buffer stays a view`, () => {
      const r = new Reassembler({ maxAhead: 1 << 20 });
      const ahead = Buffer.alloc(payload, 9);
      const front = Buffer.alloc(payload, 7);
      const bulk = Buffer.alloc(payload, 5);
      r.insert(5, ahead.subarray(100, 101)); // after a gap: the append path
      r.insert(0, front.subarray(10, 15)); // in front: the merge path
      r.insert(6, bulk.subarray(20)); // most of its buffer: stays a view
      const pieces = [r.read()!, r.read()!, r.read()!];
      expect(pieces.map((p) => p.byteLength)).toEqual([5, 1, payload - 20]);
      expect(Buffer.from(pieces[0]!).equals(Buffer.alloc(5, 7))).toBe(true);
      expect(pieces[1]![0]).toBe(9);
      for (const small of pieces.slice(0, 2)) {
        expect(small.buffer).not.toBe(front.buffer);
        expect(small.buffer).not.toBe(ahead.buffer);
        expect(small.buffer.byteLength).toBeLessThan(8 * 64);
      }
      expect(pieces[2]!.buffer).toBe(bulk.buffer);
    });
  }
});
