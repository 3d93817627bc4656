/**
 * Writing one outgoing packet (RFC 9000 §17.2, §17.3.1; RFC 9001 §5.3, §5.4): the plan the
 * connection makes (space, packet number, frames, padding, what to remember for loss recovery),
 * the header sizes it plans with, and `sealPacket`, which writes header, frames and padding into
 * one buffer, fills a long header's Length, and applies packet and header protection.
 */
import type { PacketProtector } from '../crypto/protector.js';
import { protectPacket, protectPacketLater, type HeaderMaskQueue } from '../crypto/packet-protection.js';
import { encodeFrame, encodeStreamFrame } from '../frames/encode.js';
import type { Frame } from '../frames/types.js';
import { setLongHeaderLength, writeLongHeader, writeShortHeaderAt } from '../packet/build.js';
import type { PacketNumberSpace } from '../recovery/space.js';
import type { StreamControlFrame } from '../stream/stream-manager.js';
import { varintLength, Writer } from '../varint.js';
import type { SentFrameRecord } from './sent-record.js';
import type { PeerAddress } from './types.js';

/** AEAD tag (RFC 9001 §5.3). */
export const TAG = 16;

export type PlannedPacketType = 'initial' | 'handshake' | '0rtt' | '1rtt';

/** One packet chosen by the connection and not yet written. */
export interface PlannedPacket {
  space: PacketNumberSpace;
  type: PlannedPacketType;
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  dcid: Buffer;
  frames: Frame[];
  records: SentFrameRecord[];
  ackEliciting: boolean;
  /** Bytes of the frames, PADDING excluded. */
  payloadSize: number;
  /** PADDING bytes after the frames. */
  padding: number;
  /** Whole packet on the wire, tag included. */
  size: number;
  /** A destination other than the current path, if any. */
  to: PeerAddress | undefined;
}

/** The fields of a long header that do not change from packet to packet. */
export interface LongHeaderContext {
  version: number;
  scid: Buffer;
  /** Initial token (client only, RFC 9000 §17.2.2). */
  token: Buffer;
}

/**
 * Adds a frame of `length` bytes to `plan`, with what loss recovery must remember of it, if
 * anything (RFC 9000 §13.3). ACK and PADDING are the frames that elicit no ACK (§13.2.1).
 */
export function addFrame(plan: PlannedPacket, frame: Frame, record: SentFrameRecord | undefined, length: number): void {
  plan.frames = appended(plan.frames, frame);
  plan.payloadSize += length;
  if (record !== undefined) plan.records = appended(plan.records, record);
  if (frame.type !== 'ack' && frame.type !== 'padding') plan.ackEliciting = true;
}

/** Shared empty lists of a new plan: frozen, so that only `appended` can give a plan its own. */
const NO_FRAMES: Frame[] = Object.freeze([]) as unknown as Frame[];
const NO_RECORDS: SentFrameRecord[] = Object.freeze([]) as unknown as SentFrameRecord[];

/**
 * A plan with no frames yet, for addFrame to fill. Its lists start empty and shared: most packets
 * carry one or two frames, and an array made for them holds just those, where a push onto `[]`
 * would reserve room for 16 more (V8's growth step) in every packet and its loss record.
 */
export function newPlan(space: PacketNumberSpace, type: PlannedPacketType, packetNumber: number, pnLength: 1 | 2 | 3 | 4, dcid: Buffer): PlannedPacket {
  return {
    space, type, packetNumber, pnLength, dcid, frames: NO_FRAMES, records: NO_RECORDS, ackEliciting: false,
    payloadSize: 0, padding: 0, size: 0, to: undefined,
  };
}

/** `list` with `item` at the end: a new array sized to fit while short, else `list` itself grown. */
function appended<T>(list: T[], item: T): T[] {
  switch (list.length) {
    case 0: return [item];
    case 1: return [list[0]!, item];
    default:
      list.push(item);
      return list;
  }
}

/** Header bytes of a packet of `type` (RFC 9000 §17.2: Length is written as a 2-byte varint). */
/**
 * PADDING bytes a packet needs for header protection: packet number and payload together must hold
 * the 4 bytes that precede the 16-byte sample (RFC 9001 §5.4.2).
 */
export function samplePadding(pnLength: number, payloadSize: number): number {
  return Math.max(0, 4 - pnLength - payloadSize);
}

export function headerSize(type: PlannedPacketType, dcid: Buffer, pnLength: number, long: LongHeaderContext): number {
  if (type === '1rtt') return 1 + dcid.length + pnLength;
  const token = type === 'initial' ? varintLength(long.token.length) + long.token.length : 0;
  return 1 + 4 + 1 + dcid.length + 1 + long.scid.length + token + 2 + pnLength;
}

/**
 * The unprotected packet is assembled here and never leaves this module: protectPacket copies the
 * header out and the AEAD writes the ciphertext into a fresh buffer, so one scratch buffer (grown to
 * the largest packet so far) replaces an allocation per packet.
 */
let scratch = Buffer.allocUnsafeSlow(2048);
/** The one Writer over `scratch`, rewound for each packet. */
let scratchWriter = new Writer(scratch);

/**
 * Writes header, frames and padding, then protects the packet (RFC 9001 §5.3, §5.4). With
 * `masksLater`, header protection is left to that queue (the caller applies it before sending).
 */
export function sealPacket(p: PlannedPacket, keys: PacketProtector, long: LongHeaderContext, keyPhase: 0 | 1, masksLater?: HeaderMaskQueue): Buffer {
  const plainLength = p.size - TAG;
  if (scratch.length < plainLength) {
    scratch = Buffer.allocUnsafeSlow(plainLength);
    scratchWriter = new Writer(scratch);
  }
  const plain = scratch;
  const w = scratchWriter;
  w.offset = 0;
  let pnOffset: number;
  let lengthOffset = -1;
  if (p.type === '1rtt') {
    // RFC 9000 §17.3.1, written in place (the scratch buffer holds the whole planned packet).
    pnOffset = 1 + p.dcid.length;
    w.offset = writeShortHeaderAt(plain, 0, p.dcid, p.packetNumber, p.pnLength, keyPhase);
  } else {
    const written = writeLongHeader(w, {
      type: p.type, version: long.version, dcid: p.dcid, scid: long.scid,
      token: p.type === 'initial' ? long.token : undefined,
      packetNumber: p.packetNumber, pnLength: p.pnLength,
    });
    pnOffset = written.pnOffset;
    lengthOffset = written.lengthOffset;
  }
  const frames = p.frames;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!;
    if (frame.type === 'stream') encodeStreamFrame(frame, w);
    else encodeFrame(frame, w);
  }
  if (p.padding > 0) w.zeros(p.padding);
  // The scratch buffer may be larger than the plan: what the plan did not count is a bug here.
  if (w.offset > plainLength) throw new RangeError(`packet of ${w.offset + TAG} bytes exceeds its planned ${p.size}`);
  // RFC 9000 §17.2: Length counts the packet number, the payload and the AEAD tag.
  if (lengthOffset >= 0) setLongHeaderLength(plain, lengthOffset, w.offset - pnOffset + TAG);
  const packet = plain.subarray(0, w.offset);
  if (masksLater !== undefined) return protectPacketLater(keys, packet, pnOffset, p.pnLength, p.packetNumber, masksLater);
  return protectPacket(keys, packet, pnOffset, p.pnLength, p.packetNumber);
}

/** A stream-layer control frame as a wire frame (RFC 9000 §19.4, §19.5, §19.9–§19.14). */
export function controlFrame(c: StreamControlFrame): Frame {
  switch (c.type) {
    case 'MAX_DATA': return { type: 'max_data', maximum: c.maximum };
    case 'MAX_STREAM_DATA': return { type: 'max_stream_data', streamId: c.streamId, maximum: c.maximum };
    case 'MAX_STREAMS': return { type: 'max_streams', bidi: c.direction === 'bidi', maximum: c.maximum };
    case 'DATA_BLOCKED': return { type: 'data_blocked', limit: c.maximum };
    case 'STREAM_DATA_BLOCKED': return { type: 'stream_data_blocked', streamId: c.streamId, limit: c.maximum };
    case 'STREAMS_BLOCKED': return { type: 'streams_blocked', bidi: c.direction === 'bidi', limit: c.maximum };
    case 'RESET_STREAM': return { type: 'reset_stream', streamId: c.streamId, errorCode: c.errorCode, finalSize: c.finalSize };
    case 'STOP_SENDING': return { type: 'stop_sending', streamId: c.streamId, errorCode: c.errorCode };
  }
}
