/**
 * A sender (LossDetection + congestion control) and a receiver (AckTracker) talking over a
 * simulated one-way link with loss, jitter (reordering) and a fake clock. Whatever the link does,
 * every piece of data is delivered, the sender ends with nothing in flight and no timer armed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AckTracker,
  type AckFrameInfo,
  type CongestionAlgorithm,
  createController,
  LossDetection,
  PacketNumberSpace,
} from '../../../src/quic/recovery.js';

const App = PacketNumberSpace.ApplicationData;

/** Small deterministic PRNG (mulberry32) so that each run is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Flight<T> {
  at: number;
  what: T;
}

function simulate(seed: number, lossRate: number, algorithm: CongestionAlgorithm, items: number, jitter = 10) {
  const random = prng(seed);
  const cc = createController(algorithm, 1200);
  const ld = new LossDetection<number>({ isServer: true, congestion: cc, peerMaxAckDelay: 25 });
  ld.onHandshakeConfirmed(0);
  const tracker = new AckTracker(App, { maxAckDelay: 25 });
  const toReceiver: Flight<{ pn: number; item: number }>[] = [];
  const toSender: Flight<AckFrameInfo>[] = [];
  const pending = Array.from({ length: items }, (_, i) => i);
  const delivered = new Set<number>();
  let pn = 0;
  let now = 0;

  const transmit = (item: number) => {
    const packet = { pn: pn++, item };
    ld.onPacketSent(App, { packetNumber: packet.pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: item }, now);
    if (random() >= lossRate) toReceiver.push({ at: now + 20 + random() * jitter, what: packet });
  };
  const sendWhatFits = () => {
    while (pending.length > 0 && cc.canSend(1200)) transmit(pending.shift()!);
  };
  const requeue = (lost: { payload: number }[]) => {
    for (const p of lost) if (p.payload >= 0 && !delivered.has(p.payload)) pending.push(p.payload);
  };
  const sendAck = () => {
    const frame = tracker.ackFrame(now)!;
    tracker.onAckSent();
    if (random() >= lossRate) toSender.push({ at: now + 20 + random() * jitter, what: frame });
  };

  sendWhatFits();
  for (let steps = 0; steps < 50_000; steps++) {
    if (delivered.size === items && ld.outstanding(App) === 0) {
      return { cc, ld, delivered, steps };
    }
    const nextArrival = Math.min(...toReceiver.map((f) => f.at));
    const nextAck = Math.min(...toSender.map((f) => f.at));
    const timer = ld.nextTimeout() ?? Infinity;
    const ackDeadline = tracker.nextAckDeadline() ?? Infinity;
    now = Math.max(now, Math.min(nextArrival, nextAck, timer, ackDeadline));
    if (now === Infinity) throw new Error('deadlock: nothing scheduled');

    if (nextArrival <= now) {
      const i = toReceiver.findIndex((f) => f.at === nextArrival);
      const { pn: number, item } = toReceiver.splice(i, 1)[0]!.what;
      if (tracker.onPacketReceived(number, now, true) && item >= 0) delivered.add(item);
      if (tracker.ackDue(now)) sendAck();
    } else if (nextAck <= now) {
      const i = toSender.findIndex((f) => f.at === nextAck);
      const frame = toSender.splice(i, 1)[0]!.what;
      requeue(ld.onAckReceived(App, frame, now).lost);
      sendWhatFits();
    } else if (ackDeadline <= now) {
      sendAck();
    } else {
      const action = ld.onLossDetectionTimeout(now);
      if (action.kind === 'lost') requeue(action.packets);
      if (action.kind === 'probe') {
        // RFC 9002 §6.2.4: probes are not blocked by the window; new data or a PING.
        transmit(pending.length > 0 ? pending.shift()! : -1);
      }
      sendWhatFits();
    }
  }
  throw new Error('simulation did not finish');
}

describe('loss recovery over a simulated lossy, reordering link', () => {
  it('delivers everything and drains the flight, for any seed and loss rate', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(0, 0.05, 0.2),
        fc.constantFrom<CongestionAlgorithm>('newreno', 'cubic'),
        (seed, lossRate, algorithm) => {
          const { cc, ld, delivered } = simulate(seed, lossRate, algorithm, 60);
          expect(delivered.size).toBe(60);
          expect(cc.bytesInFlight).toBe(0);
          expect(ld.nextTimeout()).toBeUndefined();
          expect(cc.congestionWindow).toBeGreaterThanOrEqual(2400);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a loss-free link without reordering never reduces the window', () => {
    const { cc } = simulate(1, 0, 'newreno', 200, 0);
    expect(cc.ssthresh).toBe(Infinity);
    expect(cc.congestionWindow).toBeGreaterThan(12000);
  });
});
