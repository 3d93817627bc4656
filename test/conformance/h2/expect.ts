/**
 * What a conformance case may expect of the server, as reusable checks (RFC 9113 §5.4):
 *
 * - a connection error: a GOAWAY with the code (§5.4.1), then the connection closes;
 * - a stream error: a RST_STREAM on that stream with the code (§5.4.2), and the connection stays
 *   usable, which a PING answered with the same payload proves (§6.7);
 * - "no error": the PING answer arrives and nothing on the way was a GOAWAY or RST_STREAM;
 * - a response: HEADERS (+ DATA, trailers) up to END_STREAM on the stream (§8.1).
 *
 * Each failure throws a ConformanceFailure saying what was expected and what came instead.
 */
import { describe, errorName, type H2TestClient, type Received, type TimedOut } from './client.js';
import { ErrorCode } from '../../../src/h2/errors.js';
import type { HeaderField } from '../../../src/h2/hpack.js';

export class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
  constructor(readonly expected: string, readonly actual: string) {
    super(`expected ${expected}; got ${actual}`);
  }
}

/** Frames any server may send at any time, which say nothing about the case (§6.5, §6.9, RFC 9218 §7). */
function isBackground(event: Received): boolean {
  if (event.kind !== 'frame') return false;
  const type = event.frame.type;
  return type === 'SETTINGS' || type === 'WINDOW_UPDATE' || type === 'PRIORITY_UPDATE' || (type === 'PING' && !event.frame.ack);
}

/** What arrived since log index `from` (background frames left out), then `last`. */
function seenText(c: H2TestClient, from: number, last: Received | TimedOut): string {
  const parts = c.log.slice(from).filter((e) => e !== last && !isBackground(e)).map(describe);
  parts.push(describe(last));
  return parts.join(', then ');
}

const codesText = (codes: readonly number[]): string => codes.map(errorName).join(' or ');

const isFrame = (e: Received, type: string): boolean => e.kind === 'frame' && e.frame.type === type;

/**
 * RFC 9113 §5.4.1: a connection error is a GOAWAY carrying one of `codes`. Frames before it are
 * allowed (responses already under way); a close without GOAWAY or a timeout fails.
 */
export async function expectConnectionError(c: H2TestClient, ...codes: number[]): Promise<void> {
  const from = c.log.length;
  const event = await c.next(undefined, (e) => isFrame(e, 'GOAWAY'));
  if (event.kind === 'frame' && event.frame.type === 'GOAWAY' && codes.includes(event.frame.errorCode)) return;
  throw new ConformanceFailure(`GOAWAY ${codesText(codes)}`, seenText(c, from, event));
}

/**
 * RFC 9113 §5.4.2: a stream error is a RST_STREAM on `streamId` carrying one of `codes`; then the
 * connection must still answer a PING. A response on the stream before the reset is allowed
 * (§8.1.1: "a server MAY send an HTTP response prior to closing or resetting the stream").
 */
export async function expectStreamError(c: H2TestClient, streamId: number, ...codes: number[]): Promise<void> {
  const from = c.log.length;
  const expected = `RST_STREAM ${codesText(codes)} on stream ${streamId}`;
  const event = await c.next(undefined, (e) => isFrame(e, 'GOAWAY') || (e.kind === 'frame' && e.frame.type === 'RST_STREAM' && e.frame.streamId === streamId));
  if (event.kind === 'frame' && event.frame.type === 'GOAWAY') {
    throw new ConformanceFailure(`${expected} (a stream error, not a connection error)`, seenText(c, from, event));
  }
  if (!(event.kind === 'frame' && event.frame.type === 'RST_STREAM' && codes.includes(event.frame.errorCode))) {
    throw new ConformanceFailure(expected, seenText(c, from, event));
  }
  await expectAlive(c, 'the connection to stay usable after the stream error');
}

export interface AliveOptions {
  /** Streams on which a RST_STREAM is acceptable (e.g. one the client reset itself). */
  allowResetOn?: number[];
}

/**
 * No error: a PING sent now is answered with the same payload (RFC 9113 §6.7), and nothing that
 * arrives before it is a GOAWAY, a connection close, a malformed frame or a RST_STREAM. Returns
 * every event that arrived meanwhile (frames on streams also stay queued for later reads).
 */
export async function expectAlive(c: H2TestClient, what = 'no error (a PING answered with its payload)', options: AliveOptions = {}): Promise<Received[]> {
  const from = c.log.length;
  const data = c.ping();
  const isOurAck = (e: Received): boolean => e.kind === 'frame' && e.frame.type === 'PING' && e.frame.ack && Buffer.from(e.frame.opaqueData).equals(data);
  const isBad = (e: Received): boolean =>
    e.kind === 'malformed' ||
    isFrame(e, 'GOAWAY') ||
    (e.kind === 'frame' && e.frame.type === 'RST_STREAM' && !(options.allowResetOn ?? []).includes(e.frame.streamId));
  const event = await c.next(undefined, (e) => isOurAck(e) || isBad(e));
  if (event.kind !== 'frame' || !isOurAck(event)) throw new ConformanceFailure(what, seenText(c, from, event));
  return c.log.slice(from, c.log.indexOf(event));
}

/** The client saw the connection end (RFC 9113 §5.4.1: "MUST close the TCP connection"). */
export async function expectClosed(c: H2TestClient, what = 'the connection to be closed'): Promise<void> {
  const from = c.log.length;
  const event = await c.next(undefined, () => false);
  if (event.kind !== 'closed') throw new ConformanceFailure(what, seenText(c, from, event));
}

export interface Response {
  status: number;
  headers: HeaderField[];
  body: Buffer;
  /** Each DATA frame's payload length, in order. */
  dataFrames: number[];
  trailers: HeaderField[] | null;
}

/**
 * A whole response on `streamId` (RFC 9113 §8.1): HEADERS with a final :status (1xx interim
 * responses are skipped), DATA, optional trailers, END_STREAM. A reset, GOAWAY or close fails.
 */
export async function expectResponse(c: H2TestClient, streamId: number): Promise<Response> {
  const from = c.log.length;
  const expected = `a complete response on stream ${streamId}`;
  let head: HeaderField[] | null = null;
  const body: Buffer[] = [];
  const dataFrames: number[] = [];
  for (;;) {
    const event = await c.next(undefined, (e) => e.kind === 'malformed' || isFrame(e, 'GOAWAY') || (e.kind === 'frame' && e.frame.streamId === streamId));
    if (event.kind !== 'frame') throw new ConformanceFailure(expected, seenText(c, from, event));
    const f = event.frame;
    // A graceful GOAWAY that still covers this stream lets the response finish (RFC 9113 §6.8).
    if (f.type === 'GOAWAY' && f.errorCode === 0 && f.lastStreamId >= streamId) continue;
    if (f.type === 'GOAWAY' || f.type === 'RST_STREAM') throw new ConformanceFailure(expected, seenText(c, from, event));
    if (f.type === 'HEADERS') {
      const fields = event.fields ?? [];
      if (head === null) {
        const status = Number(fields.find(([n]) => n === ':status')?.[1]);
        if (!(status >= 100 && status <= 599)) throw new ConformanceFailure(`${expected} with a :status (RFC 9113 §8.3.2)`, seenText(c, from, event));
        if (status < 200) continue; // interim response
        head = fields;
        if (f.endStream) return finish(head, body, dataFrames, null);
      } else {
        if (!f.endStream) throw new ConformanceFailure(`trailers with END_STREAM (RFC 9113 §8.1)`, seenText(c, from, event));
        return finish(head, body, dataFrames, fields);
      }
    } else if (f.type === 'DATA') {
      if (head === null) throw new ConformanceFailure(`HEADERS before DATA on stream ${streamId} (RFC 9113 §8.1)`, seenText(c, from, event));
      body.push(Buffer.from(f.data));
      dataFrames.push(f.data.length);
      if (f.endStream) return finish(head, body, dataFrames, null);
    }
  }
}

function finish(head: HeaderField[], body: Buffer[], dataFrames: number[], trailers: HeaderField[] | null): Response {
  const status = Number(head.find(([n]) => n === ':status')![1]);
  return { status, headers: head, body: Buffer.concat(body), dataFrames, trailers };
}

/** Fails unless `condition` holds. */
export function check(condition: boolean, expected: string, actual: string): asserts condition {
  if (!condition) throw new ConformanceFailure(expected, actual);
}

/**
 * Either of two outcomes the RFC allows for one input (for instance a reset, or the frame
 * ignored): waits for RST_STREAM on `streamId` or for the PING answer, and fails on anything else.
 */
export async function expectResetOrAlive(c: H2TestClient, streamId: number, ...codes: number[]): Promise<'reset' | 'alive'> {
  const from = c.log.length;
  const data = c.ping();
  const expected = `RST_STREAM ${codesText(codes)} on stream ${streamId}, or no error`;
  const isOurAck = (e: Received): boolean => e.kind === 'frame' && e.frame.type === 'PING' && e.frame.ack && Buffer.from(e.frame.opaqueData).equals(data);
  const event = await c.next(undefined, (e) => isOurAck(e) || e.kind === 'malformed' || isFrame(e, 'GOAWAY') || isFrame(e, 'RST_STREAM'));
  if (isOurAck(event as Received)) return 'alive';
  if (event.kind === 'frame' && event.frame.type === 'RST_STREAM' && event.frame.streamId === streamId && codes.includes(event.frame.errorCode)) {
    await expectAlive(c);
    return 'reset';
  }
  throw new ConformanceFailure(expected, seenText(c, from, event));
}

/** DATA on a closed stream: STREAM_CLOSED as a stream error (§6.1) or a connection error (§5.1). */
export async function expectStreamClosed(c: H2TestClient, streamId: number): Promise<void> {
  const event = await c.waitFor((e) => e.kind === 'frame' && (e.frame.type === 'GOAWAY' || (e.frame.type === 'RST_STREAM' && e.frame.errorCode !== ErrorCode.CANCEL)));
  if (event.kind === 'frame' && event.frame.type === 'GOAWAY' && event.frame.errorCode === ErrorCode.STREAM_CLOSED) return;
  if (event.kind === 'frame' && event.frame.type === 'RST_STREAM' && event.frame.streamId === streamId && event.frame.errorCode === ErrorCode.STREAM_CLOSED) {
    await expectAlive(c);
    return;
  }
  throw new ConformanceFailure(`RST_STREAM STREAM_CLOSED on stream ${streamId} or GOAWAY STREAM_CLOSED`, describe(event));
}

/** HEADERS on a closed stream: STREAM_CLOSED (either scope) or GOAWAY PROTOCOL_ERROR; never answered. */
export async function expectClosedStreamRefused(c: H2TestClient, streamId: number): Promise<void> {
  const event = await c.waitFor((e) => e.kind === 'frame' && (e.frame.type === 'GOAWAY' || e.frame.type === 'HEADERS' || (e.frame.type === 'RST_STREAM' && e.frame.errorCode !== ErrorCode.CANCEL)));
  if (event.kind === 'frame') {
    const f = event.frame;
    if (f.type === 'GOAWAY' && (f.errorCode === ErrorCode.STREAM_CLOSED || f.errorCode === ErrorCode.PROTOCOL_ERROR)) return;
    if (f.type === 'RST_STREAM' && f.streamId === streamId && f.errorCode === ErrorCode.STREAM_CLOSED) {
      await expectAlive(c);
      return;
    }
  }
  throw new ConformanceFailure('GOAWAY STREAM_CLOSED or PROTOCOL_ERROR, or RST_STREAM STREAM_CLOSED', describe(event));
}

/** A PING answer, or a close preceded by nothing worse than GOAWAY NO_ERROR. */
export async function expectPingOrCleanClose(c: H2TestClient): Promise<void> {
  const data = c.ping();
  for (;;) {
    const event = await c.next();
    if (event.kind === 'closed') return;
    if (event.kind === 'frame' && event.frame.type === 'PING' && event.frame.ack && Buffer.from(event.frame.opaqueData).equals(data)) return;
    if (event.kind === 'frame' && event.frame.type === 'GOAWAY' && event.frame.errorCode !== ErrorCode.NO_ERROR) {
      throw new ConformanceFailure('a PING answer or a clean close', describe(event));
    }
    if (event.kind === 'timeout') throw new ConformanceFailure('a PING answer or a clean close', describe(event));
  }
}
