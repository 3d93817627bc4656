/**
 * TLS 1.3 extensions (RFC 8446 §4.2) that a QUIC handshake uses, each with an encoder and a
 * decoder of its extension_data. Messages keep extensions as raw {type, data} pairs (so unknown
 * and GREASE extensions pass through untouched, §4.2); the handshake decodes the ones it needs.
 *
 * Covered: server_name (RFC 6066 §3), supported_groups (§4.2.7), signature_algorithms and
 * signature_algorithms_cert (§4.2.3), ALPN (RFC 7301 §3.1), pre_shared_key (§4.2.11),
 * early_data (§4.2.10), supported_versions (§4.2.1), cookie (§4.2.2), psk_key_exchange_modes
 * (§4.2.9), key_share (§4.2.8), quic_transport_parameters (RFC 9001 §8.2).
 */
import { DecodeError } from '../../core/errors.js';
import { TlsReader, TlsWriter } from './wire.js';

export const ExtensionType = {
  server_name: 0,
  supported_groups: 10,
  signature_algorithms: 13,
  application_layer_protocol_negotiation: 16,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  signature_algorithms_cert: 50,
  key_share: 51,
  quic_transport_parameters: 0x39,
} as const;

export interface Extension {
  readonly type: number;
  readonly data: Buffer;
}

export const TLS13 = 0x0304;
/** psk_key_exchange_modes: only psk_dhe_ke is used here (RFC 8446 §4.2.9). */
export const PskKeyExchangeMode = { psk_ke: 0, psk_dhe_ke: 1 } as const;

export function findExtension(extensions: readonly Extension[], type: number): Buffer | undefined {
  // A plain loop: the handshakes look up a dozen types per hello, and a find() callback per lookup adds up.
  for (let i = 0; i < extensions.length; i++) if (extensions[i]!.type === type) return extensions[i]!.data;
  return undefined;
}

function decodeWith<T>(data: Uint8Array, what: string, body: (r: TlsReader) => T): T {
  const r = new TlsReader(data, what);
  const v = body(r);
  r.end();
  return v;
}

// ---- server_name (RFC 6066 §3) ----

export function encodeServerName(hostName: string): Buffer {
  return new TlsWriter()
    .vector(2, (w) => w.u8(0 /* host_name */).vector(2, Buffer.from(hostName, 'ascii')))
    .finish();
}

/** The host_name from a ClientHello's server_name list (RFC 6066 §3: at most one of each type). */
export function decodeServerName(data: Uint8Array): string | null {
  return decodeWith(data, 'server_name', (r) => {
    const list = r.sub(2, 1, undefined, 'server_name list');
    let host: string | null = null;
    while (list.remaining > 0) {
      const nameType = list.u8();
      const name = list.vector(2, 1);
      if (nameType === 0) {
        if (host !== null) throw new DecodeError('server_name: two host_name entries');
        host = name.toString('latin1');
      }
    }
    return host;
  });
}

// ---- supported_groups, signature_algorithms(_cert) (RFC 8446 §4.2.7, §4.2.3) ----

export function encodeU16List(values: readonly number[]): Buffer {
  return new TlsWriter().u16List(2, values).finish();
}

/** NamedGroupList / SignatureSchemeList: uint16 list<2..2^16-2>. */
export function decodeU16List(data: Uint8Array, what: string): number[] {
  return decodeWith(data, what, (r) => r.u16List(2, 2));
}

// ---- ALPN (RFC 7301 §3.1) ----

export function encodeAlpn(protocols: readonly string[]): Buffer {
  return new TlsWriter()
    .vector(2, (w) => {
      for (const p of protocols) w.vector(1, Buffer.from(p, 'latin1'));
    })
    .finish();
}

/** ProtocolNameList: protocol_name_list<2..2^16-1> of opaque ProtocolName<1..2^8-1>. */
export function decodeAlpn(data: Uint8Array): string[] {
  return decodeWith(data, 'application_layer_protocol_negotiation', (r) => {
    const list = r.sub(2, 2);
    const out: string[] = [];
    while (list.remaining > 0) out.push(list.vector(1, 1).toString('latin1'));
    return out;
  });
}

// ---- supported_versions (RFC 8446 §4.2.1) ----

export function encodeSupportedVersionsClient(versions: readonly number[]): Buffer {
  return new TlsWriter().u16List(1, versions).finish();
}

export function decodeSupportedVersionsClient(data: Uint8Array): number[] {
  return decodeWith(data, 'supported_versions', (r) => r.u16List(1, 2, 254));
}

export function encodeSupportedVersionsServer(version: number): Buffer {
  return new TlsWriter().u16(version).finish();
}

export function decodeSupportedVersionsServer(data: Uint8Array): number {
  return decodeWith(data, 'supported_versions', (r) => r.u16());
}

// ---- key_share (RFC 8446 §4.2.8) ----

export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Buffer;
}

function writeEntry(w: TlsWriter, e: KeyShareEntry): void {
  w.u16(e.group).vector(2, e.keyExchange);
}

function readEntry(r: TlsReader): KeyShareEntry {
  return { group: r.u16(), keyExchange: r.vector(2, 1) };
}

export function encodeKeyShareClient(entries: readonly KeyShareEntry[]): Buffer {
  return new TlsWriter()
    .vector(2, (w) => {
      for (const e of entries) writeEntry(w, e);
    })
    .finish();
}

export function decodeKeyShareClient(data: Uint8Array): KeyShareEntry[] {
  return decodeWith(data, 'key_share', (r) => {
    const list = r.sub(2);
    const out: KeyShareEntry[] = [];
    while (list.remaining > 0) out.push(readEntry(list));
    return out;
  });
}

export function encodeKeyShareServer(entry: KeyShareEntry): Buffer {
  const w = new TlsWriter();
  writeEntry(w, entry);
  return w.finish();
}

export function decodeKeyShareServer(data: Uint8Array): KeyShareEntry {
  return decodeWith(data, 'key_share', readEntry);
}

/** In a HelloRetryRequest key_share holds only selected_group (§4.2.8). */
export function encodeKeyShareHrr(group: number): Buffer {
  return new TlsWriter().u16(group).finish();
}

export function decodeKeyShareHrr(data: Uint8Array): number {
  return decodeWith(data, 'key_share', (r) => r.u16());
}

// ---- psk_key_exchange_modes (§4.2.9) ----

export function encodePskModes(modes: readonly number[]): Buffer {
  return new TlsWriter().vector(1, Buffer.from(modes)).finish();
}

export function decodePskModes(data: Uint8Array): number[] {
  return decodeWith(data, 'psk_key_exchange_modes', (r) => Array.from(r.vector(1, 1)));
}

/** Whether a psk_key_exchange_modes extension lists `mode`; a malformed one is a DecodeError, as in decodePskModes. */
export function offersPskMode(data: Uint8Array, mode: number): boolean {
  // PskKeyExchangeModes: ke_modes<1..255> (§4.2.9), checked in place without building the list.
  if (data.length < 2 || data[0] === 0 || data[0] !== data.length - 1) return decodePskModes(data).includes(mode);
  return data.indexOf(mode, 1) !== -1;
}

// ---- pre_shared_key (§4.2.11) ----

export interface PskIdentity {
  readonly identity: Buffer;
  readonly obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  readonly identities: readonly PskIdentity[];
  readonly binders: readonly Buffer[];
}

export function encodeIdentities(identities: readonly PskIdentity[]): Buffer {
  return new TlsWriter()
    .vector(2, (w) => {
      for (const id of identities) w.vector(2, id.identity).u32(id.obfuscatedTicketAge);
    })
    .finish();
}

export function encodeBinders(binders: readonly Buffer[]): Buffer {
  return new TlsWriter()
    .vector(2, (w) => {
      for (const b of binders) w.vector(1, b);
    })
    .finish();
}

export function encodeOfferedPsks(psks: OfferedPsks): Buffer {
  return Buffer.concat([encodeIdentities(psks.identities), encodeBinders(psks.binders)]);
}

/** OfferedPsks: identities<7..2^16-1>, binders<33..2^16-1>; one binder per identity (§4.2.11). */
export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  return decodeWith(data, 'pre_shared_key', (r) => {
    const ids = r.sub(2, 7);
    const identities: PskIdentity[] = [];
    while (ids.remaining > 0) identities.push({ identity: ids.vector(2, 1), obfuscatedTicketAge: ids.u32() });
    const bs = r.sub(2, 33);
    const binders: Buffer[] = [];
    while (bs.remaining > 0) binders.push(bs.vector(1, 32));
    if (binders.length !== identities.length) throw new DecodeError('pre_shared_key: binder count differs from identity count');
    return { identities, binders };
  });
}

/** Length of the binders list as it sits at the end of a ClientHello (for the truncated hash). */
export function bindersLength(binderLengths: readonly number[]): number {
  return 2 + binderLengths.reduce((n, len) => n + 1 + len, 0);
}

export function encodeSelectedIdentity(index: number): Buffer {
  return new TlsWriter().u16(index).finish();
}

export function decodeSelectedIdentity(data: Uint8Array): number {
  return decodeWith(data, 'pre_shared_key', (r) => r.u16());
}

// ---- early_data (§4.2.10) ----

/** Empty in ClientHello and EncryptedExtensions. */
export function decodeEmpty(data: Uint8Array, what: string): void {
  if (data.length !== 0) throw new DecodeError(`${what}: extension_data must be empty`);
}

/** In NewSessionTicket: max_early_data_size. */
export function encodeMaxEarlyData(size: number): Buffer {
  return new TlsWriter().u32(size).finish();
}

export function decodeMaxEarlyData(data: Uint8Array): number {
  return decodeWith(data, 'early_data', (r) => r.u32());
}

// ---- cookie (§4.2.2) ----

export function encodeCookie(cookie: Uint8Array): Buffer {
  return new TlsWriter().vector(2, cookie).finish();
}

export function decodeCookie(data: Uint8Array): Buffer {
  return decodeWith(data, 'cookie', (r) => r.vector(2, 1));
}
