/**
 * Every handshake failure ends in exactly one 'alert' event with the RFC's alert (RFC 8446 §6,
 * RFC 9001 §4.8: CRYPTO_ERROR 0x100 + alert), and the endpoint then ignores further input.
 */
import { describe, expect, it } from 'vitest';
import type { TlsEndpoint, TlsEvent } from '../../../src/quic/tls/handshake.js';
import { encodeHandshake } from '../../../src/quic/tls/framing.js';
import { decodeClientHello, encodeClientHello, encodeNewSessionTicket, HandshakeType, type ClientHello } from '../../../src/quic/tls/messages.js';
import { ExtensionType, encodeKeyShareClient, encodeMaxEarlyData, encodeSupportedVersionsClient } from '../../../src/quic/tls/extensions.js';
import { CA, CERTS, drive, makeClient, makeServer } from './harness.js';

function drain(endpoint: TlsEndpoint): TlsEvent[] {
  const out: TlsEvent[] = [];
  for (let e = endpoint.poll(); e; e = endpoint.poll()) out.push(e);
  return out;
}

const alerts = (events: TlsEvent[]) => events.filter((e) => e.type === 'alert');

/** The ClientHello our client would send, rewritten by `edit`. */
function editedClientHello(edit: (ch: ClientHello) => ClientHello): Buffer {
  const client = makeClient();
  client.start();
  const raw = (client.poll() as { data: Buffer }).data;
  return encodeHandshake(HandshakeType.client_hello, encodeClientHello(edit(decodeClientHello(raw.subarray(4)))));
}

/** Splits a flight into its handshake messages. */
function messages(flight: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < flight.length; ) {
    const len = flight.readUIntBE(i + 1, 3);
    out.push(flight.subarray(i, i + 4 + len));
    i += 4 + len;
  }
  return out;
}

/** Runs client.start() → server, then gives the client the server's flight after `tamper`. */
function serverFlightTampered(tamper: (handshakeFlight: Buffer) => Buffer): TlsEvent[] {
  const client = makeClient();
  const server = makeServer('ecdsa');
  client.start();
  server.receive('initial', (client.poll() as { data: Buffer }).data);
  drain(client);
  for (const e of drain(server)) {
    if (e.type !== 'handshake-data') continue;
    client.receive(e.level, e.level === 'handshake' ? tamper(Buffer.from(e.data)) : e.data);
  }
  return drain(client);
}

describe('server alerts', () => {
  it('no_application_protocol (120) when ALPN has no overlap', () => {
    const client = makeClient({ alpn: ['h2'] });
    const server = makeServer('ecdsa');
    client.start();
    const r = drive(client, server);
    expect(alerts(r.server.events)).toEqual([expect.objectContaining({ alert: 120 })]);
    expect(server.handshakeComplete).toBe(false);
  });

  it('missing_extension (109) without quic_transport_parameters', () => {
    const client = makeClient({ transportParameters: null });
    const server = makeServer('ecdsa');
    client.start();
    const r = drive(client, server);
    expect(alerts(r.server.events)).toEqual([expect.objectContaining({ alert: 109 })]);
  });

  it('protocol_version (70) when TLS 1.3 is not offered', () => {
    const server = makeServer('ecdsa');
    server.receive('initial', editedClientHello((ch) => ({
      ...ch,
      extensions: ch.extensions.map((e) => (e.type === ExtensionType.supported_versions ? { type: e.type, data: encodeSupportedVersionsClient([0x0303]) } : e)),
    })));
    expect(alerts(drain(server))).toEqual([expect.objectContaining({ alert: 70 })]);
  });

  it('PROTOCOL_VIOLATION for a non-empty legacy_session_id (RFC 9001 §8.4)', () => {
    const server = makeServer('ecdsa');
    server.receive('initial', editedClientHello((ch) => ({ ...ch, legacySessionId: Buffer.alloc(32, 7) })));
    expect(alerts(drain(server))).toEqual([expect.objectContaining({ alert: 47, transportError: 0x0a })]);
  });

  it('illegal_parameter (47) when pre_shared_key is not last', () => {
    const server = makeServer('ecdsa');
    const psk = { type: ExtensionType.pre_shared_key, data: Buffer.alloc(50) };
    server.receive('initial', editedClientHello((ch) => ({ ...ch, extensions: [psk, ...ch.extensions] })));
    expect(alerts(drain(server))).toEqual([expect.objectContaining({ alert: 47 })]);
  });

  it('illegal_parameter (47) for an invalid key share, before anything is sent (RFC 8446 §4.2.8.2, §7.4.2)', () => {
    for (const keyExchange of [Buffer.alloc(32) /* small-order X25519 point */, Buffer.alloc(31, 9)]) {
      const server = makeServer('ecdsa');
      server.receive('initial', editedClientHello((ch) => ({
        ...ch,
        extensions: ch.extensions.map((e) => (e.type === ExtensionType.key_share ? { type: e.type, data: encodeKeyShareClient([{ group: 0x1d, keyExchange }]) } : e)),
      })));
      expect(drain(server)).toEqual([expect.objectContaining({ type: 'alert', alert: 47 })]);
    }
  });

  it('handshake_failure (40) without a common cipher suite', () => {
    const server = makeServer('ecdsa', { suites: [0x1302] });
    const client = makeClient({ suites: [0x1301] });
    client.start();
    expect(alerts(drive(client, server).server.events)).toEqual([expect.objectContaining({ alert: 40 })]);
  });

  it('decode_error (50) for a truncated ClientHello body', () => {
    const server = makeServer('ecdsa');
    const good = editedClientHello((ch) => ch);
    const cut = Buffer.from(good.subarray(0, 60));
    cut.writeUIntBE(56, 1, 3);
    server.receive('initial', cut);
    expect(alerts(drain(server))).toEqual([expect.objectContaining({ alert: 50 })]);
  });

  it('unexpected_message (10) for a non-ClientHello first message, or at a level not read yet', () => {
    const a = makeServer('ecdsa');
    a.receive('initial', encodeHandshake(HandshakeType.finished, Buffer.alloc(32)));
    expect(alerts(drain(a))).toEqual([expect.objectContaining({ alert: 10 })]);
    const b = makeServer('ecdsa');
    b.receive('handshake', editedClientHello((ch) => ch));
    expect(alerts(drain(b))).toEqual([{ type: 'alert', alert: 10, description: expect.any(String) }]);
  });

  it('PROTOCOL_VIOLATION for new data at a level already left, or left over at a key change (RFC 9001 §4.1.3)', () => {
    const hello = editedClientHello((ch) => ch);
    const a = makeServer('ecdsa');
    a.receive('initial', hello);
    drain(a);
    a.receive('initial', Buffer.from([1, 0, 0]));
    expect(alerts(drain(a))).toEqual([expect.objectContaining({ alert: 10, transportError: 0x0a })]);
    const b = makeServer('ecdsa');
    b.receive('initial', Buffer.concat([hello, Buffer.from([20, 0])]));
    expect(alerts(drain(b))).toEqual([expect.objectContaining({ alert: 10, transportError: 0x0a })]);
  });

  it('decrypt_error (51) for a wrong client Finished', () => {
    const client = makeClient();
    const server = makeServer('ecdsa');
    client.start();
    server.receive('initial', (client.poll() as { data: Buffer }).data);
    for (const e of drain(server)) if (e.type === 'handshake-data') client.receive(e.level, e.data);
    const fin = drain(client).find((e) => e.type === 'handshake-data' && e.level === 'handshake') as { data: Buffer };
    const bad = Buffer.from(fin.data);
    bad[bad.length - 1]! ^= 0x80;
    server.receive('handshake', bad);
    expect(alerts(drain(server))).toEqual([expect.objectContaining({ alert: 51 })]);
    expect(server.handshakeComplete).toBe(false);
  });

  it('PROTOCOL_VIOLATION for EndOfEarlyData (RFC 9001 §8.3) and 0x10a for KeyUpdate (RFC 9001 §6)', () => {
    const client = makeClient();
    const server = makeServer('ecdsa');
    client.start();
    server.receive('initial', (client.poll() as { data: Buffer }).data);
    drain(server);
    server.receive('handshake', encodeHandshake(HandshakeType.end_of_early_data, Buffer.alloc(0)));
    expect(alerts(drain(server))).toEqual([expect.objectContaining({ alert: 10, transportError: 0x0a })]);

    const c2 = makeClient();
    const s2 = makeServer('ecdsa');
    c2.start();
    drive(c2, s2);
    s2.receive('application', encodeHandshake(HandshakeType.key_update, Buffer.of(0)));
    c2.receive('application', encodeHandshake(HandshakeType.key_update, Buffer.of(0)));
    expect(alerts(drain(s2))).toEqual([expect.objectContaining({ alert: 10 })]);
    expect(alerts(drain(c2))).toEqual([expect.objectContaining({ alert: 10 })]);
  });

  it('refuses a handshake message declaring more than the size limit, before buffering it', () => {
    const server = makeServer('ecdsa');
    server.receive('initial', Buffer.from([1, 0xff, 0xff, 0xff]));
    expect(alerts(drain(server))).toEqual([expect.objectContaining({ alert: 47 })]);
  });
});

describe('client alerts', () => {
  it('bad_certificate (42) for a name the certificate does not cover', () => {
    const client = makeClient({ serverName: 'example.org' });
    client.start();
    const r = drive(client, makeServer('ecdsa'));
    expect(alerts(r.client.events)).toEqual([expect.objectContaining({ alert: 42 })]);
  });

  it('checks IP literals against the certificate IP addresses', () => {
    const ok = makeClient({ serverName: '127.0.0.1' });
    ok.start();
    drive(ok, makeServer('rsa'));
    expect(ok.handshakeComplete).toBe(true);
    const bad = makeClient({ serverName: '10.0.0.1' });
    bad.start();
    expect(alerts(drive(bad, makeServer('rsa')).client.events)).toEqual([expect.objectContaining({ alert: 42 })]);
  });

  it('unknown_ca (48) for a chain to another CA', () => {
    const client = makeClient({ ca: [CERTS.rsa.cert] });
    client.start();
    expect(alerts(drive(client, makeServer('ecdsa')).client.events)).toEqual([expect.objectContaining({ alert: 48 })]);
  });

  it('certificate_expired (45) outside the validity dates', () => {
    const client = makeClient({ now: () => Date.parse('2060-01-01T00:00:00Z') });
    client.start();
    expect(alerts(drive(client, makeServer('ecdsa')).client.events)).toEqual([expect.objectContaining({ alert: 45 })]);
  });

  it('insecure skips the chain and name checks only', () => {
    const client = makeClient({ serverName: 'example.org', ca: [CERTS.rsa.cert], insecure: true });
    client.start();
    drive(client, makeServer('ed25519'));
    expect(client.handshakeComplete).toBe(true);
    // ...but a bad signature still fails.
    const events = serverFlightTampered((flight) => {
      const cv = messages(flight).find((m) => m[0] === HandshakeType.certificate_verify)!;
      cv[cv.length - 5]! ^= 1;
      return flight;
    });
    expect(alerts(events)).toEqual([expect.objectContaining({ alert: 51 })]);
  });

  it('decrypt_error (51) for a wrong server Finished', () => {
    const events = serverFlightTampered((flight) => {
      flight[flight.length - 1]! ^= 1;
      return flight;
    });
    expect(alerts(events)).toEqual([expect.objectContaining({ alert: 51 })]);
  });

  it('decode_error (50) for an empty server Certificate', () => {
    const events = serverFlightTampered((flight) => {
      const parts = messages(flight);
      const i = parts.findIndex((m) => m[0] === HandshakeType.certificate);
      parts[i] = encodeHandshake(HandshakeType.certificate, Buffer.from([0, 0, 0, 0]));
      return Buffer.concat(parts);
    });
    expect(alerts(events)).toEqual([expect.objectContaining({ alert: 50 })]);
  });

  it('unexpected_message (10) when the server skips CertificateVerify', () => {
    const events = serverFlightTampered((flight) => Buffer.concat(messages(flight).filter((m) => m[0] !== HandshakeType.certificate_verify)));
    expect(alerts(events)).toEqual([expect.objectContaining({ alert: 10 })]);
  });

  it('PROTOCOL_VIOLATION for a NewSessionTicket whose max_early_data_size is not 0xffffffff (RFC 9001 §4.6.1)', () => {
    const client = makeClient();
    client.start();
    drive(client, makeServer('ecdsa'));
    const nst = encodeNewSessionTicket({
      lifetime: 3600,
      ageAdd: 1,
      nonce: Buffer.alloc(1),
      ticket: Buffer.alloc(40, 1),
      extensions: [{ type: ExtensionType.early_data, data: encodeMaxEarlyData(16384) }],
    });
    client.receive('application', encodeHandshake(HandshakeType.new_session_ticket, nst));
    expect(alerts(drain(client))).toEqual([expect.objectContaining({ alert: 47, transportError: 0x0a })]);
  });

  it('goes silent after an alert', () => {
    const client = makeClient({ serverName: 'example.org' });
    const server = makeServer('ecdsa');
    client.start();
    drive(client, server);
    client.receive('handshake', Buffer.alloc(100, 1));
    expect(client.poll()).toBeUndefined();
  });

  it('works with a CA list in one PEM string and a leaf equal to a trust anchor', () => {
    const client = makeClient({ ca: [CA + '\n' + CERTS.rsa.cert] });
    client.start();
    drive(client, makeServer('ecdsa'));
    expect(client.handshakeComplete).toBe(true);
    const pinned = makeClient({ ca: [CERTS.ed25519.cert] });
    pinned.start();
    drive(pinned, makeServer('ed25519'));
    expect(pinned.handshakeComplete).toBe(true);
  });
});

describe('configuration errors throw at construction, not during a handshake', () => {
  it('a private key that does not match the certificate', () => {
    expect(() => makeServer('ecdsa', { privateKey: CERTS.rsa.key })).toThrow(TypeError);
  });

  it('no ALPN protocol to offer or accept (RFC 9001 §8.1)', () => {
    expect(() => makeClient({ alpn: [] })).toThrow(TypeError);
    expect(() => makeClient({ alpn: [''] })).toThrow(TypeError);
    expect(() => makeServer('ecdsa', { alpn: [] })).toThrow(TypeError);
  });
});
