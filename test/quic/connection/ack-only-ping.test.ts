/**
 * RFC 9000 §13.2.4: a receiver that sends only ACK frames gets no acknowledgement for them from a
 * peer that acknowledges only ack-eliciting packets (§13.2.1 allows that), and would keep every one
 * in its sent-packet table. After 19 ACK-only 1-RTT packets in a row, the next ACK carries a PING.
 */
import { describe, expect, it } from 'vitest';
import type { QlogEvent } from '../../../src/quic/connection.js';
import { Pair } from '../sim/harness.js';

describe('a run of ACK-only packets is broken by a PING (RFC 9000 §13.2.4)', () => {
  it('a client that only acknowledges sends no more than 19 packets in a row without an ack-eliciting frame', () => {
    const sent: string[][] = [];
    const qlog = (e: QlogEvent): void => {
      if (e.name === 'transport:packet_sent' && e.data['packet_type'] === '1rtt') sent.push(e.data['frames'] as string[]);
    };
    const pair = new Pair({ client: { qlog: () => qlog } });
    expect(pair.handshake()).toBe(true);
    const server = pair.server!;
    const id = server.openStream(false)!;
    // One byte every 30 ms: each server packet is ack-eliciting, the client answers each with an
    // ACK (max_ack_delay 25 ms) and has nothing else to say: 120 bytes need no flow-control credit.
    for (let i = 0; i < 120; i++) {
      server.write(id, Buffer.of(i), i === 119);
      pair.run(() => false, 30);
    }
    sent.splice(0, sent.findIndex((frames) => frames.length === 1 && frames[0] === 'ack'));
    let run = 0;
    let longest = 0;
    const pings = sent.filter((frames) => frames.includes('ping') && frames.includes('ack')).length;
    for (const frames of sent) {
      const ackEliciting = frames.some((f) => f !== 'ack' && f !== 'padding');
      run = ackEliciting ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    expect(sent.length).toBeGreaterThan(100);
    expect(longest).toBeLessThanOrEqual(19);
    expect(pings).toBeGreaterThanOrEqual(4);
  });
});
