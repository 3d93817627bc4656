/**
 * QUIC streams (RFC 9000 §2–3): stream IDs, sending and receiving parts, reassembly, and the
 * per-connection stream manager. Each concept lives in its own file under ./stream/.
 */
export * from './stream/errors.js';
export * from './stream/stream-id.js';
export * from './stream/range-set.js';
export * from './stream/reassembly.js';
export * from './stream/recv-stream.js';
export * from './stream/send-stream.js';
export * from './stream/stream-manager.js';
