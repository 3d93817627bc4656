/**
 * A Retry resets loss recovery for the Initial packets it answers (RFC 9002 §6.3, RFC 9000
 * §17.2.5): they are neither acknowledged nor lost, so they leave the flight without a loss
 * signal, and the ClientHello goes again in a new Initial.
 */
import { describe, expect, it } from 'vitest';
import { Pair } from '../sim/harness.js';

describe('Retry and loss recovery (RFC 9002 §6.3)', () => {
  it('a handshake through Retry on a clean link declares no client packet lost', () => {
    const pair = new Pair({ server: { retry: true } });
    expect(pair.handshake()).toBe(true);
    expect(pair.serverSent[0]!.data[0]! & 0xf0).toBe(0xf0); // the first server datagram is a Retry
    expect(pair.client.stats.packetsLost).toBe(0);
  });
});
