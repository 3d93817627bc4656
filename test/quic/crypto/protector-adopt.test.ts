/**
 * PacketProtector.adopt() and the protectors fromSecret() builds keep the keys they were given
 * without copies (issue 5); these tests pin what that may and may not change: RFC 9001 Appendix A
 * packets byte for byte through adopted Initial keys, and the copying constructor untouched.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PacketProtector, TLS_AES_128_GCM_SHA256, initialPacketKeys, protectPacket } from '../../../src/quic/crypto.js';
import { QUIC_V1 } from '../../../src/quic/version.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const v = JSON.parse(readFileSync(new URL('../../../fixtures/rfc9001/appendix-a.json', import.meta.url), 'utf8')) as {
  dcid: string;
  clientInitial: { packetNumber: number; pnLength: number; frames: string; payloadLength: number; header: string; sample: string; mask: string; packet: string };
};

describe('PacketProtector.adopt (RFC 9001 §5.2, §5.3)', () => {
  it('seals the RFC 9001 A.2 client Initial byte for byte from adopted Initial keys, twice', () => {
    const c = v.clientInitial;
    const protector = PacketProtector.adopt(TLS_AES_128_GCM_SHA256, initialPacketKeys(QUIC_V1, hex(v.dcid)).client);
    const payload = Buffer.alloc(c.payloadLength);
    hex(c.frames).copy(payload);
    const header = hex(c.header);
    const pnOffset = header.length - c.pnLength;
    expect(protector.mask(hex(c.sample)).toString('hex')).toBe(c.mask);
    const plain = Buffer.concat([header, payload]);
    // The second seal proves the nonce written into the adopted IV buffer is rebuilt per packet.
    expect(protectPacket(protector, plain, pnOffset, c.pnLength, c.packetNumber).toString('hex')).toBe(c.packet);
    protector.seal(c.packetNumber + 7, header, payload);
    expect(protectPacket(protector, plain, pnOffset, c.pnLength, c.packetNumber).toString('hex')).toBe(c.packet);
  });

  it('keeps the given buffers (no copy), while the constructor still copies them', () => {
    const header = Buffer.from([0xc3, 0, 0, 0, 1, 0, 0, 0, 2]);
    const payload = Buffer.alloc(30, 1);
    const adoptedKeys = initialPacketKeys(QUIC_V1, hex(v.dcid)).client;
    const copiedKeys = initialPacketKeys(QUIC_V1, hex(v.dcid)).client;
    const adopted = PacketProtector.adopt(TLS_AES_128_GCM_SHA256, adoptedKeys);
    const copied = new PacketProtector(TLS_AES_128_GCM_SHA256, copiedKeys);
    const before = copied.seal(2, header, payload);
    expect(adopted.seal(2, header, payload).equals(before)).toBe(true);
    adoptedKeys.key.fill(0);
    copiedKeys.key.fill(0);
    expect(adopted.seal(2, header, payload).equals(before)).toBe(false);
    expect(copied.seal(2, header, payload).equals(before)).toBe(true);
    // A protector made by plain `new` right after adopt() copies again.
    const later = initialPacketKeys(QUIC_V1, hex(v.dcid)).client;
    const fromNew = new PacketProtector(TLS_AES_128_GCM_SHA256, later);
    later.key.fill(0);
    expect(fromNew.seal(2, header, payload).equals(before)).toBe(true);
  });

  it('refuses keys of the wrong length and leaves the next constructor copying', () => {
    const keys = initialPacketKeys(QUIC_V1, hex(v.dcid)).client;
    expect(() => PacketProtector.adopt(TLS_AES_128_GCM_SHA256, { ...keys, key: keys.key.subarray(0, 8) })).toThrow(RangeError);
    const header = Buffer.from([0xc3, 0, 0, 0, 1]);
    const payload = Buffer.alloc(20, 3);
    const p = new PacketProtector(TLS_AES_128_GCM_SHA256, keys);
    const before = p.seal(1, header, payload);
    keys.key.fill(9);
    keys.iv.fill(9);
    expect(p.seal(1, header, payload).equals(before)).toBe(true);
  });
});
