/**
 * TLS 1.3 for QUIC (RFC 8446 as used by RFC 9001): what the QUIC connection uses. The handshake
 * endpoints are sans-I/O: CRYPTO bytes go in with receive(level, bytes), events come out of poll()
 * in order (handshake data per level, traffic secrets, completion, tickets, one fatal alert).
 */
export { createClient, TlsClient, type ClientOptions } from './client.js';
export { createServer, TlsServer, type ServerOptions } from './server.js';
export type { CryptoLevel, Level, RandomSource, TlsEndpoint, TlsEvent } from './handshake.js';
export { SingleUseTicketStore, type SessionTicket, type TicketStore } from './tickets.js';
export { AlertDescription, alertName, cryptoErrorCode, TlsAlert } from './alerts.js';
export { cipherSuite, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from './cipher-suites.js';
export { NamedGroup } from './key-exchange.js';
export { SignatureScheme } from './signature.js';
export type { Keylog } from './keylog.js';
