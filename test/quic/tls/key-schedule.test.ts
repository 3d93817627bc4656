/**
 * RFC 8448 §3 (simple 1-RTT handshake): our key schedule, transcript, key exchange, Finished
 * and CertificateVerify checks reproduce the RFC's values byte for byte; §4 (resumption): PSK
 * binder and early traffic secret; §5 (HelloRetryRequest): the message_hash transcript and P-256.
 */
import { createHmac, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyShare, NamedGroup } from '../../../src/quic/tls/key-exchange.js';
import {
  earlySecret,
  finishedKey,
  finishedVerifyData,
  handshakeSecret,
  KeySchedule,
  masterSecret,
  ticketPsk,
} from '../../../src/quic/tls/key-schedule.js';
import { decodeCertificate, decodeCertificateVerify, decodeClientHello, decodeServerHello, encodeClientHello, encodeServerHello, isHelloRetryRequest } from '../../../src/quic/tls/messages.js';
import { digest } from '../../../src/quic/tls/hkdf.js';
import { computeBinder, truncateClientHello, verifyBinder } from '../../../src/quic/tls/tickets.js';
import { certificateVerifyInput, verifyWithScheme } from '../../../src/quic/tls/signature.js';
import { Transcript } from '../../../src/quic/tls/transcript.js';
import { loadTrace, traceValue } from './rfc8448-fixture.js';

const trace = loadTrace('section3-simple-1rtt.txt');
const v = (step: string, field: string) => traceValue(trace, step, field);

const clientHello = v('{client}  construct a ClientHello', 'ClientHello');
const serverHello = v('{server}  construct a ServerHello', 'ServerHello');
const encryptedExtensions = v('{server}  construct a EncryptedExtensions', 'EncryptedExtensions');
const certificate = v('{server}  construct a Certificate', 'Certificate');
const certificateVerify = v('{server}  construct a CertificateVerify', 'CertificateVerify');
const serverFinished = v('{server}  construct a Finished', 'Finished');
const clientFinished = v('{client}  construct a Finished', 'Finished');

function transcriptOf(...messages: Buffer[]): Buffer {
  const t = new Transcript();
  t.start('sha256');
  for (const m of messages) t.add(m);
  return t.digest();
}

describe('RFC 8448 §3 key schedule', () => {
  it('early secret from a zero PSK', () => {
    expect(earlySecret('sha256').toString('hex')).toBe(v('{server}  extract secret "early"', 'secret').toString('hex'));
  });

  it('x25519 shared secret from the RFC private keys', () => {
    const client = generateKeyShare(NamedGroup.x25519, () => v('{client}  create an ephemeral x25519', 'private key'));
    const server = generateKeyShare(NamedGroup.x25519, () => v('{server}  create an ephemeral x25519', 'private key'));
    expect(client.publicKey.toString('hex')).toBe(v('{client}  create an ephemeral x25519', 'public key').toString('hex'));
    expect(server.publicKey.toString('hex')).toBe(v('{server}  create an ephemeral x25519', 'public key').toString('hex'));
    const ikm = v('{server}  extract secret "handshake"', 'IKM');
    expect(client.computeSecret(server.publicKey).toString('hex')).toBe(ikm.toString('hex'));
    expect(server.computeSecret(client.publicKey).toString('hex')).toBe(ikm.toString('hex'));
  });

  it('handshake secret, traffic secrets and transcript hash of ClientHello..ServerHello', () => {
    const early = earlySecret('sha256');
    const hs = handshakeSecret('sha256', early, v('{server}  extract secret "handshake"', 'IKM'));
    expect(hs.toString('hex')).toBe(v('{server}  extract secret "handshake"', 'secret').toString('hex'));

    const helloHash = transcriptOf(clientHello, serverHello);
    expect(helloHash.toString('hex')).toBe(v('{server}  derive secret "tls13 c hs traffic"', 'hash').toString('hex'));

    const ks = new KeySchedule('sha256');
    const secrets = ks.handshakeTrafficSecrets(v('{server}  extract secret "handshake"', 'IKM'), helloHash);
    expect(secrets.client.toString('hex')).toBe(v('{server}  derive secret "tls13 c hs traffic"', 'expanded').toString('hex'));
    expect(secrets.server.toString('hex')).toBe(v('{server}  derive secret "tls13 s hs traffic"', 'expanded').toString('hex'));
  });

  it('master secret, application traffic secrets, exporter and resumption secrets', () => {
    const hs = v('{server}  extract secret "handshake"', 'secret');
    expect(masterSecret('sha256', hs).toString('hex')).toBe(v('{server}  extract secret "master"', 'secret').toString('hex'));

    const ks = new KeySchedule('sha256');
    ks.handshakeTrafficSecrets(v('{server}  extract secret "handshake"', 'IKM'), transcriptOf(clientHello, serverHello));
    const finishedHash = transcriptOf(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify, serverFinished);
    expect(finishedHash.toString('hex')).toBe(v('{server}  derive secret "tls13 c ap traffic"', 'hash').toString('hex'));
    const app = ks.applicationTrafficSecrets(finishedHash);
    expect(app.client.toString('hex')).toBe(v('{server}  derive secret "tls13 c ap traffic"', 'expanded').toString('hex'));
    expect(app.server.toString('hex')).toBe(v('{server}  derive secret "tls13 s ap traffic"', 'expanded').toString('hex'));
    expect(app.exporter.toString('hex')).toBe(v('{server}  derive secret "tls13 exp master"', 'expanded').toString('hex'));

    const clientFinishedHash = transcriptOf(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify, serverFinished, clientFinished);
    const res = ks.resumptionMasterSecret(clientFinishedHash);
    expect(res.toString('hex')).toBe(v('{client}  derive secret "tls13 res master"', 'expanded').toString('hex'));

    // §4.6.1 ticket PSK with the NewSessionTicket's nonce (00 00).
    expect(ticketPsk('sha256', res, Buffer.alloc(2)).toString('hex')).toBe(
      v('{server}  generate resumption secret "tls13 resumption"', 'expanded').toString('hex'),
    );
  });

  it('finished keys and verify_data of both Finished messages', () => {
    const serverHs = v('{server}  derive secret "tls13 s hs traffic"', 'expanded');
    const clientHs = v('{server}  derive secret "tls13 c hs traffic"', 'expanded');
    expect(finishedKey('sha256', serverHs).toString('hex')).toBe(v('{server}  calculate finished', 'expanded').toString('hex'));
    expect(finishedKey('sha256', clientHs).toString('hex')).toBe(v('{client}  calculate finished "tls13 finished":', 'expanded').toString('hex'));

    const throughCv = transcriptOf(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify);
    const serverVerify = finishedVerifyData('sha256', serverHs, throughCv);
    expect(serverVerify.toString('hex')).toBe(serverFinished.subarray(4).toString('hex'));

    const throughServerFinished = transcriptOf(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify, serverFinished);
    expect(finishedVerifyData('sha256', clientHs, throughServerFinished).toString('hex')).toBe(clientFinished.subarray(4).toString('hex'));
  });

  it('the server CertificateVerify (rsa_pss_rsae_sha256) verifies over the transcript', () => {
    const cert = decodeCertificate(certificate.subarray(4));
    const key = new X509Certificate(cert.entries[0]!.data).publicKey;
    const cv = decodeCertificateVerify(certificateVerify.subarray(4));
    expect(cv.scheme).toBe(0x0804);
    const input = certificateVerifyInput(transcriptOf(clientHello, serverHello, encryptedExtensions, certificate), true);
    expect(verifyWithScheme(cv.scheme, key, input, cv.signature)).toBe(true);
    const tampered = Buffer.from(input);
    tampered[tampered.length - 1]! ^= 1;
    expect(verifyWithScheme(cv.scheme, key, tampered, cv.signature)).toBe(false);
  });

  it('ClientHello and ServerHello decode and re-encode to the RFC bytes', () => {
    const ch = decodeClientHello(clientHello.subarray(4));
    expect(ch.cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
    expect(encodeClientHello(ch).toString('hex')).toBe(clientHello.subarray(4).toString('hex'));
    const sh = decodeServerHello(serverHello.subarray(4));
    expect(sh.cipherSuite).toBe(0x1301);
    expect(encodeServerHello(sh).toString('hex')).toBe(serverHello.subarray(4).toString('hex'));
  });
});

describe('key schedule with and without a PSK against HMAC longhand (RFC 8446 §7.1, RFC 5869 §2.2)', () => {
  const hmac = (key: Uint8Array, data: Uint8Array) => createHmac('sha256', key).update(data).digest();
  const label = (name: string, context: Buffer) =>
    Buffer.concat([Buffer.of(0, 32, 6 + name.length), Buffer.from('tls13 ' + name, 'latin1'), Buffer.of(context.length), context, Buffer.of(1)]);
  const derived = (secret: Buffer) => hmac(secret, label('derived', digest('sha256', Buffer.alloc(0))));

  for (const psk of [undefined, Buffer.alloc(32, 0x5a)]) {
    it(psk ? 'with a PSK' : 'without a PSK (the prepared no-PSK salt)', () => {
      const shared = Buffer.alloc(32, 0x11);
      const helloHash = Buffer.alloc(32, 0x22);
      const finishedHash = Buffer.alloc(32, 0x33);
      const early = hmac(Buffer.alloc(32), psk ?? Buffer.alloc(32));
      const handshake = hmac(derived(early), shared);
      const master = hmac(derived(handshake), Buffer.alloc(32));
      const ks = new KeySchedule('sha256', psk);
      expect(ks.earlySecret.equals(early)).toBe(true);
      const hs = ks.handshakeTrafficSecrets(shared, helloHash);
      expect(ks.handshakeSecret.equals(handshake)).toBe(true);
      expect(hs.client.equals(hmac(handshake, label('c hs traffic', helloHash)))).toBe(true);
      const app = ks.applicationTrafficSecrets(finishedHash);
      expect(ks.masterSecret.equals(master)).toBe(true);
      expect(masterSecret('sha256', handshake).equals(master)).toBe(true);
      expect(app.server.equals(hmac(master, label('s ap traffic', finishedHash)))).toBe(true);
    });
  }
});

describe('RFC 8448 §4 (resumed 0-RTT handshake): PSK binder and early traffic secret', () => {
  const t4 = loadTrace('section4-resumed-0rtt.txt');
  const v4 = (step: string, field: string) => traceValue(t4, step, field);
  const psk = v4('{client}  extract secret "early"', 'IKM');
  // The trace's "ClientHello" step shows the hello before binders; the record payload is the whole message.
  const hello = v4('{client}  send handshake record', 'payload');

  it('the PSK is the ticket PSK of the §3 session', () => {
    expect(psk.toString('hex')).toBe(v('{server}  generate resumption secret "tls13 resumption"', 'expanded').toString('hex'));
    expect(earlySecret('sha256', psk).toString('hex')).toBe(v4('{client}  extract secret "early"', 'secret').toString('hex'));
  });

  it('truncates the ClientHello before its binders and computes the binder', () => {
    const prefix = v4('{client}  calculate PSK binder', 'ClientHello prefix');
    const truncated = truncateClientHello(hello, [32]);
    expect(truncated.toString('hex')).toBe(prefix.toString('hex'));
    const binderHash = digest('sha256', truncated);
    expect(binderHash.toString('hex')).toBe(v4('{client}  calculate PSK binder', 'binder hash').toString('hex'));
    const binder = computeBinder('sha256', psk, binderHash);
    expect(binder.toString('hex')).toBe(v4('{client}  calculate PSK binder', 'finished').toString('hex'));
    // ...which is what the ClientHello carries as its last 32 bytes.
    expect(hello.subarray(hello.length - 32).equals(binder)).toBe(true);
    expect(verifyBinder('sha256', psk, binderHash, binder)).toBe(true);
  });

  it('client_early_traffic_secret over the whole ClientHello', () => {
    const secret = new KeySchedule('sha256', psk).clientEarlyTrafficSecret(digest('sha256', hello));
    expect(secret.toString('hex')).toBe(v4('{client}  derive secret "tls13 c e traffic"', 'expanded').toString('hex'));
  });
});

describe('RFC 8448 §5 (HelloRetryRequest): message_hash transcript rule (RFC 8446 §4.4.1)', () => {
  const t5 = loadTrace('section5-hello-retry-request.txt');
  const hello1 = traceValue(t5, '{client}  construct a ClientHello', 'ClientHello');
  const hrr = traceValue(t5, '{server}  construct a ServerHello', 'ServerHello');
  /** The trace after the first step with this heading, so that the second one is found next. */
  const afterFirst = (heading: string) => t5.slice(t5.findIndex((l) => l.trim().startsWith(heading)) + 1);
  const hello2 = traceValue(afterFirst('{client}  construct a ClientHello'), '{client}  construct a ClientHello', 'ClientHello');
  const serverHello = traceValue(afterFirst('{server}  construct a ServerHello'), '{server}  construct a ServerHello', 'ServerHello');

  it('decodes the HelloRetryRequest as one, with key_share (secp256r1) and cookie', () => {
    const sh = decodeServerHello(hrr.subarray(4));
    expect(isHelloRetryRequest(sh)).toBe(true);
    expect(sh.extensions.map((e) => e.type)).toEqual([0x33, 0x2c, 0x2b]);
  });

  it('handshake traffic secrets over message_hash(ClientHello1), HRR, ClientHello2, ServerHello', () => {
    const t = new Transcript();
    t.add(hello1);
    t.start('sha256');
    t.replaceWithMessageHash();
    for (const m of [hrr, hello2, serverHello]) t.add(m);
    expect(t.digest().toString('hex')).toBe(traceValue(t5, '{server}  derive secret "tls13 c hs traffic"', 'hash').toString('hex'));
    const secrets = new KeySchedule('sha256').handshakeTrafficSecrets(traceValue(t5, '{server}  extract secret "handshake"', 'IKM'), t.digest());
    expect(secrets.client.toString('hex')).toBe(traceValue(t5, '{server}  derive secret "tls13 c hs traffic"', 'expanded').toString('hex'));
    expect(secrets.server.toString('hex')).toBe(traceValue(t5, '{server}  derive secret "tls13 s hs traffic"', 'expanded').toString('hex'));
  });

  it('P-256 shared secret from the RFC private keys', () => {
    const client = generateKeyShare(NamedGroup.secp256r1, () => traceValue(t5, '{client}  create an ephemeral P-256', 'private key'));
    const server = generateKeyShare(NamedGroup.secp256r1, () => traceValue(t5, '{server}  create an ephemeral P-256', 'private key'));
    expect(client.publicKey.toString('hex')).toBe(traceValue(t5, '{client}  create an ephemeral P-256', 'public key').toString('hex'));
    expect(client.computeSecret(server.publicKey).toString('hex')).toBe(traceValue(t5, '{server}  extract secret "handshake"', 'IKM').toString('hex'));
  });
});
