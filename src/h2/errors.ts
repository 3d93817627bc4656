/**
 * HTTP/2 error codes (RFC 9113 §7) and the error type every h2 layer throws.
 *
 * An `H2Error` says what the connection must do about it (RFC 9113 §5.4): a `connection` error
 * ends the connection with GOAWAY carrying `code`; a `stream` error resets only `streamId` with
 * RST_STREAM carrying `code`, and the connection goes on.
 */
import { ProtocolError, type ErrorScope } from '../core/errors.js';

/** RFC 9113 §7 error codes. */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** The §7 name of a code; unknown codes are legal on the wire (§7: "MUST NOT trigger special behavior"). */
export function errorCodeName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_ERROR_0x${code.toString(16)}`;
}

export class H2Error extends ProtocolError {
  override readonly name: string = 'H2Error';
  constructor(
    code: number,
    message: string,
    section: string,
    scope: ErrorScope = 'connection',
    /** The stream to reset for a stream error (RFC 9113 §5.4.2). */
    readonly streamId?: number,
  ) {
    super(code, `${errorCodeName(code)}: ${message}`, section, scope);
  }
}

/** A connection error (RFC 9113 §5.4.1): GOAWAY with `code`, then close. */
export function connectionError(code: number, message: string, section: string): H2Error {
  return new H2Error(code, message, section, 'connection');
}

/** A stream error (RFC 9113 §5.4.2): RST_STREAM on `streamId` with `code`. */
export function streamError(code: number, streamId: number, message: string, section: string): H2Error {
  return new H2Error(code, message, section, 'stream', streamId);
}
