/**
 * The development certificate cache: made once, reused, made again when expired or broken; key
 * files private; the SPKI hash Chromium takes; and a TLS handshake with the files on disk.
 */
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultDevCertificateDir, loadOrCreateDevCertificate } from '../../src/cert/dev-cert.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const root = mkdtempSync(join(tmpdir(), 'h123-dev-cert-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
const freshDir = (): string => join(root, `cache-${++dirCount}`);

describe('loadOrCreateDevCertificate', () => {
  it('creates a CA and a localhost certificate the CA issued, with private key files', () => {
    const dir = freshDir();
    const dev = loadOrCreateDevCertificate(dir);
    expect(dev.caPath).toBe(join(dir, 'ca.pem'));
    expect(dev.certPath).toBe(join(dir, 'cert.pem'));
    expect(dev.keyPath).toBe(join(dir, 'key.pem'));
    expect(readFileSync(dev.caPath, 'utf8')).toBe(dev.caCertPem);
    expect(readFileSync(dev.certPath, 'utf8')).toBe(dev.certPem);
    expect(readFileSync(dev.keyPath, 'utf8')).toBe(dev.keyPem);

    const ca = new X509Certificate(dev.caCertPem);
    const leaf = new X509Certificate(dev.certPem);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');

    expect(statSync(dev.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('gives the SPKI SHA-256 in base64 that Chromium\'s --ignore-certificate-errors-spki-list takes', () => {
    const dev = loadOrCreateDevCertificate(freshDir());
    const spki = new X509Certificate(dev.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(dev.spkiSha256Base64).toBe(createHash('sha256').update(spki).digest('base64'));
    expect(Buffer.from(dev.spkiSha256Base64, 'base64')).toHaveLength(32);
  });

  it('returns the same files on a later call', () => {
    const dir = freshDir();
    const first = loadOrCreateDevCertificate(dir);
    const second = loadOrCreateDevCertificate(dir);
    expect(second).toEqual(first);
  });

  it('issues a new server certificate from the same CA when the old one nears its end', () => {
    const dir = freshDir();
    const first = loadOrCreateDevCertificate(dir);
    const later = new Date(Date.parse(new X509Certificate(first.certPem).validTo) - DAY_MS);
    const second = loadOrCreateDevCertificate(dir, { now: later });
    expect(second.caCertPem).toBe(first.caCertPem);
    expect(second.certPem).not.toBe(first.certPem);
    const leaf = new X509Certificate(second.certPem);
    expect(Date.parse(leaf.validFrom)).toBeLessThanOrEqual(later.getTime());
    expect(leaf.checkIssued(new X509Certificate(first.caCertPem))).toBe(true);
  });

  it('makes everything again when the CA has expired', () => {
    const dir = freshDir();
    const first = loadOrCreateDevCertificate(dir);
    const muchLater = new Date(Date.parse(new X509Certificate(first.caCertPem).validTo) + DAY_MS);
    const second = loadOrCreateDevCertificate(dir, { now: muchLater });
    expect(second.caCertPem).not.toBe(first.caCertPem);
    expect(new X509Certificate(second.certPem).checkIssued(new X509Certificate(second.caCertPem))).toBe(true);
  });

  it('makes the server certificate again when a file is unreadable or does not match', () => {
    const dir = freshDir();
    const first = loadOrCreateDevCertificate(dir);
    writeFileSync(first.certPath, 'not a certificate');
    const second = loadOrCreateDevCertificate(dir);
    expect(second.certPem).not.toBe(first.certPem);
    expect(second.caCertPem).toBe(first.caCertPem);

    // A key that belongs to another certificate is as bad as a missing one.
    const other = loadOrCreateDevCertificate(freshDir());
    writeFileSync(second.keyPath, other.keyPem);
    const third = loadOrCreateDevCertificate(dir);
    expect(third.certPem).not.toBe(second.certPem);
    expect(new X509Certificate(third.certPem).checkPrivateKey(createPrivateKey(third.keyPem))).toBe(true);

    writeFileSync(join(dir, 'ca-key.pem'), 'garbage');
    const fourth = loadOrCreateDevCertificate(dir);
    expect(fourth.caCertPem).not.toBe(first.caCertPem);
  });

  it('defaults to $XDG_CACHE_HOME/h123', () => {
    const saved = process.env['XDG_CACHE_HOME'];
    try {
      process.env['XDG_CACHE_HOME'] = join(root, 'xdg');
      expect(defaultDevCertificateDir()).toBe(join(root, 'xdg', 'h123'));
      const dev = loadOrCreateDevCertificate();
      expect(dev.certPath).toBe(join(root, 'xdg', 'h123', 'cert.pem'));
    } finally {
      if (saved === undefined) delete process.env['XDG_CACHE_HOME'];
      else process.env['XDG_CACHE_HOME'] = saved;
    }
  });

  it('serves TLS from the files on disk to a client that trusts only the CA', async () => {
    const dev = loadOrCreateDevCertificate(freshDir());
    const server = createServer({ cert: readFileSync(dev.certPath), key: readFileSync(dev.keyPath) }, (socket) => socket.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const client = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(dev.caPath) });
      await once(client, 'secureConnect');
      expect(client.authorized).toBe(true);
      client.destroy();
    } finally {
      server.close();
      await once(server, 'close');
    }
  });
});
