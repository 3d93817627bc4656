/**
 * What HTTP/3 needs from QUIC (RFC 9114 §2, §6): streams opened by either side, in-order stream
 * bytes with FIN, RESET_STREAM and STOP_SENDING both ways, backpressure, and an application
 * CONNECTION_CLOSE. The HTTP/3 connection is written against this small interface only, so that it
 * runs over the real QUIC connection (src/quic/connection.ts, whose methods have these names and
 * shapes) or over an in-memory fake in tests.
 *
 * Flow control: stream bytes handed out as `stream-data` events count as consumed (the transport
 * gives the peer credit back, RFC 9000 §4.1). To hold a sender back, the HTTP/3 layer pauses
 * reading that stream; the transport then stops delivering and the peer runs out of credit.
 */

/** Calls the HTTP/3 layer makes into QUIC; all synchronous, none touches I/O. */
export interface QuicStreams {
  /** Opens a stream of ours; null when the peer's MAX_STREAMS allows none now (RFC 9000 §4.6). */
  openStream(bidi: boolean): number | null;
  /**
   * Queues `data` on stream `id` (kept by reference), `fin` ending it. Returns false above the
   * stream's high-water mark; a `writable` event follows when it drains.
   */
  write(id: number, data: Uint8Array, fin?: boolean): boolean;
  /** RESET_STREAM with an HTTP/3 error code (RFC 9000 §19.4, RFC 9114 §8.1). */
  resetStream(id: number, code: number): void;
  /** STOP_SENDING with an HTTP/3 error code (RFC 9000 §19.5); later bytes are discarded. */
  stopSending(id: number, code: number): void;
  /** Stops delivering stream `id`'s bytes: the peer's stream credit is then not renewed. */
  pauseReading(id: number): void;
  resumeReading(id: number): void;
  /** Bytes written on stream `id` that the peer has not acknowledged yet. */
  bufferedAmount(id: number): number;
  /** CONNECTION_CLOSE of type 0x1d with an HTTP/3 error code (RFC 9000 §10.2, RFC 9114 §8). */
  close(code: number, reason: string): void;
  /** Like close(), once everything written has been acknowledged (src/quic: closeGracefully). */
  closeGracefully?(code: number, reason: string): void;
}

/** What QUIC reports to the HTTP/3 layer (a subset of src/quic/connection/types.ts ConnectionEvent). */
export type QuicStreamEvent =
  /** The peer opened stream `id` (and, implicitly, every lower stream of its kind, RFC 9000 §3.2). */
  | { type: 'stream-opened'; id: number }
  /** In-order bytes of stream `id`; `fin` on the last piece (possibly empty). */
  | { type: 'stream-data'; id: number; data: Uint8Array; fin: boolean }
  /** RESET_STREAM from the peer. */
  | { type: 'stream-reset'; id: number; code: number }
  /** STOP_SENDING from the peer; our sending part is reset by the transport. */
  | { type: 'stop-sending'; id: number; code: number }
  /** Stream `id` fell below its high-water mark. */
  | { type: 'writable'; id: number }
  /** openStream() may succeed again after returning null. */
  | { type: 'streams-available'; bidi: boolean }
  /** The connection is gone: CONNECTION_CLOSE either way, idle timeout or stateless reset. */
  | { type: 'closed'; error: { code: number; application: boolean; reason: string; source: string } };

// ---- stream IDs (RFC 9000 §2.1) ----

/** Bit 0x01: 0 = client-initiated, 1 = server-initiated. */
export function isClientInitiated(id: number): boolean {
  return id % 2 === 0;
}

/** Bit 0x02: 0 = bidirectional, 1 = unidirectional. */
export function isBidirectional(id: number): boolean {
  return Math.floor(id / 2) % 2 === 0; // not `&`: IDs go up to 2^62
}

/**
 * The real QUIC connection (src/quic/connection.ts) already has the QuicStreams methods; the
 * adapter adds one thing: every call that queues output tells the driver to transmit (`flush`,
 * e.g. QuicEndpoint.flush), since HTTP/3 writes also happen outside QUIC's event callbacks
 * (a handler writing later, a request body pumped from its source).
 */
export function flushingStreams(quic: QuicStreams, flush: () => void): QuicStreams {
  return {
    openStream: (bidi) => quic.openStream(bidi),
    write(id, data, fin) {
      const below = quic.write(id, data, fin);
      flush();
      return below;
    },
    resetStream(id, code) {
      quic.resetStream(id, code);
      flush();
    },
    stopSending(id, code) {
      quic.stopSending(id, code);
      flush();
    },
    pauseReading: (id) => quic.pauseReading(id),
    resumeReading(id) {
      quic.resumeReading(id);
      flush();
    },
    bufferedAmount: (id) => quic.bufferedAmount(id),
    close(code, reason) {
      quic.close(code, reason);
      flush();
    },
    closeGracefully(code, reason) {
      if (quic.closeGracefully) quic.closeGracefully(code, reason);
      else quic.close(code, reason);
      flush();
    },
  };
}

/** Whether a QUIC event is one the HTTP/3 layer takes (the others are QUIC's own business). */
export function isStreamEvent(event: { type: string }): event is QuicStreamEvent {
  switch (event.type) {
    case 'stream-opened':
    case 'stream-data':
    case 'stream-reset':
    case 'stop-sending':
    case 'writable':
    case 'streams-available':
    case 'closed':
      return true;
    default:
      return false;
  }
}
