/**
 * The default stream high-water mark follows the congestion window (connection.ts streamMark). A
 * stream's unacknowledged bytes include those in flight, so a fixed mark caps the flight at the
 * mark whatever the window: the sender is limited by its own buffer and its window stops growing
 * (RFC 9002 §7.8). A mark the application chose is kept as it is.
 */
import { describe, expect, it } from 'vitest';
import { download, Pair, pattern, sha256 } from '../sim/harness.js';

/** The largest number of bytes the server had in flight during a download of `size`. */
function largestFlight(pair: Pair, size: number): number {
  let largest = 0;
  const run = pair.run.bind(pair);
  pair.run = (done, maxMs) =>
    run(() => {
      if (pair.server !== undefined) largest = Math.max(largest, pair.server.recovery.bytesInFlight);
      return done();
    }, maxMs);
  const { ok, data } = download(pair, size);
  expect(ok).toBe(true);
  expect(sha256(data)).toBe(sha256(pattern(size)));
  return largest;
}

describe('stream high-water mark and the congestion window', () => {
  it('by default one stream fills a window larger than 256 KiB', () => {
    const pair = new Pair({ link: { delay: 5 } });
    // Beyond what a fixed 256 KiB mark allows (the mark plus one 16 KiB write of the harness).
    expect(largestFlight(pair, 2 * 1024 * 1024)).toBeGreaterThan(256 * 1024 + 16 * 1024);
  });

  it('a mark the application chose still caps what one stream has in flight', () => {
    const mark = 256 * 1024;
    const pair = new Pair({ link: { delay: 5 }, serverRouter: { streamHighWaterMark: mark } });
    // The writer stops at the mark; at most one write of the harness beyond it (16 KiB pieces).
    expect(largestFlight(pair, 2 * 1024 * 1024)).toBeLessThanOrEqual(mark + 16 * 1024);
  });
});
