import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../src/core/errors.js';
import { TransportError } from '../../src/quic/errors.js';
import {
  appendRetryIntegrityTag,
  buildRetryWithoutTag,
  buildVersionNegotiation,
  checkReservedBits,
  decodePacketNumber,
  keyPhaseOf,
  packetNumberLength,
  packetNumberLengthOf,
  parsePacketHeader,
  readTruncatedPacketNumber,
  retryPseudoPacket,
  setLongHeaderLength,
  splitDatagram,
  truncatePacketNumber,
  writeLongHeader,
  writeShortHeader,
  type LongHeader,
  type LongPacketType,
  type PacketHeader,
} from '../../src/quic/packet.js';
import { writeTruncatedPacketNumber } from '../../src/quic/packet/number.js';
import { Writer } from '../../src/quic/varint.js';
import { QUIC_V1, QUIC_V2 } from '../../src/quic/version.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const rfc9001 = JSON.parse(readFileSync(new URL('../../fixtures/rfc9001/appendix-a.json', import.meta.url), 'utf8'));
const rfc9369 = JSON.parse(readFileSync(new URL('../../fixtures/rfc9369/appendix-a.json', import.meta.url), 'utf8'));
const opts = { shortDcidLength: 8 };

function asLong(h: PacketHeader): LongHeader {
  if (h.form !== 'long' || (h.type !== 'initial' && h.type !== '0rtt' && h.type !== 'handshake')) {
    throw new Error(`expected a long header, got ${h.type}`);
  }
  return h;
}

describe('packet numbers (RFC 9000 §17.1, Appendix A)', () => {
  it('A.2: chooses 2 bytes for 0xac5c02 after 0xabe8b3 is acknowledged, 3 for 0xace8fe', () => {
    expect(packetNumberLength(0xac5c02, 0xabe8b3)).toBe(2);
    expect(packetNumberLength(0xace8fe, 0xabe8b3)).toBe(3);
    expect(packetNumberLength(0, undefined)).toBe(1);
    expect(packetNumberLength(127, undefined)).toBe(1); // 128 unacknowledged → 8 bits suffice
    expect(packetNumberLength(128, undefined)).toBe(2);
  });

  it('A.3: decodes 0x9b32 after 0xa82f30ea as 0xa82f9b32', () => {
    expect(decodePacketNumber(0xa82f30ea, 0x9b32, 2)).toBe(0xa82f9b32);
  });

  it('RFC 9001 A.5: the 3-byte packet number 0x00bff4 is packet 654360564', () => {
    const header = hex(rfc9001.chacha20ShortHeader.header);
    const length = packetNumberLengthOf(header[0]!);
    expect(length).toBe(3);
    const truncated = readTruncatedPacketNumber(header, 1, length);
    expect(decodePacketNumber(654360563, truncated, length)).toBe(654360564);
    expect(decodePacketNumber(undefined, 0, 1)).toBe(0);
  });

  it('recovers any packet number within the window it was encoded for (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 2 ** 20 }),
        fc.integer({ min: 0, max: 2 ** 20 }),
        (largestAcked, ahead, receivedBehind) => {
          const fullPn = largestAcked + ahead;
          const length = packetNumberLength(fullPn, largestAcked);
          const truncated = truncatePacketNumber(fullPn, length);
          // The receiver has seen at least largestAcked and at most fullPn - 1 … or later packets
          // still in flight; anything within half a window of fullPn decodes uniquely.
          const largestSeen = Math.max(largestAcked, fullPn - 1 - Math.min(receivedBehind, ahead - 1));
          expect(decodePacketNumber(largestSeen, truncated, length)).toBe(fullPn);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('writing a truncated packet number (RFC 9000 §17.1)', () => {
  it('writes the low bytes big-endian, as writeUIntBE of the truncated number (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 62 - 1 }), fc.constantFrom<1 | 2 | 3 | 4>(1, 2, 3, 4), fc.nat(8), (fullPn, length, at) => {
        const written = Buffer.alloc(16, 0xee);
        const expected = Buffer.alloc(16, 0xee);
        expect(writeTruncatedPacketNumber(written, at, fullPn, length)).toBe(at + length);
        expected.writeUIntBE(Number(BigInt(fullPn) % (1n << BigInt(8 * length))), at, length);
        expect(written).toEqual(expected);
        expect(readTruncatedPacketNumber(written, at, length)).toBe(truncatePacketNumber(fullPn, length));
      }),
      { numRuns: 500 },
    );
  });
});

describe('long headers (RFC 9000 §17.2)', () => {
  it('parses the RFC 9001 A.2 client Initial header fields', () => {
    // Unprotected header, padded out to the 1162-byte payload + 16-byte tag of the RFC's datagram.
    // Length is the 2-byte varint 0x449e = 1182 = 4 (packet number) + 1162 + 16.
    const header = hex(rfc9001.clientInitial.header);
    const datagram = Buffer.concat([header, Buffer.alloc(1200 - header.length)]);
    const h = asLong(parsePacketHeader(datagram, 0, opts));
    expect(h).toMatchObject({ type: 'initial', version: QUIC_V1, firstByte: 0xc3, length: 1182, pnOffset: 18, start: 0, end: 1200 });
    expect(h.dcid.toString('hex')).toBe('8394c8f03e515708');
    expect(h.scid.length).toBe(0);
    expect(h.token.length).toBe(0);
    expect(packetNumberLengthOf(h.firstByte)).toBe(4);
    expect(readTruncatedPacketNumber(datagram, h.pnOffset, 4)).toBe(2);
    expect(() => checkReservedBits(h.firstByte)).not.toThrow();
  });

  it('parses the protected A.2 datagram the same way (fields before the packet number are clear)', () => {
    const datagram = hex(rfc9001.clientInitial.packet);
    expect(datagram.length).toBe(1200);
    const packets = splitDatagram(datagram, opts);
    expect(packets).toHaveLength(1);
    expect(asLong(packets[0]!)).toMatchObject({ type: 'initial', pnOffset: 18, length: 1182, end: 1200 });
  });

  it('parses the A.3 server Initial and the RFC 9369 v2 Initials (different type bits)', () => {
    for (const [vector, version] of [[rfc9001, QUIC_V1], [rfc9369, QUIC_V2]] as const) {
      const server = hex(vector.serverInitial.packet);
      const s = asLong(parsePacketHeader(server, 0, { ...opts, receiver: 'client' }));
      expect(s).toMatchObject({ type: 'initial', version, length: 0x75, pnOffset: 18, end: server.length });
      expect(s.dcid.length).toBe(0);
      expect(s.scid.toString('hex')).toBe('f067a5502a4262b5');
      const client = hex(vector.clientInitial.packet);
      expect(asLong(parsePacketHeader(client, 0, opts))).toMatchObject({ type: 'initial', version, pnOffset: 18 });
    }
  });

  it('builds the A.2 and A.3 headers byte for byte', () => {
    const w = new Writer(64);
    const client = writeLongHeader(w, {
      type: 'initial', version: QUIC_V1, dcid: hex('8394c8f03e515708'), scid: Buffer.alloc(0),
      packetNumber: 2, pnLength: 4,
    });
    setLongHeaderLength(w.buf, client.lengthOffset, 1182);
    expect(w.finish().toString('hex')).toBe(rfc9001.clientInitial.header);
    expect(client.pnOffset).toBe(18);

    for (const [vector, version] of [[rfc9001, QUIC_V1], [rfc9369, QUIC_V2]] as const) {
      const ws = new Writer(64);
      const server = writeLongHeader(ws, {
        type: 'initial', version, dcid: Buffer.alloc(0), scid: hex('f067a5502a4262b5'), packetNumber: 1, pnLength: 2,
      });
      setLongHeaderLength(ws.buf, server.lengthOffset, 0x75);
      expect(ws.finish().toString('hex')).toBe(vector.serverInitial.header);
    }
  });

  it('round-trips built headers through the parser, coalesced in one datagram (property)', () => {
    const cid = fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a));
    const packet = fc.record({
      type: fc.constantFrom<LongPacketType>('initial', '0rtt', 'handshake'),
      token: fc.uint8Array({ maxLength: 40 }),
      pnLength: fc.constantFrom<1 | 2 | 3 | 4>(1, 2, 3, 4),
      packetNumber: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      payload: fc.integer({ min: 0, max: 100 }),
    });
    fc.assert(
      fc.property(fc.constantFrom(QUIC_V1, QUIC_V2), cid, cid, fc.array(packet, { minLength: 1, maxLength: 4 }), (version, dcid, scid, packets) => {
        const w = new Writer(256);
        const written = packets.map((p) => {
          const token = p.type === 'initial' ? p.token : undefined;
          const h = writeLongHeader(w, { type: p.type, version, dcid, scid, token, packetNumber: p.packetNumber, pnLength: p.pnLength });
          w.zeros(p.payload);
          setLongHeaderLength(w.buf, h.lengthOffset, w.offset - h.pnOffset);
          return h;
        });
        const datagram = w.finish();
        const parsed = splitDatagram(datagram, opts).map(asLong);
        expect(parsed).toHaveLength(packets.length);
        parsed.forEach((h, i) => {
          const p = packets[i]!;
          expect(h.type).toBe(p.type);
          expect(h.version).toBe(version);
          expect(h.dcid.equals(dcid)).toBe(true);
          expect(h.scid.equals(scid)).toBe(true);
          expect(h.token.equals(Buffer.from(p.type === 'initial' ? p.token : []))).toBe(true);
          expect(h.pnOffset).toBe(written[i]!.pnOffset);
          expect(h.length).toBe(p.pnLength + p.payload);
          expect(packetNumberLengthOf(h.firstByte)).toBe(p.pnLength);
          expect(readTruncatedPacketNumber(datagram, h.pnOffset, p.pnLength)).toBe(truncatePacketNumber(p.packetNumber, p.pnLength));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('drops v1 connection IDs longer than 20 bytes (§17.2)', () => {
    const bad = Buffer.concat([hex('c000000001'), Buffer.of(21), Buffer.alloc(21), Buffer.of(0, 0, 1, 0)]);
    expect(() => parsePacketHeader(bad, 0, opts)).toThrow(DecodeError);
  });

  it('drops a packet with the fixed bit clear unless grease_quic_bit allows it (§17.2, RFC 9287)', () => {
    const header = hex(rfc9001.clientInitial.header);
    const datagram = Buffer.concat([header, Buffer.alloc(1200 - header.length)]);
    datagram[0] = datagram[0]! & ~0x40;
    expect(() => parsePacketHeader(datagram, 0, opts)).toThrow(DecodeError);
    expect(parsePacketHeader(datagram, 0, { ...opts, allowFixedBitZero: true }).type).toBe('initial');
    const w = new Writer(32);
    writeShortHeader(w, { dcid: Buffer.alloc(8), packetNumber: 1, pnLength: 1, fixedBit: false });
    expect(() => parsePacketHeader(w.finish(), 0, opts)).toThrow(DecodeError);
  });

  it('drops a Length that runs past the datagram', () => {
    const header = hex(rfc9001.clientInitial.header);
    expect(() => parsePacketHeader(Buffer.concat([header, Buffer.alloc(100)]), 0, opts)).toThrow(/Length/);
  });

  it('lets a client drop a server Initial carrying a token (§17.2.2)', () => {
    const w = new Writer(64);
    const h = writeLongHeader(w, { type: 'initial', version: QUIC_V1, dcid: Buffer.alloc(0), scid: Buffer.alloc(4), token: hex('aa'), packetNumber: 0, pnLength: 1 });
    w.zeros(20);
    setLongHeaderLength(w.buf, h.lengthOffset, w.offset - h.pnOffset);
    expect(parsePacketHeader(w.finish(), 0, { ...opts, receiver: 'server' }).type).toBe('initial');
    expect(() => parsePacketHeader(w.finish(), 0, { ...opts, receiver: 'client' })).toThrow(DecodeError);
  });

  it('refuses to build what it could not send', () => {
    expect(() => writeLongHeader(new Writer(), { type: 'handshake', version: QUIC_V1, dcid: Buffer.alloc(21), scid: Buffer.alloc(0), packetNumber: 0, pnLength: 1 })).toThrow(RangeError);
    expect(() => writeLongHeader(new Writer(), { type: 'handshake', version: QUIC_V1, dcid: Buffer.alloc(1), scid: Buffer.alloc(0), token: hex('01'), packetNumber: 0, pnLength: 1 })).toThrow(RangeError);
    expect(() => setLongHeaderLength(Buffer.alloc(2), 0, 16384)).toThrow(RangeError);
  });

  it('reports reserved bits set after unprotection as PROTOCOL_VIOLATION (§17.2, §17.3.1)', () => {
    for (const byte of [0xc4, 0xc8, 0x48, 0x50]) {
      expect(() => checkReservedBits(byte)).toThrow(TransportError);
      try {
        checkReservedBits(byte);
      } catch (err) {
        expect((err as TransportError).code).toBe(0x0a);
      }
    }
    expect(() => checkReservedBits(0x47)).not.toThrow(); // key phase and pn length are not reserved
  });
});

describe('short headers (RFC 9000 §17.3.1)', () => {
  it('parses the RFC 9001 A.5 header with a zero-length connection ID', () => {
    const datagram = hex(rfc9001.chacha20ShortHeader.packet);
    const h = parsePacketHeader(datagram, 0, { shortDcidLength: 0 });
    expect(h).toMatchObject({ form: 'short', type: '1rtt', pnOffset: 1, start: 0, end: datagram.length, spinBit: false });
  });

  it('writes spin, key phase and packet number length, and parses them back', () => {
    const w = new Writer(32);
    const dcid = hex('0102030405060708');
    const { pnOffset } = writeShortHeader(w, { dcid, packetNumber: 0x1234567, pnLength: 3, spinBit: true, keyPhase: 1 });
    w.zeros(20);
    const bytes = w.finish();
    expect(bytes[0]).toBe(0x40 | 0x20 | 0x04 | 0x02);
    expect(keyPhaseOf(bytes[0]!)).toBe(1);
    const h = parsePacketHeader(bytes, 0, opts);
    expect(h).toMatchObject({ type: '1rtt', spinBit: true, pnOffset });
    expect(readTruncatedPacketNumber(bytes, pnOffset, 3)).toBe(0x234567);
  });

  it('ends a coalesced datagram: a 1-RTT packet runs to its end (§12.2)', () => {
    const w = new Writer(128);
    const dcid = hex('0102030405060708');
    const hs = writeLongHeader(w, { type: 'handshake', version: QUIC_V1, dcid, scid: Buffer.alloc(0), packetNumber: 7, pnLength: 1 });
    w.zeros(30);
    setLongHeaderLength(w.buf, hs.lengthOffset, w.offset - hs.pnOffset);
    const shortStart = w.offset;
    writeShortHeader(w, { dcid, packetNumber: 8, pnLength: 1 });
    w.zeros(30);
    const packets = splitDatagram(w.finish(), opts);
    expect(packets.map((p) => p.type)).toEqual(['handshake', '1rtt']);
    expect(packets[1]!.start).toBe(shortStart);
  });

  it('ignores a coalesced packet with another DCID, and trailing junk (§12.2)', () => {
    const w = new Writer(128);
    for (const dcid of [hex('aaaa'), hex('bbbb')]) {
      const h = writeLongHeader(w, { type: 'handshake', version: QUIC_V1, dcid, scid: Buffer.alloc(0), packetNumber: 0, pnLength: 1 });
      w.zeros(20);
      setLongHeaderLength(w.buf, h.lengthOffset, w.offset - h.pnOffset);
    }
    expect(splitDatagram(w.finish(), opts)).toHaveLength(1);
    const first = w.finish().subarray(0, w.offset / 2);
    expect(splitDatagram(Buffer.concat([first, Buffer.alloc(10)]), opts)).toHaveLength(1);
  });
});

describe('Retry (RFC 9000 §17.2.5, RFC 9001 §5.8)', () => {
  it('parses the RFC 9001 A.4 and RFC 9369 A.4 Retry packets', () => {
    for (const [vector, version] of [[rfc9001, QUIC_V1], [rfc9369, QUIC_V2]] as const) {
      const packet = hex(vector.retry.packet);
      const h = parsePacketHeader(packet, 0, opts);
      if (h.type !== 'retry') throw new Error('expected Retry');
      expect(h.version).toBe(version);
      expect(h.dcid.length).toBe(0);
      expect(h.scid.toString('hex')).toBe('f067a5502a4262b5');
      expect(h.token.toString()).toBe('token');
      expect(h.integrityTag).toEqual(packet.subarray(packet.length - 16));
    }
  });

  it('builds them byte for byte, given the tag, and forms the pseudo-packet', () => {
    for (const vector of [rfc9001, rfc9369]) {
      const packet = hex(vector.retry.packet);
      const version = packet.readUInt32BE(1);
      const withoutTag = buildRetryWithoutTag({
        version, dcid: Buffer.alloc(0), scid: hex('f067a5502a4262b5'), token: Buffer.from('token'), unusedBits: packet[0]! & 0x0f,
      });
      expect(appendRetryIntegrityTag(withoutTag, packet.subarray(packet.length - 16))).toEqual(packet);
      const pseudo = retryPseudoPacket(hex(vector.retry.originalDcid), withoutTag);
      expect(pseudo.toString('hex')).toBe('08' + vector.retry.originalDcid + withoutTag.toString('hex'));
    }
  });

  it('drops a Retry with an empty token (§17.2.5.2) or no room for the tag', () => {
    const tagOnly = Buffer.concat([hex('f0000000010008f067a5502a4262b5'), Buffer.alloc(16)]);
    expect(() => parsePacketHeader(tagOnly, 0, opts)).toThrow(/empty token/);
    expect(() => parsePacketHeader(tagOnly.subarray(0, 20), 0, opts)).toThrow(DecodeError);
    expect(() => buildRetryWithoutTag({ version: QUIC_V1, dcid: Buffer.alloc(0), scid: Buffer.alloc(0), token: Buffer.alloc(0) })).toThrow(RangeError);
  });
});

describe('Version Negotiation (RFC 9000 §17.2.1)', () => {
  it('builds and parses one, echoing the connection IDs', () => {
    const vn = buildVersionNegotiation({ dcid: hex('0a0b'), scid: hex('0c0d0e'), versions: [QUIC_V1, QUIC_V2, 0x1a2a3a4a] });
    expect(vn.toString('hex')).toBe('c000000000020a0b030c0d0e000000016b3343cf1a2a3a4a');
    const h = parsePacketHeader(vn, 0, opts);
    expect(h).toMatchObject({ type: 'version_negotiation', versions: [QUIC_V1, QUIC_V2, 0x1a2a3a4a], end: vn.length });
    if (h.type !== 'version_negotiation') throw new Error('expected VN');
    expect(h.dcid.toString('hex')).toBe('0a0b');
    expect(h.scid.toString('hex')).toBe('0c0d0e');
  });

  it('drops a version list that is not a whole number of versions', () => {
    const vn = buildVersionNegotiation({ dcid: hex('0a'), scid: hex('0b'), versions: [QUIC_V1] });
    expect(() => parsePacketHeader(vn.subarray(0, vn.length - 1), 0, opts)).toThrow(DecodeError);
  });

  it('reports long headers of unknown versions with their invariant fields (RFC 8999 §5.1)', () => {
    // Connection IDs longer than 20 bytes are legal in other versions.
    const packet = Buffer.concat([hex('c0ff00001d'), Buffer.of(30), Buffer.alloc(30, 1), Buffer.of(2), hex('abcd'), Buffer.alloc(1200)]);
    const h = parsePacketHeader(packet, 0, opts);
    expect(h).toMatchObject({ type: 'unsupported_version', version: 0xff00001d, end: packet.length });
    if (h.type !== 'unsupported_version') throw new Error('expected unsupported_version');
    expect(h.dcid.length).toBe(30);
    expect(h.scid.toString('hex')).toBe('abcd');
  });
});

describe('hostile input', () => {
  it('gives a header or DecodeError for random bytes, never another throw (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 20 }), (bytes, shortDcidLength) => {
        try {
          const packets = splitDatagram(bytes, { shortDcidLength });
          for (const p of packets) {
            expect(p.start).toBeGreaterThanOrEqual(0);
            expect(p.end).toBeLessThanOrEqual(bytes.length);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('survives every truncation of a valid Initial', () => {
    const header = hex(rfc9001.clientInitial.header);
    for (let cut = 0; cut < header.length; cut++) {
      expect(() => parsePacketHeader(header.subarray(0, cut), 0, opts)).toThrow(DecodeError);
    }
  });
});
