import { describe, expect, it } from 'vitest';
import { RECV_TRANSITIONS, RecvState, RecvStream } from '../../../src/quic/stream/recv-stream.js';
import { ReceiveWindow } from '../../../src/quic/flow/receive-window.js';
import { StreamError, TransportErrorCode } from '../../../src/quic/stream/errors.js';

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

const bytes = (text: string) => Buffer.from(text);

function makeStream(window = 1000, connectionWindow?: ReceiveWindow): RecvStream {
  return new RecvStream({ streamId: 0, initialWindow: window, maxWindow: 16 * window, connectionWindow });
}

function readAll(s: RecvStream, now = 0): string {
  let out = '';
  for (let d = s.read(now, 0); d !== null; d = s.read(now, 0)) out += Buffer.from(d).toString();
  return out;
}

describe('RecvStream states (RFC 9000 §3.2)', () => {
  it('the transition table has exactly the edges of Figure 3 (optional ones not taken)', () => {
    const edges = Object.entries(RECV_TRANSITIONS).flatMap(([from, row]) =>
      Object.entries(row).map(([event, to]) => `${from} --${event}--> ${to}`),
    );
    expect(edges.sort()).toEqual(
      [
        'Recv --recv fin--> Size Known',
        'Recv --recv reset--> Reset Recvd',
        'Size Known --recv all data--> Data Recvd',
        'Size Known --recv reset--> Reset Recvd',
        'Data Recvd --app read all data--> Data Read',
        'Reset Recvd --app read reset--> Reset Read',
      ].sort(),
    );
  });

  it('Recv → Size Known → Data Recvd → Data Read', () => {
    const s = makeStream();
    expect(s.state).toBe(RecvState.Recv);
    s.onStreamFrame(5, bytes('world'), true);
    expect(s.state).toBe(RecvState.SizeKnown);
    expect(s.finalSize).toBe(10);
    s.onStreamFrame(0, bytes('hello'), false);
    expect(s.state).toBe(RecvState.DataRecvd);
    expect(readAll(s)).toBe('helloworld');
    expect(s.state).toBe(RecvState.DataRead);
    expect(s.isClosed).toBe(true);
  });

  it('an empty stream with a fin goes to Data Read on the first read', () => {
    const s = makeStream();
    s.onStreamFrame(0, new Uint8Array(0), true);
    expect(s.state).toBe(RecvState.DataRecvd);
    expect(s.read(0, 0)).toBeNull();
    expect(s.state).toBe(RecvState.DataRead);
  });

  it('Recv → Reset Recvd → Reset Read, with the error code', () => {
    const s = makeStream();
    s.onStreamFrame(0, bytes('abc'), false);
    s.onResetStream(0x10c, 3);
    expect(s.state).toBe(RecvState.ResetRecvd);
    expect(s.resetErrorCode).toBe(0x10c);
    expect(s.readableBytes).toBe(0);
    expect(s.read(0, 0)).toBeNull();
    expect(s.state).toBe(RecvState.ResetRead);
  });

  it('Size Known → Reset Recvd', () => {
    const s = makeStream();
    s.onStreamFrame(5, bytes('x'), true);
    s.onResetStream(1, 6);
    expect(s.state).toBe(RecvState.ResetRecvd);
  });

  it('a RESET_STREAM after all data arrived is ignored: the data stays readable', () => {
    const s = makeStream();
    s.onStreamFrame(0, bytes('done'), true);
    s.onResetStream(7, 4);
    expect(s.state).toBe(RecvState.DataRecvd);
    expect(s.resetErrorCode).toBeUndefined();
    expect(readAll(s)).toBe('done');
  });

  it('data arriving after a reset is discarded', () => {
    const s = makeStream();
    s.onResetStream(1, 10);
    s.onStreamFrame(0, bytes('0123456789'), true);
    expect(s.state).toBe(RecvState.ResetRecvd);
    expect(s.bufferedBytes).toBe(0);
  });
});

describe('RecvStream final size (RFC 9000 §4.5)', () => {
  it('RESET_STREAM with a final size below the data received is FINAL_SIZE_ERROR', () => {
    const s = makeStream();
    s.onStreamFrame(0, bytes('0123456789'), false);
    expectStreamError(() => s.onResetStream(0, 9), TransportErrorCode.FINAL_SIZE_ERROR);
  });

  it('RESET_STREAM changing a known final size is FINAL_SIZE_ERROR', () => {
    const s = makeStream();
    s.onStreamFrame(0, bytes('abc'), true);
    expectStreamError(() => s.onResetStream(0, 4), TransportErrorCode.FINAL_SIZE_ERROR);
  });

  it('data beyond the final size is FINAL_SIZE_ERROR, even after the stream is closed', () => {
    const s = makeStream();
    s.onStreamFrame(0, bytes('abc'), true);
    readAll(s);
    expect(s.state).toBe(RecvState.DataRead);
    s.onStreamFrame(0, bytes('abc'), true); // a retransmission: fine
    expectStreamError(() => s.onStreamFrame(3, bytes('d'), false), TransportErrorCode.FINAL_SIZE_ERROR);

    const r = makeStream();
    r.onResetStream(0, 2);
    r.read(0, 0);
    expect(r.state).toBe(RecvState.ResetRead);
    expectStreamError(() => r.onStreamFrame(0, bytes('abc'), false), TransportErrorCode.FINAL_SIZE_ERROR);
  });
});

describe('RecvStream flow control (RFC 9000 §4.1)', () => {
  it('data beyond MAX_STREAM_DATA is FLOW_CONTROL_ERROR', () => {
    const s = makeStream(100);
    s.onStreamFrame(0, new Uint8Array(100), false);
    expectStreamError(() => s.onStreamFrame(100, new Uint8Array(1), false), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('a RESET_STREAM final size beyond the limit is FLOW_CONTROL_ERROR', () => {
    const s = makeStream(100);
    expectStreamError(() => s.onResetStream(0, 101), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('streams together beyond MAX_DATA is FLOW_CONTROL_ERROR', () => {
    const connection = new ReceiveWindow({ initialWindow: 150, maxWindow: 150 });
    const a = makeStream(100, connection);
    const b = new RecvStream({ streamId: 4, initialWindow: 100, maxWindow: 100, connectionWindow: connection });
    a.onStreamFrame(0, new Uint8Array(100), false);
    b.onStreamFrame(0, new Uint8Array(50), false);
    b.onStreamFrame(0, new Uint8Array(50), false); // duplicate: no new credit used
    expectStreamError(() => b.onStreamFrame(50, new Uint8Array(1), false), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('credit is returned as the application reads (backpressure)', () => {
    const s = makeStream(100);
    s.onStreamFrame(0, new Uint8Array(100), false);
    expect(s.takeMaxStreamData()).toBeUndefined();
    s.read(0, 0, 40);
    expect(s.takeMaxStreamData()).toBeUndefined(); // less than half the window consumed
    s.read(0, 0, 10);
    expect(s.takeMaxStreamData()).toBe(150);
    s.onStreamFrame(100, new Uint8Array(50), false);
    expectStreamError(() => s.onStreamFrame(150, new Uint8Array(1), false), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('an unread stream never gets more credit', () => {
    const s = makeStream(100);
    s.onStreamFrame(0, new Uint8Array(100), false);
    expect(s.takeMaxStreamData()).toBeUndefined();
    s.onStreamDataBlocked(100);
    expect(s.takeMaxStreamData()).toBeUndefined();
  });

  it('a STREAM_DATA_BLOCKED below our limit repeats MAX_STREAM_DATA', () => {
    const s = makeStream(100);
    s.onStreamFrame(0, new Uint8Array(60), false);
    s.read(0, 0);
    expect(s.takeMaxStreamData()).toBe(160);
    s.onStreamDataBlocked(100);
    expect(s.takeMaxStreamData()).toBe(160);
  });

  it('no MAX_STREAM_DATA once the final size is known (RFC 9000 §3.2)', () => {
    const s = makeStream(100);
    s.onStreamFrame(0, new Uint8Array(90), false);
    s.onStreamFrame(90, new Uint8Array(5), true);
    s.read(0, 0);
    expect(s.takeMaxStreamData()).toBeUndefined();
  });

  it('a reset gives the connection back the credit of unread bytes (RFC 9000 §4.5)', () => {
    const connection = new ReceiveWindow({ initialWindow: 1000, maxWindow: 1000 });
    const s = makeStream(1000, connection);
    s.onStreamFrame(0, new Uint8Array(300), false);
    s.onResetStream(0, 800); // final size counts as received
    expect(connection.received).toBe(800);
    expect(connection.consumed).toBe(800);
    expect(connection.takeUpdate()).toBe(1800);
  });

  it('a fast reader grows the stream window; a slow one does not', () => {
    const rtt = 50;
    const fast = makeStream(1000);
    const slow = makeStream(1000);
    let offset = 0;
    for (let i = 0; i < 8; i++) {
      for (const [s, now] of [
        [fast, i * 10],
        [slow, i * 500],
      ] as const) {
        const chunk = new Uint8Array(500);
        s.onStreamFrame(offset, chunk, false);
        s.read(now, rtt);
        s.takeMaxStreamData();
      }
      offset += 500;
    }
    expect(fast.window.window).toBeGreaterThan(1000);
    expect(slow.window.window).toBe(1000);
  });
});

describe('connection window with auto-tuned streams', () => {
  it('keeps the connection window at least 1.5 times a grown stream window', () => {
    const connection = new ReceiveWindow({ initialWindow: 1000, maxWindow: 100_000 });
    const s = new RecvStream({ streamId: 0, initialWindow: 1000, maxWindow: 8000, connectionWindow: connection });
    let offset = 0;
    for (let i = 0; i < 10; i++) {
      const size = s.window.limit - offset;
      s.onStreamFrame(offset, new Uint8Array(size), false);
      offset += size;
      s.read(i, 100); // everything at once, 1 ms apart: a fast reader
      s.takeMaxStreamData();
      connection.takeUpdate();
    }
    expect(s.window.window).toBe(8000);
    expect(connection.window).toBeGreaterThanOrEqual(12_000);
  });
});

describe('STOP_SENDING (RFC 9000 §3.5)', () => {
  it('asks once, discards data and returns its connection credit', () => {
    const connection = new ReceiveWindow({ initialWindow: 1000, maxWindow: 1000 });
    const s = makeStream(1000, connection);
    s.onStreamFrame(0, new Uint8Array(100), false);
    s.stopSending(0x42);
    expect(s.takeStopSending()).toBe(0x42);
    expect(s.takeStopSending()).toBeUndefined();
    expect(connection.consumed).toBe(100);
    s.onStreamFrame(100, new Uint8Array(100), false);
    expect(s.readableBytes).toBe(0);
    expect(connection.consumed).toBe(200);
    s.onStopSendingLost();
    expect(s.takeStopSending()).toBe(0x42);
    s.onResetStream(0x43, 200);
    expect(s.state).toBe(RecvState.ResetRead); // nobody will read the reset
    expect(s.isClosed).toBe(true);
    s.onStopSendingLost();
    expect(s.takeStopSending()).toBeUndefined(); // no longer needed
  });

  it('a stream that ends after STOP_SENDING closes too', () => {
    const s = makeStream();
    s.stopSending(1);
    s.onStreamFrame(0, bytes('late'), true);
    expect(s.state).toBe(RecvState.DataRead);
  });
});
