/**
 * Review of the JavaScript SHA-256 / HMAC-SHA-256 pass (issue 5: commits 7bbf566, 4cbd038), with
 * node:crypto as the independent oracle wherever the new code replaced it:
 *
 * - whole handshakes for every suite (SHA-256 and SHA-384), with and without HelloRetryRequest and
 *   PSK resumption: the PSK binder (RFC 8446 §4.2.11.2, over message_hash + HRR + the truncated
 *   ClientHello2 after an HRR, §4.4.1) and both Finished (§4.4.4) recomputed from the bytes on the
 *   wire and the announced secrets with createHash/createHmac only. Both ends run the same code, so
 *   only an outside oracle catches a mistake they would share;
 * - HMAC keys and messages at every block boundary (RFC 2104 §2: keys of 64 and 65 bytes);
 * - the running hash cut at every pair of lengths around the padding boundaries, digest() and
 *   copy() at each cut (FIPS 180-4 §5.1.1);
 * - a prepared key reused after a multi-block Expand (RFC 5869 §2.3, L > Hash.length);
 * - QUIC packet keys and the key update chain of every suite, v1 and v2 (RFC 9001 §5.1, §6.1;
 *   RFC 9369 §3.3.2).
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nextSecret, packetKeys } from '../../../src/quic/crypto/keys.js';
import { CIPHER_SUITES, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 } from '../../../src/quic/crypto/suites.js';
import type { SessionTicket, TlsEvent } from '../../../src/quic/tls/handshake.js';
import { expandLabelWithKey, hkdfKey, type HashName } from '../../../src/quic/tls/hkdf.js';
import { NamedGroup } from '../../../src/quic/tls/key-exchange.js';
import { HandshakeType } from '../../../src/quic/tls/messages.js';
import { HmacSha256, Sha256 } from '../../../src/quic/tls/sha256.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/quic/version.js';
import { drive, makeClient, makeServer, NOW, seededRandom, type Side } from '../tls/harness.js';

// ---- node:crypto oracle (RFC 5869, RFC 8446 §7.1) ----

const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48 };

function nodeHash(hash: HashName, ...parts: Uint8Array[]): Buffer {
  const h = createHash(hash);
  for (const p of parts) h.update(p);
  return h.digest();
}

function nodeHmac(hash: HashName, key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac(hash, key).update(data).digest();
}

/** HKDF-Expand (RFC 5869 §2.3) on createHmac, block by block. */
function nodeExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 1, filled = 0; filled < length; i++) {
    previous = nodeHmac(hash, prk, Buffer.concat([previous, info, Buffer.of(i)]));
    blocks.push(previous);
    filled += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Expand-Label (RFC 8446 §7.1). */
function nodeExpandLabel(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const fullLabel = Buffer.from('tls13 ' + label, 'latin1');
  const info = Buffer.concat([Buffer.of(length >> 8, length & 0xff, fullLabel.length), fullLabel, Buffer.of(context.length), context]);
  return nodeExpand(hash, secret, info, length);
}

/** verify_data / binder = HMAC(finished_key, Transcript-Hash) (RFC 8446 §4.4.4, §4.2.11.2). */
function nodeVerifyData(hash: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array): Buffer {
  return nodeHmac(hash, nodeExpandLabel(hash, baseKey, 'finished', Buffer.alloc(0), HASH_LENGTH[hash]), transcriptHash);
}

/** binder_key of a resumption PSK: Derive-Secret(HKDF-Extract(0, PSK), "res binder", "") (§7.1). */
function nodeBinderKey(hash: HashName, psk: Uint8Array): Buffer {
  const early = nodeHmac(hash, Buffer.alloc(HASH_LENGTH[hash]), psk);
  return nodeExpandLabel(hash, early, 'res binder', nodeHash(hash), HASH_LENGTH[hash]);
}

// ---- handshakes ----

/** The handshake messages (type, 24-bit length, body) one side sent at the initial and handshake levels, in order. */
function messages(side: Side): Buffer[] {
  const out: Buffer[] = [];
  for (const flight of side.sent) {
    if (flight.level === 'application') continue; // NewSessionTicket: not in the transcript
    for (let at = 0; at < flight.data.length; ) {
      const end = at + 4 + flight.data.readUIntBE(at + 1, 3);
      out.push(flight.data.subarray(at, end));
      at = end;
    }
  }
  return out;
}

function secretOf(side: Side, level: 'handshake', direction: 'write'): Buffer {
  const e = side.events.find((x): x is Extract<TlsEvent, { type: 'keys' }> => x.type === 'keys' && x.level === level && x.direction === direction);
  expect(e, `${level} ${direction} secret`).toBeDefined();
  return e!.secret;
}

const SUITES = [
  [TLS_AES_128_GCM_SHA256, 'sha256'],
  [TLS_AES_256_GCM_SHA384, 'sha384'],
  [TLS_CHACHA20_POLY1305_SHA256, 'sha256'],
] as const;

/** A first full handshake with `suite` that ends with a session ticket. */
function ticketFor(suite: number, ticketKey: Buffer): SessionTicket {
  const client = makeClient({ suites: [suite], random: seededRandom(`first-${suite}`) });
  const server = makeServer('ecdsa', { ticketKey });
  client.start();
  drive(client, server);
  server.sendSessionTicket(NOW);
  const r = drive(client, server);
  const e = r.client.events.find((x) => x.type === 'session-ticket') as { ticket: SessionTicket } | undefined;
  expect(e).toBeDefined();
  return e!.ticket;
}

describe('whole handshakes checked against node:crypto (RFC 8446 §4.2.11.2, §4.4.1, §4.4.4)', () => {
  const ticketKey = seededRandom('review-js-sha256-ticket-key')(32);

  for (const [suite, hash] of SUITES) {
    for (const hrr of [false, true]) {
      for (const resume of [false, true]) {
        const name = `0x${suite.toString(16)} (${hash})${hrr ? ', after a HelloRetryRequest' : ''}${resume ? ', resumed with a PSK' : ''}`;
        it(name, () => {
          const ticket = resume ? ticketFor(suite, ticketKey) : undefined;
          const client = makeClient({
            suites: [suite],
            session: ticket,
            groups: hrr ? [NamedGroup.x25519, NamedGroup.secp256r1] : [NamedGroup.x25519],
            random: seededRandom(`client-${name}`),
          });
          const server = makeServer('ecdsa', {
            ticketKey,
            groups: hrr ? [NamedGroup.secp256r1] : [NamedGroup.x25519, NamedGroup.secp256r1],
            random: seededRandom(`server-${name}`),
          });
          client.start();
          const r = drive(client, server);
          expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
          expect(client.peerPublicKey === null).toBe(resume); // the PSK was used, not only offered

          const fromClient = messages(r.client);
          const fromServer = messages(r.server);
          const hashLength = HASH_LENGTH[hash];
          // §4.4.1: after an HRR, ClientHello1 enters the transcript as message_hash.
          const transcriptStart = hrr
            ? [Buffer.concat([Buffer.of(HandshakeType.message_hash, 0, 0, hashLength), nodeHash(hash, fromClient[0]!)]), fromServer[0]!, fromClient[1]!]
            : [fromClient[0]!];
          const lastClientHello = transcriptStart[transcriptStart.length - 1]!;
          const serverRest = fromServer.slice(hrr ? 1 : 0);
          const clientFinished = fromClient[hrr ? 2 : 1]!;
          expect(serverRest[0]![0]).toBe(HandshakeType.server_hello);
          expect(serverRest[serverRest.length - 1]![0]).toBe(HandshakeType.finished);
          expect(clientFinished[0]).toBe(HandshakeType.finished);
          expect(fromClient.length).toBe(hrr ? 3 : 2);

          if (ticket) {
            // One identity offered: the binders list is the last 2 + 1 + Hash.length bytes of the ClientHello.
            const truncated = lastClientHello.subarray(0, lastClientHello.length - (3 + hashLength));
            const binder = lastClientHello.subarray(lastClientHello.length - hashLength);
            const partial = nodeHash(hash, ...transcriptStart.slice(0, -1), truncated);
            expect(binder.toString('hex')).toBe(nodeVerifyData(hash, nodeBinderKey(hash, ticket.psk), partial).toString('hex'));
          }

          const serverFinished = serverRest[serverRest.length - 1]!;
          const beforeServerFinished = nodeHash(hash, ...transcriptStart, ...serverRest.slice(0, -1));
          expect(serverFinished.subarray(4).toString('hex')).toBe(
            nodeVerifyData(hash, secretOf(r.server, 'handshake', 'write'), beforeServerFinished).toString('hex'),
          );
          const beforeClientFinished = nodeHash(hash, ...transcriptStart, ...serverRest);
          expect(clientFinished.subarray(4).toString('hex')).toBe(
            nodeVerifyData(hash, secretOf(r.client, 'handshake', 'write'), beforeClientFinished).toString('hex'),
          );
        });
      }
    }
  }
});

// ---- the primitives at their boundaries ----

/** Deterministic, not all-equal bytes. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 167 + seed * 13 + 5) & 0xff;
  return out;
}

const BOUNDARY_LENGTHS = [0, 1, 31, 32, 33, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200];

describe('HMAC-SHA-256 at every key and message boundary (RFC 2104 §2)', () => {
  it('keys of 0..200 bytes around the 64-byte block (a longer key is hashed first) × messages around the padding boundaries', () => {
    for (const keyLength of BOUNDARY_LENGTHS) {
      const key = bytes(keyLength, keyLength);
      const prepared = new HmacSha256(key);
      for (const dataLength of BOUNDARY_LENGTHS) {
        const data = bytes(dataLength, dataLength + 1);
        const expected = nodeHmac('sha256', key, data).toString('hex');
        expect(prepared.mac(data).toString('hex'), `key ${keyLength}, data ${dataLength}`).toBe(expected);
      }
    }
  });
});

describe('Sha256 cut at every pair of lengths around the padding boundaries (FIPS 180-4 §5.1.1)', () => {
  it('digest() after each piece and after a copy() equals node:crypto, and digest() changes nothing', () => {
    const message = bytes(260, 3);
    for (let first = 0; first <= 130; first++) {
      for (const second of BOUNDARY_LENGTHS) {
        const h = new Sha256();
        h.update(message.subarray(0, first));
        const atFirst = nodeHash('sha256', message.subarray(0, first)).toString('hex');
        expect(h.digest().toString('hex'), `first ${first}`).toBe(atFirst);
        expect(h.digest().toString('hex'), `first ${first}, asked again`).toBe(atFirst);
        const twin = h.copy();
        h.update(message.subarray(first, first + second));
        expect(h.digest().toString('hex'), `first ${first}, second ${second}`).toBe(
          nodeHash('sha256', message.subarray(0, first + second)).toString('hex'),
        );
        expect(twin.digest().toString('hex'), `copy at ${first}`).toBe(atFirst);
      }
    }
  });
});

describe('a prepared key (hkdfKey) reused around a multi-block Expand-Label (RFC 5869 §2.3, RFC 8446 §7.1)', () => {
  for (const hash of ['sha256', 'sha384'] as const) {
    it(`${hash}: short, long (up to 4 blocks), short again, each equal to the oracle`, () => {
      const secret = bytes(HASH_LENGTH[hash], 9);
      const prepared = hkdfKey(hash, secret);
      const context = bytes(HASH_LENGTH[hash], 10);
      for (const length of [16, HASH_LENGTH[hash] + 1, 2 * HASH_LENGTH[hash], 4 * HASH_LENGTH[hash] - 1, 12, HASH_LENGTH[hash]]) {
        for (const ctx of [Buffer.alloc(0), context]) {
          expect(expandLabelWithKey(prepared, 'review label', ctx, length).toString('hex'), `L = ${length}, context ${ctx.length}`).toBe(
            nodeExpandLabel(hash, secret, 'review label', ctx, length).toString('hex'),
          );
        }
      }
    });
  }
});

describe('QUIC packet keys and key updates of every suite, v1 and v2 (RFC 9001 §5.1, §6.1; RFC 9369 §3.3.2)', () => {
  for (const [version, prefix] of [[QUIC_V1, 'quic'], [QUIC_V2, 'quicv2']] as const) {
    for (const [suite, hash] of SUITES) {
      it(`${prefix}, 0x${suite.toString(16)} (${hash}): key, iv, hp and three generations of "${prefix} ku"`, () => {
        const params = CIPHER_SUITES[suite];
        let secret: Buffer = bytes(HASH_LENGTH[hash], suite);
        const hp = nodeExpandLabel(hash, secret, `${prefix} hp`, Buffer.alloc(0), params.hpKeyLength);
        for (let generation = 0; generation < 3; generation++) {
          const keys = packetKeys(version, suite, secret);
          expect(keys.key.toString('hex')).toBe(nodeExpandLabel(hash, secret, `${prefix} key`, Buffer.alloc(0), params.keyLength).toString('hex'));
          expect(keys.iv.toString('hex')).toBe(nodeExpandLabel(hash, secret, `${prefix} iv`, Buffer.alloc(0), params.ivLength).toString('hex'));
          if (generation === 0) expect(keys.hp.toString('hex')).toBe(hp.toString('hex'));
          const next = nextSecret(version, suite, secret);
          expect(next.toString('hex')).toBe(nodeExpandLabel(hash, secret, `${prefix} ku`, Buffer.alloc(0), HASH_LENGTH[hash]).toString('hex'));
          secret = next;
        }
      });
    }
  }
});
