/**
 * QUIC loss recovery (RFC 9002) and acknowledgment generation (RFC 9000 §13.2) in one import:
 * RTT estimation, the receiver's ACK tracker, the sender's loss detection, and the congestion
 * controllers it drives (NewReno, CUBIC with HyStart++) plus the pacer.
 */
export { type AckFrameInfo, type EcnCounts, type PacketRange, validateAckFrame } from './recovery/ack-frame.js';
export { AckTracker, type AckTrackerOptions, DEFAULT_MAX_ACK_DELAY, type EcnCodepoint } from './recovery/ack-tracker.js';
export { EcnValidator, type EcnState, type SentEcn } from './recovery/ecn-validation.js';
export {
  type AckResult,
  LossDetection,
  type LossDetectionOptions,
  PACKET_THRESHOLD,
  type PacketToTrack,
  TIME_THRESHOLD,
  type TimeoutAction,
} from './recovery/loss-detection.js';
export { persistentCongestionDuration } from './recovery/persistent-congestion.js';
export { GRANULARITY, INITIAL_RTT, RttEstimator, type RttSnapshot } from './recovery/rtt.js';
export type { SentPacket } from './recovery/sent-packets.js';
export { ALL_SPACES, PacketNumberSpace } from './recovery/space.js';
export {
  type CongestionAlgorithm,
  type CongestionController,
  type CongestionPacket,
  createController,
  type RttView,
} from './congestion/controller.js';
export { Cubic } from './congestion/cubic.js';
export { NewReno } from './congestion/new-reno.js';
export { Pacer } from './congestion/pacer.js';
