import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canReceive,
  canSend,
  directionOf,
  firstStreamId,
  initiatorOf,
  isValidStreamId,
  makeStreamId,
  streamIndex,
  streamType,
} from '../../../src/quic/stream/stream-id.js';

describe('stream IDs (RFC 9000 §2.1)', () => {
  it('Table 1: the two low bits give initiator and direction', () => {
    const table = [
      { bits: 0x00, initiator: 'client', direction: 'bidi' },
      { bits: 0x01, initiator: 'server', direction: 'bidi' },
      { bits: 0x02, initiator: 'client', direction: 'uni' },
      { bits: 0x03, initiator: 'server', direction: 'uni' },
    ] as const;
    for (const { bits, initiator, direction } of table) {
      expect(firstStreamId(initiator, direction)).toBe(bits);
      for (const id of [bits, bits + 4, bits + 400]) {
        expect(streamType(id)).toBe(bits);
        expect(initiatorOf(id)).toBe(initiator);
        expect(directionOf(id)).toBe(direction);
      }
    }
  });

  it('streams of one type are numbered 4 apart', () => {
    expect(makeStreamId('client', 'bidi', 0)).toBe(0);
    expect(makeStreamId('client', 'bidi', 1)).toBe(4);
    expect(makeStreamId('server', 'uni', 2)).toBe(11);
    expect(streamIndex(11)).toBe(2);
  });

  it('only the initiator sends on a unidirectional stream', () => {
    // client-initiated uni stream 2
    expect(canSend(2, 'client')).toBe(true);
    expect(canReceive(2, 'client')).toBe(false);
    expect(canSend(2, 'server')).toBe(false);
    expect(canReceive(2, 'server')).toBe(true);
    // server-initiated uni stream 3
    expect(canSend(3, 'server')).toBe(true);
    expect(canSend(3, 'client')).toBe(false);
    // bidirectional streams flow both ways for both ends
    for (const id of [0, 1, 4, 5]) {
      for (const role of ['client', 'server'] as const) {
        expect(canSend(id, role)).toBe(true);
        expect(canReceive(id, role)).toBe(true);
      }
    }
  });

  it('makeStreamId and its inverse agree', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('client' as const, 'server' as const),
        fc.constantFrom('bidi' as const, 'uni' as const),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (initiator, direction, index) => {
          const id = makeStreamId(initiator, direction, index);
          expect(initiatorOf(id)).toBe(initiator);
          expect(directionOf(id)).toBe(direction);
          expect(streamIndex(id)).toBe(index);
          expect(isValidStreamId(id)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects IDs that are not varint values', () => {
    expect(isValidStreamId(-1)).toBe(false);
    expect(isValidStreamId(1.5)).toBe(false);
    expect(isValidStreamId(2 ** 62)).toBe(false);
  });
});
