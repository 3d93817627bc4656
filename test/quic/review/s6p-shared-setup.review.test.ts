/**
 * Review of c14ba44 (issue 5): objects now shared by every connection instead of spread per
 * connection. The ACK decimation options are one module constant that each connection's ACK
 * tracker adjusts to its own RTT (RFC 9000 §13.2.1: an ACK within max_ack_delay; the decimated
 * group within a quarter of the minimum RTT), and the default transport settings one plain object.
 * Checked: one connection's RTT does not move another's decimation delay, a later connection
 * starts from the initial value, and one connection's settings are its own.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/quic/connection.js';
import { AckTracker } from '../../../src/quic/recovery/ack-tracker.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';
import { Pair } from '../sim/harness.js';

interface Decimation {
  after: number;
  every: number;
  delay: number;
}

function decimationOf(conn: Connection): Decimation {
  const spaces = (conn as unknown as { spaces: { ack: AckTracker }[] }).spaces;
  return (spaces[2]!.ack as unknown as { decimation: Decimation }).decimation;
}

describe('review c14ba44: shared set-up objects stay per connection where they change', () => {
  it('AckTracker.enableDecimation keeps its own copy: one tracker\'s new delay leaves the options and the other tracker alone', () => {
    const options = { after: 100, every: 10, delay: 8 };
    const a = new AckTracker(PacketNumberSpace.ApplicationData, { maxAckDelay: 25 });
    const b = new AckTracker(PacketNumberSpace.ApplicationData, { maxAckDelay: 25 });
    a.enableDecimation(options);
    b.enableDecimation(options);
    a.setDecimationDelay(1);
    expect(options.delay).toBe(8);
    expect((b as unknown as { decimation: Decimation }).decimation.delay).toBe(8);
    expect((a as unknown as { decimation: Decimation }).decimation.delay).toBe(1);
  });

  it('two connections on links of different RTT: each decimation delay follows its own minimum RTT; a new connection starts at INITIAL_RTT / 4', () => {
    const near = new Pair({ link: { delay: 2 } });
    expect(near.handshake()).toBe(true);
    const far = new Pair({ link: { delay: 40 } });
    expect(far.handshake()).toBe(true);
    // Some round trips so that both ends have RTT samples (updatePacer runs on each ACK).
    for (const pair of [near, far]) {
      const id = pair.client.openStream()!;
      pair.client.write(id, Buffer.alloc(20_000, 1), true);
      expect(pair.run(() => pair.serverEvents.some((e) => e.type === 'stream-data' && e.fin), 10_000)).toBe(true);
    }
    const nearDelay = decimationOf(near.client).delay;
    const farDelay = decimationOf(far.client).delay;
    expect(nearDelay).toBeLessThanOrEqual(4 / 4 + 1); // min RTT ≈ 4 ms
    expect(farDelay).toBeGreaterThanOrEqual(80 / 4 - 1); // min RTT ≈ 80 ms (capped by max_ack_delay 25)
    expect(decimationOf(near.client)).not.toBe(decimationOf(far.client));
    // A fresh connection is not handed a delay another one measured.
    const fresh = new Pair({ link: { delay: 10 } });
    expect(decimationOf(fresh.client).delay).toBe(decimationOf(new Pair().client).delay);
    expect(decimationOf(fresh.client).delay).not.toBe(nearDelay);
  });

  it('a connection\'s transport settings are its own object, not the shared defaults', () => {
    const a = new Pair();
    const b = new Pair();
    const settingsOf = (conn: Connection) => (conn as unknown as { settings: Record<string, number> }).settings;
    expect(settingsOf(a.client)).not.toBe(settingsOf(b.client));
    settingsOf(a.client).maxIdleTimeout = 1;
    expect(settingsOf(b.client).maxIdleTimeout).not.toBe(1);
    expect(settingsOf(new Pair().client).maxIdleTimeout).not.toBe(1);
  });
});
