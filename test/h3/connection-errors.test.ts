/**
 * HTTP/3 connection error handling (RFC 9114 §4.1.2, §5.2, §6, §7, §8; RFC 9204 §4.2): each rule
 * violated by a hand-built peer gives the RFC's error code, as a stream error (RESET_STREAM /
 * STOP_SENDING, the connection lives on) or a connection error (CONNECTION_CLOSE), and random
 * bytes on any stream never make the connection throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAll } from '../../src/core/body.js';
import { H3ClientConnection, H3ServerConnection, type H3Session } from '../../src/h3/connection.js';
import { H3ErrorCode, QpackErrorCode } from '../../src/h3/errors.js';
import { encodeFrame, encodeFrameHeader, encodeSettingsFrame, encodeUniStreamHeader, FrameType, UniStreamType } from '../../src/h3/frame.js';
import { QpackEncoder } from '../../src/h3/qpack/encoder.js';
import type { QuicStreams } from '../../src/h3/transport.js';

/** A QUIC stand-in that records what the HTTP/3 layer does; the test plays the peer by hand. */
class RecordingTransport implements QuicStreams {
  private nextBidi: number;
  private nextUni: number;
  readonly written = new Map<number, Buffer[]>();
  readonly resets: [number, number][] = [];
  readonly stops: [number, number][] = [];
  closedWith: { code: number; reason: string } | null = null;

  constructor(role: 'client' | 'server') {
    this.nextBidi = role === 'client' ? 0 : 1;
    this.nextUni = role === 'client' ? 2 : 3;
  }

  openStream(bidi: boolean): number {
    const id = bidi ? this.nextBidi : this.nextUni;
    if (bidi) this.nextBidi += 4;
    else this.nextUni += 4;
    return id;
  }
  write(id: number, data: Uint8Array): boolean {
    const list = this.written.get(id) ?? [];
    list.push(Buffer.from(data));
    this.written.set(id, list);
    return true;
  }
  resetStream(id: number, code: number): void { this.resets.push([id, code]); }
  stopSending(id: number, code: number): void { this.stops.push([id, code]); }
  pauseReading(): void {}
  resumeReading(): void {}
  bufferedAmount(): number { return 0; }
  close(code: number, reason: string): void { this.closedWith ??= { code, reason }; }

  bytes(id: number): Buffer {
    return Buffer.concat(this.written.get(id) ?? []);
  }
}

const { H3_CLOSED_CRITICAL_STREAM, H3_STREAM_CREATION_ERROR, H3_MISSING_SETTINGS, H3_FRAME_UNEXPECTED, H3_ID_ERROR, H3_MESSAGE_ERROR, H3_REQUEST_INCOMPLETE, H3_FRAME_ERROR, H3_SETTINGS_ERROR } = H3ErrorCode;

function server(handler = (_req: unknown, res: { end(b?: string): Promise<void> }) => void res.end('ok')) {
  const transport = new RecordingTransport('server');
  const conn = new H3ServerConnection(transport, { clock: Date.now,
    handler: handler as never,
    remoteAddress: '::1',
    remotePort: 1,
    grease: false,
    onHandlerError: () => {},
    limits: { maxHeaderListBytes: 2000 },
  });
  conn.start();
  return { conn, transport };
}

function client(options: ConstructorParameters<typeof H3ClientConnection>[1] = {}) {
  const transport = new RecordingTransport('client');
  const conn = new H3ClientConnection(transport, { grease: false, ...options });
  conn.start();
  return { conn, transport };
}

function send(conn: H3Session, id: number, data: Uint8Array, fin = false, open = true): void {
  if (open) conn.handleEvent({ type: 'stream-opened', id });
  conn.handleEvent({ type: 'stream-data', id, data, fin });
}

const CONTROL = Buffer.concat([encodeUniStreamHeader(UniStreamType.CONTROL), encodeSettingsFrame({})]);

/** A HEADERS frame with a field section that references only the static table. */
function headers(lines: [string, string][], streamId = 0): Buffer {
  return encodeFrame({ type: 'headers', fieldSection: new QpackEncoder().encodeFieldSection(streamId, lines) });
}

function data(bytes: string): Buffer {
  return encodeFrame({ type: 'data', data: Buffer.from(bytes) });
}

const GET: [string, string][] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'localhost'], [':path', '/']];

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('control and QPACK streams (RFC 9114 §6.2, RFC 9204 §4.2)', () => {
  it('our control stream starts with its type and SETTINGS carrying our limits', () => {
    const { transport } = server();
    const control = transport.bytes(3);
    expect(control[0]).toBe(0x00); // stream type: control
    expect(control[1]).toBe(FrameType.SETTINGS);
    expect(transport.bytes(7)).toEqual(Buffer.from([0x02])); // QPACK encoder stream
    expect(transport.bytes(11)).toEqual(Buffer.from([0x03])); // QPACK decoder stream
  });

  it('greasing adds a reserved setting, a reserved frame and sometimes a reserved stream', () => {
    const transport = new RecordingTransport('server');
    new H3ServerConnection(transport, { clock: Date.now, handler: () => {}, remoteAddress: '', remotePort: 0, random: () => 2 }).start();
    // random() = 2 → grease setting 0x1f*2+0x21 = 0x5f, reserved frame type 0x5f, reserved stream.
    expect(transport.bytes(3).includes(Buffer.from([0x40, 0x5f]))).toBe(true);
    expect(transport.bytes(15).subarray(0, 2)).toEqual(Buffer.from([0x40, 0x5f]));
  });

  it.each([
    ['a second control stream', [CONTROL, CONTROL], H3_STREAM_CREATION_ERROR],
    ['a second QPACK encoder stream', [Buffer.from([0x02]), Buffer.from([0x02])], H3_STREAM_CREATION_ERROR],
    ['a second QPACK decoder stream', [Buffer.from([0x03]), Buffer.from([0x03])], H3_STREAM_CREATION_ERROR],
    ['a client-initiated push stream', [Buffer.from([0x01, 0x00])], H3_STREAM_CREATION_ERROR],
    ['a control stream without SETTINGS first', [Buffer.concat([Buffer.from([0x00]), encodeFrame({ type: 'goaway', id: 0 })])], H3_MISSING_SETTINGS],
    ['a second SETTINGS', [Buffer.concat([CONTROL, encodeSettingsFrame({})])], H3_FRAME_UNEXPECTED],
    ['DATA on the control stream', [Buffer.concat([CONTROL, data('x')])], H3_FRAME_UNEXPECTED],
    ['an HTTP/2 setting', [Buffer.concat([Buffer.from([0x00, 0x04, 0x02, 0x02, 0x01])])], H3_SETTINGS_ERROR],
    ['a MAX_PUSH_ID longer than its varint', [Buffer.concat([CONTROL, Buffer.from([0x0d, 0x02, 0x01, 0x00])])], H3_FRAME_ERROR],
  ])('%s is a connection error', (_name, streams, code) => {
    const { conn, transport } = server();
    streams.forEach((bytes, i) => send(conn, 2 + 4 * i, bytes));
    expect(transport.closedWith?.code).toBe(code);
    expect(conn.closed).toBe(true);
  });

  it.each([
    ['control', CONTROL],
    ['QPACK encoder', Buffer.from([0x02])],
    ['QPACK decoder', Buffer.from([0x03])],
  ])('closing the peer %s stream is H3_CLOSED_CRITICAL_STREAM (FIN and RESET_STREAM)', (_name, header) => {
    const a = server();
    send(a.conn, 2, header);
    send(a.conn, 2, new Uint8Array(0), true, false);
    expect(a.transport.closedWith?.code).toBe(H3_CLOSED_CRITICAL_STREAM);
    const b = server();
    send(b.conn, 2, header);
    b.conn.handleEvent({ type: 'stream-reset', id: 2, code: 0 });
    expect(b.transport.closedWith?.code).toBe(H3_CLOSED_CRITICAL_STREAM);
  });

  it('STOP_SENDING on our control stream is H3_CLOSED_CRITICAL_STREAM', () => {
    const { conn, transport } = server();
    conn.handleEvent({ type: 'stop-sending', id: 3, code: 0 });
    expect(transport.closedWith?.code).toBe(H3_CLOSED_CRITICAL_STREAM);
  });

  it('unknown and reserved stream types are ignored with STOP_SENDING H3_STREAM_CREATION_ERROR', () => {
    const { conn, transport } = server();
    send(conn, 2, Buffer.from([0x21, 1, 2, 3])); // reserved 0x21
    send(conn, 6, Buffer.from([0x3f, 9])); // unknown 0x3f
    expect(transport.stops).toEqual([[2, H3_STREAM_CREATION_ERROR], [6, H3_STREAM_CREATION_ERROR]]);
    send(conn, 2, Buffer.from([7, 7, 7]), true, false);
    expect(conn.closed).toBe(false);
  });

  it('a stream type split over pieces is still recognised', () => {
    const { conn, transport } = server();
    send(conn, 2, CONTROL.subarray(0, 1));
    send(conn, 2, CONTROL.subarray(1), false, false);
    send(conn, 6, Buffer.from([0x40])); // first byte of a two-byte type
    send(conn, 6, Buffer.from([0x02]), false, false); // 0x4002 = 2: QPACK encoder
    expect(conn.peerSettingsReceived).toBe(true);
    expect(transport.closedWith).toBeNull();
  });

  it('MAX_PUSH_ID may not go down; CANCEL_PUSH above it is H3_ID_ERROR (RFC 9114 §7.2.7, §7.2.3)', () => {
    const a = server();
    send(a.conn, 2, Buffer.concat([CONTROL, encodeFrame({ type: 'max_push_id', pushId: 5 }), encodeFrame({ type: 'max_push_id', pushId: 4 })]));
    expect(a.transport.closedWith?.code).toBe(H3_ID_ERROR);
    const b = server();
    send(b.conn, 2, Buffer.concat([CONTROL, encodeFrame({ type: 'max_push_id', pushId: 1 }), encodeFrame({ type: 'cancel_push', pushId: 2 })]));
    expect(b.transport.closedWith?.code).toBe(H3_ID_ERROR);
  });

  it('a bad QPACK encoder instruction is QPACK_ENCODER_STREAM_ERROR', () => {
    const { conn, transport } = server();
    // Set Dynamic Table Capacity above our SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §4.3.1).
    send(conn, 2, Buffer.from([0x02, 0x3f, 0xe1, 0xff, 0x03]));
    expect(transport.closedWith?.code).toBe(QpackErrorCode.QPACK_ENCODER_STREAM_ERROR);
  });
});

describe('request streams on the server (RFC 9114 §4.1, §4.2, §4.3)', () => {
  it('a valid request is answered; the connection stays up', async () => {
    const { conn, transport } = server();
    send(conn, 0, headers(GET), true);
    await tick();
    expect(transport.bytes(0)[0]).toBe(FrameType.HEADERS);
    expect(transport.resets).toEqual([]);
    expect(conn.closed).toBe(false);
  });

  it.each<[string, [string, string][]]>([
    ['an uppercase field name', [...GET, ['X-Upper', '1']]],
    ['a connection-specific field', [...GET, ['connection', 'keep-alive']]],
    ['transfer-encoding', [...GET, ['transfer-encoding', 'chunked']]],
    ['TE other than trailers', [...GET, ['te', 'gzip']]],
    ['a pseudo-header after a regular field', [[':method', 'GET'], [':scheme', 'https'], ['x', '1'], [':path', '/'], [':authority', 'a']]],
    ['an unknown pseudo-header', [...GET, [':protocol', 'websocket']]],
    ['a response pseudo-header', [[':status', '200'], ...GET]],
    ['a repeated :path', [...GET, [':path', '/again']]],
    ['no :method', GET.slice(1)],
    ['no :path', GET.filter(([n]) => n !== ':path')],
    ['an empty :path', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '']]],
    ['no :authority and no Host', GET.filter(([n]) => n !== ':authority')],
    [':authority and Host that differ', [...GET, ['host', 'other']]],
    ['CONNECT with :path', [[':method', 'CONNECT'], [':authority', 'a:443'], [':path', '/']]],
    ['a value with CR LF', [...GET, ['x', 'a\r\nb']]],
  ])('%s is H3_MESSAGE_ERROR on that stream only', async (_name, lines) => {
    let called = false;
    const { conn, transport } = server(() => { called = true; });
    send(conn, 0, headers(lines), true);
    await tick();
    expect(called).toBe(false);
    expect(transport.resets).toContainEqual([0, H3_MESSAGE_ERROR]);
    expect(conn.closed).toBe(false);
  });

  it('a CONNECT request with only :method and :authority reaches the handler', async () => {
    let seen = '';
    const { conn } = server(((req: { method: string; authority: string }, res: { end(): void }) => { seen = `${req.method} ${req.authority}`; res.end(); }) as never);
    send(conn, 0, headers([[':method', 'CONNECT'], [':authority', 'example.com:443']]), true);
    await tick();
    expect(seen).toBe('CONNECT example.com:443');
  });

  it('Content-Length that does not match the DATA is H3_MESSAGE_ERROR (RFC 9114 §4.1.2)', async () => {
    const longer = server();
    send(longer.conn, 0, Buffer.concat([headers([[':method', 'POST'], ...GET.slice(1), ['content-length', '2']]), data('abc')]), true);
    expect(longer.transport.resets).toContainEqual([0, H3_MESSAGE_ERROR]);
    const shorter = server();
    send(shorter.conn, 0, Buffer.concat([headers([[':method', 'POST'], ...GET.slice(1), ['content-length', '5']]), data('abc')]), true);
    expect(shorter.transport.resets).toContainEqual([0, H3_MESSAGE_ERROR]);
  });

  it('a request whose HEADERS end the stream reads as an empty body, whether FIN comes with them or later (RFC 9114 §4.1)', async () => {
    const bodies: string[] = [];
    const handler = (async (req: { body: AsyncIterable<Uint8Array> }, res: { end(b?: string): Promise<void> }) => {
      bodies.push((await readAll(req.body)).toString());
      await res.end('ok');
    }) as never;
    const together = server(handler);
    send(together.conn, 0, headers(GET), true);
    const apart = server(handler);
    send(apart.conn, 0, headers(GET), false);
    apart.conn.handleEvent({ type: 'stream-data', id: 0, data: new Uint8Array(0), fin: true });
    await tick();
    expect(bodies).toEqual(['', '']);
    expect(together.transport.resets).toEqual([]);
    expect(apart.transport.resets).toEqual([]);
  });

  it('HEADERS with a Content-Length above 0 and then FIN is H3_MESSAGE_ERROR, the handler aborted (RFC 9114 §4.1.2)', async () => {
    let aborted = false;
    const { conn, transport } = server(((req: { signal: AbortSignal }, res: { end(): Promise<void> }) => {
      req.signal.addEventListener('abort', () => { aborted = true; });
      if (req.signal.aborted) aborted = true;
      void res.end();
    }) as never);
    send(conn, 0, headers([[':method', 'POST'], ...GET.slice(1), ['content-length', '3']]), true);
    await tick();
    expect(transport.resets).toContainEqual([0, H3_MESSAGE_ERROR]);
    expect(aborted).toBe(true);
  });

  it('a request stream that ends before HEADERS is H3_REQUEST_INCOMPLETE', () => {
    const { conn, transport } = server();
    send(conn, 0, new Uint8Array(0), true);
    expect(transport.resets).toContainEqual([0, H3_REQUEST_INCOMPLETE]);
    expect(conn.closed).toBe(false);
  });

  it('DATA before HEADERS, and HEADERS after the trailers, are H3_FRAME_UNEXPECTED', () => {
    const a = server();
    send(a.conn, 0, data('x'));
    expect(a.transport.closedWith?.code).toBe(H3_FRAME_UNEXPECTED);
    const b = server(() => {});
    send(b.conn, 0, Buffer.concat([headers(GET), headers([['x-trailer', '1']]), headers([['x-more', '1']])]));
    expect(b.transport.closedWith?.code).toBe(H3_FRAME_UNEXPECTED);
  });

  it('a frame truncated by FIN is H3_FRAME_ERROR', () => {
    const { conn, transport } = server();
    send(conn, 0, headers(GET).subarray(0, 5), true);
    expect(transport.closedWith?.code).toBe(H3_FRAME_ERROR);
  });

  it('a field section over SETTINGS_MAX_FIELD_SECTION_SIZE gets 431 (RFC 9114 §4.2.2)', async () => {
    const { conn, transport } = server();
    send(conn, 0, headers([...GET, ['x-big', 'v'.repeat(3000)]]), true);
    await tick();
    expect(transport.bytes(0)[0]).toBe(FrameType.HEADERS);
    expect(transport.stops).toContainEqual([0, H3ErrorCode.H3_REQUEST_REJECTED]);
    expect(conn.closed).toBe(false);
  });

  it('after GOAWAY, new request streams are rejected with H3_REQUEST_REJECTED', () => {
    const { conn, transport } = server(() => {});
    send(conn, 0, headers(GET));
    conn.shutdown();
    const goaway = transport.bytes(3);
    expect(goaway.subarray(goaway.length - 3)).toEqual(Buffer.from([FrameType.GOAWAY, 1, 4]));
    send(conn, 4, headers(GET, 4));
    expect(transport.resets).toContainEqual([4, H3ErrorCode.H3_REQUEST_REJECTED]);
    expect(transport.stops).toContainEqual([4, H3ErrorCode.H3_REQUEST_REJECTED]);
  });
});

describe('rapid reset (RFC 9114 §10.5, CVE-2023-44487)', () => {
  function flood(count: number, spacingMs: number): RecordingTransport {
    let now = 0;
    const transport = new RecordingTransport('server');
    const conn = new H3ServerConnection(transport, {
      handler: () => {}, remoteAddress: '', remotePort: 0, grease: false, clock: () => now,
      limits: { maxResetsPerWindow: 5, floodWindowMs: 1000 },
    });
    conn.start();
    for (let i = 0; i < count; i++) {
      send(conn, 4 * i, headers(GET, 4 * i));
      conn.handleEvent({ type: 'stream-reset', id: 4 * i, code: H3ErrorCode.H3_REQUEST_CANCELLED });
      now += spacingMs;
    }
    return transport;
  }

  it('more cancelled requests than allowed in the window close with H3_EXCESSIVE_LOAD', () => {
    expect(flood(6, 10).closedWith?.code).toBe(H3ErrorCode.H3_EXCESSIVE_LOAD);
  });

  it('the same number spread over a longer time is fine', () => {
    expect(flood(20, 300).closedWith).toBeNull();
  });
});

describe('the client side (RFC 9114 §4.1, §4.6, §5.2, §6.1)', () => {
  it('a server-initiated bidirectional stream is H3_STREAM_CREATION_ERROR', () => {
    const { conn, transport } = client();
    send(conn, 1, Buffer.from([0]));
    expect(transport.closedWith?.code).toBe(H3_STREAM_CREATION_ERROR);
  });

  it('PUSH_PROMISE without MAX_PUSH_ID is H3_ID_ERROR', async () => {
    const { conn, transport } = client();
    const response = conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/' });
    response.catch(() => {});
    send(conn, 0, encodeFrame({ type: 'push_promise', pushId: 0, fieldSection: new QpackEncoder().encodeFieldSection(0, GET) }), false, false);
    expect(transport.closedWith?.code).toBe(H3_ID_ERROR);
    await expect(response).rejects.toMatchObject({ code: H3_ID_ERROR });
  });

  it('a push stream above MAX_PUSH_ID is H3_ID_ERROR', () => {
    const { conn, transport } = client({ maxPushes: 1, onPush: () => {} });
    send(conn, 3, Buffer.from([0x01, 0x01]));
    expect(transport.closedWith?.code).toBe(H3_ID_ERROR);
  });

  it('a GOAWAY that increases, or names a non-request stream, is H3_ID_ERROR', () => {
    const a = client();
    // A request below the GOAWAY keeps the connection open for the second GOAWAY.
    a.conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/' }).catch(() => {});
    send(a.conn, 3, Buffer.concat([CONTROL, encodeFrame({ type: 'goaway', id: 4 }), encodeFrame({ type: 'goaway', id: 8 })]));
    expect(a.transport.closedWith?.code).toBe(H3_ID_ERROR);
    const b = client();
    send(b.conn, 3, Buffer.concat([CONTROL, encodeFrame({ type: 'goaway', id: 2 })]));
    expect(b.transport.closedWith?.code).toBe(H3_ID_ERROR);
  });

  it('DATA after an interim response and before the final one is H3_FRAME_UNEXPECTED', async () => {
    const { conn, transport } = client();
    const response = conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/' });
    response.catch(() => {});
    send(conn, 0, Buffer.concat([headers([[':status', '103']]), data('x')]), false, false);
    expect(transport.closedWith?.code).toBe(H3_FRAME_UNEXPECTED);
  });

  it('a malformed response (no :status, bad Content-Length) fails that request only', async () => {
    const { conn, transport } = client();
    const a = conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/' });
    const b = conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/' });
    send(conn, 0, headers([['x', '1']]), true, false);
    await expect(a).rejects.toMatchObject({ code: H3_MESSAGE_ERROR });
    send(conn, 4, Buffer.concat([headers([[':status', '200'], ['content-length', '10']], 4), data('short')]), true, false);
    const res = await b;
    await expect((async () => { for await (const _ of res.body) { /* drain */ } })()).rejects.toMatchObject({ code: H3_MESSAGE_ERROR });
    expect(transport.resets).toEqual([[0, H3_MESSAGE_ERROR], [4, H3_MESSAGE_ERROR]]);
    expect(conn.closed).toBe(false);
  });

  it('a request header section over the server\'s SETTINGS_MAX_FIELD_SECTION_SIZE is not sent (RFC 9114 §4.2.2)', async () => {
    const { conn, transport } = client();
    send(conn, 3, Buffer.concat([Buffer.from([0x00]), encodeSettingsFrame({ maxFieldSectionSize: 200 })]));
    await expect(conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/', headers: [['x-big', 'v'.repeat(300)]] }))
      .rejects.toMatchObject({ code: H3ErrorCode.H3_EXCESSIVE_LOAD });
    expect(transport.written.has(0)).toBe(false);
  });

  it('a request waits for MAX_STREAMS when no request stream is available (RFC 9000 §4.6)', async () => {
    const { conn, transport } = client();
    let allowed = 0;
    const open = transport.openStream.bind(transport);
    transport.openStream = ((bidi: boolean) => (bidi && allowed-- <= 0 ? null : open(bidi))) as typeof transport.openStream;
    const pending = conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/' });
    expect(transport.written.has(0)).toBe(false);
    allowed = 1;
    conn.handleEvent({ type: 'streams-available', bidi: true });
    expect(transport.bytes(0)[0]).toBe(FrameType.HEADERS);
    send(conn, 0, headers([[':status', '204']]), true, false);
    expect((await pending).status).toBe(204);
  });

  it('the request goes out as HEADERS with the pseudo-headers first, then DATA and FIN', async () => {
    const { conn, transport } = client();
    void conn.request({ method: 'POST', scheme: 'https', authority: 'a', path: '/echo', body: 'hi', headers: [['x-a', 'b'], ['connection', 'close']] }).catch(() => {});
    const sent = transport.bytes(0);
    expect(sent[0]).toBe(FrameType.HEADERS);
    expect(sent.subarray(sent.length - 4)).toEqual(Buffer.concat([encodeFrameHeader(FrameType.DATA, 2), Buffer.from('hi')]));
  });
});

describe('split invariance', () => {
  it('a request split anywhere reaches the handler the same (head, body, end)', async () => {
    const wire = Buffer.concat([
      headers([[':method', 'POST'], ...GET.slice(1), ['content-length', '11'], ['x-a', 'b']]),
      data('hello '),
      encodeFrame({ type: 'data', data: new Uint8Array(0) }),
      Buffer.from([0x21, 0x02, 0xaa, 0xbb]), // a reserved frame type, skipped (RFC 9114 §7.2.8)
      data('world'),
      headers([['x-trailer', 'yes']]),
    ]);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 12 }), async (cuts) => {
        const seen: string[] = [];
        let finished!: () => void;
        const done = new Promise<void>((r) => { finished = r; });
        const { conn, transport } = server((async (req: { method: string; path: string; headers: { get(n: string): string | undefined }; body: AsyncIterable<Uint8Array> }, res: { end(b?: string): Promise<void> }) => {
          let body = '';
          for await (const c of req.body) body += Buffer.from(c).toString();
          seen.push(`${req.method} ${req.path} ${req.headers.get('x-a')} ${body}`);
          await res.end();
          finished();
        }) as never);
        const points = [0, ...cuts.sort((a, b) => a - b), wire.length];
        conn.handleEvent({ type: 'stream-opened', id: 0 });
        for (let i = 0; i + 1 < points.length; i++) {
          conn.handleEvent({ type: 'stream-data', id: 0, data: wire.subarray(points[i], points[i + 1]), fin: i + 2 === points.length });
        }
        await done;
        expect(seen).toEqual(['POST / b hello world']);
        expect(transport.resets).toEqual([]);
        expect(conn.closed).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('random bytes never make the connection throw', () => {
  const streams: [string, Buffer][] = [
    ['control', CONTROL],
    ['QPACK encoder', Buffer.from([0x02])],
    ['QPACK decoder', Buffer.from([0x03])],
    ['request', Buffer.alloc(0)],
  ];
  const KNOWN = new Set<number>([...Object.values(H3ErrorCode), ...Object.values(QpackErrorCode)]);

  it.each(streams)('server, %s stream: a defined error or nothing', (kind, prefix) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, fin) => {
        const { conn, transport } = server(() => {});
        const id = kind === 'request' ? 0 : 2;
        send(conn, id, Buffer.concat([prefix, bytes]), fin);
        if (transport.closedWith) {
          expect(KNOWN.has(transport.closedWith.code)).toBe(true);
          expect(transport.closedWith.code).not.toBe(H3ErrorCode.H3_INTERNAL_ERROR);
        }
        for (const [, code] of transport.resets) expect(KNOWN.has(code)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('client, response and push streams: a defined error or nothing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.boolean(), (bytes, fin, onPush) => {
        const { conn, transport } = client({ maxPushes: 2, ...(onPush ? { onPush: () => {} } : {}) });
        conn.request({ method: 'GET', scheme: 'https', authority: 'a', path: '/' }).catch(() => {});
        send(conn, 0, bytes, fin, false);
        send(conn, 3, Buffer.concat([Buffer.from([0x01, 0x00]), bytes]), fin);
        if (transport.closedWith) {
          expect(KNOWN.has(transport.closedWith.code)).toBe(true);
          expect(transport.closedWith.code).not.toBe(H3ErrorCode.H3_INTERNAL_ERROR);
        }
      }),
      { numRuns: 300 },
    );
  });
});
