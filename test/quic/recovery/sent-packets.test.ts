/**
 * The sender's table of packets in flight (RFC 9002 Appendix A.1): which packets an ACK frame's
 * ranges remove, whatever the ranges and whatever is outstanding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentPacketTable, type SentPacket } from '../../../src/quic/recovery/sent-packets.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

function packet(pn: number): SentPacket<null> {
  return { packetNumber: pn, space: PacketNumberSpace.ApplicationData, timeSent: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: null };
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
