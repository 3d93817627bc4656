/**
 * Handshake message framing and reassembly (RFC 8446 §4 header; RFC 9001 §4.1.3: CRYPTO data
 * arrives in order but split anywhere): split invariance, the size limit checked on the header,
 * and independence from the caller's buffer once receive() returns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TlsAlert } from '../../../src/quic/tls/alerts.js';
import { encodeHandshake, HandshakeReader } from '../../../src/quic/tls/framing.js';

const message = fc.record({ type: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 300 }) });

function readAll(reader: HandshakeReader): { type: number; body: string }[] {
  const out = [];
  for (let m = reader.next(); m; m = reader.next()) out.push({ type: m.type, body: Buffer.from(m.body).toString('hex') });
  return out;
}

describe('HandshakeReader', () => {
  it('yields the same messages however the stream is split, and keeps nothing after the last one', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (messages, cutPoints) => {
        const stream = Buffer.concat(messages.map((m) => encodeHandshake(m.type, m.body)));
        const cuts = [...new Set(cutPoints.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new HandshakeReader();
        const got: { type: number; body: string }[] = [];
        let from = 0;
        for (const to of [...cuts, stream.length]) {
          reader.push(stream.subarray(from, to));
          got.push(...readAll(reader));
          reader.detach();
          from = to;
        }
        expect(got).toEqual(messages.map((m) => ({ type: m.type, body: Buffer.from(m.body).toString('hex') })));
        expect(reader.pendingBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a declared length over the limit from the header alone', () => {
    const reader = new HandshakeReader(1000);
    reader.push(Buffer.from([1, 0, 0x03, 0xe9]));
    expect(() => reader.next()).toThrow(TlsAlert);
    const ok = new HandshakeReader(1000);
    ok.push(Buffer.from([1, 0, 0x03, 0xe8]));
    expect(ok.next()).toBeUndefined(); // 1000 bytes allowed, waiting for them
  });

  it('keeps its own copy of an incomplete tail after detach()', () => {
    const reader = new HandshakeReader();
    const packet = encodeHandshake(20, Buffer.alloc(32, 0xaa));
    reader.push(packet.subarray(0, 10));
    reader.detach();
    packet.fill(0, 0, 10); // the caller reuses its buffer
    reader.push(Buffer.concat([encodeHandshake(20, Buffer.alloc(32, 0xaa)).subarray(10)]));
    expect(reader.next()?.body.equals(Buffer.alloc(32, 0xaa))).toBe(true);
  });
});
