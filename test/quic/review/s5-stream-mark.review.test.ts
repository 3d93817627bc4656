/**
 * Review (session 5) of the proposed /tmp/bulk-hwm.diff (not applied): the default stream
 * high-water mark becomes max(256 KiB, min(2 × cwnd, connectionHighWaterMark)).
 *
 * What the diff must keep, and what this test checks on the code as it is (and passes with the
 * diff applied to a private copy): all streams of a connection together never hold more than
 * the connection mark plus one write each (the mark a stream may reach grows with the window,
 * so the connection mark is what bounds the memory of many streams); no stream holds more than
 * the connection mark plus one write; and write() backpressure stays live when losses shrink the
 * congestion window (RFC 9002 §7.3.2, §7.6) under a stream that was told it may write: every
 * stream is told 'writable' again and finishes with its bytes intact.
 */
import { describe, expect, it } from 'vitest';
import { Pair, pattern, sha256, StreamSink, StreamWriter } from '../sim/harness.js';

/** The router's default connection mark (connection.ts). */
const DEFAULT_CONNECTION_MARK = 4 * 1024 * 1024;

describe('stream and connection high-water marks on a lossy path', () => {
  const cases = [
    // Many streams: the connection mark binds first.
    { name: 'eight streams under a 512 KiB connection mark', streams: 8, size: 512 * 1024, connectionMark: 512 * 1024 },
    // One stream under the default marks: its own mark binds, and only its own 'writable' resumes it.
    { name: 'one stream under the default marks', streams: 1, size: 2 * 1024 * 1024, connectionMark: undefined },
  ];
  it.each(cases)('$name: the total stays under the connection mark plus a write each, and all finish after the window shrinks', ({ streams, size, connectionMark: chosenMark }) => {
    const connectionMark = chosenMark ?? DEFAULT_CONNECTION_MARK;
    const piece = 16 * 1024;
    const pair = new Pair({ link: { delay: 5, loss: 0.03 }, seed: 3, serverRouter: { connectionHighWaterMark: chosenMark } });
    const body = pattern(size);
    const writers = new Map<number, StreamWriter>();
    const sink = new StreamSink();
    let writableEvents = 0;
    pair.onServerEvent = (e) => {
      if (e.type === 'stream-data' && e.fin) {
        const w = new StreamWriter(pair.server!, e.id, body, piece);
        writers.set(e.id, w);
        w.pump();
      } else if (e.type === 'writable') {
        writableEvents++;
        writers.get(e.id)?.pump();
      }
    };
    pair.onClientEvent = (e) => sink.onEvent(e);
    expect(pair.handshake()).toBe(true);
    const ids: number[] = [];
    for (let i = 0; i < streams; i++) {
      const id = pair.client.openStream()!;
      pair.client.write(id, Buffer.from('GET'), true);
      ids.push(id);
    }
    let largestTotal = 0;
    let largestStream = 0;
    let windowShrank = false;
    let lastWindow = 0;
    const ok = pair.run(() => {
      const server = pair.server;
      if (server !== undefined) {
        let total = 0;
        for (const id of writers.keys()) {
          const buffered = server.bufferedAmount(id);
          total += buffered;
          largestStream = Math.max(largestStream, buffered);
        }
        largestTotal = Math.max(largestTotal, total);
        const window = server.recovery.congestionWindow;
        if (window < lastWindow) windowShrank = true;
        lastWindow = window;
      }
      return ids.every((id) => sink.finished.has(id));
    }, 120_000);
    expect(ok).toBe(true);
    for (const id of ids) expect(sha256(sink.data(id))).toBe(sha256(body));
    expect(windowShrank).toBe(true);
    expect(writableEvents).toBeGreaterThan(streams);
    expect(largestTotal).toBeGreaterThan(Math.min(connectionMark, 256 * 1024) / 2);
    expect(largestTotal).toBeLessThanOrEqual(connectionMark + ids.length * piece);
    expect(largestStream).toBeLessThanOrEqual(connectionMark + piece);
  });
});
