/**
 * SETTINGS parameters (RFC 9113 §6.5.2) with their validation, plus the two extension settings
 * h123 knows: SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) and SETTINGS_NO_RFC7540_PRIORITIES
 * (RFC 9218 §2.1).
 *
 * `applySettings` processes a SETTINGS frame's entries in order (RFC 9113 §6.5.3: "in the order
 * they appear") over the values currently in force and returns the new values, or throws the
 * connection error the first bad value calls for. Unknown identifiers are ignored (§6.5.2).
 */
import { ErrorCode, connectionError } from './errors.js';
import { MAX_WINDOW_SIZE } from './flow.js';
import { DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT } from './frames/header.js';
import type { SettingsEntry } from './frames/types.js';

export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  /** RFC 8441 §3 (extended CONNECT, e.g. WebSocket over h2). */
  ENABLE_CONNECT_PROTOCOL: 0x8,
  /** RFC 9218 §2.1. */
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

export interface Settings {
  headerTableSize: number;
  enablePush: boolean;
  /** Infinity until the peer sets a limit ("Initially, there is no limit"). */
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  /** Infinity until set ("The initial value of this setting is unlimited"). */
  maxHeaderListSize: number;
  enableConnectProtocol: boolean;
  noRfc7540Priorities: boolean;
}

/** Initial values (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1). */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  headerTableSize: 4096,
  enablePush: true,
  maxConcurrentStreams: Infinity,
  initialWindowSize: 65_535,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: Infinity,
  enableConnectProtocol: false,
  noRfc7540Priorities: false,
});

export interface ApplyContext {
  /** Who receives these settings: a client must refuse ENABLE_PUSH = 1 from a server (§6.5.2). */
  receiver: 'client' | 'server';
  /** True for the peer's first SETTINGS frame (RFC 9218 §2.1 forbids later changes of one value). */
  first: boolean;
}

function flag(value: number, name: string, section: string): boolean {
  if (value !== 0 && value !== 1) {
    throw connectionError(ErrorCode.PROTOCOL_ERROR, `${name} = ${value}, not 0 or 1`, section);
  }
  return value === 1;
}

/** The values in force after the entries of one SETTINGS frame; throws H2Error (connection). */
export function applySettings(current: Readonly<Settings>, entries: readonly SettingsEntry[], context: ApplyContext): Settings {
  const next: Settings = { ...current };
  for (const [id, value] of entries) {
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        next.headerTableSize = value;
        break;
      case SettingId.ENABLE_PUSH:
        next.enablePush = flag(value, 'SETTINGS_ENABLE_PUSH', 'RFC 9113 §6.5.2');
        if (next.enablePush && context.receiver === 'client') {
          throw connectionError(ErrorCode.PROTOCOL_ERROR, 'server sent SETTINGS_ENABLE_PUSH = 1', 'RFC 9113 §6.5.2');
        }
        break;
      case SettingId.MAX_CONCURRENT_STREAMS:
        next.maxConcurrentStreams = value;
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW_SIZE) {
          throw connectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} > 2^31-1`, 'RFC 9113 §6.5.2');
        }
        next.initialWindowSize = value;
        break;
      case SettingId.MAX_FRAME_SIZE:
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) {
          throw connectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value} outside 2^14..2^24-1`, 'RFC 9113 §6.5.2');
        }
        next.maxFrameSize = value;
        break;
      case SettingId.MAX_HEADER_LIST_SIZE:
        next.maxHeaderListSize = value;
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL: {
        const enabled = flag(value, 'SETTINGS_ENABLE_CONNECT_PROTOCOL', 'RFC 8441 §3');
        // RFC 8441 §3: "MUST NOT send ... the value of 0 after previously sending a value of 1".
        if (current.enableConnectProtocol && !enabled) {
          throw connectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_ENABLE_CONNECT_PROTOCOL went from 1 to 0', 'RFC 8441 §3');
        }
        next.enableConnectProtocol = enabled;
        break;
      }
      case SettingId.NO_RFC7540_PRIORITIES: {
        const disabled = flag(value, 'SETTINGS_NO_RFC7540_PRIORITIES', 'RFC 9218 §2.1');
        // RFC 9218 §2.1: the value MUST NOT change after the first SETTINGS frame.
        if (!context.first && disabled !== current.noRfc7540Priorities) {
          throw connectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_NO_RFC7540_PRIORITIES changed after the first SETTINGS', 'RFC 9218 §2.1');
        }
        next.noRfc7540Priorities = disabled;
        break;
      }
      default:
        // RFC 9113 §6.5.2: "MUST ignore that setting".
        break;
    }
  }
  return next;
}

const FIELD_IDS: ReadonlyArray<[keyof Settings, number]> = [
  ['headerTableSize', SettingId.HEADER_TABLE_SIZE],
  ['enablePush', SettingId.ENABLE_PUSH],
  ['maxConcurrentStreams', SettingId.MAX_CONCURRENT_STREAMS],
  ['initialWindowSize', SettingId.INITIAL_WINDOW_SIZE],
  ['maxFrameSize', SettingId.MAX_FRAME_SIZE],
  ['maxHeaderListSize', SettingId.MAX_HEADER_LIST_SIZE],
  ['enableConnectProtocol', SettingId.ENABLE_CONNECT_PROTOCOL],
  ['noRfc7540Priorities', SettingId.NO_RFC7540_PRIORITIES],
];

/**
 * Entries for a SETTINGS frame announcing `wanted`; values equal to `from` (the values the peer
 * already assumes, initially DEFAULT_SETTINGS) are left out. Infinity cannot be sent and is skipped.
 */
export function settingsEntries(wanted: Partial<Settings>, from: Readonly<Settings> = DEFAULT_SETTINGS): SettingsEntry[] {
  const entries: SettingsEntry[] = [];
  for (const [field, id] of FIELD_IDS) {
    const value = wanted[field];
    if (value === undefined || value === from[field]) continue;
    const number = typeof value === 'boolean' ? Number(value) : value;
    if (number === Infinity) continue;
    entries.push([id, number]);
  }
  return entries;
}
