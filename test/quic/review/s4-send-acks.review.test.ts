/**
 * Review of 06c4e02 (send stream: the acked RangeSet holds only ranges ahead of the acknowledged
 * prefix). A per-byte model of a sending stream with writes interleaved with sending, ACKs of any
 * sent frame (retransmissions and ranges straddling the prefix included), repeats, losses, end()
 * and reset: RFC 9000 §13.3 (only unacknowledged bytes are retransmitted, and all of them are),
 * §3.1 (Data Recvd exactly when every byte and the fin are acknowledged), §4.5 (final size), and
 * bufferedBytes (what Connection's buffered total follows) = written - acknowledged prefix.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SendState, SendStream, type StreamChunk } from '../../../src/quic/stream/send-stream.js';

const byteAt = (i: number) => (i * 31 + 7) & 0xff;

function pattern(start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = byteAt(i);
  return out;
}

type Op =
  | { kind: 'write'; n: number }
  | { kind: 'end' }
  | { kind: 'send'; max: number }
  | { kind: 'ack'; pick: number }
  | { kind: 'lost'; pick: number; resend: number }
  | { kind: 'reset' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('write' as const), n: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'end' }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), max: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('ack' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lost' as const), pick: fc.nat(), resend: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'reset' }) },
);

class Model {
  readonly acked: number[] = [];
  written = 0;
  ended = false;
  finAcked = false;
  reset = false;

  prefix(): number {
    const i = this.acked.indexOf(0);
    return i === -1 ? this.written : i;
  }
}

describe('SendStream acknowledgments against a per-byte model (review of 06c4e02)', () => {
  it('counts, memory, retransmissions and Data Recvd follow the model for any interleaving', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.boolean(), (ops, finish) => {
        const s = new SendStream({ streamId: 0, initialCredit: 1 << 20 });
        const m = new Model();
        const sent: StreamChunk[] = [];
        let sentEnd = 0;

        const checkFrame = (c: StreamChunk): void => {
          const end = c.offset + c.data.byteLength;
          expect(Buffer.from(c.data).equals(Buffer.from(pattern(c.offset, end)))).toBe(true);
          // RFC 9000 §13.3: what is sent again is never already acknowledged.
          if (c.offset < sentEnd) for (let i = c.offset; i < Math.min(end, sentEnd); i++) expect(m.acked[i]).toBe(0);
          if (c.fin) {
            expect(m.ended).toBe(true);
            expect(end).toBe(m.written);
          }
          sentEnd = Math.max(sentEnd, end);
          sent.push(c);
        };

        const ack = (c: StreamChunk): void => {
          const end = c.offset + c.data.byteLength;
          let fresh = 0;
          if (!m.reset && s.state !== SendState.DataRecvd) {
            for (let i = c.offset; i < end; i++) if (m.acked[i] === 0) { m.acked[i] = 1; fresh++; }
          }
          expect(s.onAck(c.offset, c.data.byteLength, c.fin)).toBe(fresh);
          if (c.fin) m.finAcked = true;
        };

        // Half the picks among the last few frames, so that losses, retransmissions in smaller
        // frames and ACKs of the original (overlapping ranges acknowledged ahead) meet often.
        const pickFrame = (pick: number): StreamChunk =>
          pick % 2 === 0 ? sent[(pick >>> 1) % sent.length]! : sent[sent.length - 1 - ((pick >>> 1) % Math.min(6, sent.length))]!;

        const check = (): void => {
          if (m.reset) {
            expect(s.bufferedBytes).toBe(0);
            return;
          }
          const allAcked = m.ended && m.finAcked && m.prefix() === m.written;
          expect(s.state === SendState.DataRecvd).toBe(allAcked);
          expect(s.bufferedBytes).toBe(allAcked ? 0 : m.written - m.prefix());
        };

        for (const o of ops) {
          switch (o.kind) {
            case 'write':
              if (m.ended || m.reset) break;
              s.write(pattern(m.written, m.written + o.n));
              for (let i = 0; i < o.n; i++) m.acked.push(0);
              m.written += o.n;
              break;
            case 'end':
              if (m.reset) break;
              s.end();
              m.ended = true;
              break;
            case 'send':
              for (let c = s.nextChunk(o.max); c !== null; c = s.nextChunk(o.max)) checkFrame(c);
              if (m.reset) expect(s.nextChunk(o.max)).toBeNull();
              break;
            case 'ack':
              if (sent.length > 0) ack(pickFrame(o.pick));
              break;
            case 'lost':
              if (sent.length > 0) {
                const c = pickFrame(o.pick);
                s.onLost(c.offset, c.data.byteLength, c.fin);
                // Sent again at once in small frames (resend 0: later, with the next 'send'), so
                // that ACKs of the original frame overlap ranges acknowledged ahead of the prefix.
                if (o.resend > 0) for (let r = s.nextChunk(o.resend); r !== null; r = s.nextChunk(o.resend)) checkFrame(r);
              }
              break;
            case 'reset':
              if (s.state === SendState.DataRecvd) break;
              s.reset(1);
              m.reset = true;
              break;
          }
          check();
        }

        if (!finish || m.reset) return;
        // Completion: end the stream, then lose everything outstanding and acknowledge what comes
        // back until nothing is owed. Every unacknowledged byte must come back (RFC 9000 §13.3).
        s.end();
        m.ended = true;
        for (let c = s.nextChunk(64); c !== null; c = s.nextChunk(64)) checkFrame(c);
        for (let round = 0; round < 4 && s.state !== SendState.DataRecvd; round++) {
          for (const c of sent) s.onLost(c.offset, c.data.byteLength, c.fin);
          const again: StreamChunk[] = [];
          const before = sent.length;
          for (let c = s.nextChunk(64); c !== null; c = s.nextChunk(64)) checkFrame(c);
          again.push(...sent.slice(before));
          const covered = new Uint8Array(m.written);
          for (const c of again) covered.fill(1, c.offset, c.offset + c.data.byteLength);
          for (let i = 0; i < m.written; i++) if (m.acked[i] === 0) expect(covered[i]).toBe(1);
          for (const c of again) ack(c);
          if (!m.finAcked) expect(again.some((c) => c.fin)).toBe(true);
          check();
        }
        expect(s.state).toBe(SendState.DataRecvd);
        expect(s.bufferedBytes).toBe(0);
        // Repeated ACKs after Data Recvd count nothing.
        for (const c of sent) expect(s.onAck(c.offset, c.data.byteLength, c.fin)).toBe(0);
      }),
      { numRuns: 400 },
    );
  });

  it('an ACK straddling the prefix and two ranges ahead counts only the bytes between them', () => {
    const s = new SendStream({ streamId: 0, initialCredit: 1 << 20 });
    s.write(pattern(0, 100));
    s.end();
    while (s.nextChunk(10) !== null);
    expect(s.onAck(0, 10, false)).toBe(10);
    expect(s.onAck(30, 10, false)).toBe(10);
    expect(s.onAck(60, 10, false)).toBe(10);
    // A retransmission from 5 to 65 (e.g. one larger frame after loss): new are 10..30, 40..60.
    expect(s.onAck(5, 60, false)).toBe(40);
    expect(s.bufferedBytes).toBe(30); // prefix now at 70
    s.onLost(0, 100, true);
    const c = s.nextChunk(100)!;
    expect([c.offset, c.data.byteLength, c.fin]).toEqual([70, 30, true]);
    expect(s.nextChunk(100)).toBeNull();
    expect(s.onAck(70, 30, true)).toBe(30);
    expect(s.state).toBe(SendState.DataRecvd);
  });
});
