/**
 * A QUIC connection, sans-I/O (RFC 9000, RFC 9001, RFC 9002): client or server.
 *
 * The story, top to bottom:
 *   receive(datagram, from, now) → split coalesced packets (§12.2) → remove protection with the
 *   space's keys (RFC 9001 §5) → drop duplicates (§12.3) → dispatch each frame through one table
 *   (§12.4, §19) → update streams, flow control, loss recovery, TLS
 *   transmit(now) → for each datagram: an ACK when owed (§13.2), control frames, CRYPTO, STREAM
 *   data within congestion window, pacing and the anti-amplification limit (§8.1); Initial,
 *   Handshake and 1-RTT packets coalesced (§12.2); client Initials padded to 1200 bytes (§14.1)
 *   nextTimeout() / handleTimeout(now) → loss detection and PTO (RFC 9002 §6), ACK delay, idle
 *   timeout (§10.1), the end of the closing and draining states (§10.2)
 *
 * Keys arrive from the TLS endpoint as it announces them; Initial keys are dropped when the client
 * first sends a Handshake packet or the server first processes one (RFC 9001 §4.9.1), Handshake
 * keys at handshake confirmation (§4.9.2); 1-RTT keys update in both directions (RFC 9001 §6,
 * connection/key-phase.ts). Also here: Retry and Version Negotiation on the client (§17.2.5, §6.2),
 * compatible version negotiation to v2 (RFC 9368, RFC 9369), path validation, NAT rebinding and
 * migration (§8.2, §9), connection IDs (§5.1, cid.ts), DPLPMTUD (§14.3, connection/pmtu.ts), and
 * the application API the HTTP/3 layer uses (streams, backpressure, events from poll()).
 *
 * A connection that is closing, draining or closed keeps only what that state needs (RFC 9000
 * §10.2): the CONNECTION_CLOSE datagram it resends as it is, its connection IDs and its deadline;
 * the rest goes once the application has polled everything it is owed (release()).
 *
 * Nothing here touches a socket, a timer or a clock: time comes in as `now` (ms) and randomness
 * through `options.random`. Helpers live in ./connection/: frame-dispatch (the §12.4 table),
 * packet-space, packet-writer, sent-record, transport-parameters, version-negotiation, router.
 */
import { DecodeError, ProtocolError } from '../core/errors.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { LocalConnectionIds, PeerConnectionIds, resetTokenDeriver } from './cid.js';
import { initialPacketKeys } from './crypto/keys.js';
import { HeaderMaskQueue, PrefetchedMasks, removeHeaderProtection, SAMPLE_OFFSET_FROM_PN } from './crypto/packet-protection.js';
import type { HeaderProtection } from './crypto/header-protection.js';
import { receiveLookahead } from './connection/receive-lookahead.js';
import { PacketProtector } from './crypto/protector.js';
import { CIPHER_SUITES, SAMPLE_LENGTH, TLS_AES_128_GCM_SHA256, type CipherSuite } from './crypto/suites.js';
import { verifyRetryIntegrity } from './crypto/retry.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { frameLength, streamFrameLength } from './frames/encode.js';
import { parseFrames } from './frames/decode.js';
import { isAckElicitingType } from './frames/permissions.js';
import { frameTypeOf, type Frame } from './frames/types.js';
import { splitDatagram } from './packet/coalesced.js';
import { checkReservedBits, type LongHeader, type PacketHeader, type ShortHeader } from './packet/header.js';
import { decodePacketNumber, packetNumberLength } from './packet/number.js';
import { createController, type CongestionAlgorithm } from './congestion/controller.js';
import { Pacer } from './congestion/pacer.js';
import { LossDetection } from './recovery/loss-detection.js';
import { INITIAL_RTT } from './recovery/rtt.js';
import type { SentPacket } from './recovery/sent-packets.js';
import { PacketNumberSpace } from './recovery/space.js';
import { StreamError } from './stream/errors.js';
import { StreamManager, type StreamControlFrame } from './stream/stream-manager.js';
import { SendStream } from './stream/send-stream.js';
import { RecvState } from './stream/recv-stream.js';
import { createClient, type TlsClient } from './tls/client.js';
import type { CryptoLevel, SessionTicket, TlsEndpoint } from './tls/handshake.js';
import { createServer, type TlsServer } from './tls/server.js';
import type { TicketStore } from './tls/tickets.js';
import { decodeTransportParameters, type TransportParameters } from './transport-params.js';
import { varintLength } from './varint.js';
import { QUIC_V1, QUIC_V2 } from './version.js';
import { dispatchFrame, type FrameHandlers, type PacketContext } from './connection/frame-dispatch.js';
import { KeyPhase } from './connection/key-phase.js';
import { PacketSpace } from './connection/packet-space.js';
import { BASE_PLPMTU, MAX_PROBES, PmtuSearch } from './connection/pmtu.js';
import { isIpLiteral, sameIp, samePeer } from './connection/path-change.js';
import { OldPathCheck } from './connection/old-path-check.js';
import { areCompatible, checkClientVersionInformation, checkServerVersionInformation, chooseVersion } from './connection/version-negotiation.js';
import {
  authenticateConnectionIds,
  DEFAULT_TRANSPORT_SETTINGS,
  localTransportParameters,
  type TransportSettings,
} from './connection/transport-parameters.js';
import { addFrame, controlFrame, newPlan, headerSize, samplePadding, sealPacket, TAG, type LongHeaderContext, type PlannedPacket } from './connection/packet-writer.js';
import type { SentRecords } from './connection/sent-record.js';
import type { CloseInfo, ConnectionEvent, OutgoingDatagram, PeerAddress } from './connection/types.js';

export type { CloseInfo, ConnectionEvent, OutgoingDatagram, PeerAddress } from './connection/types.js';
export { DEFAULT_TRANSPORT_SETTINGS, type TransportSettings } from './connection/transport-parameters.js';

const { Initial, Handshake, ApplicationData } = PacketNumberSpace;
const SPACES = [Initial, Handshake, ApplicationData] as const;
const LEVEL_OF: Record<PacketNumberSpace, CryptoLevel> = { [Initial]: 'initial', [Handshake]: 'handshake', [ApplicationData]: 'application' };
const SPACE_OF: Record<CryptoLevel, PacketNumberSpace> = { initial: Initial, handshake: Handshake, application: ApplicationData };

/** RFC 9000 §14: every QUIC path carries at least 1200-byte datagrams; Initials are padded to it. */
export const MIN_INITIAL_DATAGRAM = 1200;

/**
 * UTF-8 bytes of a CONNECTION_CLOSE reason phrase we send. RFC 9000 §19.19 sets no limit, but a
 * transport close repeats it in each space of one datagram (§10.2.3), which during the handshake
 * must fit the 1200 bytes every path carries (§14); and a reason may quote what a peer sent (a
 * certificate's names).
 */
const MAX_REASON_BYTES = 256;

/** `reason` cut to MAX_REASON_BYTES of UTF-8, at a character boundary. */
function cutReason(reason: string): string {
  if (reason.length * 3 <= MAX_REASON_BYTES) return reason; // at most 3 UTF-8 bytes per UTF-16 unit
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_REASON_BYTES) return reason;
  let end = MAX_REASON_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back to the first byte of a character
  return bytes.toString('utf8', 0, end);
}

const EMPTY = Buffer.alloc(0);
/** Packets whose keys are not installed yet are kept this long (RFC 9001 §5.7 allows buffering). */
const MAX_BUFFERED_PACKETS = 8;
/** ACK decimation of the application space: after 100 ack-eliciting packets, one ACK per 10 (as Chromium's QUIC), a smaller group within a quarter of the RTT (INITIAL_RTT until measured, updatePacer). */
const ACK_DECIMATION = { after: 100, every: 10, delay: INITIAL_RTT / 4 };
/**
 * DEFAULT_TRANSPORT_SETTINGS as a plain object, spread into every connection's settings: V8 copies
 * a frozen object's properties one by one in its runtime, several times slower (issue 5).
 */
const DEFAULT_SETTINGS: TransportSettings = { ...DEFAULT_TRANSPORT_SETTINGS };
/**
 * The empty set of stream IDs every connection starts with in place of its own (Connection.ownSet):
 * a Set is some 150 bytes a connection would keep for its life, and the GC copies what lives
 * (issue 5). Read-only by type; writing to it anyway throws rather than share IDs between connections.
 */
class NoStreamIds extends Set<number> {
  override add(): this {
    throw new Error('NO_STREAM_IDS is shared and stays empty');
  }
}
const NO_STREAM_IDS: ReadonlySet<number> = new NoStreamIds();

/** Datagrams produced by one transmit() call at most, so one call never monopolises the loop. */
const MAX_DATAGRAMS_PER_CALL = 64;
/**
 * RFC 9000 §13.2.4: a peer need not acknowledge packets that are not ack-eliciting (§13.2.1), so a
 * receiver that sends only ACKs may never hear which of them arrived and keeps each in its sent
 * table. After this many 1-RTT packets in a row without an ack-eliciting frame, the next ACK
 * carries a PING to draw an acknowledgement (Chromium waits for 19 as well).
 */
const ACK_ONLY_PACKETS_BEFORE_PING = 19;

export interface ClientTlsSettings {
  serverName: string;
  alpn: string[];
  ca?: string[];
  insecure?: boolean;
  session?: SessionTicket;
  /** The server's transport parameters from the connection that gave `session` (RFC 9000 §7.4.1). */
  sessionTransportParameters?: Buffer;
  /** Send 0-RTT data when the session allows it (RFC 9001 §4.6.1). */
  earlyData?: boolean;
  suites?: number[];
}

export interface ServerTlsSettings {
  certificateChain: string[];
  privateKey: string;
  alpn: string[];
  ticketKey?: Buffer;
  /** Non-zero: issue tickets that allow 0-RTT, and accept 0-RTT (RFC 9001 §4.6). */
  maxEarlyData?: number;
  /** Single-use store of tickets seen, shared by all connections of a server (RFC 8446 §8.1 anti-replay). */
  ticketStore?: TicketStore;
  suites?: number[];
}

/** What the endpoint learned from the client's first Initial (server side). */
export interface ServerHandshakeInfo {
  /** DCID of the client's very first Initial (before any Retry): original_destination_connection_id. */
  originalDcid: Buffer;
  /** DCID of the Initial that creates this connection: Initial keys derive from it (RFC 9001 §5.2). */
  initialDcid: Buffer;
  /** The client's Source Connection ID. */
  clientScid: Buffer;
  /** SCID of the Retry we sent, if any (RFC 9000 §7.3 retry_source_connection_id). */
  retryScid?: Buffer;
  /** The client's address was validated by a token (RFC 9000 §8.1.2, §8.1.3). */
  addressValidated?: boolean;
  /** Version of the client's Initial (its original version, RFC 9368 §2). Default v1. */
  version?: number;
}

interface CommonOptions {
  remote: PeerAddress;
  /** Randomness: connection IDs, TLS, path challenges. */
  random: (n: number) => Buffer;
  /** Length of the connection IDs we issue (the endpoint routes short headers by it). Default 8. */
  cidLength?: number;
  /** Static key for stateless reset tokens (RFC 9000 §10.3.2). Default: random. */
  statelessResetKey?: Buffer;
  transport?: Partial<TransportSettings>;
  congestion?: CongestionAlgorithm;
  /**
   * Bytes a stream may buffer before write() returns false, kept exactly when given. By default
   * twice the congestion window, at least 256 KiB and at most connectionHighWaterMark (streamMark).
   */
  streamHighWaterMark?: number;
  /** Bytes all streams together may buffer before write() returns false. Default 4 MiB. */
  connectionHighWaterMark?: number;
  /** Told when a connection ID of ours starts or stops routing here (the endpoint's table). */
  onConnectionId?: (cid: Buffer, added: boolean) => void;
  /**
   * Told when the connection leaves its quiet state (`isQuiet`): an input, an application call or
   * a due deadline may have given it something to send or deliver. The router leaves quiet
   * connections out of its pumps until then.
   */
  onWake?: (conn: Connection) => void;
  /** qlog sink (see qlog.ts). */
  qlog?: (event: QlogEvent) => void;
  keylog?: (line: string) => void;
  /** Time of creation, ms; the TLS layer's certificate checks read the connection's clock. */
  now: number;
  /**
   * QUIC versions for compatible version negotiation (RFC 9368), most preferred first: a client
   * lists them in version_information; a server switches to the first the client also lists.
   * Default [v1, v2] — v1 stays unless a server prefers v2.
   */
  versions?: number[];
  /**
   * AEAD usage limits (RFC 9001 §6.6), in packets; the negotiated suite's values by default
   * (AES-GCM: 2^23 sealed per key, 2^52 failed openings; ChaCha20-Poly1305: no practical
   * confidentiality limit, 2^36 failed openings). Tests set small ones.
   */
  aeadLimits?: AeadLimits;
  /** Datagrams one transmit() call returns at most (default 64); the rest go on the next call. */
  maxDatagramsPerTransmit?: number;
  /** DPLPMTUD's PMTU_RAISE_TIMER in ms (RFC 8899 §5.1.1); default 600 s. */
  pmtuRaiseTimer?: number;
  /** DPLPMTUD's PROBE_TIMER in ms (RFC 8899 §5.1.1); default 20 s, at least 1 s. */
  pmtuProbeTimer?: number;
}

/** RFC 9001 §6.6: packets one 1-RTT write key may protect, and failed openings per connection. */
export interface AeadLimits {
  confidentiality?: number;
  integrity?: number;
}

export interface ClientConnectionOptions extends CommonOptions {
  role: 'client';
  tls: ClientTlsSettings;
  /** A NEW_TOKEN token from an earlier connection (RFC 9000 §8.1.3). */
  token?: Buffer;
  /** The first Destination Connection ID (≥ 8 unpredictable bytes, RFC 9000 §7.2); default random. */
  initialDcid?: Buffer;
  /** Version of the first Initial. Default v1. */
  version?: number;
}

export interface ServerConnectionOptions extends CommonOptions {
  role: 'server';
  tls: ServerTlsSettings;
  handshake: ServerHandshakeInfo;
  /** Our first connection ID; default random. */
  localCid?: Buffer;
  /** Key for NEW_TOKEN tokens; with it the server sends one after the handshake (RFC 9000 §8.1.3). */
  makeNewToken?: () => Buffer;
}

export type ConnectionOptions = ClientConnectionOptions | ServerConnectionOptions;

export interface QlogEvent {
  time: number;
  name: string;
  data: Record<string, unknown>;
}

/** RFC 9000 §10: open, then closing (we sent CONNECTION_CLOSE) or draining (we received one), then closed. */
export type ConnectionState = 'handshake' | 'established' | 'closing' | 'draining' | 'closed';

export class Connection implements FrameHandlers {
  readonly role: 'client' | 'server';
  /** The version in use: the original one, or the one compatible version negotiation chose (RFC 9368). */
  get version(): number {
    return this.currentVersion;
  }
  private currentVersion: number;
  /** The version of the client's first Initial (RFC 9368 §2). */
  private readonly originalVersion: number;
  private readonly versions: readonly number[];
  /** DCID the Initial keys derive from (RFC 9001 §5.2). */
  private initialDcid: Buffer;
  /** Server after switching versions: keys for the client's Initials still in the original version. */
  private originalInitialRead: PacketProtector | undefined;
  state: ConnectionState = 'handshake';
  /** Statistics. */
  readonly stats = { datagramsSent: 0, datagramsReceived: 0, bytesSent: 0, bytesReceived: 0, packetsLost: 0, packetsDropped: 0 };

  private now: number;
  private readonly random: (n: number) => Buffer;
  private readonly settings: TransportSettings;
  /** The TLS endpoint; once released (release()), a stub that keeps its answers (closedTls). */
  private tls: TlsEndpoint;
  private readonly spaces: PacketSpace[];
  private keyPhase: KeyPhase | undefined;
  /** 0-RTT keys (RFC 9001 §4.6): the client's to send, the server's to receive. */
  private earlyWrite: PacketProtector | undefined;
  private earlyRead: PacketProtector | undefined;
  /** What the client sent in 0-RTT, replayed as lost if the server rejects it (RFC 9001 §4.6.2). */
  private readonly zeroRttRecords: SentRecords[] = [];
  // These three and `pmtu` become the shared RELEASED ones at release().
  private loss: LossDetection<SentRecords>;
  private pacer: Pacer;
  streams: StreamManager;
  private readonly localCids: LocalConnectionIds;
  private readonly peerCids: PeerConnectionIds;
  private readonly scid: Buffer;
  private readonly cidLength: number;
  private readonly resetKey: Buffer;

  // Path (RFC 9000 §8, §9)
  remote: PeerAddress;
  /**
   * Client: `remote` is the server's IP address. A host name given to connect() is replaced by the
   * source address of the first packet that authenticates; from then on, RFC 9000 §9: "If a
   * client receives packets from an unknown server address, the client MUST discard these packets."
   */
  private serverAddressKnown: boolean;
  private addressValidated: boolean;
  /** Bytes received from and sent to the unvalidated address (RFC 9000 §8.1). */
  private amplificationReceived = 0;
  private amplificationSent = 0;
  /** Size of the datagram being processed (a new path's first anti-amplification credit). */
  private receivedDatagramLength = 0;
  /**
   * `expanded`: whether its datagram reached 1200 bytes (§8.2.1), known once sent. `deadline`: when
   * the validation is abandoned (§8.2.4), set by its first challenge sent and kept by later ones.
   */
  private pathChallenge: { data: Buffer; to: PeerAddress; sentAt: number | undefined; expanded?: boolean; deadline?: number } | undefined;
  /** The path before the peer's address changed, to go back to if the new one fails validation (§9.3.2). */
  private previousPath: { remote: PeerAddress; validated: boolean } | undefined;
  /** RFC 9000 §9.3.3: the validation of the previously active path after an apparent migration. */
  private oldPathCheck: OldPathCheck | undefined;
  /** `credit`: bytes we may send to `to` (3× the challenge's datagram, §8.1) when it is not `remote`. */
  private readonly pathResponses: { data: Buffer; to: PeerAddress; credit: number }[] = [];
  /** The credit of the PATH_RESPONSE to another address being built (see pathResponses). */
  private responseCredit = Infinity;
  /** The packet being planned holds a PATH_CHALLENGE or PATH_RESPONSE: its datagram is expanded. */
  private pathFramePlanned = false;
  private maxDatagramSize = MIN_INITIAL_DATAGRAM;
  /** DPLPMTUD (RFC 9000 §14.3) up to our max_udp_payload_size and the peer's, for the path in use. */
  private pmtu: PmtuSearch;
  /**
   * The last validated path's search while a path with a new IP address awaits validation (RFC
   * 9000 §14: a datagram size per pair of IP addresses); loss detection keeps its RTT and congestion
   * state aside likewise (recovery/loss-detection.ts startPath).
   */
  private pmtuAside: PmtuSearch | undefined;
  /**
   * Black hole detection (RFC 8899 §4.3): the largest application packet number above BASE_PLPMTU
   * acknowledged (after a fallback, the last one sent before it), and the in-flight packets above
   * BASE_PLPMTU sent after it and declared lost since, in a row.
   */
  private largestAckedLargePacket = -1;
  private largeLossesInARow = 0;

  // Handshake (RFC 9001 §4)
  private readonly originalDcid: Buffer;
  private retryScid: Buffer | undefined;
  private token: Buffer;
  /** Client: the server's SCID from its first Initial or Handshake packet (§7.2). */
  private serverScid: Buffer | undefined;
  private peerParams: TransportParameters | undefined;
  /** Server: the client's parameters as decoded to choose the version (RFC 9368 §2.3), until applied. */
  private decodedClientParameters: { raw: Buffer; params: TransportParameters } | undefined;
  private handshakeConfirmed = false;
  private handshakeDonePending = false;
  /** The handshake completed and sendAfterHandshake() has not run yet. */
  private afterHandshakePending = false;
  /** 1-RTT packets sent in a row with nothing ack-eliciting (RFC 9000 §13.2.4). */
  private ackOnlyPacketsInARow = 0;
  private readonly makeNewToken: (() => Buffer) | undefined;
  private newTokenPending: Buffer | undefined;
  private sentHandshakePacket = false;
  private readonly undecryptable: { datagram: Buffer; header: PacketHeader; from: PeerAddress }[] = [];

  // Control frames waiting for room in a packet
  private readonly pendingControl: StreamControlFrame[] = [];
  private readonly pendingNewCids: number[] = [];
  private readonly pendingRetireCids: number[] = [];

  // Timers (RFC 9000 §10)
  private idleTimeout: number;
  private lastActivity: number;
  private ackElicitingSinceReceive = false;
  private closeDeadline = 0;
  /** The CONNECTION_CLOSE to send, until the datagram carrying it is built (closeDatagram). */
  private closeFrame: Frame | undefined;
  /**
   * RFC 9000 §10.2.1: the datagram built when the closing state started, resent as it is to
   * answer later packets ("Retransmitting the final packet requires less state"; the same packet
   * number again is the exception to §12.3 that section allows).
   */
  private closeDatagram: Buffer | undefined;
  private closeDatagramsOwed = 0;
  /** Datagrams received in the closing state: answered at the 1st, 2nd, 4th, 8th... (§10.2.1). */
  private closingDatagramsReceived = 0;
  private closeInfo: CloseInfo | undefined;
  /**
   * Set by release(): the state a closing, draining or closed connection no longer needs is gone,
   * and `recovery` and `keyUpdates` answer with the values they had then.
   */
  private released: { recovery: Connection['recovery']; keyUpdates: number } | undefined;
  private gracefulClose: { code: number; reason: string } | undefined;

  // Application side
  private readonly events: ConnectionEvent[] = [];
  // The four sets of stream IDs below start as NO_STREAM_IDS and get their own Set when first
  // written (ownSet): a handshake needs none of them (issue 5).
  private readable: ReadonlySet<number> = NO_STREAM_IDS;
  private paused: ReadonlySet<number> = NO_STREAM_IDS;
  private readonly highWaterMark: number;
  /** Whether the application chose the stream mark; the default one follows the window (streamMark). */
  private readonly highWaterMarkChosen: boolean;
  private readonly connectionHighWaterMark: number;
  /** Unacknowledged bytes written on all streams (the connection-level backpressure signal). */
  private bufferedTotal = 0;
  /** A write was refused by the connection's mark: wake every waiting stream when it drains. */
  private connectionBlocked = false;
  private wantWritable: ReadonlySet<number> = NO_STREAM_IDS;
  /** Streams that may still hold data to send, for the graceful close; pruned as it doubles. */
  private knownStreams: ReadonlySet<number> = NO_STREAM_IDS;
  private knownStreamsPruneAt = 256;
  private streamsBlockedWanted = { bidi: false, uni: false };
  private readonly qlog: ((event: QlogEvent) => void) | undefined;

  // AEAD limits (RFC 9001 §6.6)
  private readonly aeadLimits: AeadLimits;
  /** Packets one 1-RTT write key may protect; set from the negotiated suite with the 1-RTT keys. */
  private confidentialityLimit = CIPHER_SUITES[TLS_AES_128_GCM_SHA256].confidentialityLimit;
  /** Received packets that failed authentication, across all keys of the connection. */
  private integrityLimit = CIPHER_SUITES[TLS_AES_128_GCM_SHA256].integrityLimit;
  private authenticationFailures = 0;

  /** transmit() returns at most this many datagrams. */
  private readonly maxDatagramsPerCall: number;
  /** Header protection masks computed ahead for this connection's datagrams of a driver's batch (prefetchMasks). */
  private readonly prefetchedMasks = new PrefetchedMasks();
  /** receiveLookahead.generation of the batch prefetchMasks last looked at. */
  private lookaheadGeneration = -1;
  /** One-packet datagrams of the transmit() under way, waiting for header protection (RFC 9001 §5.4.1). */
  private readonly headerMasks = new HeaderMaskQueue();
  /** The last transmit() stopped at that cap with data, window and pacing budget left: wake at once. */
  private stoppedAtCallLimit = false;
  /**
   * Quiet: the last transmit() of an established, validated connection found nothing to send and
   * nothing held back, and no input or application call came since. Until `quietUntil` (the
   * nextTimeout() read then) transmit() sends nothing, nextTimeout() keeps that answer and poll()
   * has no event, so an idle connection answers an endpoint's pump at once (issue 5: every pump
   * visits every connection). A closing or draining connection with nothing left to send or
   * deliver is quiet the same way until its period ends (enterClosingQuiet). Every public method
   * that can change output, events or deadlines ends it (`quiet = false`) before anything else.
   */
  private quiet = false;
  private quietUntil = Infinity;
  private quietTimeout: number | undefined;
  /** The 1-RTT write key being counted, and the packets it protected. */
  private countedWriteKeys: PacketProtector | undefined;
  private packetsWithWriteKeys = 0;
  private readonly onConnectionId: ((cid: Buffer, added: boolean) => void) | undefined;
  private readonly onWake: ((conn: Connection) => void) | undefined;
  /** The current long header fields (see `longHeader`). */
  private longHeaderFields: LongHeaderContext | undefined;

  constructor(options: ConnectionOptions) {
    this.role = options.role;
    this.now = options.now;
    this.random = options.random;
    this.remote = options.remote;
    this.serverAddressKnown = isIpLiteral(options.remote.address);
    this.qlog = options.qlog;
    this.onConnectionId = options.onConnectionId;
    this.onWake = options.onWake;
    this.aeadLimits = options.aeadLimits ?? {};
    this.maxDatagramsPerCall = options.maxDatagramsPerTransmit ?? MAX_DATAGRAMS_PER_CALL;
    if (this.aeadLimits.integrity !== undefined) this.integrityLimit = this.aeadLimits.integrity;
    this.settings = { ...DEFAULT_SETTINGS, ...options.transport };
    this.idleTimeout = this.settings.maxIdleTimeout;
    this.lastActivity = options.now;
    this.versions = options.versions ?? [QUIC_V1, QUIC_V2];
    this.originalVersion = (options.role === 'client' ? options.version : options.handshake.version) ?? QUIC_V1;
    this.currentVersion = this.originalVersion;
    this.cidLength = options.cidLength ?? 8;
    this.resetKey = options.statelessResetKey ?? this.random(32);
    this.highWaterMark = options.streamHighWaterMark ?? 256 * 1024;
    this.highWaterMarkChosen = options.streamHighWaterMark !== undefined;
    this.connectionHighWaterMark = options.connectionHighWaterMark ?? 4 * 1024 * 1024;
    this.pmtu = new PmtuSearch(this.settings.maxUdpPayloadSize, options.pmtuRaiseTimer, options.pmtuProbeTimer);
    this.localCids = new LocalConnectionIds(
      () => this.random(this.cidLength),
      resetTokenDeriver(this.resetKey),
      (cid, added) => this.onConnectionId?.(cid, added),
    );
    this.spaces = SPACES.map((id) => new PacketSpace(id, this.settings.maxAckDelay, DEFAULT_LIMITS.maxCryptoBufferBytes));
    // RFC 9000 §13.2.2 (a SHOULD): an ACK per two packets costs both ends a packet each; in a long
    // transfer one ACK covers ACK_DECIMATION.every packets, a smaller group waits at most a quarter
    // of the minimum RTT (recovery/ack-tracker.ts).
    this.spaces[ApplicationData]!.ack!.enableDecimation(ACK_DECIMATION);
    const congestion = createController(options.congestion ?? 'cubic', MIN_INITIAL_DATAGRAM);
    this.loss = new LossDetection<SentRecords>({ isServer: this.role === 'server', congestion });
    // Bursts of up to 32 datagrams: timers in a busy event loop fire late, and a 10-packet bucket
    // would then cap throughput at 10 packets per timer tick (RFC 9002 §7.7 leaves N and bursts open).
    this.pacer = new Pacer(MIN_INITIAL_DATAGRAM, congestion.congestionWindow, 0, { burstPackets: 32 });

    let initialDcid: Buffer;
    if (options.role === 'client') {
      this.scid = this.random(this.cidLength);
      // RFC 9000 §7.2: the client's first DCID is unpredictable and at least 8 bytes.
      initialDcid = options.initialDcid ?? this.random(Math.max(8, this.cidLength));
      if (initialDcid.length < 8 || initialDcid.length > 20) throw new RangeError('the first DCID is 8 to 20 bytes (RFC 9000 §7.2, §17.2)');
      this.originalDcid = initialDcid;
      this.peerCids = new PeerConnectionIds(initialDcid, this.settings.activeConnectionIdLimit);
      this.token = options.token ?? Buffer.alloc(0);
      this.addressValidated = true; // RFC 9000 §8.1 limits servers only
      this.makeNewToken = undefined;
    } else {
      const hs = options.handshake;
      this.scid = options.localCid ?? this.random(this.cidLength);
      initialDcid = hs.initialDcid;
      this.originalDcid = hs.originalDcid;
      this.retryScid = hs.retryScid;
      this.peerCids = new PeerConnectionIds(hs.clientScid, this.settings.activeConnectionIdLimit);
      this.token = Buffer.alloc(0);
      this.addressValidated = hs.addressValidated ?? false;
      this.makeNewToken = options.makeNewToken;
    }
    // Sequence number 0 (RFC 9000 §5.1.1); its reset token is the server's stateless_reset_token
    // transport parameter (§18.2), derived when the server's parameters are built (a client never sends it).
    const firstCid = this.localCids.add(this.scid);
    this.initialDcid = initialDcid;
    this.installInitialKeys();

    const originalDcid = this.originalDcid;
    const retryScid = this.retryScid;
    // RFC 9368 §2.3: the server picks the version once it sees the client's version_information.
    const serverParameters = (fromClient: Buffer): Buffer => {
      let chosen = this.originalVersion;
      try {
        const params = decodeTransportParameters(fromClient, 'client');
        // applyPeerParameters takes these rather than decoding the same bytes again.
        this.decodedClientParameters = { raw: fromClient, params };
        chosen = chooseVersion(this.originalVersion, params.versionInformation, this.versions);
      } catch {
        // Malformed parameters are refused later, when they are applied (RFC 9000 §7.4).
      }
      if (chosen !== this.currentVersion) this.switchVersion(chosen);
      // RFC 9000 §10.3.2: no stateless reset token for a zero-length ID (transport-parameters.ts).
      const serverIds = { originalDcid, retryScid, resetToken: this.scid.length > 0 ? firstCid.resetToken : undefined };
      return localTransportParameters(this.settings, this.scid, serverIds, { chosenVersion: this.currentVersion, availableVersions: [...this.versions] });
    };
    const now = () => this.now;
    if (options.role === 'client') {
      const tls: TlsClient = createClient({
        serverName: options.tls.serverName,
        alpn: options.tls.alpn,
        transportParameters: localTransportParameters(this.settings, this.scid, undefined, { chosenVersion: this.originalVersion, availableVersions: [...this.versions] }),
        ca: options.tls.ca,
        insecure: options.tls.insecure,
        session: options.tls.session,
        earlyData: options.tls.earlyData,
        suites: options.tls.suites,
        now,
        random: this.random,
        keylog: options.keylog,
      });
      this.tls = tls;
      this.streams = this.makeStreamManager();
      const remembered = options.tls.sessionTransportParameters;
      if (options.tls.earlyData && remembered !== undefined) {
        // RFC 9000 §7.4.1: 0-RTT uses the flow-control and stream limits the server gave before.
        try {
          this.streams.setPeerParams(decodeTransportParameters(remembered, 'server'));
        } catch {
          // unusable: no 0-RTT stream data
        }
      }
      tls.start();
    } else {
      const tls: TlsServer = createServer({
        certificateChain: options.tls.certificateChain,
        privateKey: options.tls.privateKey,
        alpn: options.tls.alpn,
        ticketKey: options.tls.ticketKey,
        maxEarlyData: options.tls.maxEarlyData,
        ticketStore: options.tls.ticketStore,
        suites: options.tls.suites,
        transportParameters: serverParameters,
        now,
        random: this.random,
        keylog: options.keylog,
      });
      this.tls = tls;
      this.streams = this.makeStreamManager();
    }
    if (this.qlog !== undefined) this.log('connectivity:connection_started', { role: this.role, remote: this.remote, scid: this.scid.toString('hex') });
    this.processTls();
  }

  /** RFC 9001 §5.2 (RFC 9369 §3.3.1 for v2): Initial keys from the Initial DCID, in the current version. */
  private installInitialKeys(): void {
    const initial = initialPacketKeys(this.currentVersion, this.initialDcid);
    const space = this.spaces[Initial]!;
    // Each set of keys was derived here for one protector, which keeps it without a copy.
    space.writeKeys = PacketProtector.adopt(TLS_AES_128_GCM_SHA256, this.role === 'client' ? initial.client : initial.server);
    space.readKeys = PacketProtector.adopt(TLS_AES_128_GCM_SHA256, this.role === 'client' ? initial.server : initial.client);
  }

  /**
   * RFC 9368 §2.3, RFC 9369 §3.3: moves to a compatible version. A server keeps reading the
   * client's Initials in the original version until the client follows.
   */
  private switchVersion(version: number): void {
    if (this.role === 'server') this.originalInitialRead = this.spaces[Initial]!.readKeys;
    this.currentVersion = version;
    this.installInitialKeys();
    this.log('transport:version_information', { chosen_version: version.toString(16) });
  }

  private makeStreamManager(): StreamManager {
    // Our settings hold every stream parameter we advertise (RFC 9000 §18.2).
    return new StreamManager({ role: this.role, local: this.settings, maxLocalStreams: Number.MAX_SAFE_INTEGER });
  }

  // ==== Receiving ===============================================================================

  /** A UDP datagram arrived from `from`. Never throws on its content. */
  receive(datagram: Buffer, from: PeerAddress, now: number): void {
    this.now = now;
    this.wake();
    if (this.state === 'closed' || this.state === 'draining') return;
    this.stats.datagramsReceived++;
    this.stats.bytesReceived += datagram.length;
    // RFC 9000 §9: a client discards packets from any address but its server's.
    if (this.role === 'client' && this.serverAddressKnown && !samePeer(from, this.remote)) {
      this.stats.packetsDropped++;
      return;
    }
    if (this.state === 'closing') {
      // RFC 9000 §10.2.1: answer packets in the closing state with CONNECTION_CLOSE, at a rate that
      // falls ("wait for a progressively increasing number of received packets"): the 1st, 2nd,
      // 4th, 8th... datagram since the close.
      const n = ++this.closingDatagramsReceived;
      if ((n & (n - 1)) === 0) this.closeDatagramsOwed = 1;
      return;
    }
    if (!this.addressValidated && sameAddress(from, this.remote)) this.amplificationReceived += datagram.length;
    this.receivedDatagramLength = datagram.length;

    let packets: PacketHeader[];
    try {
      packets = splitDatagram(datagram, { shortDcidLength: this.cidLength, receiver: this.role });
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.stats.packetsDropped++;
      this.checkStatelessReset(datagram);
      return;
    }
    let processed = false;
    for (const header of packets) {
      try {
        if (this.receivePacket(datagram, header, from, now)) processed = true;
      } catch (err) {
        this.onError(err);
        return;
      }
      if (this.state !== 'handshake' && this.state !== 'established') return;
    }
    if (!processed) this.checkStatelessReset(datagram);
    this.processTls();
    this.collectStreamControl();
    this.checkGracefulClose();
    if (!this.addressValidated) this.loss.setAmplificationLimited(this.amplificationBudget() <= 0, now);
  }

  /** Turns an error raised while processing input into the right CONNECTION_CLOSE (RFC 9000 §11). */
  private onError(err: unknown): void {
    if (err instanceof TransportError) {
      // An unknown frame type may be any varint; one we cannot re-encode is reported as 0.
      const frameType = err.frameType !== undefined && Number.isSafeInteger(err.frameType) ? err.frameType : 0;
      this.closeWith(err.code, err.message, false, frameType);
    } else if (err instanceof ProtocolError || err instanceof StreamError) {
      this.closeWith(err.code, err.message, false, 0);
    } else if (err instanceof DecodeError) {
      this.closeWith(TransportErrorCode.FRAME_ENCODING_ERROR, err.message, false, 0);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      this.closeWith(TransportErrorCode.INTERNAL_ERROR, message, false, 0);
    }
  }

  /** One packet of a datagram. Returns whether it was processed (authenticated and new). */
  private receivePacket(datagram: Buffer, header: PacketHeader, from: PeerAddress, now: number): boolean {
    switch (header.type) {
      case 'version_negotiation':
        this.onVersionNegotiation(header.versions, header.dcid, header.scid);
        return false;
      case 'retry':
        this.onRetry(datagram.subarray(header.start, header.end), header.scid, header.token, header.dcid);
        return false;
      case 'unsupported_version':
        return false;
      case '0rtt':
        // RFC 9001 §4.6: only a server that accepted early data has keys for these.
        if (this.role !== 'server') return false;
        return this.receiveProtected(datagram, header, from, now);
      default:
        return this.receiveProtected(datagram, header, from, now);
    }
  }

  private receiveProtected(datagram: Buffer, header: LongHeader | ShortHeader, from: PeerAddress, now: number): boolean {
    const spaceId = header.type === 'initial' ? Initial : header.type === 'handshake' ? Handshake : ApplicationData;
    const space = this.spaces[spaceId]!;
    // RFC 9001 §4.9: packets of a discarded space are dropped; its tracker went with its keys.
    const ack = space.ack;
    if (ack === undefined) return false;
    let initialKeys = space.readKeys;
    if (header.form === 'long' && header.version !== this.currentVersion) {
      if (this.role === 'client' && header.type === 'initial' && this.serverScid === undefined
        && this.versions.includes(header.version) && areCompatible(this.currentVersion, header.version)) {
        // RFC 9368 §2.3: the server answered in a compatible version; the client follows.
        this.switchVersion(header.version);
        initialKeys = space.readKeys;
      } else if (this.role === 'server' && header.type === 'initial' && header.version === this.originalVersion && this.originalInitialRead !== undefined) {
        initialKeys = this.originalInitialRead; // the client has not switched yet
      } else {
        return false;
      }
    }
    const isZeroRtt = header.type === '0rtt';
    if (isZeroRtt ? this.earlyRead === undefined : space.readKeys === undefined && (spaceId !== ApplicationData || this.keyPhase === undefined)) {
      // RFC 9001 §5.7: keys not yet available — keep a few packets to try once they are.
      if (this.undecryptable.length < MAX_BUFFERED_PACKETS) {
        this.undecryptable.push({ datagram: Buffer.from(datagram.subarray(header.start, header.end)), header: rebase(header), from });
      }
      return false;
    }
    // RFC 9000 §7.2: after the first server packet, the client ignores others with a different SCID.
    if (this.role === 'client' && header.form === 'long' && this.serverScid !== undefined && !header.scid.equals(this.serverScid)) {
      return false;
    }

    // A datagram of one packet (every 1-RTT datagram of a transfer) needs no view of itself.
    const packet = header.start === 0 && header.end === datagram.length ? datagram : datagram.subarray(header.start, header.end);
    const pnOffset = header.pnOffset - header.start;
    const hpKeys = isZeroRtt ? this.earlyRead! : spaceId === ApplicationData ? this.keyPhase!.read : spaceId === Initial ? initialKeys! : space.readKeys!;
    const hp = hpKeys.headerProtection;
    // A 1-RTT datagram of a driver's batch: the masks of this connection's later ones in the same call.
    if (packet === datagram && header.form === 'short') this.prefetchMasks(datagram, hp, pnOffset);
    const unmasked = removeHeaderProtection(hp, packet, pnOffset, this.prefetchedMasks);
    if (unmasked === null) return false;
    const pn = decodePacketNumber(space.largestReceived, unmasked.truncatedPn, unmasked.pnLength as 1 | 2 | 3 | 4);
    let protector = hpKeys;
    let nextPhase = false;
    if (spaceId === ApplicationData && !isZeroRtt) {
      const phase = (unmasked.header[0]! & 0x04) !== 0 ? 1 : 0;
      const chosen = this.keyPhase!.keysFor(phase, pn, now);
      if (chosen === undefined) return false;
      protector = chosen.keys;
      nextPhase = chosen.isNext;
    }
    const payload = protector.openAt(pn, unmasked.header, packet, unmasked.header.length);
    if (payload === null) {
      this.stats.packetsDropped++;
      // RFC 9001 §6.6: past the integrity limit, close at once and process nothing more.
      if (++this.authenticationFailures > this.integrityLimit) {
        throw new TransportError(TransportErrorCode.AEAD_LIMIT_REACHED, 'AEAD integrity limit reached', 'RFC 9001 §6.6');
      }
      return false; // RFC 9001 §5.5: discard packets that fail authentication
    }
    // RFC 9000 §17.2, §17.3.1: non-zero reserved bits after removing protection.
    checkReservedBits(unmasked.header[0]!);
    if (ack.hasReceived(pn)) return false; // RFC 9000 §12.3: duplicate
    if (nextPhase) this.keyPhase!.onNextPhaseOpened(pn, now, 3 * this.loss.ptoPeriod(ApplicationData));

    if (this.role === 'client' && header.form === 'long' && this.serverScid === undefined) {
      // RFC 9000 §7.2: the client switches to the server's chosen connection ID.
      this.serverScid = header.scid;
      this.peerCids.replaceInitial(header.scid);
    }
    if (this.role === 'server' && spaceId === Handshake) {
      // RFC 9000 §8.1: a Handshake packet from the client proves it received our Initial.
      this.addressValidated = true;
      this.loss.setAmplificationLimited(false, now);
      // RFC 9001 §4.9.1: the server discards Initial keys when it first processes a Handshake packet.
      this.discardSpace(Initial);
    }

    const frames = parseFrames(payload);
    const ctx: PacketContext = {
      space: spaceId,
      packetType: header.type,
      packetNumber: pn,
      dcid: header.dcid,
      from,
      now,
    };
    let ackEliciting = false;
    let probingOnly = true;
    for (const frame of frames) {
      const frameType = frameTypeOf(frame);
      if (isAckElicitingType(frameType)) ackEliciting = true;
      if (!isProbing(frame)) probingOnly = false;
      dispatchFrame(this, frame, ctx, this.role, frameType);
      if (this.state === 'draining' || this.state === 'closed' || this.state === 'closing') break;
    }
    // A frame of the packet may have discarded its space (the handshake confirmed by its CRYPTO data).
    if (space.discarded) return true;
    ack.onPacketReceived(pn, now, ackEliciting);
    const isLargest = space.largestReceived === undefined || pn > space.largestReceived;
    if (isLargest) space.largestReceived = pn;
    // RFC 9000 §10.1: a packet processed restarts the idle timer.
    this.lastActivity = now;
    this.ackElicitingSinceReceive = false;
    // RFC 9000 §9.3: a non-probing packet with the largest packet number from a new address moves the path.
    if (this.role === 'client') {
      if (!this.serverAddressKnown) {
        this.remote = from;
        this.serverAddressKnown = true;
      }
    } else if (spaceId === ApplicationData && isLargest && !probingOnly && !sameAddress(from, this.remote)) {
      this.onPeerMigrated(from);
    }
    // Per-packet events are built only when a qlog sink listens.
    if (this.qlog !== undefined) this.log('transport:packet_received', { packet_type: header.type, packet_number: pn, frames: frames.length });
    return true;
  }

  /**
   * RFC 9001 §5.4: on this connection's first short-header datagram of a driver's batch
   * (connection/receive-lookahead.ts), the header protection masks of it and of every later
   * short-header datagram of the batch with the same Destination Connection ID (which the router
   * gives to this connection too) in one call. The HP key does not change with key updates (RFC
   * 9001 §6), so a key phase change within the batch leaves the masks right; a datagram that does
   * not come here, or comes under another key, simply does not use its mask.
   */
  private prefetchMasks(datagram: Buffer, hp: HeaderProtection, pnOffset: number): void {
    const ahead = receiveLookahead;
    if (ahead.generation === this.lookaheadGeneration || ahead.datagrams[ahead.index] !== datagram) return;
    const sampleOffset = pnOffset + SAMPLE_OFFSET_FROM_PN; // RFC 9001 §5.4.2; pnOffset = 1 + DCID length
    // Too short to sample (removeHeaderProtection refuses it): junk with our DCID at the front of a
    // batch must not turn computing ahead off for the real datagrams after it.
    if (datagram.length < sampleOffset + SAMPLE_LENGTH) return;
    this.lookaheadGeneration = ahead.generation;
    const batch = ahead.datagrams;
    let packets: Buffer[] | undefined;
    let offsets: number[] | undefined;
    for (let i = ahead.index + 1; i < batch.length; i++) {
      const next = batch[i]!;
      // RFC 9000 §17.3.1: a short header (form bit 0) long enough to sample, with this DCID.
      if ((next[0]! & 0x80) !== 0 || next.length < sampleOffset + SAMPLE_LENGTH) continue;
      if (!sameBytes(next, datagram, 1, pnOffset)) continue;
      if (packets === undefined) {
        packets = [datagram, next];
        offsets = [sampleOffset, sampleOffset];
      } else {
        packets.push(next);
        offsets!.push(sampleOffset);
      }
    }
    // Worth it from two datagrams on.
    if (packets !== undefined) {
      this.prefetchedMasks.prefetch(hp, packets, offsets!);
      ahead.prefetched.push(this.prefetchedMasks);
    }
  }

  private checkStatelessReset(datagram: Buffer): void {
    // RFC 9000 §10.3.1: a datagram ending in a reset token of the peer ends the connection at once.
    if (this.peerCids.isStatelessReset(datagram)) {
      this.enterDraining({ code: 0, application: false, reason: 'stateless reset', source: 'reset' }, 0);
    }
  }

  /** RFC 9000 §6.2: a client that gets Version Negotiation listing no version it sent abandons the attempt. */
  private onVersionNegotiation(versions: number[], dcid: Buffer, scid: Buffer): void {
    if (this.role !== 'client' || this.serverScid !== undefined || this.state !== 'handshake') return;
    // RFC 9000 §6.2: the echoed connection IDs must match what we sent; a listing of our version is ignored.
    if (!dcid.equals(this.scid) || !scid.equals(this.originalDcid) || versions.includes(this.version)) return;
    this.closeInfo = { code: 0, application: false, reason: 'no common QUIC version', source: 'version-negotiation' };
    this.state = 'closed';
    this.events.push({ type: 'closed', error: this.closeInfo });
    this.log('connectivity:connection_closed', { owner: 'remote', trigger: 'version_mismatch' });
  }

  /** RFC 9000 §17.2.5.2: a client accepts one Retry, before any other server packet. */
  private onRetry(packet: Buffer, scid: Buffer, token: Buffer, dcid: Buffer): void {
    if (this.role !== 'client' || this.retryScid !== undefined || this.serverScid !== undefined) return;
    if (!dcid.equals(this.scid)) return;
    // RFC 9001 §5.8: discard a Retry whose integrity tag does not verify.
    if (!verifyRetryIntegrity(this.version, this.originalDcid, packet)) return;
    // RFC 9000 §17.2.5.2: a Retry whose SCID equals our DCID is discarded.
    if (scid.equals(this.originalDcid)) return;
    this.retryScid = Buffer.from(scid);
    this.token = Buffer.from(token);
    this.peerCids.replaceInitial(this.retryScid);
    // RFC 9001 §5.2: Initial keys now derive from the Retry's SCID.
    this.initialDcid = this.retryScid;
    this.installInitialKeys();
    // RFC 9002 §6.3: the Initials the Retry answers leave the flight, neither acknowledged nor lost
    // (no congestion signal), and the loss detection timer is reset; their CRYPTO data goes again.
    this.loss.onRetryReceived(this.now);
    const space = this.spaces[Initial]!;
    // RFC 9000 §17.2.5.2: the ClientHello goes again in a new Initial carrying the token.
    space.cryptoOut?.onLost(0, Number.MAX_SAFE_INTEGER, false);
    this.log('transport:packet_received', { packet_type: 'retry' });
  }

  // ==== Frame handlers (RFC 9000 §19) ============================================================

  onAck(frame: Extract<Frame, { type: 'ack' }>, ctx: PacketContext): void {
    const exponent = ctx.space === ApplicationData ? (this.peerParams?.ackDelayExponent ?? 3) : 3;
    const ackDelay = (frame.ackDelay * 2 ** exponent) / 1000;
    const ranges = frame.ranges;
    const result = this.loss.onAckReceived(ctx.space, { largest: ranges[0]![1], ackDelay, ranges, ecn: frame.ecn }, ctx.now);
    for (const packet of result.acked) this.onPacketAcked(packet);
    for (const packet of result.lost) this.onPacketLost(packet);
    this.updatePacer(ctx.now);
  }

  onCrypto(frame: Extract<Frame, { type: 'crypto' }>, ctx: PacketContext): void {
    // The space may have been discarded by an earlier frame of the same packet (RFC 9001 §4.9).
    const cryptoIn = this.spaces[ctx.space]!.cryptoIn;
    if (cryptoIn === undefined) return;
    cryptoIn.insert(frame.offset, frame.data);
    const data = cryptoIn.readAll();
    if (data !== null) this.tls.receive(LEVEL_OF[ctx.space], data);
    this.processTls();
  }

  onStream(frame: Extract<Frame, { type: 'stream' }>): void {
    const stream = this.streams.onStreamFrame(frame);
    if (stream !== undefined) this.ownSet('readable').add(stream.id);
    this.acceptNewStreams();
  }

  onResetStream(frame: Extract<Frame, { type: 'reset_stream' }>): void {
    const stream = this.streams.onResetStream(frame);
    if (stream !== undefined) this.ownSet('readable').add(stream.id);
    this.acceptNewStreams();
  }

  onStopSending(frame: Extract<Frame, { type: 'stop_sending' }>): void {
    let stream: ReturnType<StreamManager['onStopSending']>;
    this.trackBuffered(frame.streamId, () => (stream = this.streams.onStopSending(frame)));
    this.acceptNewStreams();
    if (stream !== undefined) this.events.push({ type: 'stop-sending', id: frame.streamId, code: frame.errorCode });
  }

  onMaxData(frame: Extract<Frame, { type: 'max_data' }>): void {
    this.streams.onMaxData(frame.maximum);
  }

  onMaxStreamData(frame: Extract<Frame, { type: 'max_stream_data' }>): void {
    this.streams.onMaxStreamData(frame);
    this.acceptNewStreams();
  }

  onMaxStreams(frame: Extract<Frame, { type: 'max_streams' }>): void {
    const direction = frame.bidi ? 'bidi' : 'uni';
    this.streams.onMaxStreams(direction, frame.maximum);
    if (this.streamsBlockedWanted[direction]) {
      this.streamsBlockedWanted[direction] = false;
      this.events.push({ type: 'streams-available', bidi: frame.bidi });
    }
  }

  onDataBlocked(frame: Extract<Frame, { type: 'data_blocked' }>): void {
    this.streams.onDataBlocked(frame.limit);
  }

  onStreamDataBlocked(frame: Extract<Frame, { type: 'stream_data_blocked' }>): void {
    this.streams.onStreamDataBlocked({ streamId: frame.streamId, maximum: frame.limit });
    this.acceptNewStreams();
  }

  onStreamsBlocked(frame: Extract<Frame, { type: 'streams_blocked' }>): void {
    this.streams.onStreamsBlocked(frame.bidi ? 'bidi' : 'uni', frame.limit);
  }

  onNewToken(frame: Extract<Frame, { type: 'new_token' }>): void {
    this.events.push({ type: 'new-token', token: Buffer.from(frame.token) });
  }

  onNewConnectionId(frame: Extract<Frame, { type: 'new_connection_id' }>): void {
    this.peerCids.onNewConnectionId(frame.sequence, frame.retirePriorTo, Buffer.from(frame.connectionId), Buffer.from(frame.statelessResetToken));
    this.takeRetirements();
  }

  onRetireConnectionId(frame: Extract<Frame, { type: 'retire_connection_id' }>, ctx: PacketContext): void {
    if (this.localCids.retire(frame.sequence, ctx.dcid)) this.issueConnectionIds();
  }

  onPathChallenge(frame: Extract<Frame, { type: 'path_challenge' }>, ctx: PacketContext): void {
    // RFC 9000 §8.2.2: echo the data in a PATH_RESPONSE on the path the challenge came from.
    if (this.pathResponses.length < 4) this.pathResponses.push({ data: Buffer.from(frame.data), to: ctx.from, credit: 3 * this.receivedDatagramLength });
  }

  onPathResponse(frame: Extract<Frame, { type: 'path_response' }>, ctx: PacketContext): void {
    const check = this.oldPathCheck;
    if (check !== undefined && check.matches(frame.data)) {
      // RFC 9000 §9.3.3: the previously active path works; only reported, the new path is unchanged.
      this.log('connectivity:old_path_validated', { remote: check.to });
      this.endOldPathCheck();
      return;
    }
    // RFC 9000 §8.2.3: a response matching our challenge validates the path it was sent on.
    const challenge = this.pathChallenge;
    if (challenge === undefined || !challenge.data.equals(frame.data)) return;
    this.pathChallenge = undefined;
    if (sameAddress(challenge.to, ctx.from) || sameAddress(challenge.to, this.remote)) {
      this.addressValidated = true;
      this.previousPath = undefined;
      this.onPathValidated(challenge.to, challenge.expanded !== false);
      this.log('connectivity:path_validated', { remote: challenge.to });
    }
  }

  onConnectionClose(frame: Extract<Frame, { type: 'connection_close' | 'application_close' }>): void {
    // RFC 9000 §10.2.2: a CONNECTION_CLOSE moves us to draining; we send nothing more.
    const info: CloseInfo = { code: frame.errorCode, application: frame.type === 'application_close', reason: frame.reason, source: 'peer' };
    if (frame.type === 'connection_close') info.frameType = frame.frameType;
    this.enterDraining(info, 3 * this.loss.ptoPeriod(ApplicationData));
  }

  onHandshakeDone(): void {
    // RFC 9001 §4.1.2: for the client, HANDSHAKE_DONE confirms the handshake.
    this.confirmHandshake();
  }

  onDatagram(): void {
    // RFC 9221 §3: we never advertise max_datagram_frame_size; the decoder already refuses DATAGRAM.
    throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'DATAGRAM frame not negotiated', 'RFC 9221 §3', 0x30);
  }

  // ==== TLS =======================================================================================

  /** Moves handshake bytes, keys and completion from the TLS endpoint into the connection. */
  private processTls(): void {
    for (let event = this.tls.poll(); event !== undefined; event = this.tls.poll()) {
      switch (event.type) {
        case 'handshake-data':
          // Nothing more is sent at a level whose keys are discarded (RFC 9001 §4.9).
          this.spaces[SPACE_OF[event.level]]!.cryptoOut?.write(event.data);
          break;
        case 'keys':
          this.installKeys(event.level, event.direction, event.secret, event.suite as CipherSuite);
          break;
        case 'complete':
          // RFC 9000 §7.3, §7.4: the peer's transport parameters (in its ClientHello, or in the
          // EncryptedExtensions ahead of its Finished) are checked first, so that an invalid one
          // closes the connection before anyone hears of a completed handshake.
          this.applyPendingPeerParameters();
          this.onHandshakeComplete();
          break;
        case 'session-ticket':
          this.events.push({ type: 'session-ticket', ticket: event.ticket, transportParameters: Buffer.from(this.tls.peerTransportParameters ?? EMPTY) });
          break;
        case 'alert': {
          // RFC 9001 §4.8: a TLS alert closes the connection with CRYPTO_ERROR 0x100 + alert.
          const code = event.transportError ?? TransportErrorCode.CRYPTO_ERROR_BASE + event.alert;
          this.closeWith(code, event.description, false, 0x06);
          return;
        }
      }
    }
    this.applyPendingPeerParameters();
  }

  /** The peer's transport parameters, once TLS has them and if not applied yet. */
  private applyPendingPeerParameters(): void {
    if (this.peerParams === undefined && this.tls.peerTransportParameters !== null) {
      this.applyPeerParameters(this.tls.peerTransportParameters);
    }
  }

  private installKeys(level: 'early' | 'handshake' | 'application', direction: 'read' | 'write', secret: Buffer, suite: CipherSuite): void {
    const protector = PacketProtector.fromSecret(this.version, suite, secret);
    if (level === 'early') {
      if (direction === 'write') this.earlyWrite = protector;
      else {
        this.earlyRead = protector;
        this.retryUndecryptable();
      }
      return;
    }
    if (level === 'handshake') {
      const space = this.spaces[Handshake]!;
      if (direction === 'read') space.readKeys = protector;
      else space.writeKeys = protector;
      if (this.role === 'client' && direction === 'write') this.loss.onHandshakeKeysAvailable(this.now);
      if (direction === 'read') this.retryUndecryptable();
      return;
    }
    const space = this.spaces[ApplicationData]!;
    if (direction === 'write') space.writeKeys = protector;
    else space.readKeys = protector;
    // RFC 9001 §6.6: the limits of the negotiated AEAD, unless the options set others.
    this.confidentialityLimit = this.aeadLimits.confidentiality ?? protector.params.confidentialityLimit;
    this.integrityLimit = this.aeadLimits.integrity ?? protector.params.integrityLimit;
    if (space.readKeys !== undefined && space.writeKeys !== undefined && this.keyPhase === undefined) {
      this.keyPhase = new KeyPhase(space.readKeys, space.writeKeys);
      this.retryUndecryptable();
    }
  }

  private retryUndecryptable(): void {
    const pending = this.undecryptable.splice(0);
    for (const { datagram, header, from } of pending) {
      try {
        this.receiveProtected(datagram, header as LongHeader | ShortHeader, from, this.now);
      } catch (err) {
        this.onError(err);
        return;
      }
    }
  }

  /** RFC 9000 §7.3, §7.4: the peer's transport parameters, with the connection-ID authentication. */
  private applyPeerParameters(raw: Buffer): void {
    const decoded = this.decodedClientParameters;
    this.decodedClientParameters = undefined;
    const params = decoded !== undefined && decoded.raw === raw ? decoded.params : decodeTransportParameters(raw, this.role === 'client' ? 'server' : 'client');
    if (this.role === 'client') {
      authenticateConnectionIds(params, { originalDcid: this.originalDcid, initialScid: this.serverScid, retryScid: this.retryScid, checkServerIds: true });
      checkServerVersionInformation(params.versionInformation, this.currentVersion, this.originalVersion);
      if (params.statelessResetToken !== undefined) this.peerCids.setInitialResetToken(Buffer.from(params.statelessResetToken));
    } else {
      authenticateConnectionIds(params, { initialScid: this.peerCids.dcid, checkServerIds: false });
      checkClientVersionInformation(params.versionInformation, this.originalVersion);
    }
    this.peerParams = params;
    this.streams.setPeerParams(params);
    this.loss.setPeerMaxAckDelay(params.maxAckDelay, this.now);
    this.localCids.peerLimit = params.activeConnectionIdLimit;
    this.pmtu.capAt(params.maxUdpPayloadSize);
    // RFC 9000 §10.1: the effective idle timeout is the minimum of the two non-zero values.
    const peerIdle = params.maxIdleTimeout;
    if (peerIdle > 0 && (this.idleTimeout === 0 || peerIdle < this.idleTimeout)) this.idleTimeout = peerIdle;
  }

  private onHandshakeComplete(): void {
    this.state = 'established';
    if (this.role === 'client' && this.earlyWrite !== undefined) {
      // RFC 9001 §4.6.2: rejected 0-RTT data is sent again in 1-RTT packets.
      if (!this.tls.earlyDataAccepted) for (const records of this.zeroRttRecords.splice(0)) this.requeue(records);
      this.zeroRttRecords.length = 0;
      // RFC 9001 §4.9.3: no 0-RTT once 1-RTT keys are in use.
      this.earlyWrite = undefined;
    }
    this.events.push({ type: 'handshake-complete', alpn: this.tls.alpn });
    this.log('connectivity:connection_state_updated', { new: 'handshake_complete' });
    if (this.role === 'server') {
      // RFC 9001 §4.1.2: the server's handshake is confirmed at completion; it says so with HANDSHAKE_DONE.
      this.handshakeDonePending = true;
      this.confirmHandshake();
    }
    this.afterHandshakePending = true;
  }

  /**
   * What the completed handshake owes the peer in 1-RTT packets, made at the first transmit() after
   * it (`afterHandshakePending`): our connection IDs (RFC 9000 §5.1.1) and, from a server, a
   * session ticket (RFC 8446 §4.6.1) and a NEW_TOKEN token (RFC 9000 §8.1.3). They go out in the
   * same packets as before; a connection the application closes on 'handshake-complete' makes
   * none of them (a ticket costs a seal and key derivations, each connection ID an HMAC). By then
   * the peer's transport parameters are applied, so IDs go up to its active_connection_id_limit.
   *
   * A client issues its IDs once the handshake is confirmed (HANDSHAKE_DONE, RFC 9001 §4.1.2), a
   * round trip after completion: a server needs a spare ID of ours only when we move to a new
   * path, which we may not do before confirmation (RFC 9000 §9), and a connection that the server
   * closes at once (one request, or a refusal) then costs neither end a 1-RTT packet of them.
   */
  private sendAfterHandshake(): void {
    this.afterHandshakePending = false;
    if (this.role === 'server') {
      this.tls.sendSessionTicket?.(this.now);
      this.processTls();
      if (this.state !== 'established') return; // a TLS alert closed the connection
      if (this.makeNewToken !== undefined) this.newTokenPending = this.makeNewToken();
    } else if (!this.handshakeConfirmed) {
      return; // confirmHandshake() asks again
    }
    this.issueConnectionIds();
  }

  private confirmHandshake(): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    this.addressValidated = true;
    this.loss.onHandshakeConfirmed(this.now);
    // RFC 9001 §4.9.2: Handshake keys are discarded once the handshake is confirmed.
    this.discardSpace(Initial);
    this.discardSpace(Handshake);
    // A client's connection IDs wait for confirmation (sendAfterHandshake).
    if (this.role === 'client') this.afterHandshakePending = true;
  }

  private discardSpace(id: PacketNumberSpace.Initial | PacketNumberSpace.Handshake): void {
    const space = this.spaces[id]!;
    if (space.discarded) return;
    space.discard();
    this.loss.discardSpace(id, this.now);
  }

  private issueConnectionIds(): void {
    if (this.state !== 'established') return;
    for (const issued of this.localCids.issueUpToLimit()) this.pendingNewCids.push(issued.sequence);
  }

  private takeRetirements(): void {
    this.pendingRetireCids.push(...this.peerCids.toRetire.splice(0));
    // RFC 9000 §5.1.2: retirements not yet sent are bounded; a peer forcing more is an error.
    if (this.pendingRetireCids.length > 2 * this.settings.activeConnectionIdLimit + 2) {
      throw new TransportError(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, 'too many connection IDs retired at once', 'RFC 9000 §5.1.2', 0x18);
    }
  }

  // ==== Paths (RFC 9000 §8.2, §9) =================================================================

  /** RFC 9000 §9.3: the peer moved (NAT rebinding or migration); validate the new path. */
  private onPeerMigrated(to: PeerAddress): void {
    this.log('connectivity:path_updated', { from: this.remote, to });
    const left = { to: this.remote, dcid: this.peerCids.dcid, credit: this.addressValidated ? Infinity : this.amplificationBudget() };
    // A validation of the path being left that has sent its challenge becomes the old-path check (§9.3.3).
    const challenge = this.pathChallenge;
    const underway = challenge !== undefined && challenge.sentAt !== undefined && sameAddress(challenge.to, this.remote) ? challenge : undefined;
    this.changePathState(this.previousPath?.remote ?? this.remote, to);
    const previous = this.previousPath;
    if (this.role === 'server' && previous !== undefined && previous.validated && sameAddress(previous.remote, to)) {
      // RFC 9000 §9.3: back to the last validated address after a spurious migration. Its
      // validation is skipped ("An endpoint MAY skip validation of a peer address if that address
      // has been seen recently") and its loss detection and congestion state came back above.
      this.previousPath = undefined;
      this.remote = to;
      this.addressValidated = true;
      this.loss.setAmplificationLimited(false, this.now);
      const rotatedBack = this.peerCids.rotate();
      if (rotatedBack) this.takeRetirements();
      this.pathChallenge = undefined;
      this.startOldPathCheck(left.to, left.dcid, rotatedBack, left.credit, underway);
      return;
    }
    // RFC 9000 §9.3.2: remember the old path, in case the new address was spoofed.
    this.previousPath ??= { remote: this.remote, validated: this.addressValidated };
    this.remote = to;
    // RFC 9000 §9.3: until validated, the new path is limited to 3× what it sent us.
    if (this.role === 'server') {
      this.addressValidated = false;
      this.amplificationReceived = this.receivedDatagramLength;
      this.amplificationSent = 0;
    }
    // RFC 9000 §9.5: use a new connection ID on the new path when the peer gave us one.
    const rotated = this.peerCids.rotate();
    if (rotated) this.takeRetirements();
    this.pathChallenge = { data: this.random(8), to, sentAt: undefined };
    if (this.role === 'server') this.startOldPathCheck(left.to, left.dcid, rotated, left.credit, underway);
  }

  /**
   * RFC 9000 §9.3.3: "In response to an apparent migration, endpoints MUST validate the previously
   * active path using a PATH_CHALLENGE frame" (connection/old-path-check.ts). A validation of that
   * path already underway (a challenge sent) carries on as the check, with its data and deadline.
   * The path keeps the connection ID it used (§9.5: one ID per destination address), so the
   * retirement of that ID, queued by the rotation, waits for the end of the check.
   */
  private startOldPathCheck(to: PeerAddress, dcid: Buffer, rotated: boolean, credit: number, underway: { data: Buffer; deadline?: number } | undefined): void {
    this.endOldPathCheck();
    const retireSequence = rotated ? this.pendingRetireCids.pop() : undefined;
    const pto = this.loss.validationPtoPeriod();
    const deadline = underway?.deadline ?? this.now + 3 * Math.max(pto, 2 * INITIAL_RTT);
    this.oldPathCheck = new OldPathCheck(to, dcid, retireSequence, credit, pto, deadline, this.now, underway?.data);
  }

  /** The old path's check is over (answered, abandoned or replaced): its connection ID can be retired. */
  private endOldPathCheck(): void {
    const check = this.oldPathCheck;
    if (check === undefined) return;
    this.oldPathCheck = undefined;
    if (check.retireSequence !== undefined) this.pendingRetireCids.push(check.retireSequence);
  }

  /**
   * Whether migrate() would migrate: only a client (RFC 9000 §9), open (a closing or draining
   * connection sends nothing new, §10.2), once the handshake is confirmed (§9), and not to a
   * server that chose a zero-length connection ID (§9.5: "An endpoint SHOULD NOT initiate
   * migration with a peer that has requested a zero-length connection ID"; such a server routes by
   * our address, and would not find the connection from a new one), nor to a server that
   * sent disable_active_migration (§18.2: "the endpoint MUST NOT use a new local address when
   * sending to the address that the peer used during the handshake"; we take no preferred_address),
   * nor before the server acknowledged a spare ID of ours (§5.1.1, §9.5: it must answer on the new
   * path with a new one; we issue them once the handshake is confirmed, sendAfterHandshake).
   * A driver asks before it moves its socket.
   */
  get canMigrate(): boolean {
    return this.role === 'client' && this.state === 'established' && this.handshakeConfirmed && !this.peerCids.zeroLength &&
      this.peerParams?.disableActiveMigration !== true && this.localCids.peerHasSpare;
  }

  /**
   * Client: move to a new local address (RFC 9000 §9.2) — the endpoint rebinds its socket and calls
   * this; we probe with PATH_CHALLENGE from there and switch to a fresh connection ID (§9.5).
   * `portOnly`: only the local port changed, so the path keeps its congestion, RTT and datagram
   * size state (RFC 9000 §9.4 MAY). By default the local IP address is taken to be new: the
   * connection cannot see it, and §9.4 advises caution with old values on a new path.
   */
  migrate(options: { portOnly?: boolean } = {}): void {
    this.wake();
    if (!this.canMigrate) return;
    if (options.portOnly === true) this.restartBlackHoleCount();
    else this.startNewPath();
    if (this.peerCids.rotate()) this.takeRetirements();
    this.pathChallenge = { data: this.random(8), to: this.remote, sentAt: undefined };
  }

  /**
   * The peer's address changes from `validated` (the last validated one) to `to` (RFC 9000 §9.4,
   * §14). A new IP address is a new path: new state, the old kept aside until validation. A port
   * change alone keeps the state — of the validated path if the peer returns to its IP address
   * (as after a spurious migration, §9.3.2), or of the new path on a second port change within it.
   */
  private changePathState(validated: PeerAddress, to: PeerAddress): void {
    // RFC 8899 §4.3: packets sent to the old address are lost to the change, not to their size.
    this.restartBlackHoleCount();
    if (sameIp(to, validated)) {
      this.restorePathState();
    } else if (!sameIp(to, this.remote) || !this.loss.hasStateAside) {
      this.startNewPath();
    }
  }

  /**
   * RFC 9000 §9.4, §14; RFC 8899 §5.2: a new path. Packets sent on the old one no longer count for
   * congestion control or RTT estimation; the datagram size goes back to BASE_PLPMTU and its search
   * starts over (once the path is validated: no probe runs during validation). The last validated
   * path's state is kept aside, to come back if validation fails (§9.3.2).
   */
  private startNewPath(): void {
    this.pmtuAside ??= this.pmtu;
    this.pmtu = this.pmtu.forNewPath();
    this.loss.startPath(BASE_PLPMTU, true, this.now);
    this.useDatagramSizeOfPath();
  }

  /** RFC 9000 §9.3.2, §9.3: back to the last validated path, with its RTT, window and datagram size. */
  private restorePathState(): void {
    if (!this.loss.hasStateAside && this.pmtuAside === undefined) return;
    if (this.pmtuAside !== undefined) this.pmtu = this.pmtuAside;
    this.pmtuAside = undefined;
    this.loss.restorePath(this.now);
    this.useDatagramSizeOfPath();
  }

  /**
   * The path `to` was validated. RFC 9000 §9.4: "On confirming a peer's ownership of its new
   * address, an endpoint MUST immediately reset the congestion controller and round-trip time
   * estimator for the new path to initial values" unless only the port changed. The state started
   * for the new path at the change (startNewPath) counted its packets so far; it goes too, and the
   * state kept aside for the old path is dropped. A migrating client does the same when its new path
   * is validated (§9.2: "the endpoint resets its congestion controller and RTT estimate, as
   * described in Section 9.4"): resetting once the path is known to work, as ngtcp2 and quic-go do,
   * puts the reset at the same point on both sides of the path.
   *
   * `expanded` false: the PATH_CHALLENGE went in a datagram under 1200 bytes (the
   * anti-amplification limit allowed no more), so the path MTU is not validated and a second
   * validation with an expanded datagram MUST follow (RFC 9000 §8.2.1, §8.2.3).
   */
  private onPathValidated(to: PeerAddress, expanded: boolean): void {
    // RFC 9002 §6.2.2.1: the anti-amplification limit no longer holds the PTO back (§8.1).
    this.loss.setAmplificationLimited(false, this.now);
    if (this.loss.hasStateAside || this.pmtuAside !== undefined) {
      this.pmtuAside = undefined;
      this.loss.startPath(this.maxDatagramSize, false, this.now);
      this.updatePacer(this.now);
    }
    if (!expanded) this.pathChallenge = { data: this.random(8), to, sentAt: undefined };
  }

  /** The datagram size becomes the path's DPLPMTUD result; black hole detection starts afresh. */
  private useDatagramSizeOfPath(): void {
    this.maxDatagramSize = this.pmtu.current;
    this.loss.congestion.setMaxDatagramSize(this.pmtu.current);
    this.restartBlackHoleCount();
    this.updatePacer(this.now);
  }

  /** RFC 8899 §4.3: losses of packets sent before now no longer count toward a black hole. */
  private restartBlackHoleCount(): void {
    this.largestAckedLargePacket = this.spaces[ApplicationData]!.nextPacketNumber - 1;
    this.largeLossesInARow = 0;
  }

  /**
   * RFC 9000 §8.2.4: path validation is abandoned after three times the larger of the PTO and the
   * initial PTO (kInitialRtt, RFC 9002 §6.2.2); §9.3.2: the server then returns to the last validated
   * path. Fixed when the first challenge goes out: a PTO computed later would grow with every
   * probe's backoff on a dead path, and the validation would never end.
   */
  private pathValidationDeadline(): number | undefined {
    return this.pathChallenge?.deadline;
  }

  private onPathValidationFailed(): void {
    this.log('connectivity:path_validation_failed', { remote: this.pathChallenge?.to });
    this.pathChallenge = undefined;
    const previous = this.previousPath;
    this.previousPath = undefined;
    if (previous !== undefined) {
      this.remote = previous.remote;
      this.addressValidated = previous.validated;
      // RFC 9002 §6.2.2.1: the PTO was off while the abandoned address's 3× limit blocked sending;
      // back on the validated path it must run again.
      this.loss.setAmplificationLimited(!this.addressValidated && this.amplificationBudget() <= 0, this.now);
      // Back on the path the old-path check was validating: it is the active path again.
      if (this.oldPathCheck !== undefined && sameAddress(this.oldPathCheck.to, previous.remote)) this.endOldPathCheck();
      // RFC 9000 §9.3.2: the last validated path comes back with the state it had; packets sent
      // on the abandoned path changed none of it (recovery/loss-detection.ts restorePath).
      this.restorePathState();
    } else if (this.loss.hasStateAside || this.pmtuAside !== undefined) {
      // A client's own new path (migrate()): its socket has moved and there is no path to return
      // to, so the new path keeps the state it has; the old one's is dropped.
      this.pmtuAside = undefined;
      this.loss.dropStateAside();
    }
  }

  private amplificationBudget(): number {
    return 3 * this.amplificationReceived - this.amplificationSent;
  }

  // ==== Sending ===================================================================================

  /** The datagrams to send now, each with its destination. */
  transmit(now: number): OutgoingDatagram[] {
    const out: OutgoingDatagram[] = [];
    try {
      this.buildDatagrams(now, out);
    } finally {
      // RFC 9001 §5.4.1: header protection of the burst's one-packet datagrams, in one call per key
      // (in `finally`, so that an error leaves no packet queued for the next call).
      if (this.headerMasks.length > 0) this.headerMasks.apply();
    }
    return out;
  }

  /** transmit() into `out`, one-packet datagrams left to `headerMasks` for header protection. */
  private buildDatagrams(now: number, out: OutgoingDatagram[]): void {
    this.now = now;
    if (this.quiet && now < this.quietUntil) return;
    this.wake();
    if (this.state === 'closed') return;
    if (this.afterHandshakePending && this.state === 'established') this.sendAfterHandshake();
    if (this.state === 'closing' || this.state === 'draining') {
      this.startClosingPeriod(now);
      if (this.state === 'closing' && this.closeDatagramsOwed > 0) {
        this.closeDatagramsOwed = 0;
        const datagram = this.buildCloseDatagram();
        if (datagram !== undefined) out.push(datagram);
      }
      this.enterClosingQuiet();
      return;
    }
    this.collectStreamControl();
    const probe = this.buildPmtuProbe(now);
    if (probe !== undefined) out.push(probe);
    const oldPathChallenge = this.buildOldPathChallenge(now);
    if (oldPathChallenge !== undefined) out.push(oldPathChallenge);
    let heldBack: 'window' | 'pacing' | undefined;
    const cap = this.maxDatagramsPerCall;
    while (out.length < cap) {
      const built = this.buildDatagram(now);
      if (built === 'window' || built === 'pacing') {
        heldBack = built;
        break;
      }
      if (built === undefined) break;
      out.push(built);
      if (this.isClosing()) break;
      // Control frames queued while choosing chunks (STREAM_DATA_BLOCKED) go in the next packet.
      if (out.length % 16 === 0) this.collectStreamControl();
    }
    if (this.isClosing()) {
      // Closed while sending (RFC 9001 §6.6 AEAD limit): the CONNECTION_CLOSE goes out now.
      this.startClosingPeriod(now);
      this.closeDatagramsOwed = 0;
      const datagram = this.buildCloseDatagram();
      if (datagram !== undefined) out.push(datagram);
      return;
    }
    // RFC 9002 §7.8: a sender that does not fill its window is application-limited, and the window
    // must not grow on its ACKs. The pacer holding data back is no proof that the window is used:
    // count it only with at least half the window in flight (as RFC 9438 §4.2 and Linux do).
    const congestion = this.loss.congestion;
    const cwndLimited =
      heldBack === 'window' ||
      (heldBack === 'pacing' && 2 * congestion.bytesInFlight >= congestion.congestionWindow) ||
      (out.length >= cap && 2 * congestion.bytesInFlight >= congestion.congestionWindow);
    // Stopped by the cap alone: nextTimeout() asks for another call at once.
    this.stoppedAtCallLimit = heldBack === undefined && out.length >= cap;
    congestion.setAppLimited(!cwndLimited);
    if (!this.addressValidated) this.loss.setAmplificationLimited(this.amplificationBudget() < 64, now);
    else if (out.length === 0 && heldBack === undefined) this.enterQuiet();
  }

  /**
   * Quiet (see `quiet`): until an input, an application call or the deadline nextTimeout() gives,
   * transmit() sends nothing and poll() has no event. A driver may leave the connection alone
   * until then; `onWake` tells it when the state ends.
   */
  get isQuiet(): boolean {
    return this.quiet;
  }

  /** Ends the quiet state, telling the driver (`onWake`). */
  private wake(): void {
    if (!this.quiet) return;
    this.quiet = false;
    this.onWake?.(this);
  }

  /** After a transmit() that sent nothing: quiet when no data waits either (see `quiet`). */
  private enterQuiet(): void {
    if (this.state !== 'established' || this.events.length > 0 || this.readable.size > 0) return;
    for (const id of SPACES) if (this.hasDataFor(id)) return;
    this.quietTimeout = this.nextTimeout();
    this.quietUntil = this.quietTimeout ?? Infinity;
    this.quiet = true;
  }

  /**
   * Closing or draining (RFC 9000 §10.2), the CONNECTION_CLOSE owed sent and every event and
   * readable stream delivered: nothing changes until a datagram (answered in the closing state,
   * §10.2.1), an application call or the end of the period at `closeDeadline`, so the connection is
   * quiet until then. A server holds such connections for three PTOs after each handshake it
   * closes, and every endpoint pump visits them (issue 5): this way a visit costs a flag test.
   */
  private enterClosingQuiet(): void {
    if (this.events.length > 0 || this.readable.size > 0) return;
    this.quietTimeout = this.closeDeadline;
    this.quietUntil = this.closeDeadline;
    this.quiet = true;
    this.release();
  }

  /**
   * One datagram; `'window'` when the congestion window holds data back, `'pacing'` when only the
   * pacer does, undefined when there is nothing to send.
   */
  private buildDatagram(now: number): OutgoingDatagram | 'window' | 'pacing' | undefined {
    let budget = this.maxDatagramSize;
    // RFC 8899 §4.3, RFC 9000 §14.3: from the second PTO in a row, probes go at BASE_PLPMTU. If the
    // path stopped carrying the size in use, only acknowledgments of smaller packets can show it.
    if (this.loss.ptoCount >= 2 && budget > BASE_PLPMTU && this.spaces[ApplicationData]!.probesOwed > 0) budget = BASE_PLPMTU;
    if (!this.addressValidated) {
      // RFC 9000 §8.1: before validation, at most three times the bytes received.
      budget = Math.min(budget, this.amplificationBudget());
      if (budget < 64) return undefined;
    }
    const congestion = this.loss.congestion;
    const windowOpen = congestion.bytesInFlight + this.maxDatagramSize <= congestion.congestionWindow;
    const paceWait = this.pacer.timeUntilSend(now, this.maxDatagramSize);
    let heldBack: 'window' | 'pacing' | undefined;
    // An array made for the first packet holds just it: most datagrams carry one.
    let packets: PlannedPacket[] | undefined;
    let remaining = budget;
    for (const id of SPACES) {
      const space = this.spaces[id]!;
      const zeroRtt = id === ApplicationData && this.keyPhase === undefined && this.earlyWrite !== undefined && this.role === 'client';
      if (!zeroRtt && (!space.canSend || (id === ApplicationData && this.keyPhase === undefined))) continue;
      if (id === ApplicationData && !zeroRtt && !this.mayProtect1Rtt()) break;
      const probe = space.probesOwed > 0;
      // Congestion control and pacing hold back ack-eliciting data but not ACKs or probes (RFC 9002 §7, §7.7).
      const mayCarryData = probe || (windowOpen && (id !== ApplicationData || paceWait <= 0));
      if (!mayCarryData && heldBack !== 'window' && this.hasDataFor(id)) heldBack = windowOpen ? 'pacing' : 'window';
      const planned = this.planPacket(space, remaining, mayCarryData, now, zeroRtt);
      if (planned === undefined) continue;
      if (packets === undefined) packets = [planned];
      else packets.push(planned);
      remaining -= planned.size;
      if (id === ApplicationData) break; // a short header packet runs to the end of the datagram
    }
    if (packets === undefined) return heldBack;

    // RFC 9000 §14.1: a client pads every datagram carrying an Initial to 1200 bytes; a server
    // pads datagrams with ack-eliciting Initials. Padding goes into the last packet.
    let total = 0;
    let hasInitial = false;
    for (const p of packets) {
      total += p.size;
      if (p.space === Initial && (this.role === 'client' || p.ackEliciting)) hasInitial = true;
    }
    const last = packets[packets.length - 1]!;
    if (hasInitial && total < MIN_INITIAL_DATAGRAM && budget >= MIN_INITIAL_DATAGRAM) {
      last.padding += MIN_INITIAL_DATAGRAM - total;
      last.size += MIN_INITIAL_DATAGRAM - total;
    }
    if (this.pathFramePlanned) this.expandPathProbe(last, total, budget);

    // One packet (every datagram of a bulk transfer) needs no array and no concatenation.
    const sealed = packets.length === 1 ? undefined : packets.map((p) => this.sealPacket(p));
    // A one-packet datagram is the packet itself: its header protection can wait for the burst's.
    const data = sealed === undefined ? this.sealPacket(last, true) : Buffer.concat(sealed);
    let inFlight = false;
    // A PATH_RESPONSE to an address that only probes (RFC 9000 §9.1) is not on the path in use:
    // it spends none of its window and feeds none of its state (§9.4), like an old-path check.
    const offPath = last.to !== undefined;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      const sentBytes = sealed === undefined ? data.length : sealed[i]!.length;
      const isInFlight = !offPath && (p.ackEliciting || p.padding > 0);
      if (isInFlight) inFlight = true;
      this.loss.onPacketSent(p.space, { packetNumber: p.packetNumber, ackEliciting: p.ackEliciting, inFlight: isInFlight, sentBytes, offPath, payload: p.records }, now);
      if (p.type === '1rtt') this.keyPhase!.onPacketSent(p.packetNumber);
      else if (p.type === '0rtt') this.zeroRttRecords.push(p.records);
      if (p.space === Handshake && this.role === 'client' && !this.sentHandshakePacket) {
        this.sentHandshakePacket = true;
        // RFC 9001 §4.9.1: a client discards Initial keys when it first sends a Handshake packet.
        this.discardSpace(Initial);
      }
      if (p.ackEliciting && !this.ackElicitingSinceReceive) {
        // RFC 9000 §10.1: sending the first ack-eliciting packet since the last receipt restarts the timer.
        this.ackElicitingSinceReceive = true;
        this.lastActivity = now;
      }
      if (this.qlog !== undefined) this.log('transport:packet_sent', { packet_type: p.type, packet_number: p.packetNumber, length: sentBytes, frames: p.frames.map((f) => f.type) });
    }
    if (inFlight) this.pacer.onSend(now, data.length);
    if (!this.addressValidated) this.amplificationSent += data.length;
    this.stats.datagramsSent++;
    this.stats.bytesSent += data.length;
    const to = last.to ?? this.remote;
    return { data, to };
  }

  /**
   * RFC 9000 §8.2.1, §8.2.2: a datagram with PATH_CHALLENGE or PATH_RESPONSE is expanded to at least
   * 1200 bytes, unless the anti-amplification limit of its path forbids it (`budget` for the
   * peer's address, a response's credit for another one). A challenge remembers whether it was, for
   * the second validation §8.2.1 asks for when it was not.
   */
  private expandPathProbe(last: PlannedPacket, total: number, budget: number): void {
    this.pathFramePlanned = false;
    const challenge = last.frames.some((f) => f.type === 'path_challenge');
    const room = last.to === undefined ? budget : Math.min(budget, this.responseCredit);
    if (room >= MIN_INITIAL_DATAGRAM && total < MIN_INITIAL_DATAGRAM) {
      const extra = MIN_INITIAL_DATAGRAM - total;
      last.padding += extra;
      last.size += extra;
      total += extra;
    }
    if (challenge && this.pathChallenge !== undefined) this.pathChallenge.expanded = total >= MIN_INITIAL_DATAGRAM;
  }

  /**
   * RFC 9000 §14.3: once the handshake is confirmed, a PING padded to the probed size. It is sent as
   * not in flight, so that its loss is no congestion signal (§14.4) and the window is not spent.
   */
  private buildPmtuProbe(now: number): OutgoingDatagram | undefined {
    if (!this.handshakeConfirmed || this.keyPhase === undefined || this.pathChallenge !== undefined) return undefined;
    if (!this.pmtu.wantsProbe || !this.mayProtect1Rtt()) return undefined;
    const space = this.spaces[ApplicationData]!;
    const size = this.pmtu.nextProbe(now, space.nextPacketNumber)!;
    const packetNumber = space.nextPacketNumber++;
    const pnLength = packetNumberLength(packetNumber, this.loss.largestAcked(ApplicationData));
    const dcid = this.peerCids.dcid;
    const planned: PlannedPacket = {
      space: ApplicationData, type: '1rtt', packetNumber, pnLength, dcid, frames: [{ type: 'ping' }],
      records: [{ kind: 'pmtu-probe', size, packetNumber, search: this.pmtu }], ackEliciting: true, payloadSize: 1,
      padding: size - headerSize('1rtt', dcid, pnLength, this.longHeader) - 1 - TAG, size, to: undefined,
    };
    const data = this.sendAlone(planned, false, now, { frames: ['ping', 'padding'], pmtu_probe: true });
    return { data, to: this.remote };
  }

  /**
   * RFC 9000 §9.3.3: a PATH_CHALLENGE to the previously active path when one is due
   * (connection/old-path-check.ts), in a probing packet of its own with that path's connection ID,
   * expanded to 1200 bytes unless that path's anti-amplification credit forbids it (§8.2.1). It is
   * sent off the path in use: not in flight and tagged so that it feeds neither the RTT estimate nor
   * the congestion state of the path in use (§9.4; recovery/loss-detection.ts OFF_PATH).
   */
  private buildOldPathChallenge(now: number): OutgoingDatagram | undefined {
    const check = this.oldPathCheck;
    if (check === undefined || this.keyPhase === undefined) return undefined;
    const space = this.spaces[ApplicationData]!;
    const pnLength = packetNumberLength(space.nextPacketNumber, this.loss.largestAcked(ApplicationData));
    const header = headerSize('1rtt', check.dcid, pnLength, this.longHeader);
    const challengeLength = 9; // type and 8 bytes of data (RFC 9000 §19.17)
    const size = check.room >= MIN_INITIAL_DATAGRAM ? MIN_INITIAL_DATAGRAM : header + challengeLength + TAG;
    if (!check.due(now, size) || !this.mayProtect1Rtt()) return undefined;
    const data = this.random(8);
    const packetNumber = space.nextPacketNumber++;
    const planned: PlannedPacket = {
      space: ApplicationData, type: '1rtt', packetNumber, pnLength, dcid: check.dcid, frames: [{ type: 'path_challenge', data }],
      records: [], ackEliciting: true, payloadSize: challengeLength,
      padding: size - header - challengeLength - TAG, size, to: check.to,
    };
    const sealed = this.sendAlone(planned, true, now, { frames: ['path_challenge', 'padding'], old_path: true });
    check.onSent(data, sealed.length, now);
    return { data: sealed, to: check.to };
  }

  /**
   * Seals a 1-RTT packet that makes a datagram on its own and is not in flight (a PMTU probe, RFC
   * 9000 §14.4; a challenge of another path, §9.3.3, `offPath`), and records it as sent.
   */
  private sendAlone(planned: PlannedPacket, offPath: boolean, now: number, logged: Record<string, unknown>): Buffer {
    const data = this.sealPacket(planned, true);
    const { packetNumber } = planned;
    this.loss.onPacketSent(ApplicationData, { packetNumber, ackEliciting: true, inFlight: false, sentBytes: data.length, offPath, payload: planned.records }, now);
    this.keyPhase!.onPacketSent(packetNumber);
    this.stats.datagramsSent++;
    this.stats.bytesSent += data.length;
    this.log('transport:packet_sent', { packet_type: '1rtt', packet_number: packetNumber, length: data.length, ...logged });
    return data;
  }

  /**
   * RFC 9000 §14.3: a larger datagram size is confirmed, or a black hole sends it back to
   * BASE_PLPMTU; congestion control and pacing follow (RFC 9002 §7.2).
   */
  private setDatagramSize(size: number): void {
    if (size === this.maxDatagramSize) return;
    this.maxDatagramSize = size;
    this.loss.congestion.setMaxDatagramSize(size);
    this.updatePacer(this.now);
    this.log('connectivity:mtu_updated', { new: size, done: this.pmtu.done });
  }

  /**
   * RFC 8899 §4.3, §5.2: MAX_PROBES packets above BASE_PLPMTU were lost in a row while none was
   * acknowledged: the path no longer carries them. Back to BASE_PLPMTU, and the search runs again.
   * Losses of packets sent before now do not count again.
   */
  private onBlackHole(): void {
    this.log('connectivity:mtu_black_hole', { size: this.maxDatagramSize });
    this.pmtu.onBlackHole();
    this.restartBlackHoleCount();
    this.setDatagramSize(BASE_PLPMTU);
  }

  /**
   * RFC 8899 §5.1.1: PMTU_RAISE_TIMER of the path in use, while probes may be sent (buildPmtuProbe);
   * when it fires the search resumes and the next transmit() sends a larger probe.
   */
  private pmtuRaiseDeadline(): number | undefined {
    if (!this.handshakeConfirmed || this.pathChallenge !== undefined) return undefined;
    return this.pmtu.raiseDeadline;
  }

  /** The datagram size in use (DPLPMTUD result, RFC 9000 §14.3). */
  get datagramSize(): number {
    return this.maxDatagramSize;
  }

  private hasDataFor(id: PacketNumberSpace): boolean {
    if (this.spaces[id]!.cryptoOut?.hasChunkToSend === true) return true;
    return id === ApplicationData && (this.streams.nextStreamToSend() !== undefined || this.pendingControl.length > 0);
  }

  /** Chooses the frames of one packet in `space` within `budget` bytes (header and tag included). */
  private planPacket(space: PacketSpace, budget: number, mayCarryData: boolean, now: number, zeroRtt = false): PlannedPacket | undefined {
    const { id, ack, cryptoOut } = space;
    if (ack === undefined || cryptoOut === undefined) return undefined; // discarded (RFC 9001 §4.9)
    const type: PlannedPacket['type'] = id === Initial ? 'initial' : id === Handshake ? 'handshake' : zeroRtt ? '0rtt' : '1rtt';
    const packetNumber = space.nextPacketNumber;
    const pnLength = packetNumberLength(packetNumber, this.loss.largestAcked(id));
    const dcid = this.peerCids.dcid;
    // A short header needs none of the long header fields (RFC 9000 §17.3.1).
    const header = type === '1rtt' ? 1 + dcid.length + pnLength : headerSize(type, dcid, pnLength, this.longHeader);
    // Frame bytes the packet can hold; `plan.payloadSize` counts those taken.
    const limit = budget - header - TAG;
    if (limit < 32) return undefined;
    // RFC 9000 §13.2.1: an ACK that is not yet due waits unless the packet is sent anyway. With
    // nothing else to send (a receiver between ACKs), do not build an ACK frame only to drop it.
    if (space.probesOwed === 0 && !ack.ackDue(now) && !(mayCarryData && this.mayHaveFramesFor(space, zeroRtt))) return undefined;

    // The plan is filled in place by addFrame: no closure and no second object per packet.
    const plan = newPlan(id, type, packetNumber, pnLength, dcid);

    // RFC 9000 §13.2: an ACK when one is due, or riding along with anything we send anyway.
    let ackFrame: Frame | undefined;
    // RFC 9000 §12.4: 0-RTT packets carry no ACK frames. Nor does the packet that answers a challenge
    // through an old local socket (PeerAddress.via): an ACK would make it non-probing (§9.1), and the
    // peer would take it for a move back to that path (§9.3); the ACK goes in the next packet. Only
    // when that answer can go now: an ACK is never held back by congestion control (§13.2.1, RFC 9002 §7).
    const throughOldSocket = mayCarryData && id === ApplicationData && this.pathResponses.length > 0 && this.pathResponses[0]!.to.via !== undefined;
    const ackInfo = !zeroRtt && !throughOldSocket && ack.hasUnreportedPackets() ? ack.ackFrame(now) : undefined;
    if (ackInfo !== undefined) {
      const exponent = id === ApplicationData ? this.settings.ackDelayExponent : 3;
      ackFrame = {
        type: 'ack',
        ranges: ackInfo.ranges.slice(0, 32) as [number, number][],
        ackDelay: Math.floor((ackInfo.ackDelay * 1000) / 2 ** exponent),
      };
      const ackLength = frameLength(ackFrame);
      if (ackLength > limit) ackFrame = undefined;
      else addFrame(plan, ackFrame, { kind: 'ack', space: id, largest: ackInfo.largest }, ackLength);
    }
    if (mayCarryData) {
      if (id === ApplicationData && !zeroRtt) plan.to = this.addControlFrames(plan, limit);
      // CRYPTO (RFC 9000 §19.6): handshake bytes, then session tickets at the application level.
      while (!zeroRtt && limit - plan.payloadSize > 24 && cryptoOut.hasChunkToSend) {
        const room = limit - plan.payloadSize;
        const chunk = cryptoOut.nextChunk(room - 1 - 8 - (room > 16_000 ? 4 : 2));
        if (chunk === null || chunk.data.length === 0) break;
        const frame: Frame = { type: 'crypto', offset: chunk.offset, data: chunk.data };
        addFrame(plan, frame, { kind: 'crypto', space: id, offset: chunk.offset, length: chunk.data.length }, frameLength(frame));
      }
      if (id === ApplicationData && plan.to === undefined) this.addStreamFrames(plan, limit);
    }
    // RFC 9002 §6.2.4: a probe must be ack-eliciting; PING when there is nothing else. A packet to
    // another path (a PATH_RESPONSE, plan.to) is not the probe: it is not in flight on this one.
    if (space.probesOwed > 0 && plan.to === undefined) {
      if (!plan.ackEliciting) addFrame(plan, { type: 'ping' }, undefined, 1);
      space.probesOwed--;
    }
    const ackDue = ack.ackDue(now);
    // RFC 9000 §13.2.4: after a run of ACK-only packets, one of them also elicits an ACK, so that the
    // peer reports which arrived and our sent table can let them go (sent only when the ACK is due
    // anyway, and when the congestion controller lets an ack-eliciting packet go).
    if (id === ApplicationData && ackFrame !== undefined && ackDue && !plan.ackEliciting && mayCarryData &&
      this.ackOnlyPacketsInARow >= ACK_ONLY_PACKETS_BEFORE_PING && limit - plan.payloadSize >= 1) {
      addFrame(plan, { type: 'ping' }, undefined, 1);
    }
    // Nothing worth a packet: give back what was taken (an ACK alone waits for its deadline).
    if (!plan.ackEliciting && !(ackFrame !== undefined && ackDue)) return undefined;
    if (ackFrame !== undefined) ack.onAckSent();
    if (id === ApplicationData) this.ackOnlyPacketsInARow = plan.ackEliciting ? 0 : this.ackOnlyPacketsInARow + 1;
    space.nextPacketNumber++;
    plan.padding = samplePadding(pnLength, plan.payloadSize);
    plan.size = header + plan.payloadSize + plan.padding + TAG;
    return plan;
  }

  /**
   * Whether planPacket could add an ack-eliciting frame in `space` (false only when it surely adds
   * none): CRYPTO data, and in the application space STREAM data or a pending control frame.
   */
  private mayHaveFramesFor(space: PacketSpace, zeroRtt: boolean): boolean {
    if (!zeroRtt && space.cryptoOut?.hasChunkToSend === true) return true;
    if (space.id !== ApplicationData) return false;
    if (this.streams.mayHaveDataToSend) return true;
    return !zeroRtt && (
      this.handshakeDonePending || this.pathResponses.length > 0 ||
      (this.pathChallenge !== undefined && this.pathChallenge.sentAt === undefined) ||
      this.pendingNewCids.length > 0 || this.pendingRetireCids.length > 0 ||
      this.newTokenPending !== undefined || this.pendingControl.length > 0
    );
  }

  /**
   * Connection-level control frames of the application space, within `limit` frame bytes of
   * `plan`. Returns a new destination if a probe needs one.
   */
  private addControlFrames(plan: PlannedPacket, limit: number): PeerAddress | undefined {
    if (this.handshakeDonePending && limit - plan.payloadSize > 1) {
      this.handshakeDonePending = false;
      addFrame(plan, { type: 'handshake_done' }, { kind: 'handshake-done' }, 1);
    }
    // RFC 9000 §8.2.2: a PATH_RESPONSE goes on the path its challenge came from. One for another
    // address than the peer's (a probe of a path it has not moved to, §9.1), or one that came in
    // through another local socket than the current one (PeerAddress.via: ours, after a migration),
    // goes first, in a packet of its own to that address; the packet holds at most an ACK besides,
    // which any path may carry (but not through an old socket: see the ACK above).
    const elsewhere = this.pathResponses[0];
    if (elsewhere !== undefined && !onCurrentPath(elsewhere.to, this.remote) && !plan.ackEliciting && limit - plan.payloadSize > 9) {
      this.pathResponses.shift();
      const frame: Frame = { type: 'path_response', data: elsewhere.data };
      addFrame(plan, frame, undefined, frameLength(frame));
      this.responseCredit = elsewhere.credit;
      this.pathFramePlanned = true;
      return elsewhere.to;
    }
    while (this.pathResponses.length > 0 && onCurrentPath(this.pathResponses[0]!.to, this.remote) && limit - plan.payloadSize > 10) {
      const response = this.pathResponses.shift()!;
      const frame: Frame = { type: 'path_response', data: response.data };
      addFrame(plan, frame, undefined, frameLength(frame));
      this.pathFramePlanned = true;
      // RFC 9000 §9.3.3: a PATH_CHALLENGE on the active path is answered with a non-probing packet,
      // which moves a peer that an attacker's forwarded copies took off this path back to it (§9.3).
      if (plan.frames.every(isProbing)) addFrame(plan, { type: 'ping' }, undefined, 1);
    }
    if (this.pathChallenge !== undefined && this.pathChallenge.sentAt === undefined && limit - plan.payloadSize > 9) {
      this.pathChallenge.sentAt = this.now;
      this.pathChallenge.deadline ??= this.now + 3 * Math.max(this.loss.validationPtoPeriod(), 2 * INITIAL_RTT);
      const frame: Frame = { type: 'path_challenge', data: this.pathChallenge.data };
      addFrame(plan, frame, { kind: 'path-challenge', data: this.pathChallenge.data }, frameLength(frame));
      this.pathFramePlanned = true;
    }
    while (this.pendingNewCids.length > 0 && limit - plan.payloadSize > 48) {
      const sequence = this.pendingNewCids.shift()!;
      const issued = this.localCids.get(sequence);
      if (issued === undefined) continue;
      const frame: Frame = { type: 'new_connection_id', sequence, retirePriorTo: 0, connectionId: issued.cid, statelessResetToken: issued.resetToken };
      addFrame(plan, frame, { kind: 'new-connection-id', sequence }, frameLength(frame));
    }
    while (this.pendingRetireCids.length > 0 && limit - plan.payloadSize > 9) {
      const sequence = this.pendingRetireCids.shift()!;
      const frame: Frame = { type: 'retire_connection_id', sequence };
      addFrame(plan, frame, { kind: 'retire-connection-id', sequence }, frameLength(frame));
    }
    if (this.newTokenPending !== undefined && limit - plan.payloadSize > this.newTokenPending.length + 4) {
      const token = this.newTokenPending;
      this.newTokenPending = undefined;
      const frame: Frame = { type: 'new_token', token };
      addFrame(plan, frame, { kind: 'new-token', token }, frameLength(frame));
    }
    while (this.pendingControl.length > 0 && limit - plan.payloadSize > 24) {
      const control = this.pendingControl.shift()!;
      const frame = controlFrame(control);
      addFrame(plan, frame, { kind: 'stream-control', frame: control }, frameLength(frame));
    }
    return undefined;
  }

  /**
   * STREAM frames, round-robin over the streams with data (RFC 9000 §2.2, §19.8), within `limit`
   * frame bytes of `plan`. The chunk a send stream hands out is the frame itself.
   */
  private addStreamFrames(plan: PlannedPacket, limit: number): void {
    for (let room = limit - plan.payloadSize; room > 16; room = limit - plan.payloadSize) {
      const send = this.streams.nextStreamToSend();
      if (send === undefined) break;
      // Frame header: type, stream ID, offset (≤ 8 bytes), length (2 bytes for data under 16 KiB).
      const capacity = room - 1 - varintLength(send.id) - 8 - (room > 16_000 ? 4 : 2);
      if (capacity <= 0) break;
      const frame = send.nextChunk(capacity);
      if (frame === null) break;
      const { streamId, offset, data, fin } = frame;
      addFrame(plan, frame, { kind: 'stream', streamId, offset, length: data.length, fin }, streamFrameLength(streamId, offset, data.length)); // RFC 9000 §19.8
    }
  }

  /** `masksLater`: the packet is a datagram of this transmit(), masked with the others at its end. */
  private sealPacket(p: PlannedPacket, masksLater = false): Buffer {
    let keys: PacketProtector;
    if (p.type === '1rtt') {
      keys = this.keyPhase!.write;
      this.countWriteKeys(keys);
      this.packetsWithWriteKeys++; // RFC 9001 §6.6: every packet a key protects counts
    } else {
      keys = p.type === '0rtt' ? this.earlyWrite! : this.spaces[p.space]!.writeKeys!;
    }
    return sealPacket(p, keys, this.longHeader, this.keyPhase?.writePhase ?? 0, masksLater ? this.headerMasks : undefined);
  }

  /** The state as it is now (a check after calls that may close, which the compiler cannot see). */
  private isClosing(): boolean {
    return this.state === 'closing';
  }

  /** Starts counting afresh when the write key changed (a key update by either side, RFC 9001 §6). */
  private countWriteKeys(keys: PacketProtector): void {
    if (keys === this.countedWriteKeys) return;
    this.countedWriteKeys = keys;
    this.packetsWithWriteKeys = 0;
  }

  /**
   * RFC 9001 §6.6: whether another 1-RTT packet may be protected. A key update starts once half
   * the confidentiality limit is used (well before it, since §6.1 lets an update start only after
   * an acknowledgment of the current keys); if none is possible by the last packet of the limit,
   * that packet carries CONNECTION_CLOSE (AEAD_LIMIT_REACHED) and the key protects nothing more.
   */
  private mayProtect1Rtt(): boolean {
    const phase = this.keyPhase!;
    this.countWriteKeys(phase.write);
    const limit = this.confidentialityLimit;
    if (this.packetsWithWriteKeys < limit / 2) return true;
    if (this.handshakeConfirmed && phase.initiate()) {
      this.countWriteKeys(phase.write);
      this.log('security:key_updated', { key_type: '1rtt', trigger: 'local_update', reason: 'aead_confidentiality_limit' });
      return true;
    }
    if (this.packetsWithWriteKeys < limit - 1) return true;
    this.closeWith(TransportErrorCode.AEAD_LIMIT_REACHED, 'AEAD confidentiality limit reached without a key update', false, 0);
    return false;
  }

  /**
   * Long header fields; a server's Initials carry no token (RFC 9000 §17.2.2). One object, made
   * again only when the version or the token changes, since every packet planned and sealed asks.
   */
  private get longHeader(): LongHeaderContext {
    const token = this.role === 'client' ? this.token : EMPTY;
    const cached = this.longHeaderFields;
    if (cached !== undefined && cached.version === this.version && cached.token === token) return cached;
    return (this.longHeaderFields = { version: this.version, scid: this.scid, token });
  }

  /**
   * The closing state's datagram (RFC 9000 §10.2.1): built once, with CONNECTION_CLOSE in every
   * space we can send in (§10.2.3), and the very same bytes each time after.
   */
  private buildCloseDatagram(): OutgoingDatagram | undefined {
    this.closeDatagram ??= this.sealCloseDatagram();
    const data = this.closeDatagram;
    if (data === undefined) return undefined;
    if (!this.addressValidated) {
      // RFC 9000 §8.1: the anti-amplification limit holds for a CONNECTION_CLOSE too (§10.2.1).
      if (this.amplificationBudget() < data.length) return undefined;
      this.amplificationSent += data.length;
    }
    this.stats.datagramsSent++;
    this.stats.bytesSent += data.length;
    return { data, to: this.remote };
  }

  /**
   * A datagram with CONNECTION_CLOSE in every space we can send in (RFC 9000 §10.2.3), no larger
   * than the path carries (§14: 1200 bytes until DPLPMTUD has shown more).
   */
  private sealCloseDatagram(): Buffer | undefined {
    const frame = this.closeFrame;
    if (frame === undefined) return undefined;
    this.closeFrame = undefined;
    const packets: PlannedPacket[] = [];
    let total = 0;
    for (const id of SPACES) {
      const space = this.spaces[id]!;
      if (!space.canSend || (id === ApplicationData && this.keyPhase === undefined)) continue;
      // RFC 9000 §10.2.3: only a server is unsure whether its peer has Handshake keys. A client with
      // them knows the server has them too (they come from its ServerHello), and sending a Handshake
      // packet ends its use of Initial keys (RFC 9001 §4.9.1): an Initial close first in the datagram
      // would also end the connection before the server read a Finished that follows.
      if (id === Initial && this.role === 'client' && this.spaces[Handshake]!.canSend) continue;
      // RFC 9001 §6.6: a 1-RTT key at its confidentiality limit protects nothing more, not even a close.
      if (id === ApplicationData && this.keyPhase!.write === this.countedWriteKeys && this.packetsWithWriteKeys >= this.confidentialityLimit) continue;
      // RFC 9000 §10.2.3: an application close in Initial/Handshake is sent as APPLICATION_ERROR 0x0c.
      const sent: Frame = id !== ApplicationData && frame.type === 'application_close'
        ? { type: 'connection_close', errorCode: TransportErrorCode.APPLICATION_ERROR, frameType: 0, reason: '' }
        : frame;
      const type: PlannedPacket['type'] = id === Initial ? 'initial' : id === Handshake ? 'handshake' : '1rtt';
      const packetNumber = space.nextPacketNumber++;
      const pnLength = packetNumberLength(packetNumber, this.loss.largestAcked(id));
      const dcid = this.peerCids.dcid;
      const header = headerSize(type, dcid, pnLength, this.longHeader);
      const payload = frameLength(sent);
      const padding = samplePadding(pnLength, payload);
      const planned: PlannedPacket = {
        space: id, type, packetNumber, pnLength, dcid, frames: [sent], records: [], ackEliciting: false, payloadSize: payload, padding, to: undefined,
        size: header + payload + padding + TAG,
      };
      packets.push(planned);
      total += planned.size;
    }
    if (packets.length === 0) return undefined;
    // Only the application's close: one for an error found in the peer's flight (a transport
    // parameter, RFC 9000 §7.3, §7.4) must not send a Finished that says we accepted the handshake.
    if (frame.type === 'application_close') total += this.addUnsentFlight(packets, this.maxDatagramSize - total);
    // RFC 9000 §14.1: a client pads every datagram carrying an Initial to 1200 bytes: the datagram,
    // in its last packet, as buildDatagram does.
    const last = packets[packets.length - 1]!;
    if (this.role === 'client' && packets[0]!.space === Initial && total < MIN_INITIAL_DATAGRAM) {
      last.padding += MIN_INITIAL_DATAGRAM - total;
      last.size += MIN_INITIAL_DATAGRAM - total;
    }
    return packets.length === 1 ? this.sealPacket(last) : Buffer.concat(packets.map((p) => this.sealPacket(p)));
  }

  /**
   * RFC 9001 §4.1.1: TLS reports the handshake complete once it has handed QUIC its last flight
   * (a client's Finished, at the Handshake level), and an application may close in the event that
   * reports it, before a transmit() has sent that flight. Without it the peer sees an abandoned
   * handshake, not one completed and then closed; so the flight goes in the close datagram ahead
   * of the CONNECTION_CLOSE of its space, when all of it fits in `room`. Returns the bytes added.
   * (A server's handshake completes on the client's Finished, with nothing of its own left to send.)
   */
  private addUnsentFlight(packets: PlannedPacket[], room: number): number {
    const packet = packets.find((p) => p.space === Handshake);
    const cryptoOut = this.spaces[Handshake]!.cryptoOut;
    if (!this.tls.handshakeComplete || packet === undefined || cryptoOut === undefined || !cryptoOut.hasChunkToSend) return 0;
    // Taking the chunks marks them sent; in the closing state nothing else would send them.
    const frames: Frame[] = [];
    let length = 0;
    for (let chunk = cryptoOut.nextChunk(room); chunk !== null && chunk.data.length > 0; chunk = cryptoOut.nextChunk(room - length)) {
      const crypto: Frame = { type: 'crypto', offset: chunk.offset, data: chunk.data };
      frames.push(crypto);
      length += frameLength(crypto);
    }
    if (cryptoOut.hasChunkToSend || length > room) return 0; // not all of it fits: the close alone
    const overhead = packet.size - packet.payloadSize - packet.padding;
    packet.frames.unshift(...frames);
    packet.payloadSize += length;
    packet.padding = samplePadding(packet.pnLength, packet.payloadSize);
    const size = overhead + packet.payloadSize + packet.padding;
    const added = size - packet.size;
    packet.size = size;
    return added;
  }

  // ==== Acknowledgments and loss (RFC 9002) =======================================================

  private onPacketAcked(packet: SentPacket<SentRecords>): void {
    if (packet.space === ApplicationData) {
      this.keyPhase?.onPacketAcked(packet.packetNumber);
      // RFC 8899 §4.3: a large packet arrived, so a run of large losses before it was no black hole.
      if (packet.sentBytes > BASE_PLPMTU && packet.packetNumber > this.largestAckedLargePacket) {
        this.largestAckedLargePacket = packet.packetNumber;
        this.largeLossesInARow = 0;
      }
    }
    for (const record of packet.payload) {
      switch (record.kind) {
        case 'crypto':
          this.spaces[record.space]!.cryptoOut?.onAck(record.offset, record.length, false);
          break;
        case 'stream':
          this.bufferedTotal -= this.streams.onChunkAcked(record);
          this.noteWritable(record.streamId);
          break;
        case 'stream-control':
          this.streams.onControlFrameAcked(record.frame);
          break;
        case 'ack':
          this.spaces[record.space]!.ack?.onAckOfAck(record.largest);
          break;
        case 'pmtu-probe':
          // RFC 9000 §14: a probe sent before a path change tells nothing about the new path.
          record.search.onAcked(record.size, this.now, record.packetNumber);
          if (record.search === this.pmtu) this.setDatagramSize(this.pmtu.current);
          break;
        case 'new-connection-id':
          this.localCids.acknowledged(record.sequence); // canMigrate: the peer has a spare ID of ours
          break;
        default:
          break;
      }
    }
    this.checkGracefulClose();
  }

  private onPacketLost(packet: SentPacket<SentRecords>): void {
    this.stats.packetsLost++;
    this.log('recovery:packet_lost', { packet_number: packet.packetNumber, space: packet.space });
    // RFC 8899 §4.3: only losses after the last large packet acknowledged count (one lost before it
    // is ordinary loss); PMTU probes are not in flight and are the search's own business.
    if (packet.space === ApplicationData && packet.inFlight && packet.sentBytes > BASE_PLPMTU &&
      packet.packetNumber > this.largestAckedLargePacket && this.maxDatagramSize > BASE_PLPMTU &&
      ++this.largeLossesInARow >= MAX_PROBES) this.onBlackHole();
    this.requeue(packet.payload);
  }

  /** RFC 9000 §13.3: what a lost packet carried goes back to be sent again, where still needed. */
  private requeue(records: SentRecords): void {
    for (const record of records) {
      switch (record.kind) {
        case 'crypto':
          this.spaces[record.space]!.cryptoOut?.onLost(record.offset, record.length, false);
          break;
        case 'stream':
          this.streams.onChunkLost(record);
          break;
        case 'stream-control':
          this.streams.onControlFrameLost(record.frame);
          break;
        case 'handshake-done':
          this.handshakeDonePending = true;
          break;
        case 'new-connection-id':
          if (this.localCids.get(record.sequence) !== undefined) this.pendingNewCids.push(record.sequence);
          break;
        case 'retire-connection-id':
          this.pendingRetireCids.push(record.sequence);
          break;
        case 'new-token':
          this.newTokenPending ??= Buffer.from(record.token);
          break;
        case 'path-challenge':
          // RFC 9000 §8.2.1: a new challenge with new data rather than a retransmission.
          if (this.pathChallenge !== undefined && this.pathChallenge.data.equals(record.data)) {
            const { to, deadline } = this.pathChallenge;
            this.pathChallenge = { data: this.random(8), to, sentAt: undefined, deadline };
          }
          break;
        case 'pmtu-probe':
          record.search.onLost(record.size, this.now, record.packetNumber);
          break;
        case 'ack':
          break;
      }
    }
  }

  private updatePacer(now: number): void {
    const c = this.loss.congestion;
    this.pacer.update(c.congestionWindow, this.loss.rtt.smoothedRtt, this.maxDatagramSize, now);
    this.streams.rttMs = this.loss.rtt.smoothedRtt;
    this.spaces[ApplicationData]!.ack?.setDecimationDelay(this.loss.rtt.minRtt / 4);
  }

  // ==== Timers ====================================================================================

  /** The earliest time handleTimeout() must run, or undefined when nothing is scheduled. */
  nextTimeout(): number | undefined {
    if (this.quiet) return this.quietTimeout;
    if (this.state === 'closed') return undefined;
    // A closing period not started yet (closeWith) starts at the next transmit(): due now.
    if (this.state === 'closing' || this.state === 'draining') return this.closeDeadline === Infinity ? this.now : this.closeDeadline;
    let earliest = earlier(this.idleDeadline(), this.loss.nextTimeout());
    earliest = earlier(earliest, this.pathValidationDeadline());
    earliest = earlier(earliest, this.pmtuRaiseDeadline());
    earliest = earlier(earliest, this.pmtu.probeDeadline);
    earliest = earlier(earliest, this.oldPathCheck?.nextTimeout);
    for (const space of this.spaces) if (space.canSend) earliest = earlier(earliest, space.ack?.nextAckDeadline());
    // transmit() stopped at its per-call cap with budget left: the rest is due now.
    if (this.stoppedAtCallLimit) return this.now;
    if (this.hasDataFor(ApplicationData) && this.keyPhase !== undefined) {
      const wait = this.pacer.timeUntilSend(this.now, this.maxDatagramSize);
      const c = this.loss.congestion;
      // Whole milliseconds: a wait that rounds to nothing would wake us again at the same instant.
      if (wait > 0 && c.bytesInFlight + this.maxDatagramSize <= c.congestionWindow) earliest = earlier(earliest, this.now + Math.max(1, Math.ceil(wait)));
    }
    return earliest;
  }

  private idleDeadline(): number | undefined {
    if (this.idleTimeout === 0) return undefined;
    // RFC 9000 §10.1: at least three times the current PTO, so probes get their chance. The PTO
    // without its backoff (loss-detection.ts basePtoPeriod): with it, every probe would push the
    // deadline past the next probe, and a connection to a silent peer would never end.
    return this.lastActivity + Math.max(this.idleTimeout, 3 * this.loss.basePtoPeriod(ApplicationData));
  }

  handleTimeout(now: number): void {
    this.now = now;
    this.wake();
    if (this.state === 'closed') return;
    if (this.state === 'closing' || this.state === 'draining') {
      if (now >= this.closeDeadline) {
        this.state = 'closed';
        this.closeDatagram = undefined;
      }
      return;
    }
    const idle = this.idleDeadline();
    if (idle !== undefined && now >= idle) {
      // RFC 9000 §10.1: silently closed; nothing is sent.
      this.closeInfo = { code: 0, application: false, reason: 'idle timeout', source: 'idle' };
      this.state = 'closed';
      this.events.push({ type: 'closed', error: this.closeInfo });
      this.log('connectivity:connection_closed', { owner: 'local', trigger: 'idle_timeout' });
      this.localCids.clear();
      return;
    }
    const pathDeadline = this.pathValidationDeadline();
    if (pathDeadline !== undefined && now >= pathDeadline) this.onPathValidationFailed();
    const raise = this.pmtuRaiseDeadline();
    if (raise !== undefined && now >= raise) this.pmtu.onRaiseTimer(now);
    // RFC 8899 §5.1.1: a probe unacknowledged for PROBE_TIMER failed; the next transmit() probes again.
    const unconfirmed = this.pmtu.onProbeTimer(now);
    if (unconfirmed !== undefined) this.log('connectivity:mtu_probe_timeout', { size: unconfirmed });
    if (this.oldPathCheck?.expired(now) === true) {
      // RFC 9000 §9.3.3: the previously active path is no longer viable; nothing else changes.
      this.log('connectivity:old_path_validation_failed', { remote: this.oldPathCheck.to });
      this.endOldPathCheck();
    }
    const action = this.loss.onLossDetectionTimeout(now);
    switch (action.kind) {
      case 'lost':
        for (const packet of action.packets) this.onPacketLost(packet);
        break;
      case 'probe': {
        const space = this.spaces[action.space]!;
        space.probesOwed = Math.min(2, space.probesOwed + 2);
        // RFC 9002 §6.2.4: probes carry data when possible — resend CRYPTO data not yet acknowledged.
        if (action.space !== ApplicationData) space.cryptoOut?.onLost(0, Number.MAX_SAFE_INTEGER, false);
        else this.streams.repeatBlockedSignals();
        break;
      }
      case 'anti-deadlock': {
        // RFC 9002 §6.2.2.1: the client sends a Handshake probe, or a padded Initial.
        const space = this.spaces[action.space]!;
        if (!space.discarded) {
          space.probesOwed = 1;
          space.cryptoOut?.onLost(0, Number.MAX_SAFE_INTEGER, false);
        }
        break;
      }
      case 'none':
        break;
    }
    this.updatePacer(now);
  }

  // ==== Closing (RFC 9000 §10.2) ==================================================================

  /** Closes with an application error (CONNECTION_CLOSE 0x1d, RFC 9000 §10.2). */
  close(code = 0, reason = ''): void {
    this.wake();
    this.closeWith(code, reason, true, 0);
  }

  /**
   * Graceful close: refuse nothing already open, wait until every stream's data is acknowledged,
   * then close with `code`. The HTTP/3 layer sends GOAWAY before calling this.
   */
  closeGracefully(code = 0, reason = ''): void {
    this.wake();
    this.gracefulClose = { code, reason };
    this.checkGracefulClose();
  }

  private checkGracefulClose(): void {
    if (this.gracefulClose === undefined || this.state !== 'established') return;
    this.pruneKnownStreams();
    for (const id of this.knownStreams) {
      const stream = this.streams.get(id);
      if (stream?.send !== undefined && stream.send.hasPendingData) return;
    }
    if (this.loss.ackElicitingInFlight() > 0) return;
    this.close(this.gracefulClose.code, this.gracefulClose.reason);
  }

  private closeWith(code: number, reason: string, application: boolean, frameType: number): void {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') return;
    const shortReason = cutReason(reason);
    this.closeFrame = application
      ? { type: 'application_close', errorCode: code, reason: shortReason }
      : { type: 'connection_close', errorCode: code, frameType, reason: shortReason };
    this.closeInfo = { code, application, reason: shortReason, source: 'local' };
    if (!application) this.closeInfo.frameType = frameType;
    this.state = 'closing';
    this.closeDatagramsOwed = 1;
    // RFC 9000 §10.2: the closing state lasts three times the PTO, counted from the first transmit()
    // in it (startClosingPeriod): an application call can wake a connection that slept, and its
    // `now` is then stale; a period counted from it could end before the CONNECTION_CLOSE is sent.
    this.closeDeadline = Infinity;
    this.events.push({ type: 'closed', error: this.closeInfo });
    this.log('connectivity:connection_closed', { owner: 'local', code, application, reason: shortReason });
  }

  /** RFC 9000 §10.2: the closing period's three PTOs start at the first transmit() after closeWith(). */
  private startClosingPeriod(now: number): void {
    if (this.closeDeadline === Infinity) this.closeDeadline = now + 3 * this.loss.ptoPeriod(ApplicationData);
  }

  private enterDraining(info: CloseInfo, duration: number): void {
    if (this.state === 'draining' || this.state === 'closed') return;
    const wasClosing = this.state === 'closing';
    this.state = duration > 0 ? 'draining' : 'closed';
    this.closeDeadline = this.now + duration;
    if (!wasClosing) {
      this.closeInfo = info;
      this.events.push({ type: 'closed', error: info });
    }
    this.log('connectivity:connection_closed', { owner: info.source, code: info.code, reason: info.reason });
  }

  /**
   * RFC 9000 §10.2.1: a closing endpoint needs only enough to send its CONNECTION_CLOSE again
   * (`closeDatagram`) and to recognise its packets (its connection IDs, which the router routes by);
   * §10.2.2: a draining one sends nothing. Once the application has had every event and stream
   * byte it is owed, everything else goes: streams and their buffers, the TLS endpoint, every
   * space's keys, ACK tracker and CRYPTO buffers, loss detection and congestion state, path and
   * PMTU state. The public members keep answering: getters with the values they had (`released`,
   * closedTls), stream calls as for a stream that no longer exists.
   */
  private release(): void {
    if (this.released !== undefined || this.state === 'handshake' || this.state === 'established') return;
    // The closing state's datagram is not built yet: the keys are still needed (buildCloseDatagram).
    if (this.state === 'closing' && this.closeFrame !== undefined) return;
    if (this.events.length > 0) return;
    // A readable entry without a receiving part (resumeReading() of an unknown ID) owes nothing.
    for (const id of this.readable) if (this.streams.get(id)?.recv !== undefined) return;
    this.released = { recovery: Object.freeze(this.recovery), keyUpdates: this.keyUpdates };
    this.closeFrame = undefined;
    // Only the closing state sends it again (§10.2.2: a draining endpoint sends nothing).
    if (this.state !== 'closing') this.closeDatagram = undefined;
    this.tls = closedTls(this.tls);
    for (const space of this.spaces) space.discard();
    const shared = releasedParts();
    // The application space keeps a CRYPTO send buffer, an empty shared one: a look at what is left
    // to send there finds nothing rather than no buffer.
    this.spaces[ApplicationData]!.cryptoOut = shared.cryptoOut;
    this.keyPhase = undefined;
    this.earlyWrite = undefined;
    this.earlyRead = undefined;
    this.originalInitialRead = undefined;
    this.countedWriteKeys = undefined;
    this.zeroRttRecords.length = 0;
    this.undecryptable.length = 0;
    this.pendingControl.length = 0;
    this.pendingNewCids.length = 0;
    this.pendingRetireCids.length = 0;
    this.pathResponses.length = 0;
    this.pathChallenge = undefined;
    this.previousPath = undefined;
    this.oldPathCheck = undefined;
    this.pmtuAside = undefined;
    this.peerParams = undefined;
    this.decodedClientParameters = undefined;
    this.longHeaderFields = undefined;
    this.newTokenPending = undefined;
    this.gracefulClose = undefined;
    this.token = EMPTY;
    this.paused = NO_STREAM_IDS;
    this.wantWritable = NO_STREAM_IDS;
    this.knownStreams = NO_STREAM_IDS;
    this.bufferedTotal = 0;
    this.connectionBlocked = false;
    this.loss = shared.loss;
    this.pacer = shared.pacer;
    this.streams = shared.streams;
    this.pmtu = shared.pmtu;
  }

  /** Whether release() has let the connection's state go (for tests and memory checks). */
  get isReleased(): boolean {
    return this.released !== undefined;
  }

  /** How the connection ended, once it has. */
  get closeReason(): CloseInfo | undefined {
    return this.closeInfo;
  }

  // ==== Application API ===========================================================================

  /** The connection ID the endpoint first routes by (the server's chosen SCID, or the client's). */
  get sourceConnectionId(): Buffer {
    return this.scid;
  }

  get isHandshakeComplete(): boolean {
    return this.tls.handshakeComplete;
  }

  get alpn(): string | null {
    return this.tls.alpn;
  }

  /** RTT and window, for tests and tracing. */
  get recovery(): { smoothedRtt: number; congestionWindow: number; bytesInFlight: number; ptoPeriod: number } {
    if (this.released !== undefined) return this.released.recovery;
    return {
      smoothedRtt: this.loss.rtt.smoothedRtt,
      congestionWindow: this.loss.congestion.congestionWindow,
      bytesInFlight: this.loss.congestion.bytesInFlight,
      // RFC 9002 §6.2.1: smoothed_rtt + max(4·rttvar, kGranularity) + the peer's max_ack_delay, without backoff.
      ptoPeriod: this.loss.basePtoPeriod(ApplicationData),
    };
  }

  /**
   * Starts a key update (RFC 9001 §6.1): only once the handshake is confirmed and a packet with the
   * current keys was acknowledged. Returns whether it started.
   */
  updateKeys(): boolean {
    this.wake();
    if (!this.handshakeConfirmed || this.keyPhase === undefined || this.state !== 'established') return false;
    return this.keyPhase.initiate();
  }

  /** Key updates completed (RFC 9001 §6). */
  get keyUpdates(): number {
    if (this.released !== undefined) return this.released.keyUpdates;
    return this.keyPhase?.updates ?? 0;
  }

  /** Opens a stream; null when the peer's MAX_STREAMS does not allow one now ('streams-available' follows). */
  openStream(bidi = true): number | null {
    this.wake();
    // RFC 9000 §10.2: nothing new is sent once closing or draining; a released connection has no streams.
    if (this.released !== undefined || (this.state !== 'handshake' && this.state !== 'established')) return null;
    const direction = bidi ? 'bidi' : 'uni';
    const stream = this.streams.openStream(direction);
    if (stream === null) {
      this.streamsBlockedWanted[direction] = true;
      this.collectStreamControl();
      return null;
    }
    this.noteStream(stream.id);
    return stream.id;
  }

  /**
   * Queues `data` on stream `id` (kept by reference: do not modify it afterwards), with `fin` to
   * end the stream. Returns false once the stream, or all streams together, hold more than their
   * high-water mark of unacknowledged data; a 'writable' event follows when it drains.
   */
  write(id: number, data: Uint8Array, fin = false): boolean {
    this.wake();
    const send = this.streams.get(id)?.send;
    if (send === undefined) return false;
    const before = send.bufferedBytes;
    if (data.length > 0) send.write(data);
    if (fin) send.end();
    this.bufferedTotal += send.bufferedBytes - before;
    this.noteStream(id);
    if (this.bufferedTotal >= this.connectionHighWaterMark) this.connectionBlocked = true;
    const below = send.bufferedBytes < this.streamMark() && !this.connectionBlocked;
    if (!below) this.ownSet('wantWritable').add(id);
    return below;
  }

  /** Runs `change` and moves the connection's buffered total by what stream `id` gained or released. */
  private trackBuffered(id: number, change: () => void): void {
    const before = this.streams.get(id)?.send?.bufferedBytes ?? 0;
    change();
    this.bufferedTotal += (this.streams.get(id)?.send?.bufferedBytes ?? 0) - before;
  }

  /** Ends stream `id` (sends a fin). */
  end(id: number): void {
    this.write(id, new Uint8Array(0), true);
  }

  /** RESET_STREAM with an application error code (RFC 9000 §19.4). */
  resetStream(id: number, code: number): void {
    this.wake();
    this.trackBuffered(id, () => this.streams.get(id)?.send?.reset(code));
    this.collectStreamControl();
    this.noteWritableAll();
  }

  /** STOP_SENDING with an application error code (RFC 9000 §19.5); later data is discarded. */
  stopSending(id: number, code: number): void {
    this.wake();
    this.streams.get(id)?.recv?.stopSending(code);
    if (this.readable.has(id)) this.ownSet('readable').delete(id);
    this.collectStreamControl();
  }

  /** Stops delivering data of stream `id`: flow control then holds the peer back. */
  pauseReading(id: number): void {
    this.wake();
    if (this.released !== undefined) return;
    this.ownSet('paused').add(id);
  }

  resumeReading(id: number): void {
    this.wake();
    if (this.released !== undefined) return;
    if (this.paused.has(id)) this.ownSet('paused').delete(id);
    this.ownSet('readable').add(id);
  }

  /** Bytes on stream `id` written and not yet acknowledged. */
  bufferedAmount(id: number): number {
    return this.streams.get(id)?.send?.bufferedBytes ?? 0;
  }

  /** The next event for the application, or undefined. Stream data is read (and credited) here. */
  poll(): ConnectionEvent | undefined {
    // Quiet: no event and nothing readable (any input since would have ended it).
    if (this.quiet) return undefined;
    if (this.events.length === 0) this.readStreams();
    else if (this.events[0]!.type === 'closed' && this.readable.size > 0) this.readStreamsBeforeClosed();
    const event = this.events.shift();
    // The last thing owed after the close was delivered: the state can go (release()).
    if (event === undefined && this.state !== 'established' && this.state !== 'handshake') this.release();
    return event;
  }

  /**
   * Stream data that arrived before the close goes to the application before 'closed' (RFC 9000
   * §10.2: the close ends the connection, not what was received on it): when a peer sent data and
   * then CONNECTION_CLOSE, both were processed in one batch and 'closed' was queued first.
   */
  private readStreamsBeforeClosed(): void {
    const closed = this.events.shift()!;
    this.readStreams();
    this.events.push(closed);
  }

  private readStreams(): void {
    for (const id of this.readable) {
      if (this.paused.has(id)) continue;
      this.ownSet('readable').delete(id);
      const recv = this.streams.get(id)?.recv;
      if (recv === undefined) continue;
      for (;;) {
        const data = this.streams.read(id, this.now);
        const state = recv.state;
        if (data === null) {
          if (state === RecvState.ResetRead) this.events.push({ type: 'stream-reset', id, code: recv.resetErrorCode ?? 0 });
          else if (state === RecvState.DataRead && this.events.length === 0) this.events.push({ type: 'stream-data', id, data: new Uint8Array(0), fin: true });
          break;
        }
        this.events.push({ type: 'stream-data', id, data, fin: state === RecvState.DataRead });
        if (state === RecvState.DataRead) break;
      }
      if (this.events.length > 0) break;
    }
    this.collectStreamControl();
  }

  private acceptNewStreams(): void {
    for (let stream = this.streams.acceptStream(); stream !== undefined; stream = this.streams.acceptStream()) {
      this.noteStream(stream.id);
      this.events.push({ type: 'stream-opened', id: stream.id });
    }
  }

  /**
   * Unacknowledged bytes a stream may hold before write() returns false. A stream's unacknowledged
   * bytes include those in flight, so a mark below the congestion window caps the flight at the
   * mark: the sender is then limited by its own buffer, not by the network, its window stops
   * growing (RFC 9002 §7.8), and with 64 KB datagrams 256 KiB is four packets, one exchange per
   * round trip. So the default mark is at least twice the window (as TCP stacks size their send
   * buffers), within the connection's mark; a mark the application chose is kept as it is.
   */
  private streamMark(): number {
    if (this.highWaterMarkChosen) return this.highWaterMark;
    return Math.max(this.highWaterMark, Math.min(2 * this.loss.congestion.congestionWindow, this.connectionHighWaterMark));
  }

  private noteWritable(id: number): void {
    if (!this.wantWritable.has(id)) return;
    const send = this.streams.get(id)?.send;
    if (send === undefined) {
      this.ownSet('wantWritable').delete(id);
      return;
    }
    if (this.bufferedTotal >= this.connectionHighWaterMark) return;
    if (this.connectionBlocked) {
      // Streams held back only by the connection's mark may go on too.
      this.noteWritableAll();
      return;
    }
    if (send.bufferedBytes < this.streamMark()) {
      this.ownSet('wantWritable').delete(id);
      this.events.push({ type: 'writable', id });
    }
  }

  private noteWritableAll(): void {
    if (this.bufferedTotal >= this.connectionHighWaterMark) return;
    this.connectionBlocked = false;
    const mark = this.streamMark();
    for (const id of this.wantWritable) {
      const send = this.streams.get(id)?.send;
      if (send === undefined || send.bufferedBytes < mark) {
        this.ownSet('wantWritable').delete(id);
        if (send !== undefined) this.events.push({ type: 'writable', id });
      }
    }
  }

  private collectStreamControl(): void {
    this.streams.takeControlFrames(this.pendingControl);
  }

  /** Forgets streams the stream manager has dropped (both parts terminal, RFC 9000 §3.3). */
  private pruneKnownStreams(): void {
    for (const id of this.knownStreams) {
      if (this.streams.get(id) === undefined) this.ownSet('knownStreams').delete(id);
    }
    this.knownStreamsPruneAt = Math.max(256, 2 * this.knownStreams.size);
  }

  /** The connection's own set `name`, made when first written (the field starts as NO_STREAM_IDS). */
  private ownSet(name: 'readable' | 'paused' | 'wantWritable' | 'knownStreams'): Set<number> {
    let set = this[name];
    if (set === NO_STREAM_IDS) this[name] = set = new Set<number>();
    return set as Set<number>;
  }

  private noteStream(id: number): void {
    this.ownSet('knownStreams').add(id);
    if (this.knownStreams.size > this.knownStreamsPruneAt) this.pruneKnownStreams();
  }

  private log(name: string, data: Record<string, unknown>): void {
    this.qlog?.({ time: this.now, name, data });
  }
}

/**
 * What a released connection (Connection.release) holds in place of its loss detection, pacer,
 * streams and PMTU search: one of each, shared by every released connection and made at the first
 * release. Nothing sends or receives with them: receive() and transmit() of a closing, draining or
 * closed connection stop before any of them, and the stream calls find no stream in the empty
 * manager.
 */
let releasedShared: { loss: LossDetection<SentRecords>; pacer: Pacer; streams: StreamManager; pmtu: PmtuSearch; cryptoOut: SendStream } | undefined;

function releasedParts(): NonNullable<typeof releasedShared> {
  if (releasedShared !== undefined) return releasedShared;
  const congestion = createController('cubic', MIN_INITIAL_DATAGRAM);
  return (releasedShared = {
    loss: new LossDetection<SentRecords>({ isServer: true, congestion }),
    pacer: new Pacer(MIN_INITIAL_DATAGRAM, congestion.congestionWindow, 0),
    streams: new StreamManager({ role: 'server', local: DEFAULT_SETTINGS, maxLocalStreams: 0 }),
    pmtu: new PmtuSearch(BASE_PLPMTU),
    cryptoOut: new SendStream({ streamId: -1, initialCredit: 0 }),
  });
}

function ignoreBytes(): void {}
function noEvent(): undefined {
  return undefined;
}

/** A TLS endpoint's answers kept after it is let go: it takes no more bytes and has no more events. */
function closedTls(tls: TlsEndpoint): TlsEndpoint {
  return {
    receive: ignoreBytes,
    poll: noEvent,
    alpn: tls.alpn,
    peerTransportParameters: null,
    earlyDataAccepted: tls.earlyDataAccepted,
    handshakeComplete: tls.handshakeComplete,
    suite: tls.suite,
  };
}

/** RFC 9000 §9.1: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING are probing frames. */
function isProbing(frame: Frame): boolean {
  return frame.type === 'path_challenge' || frame.type === 'path_response' || frame.type === 'new_connection_id' || frame.type === 'padding';
}

/** The earlier of two optional deadlines. */
function earlier(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b !== undefined && b < a ? b : a;
}

/**
 * Whether a[start..end) equals b[start..end), both long enough: a connection ID of 1 to 20 bytes
 * compared four bytes at a time, cheaper than a native Buffer.compare call for so few bytes.
 */
function sameBytes(a: Buffer, b: Buffer, start: number, end: number): boolean {
  let i = start;
  for (; i + 4 <= end; i += 4) if (a.readUInt32LE(i) !== b.readUInt32LE(i)) return false;
  for (; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a datagram to `to` travels the path in use: the peer's address, from the current local socket (PeerAddress.via). */
function onCurrentPath(to: PeerAddress, remote: PeerAddress): boolean {
  return to.via === undefined && sameAddress(to, remote);
}

function sameAddress(a: PeerAddress, b: PeerAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

/** A header re-based to a packet copied out of its datagram (offsets from 0). */
function rebase(h: LongHeader | ShortHeader): LongHeader | ShortHeader {
  const shift = h.start;
  return { ...h, start: 0, end: h.end - shift, pnOffset: h.pnOffset - shift };
}

