/**
 * TLS 1.3 handshake message bodies (RFC 8446 §4): ClientHello and ServerHello (§4.1.2, §4.1.3,
 * HelloRetryRequest being a ServerHello with a fixed random, §4.1.4), EncryptedExtensions
 * (§4.3.1), Certificate (§4.4.2), CertificateVerify (§4.4.3), Finished (§4.4.4) and
 * NewSessionTicket (§4.6.1). Pure codecs: bytes in, values out, DecodeError on anything malformed.
 * The 4-byte handshake header and reassembly live in framing.ts.
 */
import { DecodeError } from '../../core/errors.js';
import type { Extension } from './extensions.js';
import { TlsReader, TlsWriter } from './wire.js';

export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

/** TLS 1.2 version number that TLS 1.3 keeps in legacy_version fields (§4.1.2). */
export const LEGACY_VERSION = 0x0303;

/** ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (§4.1.3). */
export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

// ---- extensions block (§4.2) ----

function writeExtensions(w: TlsWriter, extensions: readonly Extension[]): void {
  w.vector(2, (x) => {
    for (const e of extensions) x.u16(e.type).vector(2, e.data);
  });
}

/** Up to this many extensions, duplicates are looked for by a scan of the list; past it, in a Set. */
const SCANNED_EXTENSIONS = 16;

function readExtensions(r: TlsReader, min = 0): Extension[] {
  const block = r.sub(2, min, undefined, 'extensions');
  const out: Extension[] = [];
  // A real hello has about a dozen extensions, for which a scan beats making a Set; a hostile block
  // of thousands (a 64 KiB block holds 16,384 empty ones) gets the Set, so the check stays linear.
  let seen: Set<number> | null = null;
  while (block.remaining > 0) {
    const type = block.u16();
    // §4.2: there MUST NOT be more than one extension of the same type in a block.
    let duplicate = false;
    if (seen === null && out.length < SCANNED_EXTENSIONS) {
      for (let i = 0; i < out.length; i++) if (out[i]!.type === type) duplicate = true;
    } else {
      seen ??= new Set(out.map((e) => e.type));
      duplicate = seen.has(type);
      seen.add(type);
    }
    if (duplicate) throw new DecodeError(`extensions: duplicate extension ${type}`);
    out.push({ type, data: block.vector(2) });
  }
  return out;
}

// ---- ClientHello (§4.1.2) ----

export interface ClientHello {
  readonly legacyVersion: number;
  readonly random: Buffer;
  readonly legacySessionId: Buffer;
  readonly cipherSuites: readonly number[];
  readonly legacyCompressionMethods: Buffer;
  readonly extensions: readonly Extension[];
}

export function encodeClientHello(ch: ClientHello): Buffer {
  const w = new TlsWriter()
    .u16(ch.legacyVersion)
    .bytes(ch.random)
    .vector(1, ch.legacySessionId)
    .u16List(2, ch.cipherSuites)
    .vector(1, ch.legacyCompressionMethods);
  writeExtensions(w, ch.extensions);
  return w.finish();
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = new TlsReader(body, 'ClientHello');
  const ch: ClientHello = {
    legacyVersion: r.u16(),
    random: r.bytes(32),
    legacySessionId: r.vector(1, 0, 32),
    cipherSuites: r.u16List(2, 2),
    legacyCompressionMethods: r.vector(1, 1),
    extensions: readExtensions(r, 8),
  };
  r.end();
  return ch;
}

// ---- ServerHello / HelloRetryRequest (§4.1.3, §4.1.4) ----

export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Buffer;
  readonly legacySessionIdEcho: Buffer;
  readonly cipherSuite: number;
  readonly legacyCompressionMethod: number;
  readonly extensions: readonly Extension[];
}

export function isHelloRetryRequest(sh: ServerHello): boolean {
  return sh.random.equals(HELLO_RETRY_REQUEST_RANDOM);
}

export function encodeServerHello(sh: ServerHello): Buffer {
  const w = new TlsWriter()
    .u16(sh.legacyVersion)
    .bytes(sh.random)
    .vector(1, sh.legacySessionIdEcho)
    .u16(sh.cipherSuite)
    .u8(sh.legacyCompressionMethod);
  writeExtensions(w, sh.extensions);
  return w.finish();
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = new TlsReader(body, 'ServerHello');
  const sh: ServerHello = {
    legacyVersion: r.u16(),
    random: r.bytes(32),
    legacySessionIdEcho: r.vector(1, 0, 32),
    cipherSuite: r.u16(),
    legacyCompressionMethod: r.u8(),
    extensions: readExtensions(r, 6),
  };
  r.end();
  return sh;
}

// ---- EncryptedExtensions (§4.3.1) ----

export interface EncryptedExtensions {
  readonly extensions: readonly Extension[];
}

export function encodeEncryptedExtensions(ee: EncryptedExtensions): Buffer {
  const w = new TlsWriter();
  writeExtensions(w, ee.extensions);
  return w.finish();
}

export function decodeEncryptedExtensions(body: Uint8Array): EncryptedExtensions {
  const r = new TlsReader(body, 'EncryptedExtensions');
  const ee = { extensions: readExtensions(r) };
  r.end();
  return ee;
}

// ---- Certificate (§4.4.2) ----

export interface CertificateEntry {
  /** DER X.509 certificate (certificate_type X509, the default). */
  readonly data: Buffer;
  readonly extensions: readonly Extension[];
}

export interface CertificateMessage {
  readonly requestContext: Buffer;
  readonly entries: readonly CertificateEntry[];
}

export function encodeCertificate(c: CertificateMessage): Buffer {
  return new TlsWriter()
    .vector(1, c.requestContext)
    .vector(3, (w) => {
      for (const e of c.entries) {
        w.vector(3, e.data);
        writeExtensions(w, e.extensions);
      }
    })
    .finish();
}

export function decodeCertificate(body: Uint8Array): CertificateMessage {
  const r = new TlsReader(body, 'Certificate');
  const requestContext = r.vector(1);
  const list = r.sub(3, 0, undefined, 'certificate_list');
  const entries: CertificateEntry[] = [];
  while (list.remaining > 0) entries.push({ data: list.vector(3, 1), extensions: readExtensions(list) });
  r.end();
  return { requestContext, entries };
}

// ---- CertificateRequest (§4.3.2), decoded so a client can answer with an empty Certificate ----

export interface CertificateRequest {
  readonly requestContext: Buffer;
  readonly extensions: readonly Extension[];
}

export function encodeCertificateRequest(cr: CertificateRequest): Buffer {
  const w = new TlsWriter().vector(1, cr.requestContext);
  writeExtensions(w, cr.extensions);
  return w.finish();
}

export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  const r = new TlsReader(body, 'CertificateRequest');
  const cr = { requestContext: r.vector(1), extensions: readExtensions(r, 2) };
  r.end();
  return cr;
}

// ---- CertificateVerify (§4.4.3) ----

export interface CertificateVerify {
  readonly scheme: number;
  readonly signature: Buffer;
}

export function encodeCertificateVerify(cv: CertificateVerify): Buffer {
  return new TlsWriter().u16(cv.scheme).vector(2, cv.signature).finish();
}

export function decodeCertificateVerify(body: Uint8Array): CertificateVerify {
  const r = new TlsReader(body, 'CertificateVerify');
  const cv = { scheme: r.u16(), signature: r.vector(2) };
  r.end();
  return cv;
}

// ---- Finished (§4.4.4): verify_data is the whole body, Hash.length bytes ----

export function decodeFinished(body: Uint8Array, hashLength: number): Buffer {
  if (body.length !== hashLength) throw new DecodeError(`Finished: verify_data must be ${hashLength} bytes, got ${body.length}`);
  return Buffer.from(body);
}

// ---- NewSessionTicket (§4.6.1) ----

export interface NewSessionTicket {
  /** Seconds; at most 604800 (7 days). */
  readonly lifetime: number;
  readonly ageAdd: number;
  readonly nonce: Buffer;
  readonly ticket: Buffer;
  readonly extensions: readonly Extension[];
}

export function encodeNewSessionTicket(t: NewSessionTicket): Buffer {
  // Sized for the usual message (a ticket of ~140 bytes and at most early_data), so that it is written without growing.
  const w = new TlsWriter(4 + 4 + 1 + t.nonce.length + 2 + t.ticket.length + 2 + 8 * t.extensions.length);
  w.u32(t.lifetime).u32(t.ageAdd).vector(1, t.nonce).vector(2, t.ticket);
  writeExtensions(w, t.extensions);
  return w.finish();
}

export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  const r = new TlsReader(body, 'NewSessionTicket');
  const t: NewSessionTicket = {
    lifetime: r.u32(),
    ageAdd: r.u32(),
    nonce: r.vector(1),
    ticket: r.vector(2, 1),
    extensions: readExtensions(r),
  };
  r.end();
  return t;
}
