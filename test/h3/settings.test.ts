import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H3Error, H3ErrorCode } from '../../src/h3/errors.js';
import {
  DEFAULT_SETTINGS,
  decodeSettingsPayload,
  encodeSettingsPayload,
  greaseSettingId,
  isReservedSettingId,
  type H3Settings,
} from '../../src/h3/settings.js';

describe('SETTINGS payload (RFC 9114 §7.2.4)', () => {
  it('sends nothing for defaults and reads an empty payload as defaults', () => {
    expect(encodeSettingsPayload({}).length).toBe(0);
    expect(decodeSettingsPayload(Buffer.alloc(0))).toEqual(DEFAULT_SETTINGS);
  });

  it('round-trips any settings, with or without grease (property)', () => {
    const settingsArb: fc.Arbitrary<H3Settings> = fc.record({
      qpackMaxTableCapacity: fc.nat(1 << 30),
      maxFieldSectionSize: fc.oneof(fc.constant(Infinity), fc.nat(1 << 30)),
      qpackBlockedStreams: fc.nat(1000),
      enableConnectProtocol: fc.boolean(),
      h3Datagram: fc.boolean(),
    });
    fc.assert(
      fc.property(settingsArb, fc.option(fc.nat()), (settings, grease) => {
        const options = grease === null ? {} : { grease: { id: greaseSettingId(() => grease), value: grease } };
        expect(decodeSettingsPayload(encodeSettingsPayload(settings, options))).toEqual(settings);
      }),
      { numRuns: 300 },
    );
  });

  it('picks grease identifiers of the form 0x1f * N + 0x21', () => {
    for (const r of [0, 1, 0xffffffff, 12345]) expect(isReservedSettingId(greaseSettingId(() => r))).toBe(true);
    expect(isReservedSettingId(0x21)).toBe(true);
    expect(isReservedSettingId(0x40)).toBe(true);
    expect(isReservedSettingId(0x33)).toBe(false);
  });

  it('gives random payloads settings or an H3Error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeSettingsPayload(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(H3Error);
          expect([H3ErrorCode.H3_SETTINGS_ERROR, H3ErrorCode.H3_FRAME_ERROR]).toContain((err as H3Error).code);
        }
      }),
      { numRuns: 400 },
    );
  });
});
