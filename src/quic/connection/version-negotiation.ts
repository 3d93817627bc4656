/**
 * Compatible version negotiation (RFC 9368) between QUIC v1 (RFC 9000) and v2 (RFC 9369): the
 * client starts in its original version and lists the versions it could switch to in
 * version_information; a server that prefers a compatible one answers in it from its first
 * Initial on, and both sides check each other's version_information so that an attacker cannot
 * downgrade the choice (RFC 9368 §4, §5). Errors are VERSION_NEGOTIATION_ERROR (0x11).
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import type { VersionInformation } from '../transport-params.js';
import { isSupportedVersion } from '../version.js';

/** RFC 9369 §4: v1 and v2 are compatible with each other (the handshake is the same). */
export function areCompatible(a: number, b: number): boolean {
  return isSupportedVersion(a) && isSupportedVersion(b);
}

/**
 * Server: the version to continue in (RFC 9368 §2.3): the first of our preferences that the client
 * listed and that is compatible with the client's original version; else the original one.
 */
export function chooseVersion(original: number, clientInfo: VersionInformation | undefined, preference: readonly number[]): number {
  if (clientInfo === undefined) return original;
  for (const version of preference) {
    if (clientInfo.availableVersions.includes(version) && areCompatible(original, version)) return version;
  }
  return original;
}

function fail(message: string): never {
  throw new TransportError(TransportErrorCode.VERSION_NEGOTIATION_ERROR, message, 'RFC 9368 §4');
}

/** Server: the client's Chosen Version must be the version of its first Initial (RFC 9368 §4). */
export function checkClientVersionInformation(info: VersionInformation | undefined, original: number): void {
  if (info !== undefined && info.chosenVersion !== original) fail(`client chose 0x${info.chosenVersion.toString(16)} but spoke 0x${original.toString(16)}`);
}

/**
 * Client: the server's Chosen Version must be the version the handshake runs in, and a switch of
 * version requires the server to have said so (RFC 9368 §4, §5).
 */
export function checkServerVersionInformation(info: VersionInformation | undefined, negotiated: number, original: number): void {
  if (info === undefined) {
    if (negotiated !== original) fail('the server switched versions without version_information');
    return;
  }
  if (info.chosenVersion !== negotiated) fail(`server chose 0x${info.chosenVersion.toString(16)} but spoke 0x${negotiated.toString(16)}`);
}
