/**
 * Small views of large buffers. A Uint8Array view keeps its whole underlying buffer alive, so a
 * few bytes of a 1,400-byte datagram or of a 64 KiB socket read that wait somewhere pin all of it,
 * and a limit that counts the view's bytes does not see that memory (RFC 9000 §21.7 warns of this
 * for stream reassembly). Data that waits is copied when it is a small share of its buffer.
 */

/** A view under 1/COPY_RATIO of the buffer it views is small. */
const COPY_RATIO = 8;

/** Whether keeping `view` would keep alive a buffer much larger than itself. */
export function isSmallView(view: Uint8Array): boolean {
  return view.byteLength * COPY_RATIO < view.buffer.byteLength;
}

/**
 * A copy of a view in its own memory. Not view.slice(): on a Buffer that is a view like
 * subarray(). Not Buffer.from() either: it takes from Node's shared 8 KB pool, so a 1-byte copy
 * would pin a pool block.
 */
export function copyOf(view: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(view.byteLength);
  copy.set(view);
  return copy;
}
