/**
 * The sender's table of packets in flight (RFC 9002 Appendix A.1): which packets an ACK frame's
 * ranges remove, whatever the ranges and whatever is outstanding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ACK_ONLY_RECORDS, MAX_SPAN, SentPacketTable, type SentPacket } from '../../../src/quic/recovery/sent-packets.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

function packet(pn: number): SentPacket<null> {
  return { packetNumber: pn, space: PacketNumberSpace.ApplicationData, timeSent: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, path: 0, payload: null };
}

/** Disjoint ranges, highest first, with gaps between them (the shape an ACK frame carries, RFC 9000 §19.3.1). */
const rangesArb = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 8 })
  .map((parts) => {
    const ranges: [number, number][] = [];
    let next = 0;
    for (const [gap, length] of parts) {
      const start = next + gap - 1;
      ranges.unshift([start, start + length]);
      next = start + length + 2;
    }
    return ranges;
  });

describe('SentPacketTable.removeAcked', () => {
  it('removes exactly the outstanding packets inside the ranges, in ascending order (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { maxLength: 200 }), rangesArb, (sentRaw, ranges) => {
        const sent = [...sentRaw].sort((a, b) => a - b);
        const table = new SentPacketTable<null>();
        for (const pn of sent) table.add(packet(pn));
        const inside = (pn: number): boolean => ranges.some(([s, e]) => pn >= s && pn <= e);
        const acked = table.removeAcked(ranges).map((p) => p.packetNumber);
        expect(acked).toEqual(sent.filter(inside));
        expect([...table.values()].map((p) => p.packetNumber)).toEqual(sent.filter((pn) => !inside(pn)));
        expect(table.ackElicitingInFlight).toBe(sent.length - acked.length);
      }),
      { numRuns: 400 },
    );
  });

  it('an ACK of old ranges plus the oldest packets in flight leaves the later flight alone', () => {
    const table = new SentPacketTable<null>();
    for (let pn = 1000; pn < 1300; pn++) table.add(packet(pn));
    // Everything up to 1003 acknowledged, reported as one wide range from long ago.
    const acked = table.removeAcked([[0, 1003]]);
    expect(acked.map((p) => p.packetNumber)).toEqual([1000, 1001, 1002, 1003]);
    expect(table.size).toBe(296);
    expect(table.oldest()?.packetNumber).toBe(1004);
  });
});

describe('SentPacketTable against a model (sends, skips, ACKs, losses)', () => {
  type Op = { kind: 'send'; skip: boolean; ackEliciting: boolean } | { kind: 'ack'; back: number; width: number } | { kind: 'lose' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('send' as const), skip: fc.boolean(), ackEliciting: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('ack' as const), back: fc.nat(12), width: fc.nat(6) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('lose' as const) }) },
  );

  function check(ops: Op[]): void {
    const table = new SentPacketTable<null>();
    const model = new Map<number, SentPacket<null>>();
    let next = 0;
    for (const op of ops) {
      if (op.kind === 'send') {
        if (op.skip) table.skip(next++);
        const p = { ...packet(next++), ackEliciting: op.ackEliciting };
        table.add(p);
        model.set(p.packetNumber, p);
      } else if (op.kind === 'ack') {
        const end = Math.max(0, next - 1 - op.back);
        const start = Math.max(0, end - op.width);
        const expected = [...model.keys()].filter((pn) => pn >= start && pn <= end);
        const skipped = table.skippedIn([[start, end]]);
        if (skipped !== undefined) continue; // the caller refuses such an ACK (RFC 9000 §21.4)
        expect(table.removeAcked([[start, end]]).map((p) => p.packetNumber)).toEqual(expected);
        for (const pn of expected) model.delete(pn);
      } else {
        const oldest = table.oldest();
        expect(oldest?.packetNumber).toBe(model.keys().next().value);
        if (oldest !== undefined) {
          table.remove(oldest);
          table.remove(oldest); // twice: the second changes nothing
          model.delete(oldest.packetNumber);
        }
      }
      expect(table.size).toBe(model.size);
      expect([...table.values()]).toEqual([...model.values()]);
      expect(table.oldest()).toBe(model.values().next().value);
      expect(table.ackElicitingInFlight).toBe([...model.values()].filter((p) => p.ackEliciting).length);
    }
  }

  it('agrees on outstanding packets, order, oldest and ack-eliciting count (property)', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => check(ops)), { numRuns: 300 });
  });

  it('keeps agreeing over a long transfer acknowledged in order (the array is compacted as it goes)', () => {
    const ops: Op[] = [];
    for (let i = 0; i < 6000; i++) {
      ops.push({ kind: 'send', skip: i % 997 === 0, ackEliciting: true });
      if (i % 10 === 9) ops.push({ kind: 'ack', back: 3, width: 12 });
    }
    const table = new SentPacketTable<null>();
    let next = 0;
    for (const op of ops) {
      if (op.kind === 'send') {
        if (op.skip) table.skip(next++);
        table.add(packet(next++));
      } else if (op.kind === 'ack') {
        const end = next - 1 - op.back;
        table.removeAcked([[end - op.width, end]].filter(([, e]) => e >= 0) as [number, number][]);
      }
    }
    // Only the packets above the last acknowledged range remain, in order.
    expect([...table.values()].map((p) => p.packetNumber)).toEqual([next - 3, next - 2, next - 1]);
    expect(table.size).toBe(3);
    check(ops.slice(0, 2500));
  });
});

describe('SentPacketTable: ACK-only records are bounded (MAX_ACK_ONLY_RECORDS)', () => {
  const kinds = [
    { ackEliciting: true, inFlight: true }, // STREAM, PING…
    { ackEliciting: false, inFlight: false }, // ACK only
    { ackEliciting: false, inFlight: true }, // ACK and PADDING (RFC 9002 §2: in flight)
  ] as const;
  const sentAs = (pn: number, kind: number): SentPacket<null> => ({ ...packet(pn), ...kinds[kind]! });

  it('keeps every other packet and the newest ACK-only ones, whatever is sent and acknowledged (property)', () => {
    // Each step sends one packet of a kind and, sometimes, acknowledges a range near the top.
    const stepArb = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.option(fc.tuple(fc.nat(60), fc.nat(20)), { freq: 8 }));
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 300, maxLength: 1500 }), fc.boolean(), (steps, ackOnlyHeavy) => {
        const table = new SentPacketTable<null>();
        let model: SentPacket<null>[] = [];
        steps.forEach(([kind, ack], pn) => {
          const p = sentAs(pn, ackOnlyHeavy && kind === 0 ? 1 : kind);
          table.add(p);
          model.push(p);
          const ackOnly = model.filter((q) => !q.ackEliciting && !q.inFlight);
          if (ackOnly.length > MAX_ACK_ONLY_RECORDS) model = model.filter((q) => q !== ackOnly[0]);
          if (ack !== null) {
            const end = Math.max(0, pn - ack[0]);
            const start = Math.max(0, end - ack[1]);
            const acked = table.removeAcked([[start, end]]);
            expect(acked).toEqual(model.filter((q) => q.packetNumber >= start && q.packetNumber <= end));
            model = model.filter((q) => q.packetNumber < start || q.packetNumber > end);
          }
          expect(table.ackOnlySize).toBeLessThanOrEqual(MAX_ACK_ONLY_RECORDS);
        });
        expect([...table.values()]).toEqual(model);
        expect(table.size).toBe(model.length);
        expect(table.ackOnlySize).toBe(model.filter((q) => !q.ackEliciting && !q.inFlight).length);
        expect(table.ackElicitingInFlight).toBe(model.filter((q) => q.ackEliciting && q.inFlight).length);
      }),
      { numRuns: 60 },
    );
  });

  it('a peer that acknowledges nothing: 10,000 ACK-only packets behind an unacknowledged PING leave the bound', () => {
    const table = new SentPacketTable<null>();
    table.add(sentAs(0, 0));
    for (let pn = 1; pn <= 10_000; pn++) table.add(sentAs(pn, pn % 20 === 0 ? 0 : 1));
    expect(table.ackOnlySize).toBe(MAX_ACK_ONLY_RECORDS);
    // The ack-eliciting ones all stay (RFC 9002: in flight until acknowledged or declared lost).
    expect(table.ackElicitingInFlight).toBe(1 + 500);
    expect(table.size).toBe(MAX_ACK_ONLY_RECORDS + 501);
    const kept = [...table.values()].filter((p) => !p.ackEliciting).map((p) => p.packetNumber);
    expect(kept[0]).toBeGreaterThan(10_000 - 300); // the newest ones
    expect(kept.at(-1)).toBe(9_999);
  });
});

describe('SentPacketTable: a packet never acknowledged does not make the array grow (MAX_SPAN)', () => {
  const ackOnly = (pn: number): SentPacket<null> => ({ ...packet(pn), ackEliciting: false, inFlight: false });
  const padded = (pn: number): SentPacket<null> => ({ ...packet(pn), ackEliciting: false, inFlight: true });
  const isAckOnly = (p: SentPacket<null>): boolean => !p.ackEliciting && !p.inFlight;

  it('agrees with a list of what is outstanding, with any span, sends, ACKs and losses (property)', () => {
    const stepArb = fc.oneof(
      fc.record({ send: fc.integer({ min: 0, max: 2 }), skip: fc.boolean() }),
      fc.record({ ackBack: fc.nat(80), width: fc.nat(30) }),
      fc.record({ lose: fc.nat(100) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 64 }), fc.array(stepArb, { minLength: 50, maxLength: 400 }), (maxSpan, steps) => {
        const table = new SentPacketTable<null>(maxSpan);
        let model: SentPacket<null>[] = []; // every packet sent and neither acknowledged nor lost
        let next = 0;
        for (const step of steps) {
          const before = [...table.values()];
          if ('send' in step) {
            if (step.skip) table.skip(next++);
            const pn = next++;
            const p = step.send === 0 ? packet(pn) : step.send === 1 ? ackOnly(pn) : padded(pn);
            table.add(p);
            model.push(p);
          } else if ('ackBack' in step) {
            const end = Math.max(0, next - 1 - step.ackBack);
            const start = Math.max(0, end - step.width);
            const inside = (p: SentPacket<null>): boolean => p.packetNumber >= start && p.packetNumber <= end;
            expect(table.removeAcked([[start, end]])).toEqual(before.filter(inside));
            model = model.filter((p) => !inside(p));
          } else if (before.length > 0) {
            const p = before[step.lose % before.length]!;
            table.remove(p);
            model = model.filter((q) => q !== p);
          }
          const held = [...table.values()];
          // Ascending, and exactly the outstanding packets, less some ACK-only records (at most 256 kept).
          expect(held.map((p) => p.packetNumber)).toEqual([...held.map((p) => p.packetNumber)].sort((a, b) => a - b));
          expect(held.filter((p) => !isAckOnly(p))).toEqual(model.filter((p) => !isAckOnly(p)));
          expect(held.filter(isAckOnly).every((p) => model.includes(p))).toBe(true);
          expect(table.ackOnlySize).toBe(held.filter(isAckOnly).length);
          expect(table.ackOnlySize).toBeLessThanOrEqual(MAX_ACK_ONLY_RECORDS);
          expect(table.size).toBe(held.length);
          expect(table.oldest()).toBe(held[0]);
          expect(table.ackElicitingInFlight).toBe(held.filter((p) => p.ackEliciting && p.inFlight).length);
          // After a send the array is within the span (give or take a skipped number and the new
          // packet) or at least half full (ACKs and losses may empty slots until the next send).
          if ('send' in step) expect(table.span <= maxSpan + 2 || table.span <= 2 * held.length + 2).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('100,000 ACK-only packets behind unacknowledged PINGs: the array stays within MAX_SPAN, and an ACK still empties it', () => {
    const table = new SentPacketTable<null>();
    for (let pn = 0; pn < 100_000; pn++) table.add(pn % 1000 === 0 ? packet(pn) : ackOnly(pn));
    expect(table.span).toBeLessThanOrEqual(MAX_SPAN);
    expect(table.ackElicitingInFlight).toBe(100);
    expect(table.size).toBeLessThanOrEqual(100 + MAX_ACK_ONLY_RECORDS);
    expect(table.oldest()?.packetNumber).toBe(0);
    const pings = [...table.values()].filter((p) => p.ackEliciting).map((p) => p.packetNumber);
    expect(pings).toEqual(Array.from({ length: 100 }, (_, i) => i * 1000));
    // The peer finally acknowledges some of them, then everything.
    expect(table.removeAcked([[5000, 5000], [0, 0]]).map((p) => p.packetNumber)).toEqual([0, 5000]);
    expect(table.oldest()?.packetNumber).toBe(1000);
    table.removeAcked([[0, 99_999]]);
    expect(table.size).toBe(0);
    expect(table.ackElicitingInFlight).toBe(0);
    expect([...table.values()]).toEqual([]);
  });
});
