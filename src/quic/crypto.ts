/**
 * QUIC packet protection (RFC 9001 §5, §6; QUIC v2 differences from RFC 9369 §3.3): cipher suites,
 * key derivation, AEAD packet protection, header protection, whole-packet helpers and the Retry
 * integrity tag. Each concept lives in its own file under ./crypto/; this module gathers them.
 */
export * from './crypto/suites.js';
export * from './crypto/keys.js';
export * from './crypto/header-protection.js';
export * from './crypto/protector.js';
export * from './crypto/packet-protection.js';
export * from './crypto/retry.js';
