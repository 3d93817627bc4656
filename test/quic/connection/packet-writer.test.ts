import { describe, expect, it } from 'vitest';
import { removeHeaderProtection } from '../../../src/quic/crypto/packet-protection.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { TLS_AES_128_GCM_SHA256 } from '../../../src/quic/crypto/suites.js';
import { headerSize, sealPacket, TAG, type PlannedPacket } from '../../../src/quic/connection/packet-writer.js';
import { streamFrameLength } from '../../../src/quic/frames/encode.js';
import { parseFrames } from '../../../src/quic/frames/decode.js';
import type { Frame } from '../../../src/quic/frames/types.js';
import { splitDatagram } from '../../../src/quic/packet/coalesced.js';
import type { ShortHeader } from '../../../src/quic/packet/header.js';
import { decodePacketNumber } from '../../../src/quic/packet/number.js';
import { PacketNumberSpace } from '../../../src/quic/recovery/space.js';

const keys = new PacketProtector(TLS_AES_128_GCM_SHA256, {
  key: Buffer.alloc(16, 1),
  iv: Buffer.alloc(12, 2),
  hp: Buffer.alloc(16, 3),
});
const dcid = Buffer.from('0102030405060708', 'hex');
const long = { version: 1, scid: Buffer.from('a1a2a3a4', 'hex'), token: Buffer.alloc(0) };

/** A 1-RTT packet of one STREAM frame carrying `data`, sized as the connection plans it. */
function streamPacket(packetNumber: number, data: Buffer, padding = 0): PlannedPacket {
  const frame: Frame = { type: 'stream', streamId: 4, offset: 1000, data, fin: false };
  const payload = streamFrameLength(4, 1000, data.length);
  return {
    space: PacketNumberSpace.ApplicationData, type: '1rtt', packetNumber, pnLength: 2, dcid, frames: [frame],
    records: [], ackEliciting: true, padding, to: undefined,
    size: headerSize('1rtt', dcid, 2, long) + payload + padding + TAG,
  };
}

/** Removes protection from a sealed datagram and returns its frames (RFC 9001 §5.3, §5.4). */
function open(datagram: Buffer): Frame[] {
  const [header] = splitDatagram(datagram, { shortDcidLength: dcid.length, receiver: 'client' }) as ShortHeader[];
  const unmasked = removeHeaderProtection(keys, datagram, header!.pnOffset)!;
  const pn = decodePacketNumber(undefined, unmasked.truncatedPn, unmasked.pnLength as 1 | 2 | 3 | 4);
  const payload = keys.open(pn, unmasked.header, datagram.subarray(unmasked.header.length));
  expect(payload).not.toBeNull();
  return parseFrames(payload!);
}

describe('sealPacket (RFC 9000 §17.3.1, §19.8; RFC 9001 §5.3, §5.4)', () => {
  it('writes the planned frames and padding, exactly the planned size, into consecutive packets of any size', () => {
    // Large, small, then past the first scratch buffer: no bytes of an earlier packet leak into a later one.
    const sizes = [1400, 30, 3000, 10];
    sizes.forEach((size, i) => {
      const data = Buffer.alloc(size, i + 1);
      const planned = streamPacket(i, data, i === 1 ? 7 : 0);
      const sealed = sealPacket(planned, keys, long, 0);
      expect(sealed.length).toBe(planned.size);
      const frames = open(sealed);
      expect(frames[0]).toMatchObject({ type: 'stream', streamId: 4, offset: 1000, fin: false });
      expect(Buffer.from((frames[0] as Extract<Frame, { type: 'stream' }>).data).equals(data)).toBe(true);
      if (i === 1) expect(frames.slice(1)).toEqual([{ type: 'padding', length: 7 }]);
      else expect(frames).toHaveLength(1);
    });
  });

  it('fills a long header Length with packet number, payload and tag (RFC 9000 §17.2)', () => {
    const frame: Frame = { type: 'crypto', offset: 0, data: Buffer.alloc(50, 9) };
    const size = headerSize('handshake', dcid, 2, long) + 1 + 1 + 1 + 50 + TAG;
    const planned: PlannedPacket = {
      space: PacketNumberSpace.Handshake, type: 'handshake', packetNumber: 3, pnLength: 2, dcid, frames: [frame],
      records: [], ackEliciting: true, padding: 0, to: undefined, size,
    };
    const sealed = sealPacket(planned, keys, long, 0);
    const [header] = splitDatagram(sealed, { shortDcidLength: dcid.length, receiver: 'client' });
    expect(header!.end).toBe(sealed.length);
    expect(sealed.length).toBe(size);
  });

  it('refuses a packet whose frames outgrow its plan (a planning bug, not a wire error)', () => {
    const planned = streamPacket(9, Buffer.alloc(100, 1));
    planned.size -= 1;
    expect(() => sealPacket(planned, keys, long, 0)).toThrow(RangeError);
    // The writer recovers: the next packet is sealed whole.
    const next = streamPacket(10, Buffer.alloc(20, 2));
    expect(open(sealPacket(next, keys, long, 0))).toHaveLength(1);
  });
});
