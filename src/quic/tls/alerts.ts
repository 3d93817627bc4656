/**
 * TLS alerts (RFC 8446 §6) as QUIC sees them: there is no alert record in QUIC, a fatal alert
 * becomes a CONNECTION_CLOSE with CRYPTO_ERROR 0x0100 + AlertDescription (RFC 9001 §4.8).
 * TlsAlert is what the handshake code throws; the endpoint turns it into an 'alert' event.
 */
import { ProtocolError } from '../../core/errors.js';

/** AlertDescription values (RFC 8446 §6, plus RFC 7301 §3.2 for ALPN). */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

export type AlertName = keyof typeof AlertDescription;

const NAMES = new Map<number, string>(Object.entries(AlertDescription).map(([k, v]) => [v, k]));

export function alertName(alert: number): string {
  return NAMES.get(alert) ?? `alert_${alert}`;
}

/** QUIC CRYPTO_ERROR range: 0x0100 + the alert (RFC 9001 §4.8, RFC 9000 §20.1). */
export function cryptoErrorCode(alert: number): number {
  return 0x100 + alert;
}

/** QUIC PROTOCOL_VIOLATION (RFC 9000 §20.1), for the few TLS-level rules RFC 9001 maps to it. */
export const QUIC_PROTOCOL_VIOLATION = 0x0a;

/** A fatal handshake error: the alert to send and the rule that was broken. */
export class TlsAlert extends ProtocolError {
  override readonly name = 'TlsAlert';
  constructor(
    readonly alert: number,
    message: string,
    section: string,
    /** Set when RFC 9001 asks for a QUIC transport error instead of CRYPTO_ERROR. */
    readonly transportError?: number,
  ) {
    super(transportError ?? cryptoErrorCode(alert), `${alertName(alert)}: ${message}`, section);
  }
}
