/**
 * Server chain validation (RFC 8446 §4.4.2.4; RFC 5280 §6 as far as X509Certificate goes):
 * intermediates, CA flags, trust anchors, dates and names, each failure with its alert.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TlsAlert } from '../../../src/quic/tls/alerts.js';
import { parseCaList, verifyServerChain } from '../../../src/quic/tls/certificate-verify.js';
import { CA, CERTS, NOW } from './harness.js';

const pem = (name: string) => readFileSync(fileURLToPath(new URL(`./certs/${name}`, import.meta.url)), 'utf8');
const der = (p: string) => Buffer.from(new X509Certificate(p).raw);
const anchors = parseCaList([CA]);

function alertOf(f: () => unknown): number | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(TlsAlert);
    return (err as TlsAlert).alert;
  }
}

describe('verifyServerChain', () => {
  const check = { serverName: 'localhost', ca: anchors, now: NOW };

  it('accepts leaf → intermediate → trusted root and returns the leaf key', () => {
    const key = verifyServerChain([der(pem('chained.pem')), der(pem('intermediate.pem'))], check);
    expect(key.asymmetricKeyType).toBe('ec');
  });

  it('a certificate of the same length as one already checked, one byte apart, is checked on its own', () => {
    const leaf = der(pem('chained.pem'));
    const intermediate = der(pem('intermediate.pem'));
    verifyServerChain([leaf, intermediate], check); // kept parsed and checked
    const forged = Buffer.from(leaf);
    forged[forged.length - 3]! ^= 0x01; // inside the issuer's signature value
    expect(alertOf(() => verifyServerChain([forged, intermediate], check))).toBe(42);
    expect(verifyServerChain([Buffer.from(leaf), intermediate], check).asymmetricKeyType).toBe('ec'); // equal bytes, another Buffer
  });

  it('unknown_ca (48) without the intermediate', () => {
    expect(alertOf(() => verifyServerChain([der(pem('chained.pem'))], check))).toBe(48);
  });

  it('bad_certificate (42) when a non-CA certificate signs the leaf', () => {
    expect(alertOf(() => verifyServerChain([der(pem('signed-by-leaf.pem')), der(CERTS.ecdsa.cert)], check))).toBe(42);
  });

  it('bad_certificate (42) for a chain out of order', () => {
    expect(alertOf(() => verifyServerChain([der(pem('intermediate.pem')), der(pem('chained.pem'))], check))).toBe(42);
  });

  it('certificate_expired (45) before notBefore and after notAfter', () => {
    expect(alertOf(() => verifyServerChain([der(CERTS.rsa.cert)], { ...check, now: Date.parse('2001-01-01') }))).toBe(45);
    expect(alertOf(() => verifyServerChain([der(CERTS.rsa.cert)], { ...check, now: Date.parse('2099-01-01') }))).toBe(45);
  });

  it('matches DNS names (with wildcards) and IP addresses from subjectAltName', () => {
    for (const name of ['localhost', 'a.example.test', '127.0.0.1', '::1']) {
      expect(alertOf(() => verifyServerChain([der(CERTS.ed25519.cert)], { ...check, serverName: name })), name).toBeUndefined();
    }
    for (const name of ['a.b.example.test', 'example.test', '127.0.0.2', 'localhost.evil']) {
      expect(alertOf(() => verifyServerChain([der(CERTS.ed25519.cert)], { ...check, serverName: name })), name).toBe(42);
    }
  });

  it('bad_certificate (42) for bytes that are no certificate; decode_error (50) for an empty chain', () => {
    expect(alertOf(() => verifyServerChain([Buffer.from('3003020100', 'hex')], check))).toBe(42);
    expect(alertOf(() => verifyServerChain([], check))).toBe(50);
  });

  it('a chain accepted once is checked again in full for the next name and time (remembered answers are per name)', () => {
    const chain = [der(CERTS.ecdsa.cert)];
    expect(alertOf(() => verifyServerChain(chain, check))).toBeUndefined();
    expect(alertOf(() => verifyServerChain(chain, { ...check, serverName: 'localhost.evil' }))).toBe(42);
    expect(alertOf(() => verifyServerChain(chain, { ...check, now: Date.parse('2099-01-01') }))).toBe(45);
    expect(alertOf(() => verifyServerChain(chain, check))).toBeUndefined();
  });

  it('insecure skips chain and name, not the dates', () => {
    expect(alertOf(() => verifyServerChain([der(pem('signed-by-leaf.pem'))], { ...check, serverName: 'other', insecure: true }))).toBeUndefined();
    expect(alertOf(() => verifyServerChain([der(CERTS.rsa.cert)], { ...check, insecure: true, now: Date.parse('2099-01-01') }))).toBe(45);
  });
});
