/**
 * HTTP/3 frames (RFC 9114 §7): the codec for DATA, HEADERS, CANCEL_PUSH, SETTINGS, PUSH_PROMISE,
 * GOAWAY and MAX_PUSH_ID, an incremental `FrameReader` for one stream that enforces which frames
 * may appear on which stream (RFC 9114 §7.2, Appendix A.2), and the unidirectional stream header
 * (RFC 9114 §6.2, RFC 9204 §4.2).
 *
 * Frame layout (RFC 9114 §7.1):  Type (i), Length (i), Frame Payload (..)
 *
 * The reader hands DATA payload out as it arrives — a streamed body never waits for the end of
 * its frame — while frames whose payload has structure are buffered up to a limit. Reserved
 * (0x1f * N + 0x21) and unknown frame types are skipped without buffering (RFC 9114 §9).
 */
import { DEFAULT_LIMITS } from '../core/limits.js';
import { H3Error, H3ErrorCode } from './errors.js';
import { decodeSettingsPayload, encodeSettingsPayload, type EncodeSettingsOptions, type H3Settings } from './settings.js';
import { readVarint, varintLength, writeVarint } from './varint.js';

/** RFC 9114 §7.2 and §11.2.1. */
export const FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

export type Frame =
  | { type: 'data'; data: Uint8Array }
  | { type: 'headers'; fieldSection: Uint8Array }
  | { type: 'cancel_push'; pushId: number }
  | { type: 'settings'; settings: H3Settings }
  | { type: 'push_promise'; pushId: number; fieldSection: Uint8Array }
  /** Stream ID (server → client) or push ID (client → server), RFC 9114 §7.2.6. */
  | { type: 'goaway'; id: number }
  | { type: 'max_push_id'; pushId: number };

/** 0x1f * N + 0x21: reserved frame types, sent as padding and ignored (RFC 9114 §7.2.8). */
export function isReservedFrameType(type: number): boolean {
  return type >= 0x21 && (type - 0x21) % 0x1f === 0;
}

/** PRIORITY, PING, WINDOW_UPDATE, CONTINUATION exist only in HTTP/2 (RFC 9114 §7.2.8, §11.2.1). */
function isHttp2OnlyFrameType(type: number): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Type and Length of a frame; the payload follows separately (DATA bodies are not copied). */
export function encodeFrameHeader(type: number, payloadLength: number): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderLength(type, payloadLength));
  writeFrameHeader(out, 0, type, payloadLength);
  return out;
}

/** Bytes of a frame's Type and Length fields (RFC 9114 §7.1). */
export function frameHeaderLength(type: number, payloadLength: number): number {
  return varintLength(type) + varintLength(payloadLength);
}

/** Writes a frame's Type and Length at `offset` of `out`; returns the offset after them. */
export function writeFrameHeader(out: Uint8Array, offset: number, type: number, payloadLength: number): number {
  return writeVarint(out, writeVarint(out, offset, type), payloadLength);
}

function frameWithPayload(type: number, payload: Uint8Array): Buffer {
  const headerLength = varintLength(type) + varintLength(payload.length);
  const out = Buffer.allocUnsafe(headerLength + payload.length);
  writeVarint(out, writeVarint(out, 0, type), payload.length);
  out.set(payload, headerLength);
  return out;
}

function frameWithVarint(type: number, value: number): Buffer {
  const length = varintLength(value);
  const out = Buffer.allocUnsafe(varintLength(type) + varintLength(length) + length);
  writeVarint(out, writeVarint(out, writeVarint(out, 0, type), length), value);
  return out;
}

/** A SETTINGS frame (RFC 9114 §7.2.4), optionally with a grease setting. */
export function encodeSettingsFrame(settings: Partial<H3Settings>, options?: EncodeSettingsOptions): Buffer {
  return frameWithPayload(FrameType.SETTINGS, encodeSettingsPayload(settings, options));
}

/** A whole frame in one buffer. For large DATA, prefer encodeFrameHeader + the payload as is. */
export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case 'data':
      return frameWithPayload(FrameType.DATA, frame.data);
    case 'headers':
      return frameWithPayload(FrameType.HEADERS, frame.fieldSection);
    case 'cancel_push':
      return frameWithVarint(FrameType.CANCEL_PUSH, frame.pushId);
    case 'settings':
      return encodeSettingsFrame(frame.settings);
    case 'push_promise': {
      const idLength = varintLength(frame.pushId);
      const payload = Buffer.allocUnsafe(idLength + frame.fieldSection.length);
      writeVarint(payload, 0, frame.pushId);
      payload.set(frame.fieldSection, idLength);
      return frameWithPayload(FrameType.PUSH_PROMISE, payload);
    }
    case 'goaway':
      return frameWithVarint(FrameType.GOAWAY, frame.id);
    case 'max_push_id':
      return frameWithVarint(FrameType.MAX_PUSH_ID, frame.pushId);
  }
}

// ---------------------------------------------------------------------------------------------
// Which frame may arrive where (RFC 9114 §7.2, Table 1 in Appendix A.2)

export type FrameStreamKind = 'control' | 'request' | 'push';

function unexpected(message: string, section: string): H3Error {
  return new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, message, section);
}

/**
 * Throws H3_FRAME_UNEXPECTED (or H3_MISSING_SETTINGS) when a frame of `type` may not arrive on
 * this stream. `receiver` is the endpoint reading, when known.
 */
function checkFrameAllowed(
  type: number,
  stream: FrameStreamKind,
  isFirstFrame: boolean,
  receiver: 'client' | 'server' | undefined,
): void {
  if (isHttp2OnlyFrameType(type)) {
    throw unexpected(`HTTP/2 frame type 0x${type.toString(16)}`, 'RFC 9114 §7.2.8');
  }
  if (stream === 'control') {
    if (isFirstFrame && type !== FrameType.SETTINGS) {
      throw new H3Error(H3ErrorCode.H3_MISSING_SETTINGS, 'first frame on the control stream is not SETTINGS', 'RFC 9114 §6.2.1');
    }
    switch (type) {
      case FrameType.SETTINGS:
        if (!isFirstFrame) throw unexpected('second SETTINGS frame', 'RFC 9114 §7.2.4');
        return;
      case FrameType.DATA:
        throw unexpected('DATA on the control stream', 'RFC 9114 §7.2.1');
      case FrameType.HEADERS:
        throw unexpected('HEADERS on the control stream', 'RFC 9114 §7.2.2');
      case FrameType.PUSH_PROMISE:
        throw unexpected('PUSH_PROMISE on the control stream', 'RFC 9114 §7.2.5');
      case FrameType.MAX_PUSH_ID:
        if (receiver === 'client') throw unexpected('MAX_PUSH_ID received by a client', 'RFC 9114 §7.2.7');
        return;
      default:
        return;
    }
  }
  // Request and push streams.
  switch (type) {
    case FrameType.CANCEL_PUSH:
      throw unexpected(`CANCEL_PUSH on a ${stream} stream`, 'RFC 9114 §7.2.3');
    case FrameType.SETTINGS:
      throw unexpected(`SETTINGS on a ${stream} stream`, 'RFC 9114 §7.2.4');
    case FrameType.GOAWAY:
      throw unexpected(`GOAWAY on a ${stream} stream`, 'RFC 9114 §7.2.6');
    case FrameType.MAX_PUSH_ID:
      throw unexpected(`MAX_PUSH_ID on a ${stream} stream`, 'RFC 9114 §7.2.7');
    case FrameType.PUSH_PROMISE:
      if (stream === 'push') throw unexpected('PUSH_PROMISE on a push stream', 'RFC 9114 §4.1');
      if (receiver === 'server') throw unexpected('PUSH_PROMISE received by a server', 'RFC 9114 §7.2.5');
      return;
    default:
      return;
  }
}

/**
 * The order of a message's frames on a request or push stream (RFC 9114 §4.1): HEADERS, then
 * DATA*, then optionally a trailing HEADERS; interim responses add HEADERS before the final one.
 * Without the decoded :status the reader cannot tell an interim HEADERS from a trailing one right
 * after HEADERS, so it enforces what is certain (null = H3_FRAME_UNEXPECTED):
 *
 *   state     HEADERS    DATA
 *   start     headers    —        DATA before any HEADERS
 *   headers   headers    body     interim → final, or final → trailers
 *   body      trailers   body
 *   trailers  —          —        nothing after the trailing HEADERS
 */
type MessageState = 'start' | 'headers' | 'body' | 'trailers';
const MESSAGE_TRANSITIONS: Record<MessageState, { headers: MessageState | null; data: MessageState | null }> = {
  start: { headers: 'headers', data: null },
  headers: { headers: 'headers', data: 'body' },
  body: { headers: 'trailers', data: 'body' },
  trailers: { headers: null, data: null },
};

// ---------------------------------------------------------------------------------------------
// Decoding payloads

function frameError(message: string, section = 'RFC 9114 §7.1'): H3Error {
  return new H3Error(H3ErrorCode.H3_FRAME_ERROR, message, section);
}

/** A payload that is exactly one varint (CANCEL_PUSH, GOAWAY, MAX_PUSH_ID). */
function decodeSingleVarint(payload: Uint8Array, name: string): number {
  const read = readVarint(payload, 0);
  // RFC 9114 §7.1: fields must fill the payload exactly — no less, no more.
  if (!read || read.length !== payload.length) throw frameError(`${name} payload is not exactly one varint`);
  return read.value;
}

/** Decodes a complete payload of a known frame type (DATA excepted: the reader streams it). */
function decodePayload(type: number, payload: Uint8Array): Frame {
  switch (type) {
    case FrameType.HEADERS:
      return { type: 'headers', fieldSection: payload };
    case FrameType.CANCEL_PUSH:
      return { type: 'cancel_push', pushId: decodeSingleVarint(payload, 'CANCEL_PUSH') };
    case FrameType.SETTINGS:
      return { type: 'settings', settings: decodeSettingsPayload(payload) };
    case FrameType.PUSH_PROMISE: {
      const pushId = readVarint(payload, 0);
      if (!pushId) throw frameError('PUSH_PROMISE payload ends inside the push ID');
      return { type: 'push_promise', pushId: pushId.value, fieldSection: payload.subarray(pushId.length) };
    }
    case FrameType.GOAWAY:
      return { type: 'goaway', id: decodeSingleVarint(payload, 'GOAWAY') };
    case FrameType.MAX_PUSH_ID:
      return { type: 'max_push_id', pushId: decodeSingleVarint(payload, 'MAX_PUSH_ID') };
    default:
      // Unreachable: the reader buffers only the types above.
      throw new H3Error(H3ErrorCode.H3_INTERNAL_ERROR, `frame type 0x${type.toString(16)} is not buffered`, 'RFC 9114 §7.2');
  }
}

// ---------------------------------------------------------------------------------------------
// The incremental reader

/** RFC 9114 §10.5: a frame larger than we are willing to buffer is excessive load. */
function checkBufferLimit(what: string, length: number, limit: number): void {
  if (length > limit) {
    throw new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, `${what} of ${length} bytes over the ${limit}-byte limit`, 'RFC 9114 §10.5');
  }
}

export interface FrameReaderOptions {
  stream: FrameStreamKind;
  /** The endpoint that reads; enables the client-only / server-only frame rules. */
  receiver?: 'client' | 'server';
  /** Largest HEADERS or PUSH_PROMISE payload buffered; larger → H3_EXCESSIVE_LOAD. */
  maxFieldSectionBytes?: number;
  /** Largest SETTINGS payload buffered; larger → H3_EXCESSIVE_LOAD. */
  maxSettingsBytes?: number;
}

const MAX_FRAME_HEADER_BYTES = 16;
/** A single varint never needs more than 8 bytes. */
const MAX_VARINT_PAYLOAD = 8;

/**
 * What the reader is in the middle of: a frame header; DATA payload, handed out piece by piece
 * as it arrives; a structured payload, collected and then decoded; an unknown or reserved frame,
 * dropped as it arrives.
 */
type ReaderState = 'header' | 'data' | 'buffer' | 'skip';

/** Bytes of the varint whose first byte is `first` (RFC 9000 §16). */
function varintSize(first: number): number {
  return 1 << (first >> 6);
}

/** The varint of `size` bytes at `offset` (all present). */
function varintAt(bytes: Uint8Array, offset: number, size: number): number {
  let value = bytes[offset]! & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + bytes[offset + i]!;
  return value;
}

/**
 * Turns the bytes of one stream (after any stream header), split anywhere, into frames, checking
 * which frames the stream may carry (§7.2) and, on request and push streams, their order (§4.1).
 * `push(chunk)` returns the frames completed by that chunk, with DATA payload as pieces
 * (`{ type: 'data' }` events, one per contiguous piece; an empty DATA frame gives one empty piece).
 * `end()` is called at the stream's FIN. Errors are thrown as H3Error (connection scope).
 *
 * DATA pieces and small payloads are views of the chunks given to `push`: callers must not
 * reuse those buffers while the frames are in use.
 */
export class FrameReader {
  private readonly stream: FrameStreamKind;
  private readonly receiver: 'client' | 'server' | undefined;
  private readonly maxFieldSectionBytes: number;
  private readonly maxSettingsBytes: number;
  /** A frame header split across chunks collects here; made only when that happens. */
  private header: Buffer | null = null;
  private headerFilled = 0;
  /** Fields rather than a state object, so that no object is made per frame. */
  private state: ReaderState = 'header';
  /** Payload bytes still to come ('data', 'skip'). */
  private remaining = 0;
  /** Type and payload collected so far ('buffer'). */
  private bufferType = 0;
  private payload: Buffer | null = null;
  private filled = 0;
  private framesSeen = 0;
  private message: MessageState = 'start';

  constructor(options: FrameReaderOptions) {
    this.stream = options.stream;
    this.receiver = options.receiver;
    this.maxFieldSectionBytes = options.maxFieldSectionBytes ?? DEFAULT_LIMITS.maxHeaderBlockBytes;
    this.maxSettingsBytes = options.maxSettingsBytes ?? 16 * 1024;
  }

  /** True between frames: a FIN here ends the stream cleanly. */
  get atFrameBoundary(): boolean {
    return this.state === 'header' && this.headerFilled === 0;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case 'header':
          offset = this.readHeader(chunk, offset, frames);
          break;
        case 'data': {
          const take = Math.min(this.remaining, chunk.length - offset);
          frames.push({ type: 'data', data: chunk.subarray(offset, offset + take) });
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'header';
          break;
        }
        case 'skip': {
          const take = Math.min(this.remaining, chunk.length - offset);
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'header';
          break;
        }
        case 'buffer': {
          const payload = this.payload!;
          const take = Math.min(payload.length - this.filled, chunk.length - offset);
          payload.set(chunk.subarray(offset, offset + take), this.filled);
          this.filled += take;
          offset += take;
          if (this.filled === payload.length) {
            this.state = 'header';
            this.payload = null;
            frames.push(this.decode(this.bufferType, payload));
          }
          break;
        }
      }
    }
    return frames;
  }

  /**
   * The stream ended cleanly (FIN). A control stream must never end (RFC 9114 §6.2.1); on other
   * streams a truncated last frame is H3_FRAME_ERROR (RFC 9114 §7.1).
   */
  end(): void {
    if (this.stream === 'control') {
      throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, 'control stream closed', 'RFC 9114 §6.2.1');
    }
    if (!this.atFrameBoundary) throw frameError('stream ended inside a frame');
  }

  /** Reads Type and Length, from the chunk directly when whole, else through `header`. */
  private readHeader(chunk: Uint8Array, offset: number, frames: Frame[]): number {
    if (this.headerFilled === 0) {
      // Fast path: the whole header is in this chunk (offset < chunk.length here).
      const typeSize = varintSize(chunk[offset]!);
      const lengthAt = offset + typeSize;
      if (lengthAt < chunk.length) {
        const lengthSize = varintSize(chunk[lengthAt]!);
        if (lengthAt + lengthSize <= chunk.length) {
          return this.startFrame(varintAt(chunk, offset, typeSize), varintAt(chunk, lengthAt, lengthSize), chunk, lengthAt + lengthSize, frames);
        }
      }
    }
    // Slow path, at most 16 bytes: the header is split across chunks.
    const header = (this.header ??= Buffer.alloc(MAX_FRAME_HEADER_BYTES));
    const needed = this.headerBytesNeeded();
    const take = Math.min(needed - this.headerFilled, chunk.length - offset);
    header.set(chunk.subarray(offset, offset + take), this.headerFilled);
    this.headerFilled += take;
    offset += take;
    if (this.headerFilled < this.headerBytesNeeded()) return offset;
    const type = readVarint(header.subarray(0, this.headerFilled), 0)!;
    const length = readVarint(header.subarray(0, this.headerFilled), type.length)!;
    this.headerFilled = 0;
    return this.startFrame(type.value, length.value, chunk, offset, frames);
  }

  /** Decodes a complete payload, with the rules that depend on who reads it. */
  private decode(type: number, payload: Uint8Array): Frame {
    const frame = decodePayload(type, payload);
    // RFC 9114 §7.2.6: a server's GOAWAY carries a client-initiated bidirectional stream ID.
    if (frame.type === 'goaway' && this.receiver === 'client' && frame.id % 4 !== 0) {
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY with stream ID ${frame.id}, not a request stream`, 'RFC 9114 §7.2.6');
    }
    return frame;
  }

  /** Bytes of header known to be needed from what `header` holds so far. */
  private headerBytesNeeded(): number {
    const header = this.header;
    if (this.headerFilled === 0 || !header) return 1;
    const typeLength = 1 << (header[0]! >> 6);
    if (this.headerFilled <= typeLength) return typeLength + 1;
    return typeLength + (1 << (header[typeLength]! >> 6));
  }

  private startFrame(type: number, length: number, chunk: Uint8Array, offset: number, frames: Frame[]): number {
    checkFrameAllowed(type, this.stream, this.framesSeen === 0, this.receiver);
    this.framesSeen++;
    if (type === FrameType.HEADERS || type === FrameType.DATA) {
      const next = MESSAGE_TRANSITIONS[this.message][type === FrameType.HEADERS ? 'headers' : 'data'];
      if (!next) throw unexpected(`${type === FrameType.HEADERS ? 'HEADERS' : 'DATA'} frame in message state '${this.message}'`, 'RFC 9114 §4.1');
      this.message = next;
    }
    switch (type) {
      case FrameType.DATA:
        if (length === 0) {
          frames.push({ type: 'data', data: chunk.subarray(offset, offset) });
        } else {
          this.state = 'data';
          this.remaining = length;
        }
        return offset;
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE:
        checkBufferLimit('field section frame', length, this.maxFieldSectionBytes);
        break;
      case FrameType.SETTINGS:
        checkBufferLimit('SETTINGS frame', length, this.maxSettingsBytes);
        break;
      case FrameType.CANCEL_PUSH:
      case FrameType.GOAWAY:
      case FrameType.MAX_PUSH_ID:
        // RFC 9114 §7.1: the payload is one varint, 1 to 8 bytes; any other length is malformed.
        if (length === 0 || length > MAX_VARINT_PAYLOAD) throw frameError(`frame 0x${type.toString(16)} with a ${length}-byte payload`);
        break;
      default:
        // RFC 9114 §9: unknown and reserved frame types are ignored.
        if (length > 0) {
          this.state = 'skip';
          this.remaining = length;
        }
        return offset;
    }
    if (chunk.length - offset >= length) {
      // Whole payload in this chunk: decode it in place.
      frames.push(this.decode(type, chunk.subarray(offset, offset + length)));
      return offset + length;
    }
    this.state = 'buffer';
    this.bufferType = type;
    this.payload = Buffer.allocUnsafe(length);
    this.filled = 0;
    return offset;
  }
}

// ---------------------------------------------------------------------------------------------
// Unidirectional stream header (RFC 9114 §6.2)

/** RFC 9114 §6.2 and RFC 9204 §4.2. */
export const UniStreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

export type UniStreamKind = 'control' | 'push' | 'qpack-encoder' | 'qpack-decoder' | 'reserved' | 'unknown';

export function uniStreamKind(type: number): UniStreamKind {
  switch (type) {
    case UniStreamType.CONTROL:
      return 'control';
    case UniStreamType.PUSH:
      return 'push';
    case UniStreamType.QPACK_ENCODER:
      return 'qpack-encoder';
    case UniStreamType.QPACK_DECODER:
      return 'qpack-decoder';
    default:
      // RFC 9114 §6.2.3: 0x1f * N + 0x21 is reserved; any other unknown type is also ignored
      // (RFC 9114 §6.2: abort reading or discard, never a connection error).
      return type >= 0x21 && (type - 0x21) % 0x1f === 0 ? 'reserved' : 'unknown';
  }
}

export interface UniStreamHeader {
  kind: UniStreamKind;
  type: number;
  /** Push streams only: the push ID that follows the type (RFC 9114 §4.6). */
  pushId?: number;
  /** Bytes of the header; frames or instructions start after them. */
  length: number;
}

/** Reads the stream header at the start of a unidirectional stream; null until it is complete. */
export function readUniStreamHeader(bytes: Uint8Array): UniStreamHeader | null {
  const type = readVarint(bytes, 0);
  if (!type) return null;
  const kind = uniStreamKind(type.value);
  if (kind !== 'push') return { kind, type: type.value, length: type.length };
  const pushId = readVarint(bytes, type.length);
  if (!pushId) return null;
  return { kind, type: type.value, pushId: pushId.value, length: type.length + pushId.length };
}

export function encodeUniStreamHeader(type: number, pushId?: number): Buffer {
  const withPushId = type === UniStreamType.PUSH;
  if (withPushId && pushId === undefined) throw new RangeError('a push stream header needs a push ID');
  const out = Buffer.allocUnsafe(varintLength(type) + (withPushId ? varintLength(pushId!) : 0));
  const offset = writeVarint(out, 0, type);
  if (withPushId) writeVarint(out, offset, pushId!);
  return out;
}
