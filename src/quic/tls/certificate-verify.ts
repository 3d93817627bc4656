/**
 * Validation of the server's certificate chain by the client (RFC 8446 §4.4.2.4, RFC 5280 §6
 * in the subset node:crypto's X509Certificate can express): each certificate issued and signed
 * by the next, the last one issued by a trusted CA (or being one), every certificate valid at
 * `now`, intermediates marked as CAs, and the leaf matching the server name (RFC 6125 via
 * checkHost, or checkIP for an address literal). `insecure` skips the chain and name checks only.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { AlertDescription, TlsAlert } from './alerts.js';

export interface ChainCheck {
  readonly serverName: string;
  /** Trust anchors; none → Node's bundled Mozilla roots. */
  readonly ca?: readonly X509Certificate[];
  readonly now: number;
  readonly insecure?: boolean;
}

let defaultRoots: X509Certificate[] | null = null;

/** Node's bundled roots, parsed once. */
function bundledRoots(): X509Certificate[] {
  defaultRoots ??= rootCertificates.map((pem) => new X509Certificate(pem));
  return defaultRoots;
}

const parsedCaLists = new Map<string, X509Certificate[]>();

/** Trust anchors from PEM strings; the last few lists are kept parsed, as a client is made per connection. */
export function parseCaList(pems: readonly string[]): X509Certificate[] {
  const key = pems.join('\n');
  let list = parsedCaLists.get(key);
  if (!list) {
    list = pems.flatMap((pem) => splitPem(pem).map((one) => new X509Certificate(one)));
    if (parsedCaLists.size >= 16) parsedCaLists.delete(parsedCaLists.keys().next().value!);
    parsedCaLists.set(key, list);
  }
  return list;
}

/** A PEM string may hold several certificates. */
export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function bad(alert: number, message: string): TlsAlert {
  return new TlsAlert(alert, message, 'RFC 8446 §4.4.2.4');
}

/** notBefore and notAfter in ms, read from a parsed certificate once (the getters format and Date.parse reparses). */
const validityPeriods = new WeakMap<X509Certificate, { readonly from: number; readonly to: number }>();

function checkDates(cert: X509Certificate, now: number, what: string): void {
  let period = validityPeriods.get(cert);
  if (period === undefined) {
    period = { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
    validityPeriods.set(cert, period);
  }
  const { from, to } = period;
  if (!(now >= from && now <= to)) throw bad(AlertDescription.certificate_expired, `${what} not valid at ${new Date(now).toISOString()} (valid ${cert.validFrom} – ${cert.validTo})`);
}

/**
 * Certificates a server sent, kept parsed by their DER bytes: a client meets the same chain on
 * every connection to a server, and parsing (~20 µs each) and signature checks dominate
 * verification. Validity dates are still checked against `now` each time. Looked up by comparing
 * bytes (length first, newest first), not through a text key: a base64 key cost an encoding and a
 * string of the certificate's size per certificate per handshake.
 */
const MAX_PARSED_CERTIFICATES = 64;
const parsedCertificates: { readonly der: Buffer; readonly cert: X509Certificate }[] = [];
const signatureChecks = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();
const publicKeys = new WeakMap<X509Certificate, KeyObject>();

function parseCertificate(der: Buffer): X509Certificate {
  for (let i = parsedCertificates.length - 1; i >= 0; i--) {
    const entry = parsedCertificates[i]!;
    if (entry.der.length === der.length && entry.der.equals(der)) return entry.cert;
  }
  const cert = new X509Certificate(der);
  if (parsedCertificates.length >= MAX_PARSED_CERTIFICATES) parsedCertificates.shift();
  parsedCertificates.push({ der: Buffer.from(der), cert }); // our own copy: `der` is a view into a message
  return cert;
}

function publicKeyOf(cert: X509Certificate): KeyObject {
  let key = publicKeys.get(cert);
  if (key === undefined) {
    key = cert.publicKey;
    publicKeys.set(cert, key);
  }
  return key;
}

/** Whether `issuer` issued and signed `cert`; the answer for a pair of parsed certificates never changes. */
function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  let byIssuer = signatureChecks.get(cert);
  if (byIssuer === undefined) {
    byIssuer = new WeakMap();
    signatureChecks.set(cert, byIssuer);
  }
  let ok = byIssuer.get(issuer);
  if (ok === undefined) {
    ok = checkSignature(cert, issuer);
    byIssuer.set(issuer, ok);
  }
  return ok;
}

function checkSignature(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(publicKeyOf(issuer));
  } catch {
    return false;
  }
}

/** Whether a leaf certificate is valid for a server name; per certificate, the answer for a name never changes. */
const nameMatches = new WeakMap<X509Certificate, Map<string, boolean>>();
const MAX_NAMES_PER_CERTIFICATE = 16;

function matchesName(leaf: X509Certificate, name: string): boolean {
  let byName = nameMatches.get(leaf);
  if (byName === undefined) {
    byName = new Map();
    nameMatches.set(leaf, byName);
  }
  let ok = byName.get(name);
  if (ok === undefined) {
    // RFC 6125 §6 via checkHost; an address literal must be an iPAddress SAN (checkIP).
    ok = isIP(name) ? leaf.checkIP(name) !== undefined : leaf.checkHost(name) !== undefined;
    if (byName.size < MAX_NAMES_PER_CERTIFICATE) byName.set(name, ok);
  }
  return ok;
}

/** Checks a DER chain (leaf first) and returns the leaf's public key for CertificateVerify. */
export function verifyServerChain(chainDer: readonly Buffer[], check: ChainCheck): KeyObject {
  if (chainDer.length === 0) throw new TlsAlert(AlertDescription.decode_error, 'empty Certificate from the server', 'RFC 8446 §4.4.2.4');
  let chain: X509Certificate[];
  try {
    chain = chainDer.map(parseCertificate);
  } catch {
    throw bad(AlertDescription.bad_certificate, 'certificate does not parse as X.509');
  }
  const leaf = chain[0]!;
  checkDates(leaf, check.now, 'server certificate');
  if (check.insecure) return publicKeyOf(leaf);

  for (let i = 0; i + 1 < chain.length; i++) {
    const issuer = chain[i + 1]!;
    if (!signedBy(chain[i]!, issuer)) throw bad(AlertDescription.bad_certificate, `certificate ${i} is not signed by certificate ${i + 1}`);
    if (!issuer.ca) throw bad(AlertDescription.bad_certificate, `certificate ${i + 1} signs others but is not a CA`);
    checkDates(issuer, check.now, `certificate ${i + 1}`);
  }

  const anchors = check.ca ?? bundledRoots();
  const last = chain[chain.length - 1]!;
  const anchor = anchors.find((ca) => ca.fingerprint256 === last.fingerprint256 || signedBy(last, ca));
  if (!anchor) throw bad(AlertDescription.unknown_ca, 'chain does not lead to a trusted CA');
  checkDates(anchor, check.now, 'CA certificate');

  if (!matchesName(leaf, check.serverName)) throw bad(AlertDescription.bad_certificate, `certificate is not valid for ${check.serverName}`);
  return publicKeyOf(leaf);
}
