import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/core/errors.js';
import { H3Error, H3ErrorCode, QpackErrorCode, h3ErrorName, isReservedH3ErrorCode } from '../../src/h3/errors.js';

describe('HTTP/3 and QPACK error codes (RFC 9114 §8.1, RFC 9204 §6)', () => {
  it('has the registered values', () => {
    expect(H3ErrorCode.H3_NO_ERROR).toBe(0x100);
    expect(H3ErrorCode.H3_FRAME_UNEXPECTED).toBe(0x105);
    expect(H3ErrorCode.H3_MISSING_SETTINGS).toBe(0x10a);
    expect(H3ErrorCode.H3_VERSION_FALLBACK).toBe(0x110);
    expect(Object.values(H3ErrorCode)).toEqual(Array.from({ length: 17 }, (_, i) => 0x100 + i));
    expect(Object.values(QpackErrorCode)).toEqual([0x200, 0x201, 0x202]);
    expect(h3ErrorName(0x201)).toBe('QPACK_ENCODER_STREAM_ERROR');
    expect(h3ErrorName(0x999)).toBeUndefined();
  });

  it('recognises reserved codes 0x1f * N + 0x21', () => {
    expect(isReservedH3ErrorCode(0x21)).toBe(true);
    expect(isReservedH3ErrorCode(0x21 + 0x1f * 9)).toBe(true);
    expect(isReservedH3ErrorCode(0x100)).toBe(false);
  });

  it('makes H3Error a ProtocolError carrying code, section and scope', () => {
    const err = new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'bad frame', 'RFC 9114 §7.1', 'stream');
    expect(err).toBeInstanceOf(ProtocolError);
    expect([err.code, err.section, err.scope, err.name]).toEqual([0x106, 'RFC 9114 §7.1', 'stream', 'H3Error']);
    expect(err.message).toBe('H3_FRAME_ERROR: bad frame (RFC 9114 §7.1)');
    expect(new H3Error(0x100, 'x', 's').scope).toBe('connection');
  });
});
