/**
 * Loss detection across a change of path (RFC 9000 §9.4): after startPath() the RTT estimator and
 * the congestion controller are at their initial values (RFC 9002 Appendices A.3, B.3); packets sent
 * before it are still acknowledged or declared lost (their frames count) but feed neither; the state
 * kept aside comes back with restorePath() (RFC 9000 §9.3.2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cubic } from '../../../src/quic/congestion/cubic.js';
import { NewReno } from '../../../src/quic/congestion/new-reno.js';
import { initialWindow } from '../../../src/quic/congestion/window.js';
import type { AckFrameInfo } from '../../../src/quic/recovery/ack-frame.js';
import { LossDetection, OFF_PATH } from '../../../src/quic/recovery/loss-detection.js';
import { INITIAL_RTT } from '../../../src/quic/recovery/rtt.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

const App = PacketNumberSpace.ApplicationData;

function ack(ranges: [number, number][], ackDelay = 0): AckFrameInfo {
  return { largest: ranges[0]![1], ackDelay, ranges };
}

/** A connection-like sender: packets 0..n-1 sent 1 ms apart, then an ACK of 0..k grows the window. */
function established(sent = 20, acked = 9) {
  const ld = new LossDetection<string>({ isServer: true, congestion: new NewReno(1200), peerMaxAckDelay: 25 });
  ld.onHandshakeConfirmed(0);
  let pn = 0;
  const send = (now: number) => ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: `pn${pn++}` }, now);
  for (let i = 0; i < sent; i++) send(i);
  ld.onAckReceived(App, ack([[0, acked]]), 50);
  return { ld, send, next: () => pn };
}

describe('LossDetection.startPath (RFC 9000 §9.4)', () => {
  it('resets the RTT estimator and the window to initial values, with nothing in flight and no PTO backoff', () => {
    const { ld } = established();
    expect(ld.rtt.hasSample).toBe(true);
    expect(ld.congestion.congestionWindow).toBeGreaterThan(initialWindow(1200));
    expect(ld.congestion.bytesInFlight).toBe(10 * 1200);
    ld.ptoCount = 3;
    ld.startPath(1200, true, 100);
    expect(ld.rtt.hasSample).toBe(false);
    expect(ld.rtt.smoothedRtt).toBe(INITIAL_RTT);
    expect(ld.rtt.rttvar).toBe(INITIAL_RTT / 2);
    expect(ld.congestion.congestionWindow).toBe(initialWindow(1200));
    expect(ld.congestion.ssthresh).toBe(Infinity);
    expect(ld.congestion.bytesInFlight).toBe(0);
    expect(ld.ptoCount).toBe(0);
    // The old packets are still outstanding: the timer still watches them.
    expect(ld.outstanding(App)).toBe(10);
    expect(ld.nextTimeout()).toBeDefined();
  });

  it('keeps the algorithm and its options (a CUBIC path gets a fresh CUBIC)', () => {
    const ld = new LossDetection<string>({ isServer: true, congestion: new Cubic(1200, { hystart: false }) });
    ld.startPath(1200, false, 0);
    expect(ld.congestion).toBeInstanceOf(Cubic);
    expect((ld.congestion as Cubic).hystartPhase).toBe('off');
  });

  it('an ACK of old-path packets acknowledges them but changes neither the window nor the RTT estimate', () => {
    const { ld } = established();
    ld.startPath(1200, false, 100);
    const r = ld.onAckReceived(App, ack([[10, 19]], 0), 130);
    expect(r.acked.map((p) => p.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `pn${10 + i}`));
    expect(r.rttSampled).toBe(false);
    expect(ld.rtt.hasSample).toBe(false);
    expect(ld.rtt.smoothedRtt).toBe(INITIAL_RTT);
    expect(ld.congestion.congestionWindow).toBe(initialWindow(1200));
    expect(ld.congestion.bytesInFlight).toBe(0);
  });

  it('a loss of old-path packets is no congestion event and no persistent congestion', () => {
    const { ld, send } = established();
    ld.startPath(1200, false, 100);
    // New-path packets, then an ACK of the newest: packets 10..19 are lost by the packet threshold.
    for (let i = 0; i < 4; i++) send(200 + i);
    const r = ld.onAckReceived(App, ack([[23, 23]]), 10_000);
    expect(r.lost.map((p) => p.packetNumber)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    // Packet 20 is of the new path: its loss is the one congestion event.
    expect(ld.congestion.ssthresh).toBe(initialWindow(1200) / 2);
    expect(r.persistentCongestion).toBe(false);
  });

  it('only old-path losses: the new window is untouched', () => {
    const { ld, send } = established();
    ld.startPath(1200, false, 100);
    send(200);
    send(201);
    send(202);
    send(203);
    const r = ld.onAckReceived(App, ack([[20, 23]]), 400);
    expect(r.lost.map((p) => p.packetNumber)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(r.rttSampled).toBe(true);
    expect(r.persistentCongestion).toBe(false);
    expect(ld.congestion.ssthresh).toBe(Infinity);
    // Slow start grew the new window by the four new-path packets only.
    expect(ld.congestion.congestionWindow).toBe(initialWindow(1200) + 4 * 1200);
    expect(ld.congestion.bytesInFlight).toBe(0);
    expect(ld.rtt.latestRtt).toBe(400 - 203);
  });

  it('packets sent after the change count for the new path', () => {
    const { ld, send } = established();
    ld.startPath(1200, false, 100);
    send(100);
    expect(ld.congestion.bytesInFlight).toBe(1200);
    const r = ld.onAckReceived(App, ack([[20, 20]]), 140);
    expect(r.rttSampled).toBe(true);
    expect(ld.rtt.smoothedRtt).toBe(40);
  });
});

describe('LossDetection.restorePath (RFC 9000 §9.3.2)', () => {
  it('brings back the kept state, less its packets acknowledged meanwhile; the abandoned path\'s packets count for nothing', () => {
    const { ld, send } = established();
    const window = ld.congestion.congestionWindow;
    const smoothed = ld.rtt.smoothedRtt;
    ld.startPath(1200, true, 100);
    send(110); // packet 20, on the path being validated
    // Old-path packets 10..14 acknowledged while the new path is tried.
    ld.onAckReceived(App, ack([[10, 14]]), 120);
    expect(ld.restorePath(130)).toBe(true);
    expect(ld.congestion.congestionWindow).toBe(window);
    expect(ld.rtt.smoothedRtt).toBe(smoothed);
    expect(ld.congestion.bytesInFlight).toBe(5 * 1200);
    // Packet 20 (the abandoned path's) is acknowledged: no RTT sample. The restored path's packets
    // 15..19 it shows lost (packet and time threshold) leave its flight.
    const r = ld.onAckReceived(App, ack([[20, 20]]), 140);
    expect(r.rttSampled).toBe(false);
    expect(ld.rtt.smoothedRtt).toBe(smoothed);
    expect(r.lost.map((p) => p.packetNumber)).toEqual([15, 16, 17, 18, 19]);
    expect(ld.congestion.bytesInFlight).toBe(0);
    expect(ld.restorePath(150)).toBe(false);
  });

  it('a second startPath keeps the first kept state (the last validated path)', () => {
    const { ld } = established();
    const window = ld.congestion.congestionWindow;
    ld.startPath(1200, true, 100);
    ld.startPath(1200, true, 110);
    expect(ld.restorePath(120)).toBe(true);
    expect(ld.congestion.congestionWindow).toBe(window);
  });

  it('startPath without keep drops the kept state', () => {
    const { ld } = established();
    ld.startPath(1200, true, 100);
    ld.startPath(1200, false, 110);
    expect(ld.hasStateAside).toBe(false);
    expect(ld.restorePath(120)).toBe(false);
  });

  it('bytes in flight of every state stay equal to its outstanding packets, whatever the ACKs and changes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('send' as const) }),
            fc.record({ op: fc.constant('ack' as const), from: fc.nat(60), length: fc.integer({ min: 1, max: 5 }) }),
            fc.record({ op: fc.constant('start' as const), keep: fc.boolean() }),
            fc.record({ op: fc.constant('restore' as const) }),
          ),
          { maxLength: 80 },
        ),
        (ops) => {
          const ld = new LossDetection<number>({ isServer: true, congestion: new NewReno(1200) });
          ld.onHandshakeConfirmed(0);
          const outstanding = new Map<number, number>(); // packet number → path id
          let pn = 0;
          let now = 0;
          const expectFlight = () => {
            let mine = 0;
            for (const path of outstanding.values()) if (path === ld.pathId) mine += 1200;
            expect(ld.congestion.bytesInFlight).toBe(mine);
          };
          for (const o of ops) {
            now += 1;
            if (o.op === 'send') {
              outstanding.set(pn, ld.pathId);
              ld.onPacketSent(App, { packetNumber: pn, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: pn }, now);
              pn++;
            } else if (o.op === 'ack') {
              const largest = Math.min(o.from + o.length - 1, pn - 1);
              if (largest < o.from) continue;
              const r = ld.onAckReceived(App, ack([[o.from, largest]]), now);
              for (const p of [...r.acked, ...r.lost]) outstanding.delete(p.packetNumber);
            } else if (o.op === 'start') {
              ld.startPath(1200, o.keep, now);
            } else {
              ld.restorePath(now);
            }
            expectFlight();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('packets sent off the path in use (PacketToTrack.offPath, RFC 9000 §9.3.3, §9.4)', () => {
  it('a challenge to the previously active path gives no RTT sample and spends or grows no window', () => {
    const ld = new LossDetection<string>({ isServer: true, congestion: new NewReno(1200), peerMaxAckDelay: 25 });
    ld.onHandshakeConfirmed(0);
    ld.onPacketSent(App, { packetNumber: 0, ackEliciting: true, inFlight: true, sentBytes: 1200, payload: 'pn0' }, 0);
    ld.onAckReceived(App, ack([[0, 0]]), 30);
    const rtt = { smoothed: ld.rtt.smoothedRtt, latest: ld.rtt.latestRtt };
    expect(rtt.latest).toBe(30);
    const { congestionWindow } = ld.congestion;
    // Even counted in flight, it spends nothing of this path's window.
    const sent = ld.onPacketSent(App, { packetNumber: 1, ackEliciting: true, inFlight: true, offPath: true, sentBytes: 1200, payload: 'old path' }, 40);
    expect(sent.path).toBe(OFF_PATH);
    expect(ld.congestion.bytesInFlight).toBe(0);
    // Acknowledged as the largest, 400 ms later: no sample, no window change.
    const result = ld.onAckReceived(App, ack([[1, 1]]), 440);
    expect(result.acked.map((p) => p.payload)).toEqual(['old path']);
    expect(result.rttSampled).toBe(false);
    expect(ld.rtt.smoothedRtt).toBe(rtt.smoothed);
    expect(ld.rtt.latestRtt).toBe(30);
    expect(ld.congestion.congestionWindow).toBe(congestionWindow);
    expect(ld.congestion.bytesInFlight).toBe(0);
  });
});
