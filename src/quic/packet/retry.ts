/**
 * Building a Retry packet (RFC 9000 §17.2.5) and the Retry pseudo-packet over which its integrity
 * tag is computed (RFC 9001 §5.8). The tag itself is AEAD work done by the crypto layer: it is
 * passed in here. Parsing is in header.ts.
 */
import { Writer } from '../varint.js';
import { FIXED_BIT, HEADER_FORM_LONG, longTypeBits, MAX_CID_LENGTH } from './types.js';
import { RETRY_INTEGRITY_TAG_LENGTH } from './header.js';

export interface RetryFields {
  version: number;
  /** The client's Source Connection ID. */
  dcid: Uint8Array;
  /** The connection ID the server chose; the client uses it as its next DCID. */
  scid: Uint8Array;
  /** Opaque, non-empty (§17.2.5.2: clients discard an empty one). */
  token: Uint8Array;
  /** The 4 unused bits of the first byte (§17.2.5: arbitrary). Default 0. */
  unusedBits?: number;
}

/** A Retry packet without its integrity tag — the part covered by the tag. */
export function buildRetryWithoutTag(f: RetryFields): Buffer {
  if (f.dcid.length > MAX_CID_LENGTH || f.scid.length > MAX_CID_LENGTH) {
    throw new RangeError('connection ID longer than 20 bytes (RFC 9000 §17.2)');
  }
  if (f.token.length === 0) throw new RangeError('Retry token must not be empty (RFC 9000 §17.2.5.2)');
  const w = new Writer(7 + f.dcid.length + f.scid.length + f.token.length + RETRY_INTEGRITY_TAG_LENGTH);
  w.u8(HEADER_FORM_LONG | FIXED_BIT | longTypeBits(f.version, 'retry') | ((f.unusedBits ?? 0) & 0x0f));
  w.u32(f.version);
  w.u8(f.dcid.length).bytes(f.dcid);
  w.u8(f.scid.length).bytes(f.scid);
  w.bytes(f.token);
  return w.finish();
}

/** The complete Retry packet: `withoutTag` followed by the 16-byte integrity tag. */
export function appendRetryIntegrityTag(withoutTag: Uint8Array, integrityTag: Uint8Array): Buffer {
  if (integrityTag.length !== RETRY_INTEGRITY_TAG_LENGTH) throw new RangeError('Retry integrity tag must be 16 bytes');
  return Buffer.concat([withoutTag, integrityTag]);
}

/**
 * RFC 9001 §5.8 Retry Pseudo-Packet: ODCID Length (8), Original Destination Connection ID, then the
 * Retry packet up to (not including) its tag. The tag is AES-128-GCM over this as associated data.
 */
export function retryPseudoPacket(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Buffer {
  if (originalDcid.length > 255) throw new RangeError('ODCID longer than 255 bytes');
  const out = Buffer.allocUnsafe(1 + originalDcid.length + retryWithoutTag.length);
  out[0] = originalDcid.length;
  out.set(originalDcid, 1);
  out.set(retryWithoutTag, 1 + originalDcid.length);
  return out;
}
