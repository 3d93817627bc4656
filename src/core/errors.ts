/**
 * Protocol errors carry the code the wire needs (an HTTP status for h1, an RFC 9113 error code for
 * h2, a QUIC transport or HTTP/3 application code) and the RFC section that was violated, so that a
 * failed conformance case explains itself.
 */
export type ErrorScope = 'connection' | 'stream';

export class ProtocolError extends Error {
  override readonly name: string = 'ProtocolError';
  constructor(
    /** Wire code: HTTP status (h1), RFC 9113 §7 code (h2), QUIC/HTTP/3 code (h3). */
    readonly code: number,
    message: string,
    /** Where the rule lives, e.g. "RFC 9112 §6.3". */
    readonly section: string,
    readonly scope: ErrorScope = 'connection',
  ) {
    super(`${message} (${section})`);
  }
}

/** HTTP/1.1 request error: answered with `status` and a closed connection (RFC 9112 §11). */
export class H1Error extends ProtocolError {
  override readonly name = 'H1Error';
  constructor(status: number, message: string, section: string) {
    super(status, message, section, 'connection');
  }
  get status(): number { return this.code; }
}

/** Error of a codec given bytes it cannot decode: the caller maps it to its protocol's error. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Aborts carry one of these as `signal.reason`, so handlers can tell why. */
export class StreamAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}
