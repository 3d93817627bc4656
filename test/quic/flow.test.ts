import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReceiveWindow, SendCredit, StreamAcceptLimit, StreamOpenCredit } from '../../src/quic/flow.js';
import { StreamError, StreamUsageError, TransportErrorCode } from '../../src/quic/stream/errors.js';

function expectStreamError(fn: () => unknown, code: number): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe(code);
    return;
  }
  expect.fail(`expected StreamError 0x${code.toString(16)}`);
}

describe('SendCredit (RFC 9000 §4.1)', () => {
  it('only grows: a MAX_DATA that does not increase the limit is ignored', () => {
    const credit = new SendCredit(100);
    expect(credit.update(50)).toBe(false);
    expect(credit.update(100)).toBe(false);
    expect(credit.limit).toBe(100);
    expect(credit.update(150)).toBe(true);
    expect(credit.available).toBe(150);
  });

  it('refuses to spend more than the credit', () => {
    const credit = new SendCredit(10);
    credit.consume(10);
    expect(() => credit.consume(1)).toThrow(StreamUsageError);
  });

  it('signals blocked once per limit, and again after a lost *_BLOCKED', () => {
    const credit = new SendCredit(10);
    credit.noteBlocked();
    expect(credit.takeBlocked()).toBeUndefined(); // has credit: not blocked
    credit.consume(10);
    credit.noteBlocked();
    credit.noteBlocked();
    expect(credit.takeBlocked()).toBe(10);
    expect(credit.takeBlocked()).toBeUndefined();
    credit.noteBlocked();
    expect(credit.takeBlocked()).toBeUndefined(); // already reported at this limit
    credit.onBlockedLost(10);
    expect(credit.takeBlocked()).toBe(10);
    credit.update(20);
    credit.consume(10);
    credit.noteBlocked();
    expect(credit.takeBlocked()).toBe(20);
  });
});

describe('ReceiveWindow (RFC 9000 §4.1, §4.2)', () => {
  it('a peer exceeding the advertised limit is FLOW_CONTROL_ERROR', () => {
    const w = new ReceiveWindow({ initialWindow: 1000, maxWindow: 1000 });
    w.onReceived(600);
    w.onReceived(400); // exactly at the limit is allowed
    expectStreamError(() => w.onReceived(1), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('announces a new limit once half the window is consumed', () => {
    const w = new ReceiveWindow({ initialWindow: 1000, maxWindow: 1000 });
    w.onReceived(1000);
    w.onConsumed(499, 0, 0);
    expect(w.takeUpdate()).toBeUndefined();
    w.onConsumed(1, 0, 0);
    expect(w.takeUpdate()).toBe(1500);
    expect(w.takeUpdate()).toBeUndefined();
    w.onReceived(500);
  });

  it('a fast reader doubles the window up to the maximum', () => {
    const w = new ReceiveWindow({ initialWindow: 1000, maxWindow: 4000 });
    const rtt = 100;
    let now = 0;
    const windows: number[] = [];
    for (let i = 0; i < 6; i++) {
      const chunk = w.window / 2;
      w.onReceived(chunk);
      w.onConsumed(chunk, now, rtt); // half a window per 10 ms: far faster than 2 RTTs
      w.takeUpdate();
      windows.push(w.window);
      now += 10;
    }
    expect(windows).toEqual([1000, 2000, 4000, 4000, 4000, 4000]);
    expect(w.limit).toBe(w.consumed + 4000);
  });

  it('a slow reader keeps the window', () => {
    const w = new ReceiveWindow({ initialWindow: 1000, maxWindow: 16000 });
    const rtt = 100;
    let now = 0;
    for (let i = 0; i < 10; i++) {
      w.onReceived(500);
      w.onConsumed(500, now, rtt);
      expect(w.takeUpdate()).toBe(w.consumed + 1000);
      now += 250; // more than 2 RTTs between updates
    }
    expect(w.window).toBe(1000);
  });

  it('released (discarded) bytes return credit without tuning', () => {
    const w = new ReceiveWindow({ initialWindow: 1000, maxWindow: 16000 });
    w.onReceived(1000);
    w.release(1000);
    expect(w.window).toBe(1000);
    expect(w.takeUpdate()).toBe(2000);
  });

  it('resends a lost update only if it is still the latest, and answers DATA_BLOCKED', () => {
    const w = new ReceiveWindow({ initialWindow: 100, maxWindow: 100 });
    w.onReceived(100);
    w.onConsumed(60, 0, 0);
    expect(w.takeUpdate()).toBe(160);
    w.onUpdateLost(150);
    expect(w.takeUpdate()).toBeUndefined();
    w.onUpdateLost(160);
    expect(w.takeUpdate()).toBe(160);
    w.resendIfAbove(160);
    expect(w.takeUpdate()).toBeUndefined();
    w.resendIfAbove(100);
    expect(w.takeUpdate()).toBe(160);
  });

  it('never lowers the limit, never exceeds the maximum window, and keeps received within limit', () => {
    const step = fc.record({ receive: fc.nat(3000), consume: fc.nat(3000), dt: fc.nat(300) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 50 }), fc.integer({ min: 1, max: 200 }), (steps, rtt) => {
        const w = new ReceiveWindow({ initialWindow: 1000, maxWindow: 8000 });
        let now = 0;
        let lastLimit = w.limit;
        for (const s of steps) {
          const receive = Math.min(s.receive, w.limit - w.received);
          w.onReceived(receive);
          w.onConsumed(Math.min(s.consume, w.received - w.consumed), (now += s.dt), rtt);
          expect(w.limit).toBeGreaterThanOrEqual(lastLimit);
          expect(w.window).toBeLessThanOrEqual(8000);
          expect(w.limit - w.consumed).toBeLessThanOrEqual(8000);
          lastLimit = w.limit;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('stream limits (RFC 9000 §4.6)', () => {
  it('opens streams up to the peer limit, then reports STREAMS_BLOCKED', () => {
    const credit = new StreamOpenCredit(2);
    expect(credit.open()).toBe(0);
    expect(credit.open()).toBe(1);
    expect(credit.canOpen).toBe(false);
    expect(() => credit.open()).toThrow(StreamUsageError);
    credit.noteBlocked();
    expect(credit.takeBlocked()).toBe(2);
    expect(credit.update(1)).toBe(false); // not an increase: ignored
    expect(credit.update(3)).toBe(true);
    expect(credit.open()).toBe(2);
  });

  it('MAX_STREAMS above 2^60 is FRAME_ENCODING_ERROR (RFC 9000 §19.11)', () => {
    const credit = new StreamOpenCredit(0);
    credit.update(2 ** 60);
    expectStreamError(() => credit.update(2 ** 61), TransportErrorCode.FRAME_ENCODING_ERROR);
  });

  it('a peer stream beyond our limit is STREAM_LIMIT_ERROR', () => {
    const limit = new StreamAcceptLimit(3);
    limit.onPeerStream(0);
    limit.onPeerStream(2);
    expectStreamError(() => limit.onPeerStream(3), TransportErrorCode.STREAM_LIMIT_ERROR);
  });

  it('gives credit back as peer streams close, in steps', () => {
    const limit = new StreamAcceptLimit(16); // step of 2
    limit.onPeerStream(5);
    limit.onStreamClosed();
    expect(limit.takeUpdate()).toBeUndefined();
    limit.onStreamClosed();
    expect(limit.takeUpdate()).toBe(18);
    limit.onPeerStream(17);
  });

  it('gives credit at once when the peer has used all it had', () => {
    const limit = new StreamAcceptLimit(16);
    limit.onPeerStream(15);
    limit.onStreamClosed();
    expect(limit.takeUpdate()).toBe(17);
    limit.onUpdateLost(17);
    expect(limit.takeUpdate()).toBe(17);
    limit.resendIfAbove(17);
    expect(limit.takeUpdate()).toBeUndefined();
  });

  it('keeps at most maxConcurrent peer streams open under any open/close order', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (ops) => {
        const max = 10;
        const limit = new StreamAcceptLimit(max);
        let opened = 0;
        let closed = 0;
        for (const open of ops) {
          if (open) {
            if (opened < limit.limit) limit.onPeerStream(opened++);
            else expectStreamError(() => limit.onPeerStream(opened), TransportErrorCode.STREAM_LIMIT_ERROR);
          } else if (closed < opened) {
            closed++;
            limit.onStreamClosed();
          }
          limit.takeUpdate();
          expect(opened - closed).toBeLessThanOrEqual(max);
          expect(limit.limit).toBe(closed + max);
        }
      }),
      { numRuns: 300 },
    );
  });
});
