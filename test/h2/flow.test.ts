import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_WINDOW_SIZE, MAX_WINDOW_SIZE, ReceiveFlow, SendFlow, SendWindow, flowControlledLength } from '../../src/h2/flow.js';
import { ErrorCode, H2Error } from '../../src/h2/errors.js';

function errorOf(run: () => unknown): H2Error {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(H2Error);
    return error as H2Error;
  }
  throw new Error('expected an error');
}

describe('send windows (RFC 9113 §6.9)', () => {
  it('starts at 65,535 for the connection and each stream (§6.9.2)', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    expect(flow.connection.available).toBe(DEFAULT_WINDOW_SIZE);
    expect(flow.sendable(1)).toBe(DEFAULT_WINDOW_SIZE);
  });

  it('a WINDOW_UPDATE of 0 is a stream error on a stream and a connection error on stream 0', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    expect(errorOf(() => flow.windowUpdate(1, 0))).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR, scope: 'stream', streamId: 1 });
    expect(errorOf(() => flow.windowUpdate(0, 0))).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR, scope: 'connection' });
  });

  it('grows up to exactly 2^31-1; one more is FLOW_CONTROL_ERROR with the right scope (§6.9.1)', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    flow.windowUpdate(1, MAX_WINDOW_SIZE - DEFAULT_WINDOW_SIZE);
    expect(flow.stream(1)!.available).toBe(MAX_WINDOW_SIZE);
    expect(errorOf(() => flow.windowUpdate(1, 1))).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, scope: 'stream', streamId: 1 });
    flow.windowUpdate(0, MAX_WINDOW_SIZE - DEFAULT_WINDOW_SIZE);
    expect(errorOf(() => flow.windowUpdate(0, 1))).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, scope: 'connection' });
  });

  it('a window of 1 refuses an increment of 2^31-1 (overflow by one)', () => {
    const window = new SendWindow(3, 1);
    expect(errorOf(() => window.increase(MAX_WINDOW_SIZE))).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, streamId: 3 });
    expect(window.available).toBe(1);
  });

  it('goes negative when SETTINGS_INITIAL_WINDOW_SIZE shrinks, as in the §6.9.2 example', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    flow.windowUpdate(0, 1_000_000);
    flow.consume(1, 60_000); // "the client sends 60 KB immediately"
    flow.setInitialWindowSize(16_384); // "the server sets the initial window size to be 16 KB"
    expect(flow.stream(1)!.available).toBe(16_384 - 60_000);
    expect(flow.sendable(1)).toBe(0);
    flow.windowUpdate(1, 40_000);
    expect(flow.sendable(1)).toBe(0); // still -3,616
    flow.windowUpdate(1, 5_000);
    expect(flow.sendable(1)).toBe(1_384);
  });

  it('applies the initial window to streams opened later, and only the difference to open ones', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    flow.windowUpdate(1, 100);
    flow.setInitialWindowSize(1000);
    flow.openStream(3);
    expect(flow.stream(1)!.available).toBe(1100);
    expect(flow.stream(3)!.available).toBe(1000);
  });

  it('a SETTINGS change taking a stream window past 2^31-1 is a connection FLOW_CONTROL_ERROR (§6.9.2)', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    flow.windowUpdate(1, MAX_WINDOW_SIZE - DEFAULT_WINDOW_SIZE - 10);
    flow.setInitialWindowSize(DEFAULT_WINDOW_SIZE + 10);
    expect(errorOf(() => flow.setInitialWindowSize(DEFAULT_WINDOW_SIZE + 11))).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, scope: 'connection', section: 'RFC 9113 §6.9.2' });
  });

  it('sendable is the smaller of the stream and connection windows', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    flow.openStream(3);
    flow.consume(1, 65_000);
    expect(flow.sendable(3)).toBe(535);
    expect(() => flow.consume(3, 536)).toThrow(/window/);
  });

  it('ignores WINDOW_UPDATE for a stream it no longer sends on', () => {
    const flow = new SendFlow();
    flow.openStream(1);
    flow.closeStream(1);
    expect(() => flow.windowUpdate(1, 10)).not.toThrow();
    expect(flow.sendable(1)).toBe(0);
  });

  it('never lets more be sent than was granted, whatever the order of updates and settings', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), length: fc.integer({ min: 0, max: 40_000 }) }),
      fc.record({ kind: fc.constant('update' as const), stream: fc.boolean(), increment: fc.integer({ min: 1, max: 100_000 }) }),
      fc.record({ kind: fc.constant('settings' as const), size: fc.integer({ min: 0, max: 200_000 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const flow = new SendFlow();
      flow.openStream(1);
      let initial = DEFAULT_WINDOW_SIZE;
      let grantedStream = DEFAULT_WINDOW_SIZE;
      let grantedConnection = DEFAULT_WINDOW_SIZE;
      let sent = 0;
      for (const o of ops) {
        if (o.kind === 'send') {
          const length = Math.min(o.length, flow.sendable(1));
          flow.consume(1, length);
          sent += length;
        } else if (o.kind === 'update') {
          flow.windowUpdate(o.stream ? 1 : 0, o.increment);
          if (o.stream) grantedStream += o.increment;
          else grantedConnection += o.increment;
        } else {
          flow.setInitialWindowSize(o.size);
          grantedStream += o.size - initial;
          initial = o.size;
        }
        expect(sent).toBeLessThanOrEqual(Math.max(0, grantedConnection));
        expect(flow.stream(1)!.available).toBe(grantedStream - sent);
      }
    }), { numRuns: 300 });
  });
});

describe('receive windows and WINDOW_UPDATE policy (RFC 9113 §5.2, §6.9)', () => {
  it('raises the connection window to its target with one WINDOW_UPDATE on stream 0', () => {
    const flow = new ReceiveFlow({ connectionWindowSize: 16 * 1024 * 1024 });
    expect(flow.initialConnectionUpdate()).toEqual({ streamId: 0, increment: 16 * 1024 * 1024 - 65_535 });
    expect(flow.available(0)).toBe(16 * 1024 * 1024);
  });

  it('uses 65,535 for streams until our SETTINGS is sent, then the advertised size (§6.9.2)', () => {
    const flow = new ReceiveFlow({ streamWindowSize: 1 << 20 });
    flow.openStream(1);
    expect(flow.available(1)).toBe(65_535);
    flow.settingsSent();
    flow.openStream(3);
    expect(flow.available(1)).toBe(1 << 20);
    expect(flow.available(3)).toBe(1 << 20);
  });

  it('applies a smaller stream window only once the peer acknowledges it (§6.9.3)', () => {
    const flow = new ReceiveFlow({ streamWindowSize: 1000 });
    flow.openStream(1);
    flow.settingsSent();
    flow.receive(1, 60_000); // allowed: the peer has not seen the smaller window yet
    flow.settingsAcknowledged();
    expect(flow.available(1)).toBe(1000 - 60_000);
    expect(errorOf(() => flow.receive(1, 1))).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, scope: 'stream', streamId: 1 });
  });

  it('a peer exceeding the connection window is a connection FLOW_CONTROL_ERROR', () => {
    const flow = new ReceiveFlow();
    flow.openStream(1);
    flow.receive(1, 65_535);
    expect(errorOf(() => flow.receive(1, 1))).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, scope: 'connection' });
  });

  it('a peer exceeding a stream window is a stream error, and the connection window is still charged', () => {
    const flow = new ReceiveFlow({ streamWindowSize: 100 });
    flow.initialConnectionUpdate();
    flow.settingsSent();
    flow.settingsAcknowledged();
    flow.openStream(1);
    expect(errorOf(() => flow.receive(1, 101))).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, scope: 'stream', streamId: 1 });
    expect(flow.available(0)).toBe(flow.connectionWindowSize - 101);
  });

  it('DATA on a closed stream counts against the connection window (§6.9)', () => {
    const flow = new ReceiveFlow();
    flow.receive(9, 1000);
    expect(flow.available(0)).toBe(65_535 - 1000);
  });

  it('sends a stream WINDOW_UPDATE once half the stream window is consumed, not before', () => {
    const flow = new ReceiveFlow({ streamWindowSize: 1 << 20 });
    flow.initialConnectionUpdate();
    flow.settingsSent();
    flow.openStream(1);
    flow.receive(1, 1 << 19);
    expect(flow.consume(1, (1 << 19) - 1)).toEqual([]);
    expect(flow.consume(1, 1)).toEqual([{ streamId: 1, increment: 1 << 19 }]);
    expect(flow.available(1)).toBe(1 << 20);
  });

  it('returns connection credit for discarded DATA and stops stream updates after close', () => {
    const flow = new ReceiveFlow({ connectionWindowSize: 65_535 });
    flow.openStream(1);
    flow.receive(1, 40_000);
    flow.closeStream(1);
    expect(flow.consume(1, 40_000)).toEqual([{ streamId: 0, increment: 40_000 }]);
  });

  it('keeps a fast transfer at full speed: a prompt reader never leaves the sender under half a window', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 16_384 }), { minLength: 1, maxLength: 400 }), (frames) => {
      const receiver = new ReceiveFlow({ streamWindowSize: 1 << 20, connectionWindowSize: 16 << 20 });
      const sender = new SendFlow();
      const raise = receiver.initialConnectionUpdate()!;
      sender.windowUpdate(0, raise.increment);
      receiver.settingsSent();
      sender.setInitialWindowSize(receiver.initialWindowSize);
      receiver.openStream(1);
      sender.openStream(1);
      for (const length of frames) {
        expect(sender.sendable(1)).toBeGreaterThanOrEqual(Math.min(length, (1 << 20) / 2));
        sender.consume(1, length);
        receiver.receive(1, length);
        for (const update of receiver.consume(1, length)) sender.windowUpdate(update.streamId, update.increment);
      }
    }), { numRuns: 200 });
  });

  it('counts padding in flow control (§6.1)', () => {
    expect(flowControlledLength({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.alloc(10) })).toBe(10);
    expect(flowControlledLength({ type: 'DATA', streamId: 1, endStream: false, data: Buffer.alloc(10), padLength: 5 })).toBe(16);
  });
});
