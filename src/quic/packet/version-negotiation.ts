/**
 * Building a Version Negotiation packet (RFC 9000 §17.2.1, §6.1): a server's answer to a long
 * header of a version it does not support. Parsing is in header.ts.
 */
import { Writer } from '../varint.js';
import { VERSION_NEGOTIATION } from '../version.js';
import { HEADER_FORM_LONG } from './types.js';

export interface VersionNegotiationFields {
  /** The client's Source Connection ID (§17.2.1: echoed as our Destination Connection ID). */
  dcid: Uint8Array;
  /** The client's Destination Connection ID, echoed back. */
  scid: Uint8Array;
  /** Versions we support; RFC 9000 §6.3 suggests adding a reserved one (see greaseVersion). */
  versions: readonly number[];
  /**
   * The 7 unused bits of the first byte: arbitrary (§17.2.1), but 0x40 should be set so that the
   * packet looks like it has a Fixed Bit when QUIC shares a port with other protocols. Default 0x40.
   */
  unusedBits?: number;
}

export function buildVersionNegotiation(f: VersionNegotiationFields): Buffer {
  if (f.dcid.length > 255 || f.scid.length > 255) throw new RangeError('connection ID longer than 255 bytes');
  const w = new Writer(7 + f.dcid.length + f.scid.length + 4 * f.versions.length);
  w.u8(HEADER_FORM_LONG | ((f.unusedBits ?? 0x40) & 0x7f));
  w.u32(VERSION_NEGOTIATION);
  w.u8(f.dcid.length).bytes(f.dcid);
  w.u8(f.scid.length).bytes(f.scid);
  for (const version of f.versions) w.u32(version >>> 0);
  return w.finish();
}
