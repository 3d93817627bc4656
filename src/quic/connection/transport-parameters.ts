/**
 * The transport parameters of a connection (RFC 9000 §7.4, §18.2): the settings we advertise and
 * their defaults, their encoding with the connection IDs of the handshake, and the §7.3
 * authentication of those connection IDs in the peer's parameters — a mismatch or an absent
 * value means someone tampered with the handshake's packets: TRANSPORT_PARAMETER_ERROR.
 * The parameters that come from the settings alone are encoded once per settings (fixedPart).
 */
import { DEFAULT_LIMITS } from '../../core/limits.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { encodeTransportParameters, TransportParameterId, type TransportParameters, type VersionInformation } from '../transport-params.js';

export interface TransportSettings {
  /** max_idle_timeout in ms (RFC 9000 §10.1); 0 disables. */
  maxIdleTimeout: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  /** max_ack_delay in ms (RFC 9000 §18.2). */
  maxAckDelay: number;
  ackDelayExponent: number;
  activeConnectionIdLimit: number;
  /** Largest UDP payload we accept (RFC 9000 §18.2). */
  maxUdpPayloadSize: number;
  /**
   * A server's disable_active_migration (RFC 9000 §18.2): clients must not move to a new local
   * address, e.g. behind a load balancer that routes by address. NAT rebinding is still handled
   * (§9), and a client that migrates anyway is validated and followed (§9: "MUST either drop ...
   * or proceed with path validation"). Not server-only, but meaningless from a client: servers do
   * not migrate in QUIC v1.
   */
  disableActiveMigration: boolean;
}

/** What we advertise unless told otherwise. */
export const DEFAULT_TRANSPORT_SETTINGS: Readonly<TransportSettings> = Object.freeze({
  maxIdleTimeout: 30_000,
  initialMaxData: 4 * 1024 * 1024,
  initialMaxStreamDataBidiLocal: 1024 * 1024,
  initialMaxStreamDataBidiRemote: 1024 * 1024,
  initialMaxStreamDataUni: 1024 * 1024,
  initialMaxStreamsBidi: DEFAULT_LIMITS.maxConcurrentStreams,
  initialMaxStreamsUni: DEFAULT_LIMITS.maxConcurrentStreams,
  maxAckDelay: 25,
  ackDelayExponent: 3,
  activeConnectionIdLimit: DEFAULT_LIMITS.activeConnectionIdLimit,
  maxUdpPayloadSize: 1452,
  disableActiveMigration: false,
});

/** What only a server sends (RFC 9000 §18.2). */
export interface ServerParameterIds {
  originalDcid: Buffer;
  retryScid: Buffer | undefined;
  /**
   * stateless_reset_token; undefined for a server with a zero-length connection ID: the token is
   * derived from the ID (RFC 9000 §10.3.2, "it cannot provide a zero-length connection ID"), and a
   * token of the empty ID would be every such connection's token.
   */
  resetToken: Buffer | undefined;
}

/**
 * Our parameters that depend only on the settings and the version information, encoded once per
 * combination: every connection of an endpoint advertises the same ones, and only its connection
 * IDs and reset token differ (RFC 9000 §18: parameters may come in any order).
 */
interface FixedParameters {
  readonly settings: Readonly<TransportSettings>;
  readonly versionInformation: VersionInformation | undefined;
  readonly bytes: Buffer;
}

const fixedParameters: FixedParameters[] = [];
const MAX_FIXED_PARAMETERS = 8;

/** Whether two settings advertise the same values; every field of TransportSettings is compared. */
function sameSettings(a: Readonly<TransportSettings>, b: Readonly<TransportSettings>): boolean {
  return (
    a.maxIdleTimeout === b.maxIdleTimeout &&
    a.initialMaxData === b.initialMaxData &&
    a.initialMaxStreamDataBidiLocal === b.initialMaxStreamDataBidiLocal &&
    a.initialMaxStreamDataBidiRemote === b.initialMaxStreamDataBidiRemote &&
    a.initialMaxStreamDataUni === b.initialMaxStreamDataUni &&
    a.initialMaxStreamsBidi === b.initialMaxStreamsBidi &&
    a.initialMaxStreamsUni === b.initialMaxStreamsUni &&
    a.maxAckDelay === b.maxAckDelay &&
    a.ackDelayExponent === b.ackDelayExponent &&
    a.activeConnectionIdLimit === b.activeConnectionIdLimit &&
    a.maxUdpPayloadSize === b.maxUdpPayloadSize &&
    a.disableActiveMigration === b.disableActiveMigration
  );
}

function sameVersionInformation(a: VersionInformation | undefined, b: VersionInformation | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.chosenVersion !== b.chosenVersion || a.availableVersions.length !== b.availableVersions.length) return false;
  for (let i = 0; i < a.availableVersions.length; i++) if (a.availableVersions[i] !== b.availableVersions[i]) return false;
  return true;
}

function fixedPart(s: TransportSettings, versionInformation: VersionInformation | undefined): Buffer {
  for (const entry of fixedParameters) {
    if (sameSettings(entry.settings, s) && sameVersionInformation(entry.versionInformation, versionInformation)) return entry.bytes;
  }
  const params: Partial<TransportParameters> = {
    maxIdleTimeout: s.maxIdleTimeout,
    maxUdpPayloadSize: s.maxUdpPayloadSize,
    initialMaxData: s.initialMaxData,
    initialMaxStreamDataBidiLocal: s.initialMaxStreamDataBidiLocal,
    initialMaxStreamDataBidiRemote: s.initialMaxStreamDataBidiRemote,
    initialMaxStreamDataUni: s.initialMaxStreamDataUni,
    initialMaxStreamsBidi: s.initialMaxStreamsBidi,
    initialMaxStreamsUni: s.initialMaxStreamsUni,
    ackDelayExponent: s.ackDelayExponent,
    maxAckDelay: s.maxAckDelay,
    activeConnectionIdLimit: s.activeConnectionIdLimit,
  };
  // RFC 9368 §3: version_information, for compatible version negotiation.
  if (versionInformation !== undefined) params.versionInformation = versionInformation;
  // RFC 9000 §18.2: a zero-length value, present when set.
  if (s.disableActiveMigration) params.disableActiveMigration = true;
  const bytes = encodeTransportParameters(params); // checks the §18.2 ranges
  if (fixedParameters.length >= MAX_FIXED_PARAMETERS) fixedParameters.shift();
  fixedParameters.push({
    settings: { ...s },
    versionInformation: versionInformation && { chosenVersion: versionInformation.chosenVersion, availableVersions: [...versionInformation.availableVersions] },
    bytes,
  });
  return bytes;
}

/** A byte-string parameter whose identifier and length are one-byte varints (ids below 64, values below 64 bytes). */
function writeShortParameter(out: Buffer, at: number, id: number, value: Uint8Array): number {
  out[at] = id;
  out[at + 1] = value.length;
  out.set(value, at + 2);
  return at + 2 + value.length;
}

function checkConnectionId(cid: Uint8Array): void {
  // RFC 9000 §17.2: connection IDs are at most 20 bytes in QUIC v1.
  if (cid.length > 20) throw new RangeError('connection ID longer than 20 bytes (RFC 9000 §18.2)');
}

/**
 * Our quic_transport_parameters (RFC 9000 §7.3, §18.2): the settings' parameters (see
 * fixedPart), then original_destination_connection_id, stateless_reset_token (when there is
 * one), initial_source_connection_id and retry_source_connection_id.
 */
export function localTransportParameters(
  s: TransportSettings,
  scid: Buffer,
  server: ServerParameterIds | undefined,
  versionInformation?: VersionInformation,
): Buffer {
  const fixed = fixedPart(s, versionInformation);
  checkConnectionId(scid);
  let length = fixed.length + 2 + scid.length;
  if (server !== undefined) {
    checkConnectionId(server.originalDcid);
    if (server.resetToken !== undefined && server.resetToken.length !== 16) throw new RangeError('stateless_reset_token is not 16 bytes (RFC 9000 §18.2)');
    length += 2 + server.originalDcid.length + (server.resetToken !== undefined ? 2 + 16 : 0);
    if (server.retryScid !== undefined) {
      checkConnectionId(server.retryScid);
      length += 2 + server.retryScid.length;
    }
  }
  const out = Buffer.allocUnsafe(length);
  let at = fixed.copy(out, 0);
  if (server !== undefined) {
    at = writeShortParameter(out, at, TransportParameterId.original_destination_connection_id, server.originalDcid);
    if (server.resetToken !== undefined) at = writeShortParameter(out, at, TransportParameterId.stateless_reset_token, server.resetToken);
  }
  // RFC 9000 §7.3: both endpoints authenticate the connection IDs of the handshake.
  at = writeShortParameter(out, at, TransportParameterId.initial_source_connection_id, scid);
  if (server?.retryScid !== undefined) at = writeShortParameter(out, at, TransportParameterId.retry_source_connection_id, server.retryScid);
  return out;
}

/** The connection IDs the peer's parameters must repeat (RFC 9000 §7.3). */
export interface ExpectedConnectionIds {
  /** The SCID of the peer's first Initial. */
  initialScid: Buffer | undefined;
  /** Client only: the DCID of our first Initial. */
  originalDcid?: Buffer;
  /** Client only: the SCID of the Retry we processed, undefined if none. */
  retryScid?: Buffer;
  /** Whether the parameters are a server's (then original and retry IDs are checked too). */
  checkServerIds: boolean;
}

/** RFC 9000 §7.3: throws TRANSPORT_PARAMETER_ERROR when a connection ID does not match. */
export function authenticateConnectionIds(params: TransportParameters, expected: ExpectedConnectionIds): void {
  const check = (name: string, got: Uint8Array | undefined, want: Uint8Array | undefined): void => {
    if (!equalCid(got, want)) {
      throw new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, `${name} does not match`, 'RFC 9000 §7.3');
    }
  };
  check('initial_source_connection_id', params.initialSourceConnectionId, expected.initialScid);
  if (expected.checkServerIds) {
    check('original_destination_connection_id', params.originalDestinationConnectionId, expected.originalDcid);
    // RFC 9000 §7.3: retry_source_connection_id is present exactly when the client processed a Retry.
    check('retry_source_connection_id', params.retrySourceConnectionId, expected.retryScid);
    // RFC 9000 §18.2: "A server that chooses a zero-length connection ID MUST NOT provide a
    // preferred address. [...] A client MUST treat a violation of these requirements as a
    // connection error of type TRANSPORT_PARAMETER_ERROR."
    if (params.preferredAddress !== undefined && expected.initialScid?.length === 0) {
      throw new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'preferred_address from a server with a zero-length connection ID', 'RFC 9000 §18.2');
    }
  }
}

function equalCid(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.compare(a, b) === 0;
}
