/**
 * The connection's public shapes: addresses, datagrams in and out, the events the application
 * polls (the API the HTTP/3 layer is written against), and how a connection ended.
 */
import type { SessionTicket } from '../tls/handshake.js';

/** A UDP peer. */
export interface PeerAddress {
  address: string;
  port: number;
  /**
   * Set by a driver on a datagram that arrived on a local socket other than its current one (a
   * client's socket still draining after a migration): the local half of the path. A PATH_RESPONSE
   * to it carries the same mark, so the driver sends it back through that socket (RFC 9000 §8.2.2:
   * "A PATH_RESPONSE frame MUST be sent on the network path where the PATH_CHALLENGE frame was
   * received"). Absent means the current socket; addresses are compared without it.
   */
  via?: number;
}

/** A datagram to send, with its destination. */
export interface OutgoingDatagram {
  data: Buffer;
  to: PeerAddress;
}

/** Why a connection ended (RFC 9000 §10). */
export interface CloseInfo {
  /** Transport error code (0x1c frame) or application error code (0x1d frame). */
  code: number;
  /** The error was an application error (CONNECTION_CLOSE type 0x1d). */
  application: boolean;
  reason: string;
  /** 'local': we closed; 'peer': the peer's CONNECTION_CLOSE; 'idle': §10.1; 'reset': §10.3. */
  source: 'local' | 'peer' | 'idle' | 'reset' | 'version-negotiation';
  /** Frame type for a transport error (RFC 9000 §19.19). */
  frameType?: number;
}

export type ConnectionEvent =
  | { type: 'handshake-complete'; alpn: string | null }
  /** The peer opened stream `id` (RFC 9000 §3.2: and any lower-numbered stream of its type). */
  | { type: 'stream-opened'; id: number }
  /** In-order bytes of stream `id`; `fin` on the last piece. Counted as consumed when polled. */
  | { type: 'stream-data'; id: number; data: Uint8Array; fin: boolean }
  /** The peer reset its sending part (RESET_STREAM, RFC 9000 §19.4). */
  | { type: 'stream-reset'; id: number; code: number }
  /** The peer asked us to stop sending (STOP_SENDING, RFC 9000 §19.5); the stream was reset. */
  | { type: 'stop-sending'; id: number; code: number }
  /** Stream `id` fell below its high-water mark: write more. */
  | { type: 'writable'; id: number }
  /** Our stream `id` was opened after waiting for the peer's MAX_STREAMS. */
  | { type: 'streams-available'; bidi: boolean }
  /** A ticket for resumption; keep the server's transport parameters with it for 0-RTT (RFC 9000 §7.4.1). */
  | { type: 'session-ticket'; ticket: SessionTicket; transportParameters: Buffer }
  /** NEW_TOKEN from the server (RFC 9000 §8.1.3), to present on a later connection. */
  | { type: 'new-token'; token: Buffer }
  | { type: 'closed'; error: CloseInfo };
