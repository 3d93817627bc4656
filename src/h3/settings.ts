/**
 * The HTTP/3 SETTINGS payload (RFC 9114 §7.2.4): identifier/value pairs of varints, with the
 * settings h123 understands:
 *   SETTINGS_QPACK_MAX_TABLE_CAPACITY 0x01 and SETTINGS_QPACK_BLOCKED_STREAMS 0x07 (RFC 9204 §5),
 *   SETTINGS_MAX_FIELD_SECTION_SIZE 0x06 (RFC 9114 §7.2.4.1),
 *   SETTINGS_ENABLE_CONNECT_PROTOCOL 0x08 (RFC 9220 §3),
 *   SETTINGS_H3_DATAGRAM 0x33 (RFC 9297 §2.1.1).
 * Unknown and reserved (0x1f * N + 0x21) identifiers are ignored; HTTP/2-only identifiers are
 * an error.
 */
import { H3Error, H3ErrorCode } from './errors.js';
import { readVarint, varintLength, writeVarint } from './varint.js';

export const SettingId = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  ENABLE_CONNECT_PROTOCOL: 0x08,
  H3_DATAGRAM: 0x33,
} as const;

export interface H3Settings {
  /** Largest QPACK dynamic table the sender's decoder allows (RFC 9204 §3.2.3). Default 0. */
  qpackMaxTableCapacity: number;
  /** Largest decoded field section the sender accepts (RFC 9114 §4.2.2). Default unlimited. */
  maxFieldSectionSize: number;
  /** Streams the sender's decoder lets be blocked at once (RFC 9204 §2.1.2). Default 0. */
  qpackBlockedStreams: number;
  /** Extended CONNECT is allowed (RFC 9220 §3). Default false. */
  enableConnectProtocol: boolean;
  /** HTTP Datagrams are supported (RFC 9297 §2.1.1). Default false. */
  h3Datagram: boolean;
}

/** The value of every setting before the peer's SETTINGS arrives (RFC 9114 §7.2.4.2). */
export const DEFAULT_SETTINGS: Readonly<H3Settings> = Object.freeze({
  qpackMaxTableCapacity: 0,
  maxFieldSectionSize: Infinity,
  qpackBlockedStreams: 0,
  enableConnectProtocol: false,
  h3Datagram: false,
});

/** 0x1f * N + 0x21: reserved identifiers that carry no meaning (RFC 9114 §7.2.4.1). */
export function isReservedSettingId(id: number): boolean {
  return id >= 0x21 && (id - 0x21) % 0x1f === 0;
}

/** 0x00 and 0x02–0x05 were HTTP/2 settings; receiving them is H3_SETTINGS_ERROR (RFC 9114 §7.2.4.1, §11.2.2). */
function isHttp2OnlySettingId(id: number): boolean {
  return id === 0x00 || (id >= 0x02 && id <= 0x05);
}

export interface EncodeSettingsOptions {
  /**
   * A reserved identifier/value to add, so that peers keep ignoring unknown settings
   * (RFC 9114 §7.2.4.1 "SHOULD include at least one"). Pick it with the injectable random source.
   */
  grease?: { id: number; value: number };
}

/** The SETTINGS frame payload: only settings that differ from their defaults are sent. */
export function encodeSettingsPayload(settings: Partial<H3Settings>, options: EncodeSettingsOptions = {}): Buffer {
  const pairs: [number, number][] = [];
  const s = { ...DEFAULT_SETTINGS, ...settings };
  if (s.qpackMaxTableCapacity !== 0) pairs.push([SettingId.QPACK_MAX_TABLE_CAPACITY, s.qpackMaxTableCapacity]);
  if (s.maxFieldSectionSize !== Infinity) pairs.push([SettingId.MAX_FIELD_SECTION_SIZE, s.maxFieldSectionSize]);
  if (s.qpackBlockedStreams !== 0) pairs.push([SettingId.QPACK_BLOCKED_STREAMS, s.qpackBlockedStreams]);
  if (s.enableConnectProtocol) pairs.push([SettingId.ENABLE_CONNECT_PROTOCOL, 1]);
  if (s.h3Datagram) pairs.push([SettingId.H3_DATAGRAM, 1]);
  if (options.grease) {
    if (!isReservedSettingId(options.grease.id)) throw new RangeError('grease id is not of the form 0x1f * N + 0x21');
    pairs.push([options.grease.id, options.grease.value]);
  }
  let size = 0;
  for (const [id, value] of pairs) size += varintLength(id) + varintLength(value);
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const [id, value] of pairs) {
    offset = writeVarint(out, offset, id);
    offset = writeVarint(out, offset, value);
  }
  return out;
}

/** A reserved setting identifier from 32 random bits, e.g. `greaseSettingId(randomInt32)`. */
export function greaseSettingId(random: () => number): number {
  const n = (random() >>> 0) % 0x10000;
  return 0x1f * n + 0x21;
}

const SECTION = 'RFC 9114 §7.2.4';

function settingsError(message: string, section = SECTION): H3Error {
  return new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, message, section);
}

/** A boolean setting must be 0 or 1 (RFC 9220 §3, RFC 9297 §2.1.1). */
function booleanSetting(id: number, value: number, section: string): boolean {
  if (value > 1) throw settingsError(`setting 0x${id.toString(16)} must be 0 or 1, got ${value}`, section);
  return value === 1;
}

/**
 * Parses a complete SETTINGS payload into settings over the defaults. Throws H3Error:
 * H3_FRAME_ERROR when the payload ends inside a varint (RFC 9114 §7.1), H3_SETTINGS_ERROR for a
 * repeated identifier (§7.2.4), an HTTP/2 identifier (§7.2.4.1) or an invalid boolean value.
 */
export function decodeSettingsPayload(payload: Uint8Array): H3Settings {
  const settings: H3Settings = { ...DEFAULT_SETTINGS };
  const seen = new Set<number>();
  let offset = 0;
  while (offset < payload.length) {
    const id = readVarint(payload, offset);
    const value = id && readVarint(payload, offset + id.length);
    if (!id || !value) {
      // RFC 9114 §7.1: a payload that ends inside a field is a frame error.
      throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'SETTINGS payload ends inside a setting', 'RFC 9114 §7.1');
    }
    offset += id.length + value.length;
    // RFC 9114 §7.2.4: the same identifier MUST NOT occur twice (exactness is lost above 2^53,
    // where only ignored reserved identifiers can live).
    if (id.value <= Number.MAX_SAFE_INTEGER) {
      if (seen.has(id.value)) throw settingsError(`duplicate setting 0x${id.value.toString(16)}`);
      seen.add(id.value);
    }
    switch (id.value) {
      case SettingId.QPACK_MAX_TABLE_CAPACITY:
        settings.qpackMaxTableCapacity = value.value;
        break;
      case SettingId.MAX_FIELD_SECTION_SIZE:
        settings.maxFieldSectionSize = value.value;
        break;
      case SettingId.QPACK_BLOCKED_STREAMS:
        settings.qpackBlockedStreams = value.value;
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        settings.enableConnectProtocol = booleanSetting(id.value, value.value, 'RFC 9220 §3');
        break;
      case SettingId.H3_DATAGRAM:
        settings.h3Datagram = booleanSetting(id.value, value.value, 'RFC 9297 §2.1.1');
        break;
      default:
        if (isHttp2OnlySettingId(id.value)) {
          throw settingsError(`HTTP/2 setting 0x${id.value.toString(16)} received`, 'RFC 9114 §7.2.4.1');
        }
      // RFC 9114 §7.2.4: unknown identifiers, reserved ones included, are ignored.
    }
  }
  return settings;
}

