/**
 * Review of the QUIC endpoint/router/packet protection performance pass (issue 5): routes keyed by
 * the latin1 string of the DCID bytes (0f79f3a, RFC 9000 §5.2), stateless reset tokens through a
 * prepared JS HMAC (42acdaf, §10.3.2), header protection masks read in place into a reused scratch
 * (a56d341, RFC 9001 §5.4), and AEAD keys kept as raw Buffers (7a2f958, RFC 9001 §5.3, §6).
 * Each test states what a wrong key encoding, a shared buffer or an adopted caller buffer would break.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createHeaderProtection } from '../../../src/quic/crypto/header-protection.js';
import { initialPacketKeys, packetKeys } from '../../../src/quic/crypto/keys.js';
import { protectPacket, removeHeaderProtection } from '../../../src/quic/crypto/packet-protection.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from '../../../src/quic/crypto/suites.js';
import { ConnectionRouter } from '../../../src/quic/connection/router.js';
import { QUIC_V1 } from '../../../src/quic/version.js';
import { Pair, seededBytes } from '../sim/harness.js';

const SUITES: CipherSuite[] = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];
const SECRET_LENGTH: Record<CipherSuite, number> = {
  [TLS_AES_128_GCM_SHA256]: 32,
  [TLS_AES_256_GCM_SHA384]: 48,
  [TLS_CHACHA20_POLY1305_SHA256]: 32,
};

/**
 * A server random whose 8-byte connection IDs have every byte at 0x80 or above: bytes that are
 * not ASCII and, alone, not UTF-8, so that any route key that is not one character per byte
 * (ascii drops the top bit; utf8 turns each into U+FFFD) makes distinct IDs collide.
 */
function highByteCids(seed: string): (n: number) => Buffer {
  const random = seededBytes(seed);
  return (n) => {
    const bytes = random(n);
    if (n === 8) for (let i = 0; i < n; i++) bytes[i]! |= 0x80;
    return bytes;
  };
}

/** A handshaken pair, the server's connection ID the client sends to, and a short-header datagram to it. */
function established(): { pair: Pair; cid: Buffer; sample: Buffer } {
  const pair = new Pair({ serverRouter: { random: highByteCids('server-hi') } });
  expect(pair.handshake()).toBe(true);
  const id = pair.client.openStream()!;
  pair.client.write(id, Buffer.from('ping'), true);
  pair.run(() => pair.clientSent.some((d) => (d[0]! & 0x80) === 0));
  const sample = pair.clientSent.filter((d) => (d[0]! & 0x80) === 0).at(-1)!;
  const cid = Buffer.from(sample.subarray(1, 9));
  expect([...cid].every((b) => b >= 0x80)).toBe(true);
  return { pair, cid, sample };
}

/** What the server router sends right away for `datagram` (its pending output drained first). */
function answer(pair: Pair, datagram: Buffer): Buffer[] {
  pair.serverRouter.transmit(pair.now);
  pair.serverRouter.receive(datagram, pair.clientAddr, pair.now);
  return pair.serverRouter.transmit(pair.now).map((d) => d.data);
}

describe('review: router route keys (RFC 9000 §5.2, §10.3)', () => {
  it('a DCID one byte away from a live one never reaches its connection: it gets a stateless reset with the token of its own bytes', () => {
    const { pair, cid, sample } = established();
    const resetKey = (pair.serverRouter as unknown as { resetKey: Buffer }).resetKey;
    const receive = vi.spyOn(pair.server!, 'receive');
    let variants = 0;
    for (let i = 0; i < cid.length; i++) {
      for (const flip of [0x80, 0x01, 0x7f]) {
        const datagram = Buffer.from(sample);
        datagram[1 + i]! ^= flip;
        const out = answer(pair, datagram);
        expect(receive).not.toHaveBeenCalled();
        expect(out).toHaveLength(1);
        // RFC 9000 §10.3.2: the token is derived from the DCID the reset answers, byte for byte.
        const dcid = datagram.subarray(1, 9);
        const token = createHmac('sha256', resetKey).update(dcid).digest().subarray(0, 16);
        expect(out[0]!.subarray(out[0]!.length - 16).equals(token)).toBe(true);
        variants++;
      }
    }
    expect(variants).toBe(24);
    // The live ID itself still routes.
    answer(pair, sample);
    expect(receive).toHaveBeenCalledTimes(1);
  });

  it('connection ID lengths the connections cannot use are refused when the router is made (RFC 9000 §5.1.1, §17.2)', () => {
    // A zero-length ID is for a client router only, which routes by the server's address (§5.2.1,
    // zero-length-cid.test.ts); a server router routes its clients by the IDs it issues and refuses it.
    for (const cidLength of [21, -1, 1.5, Number.NaN]) expect(() => new ConnectionRouter({ cidLength })).toThrow(RangeError);
    expect(() => new ConnectionRouter({ cidLength: 0, server: { certificateChain: [], privateKey: '', alpn: [] } })).toThrow(RangeError);
    for (const cidLength of [0, 1, 8, 20]) expect(() => new ConnectionRouter({ cidLength })).not.toThrow();
    const pair = new Pair({ serverRouter: { cidLength: 20 }, client: { cidLength: 1 } });
    expect(pair.handshake()).toBe(true);
  });

  it('a long header whose DCID is the live ID with a byte more or less is not routed to it', () => {
    const { pair, cid, sample } = established();
    const receive = vi.spyOn(pair.server!, 'receive');
    const connections = pair.serverRouter.connections.size;
    for (const dcid of [Buffer.concat([cid, Buffer.from([0x80])]), cid.subarray(0, 7), Buffer.alloc(0)]) {
      // A long header (RFC 8999 §5.1): form bit, version, DCID length and DCID, then junk.
      const datagram = Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, dcid.length]), dcid, Buffer.from([0]), sample.subarray(9)]);
      answer(pair, datagram);
      expect(receive).not.toHaveBeenCalled();
    }
    expect(pair.serverRouter.connections.size).toBe(connections);
    // The same long header with the live ID is routed.
    answer(pair, Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, 8]), cid, Buffer.from([0]), sample.subarray(9)]));
    expect(receive).toHaveBeenCalledTimes(1);
  });
});

/** header || payload with a 2-byte packet number at offset `pnOffset`; first byte gives the length. */
function plainPacket(pnOffset: number, payloadLength: number, fill: number): Buffer {
  const packet = Buffer.alloc(pnOffset + 2 + payloadLength, fill);
  packet[0] = 0x41; // short header, fixed bit, pn length 2
  packet.writeUInt16BE(0x1234, pnOffset);
  return packet;
}

describe('review: header protection masks (RFC 9001 §5.4)', () => {
  for (const suite of SUITES) {
    it(`suite 0x${suite.toString(16)}: two packets of one datagram are unmasked independently; mask() results do not share memory`, () => {
      const keys = packetKeys(QUIC_V1, suite, seededBytes(`s${suite}`)(SECRET_LENGTH[suite]));
      const protector = new PacketProtector(suite, keys);
      const a = protectPacket(protector, plainPacket(9, 40, 0xaa), 9, 2, 0x1234);
      const b = protectPacket(protector, plainPacket(9, 60, 0xbb), 9, 2, 0x1234);
      const datagram = Buffer.concat([a, b]);
      // Both packets of the datagram, one after the other, as the receive path does.
      const first = removeHeaderProtection(protector, datagram.subarray(0, a.length), 9)!;
      const second = removeHeaderProtection(protector, datagram.subarray(a.length), 9)!;
      for (const unmasked of [first, second]) {
        expect(unmasked.header[0]).toBe(0x41);
        expect(unmasked.truncatedPn).toBe(0x1234);
      }
      // The first result is its own copy: the second mask did not change it.
      expect(first.header.readUInt16BE(9)).toBe(0x1234);
      // mask() hands out its own buffer each time (maskAt() is the scratch one).
      const hp = createHeaderProtection(suite, keys.hp);
      const m1 = hp.mask(a.subarray(13, 29));
      const copy = Buffer.from(m1);
      const m2 = hp.mask(b.subarray(13, 29));
      expect(m1.equals(copy)).toBe(true);
      expect(m1.length).toBe(5);
      expect(m2.equals(m1)).toBe(false);
    });
  }
});

describe('review: packet protection keys are the protector\'s own (RFC 9001 §5.3, §6.1)', () => {
  for (const suite of SUITES) {
    it(`suite 0x${suite.toString(16)}: zeroing the caller's key, IV, HP key and secret changes nothing, before or after a key update`, () => {
      const secret = seededBytes(`k${suite}`)(SECRET_LENGTH[suite]);
      const reference = PacketProtector.fromSecret(QUIC_V1, suite, Buffer.from(secret));
      const header = Buffer.from([0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x34]);
      const payload = Buffer.alloc(50, 7);

      const keys = packetKeys(QUIC_V1, suite, secret);
      const fromKeys = new PacketProtector(suite, keys);
      const fromSecret = PacketProtector.fromSecret(QUIC_V1, suite, secret);
      for (const b of [keys.key, keys.iv, keys.hp, secret]) b.fill(0);

      for (const p of [fromKeys, fromSecret]) {
        expect(p.seal(0x1234, header, payload).equals(reference.seal(0x1234, header, payload))).toBe(true);
        expect(Buffer.from(p.mask(payload.subarray(0, 16))).equals(reference.mask(payload.subarray(0, 16)))).toBe(true);
      }
      // RFC 9001 §6.1: the next generation comes from the secret as it was given.
      const next = fromSecret.nextGeneration();
      const referenceNext = reference.nextGeneration();
      expect(next.seal(7, header, payload).equals(referenceNext.seal(7, header, payload))).toBe(true);
      expect(next.nextGeneration().seal(8, header, payload).equals(referenceNext.nextGeneration().seal(8, header, payload))).toBe(true);
    });
  }

  it('Initial keys: both directions unaffected by zeroing the derived key material', () => {
    const dcid = Buffer.from('8394c8f03e515708', 'hex'); // RFC 9001 A.1
    const keys = initialPacketKeys(QUIC_V1, dcid);
    const client = new PacketProtector(TLS_AES_128_GCM_SHA256, keys.client);
    const fresh = initialPacketKeys(QUIC_V1, dcid);
    for (const b of [keys.client.key, keys.client.iv, keys.client.hp]) b.fill(0);
    const header = Buffer.from([0xc3, 0, 0, 0, 1, 0, 0, 0, 2]);
    const payload = Buffer.alloc(30, 1);
    expect(client.seal(2, header, payload).equals(new PacketProtector(TLS_AES_128_GCM_SHA256, fresh.client).seal(2, header, payload))).toBe(true);
  });
});
