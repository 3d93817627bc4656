/**
 * Interop with a real TLS 1.3 stack: our client against a node:tls (OpenSSL) server over TCP on
 * 127.0.0.1. node:tls cannot carry QUIC, so a record layer written here (RFC 8446 §5) carries our
 * handshake messages: plaintext handshake records until ServerHello, then AEAD records under the
 * traffic keys our client announces (key and iv from HKDF-Expand-Label, §7.3; per-record nonce,
 * §5.3; inner content type, §5.2). The ClientHello goes without quic_transport_parameters.
 * Covered: every suite, both groups, every certificate key type, HelloRetryRequest, resumption with
 * a node-issued ticket, application data both ways, and keylog lines identical to OpenSSL's.
 * The same in reverse: our server (transport parameters off) against tls.connect clients.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { cipherSuite } from '../../../src/quic/tls/cipher-suites.js';
import type { TlsClient } from '../../../src/quic/tls/client.js';
import type { SessionTicket, TlsEndpoint, TlsEvent } from '../../../src/quic/tls/handshake.js';
import { hkdfExpandLabel } from '../../../src/quic/tls/hkdf.js';
import { NamedGroup } from '../../../src/quic/tls/key-exchange.js';
import type { ServerOptions, TlsServer } from '../../../src/quic/tls/server.js';
import { CA, CERTS, makeClient, makeServer, seededRandom, type CertKind } from './harness.js';

const ContentType = { change_cipher_spec: 20, alert: 21, handshake: 22, application_data: 23 } as const;

/** One direction of record protection (RFC 8446 §5.2, §5.3). */
class RecordProtection {
  private seq = 0n;
  private readonly key: Buffer;
  private readonly iv: Buffer;
  private readonly aead: string;

  constructor(secret: Buffer, suiteId: number) {
    const suite = cipherSuite(suiteId)!;
    this.aead = suite.aead;
    this.key = hkdfExpandLabel(suite.hash, secret, 'key', Buffer.alloc(0), suite.keyLength);
    this.iv = hkdfExpandLabel(suite.hash, secret, 'iv', Buffer.alloc(0), suite.ivLength);
  }

  private nonce(): Buffer {
    const n = Buffer.from(this.iv);
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(this.seq++);
    for (let i = 0; i < 8; i++) n[n.length - 8 + i]! ^= seq[i]!;
    return n;
  }

  seal(type: number, content: Buffer): Buffer {
    const inner = Buffer.concat([content, Buffer.of(type)]);
    const header = Buffer.from([ContentType.application_data, 3, 3, 0, 0]);
    header.writeUInt16BE(inner.length + 16, 3);
    const cipher = createCipheriv(this.aead as 'aes-128-gcm', this.key, this.nonce(), { authTagLength: 16 });
    cipher.setAAD(header);
    return Buffer.concat([header, cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
  }

  open(header: Buffer, body: Buffer): { type: number; content: Buffer } {
    const decipher = createDecipheriv(this.aead as 'aes-128-gcm', this.key, this.nonce(), { authTagLength: 16 });
    decipher.setAAD(header);
    decipher.setAuthTag(body.subarray(body.length - 16));
    const inner = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--; // strip padding (§5.4)
    return { type: inner[end]!, content: inner.subarray(0, end) };
  }
}

/**
 * Carries one endpoint's handshake over `socket` in TLS records. Write keys switch as soon as they
 * are announced: the endpoint emits its last handshake flight before its new write keys.
 */
function attachRecordLayer(
  socket: Socket,
  endpoint: TlsEndpoint,
  on: { event(e: TlsEvent): void; data(text: string): void },
): { send(text: string): void; pump(): void } {
  let read: RecordProtection | null = null;
  let write: RecordProtection | null = null;
  let buffered: Buffer = Buffer.alloc(0);
  const pump = () => {
    for (let e = endpoint.poll(); e; e = endpoint.poll()) {
      if (e.type === 'handshake-data') {
        if (!write) {
          const header = Buffer.from([ContentType.handshake, 3, 1, 0, 0]); // §5.1: 0x0301 allowed for the first records
          header.writeUInt16BE(e.data.length, 3);
          socket.write(Buffer.concat([header, e.data]));
        } else {
          socket.write(write.seal(ContentType.handshake, e.data));
        }
      } else if (e.type === 'keys') {
        if (e.level === 'early') continue;
        const protection = new RecordProtection(e.secret, e.suite);
        if (e.direction === 'read') read = protection;
        else write = protection;
      }
      on.event(e);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt16BE(3)) {
      const header = buffered.subarray(0, 5);
      const body = buffered.subarray(5, 5 + header.readUInt16BE(3));
      buffered = buffered.subarray(5 + body.length);
      let type = header[0]!;
      let content = body;
      if (type === ContentType.change_cipher_spec) continue; // §5: ignored in TLS 1.3 (middlebox compatibility)
      if (type === ContentType.application_data) ({ type, content } = read!.open(header, body));
      if (type === ContentType.handshake) {
        endpoint.receive(endpoint.handshakeComplete ? 'application' : read ? 'handshake' : 'initial', content);
        pump();
      } else if (type === ContentType.application_data) {
        on.data(content.toString());
      } else if (type === ContentType.alert) {
        on.event({ type: 'alert', alert: content[1]!, description: 'from node:tls' });
      }
    }
  });
  return { send: (text) => socket.write(write!.seal(ContentType.application_data, Buffer.from(text))), pump };
}

interface Outcome {
  client: TlsClient;
  events: TlsEvent[];
  received: string;
}

/** Runs our client over TCP against `port`; resolves on the server's 'pong' or an alert. */
function runClient(port: number, client: TlsClient, message: string): Promise<Outcome> {
  const events: TlsEvent[] = [];
  let received = '';
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const finish = () => {
      socket.destroy();
      resolve({ client, events, received });
    };
    const link = attachRecordLayer(socket, client, {
      event(e) {
        events.push(e);
        if (e.type === 'complete') link.send(message);
        if (e.type === 'alert') finish();
      },
      data(text) {
        received += text;
        if (received.includes('pong')) finish();
      },
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      client.start();
      link.pump();
    });
  });
}

interface NodeServer {
  server: Server;
  port: number;
  keylog: string[];
}

function startNodeServer(kind: CertKind, options: { ciphers?: string; ecdhCurve?: string } = {}): Promise<NodeServer> {
  const keylog: string[] = [];
  const server = createTlsServer({
    key: CERTS[kind].key,
    cert: CERTS[kind].cert,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ALPNProtocols: ['http/1.1'],
    ...options,
  });
  server.on('keylog', (line: Buffer) => keylog.push(line.toString().trim()));
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('data', (d) => socket.write(`pong:${d.toString()}`));
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, keylog })));
}

let connections = 0;
/** node:tls checks dates against the real clock, so the client does too; each connection gets its own seed. */
const clientFor = (overrides: Parameters<typeof makeClient>[0]) =>
  makeClient({ alpn: ['http/1.1'], transportParameters: null, now: () => Date.now(), random: seededRandom(`interop-${connections++}`), ...overrides });

describe('our client against node:tls (OpenSSL) TLS 1.3', () => {
  const servers: NodeServer[] = [];
  const start = async (kind: CertKind, options?: { ciphers?: string; ecdhCurve?: string }) => {
    const s = await startNodeServer(kind, options);
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.server.close(r))));
  });

  const suites: [number, string][] = [
    [0x1301, 'TLS_AES_128_GCM_SHA256'],
    [0x1302, 'TLS_AES_256_GCM_SHA384'],
    [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  ];
  for (const [suite, name] of suites) {
    for (const kind of ['ecdsa', 'rsa', 'ed25519'] as CertKind[]) {
      it(`${name} with a ${kind} certificate: handshake, keylog and application data`, async () => {
        const node = await start(kind, { ciphers: name });
        const keylog: string[] = [];
        const out = await runClient(node.port, clientFor({ suites: [suite], keylog: (l) => keylog.push(l) }), 'ping');
        expect(out.events.filter((e) => e.type === 'alert')).toEqual([]);
        expect(out.client.handshakeComplete).toBe(true);
        expect(out.client.suite).toBe(suite);
        expect(out.client.alpn).toBe('http/1.1');
        expect(out.received).toBe('pong:ping');
        // OpenSSL logs the same secrets for this connection (it also logs EXPORTER_SECRET).
        for (const line of keylog) expect(node.keylog).toContain(line);
        expect(keylog.length).toBe(5);
      });
    }
  }

  for (const [curve, group] of [['P-256', NamedGroup.secp256r1], ['X25519', NamedGroup.x25519]] as const) {
    it(`key share on ${curve}`, async () => {
      const node = await start('ecdsa', { ecdhCurve: curve });
      const out = await runClient(node.port, clientFor({ groups: [group] }), 'ping');
      expect(out.client.handshakeComplete).toBe(true);
      expect(out.received).toBe('pong:ping');
    });
  }

  it('HelloRetryRequest from OpenSSL when our first key share is on a curve it does not take', async () => {
    const node = await start('rsa', { ecdhCurve: 'P-256' });
    const out = await runClient(node.port, clientFor({ groups: [NamedGroup.x25519, NamedGroup.secp256r1] }), 'ping');
    expect(out.events.filter((e) => e.type === 'handshake-data' && e.level === 'initial').length).toBe(2);
    expect(out.client.handshakeComplete).toBe(true);
    expect(out.received).toBe('pong:ping');
  });

  it('resumes with a ticket from OpenSSL (PSK binder accepted, no certificate)', async () => {
    const node = await start('ecdsa');
    const first = await runClient(node.port, clientFor({}), 'one');
    // OpenSSL sends its tickets right after the handshake; 'pong' arrives after them.
    const tickets = first.events.filter((e): e is { type: 'session-ticket'; ticket: SessionTicket } => e.type === 'session-ticket');
    expect(tickets.length).toBeGreaterThan(0);
    const second = await runClient(node.port, clientFor({ session: tickets[0]!.ticket }), 'two');
    expect(second.events.filter((e) => e.type === 'alert')).toEqual([]);
    expect(second.client.handshakeComplete).toBe(true);
    expect(second.client.peerPublicKey).toBeNull();
    expect(second.received).toBe('pong:two');
  });

  it('rejects the node server certificate for another name', async () => {
    const node = await start('ecdsa');
    const out = await runClient(node.port, clientFor({ serverName: 'example.org' }), 'ping');
    expect(out.events.filter((e) => e.type === 'alert')).toEqual([expect.objectContaining({ alert: 42 })]);
  });
});

/** Our server behind a TCP listener; every accepted socket gets a fresh TlsServer from `make`. */
function startOurServer(make: () => TlsServer): Promise<{ server: NetServer; port: number; endpoints: TlsServer[] }> {
  const endpoints: TlsServer[] = [];
  const server = createNetServer((socket) => {
    const endpoint = make();
    endpoints.push(endpoint);
    socket.on('error', () => {});
    const link = attachRecordLayer(socket, endpoint, {
      event(e) {
        if (e.type === 'complete') {
          endpoint.sendSessionTicket(Date.now()); // NewSessionTicket after the handshake (§4.6.1)
          link.pump();
        }
        if (e.type === 'alert') socket.destroy();
      },
      data(text) {
        link.send(`pong:${text}`);
      },
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, endpoints })));
}

/** tls.connect to our server: resolves with the reply to `message`, the session and whether it was reused. */
function nodeClient(port: number, message: string, options: { session?: Buffer; ciphers?: string; ecdhCurve?: string } = {}) {
  return new Promise<{ reply: string; session: Buffer | undefined; reused: boolean; alpn: string | false | null; protocol: string | null }>((resolve, reject) => {
    let session: Buffer | undefined;
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: [CA],
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.3',
      ...options,
    });
    socket.on('session', (s: Buffer) => (session ??= s));
    socket.on('error', reject);
    socket.on('secureConnect', () => socket.write(message));
    socket.on('data', (d) => {
      // Wait a moment for the ticket, which OpenSSL reads before or with the reply.
      setTimeout(() => {
        resolve({ reply: d.toString(), session, reused: socket.isSessionReused(), alpn: socket.alpnProtocol, protocol: socket.getProtocol() });
        socket.destroy();
      }, 20);
    });
  });
}

describe('our server against node:tls (OpenSSL) TLS 1.3 clients', () => {
  const listeners: NetServer[] = [];
  afterAll(async () => {
    await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
  });
  let n = 0;
  const ours = async (kind: CertKind, overrides: Partial<ServerOptions> = {}) => {
    const s = await startOurServer(() =>
      makeServer(kind, { alpn: ['http/1.1'], transportParameters: null, now: () => Date.now(), random: seededRandom(`our-server-${n++}`), ...overrides }),
    );
    listeners.push(s.server);
    return s;
  };

  for (const kind of ['ecdsa', 'rsa', 'ed25519'] as CertKind[]) {
    it(`${kind} certificate: OpenSSL verifies our CertificateVerify and Finished`, async () => {
      const { port, endpoints } = await ours(kind);
      const r = await nodeClient(port, 'ping');
      expect(r.reply).toBe('pong:ping');
      expect(r.protocol).toBe('TLSv1.3');
      expect(r.alpn).toBe('http/1.1');
      expect(endpoints[0]!.handshakeComplete).toBe(true);
    });
  }

  for (const [suite, name] of [[0x1302, 'TLS_AES_256_GCM_SHA384'], [0x1303, 'TLS_CHACHA20_POLY1305_SHA256']] as const) {
    it(`${name} chosen by the client`, async () => {
      const { port, endpoints } = await ours('ecdsa');
      const r = await nodeClient(port, 'ping', { ciphers: name });
      expect(r.reply).toBe('pong:ping');
      expect(endpoints[0]!.suite).toBe(suite);
    });
  }

  it('sends a HelloRetryRequest that OpenSSL follows', async () => {
    const { port, endpoints } = await ours('rsa', { groups: [NamedGroup.secp256r1] });
    const r = await nodeClient(port, 'ping', { ecdhCurve: 'X25519:P-256' });
    expect(r.reply).toBe('pong:ping');
    expect(endpoints[0]!.handshakeComplete).toBe(true);
  });

  it('issues a ticket that OpenSSL resumes with', async () => {
    const { port, endpoints } = await ours('ecdsa', { ticketKey: seededRandom('interop-ticket-key')(32) });
    const first = await nodeClient(port, 'one');
    expect(first.session).toBeDefined();
    expect(first.reused).toBe(false);
    const second = await nodeClient(port, 'two', { session: first.session });
    expect(second.reply).toBe('pong:two');
    expect(second.reused).toBe(true);
    expect(endpoints[1]!.handshakeComplete).toBe(true);
  });
});
