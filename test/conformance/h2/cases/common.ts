/** Small steps the cases share: requests sent with the h123 codec, and streams put into a state. */
import type { FieldInput } from '../../../../src/h2/hpack.js';
import type { H2TestClient } from '../client.js';
import type { CaseContext } from '../case.js';
import { F, T, frame } from '../frames.js';

export interface RequestOptions {
  method?: string;
  path?: string;
  extra?: readonly FieldInput[];
  /** Default true: the request has no body. */
  endStream?: boolean;
}

/** A request's HEADERS (one frame, END_HEADERS) on `streamId`, encoded with the connection's HPACK encoder. */
export function sendRequest(c: H2TestClient, ctx: CaseContext, streamId: number, options: RequestOptions = {}): void {
  const fields = ctx.request(options.method, options.path, options.extra);
  sendHeaders(c, streamId, fields, options.endStream ?? true);
}

/** HEADERS with END_HEADERS carrying `fields` as they are (for malformed field sets). */
export function sendHeaders(c: H2TestClient, streamId: number, fields: readonly FieldInput[], endStream = true): void {
  c.send(frame(T.HEADERS, F.END_HEADERS | (endStream ? F.END_STREAM : 0), streamId, c.block(fields)));
}

/** DATA on `streamId`. */
export function sendData(c: H2TestClient, streamId: number, data: Uint8Array | string, endStream = true): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  c.send(frame(T.DATA, endStream ? F.END_STREAM : 0, streamId, bytes));
}

/**
 * Puts `streamId` into "half-closed (remote)" on the server (RFC 9113 §5.1): a complete request
 * whose response the handler holds back for `ms`.
 */
export function halfClosedRemote(c: H2TestClient, ctx: CaseContext, streamId: number, ms = 3000): void {
  sendRequest(c, ctx, streamId, { path: `/wait?ms=${ms}` });
}
