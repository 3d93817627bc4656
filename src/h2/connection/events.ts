/**
 * What an HTTP/2 connection (src/h2/connection.ts) tells the session on top of it: requests,
 * responses, pushes, DATA, trailers, resets and the connection's end (RFC 9113 §5.1, §8).
 */
import type { H2Error } from '../errors.js';
import type { RequestHead, ResponseHead } from '../headers.js';
import type { HeaderField } from '../hpack.js';

/** What the session on top hears from the connection. All callbacks run synchronously. */
export interface H2Events {
  /** Server: a request's header section (validated, §8.3.1). */
  onRequest?(streamId: number, head: RequestHead, endStream: boolean): void;
  /** Client: a response's header section; 1xx heads come first with `informational` true. */
  onResponse?(streamId: number, head: ResponseHead, endStream: boolean): void;
  /** Client: a PUSH_PROMISE on `parentId` reserving `promisedId` (§8.4); false refuses it (RST CANCEL). */
  onPushPromise?(parentId: number, promisedId: number, head: RequestHead): boolean;
  /** DATA on a stream (padding removed). `endStream`: the peer's half is done (an empty chunk then). */
  onData?(streamId: number, data: Uint8Array, endStream: boolean): void;
  /** A trailer section, which always ends the peer's half (§8.1). */
  onTrailers?(streamId: number, trailers: HeaderField[]): void;
  /** The stream was reset: by the peer, by us (stream error), or because the connection ended. */
  onReset?(streamId: number, code: number, by: 'peer' | 'local' | 'connection'): void;
  /** Room opened for this stream's queued output (window update, DATA sent). */
  onDrain?(streamId: number): void;
  /** The stream's last frame (END_STREAM) is queued for the wire. */
  onSendFinished?(streamId: number): void;
  /** The stream is closed both ways and forgotten. */
  onStreamClosed?(streamId: number): void;
  /** The peer sent GOAWAY (§6.8). */
  onGoaway?(lastStreamId: number, code: number): void;
  /** The connection is over; `error` when it ended on a connection error (ours or the peer's). */
  onClose?(error: H2Error | null): void;
}
