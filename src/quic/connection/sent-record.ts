/**
 * What a sent packet carried that matters if it is acknowledged or lost (RFC 9000 §13.3): loss
 * recovery keeps one of these lists per packet, and the connection replays it — lost CRYPTO and
 * STREAM ranges go back to their send buffers, lost control frames are queued again when still
 * current, and an acknowledged ACK lets the receiver forget old ranges (§13.2.4). PADDING, PING and
 * PATH_RESPONSE are never retransmitted (§13.3), so they leave no record.
 */
import type { StreamControlFrame } from '../stream/stream-manager.js';
import type { PacketNumberSpace } from '../recovery/space.js';
import type { PmtuSearch } from './pmtu.js';

export type SentFrameRecord =
  | { kind: 'crypto'; space: PacketNumberSpace; offset: number; length: number }
  | { kind: 'stream'; streamId: number; offset: number; length: number; fin: boolean }
  | { kind: 'stream-control'; frame: StreamControlFrame }
  | { kind: 'ack'; space: PacketNumberSpace; largest: number }
  | { kind: 'handshake-done' }
  | { kind: 'new-connection-id'; sequence: number }
  | { kind: 'retire-connection-id'; sequence: number }
  | { kind: 'new-token'; token: Uint8Array }
  | { kind: 'path-challenge'; data: Buffer }
  /**
   * A DPLPMTUD probe of this datagram size (RFC 9000 §14.3), named by its packet number, with the
   * search of the path it was sent on: its result belongs to that path only (RFC 9000 §14).
   */
  | { kind: 'pmtu-probe'; size: number; packetNumber: number; search: PmtuSearch };

export type SentRecords = SentFrameRecord[];
