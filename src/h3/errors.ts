/**
 * HTTP/3 error codes (RFC 9114 §8.1) and QPACK error codes (RFC 9204 §6), and `H3Error`, the
 * ProtocolError that the HTTP/3 layer throws. Its `scope` tells the connection whether to reset
 * one stream (RESET_STREAM / STOP_SENDING) or close the whole connection (CONNECTION_CLOSE).
 */
import { ProtocolError, type ErrorScope } from '../core/errors.js';

/** RFC 9114 §8.1. */
export const H3ErrorCode = {
  H3_NO_ERROR: 0x100,
  H3_GENERAL_PROTOCOL_ERROR: 0x101,
  H3_INTERNAL_ERROR: 0x102,
  H3_STREAM_CREATION_ERROR: 0x103,
  H3_CLOSED_CRITICAL_STREAM: 0x104,
  H3_FRAME_UNEXPECTED: 0x105,
  H3_FRAME_ERROR: 0x106,
  H3_EXCESSIVE_LOAD: 0x107,
  H3_ID_ERROR: 0x108,
  H3_SETTINGS_ERROR: 0x109,
  H3_MISSING_SETTINGS: 0x10a,
  H3_REQUEST_REJECTED: 0x10b,
  H3_REQUEST_CANCELLED: 0x10c,
  H3_REQUEST_INCOMPLETE: 0x10d,
  H3_MESSAGE_ERROR: 0x10e,
  H3_CONNECT_ERROR: 0x10f,
  H3_VERSION_FALLBACK: 0x110,
} as const;

/** RFC 9204 §6. */
export const QpackErrorCode = {
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;

export type H3ErrorCodeName = keyof typeof H3ErrorCode | keyof typeof QpackErrorCode;

const NAMES = new Map<number, H3ErrorCodeName>(
  [...Object.entries(H3ErrorCode), ...Object.entries(QpackErrorCode)].map(
    ([name, code]) => [code, name as H3ErrorCodeName] as const,
  ),
);

/** Name of a known code, e.g. 0x105 → "H3_FRAME_UNEXPECTED"; undefined for others. */
export function h3ErrorName(code: number): H3ErrorCodeName | undefined {
  return NAMES.get(code);
}

/**
 * Codes 0x1f * N + 0x21 are reserved for greasing (RFC 9114 §8.1); like any unknown code a
 * receiver treats them as H3_NO_ERROR (RFC 9114 §9).
 */
export function isReservedH3ErrorCode(code: number): boolean {
  return code >= 0x21 && (code - 0x21) % 0x1f === 0;
}

export class H3Error extends ProtocolError {
  override readonly name = 'H3Error';
  constructor(code: number, message: string, section: string, scope: ErrorScope = 'connection') {
    super(code, `${h3ErrorName(code) ?? `0x${code.toString(16)}`}: ${message}`, section, scope);
  }
}
