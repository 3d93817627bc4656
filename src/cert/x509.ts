/**
 * X.509 v3 certificates (RFC 5280 §4.1) built and signed with node:crypto: a local certificate
 * authority and a TLS server certificate it issues, both ECDSA P-256 with SHA-256 (RFC 5758 §3.2,
 * RFC 5480). Only what a development setup needs; certificate parsing is left to
 * crypto.X509Certificate.
 */
import { X509Certificate, createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as der from './der.js';

/** Object identifiers used below. */
const OID = {
  commonName: '2.5.4.3', // RFC 5280 Appendix A.1 (X.520 id-at-commonName)
  organizationName: '2.5.4.10',
  ecPublicKey: '1.2.840.10045.2.1', // RFC 5480 §2.1.1
  prime256v1: '1.2.840.10045.3.1.7',
  ecdsaWithSha256: '1.2.840.10045.4.3.2', // RFC 5758 §3.2
  subjectKeyIdentifier: '2.5.29.14', // RFC 5280 §4.2.1.2
  keyUsage: '2.5.29.15', // RFC 5280 §4.2.1.3
  subjectAltName: '2.5.29.17', // RFC 5280 §4.2.1.6
  basicConstraints: '2.5.29.19', // RFC 5280 §4.2.1.9
  authorityKeyIdentifier: '2.5.29.35', // RFC 5280 §4.2.1.1
  extKeyUsage: '2.5.29.37', // RFC 5280 §4.2.1.12
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Browsers refuse server certificates valid for more than 398 days (CA/Browser Forum BR §6.3.2). */
export const MAX_LEAF_VALIDITY_DAYS = 397;
/** Backdating absorbs clocks that run a little behind the one that made the certificate. */
const BACKDATE_MS = 60 * 60 * 1000;

export interface DistinguishedName {
  commonName: string;
  organization?: string;
}

export interface IssuedCertificate {
  /** DER encoding of the Certificate. */
  der: Buffer;
  pem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName, one attribute per RDN (RFC 5280 §4.1.2.4). */
function encodeName(name: DistinguishedName): Buffer {
  const rdn = (type: string, value: string): Buffer => der.setOf(der.sequence(der.oid(type), der.utf8String(value)));
  const rdns: Buffer[] = [];
  if (name.organization !== undefined) rdns.push(rdn(OID.organizationName, name.organization));
  rdns.push(rdn(OID.commonName, name.commonName));
  return der.sequence(...rdns);
}

/** The subjectPublicKey bits of an EC key: the uncompressed point 04 || X || Y (RFC 5480 §2.2). */
function ecPoint(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new TypeError('expected a P-256 public key');
  return Buffer.concat([Buffer.of(0x04), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

/** Key identifier method (1) of RFC 5280 §4.2.1.2: SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(ecPoint(publicKey)).digest();
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  // DER leaves out a BOOLEAN equal to its DEFAULT (X.690 §11.5).
  return critical
    ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value))
    : der.sequence(der.oid(id), der.octetString(value));
}

/** An IPv4 or IPv6 address as the 4 or 16 octets of an iPAddress GeneralName (RFC 5280 §4.2.1.6). */
export function ipAddressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new RangeError(`not an IP address: ${address}`);
  let text = address.split('%')[0]!; // a zone index is not part of the address
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes the last two 16-bit groups.
    const b = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const zeros = rest === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  const all = [...left, ...zeros, ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** GeneralNames for the subjectAltName: dNSName [2] IA5String, iPAddress [7] OCTET STRING (RFC 5280 §4.2.1.6). */
function subjectAltNames(dnsNames: readonly string[], ipAddresses: readonly string[]): Buffer {
  return der.sequence(
    ...dnsNames.map((name) => {
      // dNSName is an IA5String in the preferred name syntax, "localhost" or "a.example" (RFC 5280 §4.2.1.6).
      if (!/^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name)) throw new RangeError(`not a DNS name: ${name}`);
      return der.implicitPrimitive(2, Buffer.from(name, 'latin1'));
    }),
    ...ipAddresses.map((ip) => der.implicitPrimitive(7, ipAddressBytes(ip))),
  );
}

/** A positive serial number of at most 20 octets, unpredictable (RFC 5280 §4.1.2.2). */
function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and never zero, so it stays 16 octets
  return serial;
}

/**
 * The subject Name of a certificate, as encoded: an issued certificate's issuer must match its
 * CA's subject exactly (RFC 5280 §4.1.2.4, §7.1), so it is copied rather than re-encoded.
 * TBSCertificate: [0] version, serialNumber, signature, issuer, validity, subject (RFC 5280 §4.1).
 */
export function subjectName(certificateDer: Uint8Array): Buffer {
  const tbs = der.readElement(der.readElement(certificateDer).contents);
  let offset = 0;
  const fields: Buffer[] = [];
  while (fields.length < 6) {
    const element = der.readElement(tbs.contents, offset);
    fields.push(element.encoding);
    offset = element.end;
  }
  // Without the optional [0] version (a v1 certificate), the subject is the fifth field.
  return tbs.contents[0] === 0xa0 ? fields[5]! : fields[4]!;
}

interface TbsFields {
  serial: Buffer;
  issuer: Buffer;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Buffer[];
}

const ECDSA_WITH_SHA256 = der.sequence(der.oid(OID.ecdsaWithSha256)); // parameters absent (RFC 5758 §3.2)

/** TBSCertificate (RFC 5280 §4.1.2), signed, wrapped as Certificate (RFC 5280 §4.1.1). */
function signCertificate(fields: TbsFields, issuerKey: KeyObject): Buffer {
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)), // version v3 (RFC 5280 §4.1.2.1)
    der.unsignedInteger(fields.serial),
    ECDSA_WITH_SHA256, // must equal signatureAlgorithm below (RFC 5280 §4.1.2.3)
    fields.issuer,
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    encodeName(fields.subject),
    Buffer.from(fields.publicKey.export({ type: 'spki', format: 'der' })), // SubjectPublicKeyInfo (RFC 5480 §2)
    der.explicit(3, der.sequence(...fields.extensions)),
  );
  // Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5758 §3.2): Node's 'der' encoding.
  const signature = sign('sha256', tbs, { key: issuerKey, dsaEncoding: 'der' });
  return der.sequence(tbs, ECDSA_WITH_SHA256, der.bitString(signature));
}

function toPem(certificateDer: Buffer): string {
  const lines = certificateDer.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function newP256KeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** Validity that starts a little before `now` (whole seconds, as the DER times hold). */
function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  const start = Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000;
  return { notBefore: new Date(start), notAfter: new Date(start + days * DAY_MS) };
}

export interface CertificateAuthorityOptions {
  name?: DistinguishedName;
  now?: Date;
  validityDays?: number;
}

/**
 * A self-signed CA: basicConstraints cA TRUE (critical, pathLenConstraint 0: it signs only leaves),
 * keyUsage keyCertSign|cRLSign (critical), subjectKeyIdentifier (RFC 5280 §4.2.1.9, §4.2.1.3, §4.2.1.2).
 */
export function createCertificateAuthority(options: CertificateAuthorityOptions = {}): IssuedCertificate {
  const name = options.name ?? { commonName: 'h123 Development CA', organization: 'h123' };
  const { privateKey, publicKey } = newP256KeyPair();
  const { notBefore, notAfter } = validity(options.now ?? new Date(), options.validityDays ?? 3650);
  const certificate = signCertificate(
    {
      serial: serialNumber(),
      issuer: encodeName(name),
      subject: name,
      notBefore,
      notAfter,
      publicKey,
      extensions: [
        extension(OID.basicConstraints, true, der.sequence(der.boolean(true), der.integer(0))),
        extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
        extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(publicKey))),
      ],
    },
    privateKey,
  );
  return { der: certificate, pem: toPem(certificate), privateKey, publicKey, notBefore, notAfter };
}

export interface ServerCertificateOptions {
  /** The issuing CA: its certificate (PEM or DER) gives the issuer name and key identifier. */
  issuer: { certificate: string | Uint8Array; privateKey: KeyObject };
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  now?: Date;
  /** At most MAX_LEAF_VALIDITY_DAYS. */
  validityDays?: number;
}

/**
 * A TLS server certificate: subjectAltName DNS and IP names (RFC 5280 §4.2.1.6; RFC 6125 uses
 * these, not the CN), extendedKeyUsage serverAuth (§4.2.1.12), keyUsage digitalSignature for ECDSA
 * (§4.2.1.3), basicConstraints cA FALSE, and key identifiers linking it to its CA (§4.2.1.1, §4.2.1.2).
 */
export function createServerCertificate(options: ServerCertificateOptions): IssuedCertificate {
  const dnsNames = options.dnsNames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1', '::1'];
  const days = options.validityDays ?? MAX_LEAF_VALIDITY_DAYS;
  if (days > MAX_LEAF_VALIDITY_DAYS) throw new RangeError(`a server certificate may be valid ${MAX_LEAF_VALIDITY_DAYS} days at most`);
  const issuerCertificate = new X509Certificate(options.issuer.certificate);
  if (!issuerCertificate.ca || !issuerCertificate.checkPrivateKey(options.issuer.privateKey)) {
    throw new TypeError('the issuer must be a CA certificate with its private key');
  }
  const { privateKey, publicKey } = newP256KeyPair();
  const { notBefore, notAfter } = validity(options.now ?? new Date(), days);
  const certificate = signCertificate(
    {
      serial: serialNumber(),
      issuer: subjectName(issuerCertificate.raw),
      subject: { commonName: dnsNames[0] ?? ipAddresses[0] ?? 'h123', organization: 'h123' },
      notBefore,
      notAfter,
      publicKey,
      extensions: [
        extension(OID.basicConstraints, true, der.sequence()), // cA DEFAULT FALSE is left out (X.690 §11.5)
        extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature])),
        extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth))),
        // Non-critical because the subject is not empty (RFC 5280 §4.2.1.6).
        extension(OID.subjectAltName, false, subjectAltNames(dnsNames, ipAddresses)),
        extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(publicKey))),
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
        extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicitPrimitive(0, keyIdentifier(issuerCertificate.publicKey)))),
      ],
    },
    options.issuer.privateKey,
  );
  return { der: certificate, pem: toPem(certificate), privateKey, publicKey, notBefore, notAfter };
}
