/**
 * TLS 1.3 client handshake for QUIC (RFC 8446 §2, §4; RFC 9001 §4, §8), sans-I/O.
 *
 *   start ──send ClientHello──> wait-server-hello ──HelloRetryRequest──> send ClientHello2 ──┐
 *                                     │  <──────────────────────────────────────────────────┘
 *                                     └──ServerHello──> wait-encrypted-extensions
 *   ──EncryptedExtensions──> wait-certificate (or wait-finished when resuming with a PSK)
 *   ──[CertificateRequest] Certificate──> wait-certificate-verify ──CertificateVerify──> wait-finished
 *   ──Finished──> send Finished ──> connected (NewSessionTicket may follow at the application level)
 *
 * Keys in QUIC's order (RFC 9001 §4.1.4): 0-RTT write after the ClientHello when offering early
 * data, handshake read + write after ServerHello, application write + read after our Finished.
 */
import { isIP } from 'node:net';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { QUIC_PROTOCOL_VIOLATION } from './alerts.js';
import { parseCaList, verifyServerChain } from './certificate-verify.js';
import { cipherSuite, DEFAULT_CIPHER_SUITES, type CipherSuite } from './cipher-suites.js';
import {
  decodeAlpn,
  decodeCookie,
  decodeEmpty,
  decodeKeyShareHrr,
  decodeKeyShareServer,
  decodeMaxEarlyData,
  decodeSelectedIdentity,
  decodeSupportedVersionsServer,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareClient,
  encodeOfferedPsks,
  encodePskModes,
  encodeServerName,
  encodeSupportedVersionsClient,
  encodeU16List,
  ExtensionType,
  findExtension,
  PskKeyExchangeMode,
  TLS13,
  type Extension,
} from './extensions.js';
import { encodeHandshake, type HandshakeMessage } from './framing.js';
import { alert, HandshakeEndpoint, type CryptoLevel, type RandomSource } from './handshake.js';
import { digest, hashLength } from './hkdf.js';
import { DEFAULT_GROUPS, generateKeyShare, isSupportedGroup, type KeyShare } from './key-exchange.js';
import { finishedVerifyData, KeySchedule, ticketPsk, verifyFinished } from './key-schedule.js';
import type { Keylog } from './keylog.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeEncryptedExtensions,
  decodeFinished,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeClientHello,
  HandshakeType,
  isHelloRetryRequest,
  LEGACY_VERSION,
  type ServerHello,
} from './messages.js';
import { certificateVerifyInput, DEFAULT_SIGNATURE_SCHEMES, isSupportedScheme, verifyWithScheme } from './signature.js';
import {
  computeBinder,
  MAX_TICKET_LIFETIME_S,
  obfuscatedTicketAge,
  ticketExpired,
  truncateClientHello,
  type SessionTicket,
} from './tickets.js';

export interface ClientOptions {
  /** Host name (sent as SNI and checked against the certificate) or IP literal (checked only). */
  serverName: string;
  /** Application protocols to offer, most preferred first (RFC 7301). */
  alpn: string[];
  /** Our quic_transport_parameters (RFC 9001 §8.2). null only for TLS outside QUIC (tests, TCP). */
  transportParameters: Buffer | null;
  /** PEM trust anchors; none → Node's bundled roots (tls.rootCertificates). */
  ca?: string[];
  /** Skips only the chain and name checks; dates, CertificateVerify and Finished are still verified. */
  insecure?: boolean;
  /** A ticket from an earlier connection, to resume with (RFC 8446 §2.2). */
  session?: SessionTicket;
  /** false: list no PSK mode, so that servers send no tickets (RFC 8446 §4.2.9). Default true. */
  resumption?: boolean;
  /** Send 0-RTT with the session's ticket when it allows early data (RFC 8446 §2.3). */
  earlyData?: boolean;
  suites?: number[];
  /** Supported groups in preference order; the first gets a key share in the first ClientHello. */
  groups?: number[];
  signatureSchemes?: number[];
  now: () => number;
  random: RandomSource;
  keylog?: Keylog;
}

type ClientState =
  | 'start'
  | 'wait-server-hello'
  | 'wait-encrypted-extensions'
  | 'wait-certificate'
  | 'wait-certificate-verify'
  | 'wait-finished'
  | 'connected';

/** Which extensions may appear in which server message (RFC 8446 §4.2 table). */
const ALLOWED_IN_SERVER_HELLO = new Set<number>([ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.pre_shared_key]);
const ALLOWED_IN_HRR = new Set<number>([ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.cookie]);
const ALLOWED_IN_EE = new Set<number>([
  ExtensionType.server_name,
  ExtensionType.supported_groups,
  ExtensionType.application_layer_protocol_negotiation,
  ExtensionType.early_data,
  ExtensionType.quic_transport_parameters,
]);

/** ClientHello extension bodies that are the same for every connection, encoded once (never written to). */
const OFFERED_VERSIONS = encodeSupportedVersionsClient([TLS13]);
const OFFERED_PSK_MODES = encodePskModes([PskKeyExchangeMode.psk_dhe_ke]);
const DEFAULT_GROUP_LIST = encodeU16List(DEFAULT_GROUPS);
const DEFAULT_SCHEME_LIST = encodeU16List(DEFAULT_SIGNATURE_SCHEMES);

/**
 * server_name bodies by host name (RFC 6066 §3), null for an address literal, which is not sent:
 * a client connects to the same few names again and again. Bounded; never written to.
 */
const serverNameBodies = new Map<string, Buffer | null>();
const MAX_SERVER_NAMES = 64;

function serverNameBody(name: string): Buffer | null {
  let body = serverNameBodies.get(name);
  if (body === undefined) {
    body = isIP(name) ? null : encodeServerName(name);
    if (serverNameBodies.size >= MAX_SERVER_NAMES) serverNameBodies.delete(serverNameBodies.keys().next().value!);
    serverNameBodies.set(name, body);
  }
  return body;
}

/**
 * The ALPN body (RFC 7301 §3.1) last encoded for a protocol list, by list object: connections made
 * with the same options share it. The names are compared each time, so a list changed in place is
 * encoded again. Never written to.
 */
const alpnBodies = new WeakMap<readonly string[], { readonly names: readonly string[]; readonly body: Buffer }>();

function alpnBody(protocols: readonly string[]): Buffer {
  const last = alpnBodies.get(protocols);
  if (last !== undefined && last.names.length === protocols.length && last.names.every((p, i) => p === protocols[i])) return last.body;
  const body = encodeAlpn(protocols);
  alpnBodies.set(protocols, { names: [...protocols], body });
  return body;
}

export class TlsClient extends HandshakeEndpoint {
  /** The server certificate's public key, once the chain is accepted. */
  peerPublicKey: KeyObject | null = null;

  private state: ClientState = 'start';
  private readonly suites: readonly number[];
  private readonly groups: readonly number[];
  private readonly schemes: readonly number[];
  private readonly ca: X509Certificate[] | undefined;
  private keyShares: KeyShare[] = [];
  private offered = new Set<number>();
  private sawHelloRetryRequest = false;
  private cookie: Buffer | null = null;
  /** The session offered in the current ClientHello, if any. */
  private offeredSession: SessionTicket | null = null;
  private offeredEarlyData = false;
  private pskAccepted = false;
  private certificateRequestContext: Buffer | null = null;
  private schedule: KeySchedule | null = null;
  private handshakeSecrets: { client: Buffer; server: Buffer } | null = null;
  private resumptionMasterSecret: Buffer | null = null;

  constructor(private readonly options: ClientOptions) {
    super(options.keylog);
    // The defaults are all supported and shared by every client that sets none (issue 5: a filter()
    // per connection was an array it kept for its life); only a caller's own lists are filtered.
    this.suites = options.suites === undefined ? DEFAULT_CIPHER_SUITES : options.suites.filter((s) => cipherSuite(s));
    this.groups = options.groups === undefined ? DEFAULT_GROUPS : options.groups.filter(isSupportedGroup);
    this.schemes = options.signatureSchemes === undefined ? DEFAULT_SIGNATURE_SCHEMES : options.signatureSchemes.filter(isSupportedScheme);
    if (!this.suites.length || !this.groups.length || !this.schemes.length) throw new TypeError('no supported suite, group or signature scheme configured');
    // RFC 9001 §8.1: ALPN is mandatory; names are 1..255 bytes (RFC 7301 §3.1).
    if (!options.alpn.length || options.alpn.some((p) => p.length === 0 || Buffer.byteLength(p, 'latin1') > 255)) throw new TypeError('alpn needs 1..255-byte protocol names');
    this.ca = options.ca ? parseCaList(options.ca) : undefined;
  }

  /** Queues the ClientHello at the initial level (and 0-RTT write keys when sending early data). */
  start(): void {
    if (this.state !== 'start' || this.failed) return;
    this.guard(() => {
      this.clientRandom = this.options.random(32);
      this.keyShares = [generateKeyShare(this.groups[0]!, this.options.random)];
      this.sendClientHello();
    });
  }

  protected handleMessage(_level: CryptoLevel, msg: HandshakeMessage): void {
    const t = msg.type;
    switch (this.state) {
      case 'start':
        throw unexpected(t, this.state);
      case 'wait-server-hello':
        if (t !== HandshakeType.server_hello) throw unexpected(t, this.state);
        return this.onServerHello(msg);
      case 'wait-encrypted-extensions':
        if (t !== HandshakeType.encrypted_extensions) throw unexpected(t, this.state);
        return this.onEncryptedExtensions(msg);
      case 'wait-certificate':
        if (t === HandshakeType.certificate_request && this.certificateRequestContext === null) return this.onCertificateRequest(msg);
        if (t !== HandshakeType.certificate) throw unexpected(t, this.state);
        return this.onCertificate(msg);
      case 'wait-certificate-verify':
        if (t !== HandshakeType.certificate_verify) throw unexpected(t, this.state);
        return this.onCertificateVerify(msg);
      case 'wait-finished':
        if (t !== HandshakeType.finished) throw unexpected(t, this.state);
        return this.onFinished(msg);
      case 'connected':
        if (t === HandshakeType.new_session_ticket) return this.onNewSessionTicket(msg);
        // RFC 9001 §6: KeyUpdate is forbidden in QUIC (error 0x010a); nothing else is expected.
        throw unexpected(t, this.state, t === HandshakeType.key_update ? 'RFC 9001 §6' : 'RFC 8446 §4.6');
    }
  }

  // ---- ClientHello (§4.1.2), also after HelloRetryRequest ----

  private sendClientHello(): void {
    const o = this.options;
    const extensions: Extension[] = [];
    // RFC 6066 §3: literal IP addresses are not sent as server_name.
    const serverName = serverNameBody(o.serverName);
    if (serverName !== null) extensions.push({ type: ExtensionType.server_name, data: serverName });
    extensions.push(
      { type: ExtensionType.supported_versions, data: OFFERED_VERSIONS },
      { type: ExtensionType.supported_groups, data: o.groups === undefined ? DEFAULT_GROUP_LIST : encodeU16List(this.groups) },
      { type: ExtensionType.signature_algorithms, data: o.signatureSchemes === undefined ? DEFAULT_SCHEME_LIST : encodeU16List(this.schemes) },
      { type: ExtensionType.application_layer_protocol_negotiation, data: alpnBody(o.alpn) },
      { type: ExtensionType.key_share, data: encodeKeyShareClient(this.keyShares.map((k) => ({ group: k.group, keyExchange: k.publicKey }))) },
    );
    if (o.transportParameters) extensions.push({ type: ExtensionType.quic_transport_parameters, data: o.transportParameters });
    if (this.cookie) extensions.push({ type: ExtensionType.cookie, data: encodeCookie(this.cookie) });
    // Listed even without a session, so that the server may send tickets (§4.2.9).
    const resumption = o.resumption !== false;
    if (resumption) extensions.push({ type: ExtensionType.psk_key_exchange_modes, data: OFFERED_PSK_MODES });

    const now = o.now();
    const session = resumption ? this.usableSession(now) : null;
    this.offeredSession = session;
    let binderLength = 0;
    if (session) {
      binderLength = hashLength(cipherSuite(session.suite)!.hash);
      // §4.2.10: early data only in the first ClientHello, for a ticket that allows it and our ALPN.
      this.offeredEarlyData =
        !this.sawHelloRetryRequest && o.earlyData === true && session.maxEarlyData > 0 && session.alpn !== null && o.alpn.includes(session.alpn);
      if (this.offeredEarlyData) extensions.push({ type: ExtensionType.early_data, data: Buffer.alloc(0) });
      // §4.2.11: pre_shared_key last, binders filled in below once the truncated hello is hashed.
      extensions.push({
        type: ExtensionType.pre_shared_key,
        data: encodeOfferedPsks({
          identities: [{ identity: session.ticket, obfuscatedTicketAge: obfuscatedTicketAge(session, now) }],
          binders: [Buffer.alloc(binderLength)],
        }),
      });
    } else {
      this.offeredEarlyData = false;
    }
    this.offered = new Set(extensions.map((e) => e.type));

    const raw = encodeHandshake(
      HandshakeType.client_hello,
      encodeClientHello({
        legacyVersion: LEGACY_VERSION,
        random: this.clientRandom,
        legacySessionId: Buffer.alloc(0), // RFC 9001 §8.4: no middlebox compatibility mode
        cipherSuites: this.suites,
        legacyCompressionMethods: Buffer.of(0),
        extensions,
      }),
    );
    if (session) {
      // §4.2.11.2: binder over Transcript-Hash(previous messages, Truncate(ClientHello)).
      const hash = cipherSuite(session.suite)!.hash;
      const truncated = truncateClientHello(raw, [binderLength]);
      const partial = this.sawHelloRetryRequest ? this.transcript.digestWith(truncated) : digest(hash, truncated);
      raw.set(computeBinder(hash, session.psk, partial), raw.length - binderLength);
    }
    this.transcript.add(raw);
    this.queueData('initial', raw);

    if (this.offeredEarlyData && session) {
      const suite = cipherSuite(session.suite)!;
      const secret = new KeySchedule(suite.hash, session.psk).clientEarlyTrafficSecret(digest(suite.hash, raw));
      this.log('CLIENT_EARLY_TRAFFIC_SECRET', secret);
      this.suite = session.suite; // 0-RTT uses the ticket's suite (§4.2.10)
      this.emitKeys('early', 'write', secret);
    }
    this.state = 'wait-server-hello';
  }

  /** The session to offer: not expired, a suite we offer, and (after HRR) the same hash as the chosen suite. */
  private usableSession(now: number): SessionTicket | null {
    const s = this.options.session;
    if (!s || ticketExpired(s, now) || !this.suites.includes(s.suite)) return null;
    if (this.sawHelloRetryRequest && cipherSuite(s.suite)!.hash !== this.suiteInfo().hash) return null; // §4.1.4
    return s;
  }

  // ---- ServerHello / HelloRetryRequest (§4.1.3, §4.1.4) ----

  private onServerHello(msg: HandshakeMessage): void {
    const sh = decodeServerHello(msg.body);
    const hrr = isHelloRetryRequest(sh);
    const ext = (type: number) => findExtension(sh.extensions, type);

    const version = ext(ExtensionType.supported_versions);
    if (!version) throw alert('protocol_version', 'server did not select TLS 1.3', 'RFC 8446 §4.2.1');
    if (decodeSupportedVersionsServer(version) !== TLS13) throw alert('illegal_parameter', 'server selected a version we did not offer', 'RFC 8446 §4.2.1');
    if (sh.legacyVersion !== LEGACY_VERSION) throw alert('protocol_version', 'legacy_version must be 0x0303', 'RFC 8446 §4.1.3');
    if (sh.legacySessionIdEcho.length !== 0) throw alert('illegal_parameter', 'legacy_session_id_echo differs from ours', 'RFC 8446 §4.1.3');
    if (sh.legacyCompressionMethod !== 0) throw alert('illegal_parameter', 'legacy_compression_method must be 0', 'RFC 8446 §4.1.3');
    if (!this.suites.includes(sh.cipherSuite)) throw alert('illegal_parameter', 'server chose a cipher suite we did not offer', 'RFC 8446 §4.1.3');
    this.checkServerExtensions(sh, hrr ? ALLOWED_IN_HRR : ALLOWED_IN_SERVER_HELLO);

    if (hrr) return this.onHelloRetryRequest(msg, sh);

    // §4.1.4: the ServerHello after HRR must keep the suite.
    if (this.sawHelloRetryRequest && sh.cipherSuite !== this.suite) throw alert('illegal_parameter', 'cipher suite changed after HelloRetryRequest', 'RFC 8446 §4.1.4');
    const shareData = ext(ExtensionType.key_share);
    if (!shareData) throw alert('missing_extension', 'ServerHello without key_share (psk_ke is not offered)', 'RFC 8446 §4.2.8');
    const serverShare = decodeKeyShareServer(shareData);
    const ours = this.keyShares.find((k) => k.group === serverShare.group);
    if (!ours) throw alert('illegal_parameter', 'server key share for a group we did not send', 'RFC 8446 §4.2.8');

    this.suite = sh.cipherSuite;
    const suite = this.suiteInfo();
    let psk: Buffer | undefined;
    const selected = ext(ExtensionType.pre_shared_key);
    if (selected) {
      const session = this.offeredSession!; // offered, or checkServerExtensions would have refused it
      if (decodeSelectedIdentity(selected) !== 0) throw alert('illegal_parameter', 'selected_identity out of range', 'RFC 8446 §4.2.11');
      if (cipherSuite(session.suite)!.hash !== suite.hash) throw alert('illegal_parameter', 'PSK hash does not match the chosen suite', 'RFC 8446 §4.2.11');
      psk = session.psk;
      this.pskAccepted = true;
    }

    this.transcript.start(suite.hash);
    this.transcript.add(msg.raw);
    this.schedule = new KeySchedule(suite.hash, psk);
    const hs = this.schedule.handshakeTrafficSecrets(ours.computeSecret(serverShare.keyExchange), this.transcript.digest());
    this.handshakeSecrets = hs;
    this.log('CLIENT_HANDSHAKE_TRAFFIC_SECRET', hs.client);
    this.log('SERVER_HANDSHAKE_TRAFFIC_SECRET', hs.server);
    this.emitKeys('handshake', 'read', hs.server);
    this.emitKeys('handshake', 'write', hs.client);
    this.readLevel = 'handshake';
    this.state = 'wait-encrypted-extensions';
  }

  private onHelloRetryRequest(msg: HandshakeMessage, hrr: ServerHello): void {
    if (this.sawHelloRetryRequest) throw alert('unexpected_message', 'second HelloRetryRequest', 'RFC 8446 §4.1.4');
    this.sawHelloRetryRequest = true;
    this.suite = hrr.cipherSuite;
    this.transcript.start(this.suiteInfo().hash);
    this.transcript.replaceWithMessageHash(); // §4.4.1
    this.transcript.add(msg.raw);

    const shareData = findExtension(hrr.extensions, ExtensionType.key_share);
    const cookieData = findExtension(hrr.extensions, ExtensionType.cookie);
    if (!shareData && !cookieData) throw alert('illegal_parameter', 'HelloRetryRequest that changes nothing', 'RFC 8446 §4.1.4');
    if (cookieData) this.cookie = Buffer.from(decodeCookie(cookieData)); // own copy: the input is a view
    if (shareData) {
      const group = decodeKeyShareHrr(shareData);
      // §4.2.8: the group must be offered and must not already have a share.
      if (!this.groups.includes(group) || this.keyShares.some((k) => k.group === group)) {
        throw alert('illegal_parameter', 'HelloRetryRequest asks for an unusable group', 'RFC 8446 §4.2.8');
      }
      this.keyShares = [generateKeyShare(group, this.options.random)];
    }
    this.sendClientHello();
  }

  /** §4.2: an extension we did not offer → unsupported_extension; one not allowed here → illegal_parameter. */
  private checkServerExtensions(msg: { extensions: readonly Extension[] }, allowed: ReadonlySet<number>): void {
    for (const e of msg.extensions) {
      if (!this.offered.has(e.type) && !(e.type === ExtensionType.cookie && allowed === ALLOWED_IN_HRR)) {
        throw alert('unsupported_extension', `server sent extension ${e.type} that we did not offer`, 'RFC 8446 §4.2');
      }
      if (!allowed.has(e.type)) throw alert('illegal_parameter', `extension ${e.type} is not allowed in this message`, 'RFC 8446 §4.2');
    }
  }

  // ---- EncryptedExtensions (§4.3.1) ----

  private onEncryptedExtensions(msg: HandshakeMessage): void {
    const ee = decodeEncryptedExtensions(msg.body);
    this.checkServerExtensions(ee, ALLOWED_IN_EE);
    const ext = (type: number) => findExtension(ee.extensions, type);

    const alpnData = ext(ExtensionType.application_layer_protocol_negotiation);
    if (!alpnData) throw alert('no_application_protocol', 'server selected no application protocol', 'RFC 9001 §8.1');
    const alpn = decodeAlpn(alpnData);
    if (alpn.length !== 1 || !this.options.alpn.includes(alpn[0]!)) {
      throw alert('illegal_parameter', 'server selected an application protocol we did not offer', 'RFC 7301 §3.1');
    }
    this.alpn = alpn[0]!;

    if (this.options.transportParameters) {
      const tp = ext(ExtensionType.quic_transport_parameters);
      if (!tp) throw alert('missing_extension', 'no quic_transport_parameters', 'RFC 9001 §8.2');
      this.peerTransportParameters = Buffer.from(tp);
    }
    const sni = ext(ExtensionType.server_name);
    if (sni) decodeEmpty(sni, 'server_name'); // RFC 6066 §3: the server's acknowledgement is empty

    const early = ext(ExtensionType.early_data);
    if (early) {
      decodeEmpty(early, 'early_data');
      // §4.2.10: accepted 0-RTT implies the first PSK, its suite and its ALPN.
      const s = this.offeredSession!;
      if (!this.pskAccepted || s.suite !== this.suite || s.alpn !== this.alpn) {
        throw alert('illegal_parameter', 'server accepted 0-RTT with different parameters', 'RFC 8446 §4.2.10');
      }
      this.earlyDataAccepted = true;
    }
    this.transcript.add(msg.raw);
    this.state = this.pskAccepted ? 'wait-finished' : 'wait-certificate';
  }

  // ---- server authentication (§4.3.2, §4.4.2, §4.4.3) ----

  private onCertificateRequest(msg: HandshakeMessage): void {
    const cr = decodeCertificateRequest(msg.body);
    if (!findExtension(cr.extensions, ExtensionType.signature_algorithms)) {
      throw alert('missing_extension', 'CertificateRequest without signature_algorithms', 'RFC 8446 §4.3.2');
    }
    // We have no client certificate: an empty Certificate goes out before our Finished (§4.4.2).
    this.certificateRequestContext = Buffer.from(cr.requestContext);
    this.transcript.add(msg.raw);
  }

  private onCertificate(msg: HandshakeMessage): void {
    const cert = decodeCertificate(msg.body);
    if (cert.requestContext.length !== 0) throw alert('illegal_parameter', 'server Certificate with a request context', 'RFC 8446 §4.4.2');
    // §4.4.2: CertificateEntry extensions must answer ones we sent; we send neither status_request nor SCT.
    if (cert.entries.some((e) => e.extensions.length > 0)) {
      throw alert('unsupported_extension', 'CertificateEntry extension we did not request', 'RFC 8446 §4.4.2');
    }
    this.peerPublicKey = verifyServerChain(
      cert.entries.map((e) => e.data),
      { serverName: this.options.serverName, ca: this.ca, now: this.options.now(), insecure: this.options.insecure === true },
    );
    this.transcript.add(msg.raw);
    this.state = 'wait-certificate-verify';
  }

  private onCertificateVerify(msg: HandshakeMessage): void {
    const cv = decodeCertificateVerify(msg.body);
    if (!this.schemes.includes(cv.scheme)) throw alert('illegal_parameter', `signature scheme 0x${cv.scheme.toString(16)} was not offered`, 'RFC 8446 §4.4.3');
    const signed = certificateVerifyInput(this.transcript.digest(), true);
    if (!verifyWithScheme(cv.scheme, this.peerPublicKey!, signed, cv.signature)) {
      throw alert('decrypt_error', 'CertificateVerify signature does not verify', 'RFC 8446 §4.4.3');
    }
    this.transcript.add(msg.raw);
    this.state = 'wait-finished';
  }

  // ---- Finished (§4.4.4) ----

  private onFinished(msg: HandshakeMessage): void {
    const suite: CipherSuite = this.suiteInfo();
    const hs = this.handshakeSecrets!;
    const verifyData = decodeFinished(msg.body, hashLength(suite.hash));
    if (!verifyFinished(suite.hash, hs.server, this.transcript.digest(), verifyData)) {
      throw alert('decrypt_error', 'server Finished does not verify', 'RFC 8446 §4.4.4');
    }
    this.transcript.add(msg.raw);
    const app = this.schedule!.applicationTrafficSecrets(this.transcript.digest());
    this.log('CLIENT_TRAFFIC_SECRET_0', app.client);
    this.log('SERVER_TRAFFIC_SECRET_0', app.server);
    if (this.keylogging) this.log('EXPORTER_SECRET', app.exporter);

    // RFC 9001 §8.3: no EndOfEarlyData in QUIC.
    if (this.certificateRequestContext) {
      this.sendMessage('handshake', HandshakeType.certificate, encodeCertificate({ requestContext: this.certificateRequestContext, entries: [] }));
    }
    this.sendMessage('handshake', HandshakeType.finished, finishedVerifyData(suite.hash, hs.client, this.transcript.digest()));
    this.resumptionMasterSecret = this.schedule!.resumptionMasterSecret(this.transcript.digest());
    this.emitKeys('application', 'write', app.client);
    this.emitKeys('application', 'read', app.server);
    this.readLevel = 'application';
    this.state = 'connected';
    this.handshakeComplete = true;
    this.emit({ type: 'complete' });
  }

  // ---- NewSessionTicket (§4.6.1) ----

  private onNewSessionTicket(msg: HandshakeMessage): void {
    const nst = decodeNewSessionTicket(msg.body);
    let maxEarlyData = 0;
    const early = findExtension(nst.extensions, ExtensionType.early_data);
    if (early) {
      maxEarlyData = decodeMaxEarlyData(early);
      // RFC 9001 §4.6.1: any other value than 0xffffffff is a PROTOCOL_VIOLATION.
      if (maxEarlyData !== 0xffffffff) {
        throw alert('illegal_parameter', 'max_early_data_size must be 0xffffffff in QUIC', 'RFC 9001 §4.6.1', QUIC_PROTOCOL_VIOLATION);
      }
    }
    if (nst.lifetime === 0) return; // §4.6.1: discard immediately
    const suite = this.suiteInfo();
    this.emit({
      type: 'session-ticket',
      ticket: {
        ticket: Buffer.from(nst.ticket),
        suite: suite.id,
        psk: ticketPsk(suite.hash, this.resumptionMasterSecret!, nst.nonce),
        ageAdd: nst.ageAdd,
        lifetime: Math.min(nst.lifetime, MAX_TICKET_LIFETIME_S),
        receivedAt: this.options.now(),
        maxEarlyData,
        alpn: this.alpn,
        serverName: this.options.serverName,
        transportParameters: this.peerTransportParameters,
      },
    });
  }
}

function unexpected(type: number, state: string, section = 'RFC 8446 §4'): Error {
  return alert('unexpected_message', `handshake message type ${type} in state ${state}`, section);
}

export function createClient(options: ClientOptions): TlsClient {
  return new TlsClient(options);
}
