/**
 * Full TLS 1.3 handshakes for QUIC between our client and server in memory (RFC 8446 §2,
 * RFC 9001 §4): every suite × group × certificate key type, HelloRetryRequest (§4.1.4),
 * resumption (§2.2), 0-RTT (§2.3) with single-use tickets (§8.1), and keys announced in the
 * order RFC 9001 §4.1.4 needs.
 */
import { describe, expect, it } from 'vitest';
import type { SessionTicket } from '../../../src/quic/tls/handshake.js';
import { cipherSuite, DEFAULT_CIPHER_SUITES } from '../../../src/quic/tls/cipher-suites.js';
import { DEFAULT_GROUPS, isSupportedGroup, NamedGroup } from '../../../src/quic/tls/key-exchange.js';
import { DEFAULT_SIGNATURE_SCHEMES, isSupportedScheme } from '../../../src/quic/tls/signature.js';
import * as ext from '../../../src/quic/tls/extensions.js';
import { encodeHandshake } from '../../../src/quic/tls/framing.js';
import { decodeClientHello, encodeClientHello, HELLO_RETRY_REQUEST_RANDOM, HandshakeType } from '../../../src/quic/tls/messages.js';
import { SingleUseTicketStore } from '../../../src/quic/tls/tickets.js';
import { CERTS, CLIENT_TP, drive, keyEvents, makeClient, makeServer, NOW, SERVER_TP, seededRandom, type CertKind, type Side } from './harness.js';

const SUITES = [0x1301, 0x1302, 0x1303];
const GROUPS = [NamedGroup.x25519, NamedGroup.secp256r1];
const KINDS = Object.keys(CERTS) as CertKind[];

/** Each side's write secret at a level equals the other side's read secret there. */
function expectMatchingKeys(client: Side, server: Side, levels: string[]): void {
  const find = (side: Side, level: string, direction: string) => keyEvents(side).find((k) => k.level === level && k.direction === direction);
  for (const level of levels) {
    const cw = find(client, level, 'write');
    const sr = find(server, level, 'read');
    expect(cw, `client ${level} write`).toBeDefined();
    expect(sr?.secret.equals(cw!.secret), `${level} client→server`).toBe(true);
    if (level === 'early') continue;
    const sw = find(server, level, 'write');
    expect(find(client, level, 'read')?.secret.equals(sw!.secret), `${level} server→client`).toBe(true);
  }
}

const order = (side: Side) => side.events.map((e) => (e.type === 'keys' ? `${e.level}:${e.direction}` : e.type));

function connect(kind: CertKind, suite: number, group: number) {
  const client = makeClient({ suites: [suite], groups: [group] });
  const server = makeServer(kind);
  client.start();
  return { client, server, sides: drive(client, server) };
}

describe('full handshake', () => {
  for (const suite of SUITES) {
    for (const group of GROUPS) {
      for (const kind of KINDS) {
        it(`suite 0x${suite.toString(16)}, group 0x${group.toString(16)}, ${kind} certificate`, () => {
          const { client, server, sides: r } = connect(kind, suite, group);
          expect(r.client.events.find((e) => e.type === 'alert')).toBeUndefined();
          expect(r.server.events.find((e) => e.type === 'alert')).toBeUndefined();
          expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
          expect([client.suite, server.suite]).toEqual([suite, suite]);
          expect([client.alpn, server.alpn]).toEqual(['h3', 'h3']);
          expect(client.peerTransportParameters).toEqual(SERVER_TP);
          expect(server.peerTransportParameters).toEqual(CLIENT_TP);
          expectMatchingKeys(r.client, r.server, ['handshake', 'application']);
          for (const k of [...keyEvents(r.client), ...keyEvents(r.server)]) {
            expect(k.suite).toBe(suite);
            expect(k.secret.length).toBe(suite === 0x1302 ? 48 : 32);
          }
          // RFC 9001 §4.1.4 order.
          expect(order(r.server)).toEqual(['handshake:write', 'handshake:read', 'application:write', 'application:read', 'complete']);
          expect(order(r.client)).toEqual(['handshake:read', 'handshake:write', 'application:write', 'application:read', 'complete']);
          // ServerHello alone at initial, the rest of the flight at handshake (RFC 9001 §4.1.3).
          expect(r.server.sent.map((s) => s.level)).toEqual(['initial', 'handshake']);
          expect(r.client.sent.map((s) => s.level)).toEqual(['initial', 'handshake']);
          expect(client.peerPublicKey?.asymmetricKeyType).toBe(kind === 'rsa' ? 'rsa' : kind === 'ecdsa' ? 'ec' : 'ed25519');
        });
      }
    }
  }

  it('prefers the server ALPN order among the client offers', () => {
    const client = makeClient({ alpn: ['h3-29', 'h3'] });
    const server = makeServer('ecdsa', { alpn: ['h3', 'h3-29'] });
    client.start();
    drive(client, server);
    expect([client.alpn, server.alpn]).toEqual(['h3', 'h3']);
  });

  it('passes the client transport parameters to a server callback', () => {
    let seen: Buffer | null = null;
    const client = makeClient();
    const server = makeServer('ecdsa', { transportParameters: (tp) => ((seen = tp), SERVER_TP) });
    client.start();
    drive(client, server);
    expect(seen).toEqual(CLIENT_TP);
    expect(client.peerTransportParameters).toEqual(SERVER_TP);
  });

  it('writes the same NSS keylog lines on both sides', () => {
    const clientLines: string[] = [];
    const serverLines: string[] = [];
    const client = makeClient({ keylog: (l) => clientLines.push(l) });
    const server = makeServer('ecdsa', { keylog: (l) => serverLines.push(l) });
    client.start();
    drive(client, server);
    expect(new Set(clientLines)).toEqual(new Set(serverLines));
    const labels = clientLines.map((l) => l.split(' ')[0]).sort();
    expect(labels).toEqual(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0']);
    for (const line of clientLines) expect(line).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64}$/);
  });
});

describe('HelloRetryRequest (RFC 8446 §4.1.4)', () => {
  for (const [clientGroups, serverGroups] of [
    [[NamedGroup.x25519, NamedGroup.secp256r1], [NamedGroup.secp256r1]],
    [[NamedGroup.secp256r1, NamedGroup.x25519], [NamedGroup.x25519]],
  ] as const) {
    it(`client shares 0x${clientGroups[0].toString(16)}, server only takes 0x${serverGroups[0].toString(16)}`, () => {
      const client = makeClient({ groups: [...clientGroups] });
      const server = makeServer('rsa', { groups: [...serverGroups] });
      client.start();
      const r = drive(client, server);
      expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
      // Server: HRR, then ServerHello, both at initial; client: two ClientHellos.
      const hrr = r.server.sent[0]!;
      expect(hrr.level).toBe('initial');
      expect(hrr.data[0]).toBe(HandshakeType.server_hello);
      expect(hrr.data.subarray(6, 38).equals(HELLO_RETRY_REQUEST_RANDOM)).toBe(true);
      expect(r.client.sent.map((s) => s.level)).toEqual(['initial', 'initial', 'handshake']);
      expectMatchingKeys(r.client, r.server, ['handshake', 'application']);
    });
  }

  it('fails with handshake_failure when no group is shared', () => {
    const client = makeClient({ groups: [NamedGroup.x25519] });
    const server = makeServer('ecdsa', { groups: [NamedGroup.secp256r1] });
    client.start();
    const r = drive(client, server);
    expect(r.server.events).toEqual([expect.objectContaining({ type: 'alert', alert: 40 })]);
  });
});

/** A first connection that ends with a session ticket. */
function firstSession(serverOptions: Parameters<typeof makeServer>[1] = {}): SessionTicket {
  const client = makeClient();
  const server = makeServer('ecdsa', serverOptions);
  client.start();
  drive(client, server);
  server.sendSessionTicket(NOW);
  const r = drive(client, server);
  const t = r.client.events.find((e) => e.type === 'session-ticket');
  expect(t).toBeDefined();
  return (t as { ticket: SessionTicket }).ticket;
}

describe('resumption and 0-RTT', () => {
  const ticketKey = seededRandom('ticket-key')(32);

  it('issues a ticket at the application level that remembers suite, ALPN and transport parameters', () => {
    const client = makeClient();
    const server = makeServer('ecdsa', { ticketKey, maxEarlyData: 0xffffffff });
    client.start();
    drive(client, server);
    server.sendSessionTicket(NOW);
    const r = drive(client, server);
    expect(r.server.sent.map((s) => s.level)).toEqual(['application']);
    const ticket = (r.client.events[0] as { ticket: SessionTicket }).ticket;
    expect(ticket).toMatchObject({ suite: 0x1301, alpn: 'h3', serverName: 'localhost', maxEarlyData: 0xffffffff, receivedAt: NOW });
    expect(ticket.transportParameters).toEqual(SERVER_TP);
  });

  it('resumes with a PSK: no Certificate, same keys on both sides', () => {
    const ticket = firstSession({ ticketKey });
    const client = makeClient({ session: ticket, random: seededRandom('client-2') });
    const server = makeServer('ecdsa', { ticketKey, random: seededRandom('server-2') });
    client.start();
    const r = drive(client, server);
    expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
    expect(client.peerPublicKey).toBeNull(); // no certificate in a PSK handshake
    expect(client.earlyDataAccepted).toBe(false);
    expectMatchingKeys(r.client, r.server, ['handshake', 'application']);
  });

  it('resumes after a HelloRetryRequest (binder over message_hash + HRR + ClientHello2)', () => {
    const ticket = firstSession({ ticketKey });
    const client = makeClient({ session: ticket, groups: [NamedGroup.x25519, NamedGroup.secp256r1], random: seededRandom('c3') });
    const server = makeServer('ecdsa', { ticketKey, groups: [NamedGroup.secp256r1], random: seededRandom('s3') });
    client.start();
    const r = drive(client, server);
    expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
    expect(client.peerPublicKey).toBeNull();
    expect(r.client.sent.length).toBe(3);
  });

  it('falls back to a full handshake for a ticket sealed under another key', () => {
    const ticket = firstSession({ ticketKey });
    const client = makeClient({ session: ticket });
    const server = makeServer('ecdsa', { ticketKey: seededRandom('other')(32) });
    client.start();
    drive(client, server);
    expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
    expect(client.peerPublicKey).not.toBeNull();
  });

  it('accepts 0-RTT once: early keys match, then a second use of the ticket is refused but completes', () => {
    const store = new SingleUseTicketStore();
    const options = { ticketKey, ticketStore: store, maxEarlyData: 0xffffffff };
    const ticket = firstSession(options);

    const client = makeClient({ session: ticket, earlyData: true, random: seededRandom('c4'), now: () => NOW + 1000 });
    const server = makeServer('ecdsa', { ...options, random: seededRandom('s4'), now: () => NOW + 1000 });
    client.start();
    const r = drive(client, server);
    expect(order(r.client)[0]).toBe('early:write');
    expect(order(r.server)).toEqual(['early:read', 'handshake:write', 'handshake:read', 'application:write', 'application:read', 'complete']);
    expect(client.earlyDataAccepted && server.earlyDataAccepted).toBe(true);
    expectMatchingKeys(r.client, r.server, ['early', 'handshake', 'application']);

    // The same ticket again (a replay of its 0-RTT): early data refused, handshake completes.
    const again = makeClient({ session: ticket, earlyData: true, random: seededRandom('c5'), now: () => NOW + 2000 });
    const server2 = makeServer('ecdsa', { ...options, random: seededRandom('s5'), now: () => NOW + 2000 });
    again.start();
    const r2 = drive(again, server2);
    expect(order(r2.client)[0]).toBe('early:write'); // the client did try
    expect(r2.server.events.some((e) => e.type === 'keys' && e.level === 'early')).toBe(false);
    expect(again.earlyDataAccepted || server2.earlyDataAccepted).toBe(false);
    expect(again.handshakeComplete && server2.handshakeComplete).toBe(true);
  });

  it('logs CLIENT_EARLY_TRAFFIC_SECRET on both sides when 0-RTT is used', () => {
    const options = { ticketKey, ticketStore: new SingleUseTicketStore(), maxEarlyData: 0xffffffff };
    const ticket = firstSession(options);
    const clientLines: string[] = [];
    const serverLines: string[] = [];
    const client = makeClient({ session: ticket, earlyData: true, random: seededRandom('c10'), keylog: (l) => clientLines.push(l) });
    const server = makeServer('ecdsa', { ...options, random: seededRandom('s10'), keylog: (l) => serverLines.push(l) });
    client.start();
    const r = drive(client, server);
    const early = (lines: string[]) => lines.filter((l) => l.startsWith('CLIENT_EARLY_TRAFFIC_SECRET '));
    expect(early(clientLines)).toHaveLength(1);
    expect(early(serverLines)).toEqual(early(clientLines));
    const earlyKey = keyEvents(r.client).find((k) => k.level === 'early')!;
    expect(early(clientLines)[0]!.endsWith(earlyKey.secret.toString('hex'))).toBe(true);
  });

  it('refuses the 0-RTT of a replayed ClientHello', () => {
    const store = new SingleUseTicketStore();
    const options = { ticketKey, ticketStore: store, maxEarlyData: 0xffffffff };
    const ticket = firstSession(options);
    const client = makeClient({ session: ticket, earlyData: true, random: seededRandom('c6') });
    client.start();
    const hello = client.poll();
    expect(hello?.type).toBe('handshake-data');
    const bytes = (hello as { data: Buffer }).data;

    const first = makeServer('ecdsa', { ...options, random: seededRandom('s6') });
    first.receive('initial', bytes);
    expect(first.earlyDataAccepted).toBe(true);
    const replayTarget = makeServer('ecdsa', { ...options, random: seededRandom('s7') });
    replayTarget.receive('initial', bytes);
    expect(replayTarget.earlyDataAccepted).toBe(false);
    const events = [];
    for (let e = replayTarget.poll(); e; e = replayTarget.poll()) events.push(e);
    expect(events.some((e) => e.type === 'keys' && e.level === 'early')).toBe(false);
    expect(events.some((e) => e.type === 'alert')).toBe(false); // the handshake goes on without 0-RTT
  });

  it('refuses 0-RTT when the ticket age is far from the server view (RFC 8446 §8.3)', () => {
    const options = { ticketKey, ticketStore: new SingleUseTicketStore(), maxEarlyData: 0xffffffff };
    const ticket = firstSession(options);
    // The client believes a minute passed; the server saw an hour.
    const client = makeClient({ session: ticket, earlyData: true, random: seededRandom('c8'), now: () => NOW + 60_000 });
    const server = makeServer('ecdsa', { ...options, random: seededRandom('s8'), now: () => NOW + 3_600_000 });
    client.start();
    drive(client, server);
    expect(server.handshakeComplete).toBe(true);
    expect(server.earlyDataAccepted).toBe(false);
  });

  it('refuses 0-RTT for a ticket issued under another early data context (RFC 9001 §4.6.2)', () => {
    const options = { ticketKey, ticketStore: new SingleUseTicketStore(), maxEarlyData: 0xffffffff, earlyDataContext: Buffer.from('settings v1') };
    const ticket = firstSession(options);
    const client = makeClient({ session: ticket, earlyData: true, random: seededRandom('c9') });
    const server = makeServer('ecdsa', { ...options, earlyDataContext: Buffer.from('settings v2'), random: seededRandom('s9') });
    client.start();
    drive(client, server);
    expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
    expect(client.peerPublicKey).toBeNull(); // resumed all the same
    expect(server.earlyDataAccepted || client.earlyDataAccepted).toBe(false);
  });

  it('does not offer an expired ticket', () => {
    const ticket = firstSession({ ticketKey });
    const client = makeClient({ session: ticket, now: () => NOW + (ticket.lifetime + 1) * 1000 });
    const server = makeServer('ecdsa', { ticketKey, now: () => NOW + (ticket.lifetime + 1) * 1000 });
    client.start();
    drive(client, server);
    expect(client.handshakeComplete).toBe(true);
    expect(client.peerPublicKey).not.toBeNull(); // full handshake
  });
});

describe('ticket policy', () => {
  it('sends no ticket to a client that lists no psk_dhe_ke (RFC 8446 §4.2.9)', () => {
    for (const resumption of [false, true]) {
      const client = makeClient({ resumption });
      const server = makeServer('ecdsa');
      client.start();
      drive(client, server);
      expect(server.handshakeComplete).toBe(true);
      server.sendSessionTicket(NOW);
      expect(server.poll()?.type).toBe(resumption ? 'handshake-data' : undefined);
    }
  });

  it("selects the ticket's suite so that 0-RTT can be accepted (RFC 8446 §4.2.10)", () => {
    const ticketKey = seededRandom('suite-ticket')(32);
    const options = { ticketKey, maxEarlyData: 0xffffffff };
    const c1 = makeClient({ suites: [0x1303] });
    const s1 = makeServer('ecdsa', options);
    c1.start();
    drive(c1, s1);
    s1.sendSessionTicket(NOW);
    const ticket = (drive(c1, s1).client.events[0] as { ticket: SessionTicket }).ticket;
    expect(ticket.suite).toBe(0x1303);
    const c2 = makeClient({ session: ticket, earlyData: true, random: seededRandom('c-suite') });
    const s2 = makeServer('ecdsa', { ...options, random: seededRandom('s-suite') });
    c2.start();
    drive(c2, s2);
    expect(s2.suite).toBe(0x1303);
    expect(c2.earlyDataAccepted && s2.earlyDataAccepted).toBe(true);
  });
});

describe('GREASE and unknown values in a ClientHello (RFC 8701, RFC 8446 §4.1.2, §4.2)', () => {
  it('the server ignores GREASE suites, groups, key shares, signature schemes, ALPN and extensions', () => {
    const client = makeClient();
    client.start();
    const raw = (client.poll() as { data: Buffer }).data;
    const ch = decodeClientHello(raw.subarray(4));
    const grease = 0x2a2a;
    const edited = {
      ...ch,
      cipherSuites: [grease, ...ch.cipherSuites],
      extensions: [
        { type: grease, data: Buffer.alloc(0) },
        { type: 0x4469 /* application_settings */, data: Buffer.from('0003026833', 'hex') },
        ...ch.extensions.map((e) => {
          if (e.type === ext.ExtensionType.supported_groups) return { type: e.type, data: ext.encodeU16List([grease, 0x11ec, ...ext.decodeU16List(e.data, 'g')]) };
          if (e.type === ext.ExtensionType.key_share) {
            return { type: e.type, data: ext.encodeKeyShareClient([{ group: grease, keyExchange: Buffer.of(0) }, { group: 0x11ec, keyExchange: Buffer.alloc(1216, 1) }, ...ext.decodeKeyShareClient(e.data)]) };
          }
          if (e.type === ext.ExtensionType.signature_algorithms) return { type: e.type, data: ext.encodeU16List([grease, ...ext.decodeU16List(e.data, 's')]) };
          if (e.type === ext.ExtensionType.application_layer_protocol_negotiation) return { type: e.type, data: ext.encodeAlpn(['\u000a\u000a', 'h3']) };
          return e;
        }),
        { type: 0x0a0a, data: Buffer.of(0) },
      ],
    };
    const server = makeServer('ecdsa');
    server.receive('initial', encodeHandshake(1, encodeClientHello(edited)));
    const events = [];
    for (let e = server.poll(); e; e = server.poll()) events.push(e);
    expect(events.filter((e) => e.type === 'alert')).toEqual([]);
    expect(server.suite).toBe(0x1301);
    expect(server.alpn).toBe('h3');
    expect(events.map((e) => (e.type === 'keys' ? `${e.level}:${e.direction}` : e.type))).toEqual([
      'handshake-data',
      'handshake:write',
      'handshake:read',
      'handshake-data',
      'application:write',
    ]);
  });
});

describe('ClientHello extensions that come from the options', () => {
  function helloOf(overrides: Parameters<typeof makeClient>[0]) {
    const client = makeClient(overrides);
    client.start();
    for (let e = client.poll(); e; e = client.poll()) {
      if (e.type === 'handshake-data') return decodeClientHello(e.data.subarray(4));
    }
    throw new Error('no ClientHello');
  }

  it('server_name names a host, and is left out for an address literal (RFC 6066 §3), connection after connection', () => {
    for (let i = 0; i < 2; i++) {
      expect(ext.decodeServerName(ext.findExtension(helloOf({ serverName: 'localhost' }).extensions, ext.ExtensionType.server_name)!)).toBe('localhost');
      expect(ext.decodeServerName(ext.findExtension(helloOf({ serverName: 'a.example.test' }).extensions, ext.ExtensionType.server_name)!)).toBe('a.example.test');
      expect(ext.findExtension(helloOf({ serverName: '127.0.0.1' }).extensions, ext.ExtensionType.server_name)).toBeUndefined();
      expect(ext.findExtension(helloOf({ serverName: '::1' }).extensions, ext.ExtensionType.server_name)).toBeUndefined();
    }
  });

  it('offers the ALPN list as it is when each connection starts, also when the same array was changed in place (RFC 7301 §3.1)', () => {
    const alpn = ['h3', 'hq-interop'];
    const offered = () => ext.decodeAlpn(ext.findExtension(helloOf({ alpn }).extensions, ext.ExtensionType.application_layer_protocol_negotiation)!);
    expect(offered()).toEqual(['h3', 'hq-interop']);
    expect(offered()).toEqual(['h3', 'hq-interop']);
    alpn[1] = 'h3-29';
    expect(offered()).toEqual(['h3', 'h3-29']);
    alpn.push('x');
    expect(offered()).toEqual(['h3', 'h3-29', 'x']);
    expect(ext.decodeAlpn(ext.findExtension(helloOf({ alpn: ['other'] }).extensions, ext.ExtensionType.application_layer_protocol_negotiation)!)).toEqual(['other']);
  });

  it('the server names each selected protocol in EncryptedExtensions (RFC 7301 §3.2)', () => {
    for (const protocol of ['h3', 'hq-interop', 'h3']) {
      const client = makeClient({ alpn: [protocol] });
      const server = makeServer('ecdsa', { alpn: ['hq-interop', 'h3'] });
      client.start();
      drive(client, server);
      expect([client.handshakeComplete, client.alpn, server.alpn], protocol).toEqual([true, protocol, protocol]);
    }
  });
});

describe('offered suites, groups and signature schemes (RFC 8446 §4.1.2, §4.2.3, §4.2.7)', () => {
  const offered = (client: ReturnType<typeof makeClient>) => {
    client.start();
    const ch = decodeClientHello((client.poll() as { data: Buffer }).data.subarray(4));
    const body = (type: number) => ch.extensions.find((e) => e.type === type)!.data;
    return {
      suites: ch.cipherSuites,
      groups: ext.decodeU16List(body(ext.ExtensionType.supported_groups), 'groups'),
      schemes: ext.decodeU16List(body(ext.ExtensionType.signature_algorithms), 'schemes'),
    };
  };

  it('every default suite, group and scheme is one we support: a client or server that sets none offers them unfiltered', () => {
    expect(DEFAULT_CIPHER_SUITES.every((id) => cipherSuite(id) !== undefined)).toBe(true);
    expect(DEFAULT_GROUPS.every(isSupportedGroup)).toBe(true);
    expect(DEFAULT_SIGNATURE_SCHEMES.every(isSupportedScheme)).toBe(true);
    const defaults = offered(makeClient());
    expect(defaults.suites).toEqual([...DEFAULT_CIPHER_SUITES]);
    expect(defaults.groups).toEqual([...DEFAULT_GROUPS]);
    expect(defaults.schemes).toEqual([...DEFAULT_SIGNATURE_SCHEMES]);
  });

  it('a client with its own lists offers them, and the defaults other clients share stay as they were', () => {
    const before = offered(makeClient());
    expect(before.suites).toEqual([0x1301, 0x1302, 0x1303]);
    expect(before.groups[0]).toBe(NamedGroup.x25519);
    const own = offered(makeClient({ suites: [0x1303, 0x9999], groups: [NamedGroup.secp256r1], signatureSchemes: [0x0403] }));
    expect(own.suites).toEqual([0x1303]); // an unknown suite is left out
    expect(own.groups).toEqual([NamedGroup.secp256r1]);
    expect(own.schemes).toEqual([0x0403]);
    expect(offered(makeClient())).toEqual(before);
  });
});
