/**
 * Test harness for the TLS 1.3 handshake: deterministic randomness, the test certificates, and a
 * loop that carries handshake-data events between a client and a server in memory (the part a
 * QUIC connection plays), recording every other event per side.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient, type ClientOptions, type TlsClient } from '../../../src/quic/tls/client.js';
import type { TlsEndpoint, TlsEvent } from '../../../src/quic/tls/handshake.js';
import { createServer, type ServerOptions, type TlsServer } from '../../../src/quic/tls/server.js';

const certFile = (name: string) => readFileSync(fileURLToPath(new URL(`./certs/${name}`, import.meta.url)), 'utf8');

export const CA = certFile('ca.pem');
export const CERTS = {
  ecdsa: { cert: certFile('ecdsa.pem'), key: certFile('ecdsa.key') },
  rsa: { cert: certFile('rsa.pem'), key: certFile('rsa.key') },
  ed25519: { cert: certFile('ed25519.pem'), key: certFile('ed25519.key') },
} as const;
export type CertKind = keyof typeof CERTS;

/** Inside the certificates' validity window. */
export const NOW = Date.parse('2030-01-01T00:00:00Z');

/** Deterministic bytes: SHA-256 in counter mode over a seed. */
export function seededRandom(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n: number) => {
    const out = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; ) {
      filled += createHash('sha256').update(`${seed}/${counter++}`).digest().copy(out, filled);
    }
    return out;
  };
}

export const CLIENT_TP = Buffer.from('0104000075300304000100000e0104', 'hex');
export const SERVER_TP = Buffer.from('0104000075300304000200000e0102', 'hex');

export function makeClient(overrides: Partial<ClientOptions> = {}): TlsClient {
  return createClient({
    serverName: 'localhost',
    alpn: ['h3'],
    transportParameters: CLIENT_TP,
    ca: [CA],
    now: () => NOW,
    random: seededRandom('client'),
    ...overrides,
  });
}

export function makeServer(kind: CertKind = 'ecdsa', overrides: Partial<ServerOptions> = {}): TlsServer {
  return createServer({
    certificateChain: [CERTS[kind].cert],
    privateKey: CERTS[kind].key,
    alpn: ['h3'],
    transportParameters: SERVER_TP,
    now: () => NOW,
    random: seededRandom('server'),
    ...overrides,
  });
}

export interface Side {
  /** Every event except handshake-data, in order. */
  events: TlsEvent[];
  /** handshake-data this side sent, in order. */
  sent: { level: string; data: Buffer }[];
}

export function keyEvents(side: Side) {
  return side.events.filter((e): e is Extract<TlsEvent, { type: 'keys' }> => e.type === 'keys');
}

/**
 * Moves handshake data both ways until neither side has anything to say. `split` cuts each
 * handshake-data payload into the pieces delivered (default: whole).
 */
export function drive(
  client: TlsEndpoint,
  server: TlsEndpoint,
  split: (data: Buffer) => Buffer[] = (d) => [d],
): { client: Side; server: Side } {
  const sides = { client: { events: [], sent: [] } as Side, server: { events: [], sent: [] } as Side };
  for (let progress = true; progress; ) {
    progress = false;
    for (const [from, to, side] of [
      [client, server, sides.client],
      [server, client, sides.server],
    ] as const) {
      for (let e = from.poll(); e; e = from.poll()) {
        progress = true;
        if (e.type === 'handshake-data') {
          side.sent.push({ level: e.level, data: e.data });
          for (const piece of split(e.data)) to.receive(e.level, piece);
        } else {
          side.events.push(e);
        }
      }
    }
  }
  return sides;
}
