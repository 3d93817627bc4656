/**
 * QUIC flow control (RFC 9000 §4): data credit in both directions (§4.1, §4.2) and stream
 * concurrency limits (§4.6). One class per concept lives in ./flow/.
 */
export { SendCredit } from './flow/send-credit.js';
export { ReceiveWindow, type ReceiveWindowOptions } from './flow/receive-window.js';
export { StreamOpenCredit, StreamAcceptLimit } from './flow/stream-count.js';
