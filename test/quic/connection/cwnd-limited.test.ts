/**
 * RFC 9002 §7.8: the congestion window grows only while the sender uses it. A sender held back by
 * the pacer with little in flight is not limited by the window, so its window must stay within
 * reach of what it actually has in flight.
 */
import { describe, expect, it } from 'vitest';
import { download, Pair, pattern, sha256 } from '../sim/harness.js';

describe('congestion window under pacing (RFC 9002 §7.7, §7.8)', () => {
  it('a paced bulk transfer keeps the window within three times the bytes in flight', () => {
    const pair = new Pair({ link: { delay: 0.5 } });
    let maxInFlight = 0;
    const flush = pair.flush.bind(pair);
    pair.flush = () => {
      flush();
      if (pair.server !== undefined) maxInFlight = Math.max(maxInFlight, pair.server.recovery.bytesInFlight);
    };
    const size = 4 * 1024 * 1024;
    const { ok, data } = download(pair, size);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(size)));
    const { congestionWindow } = pair.server!.recovery;
    // The window grows only while at least half of it is in flight; one round of ACKs adds at most what was in flight.
    expect(congestionWindow).toBeLessThanOrEqual(3 * maxInFlight);
  }, 30_000);
});
