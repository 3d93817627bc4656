/**
 * Review of per-path recovery state (RFC 9000 §9.4, §9.3.2; RFC 9002 §6, §7, Appendices A, B):
 * bytes in flight of the path in use — and of the last validated path kept aside — always equal
 * the in-flight packets sent under that path state, whatever the interleaving of sends, ACKs,
 * losses, timeouts, path changes, restores and discarded Initial/Handshake spaces; an ACK whose
 * largest acknowledged was sent before the path change gives no RTT sample even when it also
 * acknowledges new-path packets; a persistent-congestion range that spans a path change counts
 * only the new path's packets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NewReno } from '../../../src/quic/congestion/new-reno.js';
import type { AckFrameInfo } from '../../../src/quic/recovery/ack-frame.js';
import { LossDetection } from '../../../src/quic/recovery/loss-detection.js';
import { INITIAL_RTT } from '../../../src/quic/recovery/rtt.js';
import type { SentPacket, SentPacketTable } from '../../../src/quic/recovery/sent-packets.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';
import type { CongestionController } from '../../../src/quic/congestion/controller.js';

const { Initial, Handshake, ApplicationData: App } = PacketNumberSpace;

interface Internals {
  spaces: { sent: SentPacketTable<number>; discarded: boolean }[];
  setAside: { id: number; congestion: CongestionController } | undefined;
}

const internals = (ld: LossDetection<number>) => ld as unknown as Internals;

/** Bytes of the in-flight packets still tracked that were sent under path state `id`. */
function trackedBytes(ld: LossDetection<number>, id: number): number {
  let bytes = 0;
  for (const state of internals(ld).spaces) {
    for (const p of state.sent.values()) if (p.inFlight && p.path === id) bytes += p.sentBytes;
  }
  return bytes;
}

function expectConsistent(ld: LossDetection<number>): void {
  expect(ld.congestion.bytesInFlight).toBeGreaterThanOrEqual(0);
  expect(ld.congestion.bytesInFlight).toBe(trackedBytes(ld, ld.pathId));
  const aside = internals(ld).setAside;
  if (aside !== undefined) expect(aside.congestion.bytesInFlight).toBe(trackedBytes(ld, aside.id));
}

type Op =
  | { op: 'send'; space: number; bytes: number; eliciting: boolean; inFlight: boolean }
  | { op: 'ack'; space: number; from: number; len: number; gap: number }
  | { op: 'wait'; ms: number }
  | { op: 'timeout' }
  | { op: 'newPath'; keep: boolean }
  | { op: 'restore' }
  | { op: 'dropAside' }
  | { op: 'discard'; space: number }
  | { op: 'retry' }
  | { op: 'confirm' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('send' as const), space: fc.constantFrom(0, 1, 2, 2, 2), bytes: fc.integer({ min: 40, max: 1452 }), eliciting: fc.boolean(), inFlight: fc.constantFrom(true, true, true, false) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('ack' as const), space: fc.constantFrom(0, 1, 2, 2, 2), from: fc.nat(60), len: fc.integer({ min: 1, max: 8 }), gap: fc.nat(4) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 2000 }) }) },
  { weight: 3, arbitrary: fc.constant({ op: 'timeout' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('newPath' as const), keep: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'restore' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'dropAside' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('discard' as const), space: fc.constantFrom(0, 1) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'retry' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'confirm' as const }) },
);

function ack(ranges: [number, number][], ackDelay = 0): AckFrameInfo {
  return { largest: ranges[0]![1], ackDelay, ranges };
}

describe('bytes in flight per path state (RFC 9000 §9.4, RFC 9002 Appendix B)', () => {
  it('equal the tracked in-flight packets of the path in use and of the path kept aside, never negative', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), (ops) => {
        const ld = new LossDetection<number>({ isServer: false, congestion: new NewReno(1200), peerMaxAckDelay: 25 });
        const next = [0, 0, 0];
        let now = 1000;
        ld.onHandshakeKeysAvailable(now);
        for (const o of ops) {
          switch (o.op) {
            case 'send': {
              if (internals(ld).spaces[o.space]!.discarded) break;
              const pn = next[o.space]!++;
              ld.onPacketSent(o.space, { packetNumber: pn, ackEliciting: o.eliciting, inFlight: o.inFlight, sentBytes: o.bytes, payload: pn }, now);
              break;
            }
            case 'ack': {
              const sent = next[o.space]!;
              if (sent === 0 || internals(ld).spaces[o.space]!.discarded) break;
              // Two ranges below the largest sent, descending, as an ACK frame lists them.
              const hi = Math.min(sent - 1, o.from + o.len + o.gap + 2);
              const top: [number, number] = [Math.max(0, hi - o.len + 1), hi];
              const ranges: [number, number][] = [top];
              const lowHi = top[0] - o.gap - 2;
              if (lowHi >= 0) ranges.push([Math.max(0, lowHi - o.len + 1), lowHi]);
              ld.onAckReceived(o.space, ack(ranges, 3), now);
              break;
            }
            case 'wait':
              now += o.ms;
              break;
            case 'timeout': {
              const t = ld.nextTimeout();
              if (t !== undefined) now = Math.max(now, t);
              ld.onLossDetectionTimeout(now);
              break;
            }
            case 'newPath':
              ld.startPath(1200, o.keep, now);
              break;
            case 'restore':
              ld.restorePath(now);
              break;
            case 'dropAside':
              ld.dropStateAside();
              break;
            case 'discard':
              ld.discardSpace(o.space as typeof Initial | typeof Handshake, now);
              break;
            case 'retry':
              if (!internals(ld).spaces[Initial]!.discarded) ld.onRetryReceived(now);
              break;
            case 'confirm':
              ld.onHandshakeConfirmed(now);
              break;
          }
          expectConsistent(ld);
        }
      }),
      { numRuns: 400 },
    );
  });
});

/** A sender with packets 0..9 acknowledged (an RTT sample of about 40 ms) and 10..19 in flight. */
function established() {
  const ld = new LossDetection<number>({ isServer: true, congestion: new NewReno(1200), peerMaxAckDelay: 25 });
  ld.onHandshakeConfirmed(0);
  let pn = 0;
  const send = (now: number, bytes = 1200): SentPacket<number> =>
    ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: bytes, payload: pn++ }, now);
  for (let i = 0; i < 20; i++) send(i);
  ld.onAckReceived(App, ack([[0, 9]]), 50);
  return { ld, send };
}

describe('ACKs and losses across a path change (RFC 9000 §9.4, RFC 9002 §5.1, §7.6)', () => {
  it('an ACK of old- and new-path packets with a new-path largest takes its sample from that packet only', () => {
    const { ld, send } = established();
    ld.startPath(1200, false, 100);
    send(110);
    send(111);
    const r = ld.onAckReceived(App, ack([[10, 21]]), 200);
    expect(r.acked.length).toBe(12);
    expect(r.rttSampled).toBe(true);
    expect(ld.rtt.latestRtt).toBe(200 - 111);
    expect(ld.rtt.smoothedRtt).toBe(200 - 111);
    // Only the two new-path packets left the new path's flight.
    expect(ld.congestion.bytesInFlight).toBe(0);
  });

  it('after a restore, an ACK whose largest acknowledged was sent on the abandoned path gives no sample', () => {
    const { ld, send } = established();
    const oldId = ld.pathId;
    ld.startPath(1200, true, 100);
    send(110); // 20: abandoned path
    send(111); // 21: abandoned path
    ld.restorePath(120);
    expect(ld.pathId).toBe(oldId);
    const srtt = ld.rtt.smoothedRtt;
    const r = ld.onAckReceived(App, ack([[10, 21]]), 400);
    expect(r.acked.length).toBe(12);
    expect(r.rttSampled).toBe(false);
    expect(ld.rtt.smoothedRtt).toBe(srtt);
    expect(ld.congestion.bytesInFlight).toBe(0);
  });

  it('after a restore, losses of the abandoned path neither reduce the window nor make a persistent-congestion range', () => {
    const { ld, send } = established();
    const cwnd = ld.congestion.congestionWindow;
    ld.startPath(1200, true, 100);
    // The abandoned path sends for five seconds (packets 20..25), none acknowledged.
    for (let t = 100; t <= 5_100; t += 1_000) send(t);
    ld.restorePath(5_150);
    expect(ld.congestion.congestionWindow).toBe(cwnd);
    // The restored path sends 26..28, acknowledged: 20..25 are lost by the packet threshold, and
    // the restored path's own 10..19 too (sent 9 ms apart: no persistent congestion of their own).
    send(5_160);
    send(5_161);
    send(5_162);
    const r = ld.onAckReceived(App, ack([[26, 28]]), 5_200);
    expect(r.lost.map((p) => p.packetNumber)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(r.persistentCongestion).toBe(false);
    // One congestion event (its own packets): half the window, not the minimum window.
    expect(ld.congestion.congestionWindow).toBeGreaterThan(2 * 1200);
  });
});
