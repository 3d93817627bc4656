/**
 * TLS 1.3 server handshake for QUIC (RFC 8446 §2, §4; RFC 9001 §4, §8), sans-I/O.
 *
 *   wait-client-hello ──ClientHello──> (no usable key share) send HelloRetryRequest ──> wait-second-client-hello
 *          │                                                                                  │
 *          └──ClientHello──> send ServerHello [initial], EncryptedExtensions, Certificate*,   <┘
 *                            CertificateVerify*, Finished [handshake]        ──> wait-finished
 *   wait-finished ──Finished──> connected          (* omitted when resuming with a PSK)
 *
 * Keys are announced in the order QUIC installs them (RFC 9001 §4.1.4): after ServerHello is
 * queued, 0-RTT read (if early data is accepted), handshake write + read, application write after our Finished, application
 * read after the client's Finished.
 */
import type { KeyObject } from 'node:crypto';
import { QUIC_PROTOCOL_VIOLATION } from './alerts.js';
import { cipherSuite, DEFAULT_CIPHER_SUITES, type CipherSuite } from './cipher-suites.js';
import { loadCredentials } from './credentials.js';
import {
  decodeAlpn,
  decodeKeyShareClient,
  decodeOfferedPsks,
  decodeServerName,
  decodeSupportedVersionsClient,
  decodeU16List,
  encodeAlpn,
  encodeKeyShareHrr,
  encodeKeyShareServer,
  encodeMaxEarlyData,
  encodeSelectedIdentity,
  encodeSupportedVersionsServer,
  ExtensionType,
  findExtension,
  offersPskMode,
  PskKeyExchangeMode,
  TLS13,
  type Extension,
  type KeyShareEntry,
} from './extensions.js';
import { encodeHandshake, type HandshakeMessage } from './framing.js';
import { alert, HandshakeEndpoint, type CryptoLevel, type RandomSource } from './handshake.js';
import { DEFAULT_GROUPS, generateKeyShare, isSupportedGroup } from './key-exchange.js';
import { digest } from './hkdf.js';
import { emptyHash, finishedVerifyData, KeySchedule, ticketPsk, verifyFinished } from './key-schedule.js';
import type { Keylog } from './keylog.js';
import {
  decodeClientHello,
  decodeFinished,
  encodeCertificate,
  encodeCertificateVerify,
  encodeEncryptedExtensions,
  encodeNewSessionTicket,
  encodeServerHello,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
  LEGACY_VERSION,
  type ClientHello,
} from './messages.js';
import { certificateVerifyInput, schemesForKey, signWithScheme } from './signature.js';
import {
  MAX_TICKET_LIFETIME_S,
  openTicket,
  sealTicket,
  SingleUseTicketStore,
  truncateClientHello,
  verifyBinder,
  type TicketState,
  type TicketStore,
} from './tickets.js';

export interface ServerOptions {
  /** PEM certificates, leaf first (one string may hold several). */
  certificateChain: string[];
  privateKey: KeyObject | string;
  /** Application protocols in the server's order of preference (RFC 7301 §3.2). */
  alpn: string[];
  /**
   * Our quic_transport_parameters, or a function of the client's (RFC 9001 §8.2). null only for
   * TLS outside QUIC (tests over TCP): the extension is then neither required nor sent, and the
   * QUIC-only rule on legacy_session_id (RFC 9001 §8.4) does not apply.
   */
  transportParameters: Buffer | ((clientTransportParameters: Buffer) => Buffer) | null;
  /** 32-byte key that seals session tickets; share it between servers that resume each other's sessions. */
  ticketKey?: Buffer;
  /** Single-use store for 0-RTT anti-replay (RFC 8446 §8.1); share it like the ticket key. */
  ticketStore?: TicketStore;
  /** Non-zero: tickets allow 0-RTT (sent as 0xffffffff, RFC 9001 §4.6.1) and 0-RTT is accepted. */
  maxEarlyData?: number;
  /**
   * What 0-RTT depends on besides the ticket: our transport parameters and application settings
   * (RFC 9001 §4.6.2, RFC 9000 §7.4.1, RFC 9114 §7.2.4.2). Sealed (hashed) into tickets; a ticket
   * issued under another context gets no 0-RTT.
   */
  earlyDataContext?: Buffer;
  /** Ticket lifetime in seconds (≤ 7 days, RFC 8446 §4.6.1). */
  ticketLifetime?: number;
  /** Allowed difference between the client's and our view of a ticket's age for 0-RTT (RFC 8446 §8.3). */
  ticketAgeToleranceMs?: number;
  suites?: number[];
  groups?: number[];
  now: () => number;
  random: RandomSource;
  keylog?: Keylog;
}

type ServerState = 'wait-client-hello' | 'wait-second-client-hello' | 'wait-finished' | 'connected';

interface ChosenPsk {
  readonly index: number;
  readonly state: TicketState;
}

/**
 * §4.4.2 Certificate body for a chain: empty certificate_request_context, no per-entry extensions.
 * It depends on the chain alone, and loadCredentials keeps one chain array per credential, so it is
 * encoded once per credential rather than per handshake.
 */
const certificateBodies = new WeakMap<readonly Buffer[], Buffer>();

/** §4.2.1: the supported_versions body of every ServerHello and HelloRetryRequest, encoded once (never written to). */
const SELECTED_TLS13 = encodeSupportedVersionsServer(TLS13);

/**
 * The EncryptedExtensions ALPN body naming the selected protocol (RFC 7301 §3.1), by protocol: one
 * of the server's own few. Bounded anyway; never written to.
 */
const selectedAlpnBodies = new Map<string, Buffer>();
const MAX_SELECTED_ALPN = 32;

function selectedAlpnBody(protocol: string): Buffer {
  let body = selectedAlpnBodies.get(protocol);
  if (body === undefined) {
    body = encodeAlpn([protocol]);
    if (selectedAlpnBodies.size < MAX_SELECTED_ALPN) selectedAlpnBodies.set(protocol, body);
  }
  return body;
}

function certificateBody(chain: readonly Buffer[]): Buffer {
  let body = certificateBodies.get(chain);
  if (body === undefined) {
    body = encodeCertificate({ requestContext: Buffer.alloc(0), entries: chain.map((data) => ({ data, extensions: [] })) });
    certificateBodies.set(chain, body);
  }
  return body;
}

export class TlsServer extends HandshakeEndpoint {
  /** server_name the client asked for, if any (RFC 6066 §3). */
  serverName: string | null = null;

  private state: ServerState = 'wait-client-hello';
  private readonly chainDer: readonly Buffer[];
  private readonly privateKey: KeyObject;
  private readonly suites: readonly number[];
  private readonly groups: readonly number[];
  private readonly ticketKey: Buffer;
  private readonly ticketStore: TicketStore;
  private schedule: KeySchedule | null = null;
  private hrrGroup: number | null = null;
  private clientHandshakeSecret: Buffer | null = null;
  private clientApplicationSecret: Buffer | null = null;
  private resumptionMasterSecret: Buffer | null = null;
  private ticketsSent = 0;
  /** Whether the client can use our tickets: it listed psk_dhe_ke (§4.2.9). */
  private clientResumes = false;
  private readonly quic: boolean;
  private readonly earlyDataContextHash: Buffer;

  constructor(private readonly options: ServerOptions) {
    super(options.keylog);
    ({ chain: this.chainDer, privateKey: this.privateKey } = loadCredentials(options.certificateChain, options.privateKey));
    if (options.alpn.length === 0) throw new TypeError('alpn must name at least one protocol (RFC 9001 §8.1)');
    // The defaults are all supported and shared (issue 5); only a caller's own lists are filtered.
    this.suites = options.suites === undefined ? DEFAULT_CIPHER_SUITES : options.suites.filter((s) => cipherSuite(s));
    this.groups = options.groups === undefined ? DEFAULT_GROUPS : options.groups.filter(isSupportedGroup);
    this.ticketKey = options.ticketKey ?? options.random(32);
    this.ticketStore = options.ticketStore ?? new SingleUseTicketStore();
    this.quic = options.transportParameters !== null;
    // Without a context (the QUIC connection sets none) this is Hash(""), computed once per process.
    this.earlyDataContextHash = options.earlyDataContext === undefined ? emptyHash('sha256') : digest('sha256', options.earlyDataContext);
  }

  protected handleMessage(_level: CryptoLevel, msg: HandshakeMessage): void {
    switch (this.state) {
      case 'wait-client-hello':
      case 'wait-second-client-hello':
        if (msg.type !== HandshakeType.client_hello) throw unexpected(msg.type, this.state);
        return this.onClientHello(msg);
      case 'wait-finished':
        // RFC 9001 §8.3: EndOfEarlyData is not used in QUIC; receiving one is a PROTOCOL_VIOLATION.
        if (msg.type === HandshakeType.end_of_early_data) {
          throw alert('unexpected_message', 'EndOfEarlyData is not used with QUIC', 'RFC 9001 §8.3', QUIC_PROTOCOL_VIOLATION);
        }
        if (msg.type !== HandshakeType.finished) throw unexpected(msg.type, this.state);
        return this.onFinished(msg);
      case 'connected':
        // RFC 9001 §6: a TLS KeyUpdate is an error (0x010a); no other message is expected from a client.
        throw unexpected(msg.type, this.state, msg.type === HandshakeType.key_update ? 'RFC 9001 §6' : undefined);
    }
  }

  // ---- ClientHello (RFC 8446 §4.1.2) ----

  private onClientHello(msg: HandshakeMessage): void {
    const second = this.state === 'wait-second-client-hello';
    const ch = decodeClientHello(msg.body);
    const ext = (type: number) => findExtension(ch.extensions, type);
    checkClientHello(ch, second, this.quic);

    const suite = this.chooseSuite(ch, second);
    const alpn = this.chooseAlpn(ext(ExtensionType.application_layer_protocol_negotiation));
    const clientTp = ext(ExtensionType.quic_transport_parameters);
    if (this.quic && !clientTp) throw alert('missing_extension', 'no quic_transport_parameters', 'RFC 9001 §8.2');

    // §9.2: supported_groups and key_share come together; we only do (EC)DHE (psk_dhe_ke).
    const groupsData = ext(ExtensionType.supported_groups);
    const sharesData = ext(ExtensionType.key_share);
    if (!groupsData || !sharesData) throw alert('missing_extension', 'supported_groups and key_share are required', 'RFC 8446 §9.2');
    const clientGroups = decodeU16List(groupsData, 'supported_groups');
    const shares = decodeKeyShareClient(sharesData);
    checkKeyShares(shares, clientGroups);

    if (!second) {
      this.clientRandom = Buffer.from(ch.random);
      const sni = ext(ExtensionType.server_name);
      this.serverName = sni ? decodeServerName(sni) : null;
      this.transcript.start(suite.hash);
    }

    const share = this.groups.map((g) => shares.find((s) => s.group === g)).find((s) => s !== undefined);
    if (!share) {
      if (second) throw alert('illegal_parameter', 'second ClientHello has no share for the requested group', 'RFC 8446 §4.2.8');
      const group = this.groups.find((g) => clientGroups.includes(g));
      if (group === undefined) throw alert('handshake_failure', 'no common key exchange group', 'RFC 8446 §4.1.1');
      return this.sendHelloRetryRequest(msg, ch, suite, group);
    }
    if (second && (shares.length !== 1 || share.group !== this.hrrGroup)) {
      throw alert('illegal_parameter', 'second ClientHello must hold one share, for the requested group', 'RFC 8446 §4.2.8');
    }

    const psk = this.choosePsk(ch, msg.raw, suite);
    const modes = ext(ExtensionType.psk_key_exchange_modes);
    this.clientResumes = modes !== undefined && offersPskMode(modes, PskKeyExchangeMode.psk_dhe_ke);
    if (!psk && !ext(ExtensionType.signature_algorithms)) {
      throw alert('missing_extension', 'signature_algorithms is required for certificate authentication', 'RFC 8446 §9.2');
    }
    // The transcript now takes the whole ClientHello (binders were checked over its truncation).
    this.transcript.add(msg.raw);
    const early = !second && ext(ExtensionType.early_data) !== undefined && psk !== null && this.acceptEarlyData(ch, psk, suite, alpn);

    this.suite = suite.id;
    this.alpn = alpn;
    this.peerTransportParameters = clientTp ? Buffer.from(clientTp) : null;
    this.schedule = new KeySchedule(suite.hash, psk?.state.psk);
    // §7.1: client_early_traffic_secret over Transcript-Hash(ClientHello).
    const earlySecret = early ? this.schedule.clientEarlyTrafficSecret(this.transcript.digest()) : null;

    const sharedSecret = this.sendServerHello(ch, share, psk);
    if (earlySecret) {
      this.earlyDataAccepted = true;
      this.log('CLIENT_EARLY_TRAFFIC_SECRET', earlySecret);
      this.emitKeys('early', 'read', earlySecret);
    }
    const hs = this.schedule.handshakeTrafficSecrets(sharedSecret, this.transcript.digest());
    this.clientHandshakeSecret = hs.client;
    this.log('SERVER_HANDSHAKE_TRAFFIC_SECRET', hs.server);
    this.log('CLIENT_HANDSHAKE_TRAFFIC_SECRET', hs.client);
    this.emitKeys('handshake', 'write', hs.server);
    this.emitKeys('handshake', 'read', hs.client);
    this.readLevel = 'handshake';

    this.sendEncryptedExtensions(alpn, early);
    if (!psk) this.sendCertificate(ext(ExtensionType.signature_algorithms)!);
    this.sendFinished(hs.server);
  }

  /**
   * §4.1.3 ServerHello with our key share (and the chosen PSK), at the initial level. Returns the
   * (EC)DHE secret, computed first so that an invalid client share fails before anything is sent.
   */
  private sendServerHello(ch: ClientHello, clientShare: KeyShareEntry, psk: ChosenPsk | null): Buffer {
    const ours = generateKeyShare(clientShare.group, this.options.random);
    const sharedSecret = ours.computeSecret(clientShare.keyExchange);
    const extensions: Extension[] = [
      { type: ExtensionType.supported_versions, data: SELECTED_TLS13 },
      { type: ExtensionType.key_share, data: encodeKeyShareServer({ group: clientShare.group, keyExchange: ours.publicKey }) },
    ];
    if (psk) extensions.push({ type: ExtensionType.pre_shared_key, data: encodeSelectedIdentity(psk.index) });
    this.sendMessage('initial', HandshakeType.server_hello, encodeServerHello({
      legacyVersion: LEGACY_VERSION,
      random: this.options.random(32),
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: this.suite!,
      legacyCompressionMethod: 0,
      extensions,
    }));
    return sharedSecret;
  }

  /** §4.3.1: ALPN and transport parameters (RFC 9001 §8.1, §8.2), early_data when 0-RTT is accepted. */
  private sendEncryptedExtensions(alpn: string, early: boolean): void {
    const extensions: Extension[] = [{ type: ExtensionType.application_layer_protocol_negotiation, data: selectedAlpnBody(alpn) }];
    if (this.quic) {
      const tp = this.options.transportParameters!;
      // The function gets our own copy of the client's parameters, the one kept as peerTransportParameters.
      extensions.push({ type: ExtensionType.quic_transport_parameters, data: typeof tp === 'function' ? tp(this.peerTransportParameters!) : tp });
    }
    if (this.serverName !== null) extensions.push({ type: ExtensionType.server_name, data: Buffer.alloc(0) }); // RFC 6066 §3
    if (early) extensions.push({ type: ExtensionType.early_data, data: Buffer.alloc(0) });
    this.sendMessage('handshake', HandshakeType.encrypted_extensions, encodeEncryptedExtensions({ extensions }));
  }

  /** §4.4.4 Finished, then the application secrets; 1-RTT write keys may be used right away (0.5-RTT). */
  private sendFinished(serverHandshakeSecret: Buffer): void {
    const hash = this.suiteInfo().hash;
    this.sendMessage('handshake', HandshakeType.finished, finishedVerifyData(hash, serverHandshakeSecret, this.transcript.digest()));
    const app = this.schedule!.applicationTrafficSecrets(this.transcript.digest());
    this.clientApplicationSecret = app.client;
    this.log('SERVER_TRAFFIC_SECRET_0', app.server);
    this.log('CLIENT_TRAFFIC_SECRET_0', app.client);
    if (this.keylogging) this.log('EXPORTER_SECRET', app.exporter);
    this.emitKeys('application', 'write', app.server);
    this.state = 'wait-finished';
  }

  /** §4.1.1: our preference among the client's suites; after HRR the same suite again (§4.1.4). */
  private chooseSuite(ch: ClientHello, second: boolean): CipherSuite {
    if (second) {
      if (!ch.cipherSuites.includes(this.suite!)) throw alert('illegal_parameter', 'second ClientHello drops the selected cipher suite', 'RFC 8446 §4.1.2');
      return this.suiteInfo();
    }
    // A resumption that may carry 0-RTT needs the ticket's own suite (§4.2.10): prefer it when offered.
    const ticketSuite = this.firstTicketSuite(ch);
    const id = ticketSuite ?? this.suites.find((s) => ch.cipherSuites.includes(s));
    if (id === undefined) throw alert('handshake_failure', 'no common cipher suite', 'RFC 8446 §4.1.1');
    this.suite = id;
    return cipherSuite(id)!;
  }

  /** The suite of the first offered ticket, if we issued it and both sides still allow that suite. */
  private firstTicketSuite(ch: ClientHello): number | undefined {
    const data = findExtension(ch.extensions, ExtensionType.pre_shared_key);
    if (!data) return undefined;
    const first = decodeOfferedPsks(data).identities[0];
    const state = first && openTicket(this.ticketKey, first.identity);
    return state && ch.cipherSuites.includes(state.suite) && this.suites.includes(state.suite) ? state.suite : undefined;
  }

  /** RFC 9001 §8.1, RFC 7301 §3.2: ALPN is mandatory; no overlap → no_application_protocol. */
  private chooseAlpn(data: Buffer | undefined): string {
    if (!data) throw alert('no_application_protocol', 'client sent no ALPN', 'RFC 9001 §8.1');
    const offered = decodeAlpn(data);
    const chosen = this.options.alpn.find((p) => offered.includes(p));
    if (chosen === undefined) throw alert('no_application_protocol', `no common application protocol in [${offered.join(', ')}]`, 'RFC 7301 §3.2');
    return chosen;
  }

  /** §4.1.4: ask for a share of `group`; ClientHello1 becomes message_hash in the transcript (§4.4.1). */
  private sendHelloRetryRequest(msg: HandshakeMessage, ch: ClientHello, suite: CipherSuite, group: number): void {
    this.transcript.add(msg.raw);
    this.transcript.replaceWithMessageHash();
    this.hrrGroup = group;
    const hrr = encodeServerHello({
      legacyVersion: LEGACY_VERSION,
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: suite.id,
      legacyCompressionMethod: 0,
      extensions: [
        { type: ExtensionType.supported_versions, data: SELECTED_TLS13 },
        { type: ExtensionType.key_share, data: encodeKeyShareHrr(group) },
      ],
    });
    this.sendMessage('initial', HandshakeType.server_hello, hrr);
    this.state = 'wait-second-client-hello';
  }

  /**
   * §4.2.11: the first offered ticket we issued, for a suite with the same hash, not expired,
   * with a valid binder (a wrong binder is fatal: decrypt_error). Null → full handshake.
   */
  private choosePsk(ch: ClientHello, rawClientHello: Buffer, suite: CipherSuite): ChosenPsk | null {
    const data = findExtension(ch.extensions, ExtensionType.pre_shared_key);
    if (!data) return null;
    const modesData = findExtension(ch.extensions, ExtensionType.psk_key_exchange_modes);
    if (!modesData) throw alert('missing_extension', 'pre_shared_key without psk_key_exchange_modes', 'RFC 8446 §4.2.9');
    const offered = decodeOfferedPsks(data);
    if (!offersPskMode(modesData, PskKeyExchangeMode.psk_dhe_ke)) return null;
    const now = this.options.now();
    for (let index = 0; index < offered.identities.length; index++) {
      const state = openTicket(this.ticketKey, offered.identities[index]!.identity);
      if (!state) continue;
      const ticketSuite = cipherSuite(state.suite);
      if (!ticketSuite || ticketSuite.hash !== suite.hash || state.psk.length !== offered.binders[index]!.length) continue;
      if (now < state.issuedAt || now - state.issuedAt > state.lifetime * 1000) continue;
      const truncated = truncateClientHello(rawClientHello, offered.binders.map((b) => b.length));
      if (!verifyBinder(suite.hash, state.psk, this.transcript.digestWith(truncated), offered.binders[index]!)) {
        throw alert('decrypt_error', 'PSK binder does not verify', 'RFC 8446 §4.2.11');
      }
      return { index, state };
    }
    return null;
  }

  /** §4.2.10, §8: 0-RTT only for the first PSK, same suite and ALPN, a fresh age, and once per ticket. */
  private acceptEarlyData(ch: ClientHello, psk: ChosenPsk, suite: CipherSuite, alpn: string): boolean {
    if ((this.options.maxEarlyData ?? 0) === 0 || psk.index !== 0 || psk.state.maxEarlyData === 0) return false;
    if (psk.state.suite !== suite.id || psk.state.alpn !== alpn) return false;
    if (!psk.state.contextHash.equals(this.earlyDataContextHash)) return false; // RFC 9001 §4.6.2
    const now = this.options.now();
    const identity = decodeOfferedPsks(findExtension(ch.extensions, ExtensionType.pre_shared_key)!).identities[0]!;
    const clientAge = (identity.obfuscatedTicketAge - psk.state.ageAdd) >>> 0;
    const serverAge = now - psk.state.issuedAt;
    // §8.3: a ClientHello whose ticket age is far from ours is likely a replay; refuse its 0-RTT.
    if (Math.abs(serverAge - clientAge) > (this.options.ticketAgeToleranceMs ?? 10_000)) return false;
    // §8.1: single-use tickets; a replay keeps the handshake but loses 0-RTT.
    return this.ticketStore.useOnce(psk.state.id, psk.state.issuedAt + psk.state.lifetime * 1000, now);
  }

  /** §4.4.2 Certificate and §4.4.3 CertificateVerify with a scheme the client offered. */
  private sendCertificate(signatureAlgorithms: Buffer): void {
    const offered = decodeU16List(signatureAlgorithms, 'signature_algorithms');
    const scheme = schemesForKey(this.privateKey).find((s) => offered.includes(s));
    if (scheme === undefined) throw alert('handshake_failure', 'client accepts no signature scheme our key can make', 'RFC 8446 §4.4.3');
    this.sendMessage('handshake', HandshakeType.certificate, certificateBody(this.chainDer));
    const signature = signWithScheme(scheme, this.privateKey, certificateVerifyInput(this.transcript.digest(), true));
    this.sendMessage('handshake', HandshakeType.certificate_verify, encodeCertificateVerify({ scheme, signature }));
  }

  // ---- client Finished (§4.4.4) ----

  private onFinished(msg: HandshakeMessage): void {
    const suite = this.suiteInfo();
    const verifyData = decodeFinished(msg.body, suite.hash === 'sha256' ? 32 : 48);
    if (!verifyFinished(suite.hash, this.clientHandshakeSecret!, this.transcript.digest(), verifyData)) {
      throw alert('decrypt_error', 'client Finished does not verify', 'RFC 8446 §4.4.4');
    }
    this.transcript.add(msg.raw);
    this.resumptionMasterSecret = this.schedule!.resumptionMasterSecret(this.transcript.digest());
    this.emitKeys('application', 'read', this.clientApplicationSecret!);
    this.readLevel = 'application';
    this.state = 'connected';
    this.handshakeComplete = true;
    this.emit({ type: 'complete' });
  }

  // ---- NewSessionTicket (§4.6.1), sent at the application level (RFC 9001 §4.1.3) ----

  sendSessionTicket(now: number): void {
    // §4.2.9: no ticket for a client that did not list a PSK mode we use.
    if (!this.handshakeComplete || this.failed || !this.clientResumes) return;
    this.guard(() => {
      const suite = this.suiteInfo();
      const nonce = Buffer.alloc(8);
      nonce.writeUInt32BE(this.ticketsSent++, 4);
      const lifetime = Math.min(this.options.ticketLifetime ?? 86_400, MAX_TICKET_LIFETIME_S);
      const allowEarly = (this.options.maxEarlyData ?? 0) > 0;
      const state: TicketState = {
        suite: suite.id,
        psk: ticketPsk(suite.hash, this.resumptionMasterSecret!, nonce),
        issuedAt: now,
        lifetime,
        ageAdd: this.options.random(4).readUInt32BE(0),
        maxEarlyData: allowEarly ? 0xffffffff : 0,
        alpn: this.alpn,
        id: this.options.random(16),
        contextHash: this.earlyDataContextHash,
      };
      const extensions: Extension[] = allowEarly ? [{ type: ExtensionType.early_data, data: encodeMaxEarlyData(0xffffffff) }] : [];
      const body = encodeNewSessionTicket({
        lifetime,
        ageAdd: state.ageAdd,
        nonce,
        ticket: sealTicket(this.ticketKey, state, this.options.random),
        extensions,
      });
      // Post-handshake messages do not enter the transcript.
      this.queueData('application', encodeHandshake(HandshakeType.new_session_ticket, body));
    });
  }
}

/** The ClientHello rules that need no negotiation state. */
function checkClientHello(ch: ClientHello, second: boolean, quic: boolean): void {
  const versions = findExtension(ch.extensions, ExtensionType.supported_versions);
  // §4.2.1: only TLS 1.3, negotiated through supported_versions (legacy_version is ignored).
  if (!versions || !decodeSupportedVersionsClient(versions).includes(TLS13)) {
    throw alert('protocol_version', 'client does not offer TLS 1.3', 'RFC 8446 §4.2.1');
  }
  // §4.1.2: legacy_compression_methods must be exactly [null].
  if (ch.legacyCompressionMethods.length !== 1 || ch.legacyCompressionMethods[0] !== 0) {
    throw alert('illegal_parameter', 'legacy_compression_methods must be the single value 0', 'RFC 8446 §4.1.2');
  }
  // RFC 9001 §8.4: no middlebox compatibility mode in QUIC.
  if (quic && ch.legacySessionId.length > 0) {
    throw alert('illegal_parameter', 'non-empty legacy_session_id', 'RFC 9001 §8.4', QUIC_PROTOCOL_VIOLATION);
  }
  // §4.2.11: pre_shared_key must be the last extension.
  const pskIndex = ch.extensions.findIndex((e) => e.type === ExtensionType.pre_shared_key);
  if (pskIndex !== -1 && pskIndex !== ch.extensions.length - 1) {
    throw alert('illegal_parameter', 'pre_shared_key is not the last extension', 'RFC 8446 §4.2.11');
  }
  // §4.2.10: no early data after a HelloRetryRequest.
  if (second && findExtension(ch.extensions, ExtensionType.early_data)) {
    throw alert('illegal_parameter', 'early_data in the ClientHello after HelloRetryRequest', 'RFC 8446 §4.2.10');
  }
}

/** §4.2.8: each share's group must be in supported_groups, at most one share per group. */
function checkKeyShares(shares: readonly KeyShareEntry[], clientGroups: readonly number[]): void {
  const seen = new Set<number>();
  for (const s of shares) {
    if (seen.has(s.group)) throw alert('illegal_parameter', 'two key shares for one group', 'RFC 8446 §4.2.8');
    if (!clientGroups.includes(s.group)) throw alert('illegal_parameter', 'key share for a group not in supported_groups', 'RFC 8446 §4.2.8');
    seen.add(s.group);
  }
}

function unexpected(type: number, state: string, section = 'RFC 8446 §4'): Error {
  return alert('unexpected_message', `handshake message type ${type} in state ${state}`, section);
}

export function createServer(options: ServerOptions): TlsServer {
  return new TlsServer(options);
}
