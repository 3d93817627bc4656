import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/core/errors.js';
import { NewReno } from '../../../src/quic/congestion/new-reno.js';
import type { AckFrameInfo } from '../../../src/quic/recovery/ack-frame.js';
import { LossDetection } from '../../../src/quic/recovery/loss-detection.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

const { Initial, Handshake, ApplicationData: App } = PacketNumberSpace;

function ack(ranges: [number, number][], ackDelay = 0, ecn?: AckFrameInfo['ecn']): AckFrameInfo {
  return { largest: ranges[0]![1], ackDelay, ranges, ...(ecn ? { ecn } : {}) };
}

function setup(isServer = true, confirmed = true) {
  const cc = new NewReno(1200);
  const ld = new LossDetection<string>({ isServer, congestion: cc, peerMaxAckDelay: 25 });
  if (confirmed) ld.onHandshakeConfirmed(0);
  const send = (space: PacketNumberSpace, pn: number, now: number, ackEliciting = true, bytes = 1200) =>
    ld.onPacketSent(space, { packetNumber: pn, ackEliciting, inFlight: true, sentBytes: bytes, payload: `pn${pn}` }, now);
  return { cc, ld, send };
}

describe('LossDetection: ACK processing (RFC 9002 §5.1, §6.1)', () => {
  it('removes acknowledged packets and takes an RTT sample from the largest', () => {
    const { ld, cc, send } = setup();
    send(App, 0, 0);
    send(App, 1, 10);
    expect(cc.bytesInFlight).toBe(2400);
    const r = ld.onAckReceived(App, ack([[0, 1]], 5), 60);
    expect(r.acked.map((p) => p.payload)).toEqual(['pn0', 'pn1']);
    expect(r.lost).toEqual([]);
    expect(r.rttSampled).toBe(true);
    expect(ld.rtt.latestRtt).toBe(50);
    expect(cc.bytesInFlight).toBe(0);
    expect(ld.nextTimeout()).toBeUndefined();
  });

  it('no RTT sample when the largest acknowledged was already acknowledged (§5.1)', () => {
    const { ld, send } = setup();
    send(App, 0, 0);
    send(App, 1, 0);
    send(App, 2, 0);
    ld.onAckReceived(App, ack([[2, 2]]), 40);
    expect(ld.rtt.latestRtt).toBe(40);
    const r = ld.onAckReceived(App, ack([[1, 2]]), 90);
    expect(r.acked.map((p) => p.packetNumber)).toEqual([1]);
    expect(r.rttSampled).toBe(false);
    expect(ld.rtt.latestRtt).toBe(40);
  });

  it('no RTT sample when no newly acknowledged packet is ack-eliciting (§5.1)', () => {
    const { ld, send } = setup();
    send(App, 0, 0, false);
    const r = ld.onAckReceived(App, ack([[0, 0]]), 30);
    expect(r.rttSampled).toBe(false);
    expect(ld.rtt.hasSample).toBe(false);
  });

  it('packet threshold 3 and time threshold 9/8 × max(smoothed, latest) with exact timer values', () => {
    const { ld, send } = setup();
    for (let pn = 0; pn < 5; pn++) send(App, pn, pn);
    // ACK of 3 at t=50: latest_rtt = 47 = smoothed_rtt. Packet 0 is lost by packet threshold
    // (3 >= 0 + 3); 1 and 2 are younger than the loss delay 9/8 × 47 = 52.875 ms.
    const r = ld.onAckReceived(App, ack([[3, 3]]), 50);
    expect(r.lost.map((p) => p.packetNumber)).toEqual([0]);
    expect(ld.nextTimeout()).toBe(1 + 52.875);
    expect(ld.onLossDetectionTimeout(53)).toEqual({ kind: 'none' });
    const t1 = ld.onLossDetectionTimeout(53.875);
    expect(t1.kind).toBe('lost');
    expect(t1.kind === 'lost' && t1.packets.map((p) => p.packetNumber)).toEqual([1]);
    expect(ld.nextTimeout()).toBe(2 + 52.875);
    const t2 = ld.onLossDetectionTimeout(54.875);
    expect(t2.kind === 'lost' && t2.packets.map((p) => p.packetNumber)).toEqual([2]);
    // Only packet 4 (above the largest acknowledged) remains: PTO from its send time.
    // PTO = 47 + 4 × 23.5 + 25 = 166 ms.
    expect(ld.nextTimeout()).toBe(4 + 166);
  });

  it('a time-threshold timer firing at loss_time always declares the packet lost (float rounding)', () => {
    const { ld, send } = setup();
    send(App, 0, 0.1);
    send(App, 1, 1);
    ld.onAckReceived(App, ack([[1, 1]]), 113.5); // RTT 112.5 → loss delay 126.5625
    const at = ld.nextTimeout()!;
    expect(at).toBe(0.1 + 126.5625); // and (0.1 + 126.5625) − 126.5625 < 0.1 in binary floating point
    const action = ld.onLossDetectionTimeout(at);
    expect(action.kind === 'lost' && action.packets.map((p) => p.packetNumber)).toEqual([0]);
  });

  it('time threshold never goes below kGranularity (§6.1.2)', () => {
    const { ld, send } = setup();
    send(App, 0, 0);
    send(App, 1, 0.1);
    // RTT 0.2 ms → 9/8 × 0.2 = 0.225 < 1 ms granularity.
    ld.onAckReceived(App, ack([[1, 1]]), 0.3);
    expect(ld.nextTimeout()).toBe(0 + 1);
  });

  it('an ACK for an unsent packet is a PROTOCOL_VIOLATION (RFC 9000 §13.1), state untouched', () => {
    const { ld, cc, send } = setup();
    send(App, 0, 0);
    const err = (() => {
      try {
        ld.onAckReceived(App, ack([[1, 1]]), 10);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(0x0a);
    expect((err as ProtocolError).section).toBe('RFC 9000 §13.1');
    expect(cc.bytesInFlight).toBe(1200);
    expect(ld.largestAcked(App)).toBeUndefined();
    // And in a space where nothing was sent at all.
    expect(() => ld.onAckReceived(Handshake, ack([[0, 0]]), 10)).toThrow(ProtocolError);
  });

  it('an ACK covering a deliberately skipped packet number is a PROTOCOL_VIOLATION (RFC 9000 §21.4)', () => {
    const { ld, send } = setup();
    send(App, 0, 0);
    ld.skipPacketNumber(App, 1);
    send(App, 2, 1);
    expect(() => send(App, 1, 2)).toThrow(RangeError);
    expect(() => ld.onAckReceived(App, ack([[0, 2]]), 10)).toThrow(expect.objectContaining({ code: 0x0a }));
    const r = ld.onAckReceived(App, ack([[2, 2], [0, 0]]), 10);
    expect(r.acked.map((p) => p.packetNumber)).toEqual([0, 2]);
  });

  it('a malformed range list is a FRAME_ENCODING_ERROR', () => {
    const { ld, send } = setup();
    for (let pn = 0; pn < 10; pn++) send(App, pn, 0);
    const bad: AckFrameInfo[] = [
      { largest: 5, ackDelay: 0, ranges: [] },
      { largest: 5, ackDelay: 0, ranges: [[4, 4]] },
      { largest: 5, ackDelay: 0, ranges: [[3, 5], [4, 4]] },
      { largest: 5, ackDelay: 0, ranges: [[3, 5], [1, 2]] },
      { largest: 5, ackDelay: 0, ranges: [[6, 5]] },
      { largest: 5, ackDelay: -1, ranges: [[5, 5]] },
    ];
    for (const frame of bad) {
      expect(() => ld.onAckReceived(App, frame, 1)).toThrow(expect.objectContaining({ code: 0x07 }));
    }
  });

  it('a validated ECN-CE count increase is a congestion event (RFC 9002 §7.1)', () => {
    const { ld, cc } = setup();
    for (const pn of [0, 1]) {
      ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, ecn: 'ect0', payload: '' }, 0);
    }
    ld.onAckReceived(App, ack([[0, 0]], 0, { ect0: 1, ect1: 0, ce: 0 }), 10);
    expect(cc.congestionWindow).toBe(12000 + 1200);
    ld.onAckReceived(App, ack([[0, 1]], 0, { ect0: 1, ect1: 0, ce: 1 }), 20);
    expect(cc.ssthresh).toBe(6600);
    expect(cc.congestionWindow).toBe(6600);
  });
});

describe('LossDetection: probe timeout (RFC 9002 §6.2)', () => {
  it('arms PTO from the last ack-eliciting packet, with max_ack_delay and exponential backoff', () => {
    const { ld, send } = setup();
    send(App, 0, 0);
    // Initial RTT: 333 + 4 × 166.5 = 999, + max_ack_delay 25 = 1024.
    expect(ld.nextTimeout()).toBe(1024);
    expect(ld.onLossDetectionTimeout(1024)).toEqual({ kind: 'probe', space: App, maxPackets: 2 });
    expect(ld.ptoCount).toBe(1);
    expect(ld.nextTimeout()).toBe(2048);
    send(App, 1, 1030); // the probe
    expect(ld.nextTimeout()).toBe(1030 + 2048);
    expect(ld.onLossDetectionTimeout(3078).kind).toBe('probe');
    expect(ld.ptoCount).toBe(2);
    expect(ld.nextTimeout()).toBe(1030 + 4096);
    expect(ld.ptoPeriod(App)).toBe(4096);
    expect(ld.ptoPeriod(Handshake)).toBe(3996);
    // An acknowledgment resets the backoff.
    ld.onAckReceived(App, ack([[1, 1]]), 3100);
    expect(ld.ptoCount).toBe(0);
  });

  it('Handshake space PTO excludes max_ack_delay; the earliest space wins', () => {
    const { ld, send } = setup(true, false);
    send(Handshake, 0, 0);
    expect(ld.nextTimeout()).toBe(999);
    send(Initial, 0, 10);
    expect(ld.nextTimeout()).toBe(999);
    expect(ld.onLossDetectionTimeout(999)).toEqual({ kind: 'probe', space: Handshake, maxPackets: 2 });
  });

  it('no Application Data PTO before the handshake is confirmed (§6.2.1)', () => {
    const { ld, send } = setup(true, false);
    send(App, 0, 0);
    expect(ld.nextTimeout()).toBeUndefined();
    ld.onHandshakeConfirmed(5);
    expect(ld.nextTimeout()).toBe(1024);
  });

  it('a server at the anti-amplification limit does not arm the PTO (§6.2.2.1)', () => {
    const { ld, send } = setup(true, false);
    send(Initial, 0, 0);
    ld.setAmplificationLimited(true, 1);
    expect(ld.nextTimeout()).toBeUndefined();
    ld.setAmplificationLimited(false, 1500);
    expect(ld.nextTimeout()).toBe(999);
    // The timer is already in the past: the caller runs it now (Appendix A.6).
    expect(ld.onLossDetectionTimeout(1500).kind).toBe('probe');
  });

  it('repeating the same amplification state does not move the timer', () => {
    const { ld, send } = setup(false, false);
    send(Initial, 0, 0);
    ld.onAckReceived(Initial, ack([[0, 0]]), 100);
    expect(ld.nextTimeout()).toBe(400); // client anti-deadlock timer, from t = 100
    ld.setAmplificationLimited(false, 300);
    expect(ld.nextTimeout()).toBe(400);
  });

  it('client anti-deadlock: armed with nothing in flight until the server validated its address', () => {
    const { ld, send } = setup(false, false);
    send(Initial, 0, 0);
    ld.onAckReceived(Initial, ack([[0, 0]]), 100);
    // srtt 100, rttvar 50 → PTO 300 from now.
    expect(ld.nextTimeout()).toBe(400);
    expect(ld.onLossDetectionTimeout(400)).toEqual({ kind: 'anti-deadlock', space: Initial });
    expect(ld.nextTimeout()).toBe(400 + 600);
    ld.onHandshakeKeysAvailable(450);
    expect(ld.nextTimeout()).toBe(450 + 600);
    expect(ld.onLossDetectionTimeout(1050)).toEqual({ kind: 'anti-deadlock', space: Handshake });
    // A Handshake ACK proves the address was validated: no timer with nothing in flight.
    send(Handshake, 0, 1100);
    ld.onAckReceived(Handshake, ack([[0, 0]]), 1200);
    expect(ld.ptoCount).toBe(0);
    expect(ld.nextTimeout()).toBeUndefined();
  });

  it('a timer left to compute after sends is the one of the last send, however late it is read (Appendix A.5)', () => {
    const { ld, send } = setup(false, false);
    send(Initial, 0, 0);
    ld.onAckReceived(Initial, ack([[0, 0]]), 100);
    // A padded Initial without ack-eliciting frames is in flight but arms no PTO of its own: the
    // client's anti-deadlock timer restarts from its send time (200), not from when it is read.
    send(Initial, 1, 150, false);
    send(Initial, 2, 200, false);
    expect(ld.onLossDetectionTimeout(499)).toEqual({ kind: 'none' });
    expect(ld.nextTimeout()).toBe(500);
    expect(ld.onLossDetectionTimeout(500)).toEqual({ kind: 'anti-deadlock', space: Initial });
    // A burst of ack-eliciting packets: the PTO runs from the last one (RFC 9002 §6.2.1).
    send(Initial, 3, 600);
    send(Initial, 4, 610);
    expect(ld.onLossDetectionTimeout(610 + 600 - 1)).toEqual({ kind: 'none' });
    expect(ld.nextTimeout()).toBe(610 + 600);
  });

  it('the client does not reset pto_count on an Initial ACK before address validation (§6.2.1)', () => {
    const { ld, send } = setup(false, false);
    send(Initial, 0, 0);
    send(Initial, 1, 1);
    expect(ld.nextTimeout()).toBe(1000);
    expect(ld.onLossDetectionTimeout(1000).kind).toBe('probe');
    expect(ld.ptoCount).toBe(1);
    ld.onAckReceived(Initial, ack([[0, 0]]), 1200);
    expect(ld.ptoCount).toBe(1);
  });
});

describe('LossDetection: discarding a packet number space (RFC 9002 §6.4)', () => {
  it('removes its packets from bytes in flight without loss, resets PTO and ignores later ACKs', () => {
    const { ld, cc, send } = setup(true, false);
    send(Initial, 0, 0);
    send(Initial, 1, 0);
    send(Handshake, 0, 1);
    ld.onLossDetectionTimeout(999);
    expect(ld.ptoCount).toBe(1);
    const dropped = ld.discardSpace(Initial, 10);
    expect(dropped.map((p) => p.payload)).toEqual(['pn0', 'pn1']);
    expect(cc.bytesInFlight).toBe(1200);
    expect(cc.congestionWindow).toBe(12000);
    expect(ld.ptoCount).toBe(0);
    expect(ld.nextTimeout()).toBe(1 + 999);
    expect(ld.onAckReceived(Initial, ack([[0, 1]]), 20).acked).toEqual([]);
    expect(() => send(Initial, 2, 30)).toThrow(RangeError);
  });
});

describe('LossDetection: Retry (RFC 9002 §6.3)', () => {
  it('returns the Initial packets for resending, empties the flight and keeps packet numbers increasing', () => {
    const { ld, cc, send } = setup(false, false);
    send(Initial, 0, 0);
    send(Initial, 1, 0);
    expect(ld.onLossDetectionTimeout(999).kind).toBe('probe');
    const resent = ld.onRetryReceived(1000);
    expect(resent.map((p) => p.payload)).toEqual(['pn0', 'pn1']);
    expect(cc.bytesInFlight).toBe(0);
    expect(ld.ptoCount).toBe(0);
    // Nothing in flight and no Handshake ACK yet: the client keeps an anti-deadlock timer.
    expect(ld.nextTimeout()).toBe(1000 + 999);
    expect(() => send(Initial, 1, 1001)).toThrow(RangeError);
    send(Initial, 2, 1001);
    expect(ld.nextTimeout()).toBe(1001 + 999);
  });
});

describe('LossDetection: persistent congestion (RFC 9002 §7.6.2 example)', () => {
  it('packets 2–8 lost over 7 periods > 3 × 2 establish persistent congestion', () => {
    // One time unit of the RFC's table is 100 ms here. An RTT sample from the handshake exists
    // before t=0 (40 ms), so every packet in the table is sent after the first RTT sample.
    // With max_ack_delay = 100 and the ACK of #1 taking an 80 ms ack delay, smoothed_rtt stays
    // 40 and rttvar becomes 15: smoothed_rtt + max(4·rttvar, 1) + max_ack_delay = 200 = 2 units.
    const cc = new NewReno(1200);
    const ld = new LossDetection<string>({ isServer: true, congestion: cc, peerMaxAckDelay: 100 });
    const send = (pn: number, now: number) =>
      ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: '' }, now);
    ld.onPacketSent(Handshake, { packetNumber: 0, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: '' }, -100);
    ld.onAckReceived(Handshake, ack([[0, 0]]), -60);
    ld.discardSpace(Handshake, -50);
    ld.onHandshakeConfirmed(-50);

    send(1, 0);
    send(2, 100);
    ld.onAckReceived(App, ack([[1, 1]], 80), 120);
    expect(ld.rtt.smoothedRtt).toBe(40);
    expect(ld.rtt.rttvar).toBe(15);
    expect(ld.persistentCongestionDuration()).toBe(600);
    for (let pn = 3; pn <= 7; pn++) send(pn, (pn - 1) * 100);
    // PTO 1 at t=8 (units) and PTO 2 at t=12, exactly as in the table.
    expect(ld.nextTimeout()).toBe(800);
    expect(ld.onLossDetectionTimeout(800).kind).toBe('probe');
    send(8, 800);
    expect(ld.nextTimeout()).toBe(1200);
    expect(ld.onLossDetectionTimeout(1200).kind).toBe('probe');
    send(9, 1200);

    const r = ld.onAckReceived(App, ack([[9, 9]]), 1220);
    expect(r.lost.map((p) => p.packetNumber)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(r.persistentCongestion).toBe(true);
    // Appendix B.8 collapses the window to kMinimumWindow (2400); Appendix A.7 then passes the
    // ACK of #9 (sent after recovery was reset) to slow start: 2400 + 1200.
    expect(cc.congestionWindow).toBe(3600);
    expect(cc.ssthresh).toBe(7200); // half of 12000 + 2 × 1200 grown by the two earlier ACKs
  });

  it('no persistent congestion when a packet sent in the period was acknowledged', () => {
    const cc = new NewReno(1200);
    const ld = new LossDetection<string>({ isServer: true, congestion: cc, peerMaxAckDelay: 100 });
    ld.onHandshakeConfirmed(0);
    const send = (pn: number, now: number) =>
      ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: '' }, now);
    send(0, 0);
    ld.onAckReceived(App, ack([[0, 0]]), 40);
    for (let pn = 1; pn <= 9; pn++) send(pn, pn * 100);
    ld.onAckReceived(App, ack([[5, 5]]), 560); // acknowledges a packet in the middle
    const r = ld.onAckReceived(App, ack([[9, 9], [5, 5]]), 1000);
    expect(r.lost.length).toBeGreaterThan(0);
    expect(r.persistentCongestion).toBe(false);
    expect(cc.congestionWindow).toBeGreaterThan(2400);
  });

  it('an acknowledged packet of another space sent in the period also prevents it (§7.6.2 "across all spaces")', () => {
    const run = (ackHandshakeInBetween: boolean) => {
      const cc = new NewReno(1200);
      const ld = new LossDetection<string>({ isServer: false, congestion: cc, peerMaxAckDelay: 0 });
      const track = (space: PacketNumberSpace, pn: number, now: number) =>
        ld.onPacketSent(space, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: '' }, now);
      track(Handshake, 0, 0);
      ld.onAckReceived(Handshake, ack([[0, 0]]), 10);
      for (let pn = 0; pn <= 3; pn++) track(App, pn, 100 + pn * 40); // 100, 140, 180, 220
      track(Handshake, 1, 170); // sent between App 1 and App 2
      if (ackHandshakeInBetween) ld.onAckReceived(Handshake, ack([[1, 1]]), 175);
      track(App, 4, 390);
      const r = ld.onAckReceived(App, ack([[4, 4]]), 400);
      expect(r.lost.map((p) => p.packetNumber)).toEqual([0, 1, 2, 3]);
      // RTT samples of 10, (5) and 10 ms keep the duration under 80 ms; the losses span 120 ms.
      expect(ld.persistentCongestionDuration()).toBeLessThan(80);
      return r.persistentCongestion;
    };
    expect(run(false)).toBe(true);
    // The acknowledged Handshake packet splits the losses into 100–140 and 180–220 ms.
    expect(run(true)).toBe(false);
  });

  it('packets kept out of flight (DPLPMTUD probes, RFC 9000 §14.4) establish none, however far apart', () => {
    const cc = new NewReno(1200);
    const ld = new LossDetection<string>({ isServer: true, congestion: cc, peerMaxAckDelay: 0 });
    ld.onHandshakeConfirmed(0);
    ld.onPacketSent(App, { packetNumber: 0, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: '' }, 0);
    ld.onAckReceived(App, ack([[0, 0]]), 10);
    // Probes 20 s apart, each lost, none acknowledged in between.
    for (let pn = 1; pn <= 4; pn++) {
      ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: false, sentBytes: 1452, payload: 'probe' }, pn * 20_000);
    }
    ld.onPacketSent(App, { packetNumber: 5, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: '' }, 100_000);
    const window = cc.congestionWindow;
    const r = ld.onAckReceived(App, ack([[5, 5]]), 100_010);
    expect(r.lost.map((p) => p.payload)).toEqual(['probe', 'probe', 'probe', 'probe']);
    expect(r.persistentCongestion).toBe(false);
    expect(cc.congestionWindow).toBeGreaterThanOrEqual(window);
  });

  it('no persistent congestion without an RTT sample before the packets were sent', () => {
    const cc = new NewReno(1200);
    const ld = new LossDetection<string>({ isServer: true, congestion: cc, peerMaxAckDelay: 0 });
    ld.onHandshakeConfirmed(0);
    for (let pn = 0; pn <= 20; pn++) {
      ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: '' }, pn * 1000);
    }
    const r = ld.onAckReceived(App, ack([[20, 20]]), 20_010);
    expect(r.lost.length).toBe(20);
    expect(r.persistentCongestion).toBe(false);
  });
});

describe('LossDetection under arbitrary ACKs', () => {
  it('never throws anything but ProtocolError and keeps bytes in flight consistent', () => {
    const rangeList = fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('send' as const), rangeList, fc.constant('timer' as const)), { maxLength: 80 }), (ops) => {
        const { ld, cc, send } = setup();
        let pn = 0;
        let now = 0;
        const inFlight = new Map<number, number>();
        for (const op of ops) {
          now += 7;
          if (op === 'send') {
            send(App, pn, now, pn % 3 !== 0, 1000 + pn);
            inFlight.set(pn, 1000 + pn);
            pn++;
          } else if (op === 'timer') {
            const t = ld.nextTimeout();
            if (t !== undefined) {
              now = Math.max(now, t);
              const action = ld.onLossDetectionTimeout(now);
              if (action.kind === 'lost') for (const p of action.packets) inFlight.delete(p.packetNumber);
            }
          } else {
            // Build any range list, valid or not, from (start, length) pairs, highest first.
            const ranges = op.map(([s, len]) => [s, s + len] as [number, number]).sort((a, b) => b[0] - a[0]);
            try {
              const r = ld.onAckReceived(App, { largest: ranges[0]![1], ackDelay: 1, ranges }, now);
              for (const p of [...r.acked, ...r.lost]) inFlight.delete(p.packetNumber);
            } catch (e) {
              expect(e).toBeInstanceOf(ProtocolError);
            }
          }
          let expected = 0;
          for (const bytes of inFlight.values()) expected += bytes;
          expect(cc.bytesInFlight).toBe(expected);
          expect(ld.outstanding(App)).toBe(inFlight.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
