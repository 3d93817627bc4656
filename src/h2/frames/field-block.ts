/**
 * Joins a HEADERS or PUSH_PROMISE frame and its CONTINUATION frames into one field block
 * (RFC 9113 §4.3, §6.2, §6.6, §6.10), so that HPACK always gets whole blocks.
 *
 * - While a block is open, only CONTINUATION frames on the same stream may arrive; anything else,
 *   unknown frame types included (§5.5), is a connection PROTOCOL_ERROR.
 * - A CONTINUATION with no open block is a connection PROTOCOL_ERROR (§6.10).
 * - Limits against floods (RFC 9113 §10.5): at most `maxBlockBytes` per block and
 *   `maxContinuationFrames` CONTINUATION frames; past either, ENHANCE_YOUR_CALM ends the
 *   connection (the block cannot be skipped without losing the HPACK context).
 * A block in a single frame is passed on without a copy.
 */
import { DEFAULT_LIMITS } from '../../core/limits.js';
import { ErrorCode, connectionError } from '../errors.js';
import type { ContinuationFrame, Frame, HeadersFrame, PrioritySpec, PushPromiseFrame } from './types.js';

/** A whole field block with what its first frame said. */
export interface FieldBlock {
  type: 'FIELD_BLOCK';
  /** The frame that opened the block. */
  opener: 'HEADERS' | 'PUSH_PROMISE';
  streamId: number;
  /** HEADERS only: END_STREAM of the opening frame (§8.1). */
  endStream: boolean;
  priority?: PrioritySpec;
  /** PUSH_PROMISE only. */
  promisedStreamId?: number;
  block: Uint8Array;
}

/** Frames that are not part of a field block pass through as they are. */
export type AssembledFrame = Exclude<Frame, HeadersFrame | PushPromiseFrame | ContinuationFrame> | FieldBlock;

export interface FieldBlockLimits {
  maxBlockBytes?: number;
  maxContinuationFrames?: number;
}

export class FieldBlockAssembler {
  private readonly maxBlockBytes: number;
  private readonly maxContinuationFrames: number;
  private opener: HeadersFrame | PushPromiseFrame | null = null;
  private fragments: Uint8Array[] = [];
  private bytes = 0;

  constructor(limits: FieldBlockLimits = {}) {
    this.maxBlockBytes = limits.maxBlockBytes ?? DEFAULT_LIMITS.maxHeaderBlockBytes;
    this.maxContinuationFrames = limits.maxContinuationFrames ?? DEFAULT_LIMITS.maxContinuationFrames;
  }

  /** True while a block waits for CONTINUATION frames. */
  get open(): boolean {
    return this.opener !== null;
  }

  /** Feeds one decoded frame: returns it (or the completed block), or null while a block is unfinished. */
  push(frame: Frame): AssembledFrame | null {
    if (this.opener) return this.continueBlock(frame);
    switch (frame.type) {
      case 'HEADERS':
      case 'PUSH_PROMISE':
        this.bytes = frame.fragment.length;
        this.checkSize();
        if (frame.endHeaders) return this.complete(frame, frame.fragment);
        this.opener = frame;
        this.fragments = [frame.fragment];
        return null;
      case 'CONTINUATION':
        throw connectionError(ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${frame.streamId} without an open field block`, 'RFC 9113 §6.10');
      default:
        return frame;
    }
  }

  private continueBlock(frame: Frame): AssembledFrame | null {
    const opener = this.opener!;
    if (frame.type !== 'CONTINUATION' || frame.streamId !== opener.streamId) {
      const what = frame.type === 'UNKNOWN' ? `frame type 0x${frame.frameType.toString(16)}` : frame.type;
      throw connectionError(ErrorCode.PROTOCOL_ERROR, `${what} on stream ${frame.streamId} inside a field block of stream ${opener.streamId}`, 'RFC 9113 §6.10');
    }
    // fragments holds the opener's plus one per CONTINUATION so far.
    if (this.fragments.length > this.maxContinuationFrames) {
      throw connectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.maxContinuationFrames} CONTINUATION frames`, 'RFC 9113 §10.5');
    }
    this.fragments.push(frame.fragment);
    this.bytes += frame.fragment.length;
    this.checkSize();
    if (!frame.endHeaders) return null;
    const block = Buffer.concat(this.fragments, this.bytes);
    this.opener = null;
    this.fragments = [];
    return this.complete(opener, block);
  }

  private checkSize(): void {
    if (this.bytes > this.maxBlockBytes) {
      throw connectionError(ErrorCode.ENHANCE_YOUR_CALM, `field block over ${this.maxBlockBytes} octets`, 'RFC 9113 §10.5.1');
    }
  }

  private complete(opener: HeadersFrame | PushPromiseFrame, block: Uint8Array): FieldBlock {
    if (opener.type === 'HEADERS') {
      return {
        type: 'FIELD_BLOCK', opener: 'HEADERS', streamId: opener.streamId, endStream: opener.endStream,
        ...(opener.priority && { priority: opener.priority }), block,
      };
    }
    return { type: 'FIELD_BLOCK', opener: 'PUSH_PROMISE', streamId: opener.streamId, endStream: false, promisedStreamId: opener.promisedStreamId, block };
  }
}
