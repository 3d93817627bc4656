/**
 * RequestBody (src/core/body.ts): what waits in the queue. A small view of a large buffer — a few
 * bytes of a decrypted QUIC packet, of a socket read — waits as a copy, so a peer that sends tiny
 * pieces to a handler that does not read cannot make each queued byte hold a whole packet
 * (the principle of RFC 9000 §21.7); larger chunks wait as they are, uncopied.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RequestBody } from '../../src/core/body.js';

async function drain(body: RequestBody): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of body) out.push(chunk);
  return out;
}

describe('RequestBody keeps no large buffer alive for a small chunk', () => {
  it('a 10-byte view of a 1,400-byte packet is queued as a copy; the packet can change after', async () => {
    const packet = Buffer.alloc(1400, 0x61);
    const body = new RequestBody(64 * 1024);
    body.push(packet.subarray(100, 110));
    body.end();
    packet.fill(0x7a);
    const [chunk] = await drain(body);
    expect(Buffer.from(chunk!).toString()).toBe('a'.repeat(10));
    expect(chunk!.buffer).not.toBe(packet.buffer);
  });

  it('a chunk that is most of its buffer is queued as it is', async () => {
    const data = Buffer.allocUnsafeSlow(1000).fill(1);
    const body = new RequestBody(64 * 1024);
    body.push(data.subarray(0, 900));
    body.end();
    const [chunk] = await drain(body);
    expect(chunk!.buffer).toBe(data.buffer);
  });

  it('whatever the views, the handler reads the same bytes, and no small chunk shares its sender\'s buffer (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ size: fc.integer({ min: 1, max: 4000 }), start: fc.nat(), length: fc.integer({ min: 1, max: 4000 }) }), { minLength: 1, maxLength: 20 }),
      async (pieces) => {
        const body = new RequestBody(1 << 30);
        const sent: Buffer[] = [];
        const sources: Buffer[] = [];
        for (const { size, start, length } of pieces) {
          const source = Buffer.allocUnsafeSlow(size);
          for (let i = 0; i < size; i++) source[i] = (i * 7 + size) & 0xff;
          const from = start % size;
          const view = source.subarray(from, Math.min(size, from + length));
          sent.push(Buffer.from(view));
          sources.push(source);
          body.push(view);
        }
        body.end();
        const read = await drain(body);
        expect(Buffer.concat(read).equals(Buffer.concat(sent))).toBe(true);
        read.forEach((chunk, i) => {
          if (chunk.byteLength * 8 < sources[i]!.byteLength) expect(chunk.buffer).not.toBe(sources[i]!.buffer);
        });
      },
    ), { numRuns: 200 });
  });
});
