/**
 * Review of the bound on ACK-only records (issue 5, commit 6b568ed) where it meets the rest of the
 * table: the array indexed by packet number is compacted (its head passes 1024 slots) while
 * ACK-only records are being forgotten, packets move below the array once it spans too many
 * slots (4f42d23), packet numbers are skipped (RFC 9000 §21.4), and ACKs arrive in any order. Checked against a plain model: an ack-eliciting or in-flight packet is never
 * dropped (RFC 9002 §2: they count for congestion control and PTO), only the oldest ACK-only
 * records go (RFC 9000 §13.2.4: the newest ones carry the largest ACK ranges) — or all of the
 * array's when its packets move below it — and the counters stay right.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ACK_ONLY_RECORDS, SentPacketTable, type SentPacket } from '../../../src/quic/recovery/sent-packets.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

type Kind = 'eliciting' | 'ack-only' | 'padded' | 'probe';

function sent(pn: number, kind: Kind): SentPacket<Kind> {
  return {
    packetNumber: pn,
    space: PacketNumberSpace.ApplicationData,
    timeSent: pn,
    ackEliciting: kind === 'eliciting' || kind === 'probe', // a PMTU probe: ack-eliciting, not in flight
    inFlight: kind === 'eliciting' || kind === 'padded',
    sentBytes: 1200,
    path: 0,
    payload: kind,
  };
}

function internals(table: SentPacketTable<Kind>): { base: number; count: number; older: number } {
  const t = table as unknown as { base: number; count: number; older?: unknown[] };
  return { base: t.base, count: t.count, older: t.older?.length ?? 0 };
}

describe('SentPacketTable with at most MAX_ACK_ONLY_RECORDS ACK-only records', () => {
  it.each([
    ['the default span', undefined],
    ['a span of 64 (packets moved below the array, 4f42d23)', 64],
  ])('keeps every other packet and the newest ACK-only ones through compaction, skips and ACKs, with %s (property)', (_name, span) => {
    const step = fc.oneof(
      { arbitrary: fc.record({ op: fc.constant('send' as const), kind: fc.constantFrom<Kind>('eliciting', 'ack-only', 'ack-only', 'ack-only', 'padded', 'probe'), count: fc.integer({ min: 1, max: 400 }) }), weight: 6 },
      { arbitrary: fc.record({ op: fc.constant('skip' as const) }), weight: 1 },
      { arbitrary: fc.record({ op: fc.constant('ack' as const), from: fc.double({ min: 0, max: 1, noNaN: true }), width: fc.integer({ min: 0, max: 600 }), elicitingOnly: fc.boolean() }), weight: 3 },
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const table = new SentPacketTable<Kind>(span);
        const model = new Map<number, Kind>();
        /** The model's ACK-only packet numbers, ascending. */
        let ackOnly: number[] = [];
        let pn = 0;
        for (const s of steps) {
          if (s.op === 'send') {
            for (let i = 0; i < s.count; i++, pn++) {
              const before = internals(table);
              table.add(sent(pn, s.kind));
              const after = internals(table);
              if (before.count > before.older && after.base === pn) {
                // moved below the array (4f42d23): the ACK-only records go, the others are kept
                for (const n of ackOnly) model.delete(n);
                ackOnly = [];
              }
              model.set(pn, s.kind);
              // the model forgets the oldest ACK-only record beyond the bound
              if (s.kind === 'ack-only') ackOnly.push(pn);
              if (ackOnly.length > MAX_ACK_ONLY_RECORDS) model.delete(ackOnly.shift()!);
            }
          } else if (s.op === 'skip') {
            table.skip(pn++);
          } else if (pn > 0) {
            const start = Math.floor(s.from * pn);
            const end = Math.min(pn - 1, start + s.width);
            // one range or, to ack only the ack-eliciting ones, one range per such packet
            const ranges: [number, number][] = s.elicitingOnly
              ? [...model].filter(([n, k]) => k === 'eliciting' && n >= start && n <= end).map(([n]) => [n, n] as [number, number]).reverse()
              : [[start, end]];
            const acked = table.removeAcked(ranges).map((p) => p.packetNumber);
            const expected = [...model.keys()].filter((n) => ranges.some(([a, b]) => n >= a && n <= b)).sort((a, b) => a - b);
            expect(acked).toEqual(expected);
            for (const n of expected) model.delete(n);
            ackOnly = ackOnly.filter((n) => model.has(n));
          }
          const held = [...table.values()].map((p) => p.packetNumber);
          expect(held).toEqual([...model.keys()].sort((a, b) => a - b));
          expect(table.size).toBe(model.size);
          expect(table.ackOnlySize).toBe([...model.values()].filter((k) => k === 'ack-only').length);
          expect(table.ackOnlySize).toBeLessThanOrEqual(MAX_ACK_ONLY_RECORDS);
          expect(table.ackElicitingInFlight).toBe([...model.values()].filter((k) => k === 'eliciting').length);
          expect(table.oldest()?.packetNumber).toBe(held[0]);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('compacts the array while forgetting the oldest ACK-only records, and keeps the newest 256', () => {
    const table = new SentPacketTable<Kind>();
    let pn = 0;
    for (; pn < 1200; pn++) table.add(sent(pn, 'eliciting'));
    for (; pn < 1500; pn++) table.add(sent(pn, 'ack-only')); // 1200..1243 forgotten
    expect(table.removeAcked([[0, 1199]])).toHaveLength(1200);
    const baseBefore = internals(table).base;
    for (; pn < 1600; pn++) table.add(sent(pn, pn % 10 === 0 ? 'eliciting' : 'ack-only'));
    expect(internals(table).base).toBeGreaterThan(baseBefore); // compacted (head passed 1024)
    const held = [...table.values()];
    const ackOnly = held.filter((p) => p.payload === 'ack-only').map((p) => p.packetNumber);
    expect(ackOnly).toHaveLength(MAX_ACK_ONLY_RECORDS);
    const allAckOnly = [...Array(1600).keys()].filter((n) => n >= 1200 && !(n >= 1500 && n % 10 === 0));
    expect(ackOnly).toEqual(allAckOnly.slice(-MAX_ACK_ONLY_RECORDS));
    expect(held.filter((p) => p.payload === 'eliciting').map((p) => p.packetNumber)).toEqual([...Array(10).keys()].map((i) => 1500 + 10 * i));
    expect(table.ackElicitingInFlight).toBe(10);
    expect(table.removeAcked([[0, 1599]])).toHaveLength(MAX_ACK_ONLY_RECORDS + 10);
    expect(table.size).toBe(0);
  });
});
