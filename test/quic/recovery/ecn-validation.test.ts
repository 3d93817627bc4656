import { describe, expect, it } from 'vitest';
import type { AckFrameInfo, EcnCounts } from '../../../src/quic/recovery/ack-frame.js';
import { ECN_TESTING_PACKETS, ECN_TESTING_PTOS, EcnValidator, type SentEcn } from '../../../src/quic/recovery/ecn-validation.js';
import type { SentPacket } from '../../../src/quic/recovery/sent-packets.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

const App = PacketNumberSpace.ApplicationData;
const sent = (packetNumber: number, ecn: SentEcn = 'ect0'): SentPacket<null> => ({
  packetNumber, space: App, timeSent: 0, ackEliciting: true, inFlight: true, sentBytes: 1200, path: 0, ecn, payload: null,
});
const ack = (largest: number, ecn?: EcnCounts): AckFrameInfo => ({ largest, ackDelay: 0, ranges: [[0, largest]], ...(ecn ? { ecn } : {}) });

/** A validator that has sent `n` ECT(0) packets. */
function marked(n: number): EcnValidator {
  const v = new EcnValidator();
  for (let i = 0; i < n; i++) v.onPacketSent(v.codepointToSend());
  return v;
}

describe('ECN validation (RFC 9000 §13.4.2, Appendix A.4)', () => {
  it('marks ECT(0) while testing, then waits ("unknown") after 10 packets or 3 PTOs', () => {
    const v = marked(ECN_TESTING_PACKETS - 1);
    expect(v.codepointToSend()).toBe('ect0');
    v.onPacketSent('ect0');
    expect(v.state).toBe('unknown');
    expect(v.codepointToSend()).toBe('not-ect');

    const w = new EcnValidator();
    for (let i = 0; i < ECN_TESTING_PTOS; i++) w.onProbeTimeout();
    expect(w.state).toBe('unknown');
  });

  it('counts that cover the newly acknowledged ECT(0) packets make the path capable', () => {
    const v = marked(2);
    expect(v.onAck(App, ack(1, { ect0: 2, ect1: 0, ce: 0 }), [sent(0), sent(1)])).toBe(false);
    expect(v.state).toBe('capable');
    expect(v.codepointToSend()).toBe('ect0');
  });

  it('CE counts both validate ECT packets and signal congestion', () => {
    const v = marked(3);
    expect(v.onAck(App, ack(1, { ect0: 1, ect1: 0, ce: 1 }), [sent(0), sent(1)])).toBe(true);
    expect(v.onAck(App, ack(2, { ect0: 2, ect1: 0, ce: 1 }), [sent(2)])).toBe(false);
    expect(v.state).toBe('capable');
  });

  it('fails when ECT packets are acknowledged without ECN counts', () => {
    const v = marked(1);
    v.onAck(App, ack(0), [sent(0)]);
    expect(v.state).toBe('failed');
    expect(v.codepointToSend()).toBe('not-ect');
  });

  it('fails when the counts grew less than the ECT packets acknowledged (bleached marks)', () => {
    const v = marked(2);
    v.onAck(App, ack(1, { ect0: 1, ect1: 0, ce: 0 }), [sent(0), sent(1)]);
    expect(v.state).toBe('failed');
  });

  it('fails on a count for a codepoint never sent, or on counts going down', () => {
    const v = marked(1);
    v.onAck(App, ack(0, { ect0: 1, ect1: 1, ce: 0 }), [sent(0)]);
    expect(v.state).toBe('failed');

    const w = marked(2);
    w.onAck(App, ack(0, { ect0: 1, ect1: 0, ce: 1 }), [sent(0)]);
    w.onAck(App, ack(1, { ect0: 2, ect1: 0, ce: 0 }), [sent(1)]);
    expect(w.state).toBe('failed');
  });

  it('skips ACK frames that do not increase the Largest Acknowledged (reordered ACKs)', () => {
    const v = marked(2);
    v.onAck(App, ack(1, { ect0: 2, ect1: 0, ce: 0 }), [sent(0), sent(1)]);
    expect(v.onAck(App, ack(1, { ect0: 0, ect1: 0, ce: 5 }), [])).toBe(false);
    expect(v.state).toBe('capable');
  });

  it('a failed path never reports congestion from counts', () => {
    const v = marked(1);
    v.onAck(App, ack(0), [sent(0)]);
    expect(v.onAck(App, ack(1, { ect0: 0, ect1: 0, ce: 3 }), [sent(1, 'not-ect')])).toBe(false);
  });
});
