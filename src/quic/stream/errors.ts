/**
 * Errors of the QUIC stream layer: a peer that breaks a rule of RFC 9000 §2–4 (stream IDs, stream
 * states, flow control, final size, stream limits) causes a connection error carrying the transport
 * error code of RFC 9000 §20.1. The connection turns a `StreamError` into CONNECTION_CLOSE.
 *
 * `StreamUsageError` is different: the local application misused the API (wrote after end(), opened
 * a stream it may not open). It is a programming error, never caused by the peer.
 */
import { ProtocolError } from '../../core/errors.js';

/** Transport error codes used by the stream layer (RFC 9000 §20.1). */
export const TransportErrorCode = {
  INTERNAL_ERROR: 0x01,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  PROTOCOL_VIOLATION: 0x0a,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
} as const;

export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

const CODE_NAMES = new Map<number, string>(
  Object.entries(TransportErrorCode).map(([name, code]) => [code, name]),
);

/**
 * A peer's violation of RFC 9000 §2–4 found by the stream layer. Always a connection error in QUIC
 * (RFC 9000 §11.1): the whole connection is closed with `code`.
 */
export class StreamError extends ProtocolError {
  override readonly name = 'StreamError';
  constructor(code: TransportErrorCode, message: string, section: string) {
    super(code, `${CODE_NAMES.get(code) ?? `0x${code.toString(16)}`}: ${message}`, section, 'connection');
  }
}

/** The local application used a stream in a way the API does not allow. */
export class StreamUsageError extends Error {
  override readonly name = 'StreamUsageError';
}
