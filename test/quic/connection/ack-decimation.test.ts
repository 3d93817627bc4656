/**
 * ACK decimation in a whole transfer (RFC 9000 §13.2.1, §13.2.2; recovery/ack-tracker.ts): once a
 * transfer is under way the receiver acknowledges about one packet in ten instead of one in two,
 * still within max_ack_delay, and the transfer stays complete and in order, with loss too.
 */
import { describe, expect, it } from 'vitest';
import { download, Pair, pattern, sha256 } from '../sim/harness.js';

describe('ACK decimation in a transfer (RFC 9000 §13.2.2)', () => {
  it('a 2 MB download costs the receiver about one ACK datagram per ten data datagrams', () => {
    // Datagrams arrive 0.02 ms apart, so the client handles them one at a time (as over a real path).
    const pair = new Pair({ link: { delay: 5, interval: 0.02 } });
    const size = 2 * 1024 * 1024;
    const { ok, data } = download(pair, size);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(size)));
    // One ACK per two packets would be about half as many datagrams as the server sent (769 of 1528
    // before decimation; about 200 with it).
    expect(pair.clientSent.length).toBeLessThan(pair.serverSent.length / 6);
  }, 30_000);

  it('with 2% loss the transfer still completes intact (gaps are acknowledged at once, §13.2.1)', () => {
    const pair = new Pair({ link: { delay: 5, interval: 0.02, loss: 0.02 }, seed: 7 });
    const size = 1024 * 1024;
    const { ok, data } = download(pair, size);
    expect(ok).toBe(true);
    expect(sha256(data)).toBe(sha256(pattern(size)));
  }, 30_000);
});
