/**
 * Review of ACK decimation (issue 5; src/quic/recovery/ack-tracker.ts, connection.ts): one ACK per
 * ten packets in a long transfer is only allowed inside the rules RFC 9000 §13.2.1 keeps —
 * every ack-eliciting 1-RTT packet acknowledged within max_ack_delay of its arrival, out-of-order
 * packets, packets after a gap and CE-marked packets acknowledged at once — and the sender must
 * still see the last packets of a transfer acknowledged without a PTO (RFC 9002 §6.2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckTracker, type EcnCodepoint } from '../../../src/quic/recovery/ack-tracker.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';
import { download, Pair, pattern, sha256 } from '../sim/harness.js';

const APP = PacketNumberSpace.ApplicationData;
const MAX_ACK_DELAY = 25;

type Step =
  | { kind: 'packet'; gap: number; back: boolean; dt: number; ackEliciting: boolean; ecn: EcnCodepoint }
  | { kind: 'ack-sent'; dt: number }
  | { kind: 'rtt'; delay: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('packet' as const), gap: fc.nat(3), back: fc.boolean(), dt: fc.double({ min: 0, max: 8, noNaN: true }), ackEliciting: fc.boolean(), ecn: fc.constantFrom<EcnCodepoint>('not-ect', 'ect0', 'ce') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ack-sent' as const), dt: fc.double({ min: 0, max: 8, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rtt' as const), delay: fc.double({ min: 0, max: 60, noNaN: true }) }) },
);

describe('review: AckTracker with decimation keeps RFC 9000 §13.2.1 (property)', () => {
  it('an ACK is owed no later than max_ack_delay after the first unacknowledged ack-eliciting packet; gaps, reordering and CE at once', () => {
    fc.assert(
      fc.property(fc.nat(30), fc.integer({ min: 2, max: 12 }), fc.double({ min: 0, max: 40, noNaN: true }), fc.array(stepArb, { minLength: 100, maxLength: 300 }), (after, every, delay, steps) => {
        const t = new AckTracker(APP, { maxAckDelay: MAX_ACK_DELAY });
        t.enableDecimation({ after, every, delay });
        let now = 1000;
        let next = 0;
        const received = new Set<number>();
        let largestAckEliciting = -1;
        let firstUnacked: number | undefined;
        for (const step of steps) {
          if (step.kind === 'rtt') {
            t.setDecimationDelay(step.delay);
            continue;
          }
          now += step.dt;
          if (step.kind === 'ack-sent') {
            t.onAckSent();
            firstUnacked = undefined;
            continue;
          }
          // Mostly new numbers (with gaps); sometimes a late one from below.
          let pn = next + step.gap;
          if (step.back && next > 0) pn = Math.max(0, next - 1 - step.gap);
          if (received.has(pn)) continue;
          const missingBetween = largestAckEliciting >= 0 && pn > largestAckEliciting + 1 && ![...Array(pn - largestAckEliciting - 1).keys()].every((i) => received.has(largestAckEliciting + 1 + i));
          expect(t.onPacketReceived(pn, now, step.ackEliciting, step.ecn)).toBe(true);
          received.add(pn);
          next = Math.max(next, pn + 1);
          if (!step.ackEliciting) continue;
          firstUnacked ??= now;
          const deadline = t.nextAckDeadline();
          expect(deadline).toBeDefined();
          // §13.2.1: within max_ack_delay of the first packet it covers.
          expect(deadline!).toBeLessThanOrEqual(firstUnacked + MAX_ACK_DELAY + 1e-9);
          // §13.2.1: out of order, after a gap, or CE: without delay.
          if (pn < largestAckEliciting || missingBetween || step.ecn === 'ce') expect(deadline!).toBeLessThanOrEqual(now);
          largestAckEliciting = Math.max(largestAckEliciting, pn);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('review: the end of a decimated transfer (RFC 9000 §13.2.1, RFC 9002 §6.2)', () => {
  // 120 packets start decimation; the tails leave 1..11 packets after the last full group of ten.
  for (const extraPackets of [1, 2, 3, 5, 9, 11]) {
    it(`a download ending ${extraPackets} packet(s) after a group of ten is acknowledged within one-way delay + max_ack_delay, without a PTO`, () => {
      const delay = 5;
      const pair = new Pair({ link: { delay, interval: 0.02 } });
      const size = 120 * 1100 + extraPackets * 1100 + 7;
      const { ok, data } = download(pair, size);
      expect(ok).toBe(true);
      expect(sha256(data)).toBe(sha256(pattern(size)));
      const finishedAt = pair.now;
      const server = pair.server as unknown as { loss: { ptoCount: number; spaces: { sent: { ackElicitingInFlight: number } }[] }; stats: { packetsLost: number } };
      const inFlight = () => server.loss.spaces[APP]!.sent.ackElicitingInFlight;
      expect(pair.run(() => inFlight() === 0, 1000)).toBe(true);
      // The client has everything at `finishedAt`; its ACK of the last packets leaves within
      // max_ack_delay and takes one one-way delay to arrive.
      expect(pair.now - finishedAt).toBeLessThanOrEqual(delay + MAX_ACK_DELAY + 1);
      expect(server.loss.ptoCount).toBe(0);
      expect(server.stats.packetsLost).toBe(0);
    }, 30_000);
  }
});
