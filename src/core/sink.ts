/**
 * What a protocol stream offers the shared response engine (src/core/response.ts). Each protocol
 * implements it once: h1 as chunks or a Content-Length body, h2/h3 as HEADERS and DATA frames.
 */
import type { HeaderList } from './headers.js';
import type { ServerResponse } from './types.js';

export interface ResponseHead {
  status: number;
  headers: HeaderList;
}

export interface ResponseSink {
  /** Sends an interim 1xx response (RFC 9110 §15.2), e.g. 103 Early Hints. */
  sendInformational(status: number, headers: HeaderList): void;
  /**
   * Sends one flush, in order: the head when `head` is given (only on the first call), the body
   * pieces (`bodyBytes` is their total length), and, when `end` is true, the end of the message with
   * `trailers` if any. One flush becomes one h1 chunk, or DATA frames on h2/h3.
   */
  send(head: ResponseHead | null, body: Uint8Array[], bodyBytes: number, end: boolean, trailers: HeaderList | null): void;
  /** Bytes handed to send() that are not yet on the wire (socket buffer, flow-control wait). */
  readonly bufferedBytes: number;
  /** h1: the client sent `TE: trailers`; h2/h3: always. */
  readonly trailersAllowed: boolean;
  /**
   * Abandons the response before its end: h1 closes the connection without the last chunk, h2 sends
   * RST_STREAM, h3 RESET_STREAM — so the client sees a failure, never a truncated "success".
   */
  reset(reason: Error): void;
  /** Server push where the protocol and the client allow it (RFC 9113 §8.4, RFC 9114 §4.6). */
  push?(path: string, headers: HeaderList): ServerResponse | null;
}
