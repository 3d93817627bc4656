/**
 * Splitting a UDP datagram into its coalesced QUIC packets (RFC 9000 §12.2). Long headers with a
 * Length field may be followed by more packets; a short header, Retry, Version Negotiation or a
 * header of an unknown version runs to the end of the datagram.
 */
import { DecodeError } from '../../core/errors.js';
import { parsePacketHeader, type HeaderParseOptions, type PacketHeader } from './header.js';

/**
 * The packets in `datagram`, in order. A malformed first packet throws DecodeError (drop the
 * datagram). After a valid first packet, anything that fails to parse ends the list, as does a
 * packet whose Destination Connection ID differs from the first one's (RFC 9000 §12.2: receivers
 * SHOULD ignore such packets) — the packets before it stay valid.
 */
export function splitDatagram(datagram: Uint8Array, options: HeaderParseOptions): PacketHeader[] {
  const first = parsePacketHeader(datagram, 0, options);
  const packets: PacketHeader[] = [first];
  let offset = first.end;
  let last = first;
  while (offset < datagram.length && isCoalescable(last)) {
    let next: PacketHeader;
    try {
      next = parsePacketHeader(datagram, offset, options);
    } catch (err) {
      if (err instanceof DecodeError) break; // e.g. trailing junk or zero bytes after the last packet
      throw err;
    }
    if (!first.dcid.equals(next.dcid)) break;
    packets.push(next);
    last = next;
    offset = next.end;
  }
  return packets;
}

function isCoalescable(h: PacketHeader): boolean {
  return h.type === 'initial' || h.type === '0rtt' || h.type === 'handshake';
}
