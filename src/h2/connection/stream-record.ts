/**
 * What an HTTP/2 connection keeps per stream beyond its RFC 9113 §5.1 state: the DATA waiting to be
 * sent (as the application's own buffers, cut into frames as views, never copied), how the stream
 * ends, its RFC 9218 priority, and what was received (header sections, content-length, §8.1.1).
 */
import type { ContentLengthCheck } from '../headers.js';
import type { FieldInput } from '../hpack.js';
import type { Stream } from '../stream.js';
import { DEFAULT_PRIORITY, type Priority } from './scheduler.js';

/** Octets queued for DATA frames, taken from the front as views. */
export class OutgoingData {
  private pieces: Uint8Array[] = [];
  /** Octets queued. */
  bytes = 0;

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.bytes += piece.length;
  }

  /** Removes the first `n` octets (n ≤ bytes) as views of the queued pieces. */
  take(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let left = n;
    while (left > 0) {
      const piece = this.pieces[0]!;
      if (piece.length <= left) {
        this.pieces.shift();
        out.push(piece);
        left -= piece.length;
      } else {
        out.push(piece.subarray(0, left));
        this.pieces[0] = piece.subarray(left);
        left = 0;
      }
    }
    this.bytes -= n;
    return out;
  }

  clear(): void {
    this.pieces = [];
    this.bytes = 0;
  }
}

export interface StreamRecord {
  stream: Stream;
  priority: Priority;
  // send side
  outgoing: OutgoingData;
  /** END_STREAM follows the queue (with `trailers` first, if any). */
  endQueued: boolean;
  trailers: FieldInput[] | null;
  sendDone: boolean;
  /** Since when queued DATA waits on a window of zero or less (zero-window stall bound). */
  blockedSince: number | null;
  // receive side
  /** A header section has been received (the next one is trailers, or on a client a final response). */
  headReceived: boolean;
  /** Client: the final (non-1xx) response head has been received. */
  finalReceived: boolean;
  /** The request method (HEAD responses have no content, RFC 9110 §9.3.2). */
  method: string;
  contentLength: ContentLengthCheck | null;
  /** DATA octets delivered to the session and not yet given back with `consumed()`. */
  unconsumed: number;
}

export function createStreamRecord(stream: Stream): StreamRecord {
  return {
    stream, priority: { ...DEFAULT_PRIORITY },
    outgoing: new OutgoingData(), endQueued: false, trailers: null, sendDone: false, blockedSince: null,
    headReceived: false, finalReceived: false, method: 'GET', contentLength: null, unconsumed: 0,
  };
}
