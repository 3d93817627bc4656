/**
 * The handshake message header (RFC 8446 §4: msg_type u8, length u24) and the reassembly of
 * messages from CRYPTO stream bytes, which QUIC delivers in order but split anywhere
 * (RFC 9001 §4.1.3). One reader per encryption level; a declared length above the limit is
 * refused before anything is buffered, so a peer cannot make us hold unbounded memory.
 */
import { DEFAULT_LIMITS } from '../../core/limits.js';
import { AlertDescription, TlsAlert } from './alerts.js';

export interface HandshakeMessage {
  readonly type: number;
  readonly body: Buffer;
  /** Header + body, exactly as it enters the transcript. */
  readonly raw: Buffer;
}

export function encodeHandshake(type: number, body: Uint8Array): Buffer {
  const raw = Buffer.allocUnsafe(4 + body.length);
  raw[0] = type;
  raw.writeUIntBE(body.length, 1, 3);
  raw.set(body, 4);
  return raw;
}

export class HandshakeReader {
  /** Buffered pieces; `owned` is false for views into the caller's memory. */
  private chunks: { bytes: Buffer; owned: boolean }[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageBytes: number = DEFAULT_LIMITS.maxCryptoBufferBytes) {}

  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds bytes without copying them; call detach() before the caller's buffer may change. */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.chunks.push({ bytes, owned: false });
    this.buffered += data.length;
  }

  /**
   * Copies the still-buffered views of the caller's memory, so that messages parsed straight out
   * of a packet cost no copy and only an incomplete tail is kept (each byte copied once).
   */
  detach(): void {
    for (const c of this.chunks) {
      if (!c.owned) {
        c.bytes = Buffer.from(c.bytes);
        c.owned = true;
      }
    }
  }

  private merge(): Buffer {
    if (this.chunks.length > 1) this.chunks = [{ bytes: Buffer.concat(this.chunks.map((c) => c.bytes), this.buffered), owned: true }];
    return this.chunks[0]!.bytes;
  }

  /** The next complete message, or undefined until more bytes arrive. */
  next(): HandshakeMessage | undefined {
    if (this.buffered < 4) return undefined;
    const head = this.chunks[0]!.bytes.length >= 4 ? this.chunks[0]!.bytes : this.merge();
    const length = head.readUIntBE(1, 3);
    if (length > this.maxMessageBytes) {
      // Refused from the header alone, before buffering the body (OpenSSL answers illegal_parameter too).
      throw new TlsAlert(AlertDescription.illegal_parameter, `handshake message of ${length} bytes exceeds the ${this.maxMessageBytes}-byte limit`, 'RFC 8446 §4');
    }
    if (this.buffered < 4 + length) return undefined; // wait without concatenating: no O(n²) on tiny pieces
    const buf = this.merge();
    const owned = this.chunks[0]!.owned;
    const raw = buf.subarray(0, 4 + length);
    const rest = buf.subarray(4 + length);
    this.chunks = rest.length ? [{ bytes: rest, owned }] : [];
    this.buffered = rest.length;
    return { type: raw[0]!, body: raw.subarray(4), raw };
  }
}
