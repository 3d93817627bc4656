import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_SETTINGS, SettingId, applySettings, settingsEntries, type ApplyContext, type Settings } from '../../src/h2/settings.js';
import { ErrorCode, H2Error } from '../../src/h2/errors.js';

const server: ApplyContext = { receiver: 'server', first: true };
const client: ApplyContext = { receiver: 'client', first: true };

function failure(entries: Array<[number, number]>, context = server, current: Settings = DEFAULT_SETTINGS): H2Error {
  try {
    applySettings(current, entries, context);
  } catch (error) {
    expect(error).toBeInstanceOf(H2Error);
    return error as H2Error;
  }
  throw new Error('expected an error');
}

describe('SETTINGS parameters (RFC 9113 §6.5.2)', () => {
  it('starts from the RFC initial values', () => {
    expect(DEFAULT_SETTINGS).toEqual({
      headerTableSize: 4096, enablePush: true, maxConcurrentStreams: Infinity, initialWindowSize: 65535,
      maxFrameSize: 16384, maxHeaderListSize: Infinity, enableConnectProtocol: false, noRfc7540Priorities: false,
    });
  });

  it('applies known values in order; a repeated id takes its last value', () => {
    const next = applySettings(DEFAULT_SETTINGS, [[1, 0], [3, 100], [4, 1 << 20], [5, 1 << 20], [6, 8192], [3, 50]], server);
    expect(next).toMatchObject({ headerTableSize: 0, maxConcurrentStreams: 50, initialWindowSize: 1 << 20, maxFrameSize: 1 << 20, maxHeaderListSize: 8192 });
  });

  it('ignores unknown identifiers', () => {
    fc.assert(fc.property(fc.integer({ min: 10, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (id, value) => {
      expect(applySettings(DEFAULT_SETTINGS, [[id, value], [0, value], [7, value]], server)).toEqual(DEFAULT_SETTINGS);
    }), { numRuns: 200 });
  });

  const bad: Array<[string, Array<[number, number]>, ApplyContext, number, string]> = [
    ['ENABLE_PUSH = 2', [[SettingId.ENABLE_PUSH, 2]], server, ErrorCode.PROTOCOL_ERROR, 'RFC 9113 §6.5.2'],
    ['ENABLE_PUSH = 1 received by a client', [[SettingId.ENABLE_PUSH, 1]], client, ErrorCode.PROTOCOL_ERROR, 'RFC 9113 §6.5.2'],
    ['INITIAL_WINDOW_SIZE = 2^31', [[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]], server, ErrorCode.FLOW_CONTROL_ERROR, 'RFC 9113 §6.5.2'],
    ['MAX_FRAME_SIZE = 2^14-1', [[SettingId.MAX_FRAME_SIZE, 16383]], server, ErrorCode.PROTOCOL_ERROR, 'RFC 9113 §6.5.2'],
    ['MAX_FRAME_SIZE = 2^24', [[SettingId.MAX_FRAME_SIZE, 2 ** 24]], server, ErrorCode.PROTOCOL_ERROR, 'RFC 9113 §6.5.2'],
    ['ENABLE_CONNECT_PROTOCOL = 2', [[SettingId.ENABLE_CONNECT_PROTOCOL, 2]], server, ErrorCode.PROTOCOL_ERROR, 'RFC 8441 §3'],
    ['NO_RFC7540_PRIORITIES = 2', [[SettingId.NO_RFC7540_PRIORITIES, 2]], server, ErrorCode.PROTOCOL_ERROR, 'RFC 9218 §2.1'],
  ];
  it.each(bad)('%s is a connection error', (_name, entries, context, code, section) => {
    const error = failure(entries, context);
    expect(error.code).toBe(code);
    expect(error.scope).toBe('connection');
    expect(error.section).toBe(section);
  });

  it('accepts the limits themselves', () => {
    expect(applySettings(DEFAULT_SETTINGS, [[4, 2 ** 31 - 1], [5, 2 ** 24 - 1], [2, 0]], client))
      .toMatchObject({ initialWindowSize: 2 ** 31 - 1, maxFrameSize: 2 ** 24 - 1, enablePush: false });
  });

  it('refuses SETTINGS_ENABLE_CONNECT_PROTOCOL going back from 1 to 0 (RFC 8441 §3)', () => {
    const on = applySettings(DEFAULT_SETTINGS, [[8, 1]], client);
    expect(on.enableConnectProtocol).toBe(true);
    expect(failure([[8, 0]], { receiver: 'client', first: false }, on).section).toBe('RFC 8441 §3');
  });

  it('refuses a change of SETTINGS_NO_RFC7540_PRIORITIES after the first SETTINGS (RFC 9218 §2.1)', () => {
    const first = applySettings(DEFAULT_SETTINGS, [[9, 1]], server);
    expect(first.noRfc7540Priorities).toBe(true);
    expect(applySettings(first, [[9, 1]], { receiver: 'server', first: false }).noRfc7540Priorities).toBe(true);
    expect(failure([[9, 0]], { receiver: 'server', first: false }, first).code).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('settingsEntries lists only what differs from what the peer assumes', () => {
    expect(settingsEntries({ maxConcurrentStreams: 100, initialWindowSize: 65535, enablePush: false, maxHeaderListSize: Infinity }))
      .toEqual([[SettingId.ENABLE_PUSH, 0], [SettingId.MAX_CONCURRENT_STREAMS, 100]]);
  });

  it('settingsEntries then applySettings gives back the wanted values', () => {
    const wanted = { headerTableSize: 0, maxConcurrentStreams: 7, initialWindowSize: 1, maxFrameSize: 65536, maxHeaderListSize: 1000, enablePush: false };
    expect(applySettings(DEFAULT_SETTINGS, settingsEntries(wanted), server)).toEqual({ ...DEFAULT_SETTINGS, ...wanted });
  });
});
