/**
 * Whole-packet protection as the connection uses it (RFC 9001 §5.3, §5.4): seal the payload with
 * the header as associated data, then mask the low bits of the first byte and the packet number
 * with a sample of the ciphertext; and the reverse on receipt. Parsing headers and decoding the
 * full packet number (RFC 9000 Appendix A) belong to the packet codec; this module is told the
 * packet number offset and gets a decoder callback.
 *
 * Header protection costs a cipher call per mask with AES (§5.4.3), so it can also be done for many
 * packets at once: HeaderMaskQueue masks a sender's burst after sealing it, PrefetchedMasks
 * computes a receiver's masks for a batch of datagrams ahead of processing them one by one.
 */
import type { PacketProtector } from './protector.js';
import { SAMPLE_LENGTH, TAG_LENGTH } from './suites.js';
import type { HeaderProtection } from './header-protection.js';

/** RFC 9001 §5.4.2: the sample starts 4 bytes after the Packet Number field starts. */
export const SAMPLE_OFFSET_FROM_PN = 4;

/** RFC 9001 §5.4.1: long headers protect 4 low bits of the first byte, short headers 5. */
function protectedBitsOfFirstByte(firstByte: number): number {
  return (firstByte & 0x80) !== 0 ? 0x0f : 0x1f;
}

/**
 * Seals `packet` = header||plaintext and applies header protection; returns header||ciphertext||tag
 * with the header masked. `packet[0]`'s low two bits must give `pnLength` (RFC 9000 §17.2, §17.3),
 * and a long header's Length field must already count the 16-byte tag. The input is not modified.
 *
 * Throws RangeError on arguments no well-formed packet has (a bug in the caller, not the peer):
 * `payloadOffset`, if given, must be `pnOffset + pnLength`, because the associated data ends with
 * the packet number (RFC 9001 §5.3); and the payload must be long enough to sample (RFC 9001 §5.4.2).
 */
export function protectPacket(
  protector: PacketProtector,
  packet: Uint8Array,
  pnOffset: number,
  pnLength: number,
  packetNumber: number,
  payloadOffset: number = pnOffset + pnLength,
): Buffer {
  checkPacketLayout(packet, pnOffset, pnLength, payloadOffset);
  const out = sealWithHeader(protector, packet, payloadOffset, packetNumber);
  // RFC 9001 §5.4.1: header protection is applied after packet protection, over the ciphertext.
  applyMask(out, pnOffset, protector.maskAt(out, pnOffset + SAMPLE_OFFSET_FROM_PN), 0);
  return out;
}

/**
 * protectPacket() without its last step: the sealed packet goes into `queue`, which applies header
 * protection to it together with the other packets of a burst (HeaderMaskQueue.apply). Until then
 * its header is unprotected and it must not be sent. Same checks and RangeErrors as protectPacket.
 */
export function protectPacketLater(
  protector: PacketProtector,
  packet: Uint8Array,
  pnOffset: number,
  pnLength: number,
  packetNumber: number,
  queue: HeaderMaskQueue,
): Buffer {
  checkPacketLayout(packet, pnOffset, pnLength, pnOffset + pnLength);
  const out = sealWithHeader(protector, packet, pnOffset + pnLength, packetNumber);
  queue.add(protector.headerProtection, out, pnOffset);
  return out;
}

/** The RangeErrors of protectPacket: arguments no well-formed packet has. */
function checkPacketLayout(packet: Uint8Array, pnOffset: number, pnLength: number, payloadOffset: number): void {
  if (!Number.isInteger(pnLength) || pnLength < 1 || pnLength > 4) throw new RangeError('packet number length is 1..4 bytes');
  if (!Number.isInteger(pnOffset) || pnOffset < 1) throw new RangeError('packet number offset must follow the first byte');
  if (payloadOffset !== pnOffset + pnLength) {
    throw new RangeError('the payload starts right after the packet number (RFC 9001 §5.3)');
  }
  if ((packet[0]! & 0x03) + 1 !== pnLength) throw new RangeError('first byte encodes a different packet number length');
  // RFC 9001 §5.4.2: the packet number and payload together must leave room for a whole sample.
  if (pnOffset + SAMPLE_OFFSET_FROM_PN + SAMPLE_LENGTH > packet.length + TAG_LENGTH) {
    throw new RangeError('payload too short to sample: pad it (RFC 9001 §5.4.2)');
  }
}

/** header||ciphertext||tag in a new buffer, the header still unmasked (RFC 9001 §5.3). */
function sealWithHeader(protector: PacketProtector, packet: Uint8Array, payloadOffset: number, packetNumber: number): Buffer {
  const out = Buffer.allocUnsafe(packet.length + TAG_LENGTH);
  const header = packet.subarray(0, payloadOffset);
  out.set(header, 0);
  protector.sealInto(packetNumber, header, packet.subarray(payloadOffset), out, payloadOffset);
  return out;
}

/**
 * Masks a sealed packet's header with the mask at `masks[maskOffset]` (RFC 9001 §5.4.1): the low
 * bits of the first byte, then as many packet number bytes as the unmasked first byte says.
 */
function applyMask(packet: Buffer, pnOffset: number, masks: Uint8Array, maskOffset: number): void {
  const firstByte = packet[0]!;
  const pnLength = (firstByte & 0x03) + 1;
  packet[0] = firstByte ^ (masks[maskOffset]! & protectedBitsOfFirstByte(firstByte));
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i]! ^= masks[maskOffset + 1 + i]!;
}

const EMPTY = new Uint8Array(0);

/** Room for this many samples at first; a longer burst grows the buffer. */
const INITIAL_SAMPLE_ROOM = 64;

/**
 * Samples laid back to back for one masksOf() call (RFC 9001 §5.4.2). One buffer serves every
 * queue and prefetch of the process: masksOf() reads the samples before it returns and keeps no
 * view of them, and nothing else runs in between. A buffer per connection cost a few µs to make
 * (and more to collect), for connections that mostly mask a handful of packets.
 */
let gathered = Buffer.allocUnsafeSlow(INITIAL_SAMPLE_ROOM * SAMPLE_LENGTH);

/** The shared sample buffer, grown to hold `count` samples. */
function sampleRoom(count: number): Buffer {
  if (count * SAMPLE_LENGTH > gathered.length) gathered = Buffer.allocUnsafeSlow(Math.max(2 * gathered.length, count * SAMPLE_LENGTH));
  return gathered;
}

/**
 * Header protection for a burst of sealed packets, applied in one masksOf() call per run of packets
 * with the same header protection key instead of one cipher call per packet. RFC 9001 §5.4.1
 * applies it after packet protection, over the ciphertext, so it may wait until the sender has
 * sealed the burst; the sender must call apply() before any of the packets leaves. The samples
 * are read from the packets then: masking changes only header bytes, never the ciphertext.
 */
export class HeaderMaskQueue {
  private readonly packets: Buffer[] = [];
  private readonly pnOffsets: number[] = [];
  private readonly keys: HeaderProtection[] = [];

  /** Packets waiting for their mask. */
  get length(): number {
    return this.packets.length;
  }

  /** Queues a sealed packet whose header is still unmasked; its sample must lie inside it. */
  add(hp: HeaderProtection, packet: Buffer, pnOffset: number): void {
    const sampleStart = pnOffset + SAMPLE_OFFSET_FROM_PN;
    if (!(pnOffset >= 1 && sampleStart + SAMPLE_LENGTH <= packet.length)) {
      throw new RangeError('header protection sample is 16 bytes inside the packet (RFC 9001 §5.4.2)');
    }
    this.packets.push(packet);
    this.pnOffsets.push(pnOffset);
    this.keys.push(hp);
  }

  /** Masks every queued packet, in the order queued, and empties the queue. */
  apply(): void {
    const n = this.packets.length;
    try {
      let start = 0;
      while (start < n) {
        const hp = this.keys[start]!;
        let end = start + 1;
        while (end < n && this.keys[end] === hp) end++;
        const samples = sampleRoom(end - start);
        for (let i = start; i < end; i++) {
          const sampleStart = this.pnOffsets[i]! + SAMPLE_OFFSET_FROM_PN;
          this.packets[i]!.copy(samples, (i - start) * SAMPLE_LENGTH, sampleStart, sampleStart + SAMPLE_LENGTH);
        }
        const masks = hp.masksOf(samples, end - start);
        for (let i = start; i < end; i++) applyMask(this.packets[i]!, this.pnOffsets[i]!, masks, (i - start) * SAMPLE_LENGTH);
        start = end;
      }
    } finally {
      this.clear();
    }
  }

  /** Forgets the queued packets without masking them (they are never to be sent). */
  clear(): void {
    this.packets.length = 0;
    this.pnOffsets.length = 0;
    this.keys.length = 0;
  }
}

export interface UnmaskedHeader {
  /** The header with protection removed, up to and including the packet number (the AEAD's AAD). A copy. */
  header: Buffer;
  pnLength: number;
  /** The packet number as sent, `pnLength` bytes, before RFC 9000 Appendix A decoding. */
  truncatedPn: number;
}

/**
 * Removes header protection (RFC 9001 §5.4.1) without touching `packet`, so the caller can read the
 * Key Phase bit (`header[0] & 0x04`, short header) before choosing keys. Null when the packet is
 * too short to hold a sample, which the receiver must discard (RFC 9001 §5.4.2). With `prefetched`,
 * a mask computed ahead for this packet, key and sample is used instead of a cipher call.
 */
export function removeHeaderProtection(
  headerProtection: HeaderProtection,
  packet: Uint8Array,
  pnOffset: number,
  prefetched?: PrefetchedMasks,
): UnmaskedHeader | null {
  if (!Number.isInteger(pnOffset) || pnOffset < 1) return null;
  const sampleStart = pnOffset + SAMPLE_OFFSET_FROM_PN;
  if (sampleStart + SAMPLE_LENGTH > packet.length) return null;

  let mask: Uint8Array;
  let m = prefetched === undefined ? -1 : prefetched.take(headerProtection, packet, sampleStart);
  if (m >= 0) {
    mask = prefetched!.masks;
  } else {
    mask = headerProtection.maskAt(packet, sampleStart);
    m = 0;
  }
  const firstByte = packet[0]! ^ (mask[m]! & protectedBitsOfFirstByte(packet[0]!));
  const pnLength = (firstByte & 0x03) + 1; // RFC 9000 §17.2: Packet Number Length, now readable
  const header = Buffer.allocUnsafe(pnOffset + pnLength);
  header.set(packet.subarray(0, pnOffset + pnLength), 0);
  header[0] = firstByte;
  let truncatedPn = 0;
  for (let i = 0; i < pnLength; i++) {
    const byte = header[pnOffset + i]! ^ mask[m + 1 + i]!;
    header[pnOffset + i] = byte;
    truncatedPn = truncatedPn * 256 + byte;
  }
  return { header, pnLength, truncatedPn };
}

/**
 * Header protection masks computed ahead for packets a receiver is about to process (RFC 9001
 * §5.4): the receiver of a batch of datagrams asks for the masks of the ones it expects to be its
 * own in one masksOf() call, then takes them one by one as it processes the packets in order. A
 * mask is given only for the same key, the same packet object and the same sample offset it was
 * computed for, and the mask is a function of key and sample alone, so a guess that does not come
 * true (a datagram that goes elsewhere or is dropped, a key that changed) costs the work, never a wrong mask.
 */
export class PrefetchedMasks {
  /** Mask i is masks[16i..16i+4]; valid for the entries below `count`. */
  masks: Uint8Array = EMPTY;
  private key: HeaderProtection | undefined;
  private readonly packets: Uint8Array[] = [];
  private readonly sampleOffsets: number[] = [];
  /** The entry the next packet is expected to match. */
  private next = 0;

  /** Entries not yet taken or passed over. */
  get pending(): number {
    return this.packets.length - this.next;
  }

  /**
   * Computes with `hp` the masks of `packets`, whose samples start at `sampleOffsets` (each at
   * least 16 bytes before the packet's end), replacing any earlier ones.
   */
  prefetch(hp: HeaderProtection, packets: readonly Buffer[], sampleOffsets: readonly number[]): void {
    const n = packets.length;
    this.forget();
    const samples = sampleRoom(n);
    for (let i = 0; i < n; i++) {
      const packet = packets[i]!;
      const at = sampleOffsets[i]!;
      if (!(at >= 0 && at + SAMPLE_LENGTH <= packet.length)) throw new RangeError('header protection sample is 16 bytes (RFC 9001 §5.4.2)');
      packet.copy(samples, i * SAMPLE_LENGTH, at, at + SAMPLE_LENGTH);
      this.packets.push(packet);
      this.sampleOffsets.push(at);
    }
    this.masks = hp.masksOf(samples, n);
    this.key = hp;
  }

  /**
   * Offset in `masks` of the mask computed for this key, packet and sample offset, or -1. Entries
   * before it are passed over (their packets went elsewhere); a miss leaves the entries as they are.
   */
  take(hp: HeaderProtection, packet: Uint8Array, sampleOffset: number): number {
    if (hp !== this.key) return -1;
    for (let i = this.next; i < this.packets.length; i++) {
      if (this.packets[i] === packet && this.sampleOffsets[i] === sampleOffset) {
        this.next = i + 1;
        if (this.next === this.packets.length) {
          // All taken: let go of the datagrams (the masks stay readable for this caller).
          this.packets.length = 0;
          this.sampleOffsets.length = 0;
          this.next = 0;
        }
        return i * SAMPLE_LENGTH;
      }
    }
    return -1;
  }

  /** Drops every mask (the batch is over): nothing keeps its datagrams alive. */
  forget(): void {
    this.packets.length = 0;
    this.sampleOffsets.length = 0;
    this.next = 0;
    this.key = undefined;
    this.masks = EMPTY;
  }
}

export interface UnprotectedPacket extends UnmaskedHeader {
  /** Decrypted payload (the frames). */
  payload: Buffer;
  /** Full packet number that `decodePn` gave and the AEAD accepted. */
  packetNumber: number;
}

/**
 * Removes header protection, decodes the packet number with the caller's RFC 9000 Appendix A
 * decoder, and opens the payload. `packet` ends where this QUIC packet ends (a long header's
 * Length field delimits it within a datagram). Null when the packet is too short to sample or
 * fails authentication; the caller discards it (RFC 9001 §5.5). Never throws on packet content.
 */
export function unprotectPacket(
  protector: PacketProtector,
  packet: Uint8Array,
  pnOffset: number,
  decodePn: (truncated: number, pnLength: number) => number,
): UnprotectedPacket | null {
  const unmasked = removeHeaderProtection(protector, packet, pnOffset);
  if (unmasked === null) return null;
  const packetNumber = decodePn(unmasked.truncatedPn, unmasked.pnLength);
  const payload = protector.openAt(packetNumber, unmasked.header, packet, unmasked.header.length);
  if (payload === null) return null;
  return { ...unmasked, payload, packetNumber };
}
