/**
 * QUIC transport parameters (RFC 9000 §7.4, §18): the quic_transport_parameters TLS extension's
 * body, decoded into values with the §18.2 defaults and checked against every §18.2 rule, and
 * encoded back. Also the extensions' parameters: max_datagram_frame_size (RFC 9221 §3),
 * version_information (RFC 9368 §3) and grease_quic_bit (RFC 9287 §3).
 *
 * Any broken rule is a TransportError TRANSPORT_PARAMETER_ERROR (RFC 9000 §7.4: "an invalid
 * value"; §18.2 names each case). Unknown and reserved identifiers (31·N + 27, §18.1) are ignored.
 * Integers above 2^53-1 are held as numbers rounded up (see varint.ts): a peer's
 * initial_max_data of 2^62-1 reads as 2^62, i.e. "unlimited".
 */
import { DecodeError } from '../core/errors.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { Reader, Writer, varintLength, varintLengthOf } from './varint.js';

/** Transport parameter identifiers (RFC 9000 §18.2, RFC 9221 §3, RFC 9368 §3, RFC 9287 §3). */
export const TransportParameterId = {
  original_destination_connection_id: 0x00,
  max_idle_timeout: 0x01,
  stateless_reset_token: 0x02,
  max_udp_payload_size: 0x03,
  initial_max_data: 0x04,
  initial_max_stream_data_bidi_local: 0x05,
  initial_max_stream_data_bidi_remote: 0x06,
  initial_max_stream_data_uni: 0x07,
  initial_max_streams_bidi: 0x08,
  initial_max_streams_uni: 0x09,
  ack_delay_exponent: 0x0a,
  max_ack_delay: 0x0b,
  disable_active_migration: 0x0c,
  preferred_address: 0x0d,
  active_connection_id_limit: 0x0e,
  initial_source_connection_id: 0x0f,
  retry_source_connection_id: 0x10,
  version_information: 0x11,
  max_datagram_frame_size: 0x20,
  grease_quic_bit: 0x2ab2,
} as const;

/** preferred_address (RFC 9000 §18.2, Figure 22). */
export interface PreferredAddress {
  /** 4 bytes; all zero when the server offers no IPv4 address. */
  ipv4Address: Uint8Array;
  ipv4Port: number;
  /** 16 bytes; all zero when the server offers no IPv6 address. */
  ipv6Address: Uint8Array;
  ipv6Port: number;
  /** 1–20 bytes (a zero-length one is forbidden, §18.2). */
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

/** version_information (RFC 9368 §3). */
export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

export interface TransportParameters {
  /** Server only: the DCID of the client's first Initial (§7.3). */
  originalDestinationConnectionId?: Uint8Array;
  /** Milliseconds; 0 = no idle timeout (§10.1). */
  maxIdleTimeout: number;
  /** Server only: 16 bytes (§10.3). */
  statelessResetToken?: Uint8Array;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** Milliseconds. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  /** Server only. */
  preferredAddress?: PreferredAddress;
  activeConnectionIdLimit: number;
  /** Required from both endpoints (§7.3). */
  initialSourceConnectionId?: Uint8Array;
  /** Server only, after a Retry (§7.3). */
  retrySourceConnectionId?: Uint8Array;
  /** RFC 9221 §3: 0 (the default) = DATAGRAM not supported. */
  maxDatagramFrameSize: number;
  /** RFC 9368 §3. */
  versionInformation?: VersionInformation;
  /** RFC 9287 §3: the sender accepts packets with the fixed bit cleared. */
  greaseQuicBit: boolean;
}

/** Values an absent parameter takes (RFC 9000 §18.2 and the extensions). */
export const DEFAULT_TRANSPORT_PARAMETERS: Readonly<TransportParameters> = Object.freeze({
  maxIdleTimeout: 0,
  maxUdpPayloadSize: 65527,
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
  ackDelayExponent: 3,
  maxAckDelay: 25,
  disableActiveMigration: false,
  activeConnectionIdLimit: 2,
  maxDatagramFrameSize: 0,
  greaseQuicBit: false,
});

/** A parameter we do not know, sent to exercise the peer's tolerance (RFC 9000 §18.1). */
export interface ExtraTransportParameter {
  id: number;
  value: Uint8Array;
}

const ID = TransportParameterId;
const SERVER_ONLY = new Set<number>([
  ID.original_destination_connection_id,
  ID.stateless_reset_token,
  ID.preferred_address,
  ID.retry_source_connection_id,
]);
const MAX_CID_LENGTH = 20;
const RESET_TOKEN_LENGTH = 16;
const MAX_STREAM_COUNT = 2 ** 60;
const SECTION = 'RFC 9000 §18.2';

/** A reserved identifier 31·N + 27 (RFC 9000 §18.1) derived from `random` (any non-negative integer). */
export function greaseTransportParameterId(random: number): number {
  const n = random % Math.floor((Number.MAX_SAFE_INTEGER - 27) / 31);
  return 31 * n + 27;
}

// ---- decoding ---------------------------------------------------------------------------------

function paramError(message: string, section = SECTION): TransportError {
  return new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, message, section);
}

/**
 * Identifiers already decoded: a bit per identifier below 32 (every RFC 9000 one), a Set for the
 * rest (extensions, reserved and unknown ones), made only when such an identifier comes.
 */
class SeenIds {
  private low = 0;
  private high: Set<number> | undefined;

  /** False when `id` was seen before. */
  add(id: number): boolean {
    if (id < 32) {
      const bit = 1 << id;
      if ((this.low & bit) !== 0) return false;
      this.low |= bit;
      return true;
    }
    this.high ??= new Set();
    if (this.high.has(id)) return false;
    this.high.add(id);
    return true;
  }
}

/**
 * Decodes the parameters `sender` sent. Throws TransportError TRANSPORT_PARAMETER_ERROR on any
 * malformed, duplicated, out-of-range or misplaced parameter, and when a required one is absent.
 * Connection IDs and tokens in the result are views into `data`; integers are read in place.
 */
export function decodeTransportParameters(data: Uint8Array, sender: 'client' | 'server'): TransportParameters {
  const params: TransportParameters = { ...DEFAULT_TRANSPORT_PARAMETERS };
  const seen = new SeenIds();
  const r = new Reader(data);
  try {
    while (r.remaining > 0) {
      const id = r.varint();
      const length = r.varint();
      const start = r.offset;
      r.skip(length);
      // RFC 9000 §7.4: duplicate parameters SHOULD be a TRANSPORT_PARAMETER_ERROR (they are here).
      if (!seen.add(id)) throw paramError(`parameter 0x${id.toString(16)} sent twice`, 'RFC 9000 §7.4');
      // RFC 9000 §18.2: a client sending a server-only parameter is a TRANSPORT_PARAMETER_ERROR.
      if (sender === 'client' && SERVER_ONLY.has(id)) {
        throw paramError(`client sent server-only parameter 0x${id.toString(16)}`);
      }
      applyParameter(params, id, r.buf, start, start + length, sender);
    }
  } catch (err) {
    if (err instanceof DecodeError) throw paramError(`truncated transport parameters: ${err.message}`);
    throw err;
  }
  // RFC 9000 §7.3: both endpoints send initial_source_connection_id; a server also sends
  // original_destination_connection_id. Absence is a TRANSPORT_PARAMETER_ERROR.
  if (params.initialSourceConnectionId === undefined) {
    throw paramError('initial_source_connection_id missing', 'RFC 9000 §7.3');
  }
  if (sender === 'server' && params.originalDestinationConnectionId === undefined) {
    throw paramError('original_destination_connection_id missing', 'RFC 9000 §7.3');
  }
  return params;
}

/** Applies parameter `id`, whose value is `buf[start, end)`. */
function applyParameter(p: TransportParameters, id: number, buf: Buffer, start: number, end: number, sender: 'client' | 'server'): void {
  switch (id) {
    case ID.original_destination_connection_id:
      p.originalDestinationConnectionId = connectionId(buf.subarray(start, end), 'original_destination_connection_id');
      return;
    case ID.max_idle_timeout:
      p.maxIdleTimeout = integer(buf, start, end, 'max_idle_timeout');
      return;
    case ID.stateless_reset_token:
      // §18.2: a sequence of 16 bytes.
      if (end - start !== RESET_TOKEN_LENGTH) throw paramError('stateless_reset_token is not 16 bytes');
      p.statelessResetToken = buf.subarray(start, end);
      return;
    case ID.max_udp_payload_size:
      p.maxUdpPayloadSize = integer(buf, start, end, 'max_udp_payload_size');
      // §18.2: values below 1200 are invalid.
      if (p.maxUdpPayloadSize < 1200) throw paramError('max_udp_payload_size below 1200');
      return;
    case ID.initial_max_data:
      p.initialMaxData = integer(buf, start, end, 'initial_max_data');
      return;
    case ID.initial_max_stream_data_bidi_local:
      p.initialMaxStreamDataBidiLocal = integer(buf, start, end, 'initial_max_stream_data_bidi_local');
      return;
    case ID.initial_max_stream_data_bidi_remote:
      p.initialMaxStreamDataBidiRemote = integer(buf, start, end, 'initial_max_stream_data_bidi_remote');
      return;
    case ID.initial_max_stream_data_uni:
      p.initialMaxStreamDataUni = integer(buf, start, end, 'initial_max_stream_data_uni');
      return;
    case ID.initial_max_streams_bidi:
      p.initialMaxStreamsBidi = streamCount(integer(buf, start, end, 'initial_max_streams_bidi'), 'initial_max_streams_bidi');
      return;
    case ID.initial_max_streams_uni:
      p.initialMaxStreamsUni = streamCount(integer(buf, start, end, 'initial_max_streams_uni'), 'initial_max_streams_uni');
      return;
    case ID.ack_delay_exponent:
      p.ackDelayExponent = integer(buf, start, end, 'ack_delay_exponent');
      // §18.2: values above 20 are invalid.
      if (p.ackDelayExponent > 20) throw paramError('ack_delay_exponent above 20');
      return;
    case ID.max_ack_delay:
      p.maxAckDelay = integer(buf, start, end, 'max_ack_delay');
      // §18.2: values of 2^14 or greater are invalid.
      if (p.maxAckDelay >= 2 ** 14) throw paramError('max_ack_delay of 2^14 or more');
      return;
    case ID.disable_active_migration:
      p.disableActiveMigration = flag(end - start, 'disable_active_migration', SECTION);
      return;
    case ID.preferred_address:
      p.preferredAddress = preferredAddress(buf.subarray(start, end));
      return;
    case ID.active_connection_id_limit:
      p.activeConnectionIdLimit = integer(buf, start, end, 'active_connection_id_limit');
      // §18.2: the value MUST be at least 2.
      if (p.activeConnectionIdLimit < 2) throw paramError('active_connection_id_limit below 2');
      return;
    case ID.initial_source_connection_id:
      p.initialSourceConnectionId = connectionId(buf.subarray(start, end), 'initial_source_connection_id');
      return;
    case ID.retry_source_connection_id:
      p.retrySourceConnectionId = connectionId(buf.subarray(start, end), 'retry_source_connection_id');
      return;
    case ID.version_information:
      p.versionInformation = versionInformation(buf.subarray(start, end), sender);
      return;
    case ID.max_datagram_frame_size:
      p.maxDatagramFrameSize = integer(buf, start, end, 'max_datagram_frame_size', 'RFC 9221 §3');
      return;
    case ID.grease_quic_bit:
      p.greaseQuicBit = flag(end - start, 'grease_quic_bit', 'RFC 9287 §3');
      return;
    default:
      // RFC 9000 §7.4.2 / §18.1: unknown and reserved parameters are ignored.
      return;
  }
}

/** An integer parameter: exactly one varint filling the value `buf[start, end)` (§18). */
function integer(buf: Buffer, start: number, end: number, name: string, section = SECTION): number {
  if (start === end) throw paramError(`${name} is not a single varint`, section);
  const first = buf[start]!;
  const length = varintLengthOf(first);
  if (start + length !== end) throw paramError(`${name} is not a single varint`, section);
  // RFC 9000 §16: the two high bits of the first byte give the length, the rest is the value.
  if (length === 1) return first;
  if (length === 2) return ((first & 0x3f) << 8) | buf[start + 1]!;
  if (length === 4) return buf.readUInt32BE(start) & 0x3fffffff;
  return new Reader(buf, start, end).varint(); // above 2^30: varint.ts's reading of values past 2^53
}

function streamCount(n: number, name: string): number {
  // RFC 9000 §4.6: a stream limit above 2^60 in a transport parameter is a TRANSPORT_PARAMETER_ERROR.
  if (n > MAX_STREAM_COUNT) throw paramError(`${name} above 2^60`, 'RFC 9000 §4.6');
  return n;
}

/** A zero-length parameter (§18.2 disable_active_migration, RFC 9287 §3): present means true. */
function flag(length: number, name: string, section: string): true {
  if (length !== 0) throw paramError(`${name} must be empty`, section);
  return true;
}

function connectionId(value: Buffer, name: string): Buffer {
  // RFC 9000 §17.2: connection IDs are at most 20 bytes in QUIC v1.
  if (value.length > MAX_CID_LENGTH) throw paramError(`${name} longer than 20 bytes`);
  return value;
}

function preferredAddress(value: Buffer): PreferredAddress {
  // §18.2 Figure 22: IPv4 (4) + port (2) + IPv6 (16) + port (2) + CID length (1) + CID + token (16).
  const r = new Reader(value);
  const ipv4Address = r.bytes(4);
  const ipv4Port = r.u16();
  const ipv6Address = r.bytes(16);
  const ipv6Port = r.u16();
  const cidLength = r.u8();
  // §18.2: a server MUST NOT include a zero-length connection ID here.
  if (cidLength === 0 || cidLength > MAX_CID_LENGTH) throw paramError(`preferred_address connection ID of ${cidLength} bytes`);
  const connectionId = r.bytes(cidLength);
  const statelessResetToken = r.bytes(RESET_TOKEN_LENGTH);
  if (r.remaining !== 0) throw paramError('preferred_address has trailing bytes');
  return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
}

function versionInformation(value: Buffer, sender: 'client' | 'server'): VersionInformation {
  // RFC 9368 §4: too short or not a multiple of four is a parsing failure → TRANSPORT_PARAMETER_ERROR.
  if (value.length < 4 || value.length % 4 !== 0) throw paramError('version_information length', 'RFC 9368 §4');
  const r = new Reader(value);
  const chosenVersion = r.u32();
  const availableVersions = new Array<number>(r.remaining / 4);
  for (let i = 0; i < availableVersions.length; i++) availableVersions[i] = r.u32();
  // RFC 9368 §4: a zero Chosen or Available Version is a parsing failure; so is a client's Chosen
  // Version missing from its Available Versions.
  if (chosenVersion === 0 || availableVersions.includes(0)) throw paramError('version_information holds version 0', 'RFC 9368 §4');
  if (sender === 'client' && !availableVersions.includes(chosenVersion)) {
    throw paramError('client Chosen Version not among its Available Versions', 'RFC 9368 §4');
  }
  return { chosenVersion, availableVersions };
}

// ---- encoding ---------------------------------------------------------------------------------

/**
 * Encodes `params` for the TLS extension. Parameters equal to their default are left out; `extra`
 * appends parameters such as reserved ones (§18.1). Throws RangeError for values §18.2 forbids.
 */
export function encodeTransportParameters(params: Partial<TransportParameters>, extra: readonly ExtraTransportParameter[] = []): Buffer {
  const p: TransportParameters = { ...DEFAULT_TRANSPORT_PARAMETERS, ...params };
  checkEncodable(p);
  const d = DEFAULT_TRANSPORT_PARAMETERS;
  const w = new Writer(128);
  const bytes = (id: number, value: Uint8Array | undefined) => {
    if (value !== undefined) w.varint(id).varint(value.length).bytes(value);
  };
  const int = (id: number, value: number, defaultValue: number) => {
    if (value !== defaultValue) w.varint(id).varint(varintLength(value)).varint(value);
  };
  const flagParam = (id: number, on: boolean) => {
    if (on) w.varint(id).varint(0);
  };
  bytes(ID.original_destination_connection_id, p.originalDestinationConnectionId);
  int(ID.max_idle_timeout, p.maxIdleTimeout, d.maxIdleTimeout);
  bytes(ID.stateless_reset_token, p.statelessResetToken);
  int(ID.max_udp_payload_size, p.maxUdpPayloadSize, d.maxUdpPayloadSize);
  int(ID.initial_max_data, p.initialMaxData, d.initialMaxData);
  int(ID.initial_max_stream_data_bidi_local, p.initialMaxStreamDataBidiLocal, d.initialMaxStreamDataBidiLocal);
  int(ID.initial_max_stream_data_bidi_remote, p.initialMaxStreamDataBidiRemote, d.initialMaxStreamDataBidiRemote);
  int(ID.initial_max_stream_data_uni, p.initialMaxStreamDataUni, d.initialMaxStreamDataUni);
  int(ID.initial_max_streams_bidi, p.initialMaxStreamsBidi, d.initialMaxStreamsBidi);
  int(ID.initial_max_streams_uni, p.initialMaxStreamsUni, d.initialMaxStreamsUni);
  int(ID.ack_delay_exponent, p.ackDelayExponent, d.ackDelayExponent);
  int(ID.max_ack_delay, p.maxAckDelay, d.maxAckDelay);
  flagParam(ID.disable_active_migration, p.disableActiveMigration);
  if (p.preferredAddress) bytes(ID.preferred_address, encodePreferredAddress(p.preferredAddress));
  int(ID.active_connection_id_limit, p.activeConnectionIdLimit, d.activeConnectionIdLimit);
  bytes(ID.initial_source_connection_id, p.initialSourceConnectionId);
  bytes(ID.retry_source_connection_id, p.retrySourceConnectionId);
  if (p.versionInformation) {
    const { chosenVersion, availableVersions } = p.versionInformation;
    w.varint(ID.version_information).varint(4 * (1 + availableVersions.length)).u32(chosenVersion);
    for (const version of availableVersions) w.u32(version);
  }
  int(ID.max_datagram_frame_size, p.maxDatagramFrameSize, d.maxDatagramFrameSize);
  flagParam(ID.grease_quic_bit, p.greaseQuicBit);
  for (const { id, value } of extra) bytes(id, value);
  return w.finish();
}

function encodePreferredAddress(a: PreferredAddress): Buffer {
  const w = new Writer(Buffer.alloc(4 + 2 + 16 + 2 + 1 + a.connectionId.length + RESET_TOKEN_LENGTH));
  w.bytes(a.ipv4Address).u16(a.ipv4Port).bytes(a.ipv6Address).u16(a.ipv6Port);
  w.u8(a.connectionId.length).bytes(a.connectionId).bytes(a.statelessResetToken);
  return w.finish();
}

function checkEncodable(p: TransportParameters): void {
  const fail = (message: string): never => {
    throw new RangeError(`${message} (RFC 9000 §18.2)`);
  };
  if (p.maxUdpPayloadSize < 1200) fail('max_udp_payload_size below 1200');
  if (p.ackDelayExponent > 20) fail('ack_delay_exponent above 20');
  if (p.maxAckDelay >= 2 ** 14) fail('max_ack_delay of 2^14 or more');
  if (p.activeConnectionIdLimit < 2) fail('active_connection_id_limit below 2');
  if (p.initialMaxStreamsBidi > MAX_STREAM_COUNT || p.initialMaxStreamsUni > MAX_STREAM_COUNT) fail('stream limit above 2^60');
  if (p.statelessResetToken && p.statelessResetToken.length !== RESET_TOKEN_LENGTH) fail('stateless_reset_token is not 16 bytes');
  for (const cid of [p.originalDestinationConnectionId, p.initialSourceConnectionId, p.retrySourceConnectionId]) {
    if (cid && cid.length > MAX_CID_LENGTH) fail('connection ID longer than 20 bytes');
  }
  const a = p.preferredAddress;
  if (a) {
    if (a.ipv4Address.length !== 4 || a.ipv6Address.length !== 16) fail('preferred_address address lengths');
    if (a.connectionId.length < 1 || a.connectionId.length > MAX_CID_LENGTH) fail('preferred_address connection ID length');
    if (a.statelessResetToken.length !== RESET_TOKEN_LENGTH) fail('preferred_address token is not 16 bytes');
  }
  const v = p.versionInformation;
  if (v && (v.chosenVersion === 0 || v.availableVersions.includes(0))) fail('version_information holds version 0');
}
