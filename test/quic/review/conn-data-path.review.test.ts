/**
 * Review of the QUIC connection data-path CPU pass (issue 5: 94d8201, b694ee4, 356d3f2, bfa94ee,
 * e00575b, bd14e55). These pin the behaviour each change had to keep:
 * - the loss detection timer computed on read (94d8201) is the timer RFC 9002 Appendix A.5/A.8
 *   sets after every send: reading it late, or never before the timeout, changes nothing, and the
 *   anti-deadlock timer (§6.2.2.1) runs from the send, not from the read;
 * - the sent-packet array (bd14e55) is offset from the oldest outstanding packet, so packet numbers
 *   beyond 2^32 and hostile ACK ranges cost the flight, not the packet number (RFC 9002 A.1, A.7);
 *   an ACK of an unsent or skipped packet is a PROTOCOL_VIOLATION that changes nothing (RFC 9000
 *   §13.1, §21.4); a packet declared lost and then acknowledged is not acknowledged twice;
 * - the shared KeyChoice (e00575b) is never changed under a caller across a key update (RFC 9001 §6);
 * - with ACK frames no longer built when not due (e00575b), a lone ack-eliciting packet is still
 *   acknowledged within max_ack_delay and the ACK-only answer elicits nothing (RFC 9000 §13.2.1).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/core/errors.js';
import { KeyPhase } from '../../../src/quic/connection/key-phase.js';
import { NewReno } from '../../../src/quic/congestion/new-reno.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { TLS_AES_128_GCM_SHA256 } from '../../../src/quic/crypto/suites.js';
import type { AckFrameInfo } from '../../../src/quic/recovery/ack-frame.js';
import { LossDetection, type TimeoutAction } from '../../../src/quic/recovery/loss-detection.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';
import { QUIC_V1 } from '../../../src/quic/version.js';
import { Pair, START } from '../sim/harness.js';

const { Initial, Handshake, ApplicationData: App } = PacketNumberSpace;

function ackOf(ranges: [number, number][], ackDelay = 0): AckFrameInfo {
  return { largest: ranges[0]![1], ackDelay, ranges };
}

// ---- 94d8201: the lazily computed loss detection timer -------------------------------------------

type Op =
  | { k: 'send'; space: PacketNumberSpace; ackEliciting: boolean; padded: boolean; dt: number; skip: boolean }
  | { k: 'ack'; space: PacketNumberSpace; dt: number; below: number; gaps: [number, number][] }
  | { k: 'timeout'; dt: number }
  | { k: 'discard'; space: PacketNumberSpace.Initial | PacketNumberSpace.Handshake; dt: number }
  | { k: 'confirm' | 'handshake-keys'; dt: number }
  | { k: 'amplification'; limited: boolean; dt: number }
  | { k: 'max-ack-delay'; ms: number; dt: number };

const spaceArb = fc.constantFrom(Initial, Handshake, App);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ k: fc.constant('send' as const), space: spaceArb, ackEliciting: fc.boolean(), padded: fc.boolean(), dt: fc.nat(30), skip: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('ack' as const), space: spaceArb, dt: fc.nat(200), below: fc.integer({ min: -1, max: 4 }), gaps: fc.array(fc.tuple(fc.nat(3), fc.nat(5)), { maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('timeout' as const), dt: fc.nat(2000) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('discard' as const), space: fc.constantFrom(Initial, Handshake) as fc.Arbitrary<PacketNumberSpace.Initial | PacketNumberSpace.Handshake>, dt: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('confirm' as const, 'handshake-keys' as const), dt: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('amplification' as const), limited: fc.boolean(), dt: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('max-ack-delay' as const), ms: fc.nat(50), dt: fc.nat(20) }) },
);

/**
 * Runs `ops` on a fresh LossDetection and returns everything observable. With `readAlways` the
 * timer is read after every operation — the timer RFC 9002 Appendix A.5 keeps set after every send;
 * without it the timer is read only where `readAt` says, and never before a timeout is handled.
 */
function trace(isServer: boolean, ops: Op[], readAlways: boolean, readAt: boolean[]): unknown[] {
  const ld = new LossDetection<number>({ isServer, congestion: new NewReno(1200) });
  const next = [0, 0, 0];
  const discarded = [false, false, false];
  let now = 1000;
  const out: unknown[] = [];
  const pns = (list: readonly { packetNumber: number }[]) => list.map((p) => p.packetNumber);
  ops.forEach((op, i) => {
    try {
      switch (op.k) {
        case 'send': {
          now += op.dt;
          if (discarded[op.space]) break;
          if (op.skip) ld.skipPacketNumber(op.space, next[op.space]!++);
          const pn = next[op.space]!++;
          ld.onPacketSent(op.space, { packetNumber: pn, ackEliciting: op.ackEliciting, inFlight: op.ackEliciting || op.padded, sentBytes: 1200, payload: pn }, now);
          break;
        }
        case 'ack': {
          now += op.dt;
          // below = -1 acknowledges one packet past the largest sent (RFC 9000 §13.1).
          let hi = next[op.space]! - 1 - op.below;
          const ranges: [number, number][] = [];
          for (const [gap, length] of [[0, 0] as [number, number], ...op.gaps]) {
            if (ranges.length > 0) hi -= gap + 2;
            if (hi - length < 0) break;
            ranges.push([hi - length, hi]);
            hi -= length;
          }
          if (ranges.length === 0) break;
          const r = ld.onAckReceived(op.space, ackOf(ranges, op.dt % 7), now);
          out.push(['ack', pns(r.acked), pns(r.lost), r.rttSampled, r.persistentCongestion]);
          break;
        }
        case 'timeout': {
          now += op.dt;
          const action: TimeoutAction<number> = ld.onLossDetectionTimeout(now);
          out.push(['timeout', action.kind, 'space' in action ? action.space : undefined, action.kind === 'lost' ? pns(action.packets) : undefined]);
          break;
        }
        case 'discard':
          now += op.dt;
          if (!discarded[op.space]) {
            discarded[op.space] = true;
            out.push(['discard', pns(ld.discardSpace(op.space, now))]);
          }
          break;
        case 'confirm':
          now += op.dt;
          ld.onHandshakeConfirmed(now);
          break;
        case 'handshake-keys':
          now += op.dt;
          ld.onHandshakeKeysAvailable(now);
          break;
        case 'amplification':
          now += op.dt;
          ld.setAmplificationLimited(op.limited, now);
          break;
        case 'max-ack-delay':
          now += op.dt;
          ld.setPeerMaxAckDelay(op.ms, now);
          break;
      }
    } catch (err) {
      out.push(['error', err instanceof ProtocolError ? err.code : String(err)]);
    }
    // Both runs record the timer at the same points; the eager one also reads it after every operation.
    if (readAt[i % readAt.length]) out.push(['timer', ld.nextTimeout()]);
    else if (readAlways) ld.nextTimeout();
    out.push(['state', ld.congestion.bytesInFlight, ld.ackElicitingInFlight(), ld.ptoCount]);
  });
  out.push(['timer', ld.nextTimeout()]);
  return out;
}

describe('review: the loss detection timer computed on read is the one set after every send (RFC 9002 A.5, A.8)', () => {
  it('timer values, timeouts and their actions are the same whether the timer is read after every operation or seldom (property)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 150 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }), (isServer, ops, readAt) => {
        expect(trace(isServer, ops, false, readAt)).toEqual(trace(isServer, ops, true, readAt));
      }),
      { numRuns: 300 },
    );
  });

  it('a client\'s anti-deadlock timer runs from its last in-flight send, not from the time it is read (§6.2.2.1)', () => {
    const ld = new LossDetection<string>({ isServer: false, congestion: new NewReno(1200) });
    const pto = ld.ptoPeriod(Initial); // 999 ms with kInitialRtt 333 ms
    // A padded Initial that is not ack-eliciting (an ACK of the server's Initial): in flight, nothing to acknowledge.
    ld.onPacketSent(Initial, { packetNumber: 0, ackEliciting: false, inFlight: true, sentBytes: 1200, payload: 'ack+padding' }, 100);
    // An ACK-only packet in flight nowhere changes no timer (Appendix A.5 sets it only for in-flight packets).
    ld.onPacketSent(Initial, { packetNumber: 1, ackEliciting: false, inFlight: false, sentBytes: 50, payload: 'ack' }, 400);
    expect(ld.nextTimeout()).toBe(100 + pto);
    ld.onPacketSent(Initial, { packetNumber: 2, ackEliciting: false, inFlight: true, sentBytes: 1200, payload: 'ack+padding' }, 600);
    // Read long after the send: still the send's timer.
    expect(ld.onLossDetectionTimeout(600 + pto - 1)).toEqual({ kind: 'none' });
    expect(ld.nextTimeout()).toBe(600 + pto);
    expect(ld.onLossDetectionTimeout(600 + pto)).toEqual({ kind: 'anti-deadlock', space: Initial });
  });

  it('a timeout handled without reading the timer first still sees the sends before it (§6.2.1)', () => {
    const ld = new LossDetection<string>({ isServer: true, congestion: new NewReno(1200) });
    ld.onPacketSent(Initial, { packetNumber: 0, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: 'crypto' }, 0);
    const pto = ld.ptoPeriod(Initial);
    expect(ld.onLossDetectionTimeout(pto - 1)).toEqual({ kind: 'none' });
    expect(ld.onLossDetectionTimeout(pto)).toEqual({ kind: 'probe', space: Initial, maxPackets: 2 });
    // Backoff from the last ack-eliciting send: a new send re-arms from its own time.
    ld.onPacketSent(Initial, { packetNumber: 1, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: 'probe' }, pto + 5);
    expect(ld.onLossDetectionTimeout(pto + 5 + 2 * pto - 1)).toEqual({ kind: 'none' });
    expect(ld.nextTimeout()).toBe(pto + 5 + 2 * pto);
  });

  it('discarding a space (§6.4) re-arms from the spaces left, even with sends not yet read', () => {
    const ld = new LossDetection<string>({ isServer: true, congestion: new NewReno(1200) });
    ld.onPacketSent(Initial, { packetNumber: 0, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: 'i' }, 0);
    ld.onPacketSent(Handshake, { packetNumber: 0, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: 'h' }, 50);
    ld.discardSpace(Initial, 60);
    expect(ld.nextTimeout()).toBe(50 + ld.ptoPeriod(Handshake));
    ld.discardSpace(Handshake, 70);
    expect(ld.nextTimeout()).toBeUndefined();
  });
});

// ---- bd14e55: the sent-packet array --------------------------------------------------------------

describe('review: the sent-packet array under hostile ACKs and large packet numbers (RFC 9002 A.1, A.7; RFC 9000 §13.1)', () => {
  function confirmedSender() {
    const cc = new NewReno(1200);
    const ld = new LossDetection<number>({ isServer: true, congestion: cc });
    ld.onHandshakeConfirmed(0);
    const send = (pn: number, now: number) =>
      ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1000, payload: pn }, now);
    return { cc, ld, send };
  }

  it('packet numbers beyond 2^40 and an ACK range from 0 cost the flight, not the packet number', () => {
    const { cc, ld, send } = confirmedSender();
    const first = 2 ** 40 + 7;
    for (let i = 0; i < 5; i++) send(first + i, i);
    const started = process.hrtime.bigint();
    const r = ld.onAckReceived(App, ackOf([[first + 3, first + 4], [0, first + 1]]), 50);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(r.acked.map((p) => p.packetNumber)).toEqual([first, first + 1, first + 3, first + 4]);
    expect(ld.outstanding(App)).toBe(1);
    expect(cc.bytesInFlight).toBe(1000);
    expect(ms).toBeLessThan(500); // a walk over 2^40 numbers would never end
  });

  it('an ACK of a packet never sent or of a skipped number is a PROTOCOL_VIOLATION that changes nothing (§13.1, §21.4)', () => {
    const { cc, ld, send } = confirmedSender();
    for (let pn = 0; pn < 4; pn++) send(pn, pn);
    ld.skipPacketNumber(App, 4);
    send(5, 5);
    const timer = ld.nextTimeout();
    for (const ranges of [[[0, 6]], [[4, 5]], [[6, 6], [0, 3]], [[2 ** 53 - 1, 2 ** 53 - 1]]] as [number, number][][]) {
      expect(() => ld.onAckReceived(App, ackOf(ranges), 100)).toThrow(ProtocolError);
      expect(ld.outstanding(App)).toBe(5);
      expect(cc.bytesInFlight).toBe(5000);
      expect(ld.largestAcked(App)).toBeUndefined();
      expect(ld.nextTimeout()).toBe(timer);
    }
  });

  it('a packet declared lost and then acknowledged (a spurious loss) is not acknowledged or counted again', () => {
    const { cc, ld, send } = confirmedSender();
    for (let pn = 0; pn < 5; pn++) send(pn, pn);
    // Packet threshold (RFC 9002 §6.1.1): 0 and 1 are lost once 4 is acknowledged.
    const first = ld.onAckReceived(App, ackOf([[4, 4]]), 40);
    expect(first.lost.map((p) => p.packetNumber)).toEqual([0, 1]);
    const inFlight = cc.bytesInFlight;
    const late = ld.onAckReceived(App, ackOf([[0, 4]]), 45);
    expect(late.acked.map((p) => p.packetNumber)).toEqual([2, 3]);
    expect(cc.bytesInFlight).toBe(inFlight - 2000);
    expect(ld.outstanding(App)).toBe(0);
    expect(ld.ackElicitingInFlight()).toBe(0);
  });

  it('a long transfer keeps only its flight: the oldest outstanding moves on and old ACK ranges find nothing (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.nat(10)), { minLength: 20, maxLength: 120 }), (rounds) => {
        const { cc, ld, send } = confirmedSender();
        let pn = 0;
        let now = 0;
        let acked = -1;
        for (const [burst, lag] of rounds) {
          for (let i = 0; i < burst; i++) send(pn++, now);
          now += 10;
          const top = Math.max(acked + 1, pn - 1 - lag);
          // Every ACK repeats the whole history from 0, as a peer that never got an ACK of its ACKs does.
          const r = ld.onAckReceived(App, ackOf([[0, top]]), now);
          // Exactly the packets above the previous ACK, once each, in order.
          const want = Array.from({ length: top - acked }, (_, i) => acked + 1 + i);
          if (r.acked.map((p) => p.packetNumber).join() !== want.join()) return false;
          acked = top;
          if (ld.outstanding(App) !== pn - 1 - top || cc.bytesInFlight !== 1000 * (pn - 1 - top)) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });
});

// ---- e00575b: KeyPhase.keysFor's shared answer ---------------------------------------------------

describe('review: KeyPhase.keysFor shares its current-phase answer without changing it under a caller (RFC 9001 §6)', () => {
  const keys = (byte: number) => PacketProtector.fromSecret(QUIC_V1, TLS_AES_128_GCM_SHA256, Buffer.alloc(32, byte));

  it('an answer taken before a key update still names the keys it named; after it the new keys are named', () => {
    const server = new KeyPhase(keys(1), keys(2));
    const before = server.keysFor(0, 3, 0)!;
    const oldRead = before.keys;
    expect(before.isNext).toBe(false);
    const next = server.keysFor(1, 10, 0)!;
    expect(next.isNext).toBe(true);
    server.onNextPhaseOpened(10, 0, 1000);
    expect(before.keys).toBe(oldRead);
    expect(before.isNext).toBe(false);
    const after = server.keysFor(1, 11, 0)!;
    expect(after.keys).toBe(next.keys);
    expect(after.isNext).toBe(false);
    // Asking again for the current phase did not rewrite the earlier answer.
    expect(before.keys).toBe(oldRead);
    // The previous phase's late packet gets the old keys (§6.5), and the current answer is unchanged.
    expect(server.keysFor(0, 9, 10)!.keys).toBe(oldRead);
    expect(server.keysFor(1, 12, 10)).toBe(after);
  });
});

// ---- e00575b: no ACK frame built when not due ---------------------------------------------------

describe('review: ACKs of a receiver that sends nothing else (RFC 9000 §13.2.1)', () => {
  it('a lone ack-eliciting packet is acknowledged within max_ack_delay, and the ACK-only answer elicits nothing', () => {
    const pair = new Pair({ link: { delay: 10 } });
    expect(pair.handshake()).toBe(true);
    // Let the handshake's ACKs and HANDSHAKE_DONE settle.
    pair.run(() => false, 2_000);
    const server = pair.server!;
    let arrivedAt: number | undefined;
    pair.onClientEvent = (e) => {
      if (e.type === 'stream-data' && arrivedAt === undefined) arrivedAt = pair.now;
    };
    const id = server.openStream(false)!;
    server.write(id, Buffer.from('one packet'), false);
    const serverSentBefore = pair.serverSent.length;
    // The time of the client's first datagram after this point, taken where the harness sends it.
    let ackAt: number | undefined;
    const flush = pair.flush.bind(pair);
    pair.flush = () => {
      const before = pair.clientSent.length;
      flush();
      if (ackAt === undefined && pair.clientSent.length > before) ackAt = pair.now;
    };
    pair.run(() => ackAt !== undefined, 1_000);
    expect(arrivedAt).toBeDefined();
    expect(ackAt).toBeDefined();
    // RFC 9000 §13.2.1: within max_ack_delay (our default 25 ms) of the packet's arrival.
    expect(ackAt! - arrivedAt!).toBeLessThanOrEqual(25);
    // The ACK-only packet is not acknowledged by the server: it sends nothing more for a while.
    const serverAfterData = pair.serverSent.length;
    expect(serverAfterData).toBe(serverSentBefore + 1);
    pair.run(() => false, 300);
    expect(pair.serverSent.length).toBe(serverAfterData);
    expect(pair.now - START).toBeGreaterThan(0);
  });
});

// ---- Found while reviewing: Retry and loss recovery (connection.ts, another engineer's file) -----

describe('review: a Retry resets loss recovery for the Initial packets it answers (RFC 9002 §6.3)', () => {
  // Failed before 8010293: onRetry never called LossDetection.onRetryReceived, so the first
  // Initial stayed in flight, was declared lost once the new Initial was acknowledged, and cut the
  // congestion window (12000 -> 8400 with CUBIC).
  it('a handshake through Retry declares no packet lost, as one without Retry', () => {
    const plain = new Pair({ link: { delay: 10 } });
    expect(plain.handshake()).toBe(true);
    plain.run(() => false, 3_000);
    expect(plain.client.stats.packetsLost).toBe(0);
    const pair = new Pair({ link: { delay: 10 }, server: { retry: true } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 3_000);
    expect(pair.client.stats.packetsLost).toBe(0);
  });
});
