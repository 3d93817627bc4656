/**
 * QUIC transport errors (RFC 9000 §20.1): the codes a CONNECTION_CLOSE frame of type 0x1c carries,
 * and `TransportError`, the ProtocolError that names the code, the violated section and, where the
 * error came from a frame, that frame's type (which goes into the CONNECTION_CLOSE Frame Type field,
 * RFC 9000 §19.19).
 */
import { ProtocolError } from '../core/errors.js';

/** Transport error codes, RFC 9000 §20.1 (plus RFC 9368 §10.2 for VERSION_NEGOTIATION_ERROR). */
export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  /** RFC 9368 §10.2: compatible version negotiation failed. */
  VERSION_NEGOTIATION_ERROR: 0x11,
  /** CRYPTO_ERROR range 0x0100–0x01ff: 0x0100 + the TLS alert (RFC 9000 §20.1, RFC 9001 §4.8). */
  CRYPTO_ERROR_BASE: 0x100,
} as const;

/** CRYPTO_ERROR code carrying a TLS alert description (RFC 9001 §4.8). */
export function cryptoErrorCode(tlsAlert: number): number {
  if (!Number.isInteger(tlsAlert) || tlsAlert < 0 || tlsAlert > 0xff) {
    throw new RangeError(`TLS alert out of range: ${tlsAlert}`);
  }
  return TransportErrorCode.CRYPTO_ERROR_BASE + tlsAlert;
}

/** True for 0x0100–0x01ff, the CRYPTO_ERROR range (RFC 9000 §20.1). */
export function isCryptoError(code: number): boolean {
  return code >= 0x100 && code <= 0x1ff;
}

const CODE_NAMES = new Map<number, string>(
  Object.entries(TransportErrorCode)
    .filter(([name]) => name !== 'CRYPTO_ERROR_BASE')
    .map(([name, code]) => [code, name]),
);

/** Name of a transport error code for logs: "FRAME_ENCODING_ERROR", "CRYPTO_ERROR(0x28)". */
export function transportErrorName(code: number): string {
  if (isCryptoError(code)) return `CRYPTO_ERROR(0x${(code - 0x100).toString(16)})`;
  return CODE_NAMES.get(code) ?? `0x${code.toString(16)}`;
}

/** A QUIC connection error (RFC 9000 §11.1): closes the connection with CONNECTION_CLOSE 0x1c. */
export class TransportError extends ProtocolError {
  override readonly name = 'TransportError';
  constructor(
    code: number,
    message: string,
    section: string,
    /** Type of the frame that triggered the error, for CONNECTION_CLOSE's Frame Type (0 if none). */
    readonly frameType?: number,
  ) {
    super(code, `${transportErrorName(code)}: ${message}`, section, 'connection');
  }
}
