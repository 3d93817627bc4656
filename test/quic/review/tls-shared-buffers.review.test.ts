/**
 * Review of the TLS performance pass (issue 5): buffers that are now built once and shared
 * (Hash(""), the no-PSK Early Secret, prebuilt HkdfLabel bytes, the Certificate body per
 * credential, Transcript-Hash kept until the next message, TlsWriter.finish() views) must never
 * leak into what a handshake hands out, so that a caller writing into its own bytes cannot change
 * the next handshake (RFC 8446 §4.4.1, §4.4.2, §7.1; RFC 5869 §2.3).
 *
 * Method: with deterministic randomness two handshakes with the same inputs produce the same
 * bytes. A first handshake runs; every buffer it handed out (flights, secrets, session ticket) is
 * overwritten; a second identical handshake must still produce exactly the recorded bytes.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionTicket, TlsEvent } from '../../../src/quic/tls/handshake.js';
import { hashLength, hkdfExpandLabel, type HashName } from '../../../src/quic/tls/hkdf.js';
import { NamedGroup } from '../../../src/quic/tls/key-exchange.js';
import { earlySecret, emptyHash } from '../../../src/quic/tls/key-schedule.js';
import { encodeCertificate, encodeClientHello } from '../../../src/quic/tls/messages.js';
import { Transcript } from '../../../src/quic/tls/transcript.js';
import { TlsWriter } from '../../../src/quic/tls/wire.js';
import { drive, makeClient, makeServer, NOW, seededRandom, type Side } from '../tls/harness.js';

const ticketKey = seededRandom('review-ticket-key')(32);

/** Every buffer a handshake handed out: flights, secrets, session tickets. */
function handedOut(sides: { client: Side; server: Side }): Buffer[] {
  const out: Buffer[] = [];
  for (const side of [sides.client, sides.server]) {
    for (const s of side.sent) out.push(s.data);
    for (const e of side.events as TlsEvent[]) {
      if (e.type === 'keys') out.push(e.secret);
      if (e.type === 'session-ticket') out.push(e.ticket.ticket, e.ticket.psk);
    }
  }
  return out;
}

function record(sides: { client: Side; server: Side }): string[] {
  return handedOut(sides).map((b) => b.toString('hex'));
}

/** A full handshake, then a session ticket; `variant` picks a path through the handshake. */
function fullHandshake(variant: 'plain' | 'hrr', tag: string) {
  const client = makeClient({ random: seededRandom(`c-${tag}`), ...(variant === 'hrr' ? { groups: [NamedGroup.x25519, NamedGroup.secp256r1] } : {}) });
  const server = makeServer('ed25519', { ticketKey, random: seededRandom(`s-${tag}`), ...(variant === 'hrr' ? { groups: [NamedGroup.secp256r1] } : {}) });
  client.start();
  const first = drive(client, server);
  server.sendSessionTicket(NOW);
  const second = drive(client, server);
  expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
  const sides = {
    client: { events: [...first.client.events, ...second.client.events], sent: [...first.client.sent, ...second.client.sent] },
    server: { events: [...first.server.events, ...second.server.events], sent: [...first.server.sent, ...second.server.sent] },
  };
  const ticket = (sides.client.events.find((e) => e.type === 'session-ticket') as { ticket: SessionTicket } | undefined)?.ticket;
  return { sides, ticket: ticket! };
}

function resumed(ticket: SessionTicket, tag: string) {
  const client = makeClient({ session: ticket, random: seededRandom(`rc-${tag}`) });
  const server = makeServer('ed25519', { ticketKey, random: seededRandom(`rs-${tag}`) });
  client.start();
  const sides = drive(client, server);
  expect(client.handshakeComplete && server.handshakeComplete).toBe(true);
  return sides;
}

describe('review: nothing a handshake hands out aliases a buffer shared with the next one', () => {
  for (const variant of ['plain', 'hrr'] as const) {
    it(`${variant}: overwriting every flight, secret and ticket of one handshake leaves the next identical`, () => {
      const a = fullHandshake(variant, variant);
      const expected = record(a.sides);
      expect(expected.length).toBeGreaterThan(10);
      for (const b of handedOut(a.sides)) b.fill(0xa5);
      const b = fullHandshake(variant, variant);
      expect(record(b.sides)).toEqual(expected);
    });
  }

  it('resumption (PSK, binder over the truncated ClientHello): the same after scribbling over the first', () => {
    const { ticket } = fullHandshake('plain', 'for-resumption');
    const copy: SessionTicket = { ...ticket, ticket: Buffer.from(ticket.ticket), psk: Buffer.from(ticket.psk) };
    const a = resumed(ticket, 'r');
    const expected = record(a);
    for (const b of handedOut(a)) b.fill(0x5a);
    const b = resumed(copy, 'r');
    expect(record(b)).toEqual(expected);
  });

  it('the shared constants keep their RFC values after handshakes ran: Hash("") and the no-PSK Early Secret (RFC 8446 §7.1)', () => {
    fullHandshake('hrr', 'constants');
    for (const hash of ['sha256', 'sha384'] as const) {
      expect(emptyHash(hash).equals(createHash(hash).update(Buffer.alloc(0)).digest())).toBe(true);
      // Early Secret = HKDF-Extract(salt = Hash.length zeros, IKM = Hash.length zeros) = HMAC (RFC 5869 §2.2).
      const zeros = Buffer.alloc(hashLength(hash));
      expect(earlySecret(hash).equals(createHmac(hash, zeros).update(zeros).digest())).toBe(true);
    }
  });
});

describe('review: Transcript-Hash kept until the next message (RFC 8446 §4.4.1)', () => {
  it('a digest taken earlier still equals Hash(messages up to then) after later adds and digests (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<HashName>('sha256', 'sha384'), fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 12 }), (hash, messages) => {
        const t = new Transcript();
        t.start(hash);
        const kept: { digest: Buffer; upTo: number }[] = [];
        messages.forEach((m, i) => {
          t.add(m);
          const d = t.digest();
          kept.push({ digest: d, upTo: i + 1 });
          // Asking twice gives the same value; a caller scribbling on it must not change the next answer after an add.
          expect(t.digest().equals(d)).toBe(true);
        });
        for (const { digest, upTo } of kept) {
          expect(digest.equals(createHash(hash).update(Buffer.concat(messages.slice(0, upTo))).digest())).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a digest overwritten by its caller does not survive the next add()', () => {
    const t = new Transcript();
    t.start('sha256');
    t.add(Buffer.from('one'));
    t.digest().fill(0);
    t.add(Buffer.from('two'));
    expect(t.digest().equals(createHash('sha256').update('onetwo').digest())).toBe(true);
  });
});

describe('review: TlsWriter.finish() views (RFC 8446 §3.4)', () => {
  it('messages encoded earlier keep their bytes while more are encoded (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ maxLength: 32 })), { minLength: 1, maxLength: 8 }), (items) => {
        const outputs = items.map(([data, context]) => {
          const bytes = encodeCertificate({ requestContext: Buffer.from(context), entries: [{ data: Buffer.from(data), extensions: [] }] });
          return { bytes, copy: Buffer.from(bytes) };
        });
        // More encoding in between (buffers from the same pool).
        for (let i = 0; i < 20; i++) new TlsWriter().u32(i).vector(2, Buffer.alloc(i, i)).finish().fill(0xff);
        for (const { bytes, copy } of outputs) expect(bytes.equals(copy)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a ClientHello encoding is its own: writing into it does not change the next one', () => {
    const hello = {
      legacyVersion: 0x0303,
      random: Buffer.alloc(32, 7),
      legacySessionId: Buffer.alloc(0),
      cipherSuites: [0x1301, 0x1302],
      legacyCompressionMethods: Buffer.of(0),
      extensions: [{ type: 43, data: Buffer.of(2, 3, 4) }],
    };
    const first = encodeClientHello(hello);
    const expected = Buffer.from(first);
    first.fill(0);
    expect(encodeClientHello(hello).equals(expected)).toBe(true);
  });
});

describe('review: HKDF-Expand-Label longer than one hash block (RFC 8446 §7.1, RFC 5869 §2.3)', () => {
  it('equals node:crypto hkdfSync for lengths above Hash.length, up to 255 blocks (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<HashName>('sha256', 'sha384'),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.constantFrom('quic key', 'derived', 'c ap traffic', 'resumption'),
        fc.uint8Array({ maxLength: 48 }),
        fc.integer({ min: hashLength('sha256') + 1, max: 255 * hashLength('sha256') }),
        (hash, salt, ikm, label, context, length) => {
          const fullLabel = Buffer.from('tls13 ' + label, 'latin1');
          const info = Buffer.concat([Buffer.of(length >> 8, length & 0xff, fullLabel.length), fullLabel, Buffer.of(context.length), context]);
          // hkdfSync = Expand(Extract(salt, ikm), info, L): an oracle independent of hkdf.ts.
          const prk = createHmac(hash, salt).update(ikm).digest();
          const expected = Buffer.from(hkdfSync(hash, ikm, salt, info, length));
          expect(hkdfExpandLabel(hash, prk, label, context, length).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
