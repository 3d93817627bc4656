import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FieldBlockAssembler, FrameDecoder, encodeFrame, encodeHeadersBlock, encodePushPromiseBlock, type AssembledFrame, type Frame } from '../../../src/h2/frame.js';
import { ErrorCode, H2Error } from '../../../src/h2/errors.js';

const headers = (streamId: number, endHeaders: boolean, fragment = Buffer.from('ab')): Frame =>
  ({ type: 'HEADERS', streamId, endStream: true, endHeaders, fragment });
const continuation = (streamId: number, endHeaders: boolean, fragment = Buffer.from('cd')): Frame =>
  ({ type: 'CONTINUATION', streamId, endHeaders, fragment });
const ping: Frame = { type: 'PING', streamId: 0, ack: false, opaqueData: Buffer.alloc(8) };

function feed(assembler: FieldBlockAssembler, frames: Frame[]): Array<AssembledFrame | null> {
  return frames.map((frame) => assembler.push(frame));
}

function failure(frames: Frame[], assembler = new FieldBlockAssembler()): H2Error {
  try {
    feed(assembler, frames);
  } catch (error) {
    expect(error).toBeInstanceOf(H2Error);
    return error as H2Error;
  }
  throw new Error('expected an error');
}

describe('field blocks (RFC 9113 §4.3, §6.2, §6.10)', () => {
  it('passes a single-frame block on without copying, and other frames through', () => {
    const fragment = Buffer.from('xyz');
    const assembler = new FieldBlockAssembler();
    const [block, other] = feed(assembler, [headers(1, true, fragment), ping]);
    expect(block).toEqual({ type: 'FIELD_BLOCK', opener: 'HEADERS', streamId: 1, endStream: true, block: fragment });
    expect(block?.type === 'FIELD_BLOCK' && block.block).toBe(fragment);
    expect(other).toBe(ping);
  });

  it('joins HEADERS + CONTINUATION frames; END_STREAM comes from the HEADERS frame', () => {
    const out = feed(new FieldBlockAssembler(), [headers(3, false), continuation(3, false), continuation(3, true, Buffer.from('ef'))]);
    expect(out.slice(0, 2)).toEqual([null, null]);
    expect(out[2]).toEqual({ type: 'FIELD_BLOCK', opener: 'HEADERS', streamId: 3, endStream: true, block: Buffer.from('abcdef') });
  });

  it('joins PUSH_PROMISE + CONTINUATION with the promised stream', () => {
    const out = feed(new FieldBlockAssembler(), [
      { type: 'PUSH_PROMISE', streamId: 1, endHeaders: false, promisedStreamId: 2, fragment: Buffer.from('ab') },
      continuation(1, true),
    ]);
    expect(out[1]).toEqual({ type: 'FIELD_BLOCK', opener: 'PUSH_PROMISE', streamId: 1, endStream: false, promisedStreamId: 2, block: Buffer.from('abcd') });
  });

  it.each([
    ['another frame type inside a block', [headers(1, false), ping]],
    ['a CONTINUATION on another stream', [headers(1, false), continuation(3, true)]],
    ['a HEADERS frame inside a block', [headers(1, false), headers(1, true)]],
    ['an unknown (extension) frame inside a block (§5.5)', [headers(1, false), { type: 'UNKNOWN', frameType: 0xfa, streamId: 0, flags: 0, payload: Buffer.alloc(0) } as Frame]],
    ['a CONTINUATION without a block', [continuation(1, true)]],
    ['a CONTINUATION after a finished block', [headers(1, true), continuation(1, true)]],
  ])('%s is a connection PROTOCOL_ERROR', (_name, frames) => {
    const error = failure(frames);
    expect(error.code).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(error.scope).toBe('connection');
    expect(error.section).toBe('RFC 9113 §6.10');
  });

  it('stops a CONTINUATION flood at the frame limit with ENHANCE_YOUR_CALM', () => {
    const assembler = new FieldBlockAssembler({ maxContinuationFrames: 3 });
    feed(assembler, [headers(1, false), continuation(1, false, Buffer.alloc(0)), continuation(1, false, Buffer.alloc(0)), continuation(1, false, Buffer.alloc(0))]);
    expect(failure([continuation(1, false, Buffer.alloc(0))], assembler).code).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('allows exactly maxContinuationFrames CONTINUATION frames', () => {
    const assembler = new FieldBlockAssembler({ maxContinuationFrames: 2 });
    const out = feed(assembler, [headers(1, false), continuation(1, false), continuation(1, true)]);
    expect(out[2]?.type).toBe('FIELD_BLOCK');
  });

  it('stops a block larger than maxBlockBytes as soon as it passes the limit', () => {
    expect(failure([headers(1, true, Buffer.alloc(11))], new FieldBlockAssembler({ maxBlockBytes: 10 })).code).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    const assembler = new FieldBlockAssembler({ maxBlockBytes: 10 });
    feed(assembler, [headers(1, false, Buffer.alloc(6))]);
    expect(failure([continuation(1, false, Buffer.alloc(5))], assembler).code).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('reassembles what encodeHeadersBlock/encodePushPromiseBlock split, through the byte decoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 50 }), fc.boolean(), (bytes, maxFrameSize, push) => {
      const block = Buffer.from(bytes);
      const wire = push ? encodePushPromiseBlock(1, 2, block, maxFrameSize + 4) : encodeHeadersBlock(1, block, { maxFrameSize });
      const decoder = new FrameDecoder();
      decoder.push(Buffer.concat([wire, encodeFrame(ping)]));
      const assembler = new FieldBlockAssembler({ maxContinuationFrames: 1000 });
      const out = [...decoder.frames()].map((frame) => assembler.push(frame)).filter((x) => x !== null);
      expect(out).toHaveLength(2);
      expect(out[0]).toMatchObject({ type: 'FIELD_BLOCK', streamId: 1, block });
      expect(out[1]).toEqual(ping);
    }), { numRuns: 200 });
  });
});
