/**
 * Review of the h3 server's merged writes and shared empty request body (src/h3/connection/server.ts,
 * message.ts): whatever the flush sizes, a response stream carries HEADERS, DATA, then at most one
 * trailing HEADERS, with FIN exactly once and on the last write (RFC 9114 §4.1); a request whose
 * HEADERS end the stream shares core's EMPTY_BODY, which no other request can see data in or be
 * failed through; a request with content never gets it (RFC 9114 §4.1, §4.1.2).
 */
import { describe, expect, it } from 'vitest';
import { readAll } from '../../../src/core/body.js';
import type { ServerRequest, ServerResponse } from '../../../src/core/types.js';
import { H3ServerConnection } from '../../../src/h3/connection.js';
import { H3ErrorCode } from '../../../src/h3/errors.js';
import { encodeFrame, FrameReader, type Frame } from '../../../src/h3/frame.js';
import { QpackDecoder } from '../../../src/h3/qpack/decoder.js';
import { QpackEncoder } from '../../../src/h3/qpack/encoder.js';
import type { QuicStreams } from '../../../src/h3/transport.js';

/** A QUIC stand-in recording each write with its FIN flag, and what came after a FIN. */
class FinRecordingTransport implements QuicStreams {
  private nextUni = 3;
  readonly writes = new Map<number, { data: Buffer; fin: boolean }[]>();
  readonly resets: [number, number][] = [];
  readonly stops: [number, number][] = [];
  /** Writes after the stream's FIN (never allowed). */
  readonly afterFin: number[] = [];

  openStream(bidi: boolean): number {
    if (bidi) throw new Error('the server opens no bidirectional stream');
    const id = this.nextUni;
    this.nextUni += 4;
    return id;
  }
  write(id: number, data: Uint8Array, fin = false): boolean {
    const list = this.writes.get(id) ?? [];
    if (list.some((w) => w.fin)) this.afterFin.push(id);
    // Copied: a write is kept by reference, so later changes to the buffer would show here.
    list.push({ data: Buffer.from(data), fin });
    this.writes.set(id, list);
    return true;
  }
  resetStream(id: number, code: number): void { this.resets.push([id, code]); }
  stopSending(id: number, code: number): void { this.stops.push([id, code]); }
  pauseReading(): void {}
  resumeReading(): void {}
  bufferedAmount(): number { return 0; }
  close(): void {}

  fins(id: number): number {
    return (this.writes.get(id) ?? []).filter((w) => w.fin).length;
  }
  lastIsFin(id: number): boolean {
    return this.writes.get(id)?.at(-1)?.fin === true;
  }
  frames(id: number): Frame[] {
    const bytes = Buffer.concat((this.writes.get(id) ?? []).map((w) => w.data));
    const reader = new FrameReader({ stream: 'request', receiver: 'client' });
    const frames = reader.push(bytes);
    reader.end();
    return frames;
  }
}

type Handler = (req: ServerRequest, res: ServerResponse) => void | Promise<void>;

function server(handler: Handler) {
  const transport = new FinRecordingTransport();
  const conn = new H3ServerConnection(transport, {
    clock: Date.now,
    handler,
    remoteAddress: '::1',
    remotePort: 1,
    grease: false,
    onHandlerError: () => {},
  });
  conn.start();
  return { conn, transport };
}

function send(conn: H3ServerConnection, id: number, data: Uint8Array, fin = false): void {
  conn.handleEvent({ type: 'stream-opened', id });
  conn.handleEvent({ type: 'stream-data', id, data, fin });
}

const GET: [string, string][] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'localhost'], [':path', '/']];
const POST: [string, string][] = [[':method', 'POST'], ...GET.slice(1)];

function headers(lines: [string, string][], streamId = 0): Buffer {
  return encodeFrame({ type: 'headers', fieldSection: new QpackEncoder().encodeFieldSection(streamId, lines) });
}
function data(text: string): Buffer {
  return encodeFrame({ type: 'data', data: Buffer.from(text) });
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** The response as the client reads it: frame kinds, body text, decoded trailers. */
function response(transport: FinRecordingTransport, id = 0) {
  const frames = transport.frames(id);
  const decoder = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
  const sections = frames.filter((f) => f.type === 'headers').map((f) => {
    const result = decoder.decodeFieldSection(id, (f as { fieldSection: Uint8Array }).fieldSection);
    if (!('headers' in result)) throw new Error('blocked');
    return result.headers;
  });
  const body = Buffer.concat(frames.flatMap((f) => (f.type === 'data' ? [Buffer.from(f.data)] : []))).toString('latin1');
  return { kinds: frames.map((f) => f.type), sections, body };
}

describe('merged response writes (RFC 9114 §4.1)', () => {
  const small = 'x'.repeat(100);
  const large = 'y'.repeat(5000);

  it.each([
    ['empty body, no trailers', [] as string[], null, ['headers']],
    ['small body in one flush', [small], null, ['headers', 'data']],
    ['small body and trailers', [small], { 'x-sum': '1' }, ['headers', 'data', 'headers']],
    ['large body in one flush', [large], null, ['headers', 'data']],
    ['large body and trailers', [large], { 'x-sum': '2' }, ['headers', 'data', 'headers']],
    ['no body, only trailers', [] as string[], { 'x-sum': '3' }, ['headers', 'headers']],
  ])('%s: frames in order, FIN once and last, nothing after it', async (_name, pieces, trailers, kinds) => {
    const { conn, transport } = server(async (_req, res) => {
      for (const p of pieces) res.write(p);
      await res.end(undefined, trailers ?? undefined);
    });
    send(conn, 0, headers(GET), true);
    await tick();
    const r = response(transport);
    expect(r.kinds).toEqual(kinds);
    expect(r.body).toBe(pieces.join(''));
    if (trailers) expect(r.sections.at(-1)).toEqual(Object.entries(trailers));
    expect(transport.fins(0)).toBe(1);
    expect(transport.lastIsFin(0)).toBe(true);
    expect(transport.afterFin).toEqual([]);
  });

  it('many flushes of mixed sizes, then trailers: DATA frames carry the body in order, the trailers come last with FIN', async () => {
    const sizes = [1, 1024, 1025, 3, 20_000, 0, 700];
    const { conn, transport } = server(async (_req, res) => {
      res.flush(); // head alone first
      for (const [i, n] of sizes.entries()) {
        res.write(String.fromCharCode(97 + i).repeat(n));
        res.flush();
      }
      await res.end('end', { 'x-done': 'yes' });
    });
    send(conn, 0, headers(GET), true);
    await tick();
    const r = response(transport);
    const expected = sizes.map((n, i) => String.fromCharCode(97 + i).repeat(n)).join('') + 'end';
    expect(r.body).toBe(expected);
    expect(r.kinds[0]).toBe('headers');
    expect(r.kinds.at(-1)).toBe('headers');
    expect(r.kinds.slice(1, -1).every((k) => k === 'data')).toBe(true);
    expect(r.sections.at(-1)).toEqual([['x-done', 'yes']]);
    expect(transport.fins(0)).toBe(1);
    expect(transport.lastIsFin(0)).toBe(true);
    expect(transport.afterFin).toEqual([]);
  });

  it('a head flushed alone, then end() with nothing: FIN on an empty write after it', async () => {
    const { conn, transport } = server(async (_req, res) => {
      res.flush();
      await new Promise((r) => setTimeout(r, 1));
      await res.end();
    });
    send(conn, 0, headers(GET), true);
    await tick();
    expect(response(transport).kinds).toEqual(['headers']);
    expect(transport.fins(0)).toBe(1);
    expect(transport.lastIsFin(0)).toBe(true);
    expect(transport.writes.get(0)!.at(-1)!.data.length).toBe(0);
  });
});

describe('shared empty request body (RFC 9114 §4.1, §4.1.2)', () => {
  it('a bodiless request that the client cancels does not fail the empty body of the next one', async () => {
    const seen: string[] = [];
    const { conn, transport } = server(async (req, res) => {
      if (req.path === '/slow') await new Promise((r) => setTimeout(r, 10));
      try {
        seen.push(`${req.path} ${(await readAll(req.body)).length}`);
      } catch (err) {
        seen.push(`${req.path} failed ${(err as Error).message}`);
      }
      await res.end('ok');
    });
    send(conn, 0, headers([...GET.slice(0, 3), [':path', '/slow']]), true);
    // The client resets the first request's response and stops it (RFC 9114 §4.1.1).
    conn.handleEvent({ type: 'stop-sending', id: 0, code: H3ErrorCode.H3_REQUEST_CANCELLED });
    conn.handleEvent({ type: 'stream-reset', id: 0, code: H3ErrorCode.H3_REQUEST_CANCELLED });
    send(conn, 4, headers([...GET.slice(0, 3), [':path', '/next']], 4), true);
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toContain('/next 0');
    expect(response(transport, 4).body).toBe('ok');
    expect(transport.resets.filter(([id]) => id === 4)).toEqual([]);
  });

  it('HEADERS without FIN, then DATA and FIN later: the request gets its body, not the empty one', async () => {
    const bodies: string[] = [];
    const { conn } = server(async (req, res) => {
      bodies.push((await readAll(req.body)).toString());
      await res.end();
    });
    send(conn, 0, headers(POST), false);
    conn.handleEvent({ type: 'stream-data', id: 0, data: data('abc'), fin: true });
    send(conn, 4, Buffer.concat([headers(POST, 4), data('de'), data('f')]), true);
    await tick();
    expect(bodies.sort()).toEqual(['abc', 'def']);
  });

  it('HEADERS with Content-Length: 0 and FIN is a complete request with an empty body', async () => {
    const bodies: string[] = [];
    const { conn, transport } = server(async (req, res) => {
      bodies.push((await readAll(req.body)).toString());
      await res.end('ok');
    });
    send(conn, 0, headers([...POST, ['content-length', '0']]), true);
    await tick();
    expect(bodies).toEqual(['']);
    expect(transport.resets).toEqual([]);
    expect(response(transport).body).toBe('ok');
  });

  it('HEADERS, then an empty DATA frame and FIN: not malformed, the body is empty', async () => {
    const bodies: string[] = [];
    const { conn, transport } = server(async (req, res) => {
      bodies.push((await readAll(req.body)).toString());
      await res.end('ok');
    });
    send(conn, 0, Buffer.concat([headers([...POST, ['content-length', '0']]), data('')]), true);
    await tick();
    expect(bodies).toEqual(['']);
    expect(transport.resets).toEqual([]);
  });

  it('HEADERS, DATA beyond Content-Length: 0, FIN, all in one piece: H3_MESSAGE_ERROR (RFC 9114 §4.1.2)', async () => {
    const { conn, transport } = server(async (req, res) => {
      try {
        await readAll(req.body);
      } catch {}
      await res.end();
    });
    send(conn, 0, Buffer.concat([headers([...POST, ['content-length', '0']]), data('x')]), true);
    await tick();
    expect(transport.resets).toContainEqual([0, H3ErrorCode.H3_MESSAGE_ERROR]);
  });
});
