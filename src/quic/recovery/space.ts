/**
 * QUIC packet number spaces (RFC 9000 §12.3) and the transport error codes that loss recovery and
 * ACK processing can raise (RFC 9000 §20.1). Recovery keeps its own small shapes so that it does not
 * depend on the frame and packet codecs.
 */

/** RFC 9000 §12.3: Initial, Handshake and Application Data each number packets separately. */
export enum PacketNumberSpace {
  Initial = 0,
  Handshake = 1,
  ApplicationData = 2,
}

/** The three spaces in the order RFC 9002 Appendix A iterates them. */
export const ALL_SPACES: readonly PacketNumberSpace[] = [
  PacketNumberSpace.Initial,
  PacketNumberSpace.Handshake,
  PacketNumberSpace.ApplicationData,
];

export function spaceName(space: PacketNumberSpace): string {
  return space === PacketNumberSpace.Initial ? 'Initial'
    : space === PacketNumberSpace.Handshake ? 'Handshake' : 'Application Data';
}

/** RFC 9000 §20.1 transport error codes used here. */
export const FRAME_ENCODING_ERROR = 0x07;
export const PROTOCOL_VIOLATION = 0x0a;
