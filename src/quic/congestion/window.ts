/**
 * Window sizes shared by the congestion controllers (RFC 9002 §7.2) and the datagram size floor
 * they rely on (RFC 9000 §14.1).
 */

/** RFC 9000 §14.1: QUIC datagrams are at least 1200 bytes. */
export const MIN_MAX_DATAGRAM_SIZE = 1200;

/** RFC 9002 §7.2: min(10 × max_datagram_size, max(14720, 2 × max_datagram_size)). */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

/** RFC 9002 §7.2: kMinimumWindow = 2 × max_datagram_size. */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

export function checkDatagramSize(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < MIN_MAX_DATAGRAM_SIZE) {
    throw new RangeError(`max datagram size ${bytes} is below ${MIN_MAX_DATAGRAM_SIZE} (RFC 9000 §14.1)`);
  }
  return bytes;
}
