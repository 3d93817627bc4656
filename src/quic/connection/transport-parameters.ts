/**
 * The transport parameters of a connection (RFC 9000 §7.4, §18.2): the settings we advertise and
 * their defaults, their encoding with the connection IDs of the handshake, and the §7.3
 * authentication of those connection IDs in the peer's parameters — a mismatch or an absent
 * value means someone tampered with the handshake's packets: TRANSPORT_PARAMETER_ERROR.
 */
import { DEFAULT_LIMITS } from '../../core/limits.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { encodeTransportParameters, type TransportParameters, type VersionInformation } from '../transport-params.js';

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
});

/** What only a server sends (RFC 9000 §18.2). */
export interface ServerParameterIds {
  originalDcid: Buffer;
  retryScid: Buffer | undefined;
  resetToken: Buffer;
}

/** Our quic_transport_parameters (RFC 9000 §7.3, §18.2). */
export function localTransportParameters(
  s: TransportSettings,
  scid: Buffer,
  server: ServerParameterIds | undefined,
  versionInformation?: VersionInformation,
): Buffer {
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
    // RFC 9000 §7.3: both endpoints authenticate the connection IDs of the handshake.
    initialSourceConnectionId: scid,
  };
  // RFC 9368 §3: version_information, for compatible version negotiation.
  if (versionInformation !== undefined) params.versionInformation = versionInformation;
  if (server !== undefined) {
    params.originalDestinationConnectionId = server.originalDcid;
    if (server.retryScid !== undefined) params.retrySourceConnectionId = server.retryScid;
    params.statelessResetToken = server.resetToken;
  }
  return encodeTransportParameters(params);
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
  }
}

function equalCid(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.compare(a, b) === 0;
}
