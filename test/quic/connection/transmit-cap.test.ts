/**
 * transmit() returns at most maxDatagramsPerTransmit datagrams per call (so one call never
 * monopolises the event loop). A call cut short by that cap, with congestion window and pacing
 * budget left (RFC 9002 §7, §7.7), must ask for the next call at once through nextTimeout():
 * nothing else would wake the sender before the next ACK or timer.
 */
import { describe, expect, it } from 'vitest';
import { DirectPair } from '../sim/direct-pair.js';
import { pattern, sha256, StreamSink } from '../sim/harness.js';

describe('transmit() per-call cap', () => {
  it('a call stopped at the cap schedules the next one now, and the transfer completes', () => {
    const cap = 2;
    const pair = new DirectPair({ maxDatagramsPerTransmit: cap });
    expect(pair.handshake()).toBe(true);
    const sink = new StreamSink();
    pair.onServerEvent = (e) => sink.onEvent(e);
    let capped = 0;
    let largest = 0;
    pair.onClientTransmit = (count, next) => {
      largest = Math.max(largest, count);
      if (count < cap) return;
      capped++;
      expect(next).toBe(pair.now);
    };
    const body = pattern(300_000);
    const id = pair.upload(body);
    expect(pair.run(() => sink.finished.has(id))).toBe(true);
    expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(largest).toBe(cap);
    expect(capped).toBeGreaterThan(20);
  });

  it('a call that sends everything there is asks for no immediate wake-up', () => {
    const pair = new DirectPair({ maxDatagramsPerTransmit: 4 });
    expect(pair.handshake()).toBe(true);
    const id = pair.client.openStream()!;
    pair.client.write(id, Buffer.from('small'), true);
    const sent = pair.client.transmit(pair.now);
    expect(sent.length).toBe(1);
    expect(pair.client.nextTimeout()).toBeGreaterThan(pair.now);
  });
});
