import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../../src/quic/recovery/ack-tracker.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

const APP = PacketNumberSpace.ApplicationData;

describe('AckTracker: when to acknowledge (RFC 9000 §13.2.1, §13.2.2)', () => {
  it('Initial and Handshake ack-eliciting packets are acknowledged immediately', () => {
    for (const space of [PacketNumberSpace.Initial, PacketNumberSpace.Handshake]) {
      const t = new AckTracker(space);
      t.onPacketReceived(0, 100, true);
      expect(t.nextAckDeadline()).toBe(100);
      expect(t.ackDue(100)).toBe(true);
    }
  });

  it('1-RTT: one ack-eliciting packet waits max_ack_delay; the second one triggers an ACK', () => {
    const t = new AckTracker(APP, { maxAckDelay: 25 });
    t.onPacketReceived(0, 100, true);
    expect(t.nextAckDeadline()).toBe(125);
    expect(t.ackDue(124)).toBe(false);
    expect(t.ackDue(125)).toBe(true);
    t.onPacketReceived(1, 110, true);
    expect(t.nextAckDeadline()).toBe(110);
  });

  it('non-ack-eliciting packets never make an ACK due, but are reported in the next one', () => {
    const t = new AckTracker(APP);
    t.onPacketReceived(0, 0, false);
    t.onPacketReceived(1, 1, false);
    t.onPacketReceived(5, 2, false);
    expect(t.nextAckDeadline()).toBeUndefined();
    expect(t.hasUnreportedPackets()).toBe(true);
    expect(t.ackFrame(3)?.ranges).toEqual([[5, 5], [0, 1]]);
  });

  it('a packet older than the largest ack-eliciting one is acknowledged immediately', () => {
    const t = new AckTracker(APP);
    t.onPacketReceived(5, 0, true);
    t.onAckSent();
    t.onPacketReceived(3, 10, true);
    expect(t.nextAckDeadline()).toBe(10);
  });

  it('a newer packet with missing packets before it is acknowledged immediately', () => {
    const t = new AckTracker(APP);
    t.onPacketReceived(0, 0, true);
    t.onAckSent();
    t.onPacketReceived(1, 5, true); // in order: delayed
    expect(t.nextAckDeadline()).toBe(30);
    t.onAckSent();
    t.onPacketReceived(3, 10, true); // 2 missing
    expect(t.nextAckDeadline()).toBe(10);
  });

  it('a non-ack-eliciting packet filling the gap means no missing packet (§13.2.1 wording)', () => {
    const t = new AckTracker(APP);
    t.onPacketReceived(4, 0, true);
    t.onAckSent();
    t.onPacketReceived(5, 1, false);
    t.onPacketReceived(6, 2, true);
    expect(t.nextAckDeadline()).toBe(27);
    t.onAckSent();
    // 7 missing (non-ack-eliciting 8 received), then 9: missing since largest ack-eliciting (6).
    t.onPacketReceived(8, 3, false);
    t.onPacketReceived(9, 4, true);
    expect(t.nextAckDeadline()).toBe(4);
  });

  it('a CE-marked packet is acknowledged immediately and counted (§13.2.1, §13.4.1)', () => {
    const t = new AckTracker(APP);
    t.onPacketReceived(0, 0, true, 'ect0');
    expect(t.nextAckDeadline()).toBe(25);
    t.onAckSent();
    t.onPacketReceived(1, 7, true, 'ce');
    expect(t.nextAckDeadline()).toBe(7);
    t.onPacketReceived(2, 8, false, 'ect1');
    expect(t.ackFrame(8)?.ecn).toEqual({ ect0: 1, ect1: 1, ce: 1 });
  });

  it('duplicates return false and change nothing, not even ECN counts (§12.3, §13.4.1)', () => {
    const t = new AckTracker(APP);
    expect(t.onPacketReceived(0, 0, true, 'ect0')).toBe(true);
    t.onAckSent();
    expect(t.onPacketReceived(0, 5, true, 'ce')).toBe(false);
    expect(t.nextAckDeadline()).toBeUndefined();
    expect(t.hasUnreportedPackets()).toBe(false);
    expect(t.ackFrame(5)?.ecn).toEqual({ ect0: 1, ect1: 0, ce: 0 });
  });

  it('reports no ECN section until an ECN-marked packet arrived', () => {
    const t = new AckTracker(APP);
    t.onPacketReceived(0, 0, true);
    expect(t.ackFrame(0)?.ecn).toBeUndefined();
  });
});

describe('AckTracker: ACK decimation (RFC 9000 §13.2.1, §13.2.2)', () => {
  /** In-order ack-eliciting packets from `from` at time `now`; sends the ACK whenever one is due. */
  function receiveInOrder(t: AckTracker, from: number, count: number, now: number): number[] {
    const acksAfter: number[] = [];
    for (let pn = from; pn < from + count; pn++) {
      t.onPacketReceived(pn, now, true);
      if (t.ackDue(now)) {
        acksAfter.push(pn);
        t.onAckSent();
      }
    }
    return acksAfter;
  }

  it('acknowledges every second packet until `after` packets, then one per `every`', () => {
    const t = new AckTracker(APP, { maxAckDelay: 25 });
    t.enableDecimation({ after: 4, every: 10, delay: 5 });
    expect(receiveInOrder(t, 0, 4, 0)).toEqual([1, 3]);
    expect(receiveInOrder(t, 4, 20, 0)).toEqual([13, 23]);
  });

  it('a smaller group waits the decimation delay, a single packet max_ack_delay (§13.2.1)', () => {
    const t = new AckTracker(APP, { maxAckDelay: 25 });
    t.enableDecimation({ after: 0, every: 10, delay: 5 });
    t.onPacketReceived(0, 100, true);
    expect(t.nextAckDeadline()).toBe(125);
    t.onPacketReceived(1, 101, true);
    expect(t.nextAckDeadline()).toBe(106);
    expect(t.ackDue(105)).toBe(false);
    expect(t.ackDue(106)).toBe(true);
  });

  it('never waits longer than max_ack_delay, and follows the delay it is given', () => {
    const t = new AckTracker(APP, { maxAckDelay: 25 });
    t.enableDecimation({ after: 0, every: 10, delay: 1000 });
    t.onPacketReceived(0, 0, true);
    t.onPacketReceived(1, 0, true);
    expect(t.nextAckDeadline()).toBe(25);
    t.onAckSent();
    t.setDecimationDelay(2);
    t.onPacketReceived(2, 10, true);
    t.onPacketReceived(3, 10, true);
    expect(t.nextAckDeadline()).toBe(12);
  });

  it('out-of-order and CE-marked packets are still acknowledged at once', () => {
    const t = new AckTracker(APP, { maxAckDelay: 25 });
    t.enableDecimation({ after: 0, every: 10, delay: 5 });
    t.onPacketReceived(0, 0, true);
    t.onAckSent();
    t.onPacketReceived(2, 1, true); // 1 is missing
    expect(t.nextAckDeadline()).toBe(1);
    t.onAckSent();
    t.onPacketReceived(1, 2, true); // older than the largest
    expect(t.nextAckDeadline()).toBe(2);
    t.onAckSent();
    t.onPacketReceived(3, 3, true, 'ce');
    expect(t.nextAckDeadline()).toBe(3);
  });

  it('rejects a group smaller than the threshold', () => {
    const t = new AckTracker(APP);
    expect(() => t.enableDecimation({ after: 0, every: 1, delay: 5 })).toThrow(RangeError);
  });

  it('an ACK is owed within max_ack_delay of any ack-eliciting packet, whatever the arrivals (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), dt: fc.integer({ min: 0, max: 30 }), eliciting: fc.boolean() }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 2, max: 20 }),
        (arrivals, every) => {
          const t = new AckTracker(APP, { maxAckDelay: 25 });
          t.enableDecimation({ after: 10, every, delay: 3 });
          let pn = 0;
          let now = 0;
          for (const a of arrivals) {
            pn += 1 + a.gap;
            now += a.dt;
            // Whatever is due is sent before the next arrival, as a connection does.
            if (t.ackDue(now)) t.onAckSent();
            t.onPacketReceived(pn, now, a.eliciting);
            if (a.eliciting) expect(t.nextAckDeadline()!).toBeLessThanOrEqual(now + 25);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('AckTracker: ACK frame content', () => {
  it('ack delay is measured from the arrival of the largest packet (§13.2.5)', () => {
    const t = new AckTracker(APP);
    t.onPacketReceived(7, 100, true);
    t.onPacketReceived(3, 150, true); // older, does not move the reference time
    expect(t.ackFrame(160)).toEqual({ largest: 7, ackDelay: 60, ranges: [[7, 7], [3, 3]] });
  });

  it('nothing to acknowledge before the first packet', () => {
    expect(new AckTracker(APP).ackFrame(0)).toBeUndefined();
  });

  it('an ACK of our ACK stops reporting what it covered (§13.2.4)', () => {
    const t = new AckTracker(APP);
    for (let pn = 0; pn < 10; pn++) t.onPacketReceived(pn, pn, true);
    const sent = t.ackFrame(10)!;
    t.onAckSent();
    t.onPacketReceived(12, 11, true);
    t.onAckOfAck(sent.largest);
    expect(t.ackFrame(12)?.ranges).toEqual([[12, 12]]);
    expect(t.onPacketReceived(4, 13, true)).toBe(false);
  });

  it('bounded ranges under hostile alternate-gap traffic (§13.2.3)', () => {
    const t = new AckTracker(APP, { maxRanges: 64 });
    for (let pn = 0; pn < 10_000; pn += 2) t.onPacketReceived(pn, pn, true);
    const frame = t.ackFrame(10_000)!;
    expect(frame.ranges.length).toBe(64);
    expect(frame.largest).toBe(9998);
    expect(t.hasReceived(1)).toBe(true); // below the floor: treated as a duplicate
  });

  it('ACK ranges always equal the distinct numbers received (any order, duplicates)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pn: fc.integer({ min: 0, max: 200 }), eliciting: fc.boolean() }), { minLength: 1, maxLength: 150 }),
        (arrivals) => {
          const t = new AckTracker(APP, { maxRanges: 1000 });
          const seen = new Set<number>();
          let duplicates = 0;
          arrivals.forEach(({ pn, eliciting }, i) => {
            if (!t.onPacketReceived(pn, i, eliciting)) duplicates++;
            seen.add(pn);
          });
          expect(duplicates).toBe(arrivals.length - seen.size);
          const frame = t.ackFrame(arrivals.length)!;
          const covered = new Set<number>();
          for (const [s, e] of frame.ranges) for (let pn = s; pn <= e; pn++) covered.add(pn);
          expect(covered).toEqual(seen);
          expect(frame.largest).toBe(Math.max(...seen));
          // Highest first, disjoint, separated by a gap.
          for (let i = 1; i < frame.ranges.length; i++) {
            expect(frame.ranges[i]![1]).toBeLessThan(frame.ranges[i - 1]![0] - 1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
