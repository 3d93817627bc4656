/**
 * SSLKEYLOGFILE lines in the NSS key log format, so Wireshark can decrypt a capture:
 *   <label> <client_random hex> <secret hex>
 * with the TLS 1.3 labels below (draft-ietf-tls-keylogfile §3).
 */
export type KeylogLabel =
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EXPORTER_SECRET';

/** Receives one line (without newline) per secret; e.g. append it plus '\n' to a file. */
export type Keylog = (line: string) => void;

export function keylogLine(label: KeylogLabel, clientRandom: Uint8Array, secret: Uint8Array): string {
  return `${label} ${Buffer.from(clientRandom).toString('hex')} ${Buffer.from(secret).toString('hex')}`;
}
