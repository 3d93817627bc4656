/**
 * Errors of the QUIC stream layer: a peer that breaks a rule of RFC 9000 §2–4 (stream IDs, stream
 * states, flow control, final size, stream limits) causes a connection error carrying the transport
 * error code of RFC 9000 §20.1. The connection turns a `StreamError` into CONNECTION_CLOSE.
 *
 * `StreamUsageError` is different: the local application misused the API (wrote after end(), opened
 * a stream it may not open). It is a programming error, never caused by the peer.
 */
import { ProtocolError } from '../../core/errors.js';
import { TransportErrorCode, transportErrorName } from '../errors.js';

// The codes are the transport layer's own table (RFC 9000 §20.1), re-exported for stream code.
export { TransportErrorCode };
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/**
 * A peer's violation of RFC 9000 §2–4 found by the stream layer. Always a connection error in QUIC
 * (RFC 9000 §11.1): the whole connection is closed with `code`.
 */
export class StreamError extends ProtocolError {
  override readonly name = 'StreamError';
  constructor(code: number, message: string, section: string) {
    super(code, `${transportErrorName(code)}: ${message}`, section, 'connection');
  }
}

/** The local application used a stream in a way the API does not allow. */
export class StreamUsageError extends Error {
  override readonly name = 'StreamUsageError';
}
