/**
 * Hostile input must not grow memory without bound: a peer that never acknowledges anything (it
 * violates RFC 9000 §13.2.1, but nothing stops it) and keeps the connection alive with PINGs makes
 * us send an ACK-only packet for every other PING (§13.2.2). Their records are kept until the peer
 * acknowledges them, so without a bound they pile up; with it the oldest are forgotten beyond
 * MAX_ACK_ONLY_RECORDS (recovery/sent-packets.ts), and the connection still answers every PING.
 */
import { describe, expect, it } from 'vitest';
import type { QlogEvent } from '../../../src/quic/connection.js';
import { MAX_ACK_ONLY_RECORDS } from '../../../src/quic/recovery/sent-packets.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';
import { Pair } from '../sim/harness.js';

/** The parts of a connection this test reaches into (private fields, read and patched here only). */
interface Internals {
  /** Ends the quiet state and tells the router, as every public call that can queue output does. */
  wake(): void;
  spaces: { probesOwed: number; ack: { hasUnreportedPackets(): boolean; ackDue(now: number): boolean; nextAckDeadline(): number | undefined } }[];
  loss: { outstanding(space: PacketNumberSpace): number; spaces: { sent: { ackOnlySize: number } }[] };
}

describe('ACK-only records are bounded (RFC 9000 §13.2.4, RFC 9002 §2)', () => {
  it('a peer that sends only PINGs and never acknowledges leaves at most MAX_ACK_ONLY_RECORDS ACK-only records', () => {
    let ackOnlySent = 0;
    const qlog = (e: QlogEvent): void => {
      const frames = e.data['frames'] as string[] | undefined;
      if (e.name === 'transport:packet_sent' && e.data['packet_type'] === '1rtt' && frames?.every((f) => f === 'ack')) ackOnlySent++;
    };
    const pair = new Pair({ client: { qlog: () => qlog } });
    expect(pair.handshake()).toBe(true);
    pair.run(() => false, 200); // HANDSHAKE_DONE and the last ACKs of the handshake
    const server = pair.server! as unknown as Internals;
    const client = pair.client as unknown as Internals;
    // From now on the server acknowledges nothing in 1-RTT packets…
    const serverAcks = server.spaces[PacketNumberSpace.ApplicationData]!.ack;
    serverAcks.hasUnreportedPackets = () => false;
    serverAcks.ackDue = () => false;
    serverAcks.nextAckDeadline = () => undefined;
    // …and sends a PING every 5 ms (a probe with nothing else to send is a PING, RFC 9002 §6.2.4).
    const rounds = 3000;
    let peak = 0;
    for (let i = 0; i < rounds; i++) {
      server.spaces[PacketNumberSpace.ApplicationData]!.probesOwed = 1;
      server.wake(); // as a public call that queues output would (connection.ts `quiet`)
      pair.run(() => false, 5);
      peak = Math.max(peak, client.loss.spaces[PacketNumberSpace.ApplicationData]!.sent.ackOnlySize);
    }
    expect(pair.client.state).toBe('established');
    // The client kept acknowledging (one ACK per two ack-eliciting packets, RFC 9000 §13.2.2)…
    expect(ackOnlySent).toBeGreaterThan(2 * MAX_ACK_ONLY_RECORDS);
    // …but keeps no more than the bound of their records (without it: every one of them).
    expect(peak).toBe(MAX_ACK_ONLY_RECORDS);
    // What else is outstanding are its own ack-eliciting packets (the PING of §13.2.4 and PTO probes),
    // which the congestion window and the probe backoff bound.
    expect(client.loss.outstanding(PacketNumberSpace.ApplicationData)).toBeLessThan(MAX_ACK_ONLY_RECORDS + 400);
  });
});
