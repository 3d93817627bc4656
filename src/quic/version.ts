/**
 * QUIC version numbers: version 1 (RFC 9000 §15), version 2 (RFC 9369 §3.1), the reserved
 * "grease" pattern 0x?a?a?a?a (RFC 9000 §15) and the versions this implementation speaks, in order
 * of preference.
 */

/** QUIC version 1, RFC 9000 §15. */
export const QUIC_V1 = 0x00000001;
/** QUIC version 2, RFC 9369 §3.1. */
export const QUIC_V2 = 0x6b3343cf;
/** Version 0 marks a Version Negotiation packet (RFC 9000 §17.2.1). */
export const VERSION_NEGOTIATION = 0x00000000;

/** Versions we accept, most preferred first. */
export const SUPPORTED_VERSIONS: readonly number[] = Object.freeze([QUIC_V1, QUIC_V2]);

export function isSupportedVersion(version: number): boolean {
  return version === QUIC_V1 || version === QUIC_V2;
}

/**
 * Versions of the form 0x?a?a?a?a are reserved so that endpoints exercise version negotiation
 * (RFC 9000 §15, §6.3): never a real version.
 */
export function isReservedVersion(version: number): boolean {
  return ((version & 0x0f0f0f0f) >>> 0) === 0x0a0a0a0a;
}

/** A reserved version with the high nibbles taken from `random` (RFC 9000 §6.3 greasing). */
export function greaseVersion(random: number): number {
  return (((random & 0xf0f0f0f0) | 0x0a0a0a0a) >>> 0);
}
