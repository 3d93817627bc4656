/**
 * Review of H1ServerConnection timeouts with an injected clock (deterministic, no sockets).
 */
import { describe, expect, it } from 'vitest';
import type { Handler } from '../../../src/core/types.js';
import { H1ServerConnection } from '../../../src/h1/connection.js';

const ticks = async (n = 10): Promise<void> => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

describe('request body timeout and backpressure', () => {
  it('restarts the body clock when the server resumes reading after it paused for backpressure', async () => {
    let now = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let aborted = false;
    let got = 0;
    const handler: Handler = async (req, res) => {
      req.signal.addEventListener('abort', () => { aborted = true; });
      await gate; // a slow consumer
      for await (const chunk of req.body) got += chunk.length;
      await res.end('done');
    };
    const conn = new H1ServerConnection({
      handler, scheme: 'http', remoteAddress: '127.0.0.1', remotePort: 1,
      clock: () => now,
      limits: { requestBodyHighWaterMark: 64, bodyTimeoutMs: 1000 },
    });
    conn.receive(Buffer.concat([
      Buffer.from('POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n', 'latin1'),
      Buffer.alloc(100, 0x61),
    ]), now);
    await ticks();
    // Over the high-water mark: the driver stops reading, so the client cannot send more.
    expect(conn.wantsInput).toBe(false);
    now = 5000; // the handler takes 5 s before it reads
    release();
    await ticks();
    expect(got).toBe(100);
    expect(conn.wantsInput).toBe(true); // the driver resumes reading now
    // The client was blocked by our pause, not idle: it gets a full bodyTimeoutMs from now.
    const deadline = conn.nextTimeout();
    expect(deadline === undefined || deadline > now).toBe(true);
    conn.handleTimeout(now);
    expect(aborted).toBe(false);
    expect(conn.state).toBe('active');
  });
});
