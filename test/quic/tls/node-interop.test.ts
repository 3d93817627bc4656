/**
 * Interop with a real TLS 1.3 stack: our client against a node:tls (OpenSSL) server over TCP on
 * 127.0.0.1. node:tls cannot carry QUIC, so a record layer written here (RFC 8446 §5) carries our
 * handshake messages: plaintext handshake records until ServerHello, then AEAD records under the
 * traffic keys our client announces (key and iv from HKDF-Expand-Label, §7.3; per-record nonce,
 * §5.3; inner content type, §5.2). The ClientHello goes without quic_transport_parameters.
 * Covered: every suite, both groups, every certificate key type, HelloRetryRequest, resumption with
 * a node-issued ticket, application data both ways, and keylog lines identical to OpenSSL's.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { cipherSuite } from '../../../src/quic/tls/cipher-suites.js';
import type { TlsClient } from '../../../src/quic/tls/client.js';
import type { SessionTicket, TlsEvent } from '../../../src/quic/tls/handshake.js';
import { hkdfExpandLabel } from '../../../src/quic/tls/hkdf.js';
import { NamedGroup } from '../../../src/quic/tls/key-exchange.js';
import { CERTS, makeClient, seededRandom, type CertKind } from './harness.js';

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

interface Outcome {
  client: TlsClient;
  events: TlsEvent[];
  received: string;
  keylog: string[];
}

/** Runs our client over TCP against `port` through the record shim; resolves on 'pong' or an alert. */
function runClient(port: number, client: TlsClient, message: string): Promise<Outcome> {
  const events: TlsEvent[] = [];
  const keylog: string[] = [];
  let received = '';
  let read: RecordProtection | null = null;
  let write: RecordProtection | null = null;
  let pending: RecordProtection | null = null; // application write key, used once our Finished is out
  let buffered: Buffer = Buffer.alloc(0);

  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const finish = () => {
      socket.destroy();
      resolve({ client, events, received, keylog });
    };
    const pump = () => {
      for (let e = client.poll(); e; e = client.poll()) {
        events.push(e);
        if (e.type === 'handshake-data') {
          if (!write) {
            const header = Buffer.from([ContentType.handshake, 3, 1, 0, 0]); // §5.1: 0x0301 allowed for ClientHello
            header.writeUInt16BE(e.data.length, 3);
            socket.write(Buffer.concat([header, e.data]));
          } else {
            socket.write(write.seal(ContentType.handshake, e.data));
          }
        } else if (e.type === 'keys') {
          const protection = new RecordProtection(e.secret, e.suite);
          if (e.direction === 'read') read = protection;
          else if (e.level === 'handshake') write = protection;
          else pending = protection;
        } else if (e.type === 'complete') {
          write = pending;
          socket.write(write!.seal(ContentType.application_data, Buffer.from(message)));
        } else if (e.type === 'alert') {
          finish();
          return;
        }
      }
    };
    socket.on('error', reject);
    socket.on('connect', () => {
      client.start();
      pump();
    });
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt16BE(3)) {
        const header = buffered.subarray(0, 5);
        const body = buffered.subarray(5, 5 + header.readUInt16BE(3));
        buffered = buffered.subarray(5 + body.length);
        let type = header[0]!;
        let content = body;
        if (type === ContentType.change_cipher_spec) continue; // §5: ignored in TLS 1.3
        if (type === ContentType.application_data) ({ type, content } = read!.open(header, body));
        if (type === ContentType.handshake) {
          client.receive(client.handshakeComplete ? 'application' : read ? 'handshake' : 'initial', content);
          pump();
        } else if (type === ContentType.application_data) {
          received += content.toString();
          if (received.includes('pong')) return finish();
        } else if (type === ContentType.alert) {
          return reject(new Error(`node:tls sent alert ${content[1]}`));
        }
      }
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
