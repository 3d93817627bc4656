/**
 * The development certificate: a local CA and a `localhost` / 127.0.0.1 / ::1 server certificate
 * it issued, kept in a cache directory and reused across runs, made again when missing, unreadable,
 * inconsistent or about to expire. No OpenSSL: everything comes from x509.ts and node:crypto.
 *
 * Files: ca.pem, ca-key.pem, cert.pem, key.pem; the keys are written with mode 0600.
 */
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, createServerCertificate } from './x509.js';

export interface DevCertificate {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  caPath: string;
  certPath: string;
  keyPath: string;
  /** base64(SHA-256(DER SubjectPublicKeyInfo of the server certificate)): Chromium's --ignore-certificate-errors-spki-list. */
  spkiSha256Base64: string;
}

export interface DevCertificateOptions {
  /** The time to check validity against and to issue at (default: now). */
  now?: Date;
}

/** A certificate this close to its end is replaced, so that a server started now keeps a valid one for a while. */
const RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000;

const FILES = { caCert: 'ca.pem', caKey: 'ca-key.pem', cert: 'cert.pem', key: 'key.pem' } as const;

/** `$XDG_CACHE_HOME/h123`, or `~/.cache/h123` (XDG Base Directory Specification). */
export function defaultDevCertificateDir(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  // The spec says a relative XDG path is invalid and to be ignored.
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(base, 'h123');
}

export function spkiSha256Base64(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function usableAt(certificate: X509Certificate, now: Date): boolean {
  const from = Date.parse(certificate.validFrom);
  const to = Date.parse(certificate.validTo);
  return from <= now.getTime() && now.getTime() < to - RENEW_BEFORE_MS;
}

/** The CA in `dir` when its certificate and key are readable, match, and are valid at `now`. */
function loadCa(dir: string, now: Date): { pem: string; key: KeyObject } | undefined {
  const pem = readText(join(dir, FILES.caCert));
  const keyPem = readText(join(dir, FILES.caKey));
  if (pem === undefined || keyPem === undefined) return undefined;
  try {
    const certificate = new X509Certificate(pem);
    const key = createPrivateKey(keyPem);
    const selfSigned = certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
    if (!certificate.ca || !selfSigned || !certificate.checkPrivateKey(key) || !usableAt(certificate, now)) return undefined;
    return { pem, key };
  } catch {
    return undefined;
  }
}

/** True when the server certificate and key in `dir` are readable, match, are issued by `caPem` and valid at `now`. */
function serverCertificateUsable(dir: string, caPem: string, now: Date): boolean {
  const pem = readText(join(dir, FILES.cert));
  const keyPem = readText(join(dir, FILES.key));
  if (pem === undefined || keyPem === undefined) return false;
  try {
    const certificate = new X509Certificate(pem);
    const ca = new X509Certificate(caPem);
    return (
      certificate.checkIssued(ca) &&
      certificate.verify(ca.publicKey) &&
      certificate.checkPrivateKey(createPrivateKey(keyPem)) &&
      certificate.checkHost('localhost') !== undefined &&
      usableAt(certificate, now)
    );
  } catch {
    return false;
  }
}

/** Writes through a temporary file and a rename, so that a reader never sees half a file. */
function writeAtomically(path: string, text: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  chmodSync(temporary, mode); // the umask may have removed bits; a key must be exactly 0600
  renameSync(temporary, path);
}

const privateKeyPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }) as string;

/**
 * The development CA and server certificate from `dir` (default `defaultDevCertificateDir()`),
 * made on first use and again when unusable. A still-valid CA is kept when only the server
 * certificate needs replacing, so that a browser that trusts the CA goes on trusting it.
 */
export function loadOrCreateDevCertificate(dir: string = defaultDevCertificateDir(), options: DevCertificateOptions = {}): DevCertificate {
  const now = options.now ?? new Date();
  const paths = {
    caPath: join(dir, FILES.caCert),
    caKeyPath: join(dir, FILES.caKey),
    certPath: join(dir, FILES.cert),
    keyPath: join(dir, FILES.key),
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let ca = loadCa(dir, now);
  if (ca === undefined) {
    const created = createCertificateAuthority({ now });
    writeAtomically(paths.caKeyPath, privateKeyPem(created.privateKey), 0o600);
    writeAtomically(paths.caPath, created.pem, 0o644);
    ca = { pem: created.pem, key: created.privateKey };
  }
  if (!serverCertificateUsable(dir, ca.pem, now)) {
    const leaf = createServerCertificate({ issuer: { certificate: ca.pem, privateKey: ca.key }, now });
    writeAtomically(paths.keyPath, privateKeyPem(leaf.privateKey), 0o600);
    writeAtomically(paths.certPath, leaf.pem, 0o644);
  }

  const certPem = readFileSync(paths.certPath, 'utf8');
  return {
    caCertPem: ca.pem,
    certPem,
    keyPem: readFileSync(paths.keyPath, 'utf8'),
    caPath: paths.caPath,
    certPath: paths.certPath,
    keyPath: paths.keyPath,
    spkiSha256Base64: spkiSha256Base64(certPem),
  };
}
