import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protectPacket, removeHeaderProtection } from '../../../src/quic/crypto/packet-protection.js';
import { PacketProtector } from '../../../src/quic/crypto/protector.js';
import { TLS_AES_128_GCM_SHA256 } from '../../../src/quic/crypto/suites.js';
import { addFrame, headerSize, newPlan, sealPacket, TAG, type PlannedPacket } from '../../../src/quic/connection/packet-writer.js';
import { encodeFrame, frameLength, streamFrameLength } from '../../../src/quic/frames/encode.js';
import { writeShortHeader } from '../../../src/quic/packet/build.js';
import { Writer } from '../../../src/quic/varint.js';
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
    records: [], ackEliciting: true, payloadSize: payload, padding, to: undefined,
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
      records: [], ackEliciting: true, payloadSize: 1 + 1 + 1 + 50, padding: 0, to: undefined, size,
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

  it('gives byte for byte the packet of writeShortHeader + encodeFrame + protectPacket, any key phase, packet number length and frames', () => {
    // The short header and STREAM frames are written in place (no Writer calls, no header object):
    // the reference is the generic path (RFC 9000 §17.3.1, §19.8; RFC 9001 §5.3, §5.4).
    const frameArb: fc.Arbitrary<Frame> = fc.oneof(
      fc.record({
        type: fc.constant('stream' as const),
        streamId: fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 2 ** 40 })),
        offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 50 })),
        data: fc.uint8Array({ maxLength: 1300 }).map((d) => Buffer.from(d)),
        fin: fc.boolean(),
      }),
      fc.constant<Frame>({ type: 'ping' }),
      fc.record({ type: fc.constant('max_data' as const), maximum: fc.integer({ min: 0, max: 2 ** 40 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<1 | 2 | 3 | 4>,
        fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>,
        fc.integer({ min: 0, max: 30 }),
        (frames, packetNumber, pnLength, keyPhase, extraPadding) => {
          const plan: PlannedPacket = {
            space: PacketNumberSpace.ApplicationData, type: '1rtt', packetNumber, pnLength, dcid, frames: [],
            records: [], ackEliciting: false, payloadSize: 0, padding: 0, to: undefined, size: 0,
          };
          for (const f of frames) addFrame(plan, f, undefined, frameLength(f));
          plan.padding = Math.max(0, 4 - pnLength - plan.payloadSize) + extraPadding;
          plan.size = headerSize('1rtt', dcid, pnLength, long) + plan.payloadSize + plan.padding + TAG;

          const w = new Writer();
          const { pnOffset } = writeShortHeader(w, { dcid, packetNumber, pnLength, keyPhase });
          for (const f of frames) encodeFrame(f, w);
          w.zeros(plan.padding);
          const expected = protectPacket(keys, w.buf.subarray(0, w.offset), pnOffset, pnLength, packetNumber);
          expect(sealPacket(plan, keys, long, keyPhase).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('addFrame (RFC 9000 §13.2.1, §13.3)', () => {
  it('counts the bytes, keeps the records given, and marks the packet ack-eliciting for any frame but ACK and PADDING', () => {
    const plan: PlannedPacket = {
      space: PacketNumberSpace.ApplicationData, type: '1rtt', packetNumber: 0, pnLength: 1, dcid, frames: [],
      records: [], ackEliciting: false, payloadSize: 0, padding: 0, to: undefined, size: 0,
    };
    addFrame(plan, { type: 'ack', ranges: [[0, 0]], ackDelay: 0 }, { kind: 'ack', space: PacketNumberSpace.ApplicationData, largest: 0 }, 5);
    addFrame(plan, { type: 'padding', length: 3 }, undefined, 3);
    expect(plan.ackEliciting).toBe(false);
    const stream: Frame = { type: 'stream', streamId: 0, offset: 0, data: Buffer.alloc(10), fin: true };
    addFrame(plan, stream, { kind: 'stream', streamId: 0, offset: 0, length: 10, fin: true }, 13);
    expect(plan.ackEliciting).toBe(true);
    addFrame(plan, { type: 'ping' }, undefined, 1);
    expect(plan.payloadSize).toBe(5 + 3 + 13 + 1);
    expect(plan.frames.map((f) => f.type)).toEqual(['ack', 'padding', 'stream', 'ping']);
    expect(plan.records.map((r) => r.kind)).toEqual(['ack', 'stream']);
  });

  it('gives each plan its own lists: frames and records added to one never show in another, at any count', () => {
    const a = newPlan(PacketNumberSpace.ApplicationData, '1rtt', 1, 1, dcid);
    const b = newPlan(PacketNumberSpace.ApplicationData, '1rtt', 2, 1, dcid);
    for (let i = 0; i < 5; i++) {
      addFrame(a, { type: 'max_data', maximum: i }, { kind: 'handshake-done' }, 2);
      expect(a.frames.map((f) => (f as { maximum: number }).maximum)).toEqual([...Array(i + 1).keys()]);
      expect(a.records).toHaveLength(i + 1);
      expect(b.frames).toHaveLength(0);
      expect(b.records).toHaveLength(0);
    }
    addFrame(b, { type: 'ping' }, undefined, 1);
    expect(b.frames).toEqual([{ type: 'ping' }]);
    expect(b.records).toHaveLength(0);
    expect(a.frames).toHaveLength(5);
    // A later plan starts empty again.
    expect(newPlan(PacketNumberSpace.Handshake, 'handshake', 3, 2, dcid).frames).toHaveLength(0);
  });
});
