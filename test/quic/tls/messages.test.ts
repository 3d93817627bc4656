/**
 * fast-check properties of the TLS 1.3 codecs (RFC 8446 §4, §4.2): every handshake message and
 * extension codec round-trips, and random bytes into a decoder give a value or a DecodeError,
 * nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.js';
import * as ext from '../../../src/quic/tls/extensions.js';
import * as msg from '../../../src/quic/tls/messages.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** An extension block with distinct types (§4.2). */
const extensions = (minCount: number) =>
  fc.uniqueArray(fc.record({ type: u16, data: bytes(0, 40) }), { minLength: minCount, maxLength: 6, selector: (e) => e.type });

const arbitraries = {
  clientHello: fc.record({
    legacyVersion: u16,
    random: bytes(32, 32),
    legacySessionId: bytes(0, 32),
    cipherSuites: fc.array(u16, { minLength: 1, maxLength: 10 }),
    legacyCompressionMethods: bytes(1, 4),
    extensions: extensions(2),
  }),
  serverHello: fc.record({
    legacyVersion: u16,
    random: bytes(32, 32),
    legacySessionIdEcho: bytes(0, 32),
    cipherSuite: u16,
    legacyCompressionMethod: fc.integer({ min: 0, max: 255 }),
    extensions: extensions(2),
  }),
  encryptedExtensions: fc.record({ extensions: extensions(0) }),
  certificate: fc.record({
    requestContext: bytes(0, 8),
    entries: fc.array(fc.record({ data: bytes(1, 64), extensions: extensions(0) }), { maxLength: 4 }),
  }),
  certificateRequest: fc.record({ requestContext: bytes(0, 8), extensions: extensions(1) }),
  certificateVerify: fc.record({ scheme: u16, signature: bytes(0, 80) }),
  newSessionTicket: fc.record({ lifetime: u32, ageAdd: u32, nonce: bytes(0, 16), ticket: bytes(1, 64), extensions: extensions(0) }),
};

const codecs = {
  clientHello: [msg.encodeClientHello, msg.decodeClientHello],
  serverHello: [msg.encodeServerHello, msg.decodeServerHello],
  encryptedExtensions: [msg.encodeEncryptedExtensions, msg.decodeEncryptedExtensions],
  certificate: [msg.encodeCertificate, msg.decodeCertificate],
  certificateRequest: [msg.encodeCertificateRequest, msg.decodeCertificateRequest],
  certificateVerify: [msg.encodeCertificateVerify, msg.decodeCertificateVerify],
  newSessionTicket: [msg.encodeNewSessionTicket, msg.decodeNewSessionTicket],
} as const;

describe('handshake message codecs', () => {
  for (const name of Object.keys(codecs) as (keyof typeof codecs)[]) {
    const [encode, decode] = codecs[name] as unknown as [(v: unknown) => Buffer, (b: Uint8Array) => unknown];
    it(`${name}: decode(encode(x)) = x`, () => {
      fc.assert(fc.property(arbitraries[name] as fc.Arbitrary<unknown>, (value) => {
        expect(decode(encode(value))).toEqual(value);
      }), { numRuns: 200 });
    });
    it(`${name}: random bytes give a value or a DecodeError`, () => {
      fc.assert(fc.property(bytes(0, 200), (b) => {
        try {
          decode(b);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }), { numRuns: 200 });
    });
  }

  it('§4.2: an extension block with two extensions of one type is a DecodeError, in short blocks and in long ones', () => {
    // Short blocks are scanned, long ones (over 16 extensions) go through a Set: both must refuse a repeat anywhere.
    fc.assert(fc.property(
      fc.uniqueArray(u16, { minLength: 1, maxLength: 60 }),
      fc.nat(),
      fc.nat(),
      (types, from, to) => {
        const distinct = types.map((type) => ({ type, data: Buffer.of(type & 0xff) }));
        const ee = (extensions: msg.EncryptedExtensions['extensions']) => msg.encodeEncryptedExtensions({ extensions });
        expect(msg.decodeEncryptedExtensions(ee(distinct)).extensions).toEqual(distinct);
        const repeated = [...distinct];
        repeated.splice(to % (repeated.length + 1), 0, { type: types[from % types.length]!, data: Buffer.alloc(0) });
        expect(() => msg.decodeEncryptedExtensions(ee(repeated))).toThrow(/duplicate extension/);
      },
    ), { numRuns: 300 });
  });

  it('Finished: verify_data of exactly Hash.length bytes', () => {
    expect(msg.decodeFinished(Buffer.alloc(48, 1), 48)).toEqual(Buffer.alloc(48, 1));
    expect(() => msg.decodeFinished(Buffer.alloc(33), 32)).toThrow(DecodeError);
  });
});

describe('extension codecs', () => {
  const name = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /^[\x21-\x7e]+$/.test(s));
  const cases: [string, fc.Arbitrary<unknown>, (v: never) => Buffer, (b: Uint8Array) => unknown][] = [
    ['server_name', name, ext.encodeServerName, ext.decodeServerName],
    ['alpn', fc.array(name, { minLength: 1, maxLength: 5 }), ext.encodeAlpn, ext.decodeAlpn],
    ['supported_groups', fc.array(u16, { minLength: 1, maxLength: 10 }), ext.encodeU16List, (b) => ext.decodeU16List(b, 'supported_groups')],
    ['supported_versions', fc.array(u16, { minLength: 1, maxLength: 10 }), ext.encodeSupportedVersionsClient, ext.decodeSupportedVersionsClient],
    ['key_share (client)', fc.array(fc.record({ group: u16, keyExchange: bytes(1, 70) }), { maxLength: 3 }), ext.encodeKeyShareClient, ext.decodeKeyShareClient],
    ['key_share (server)', fc.record({ group: u16, keyExchange: bytes(1, 70) }), ext.encodeKeyShareServer, ext.decodeKeyShareServer],
    ['psk_key_exchange_modes', fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }), ext.encodePskModes, ext.decodePskModes],
    [
      'pre_shared_key (client)',
      fc.integer({ min: 1, max: 3 }).chain((n) =>
        fc.record({
          identities: fc.array(fc.record({ identity: bytes(1, 40), obfuscatedTicketAge: u32 }), { minLength: n, maxLength: n }),
          binders: fc.array(bytes(32, 48), { minLength: n, maxLength: n }),
        }),
      ),
      ext.encodeOfferedPsks,
      ext.decodeOfferedPsks,
    ],
    ['cookie', bytes(1, 60), ext.encodeCookie, ext.decodeCookie],
    ['early_data (ticket)', u32, ext.encodeMaxEarlyData, ext.decodeMaxEarlyData],
  ];
  it('offersPskMode answers as decodePskModes(...).includes does, DecodeError for the same malformed bodies (§4.2.9)', () => {
    const outcome = (f: () => boolean) => {
      try {
        return f();
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
        return 'DecodeError';
      }
    };
    const wellFormed = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }).map((modes) => ext.encodePskModes(modes));
    fc.assert(fc.property(fc.oneof(wellFormed, bytes(0, 8)), fc.integer({ min: 0, max: 255 }), (data, mode) => {
      expect(outcome(() => ext.offersPskMode(data, mode))).toBe(outcome(() => ext.decodePskModes(data).includes(mode)));
    }), { numRuns: 400 });
    expect(ext.offersPskMode(Buffer.of(2, 0, 1), 1)).toBe(true);
    expect(ext.offersPskMode(Buffer.of(1, 0), 1)).toBe(false);
    expect(() => ext.offersPskMode(Buffer.of(2, 1), 1)).toThrow(DecodeError);
  });

  for (const [what, arb, encode, decode] of cases) {
    it(`${what}: round trip, and random bytes give a value or a DecodeError`, () => {
      fc.assert(fc.property(arb, (v) => {
        expect(decode(encode(v as never))).toEqual(v);
      }), { numRuns: 200 });
      fc.assert(fc.property(bytes(0, 100), (b) => {
        try {
          decode(b);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }), { numRuns: 200 });
    });
  }
});
