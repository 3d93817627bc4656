/**
 * X.509 certificates made by src/cert/x509.ts, checked by Node's own X.509 parser and verifier and
 * by a real TLS handshake over node:tls that trusts only the CA.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readElement } from '../../src/cert/der.js';
import {
  MAX_LEAF_VALIDITY_DAYS,
  createCertificateAuthority,
  createServerCertificate,
  ipAddressBytes,
  keyIdentifier,
  subjectName,
} from '../../src/cert/x509.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const now = new Date();
const ca = createCertificateAuthority({ now });
const leaf = createServerCertificate({ issuer: { certificate: ca.pem, privateKey: ca.privateKey }, now });
const caCert = new X509Certificate(ca.pem);
const leafCert = new X509Certificate(leaf.pem);

/** Extension values by OID, read from the certificate's DER (RFC 5280 §4.1). */
function extensions(certificateDer: Buffer): Map<string, { critical: boolean; value: Buffer }> {
  const tbs = readElement(readElement(certificateDer).contents).contents;
  let offset = 0;
  let explicitExtensions: Buffer | undefined;
  while (offset < tbs.length) {
    const element = readElement(tbs, offset);
    if (element.tag === 0xa3) explicitExtensions = readElement(element.contents).contents;
    offset = element.end;
  }
  const result = new Map<string, { critical: boolean; value: Buffer }>();
  for (let at = 0; explicitExtensions && at < explicitExtensions.length; ) {
    const extension = readElement(explicitExtensions, at);
    const id = readElement(extension.contents);
    let next = readElement(extension.contents, id.end);
    const critical = next.tag === 0x01 && next.contents[0] === 0xff;
    if (next.tag === 0x01) next = readElement(extension.contents, next.end);
    result.set(id.contents.toString('hex'), { critical, value: next.contents });
    at = extension.end;
  }
  return result;
}

// DER contents of the OIDs used below.
const BASIC_CONSTRAINTS = '551d13';
const KEY_USAGE = '551d0f';
const SUBJECT_KEY_ID = '551d0e';
const AUTHORITY_KEY_ID = '551d23';
const EXT_KEY_USAGE = '551d25';
const SUBJECT_ALT_NAME = '551d11';

describe('certificate authority', () => {
  it('parses as a self-signed v3 CA', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe(caCert.issuer);
    expect(caCert.checkIssued(caCert)).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(caCert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(caCert.raw.equals(ca.der)).toBe(true);
  });

  it('has critical basicConstraints cA TRUE, critical keyUsage keyCertSign|cRLSign, and a subjectKeyIdentifier (RFC 5280 §4.2.1)', () => {
    const ext = extensions(ca.der);
    expect(ext.get(BASIC_CONSTRAINTS)).toEqual({ critical: true, value: Buffer.from('30060101ff020100', 'hex') });
    expect(ext.get(KEY_USAGE)).toEqual({ critical: true, value: Buffer.from('03020106', 'hex') });
    expect(ext.get(SUBJECT_KEY_ID)?.value.equals(Buffer.concat([Buffer.from('0414', 'hex'), keyIdentifier(ca.publicKey)]))).toBe(true);
  });
});

describe('server certificate', () => {
  it('is issued and signed by the CA', () => {
    expect(leafCert.verify(caCert.publicKey)).toBe(true);
    expect(leafCert.verify(leafCert.publicKey)).toBe(false);
    expect(leafCert.checkIssued(caCert)).toBe(true);
    expect(leafCert.issuer).toBe(caCert.subject);
    expect(leafCert.ca).toBe(false);
    expect(leafCert.checkPrivateKey(leaf.privateKey)).toBe(true);
  });

  it('names localhost, 127.0.0.1 and ::1 and nothing else', () => {
    expect(leafCert.checkHost('localhost')).toBe('localhost');
    expect(leafCert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leafCert.checkIP('::1')).toBe('::1');
    expect(leafCert.checkHost('example.com')).toBeUndefined();
    expect(leafCert.checkIP('127.0.0.2')).toBeUndefined();
    expect(leafCert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  });

  it('is valid now and for at most 397 days', () => {
    const from = Date.parse(leafCert.validFrom);
    const to = Date.parse(leafCert.validTo);
    expect(from).toBeLessThanOrEqual(now.getTime());
    expect(to).toBeGreaterThan(now.getTime() + 390 * DAY_MS);
    expect(to - from).toBeLessThanOrEqual(MAX_LEAF_VALIDITY_DAYS * DAY_MS);
    expect(() =>
      createServerCertificate({ issuer: { certificate: ca.pem, privateKey: ca.privateKey }, validityDays: 398 }),
    ).toThrow(RangeError);
  });

  it('has serverAuth, digitalSignature, cA FALSE and key identifiers that link it to the CA', () => {
    expect(leafCert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node lists the extended key usages here
    const ext = extensions(leaf.der);
    expect(ext.get(BASIC_CONSTRAINTS)).toEqual({ critical: true, value: Buffer.from('3000', 'hex') });
    expect(ext.get(KEY_USAGE)).toEqual({ critical: true, value: Buffer.from('03020780', 'hex') });
    expect(ext.get(EXT_KEY_USAGE)?.critical).toBe(false);
    expect(ext.get(SUBJECT_ALT_NAME)?.critical).toBe(false);
    const caKeyId = keyIdentifier(ca.publicKey);
    expect(ext.get(AUTHORITY_KEY_ID)?.value.equals(Buffer.concat([Buffer.from('3016' + '8014', 'hex'), caKeyId]))).toBe(true);
    expect(ext.get(SUBJECT_KEY_ID)?.value.subarray(2).equals(keyIdentifier(leaf.publicKey))).toBe(true);
  });

  it('copies the CA subject as its issuer, byte for byte (RFC 5280 §7.1)', () => {
    const tbs = readElement(readElement(leaf.der).contents).contents;
    let offset = 0;
    const fields: Buffer[] = [];
    while (offset < tbs.length) {
      const element = readElement(tbs, offset);
      fields.push(element.encoding);
      offset = element.end;
    }
    expect(fields[3]!.equals(subjectName(ca.der))).toBe(true); // issuer
    expect(fields[5]!.equals(subjectName(leaf.der))).toBe(true); // subject
  });

  it('refuses an issuer that is not a CA or whose key does not match', () => {
    expect(() => createServerCertificate({ issuer: { certificate: leaf.pem, privateKey: leaf.privateKey } })).toThrow(TypeError);
    expect(() => createServerCertificate({ issuer: { certificate: ca.pem, privateKey: leaf.privateKey } })).toThrow(TypeError);
  });

  it('encodes IP addresses as 4 or 16 octets', () => {
    expect(ipAddressBytes('127.0.0.1').toString('hex')).toBe('7f000001');
    expect(ipAddressBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipAddressBytes('2001:db8::8:800:200c:417a').toString('hex')).toBe('20010db80000000000080800200c417a');
    expect(ipAddressBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipAddressBytes('fe80::1%eth0').toString('hex')).toBe('fe800000000000000000000000000001');
    expect(() => ipAddressBytes('localhost')).toThrow(RangeError);
  });

  it('public key in the certificate is the generated one', () => {
    const fromCert = leafCert.publicKey.export({ type: 'spki', format: 'der' });
    expect(fromCert.equals(createPublicKey(leaf.privateKey).export({ type: 'spki', format: 'der' }))).toBe(true);
  });
});

describe('a real TLS handshake', () => {
  it('succeeds for a node:tls client that trusts only the CA, with servername localhost on 127.0.0.1', async () => {
    const server = createServer(
      { cert: leaf.pem, key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) },
      (socket) => socket.end('hello over TLS\n'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const client: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.pem });
      const chunks: Buffer[] = [];
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      await once(client, 'secureConnect');
      expect(client.authorized).toBe(true);
      expect(client.getPeerX509Certificate()?.fingerprint256).toBe(leafCert.fingerprint256);
      await once(client, 'end');
      expect(Buffer.concat(chunks).toString()).toBe('hello over TLS\n');
      client.destroy();
    } finally {
      server.close();
      await once(server, 'close');
    }
  });

  it('is refused by a client that trusts another CA', async () => {
    const otherCa = createCertificateAuthority();
    const server = createServer({ cert: leaf.pem, key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) }, (socket) => socket.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const client = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: otherCa.pem });
      const [error] = (await once(client, 'error')) as [NodeJS.ErrnoException];
      expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      client.destroy();
    } finally {
      server.close();
      await once(server, 'close');
    }
  });
});
