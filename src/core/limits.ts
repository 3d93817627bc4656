/**
 * Every size, count and time that a hostile peer could push on has a limit here, with a default
 * that is safe for a public server. Servers take `Partial<Limits>` and merge it over these.
 */
export interface Limits {
  // HTTP/1.1 (RFC 9112)
  /** Longest request line; longer → 414 (RFC 9112 §3). */
  maxRequestLineBytes: number;
  /** Largest header section (field lines + CRLFs); larger → 431 (RFC 6585 §5). */
  maxHeaderBytes: number;
  /** Most field lines in one header or trailer section; more → 431. */
  maxHeaderCount: number;
  /** Longest chunk-size line with extensions (RFC 9112 §7.1.1); longer → 400. */
  maxChunkLineBytes: number;
  /** Largest request body by Content-Length or chunked total; larger → 413. */
  maxBodyBytes: number;
  /** Time to receive a whole request head (slowloris); then 408 and close. */
  headersTimeoutMs: number;
  /** Idle keep-alive connection with no request in progress is closed after this. */
  keepAliveTimeoutMs: number;
  /**
   * Time allowed without progress on a body: between two pieces of a request body, and (h1) while
   * response bytes wait for a client that reads nothing. Then the request aborts.
   */
  bodyTimeoutMs: number;
  /** Requests queued behind one in progress on a pipelined connection. */
  maxPipelinedRequests: number;

  // Shared by all protocols
  /** Bytes a response may buffer before write() returns false. */
  responseHighWaterMark: number;
  /** Bytes of request body buffered for a handler that does not read it yet. */
  requestBodyHighWaterMark: number;
  /** Graceful shutdown waits this long for in-flight responses, then closes. */
  shutdownTimeoutMs: number;
  /** Most concurrent connections a server accepts; more are closed at once. */
  maxConnections: number;

  // HTTP/2 (RFC 9113) and HTTP/3 (RFC 9114)
  /** SETTINGS_MAX_CONCURRENT_STREAMS / initial_max_streams_bidi we advertise. */
  maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE / SETTINGS_MAX_FIELD_SECTION_SIZE: decoded field section bytes. */
  maxHeaderListBytes: number;
  /** Largest header block (HEADERS + CONTINUATION) before decoding. */
  maxHeaderBlockBytes: number;
  /** Most CONTINUATION frames in one header block (CONTINUATION flood). */
  maxContinuationFrames: number;
  /** Stream resets by the client allowed per `floodWindowMs` (CVE-2023-44487 rapid reset). */
  maxResetsPerWindow: number;
  /** Control frames (PING, SETTINGS, PRIORITY, empty DATA) allowed per `floodWindowMs`. */
  maxControlFramesPerWindow: number;
  floodWindowMs: number;
  /** Unacknowledged SETTINGS is a SETTINGS_TIMEOUT after this (RFC 9113 §6.5.3). */
  settingsAckTimeoutMs: number;
  /** A stream whose peer keeps a zero window this long is reset (slow-reader stall). */
  zeroWindowTimeoutMs: number;
  /** Idle connection (no open stream) timeout for h2/h3. */
  idleTimeoutMs: number;

  // QUIC (RFC 9000)
  /** Connections one endpoint holds at once. */
  maxQuicConnections: number;
  /** Handshakes in progress at once. */
  maxQuicHandshakes: number;
  /** active_connection_id_limit we advertise. */
  activeConnectionIdLimit: number;
  /** Bytes of out-of-order stream data buffered per stream beyond the read offset. */
  maxStreamReassemblyBytes: number;
  /** Bytes of out-of-order CRYPTO data buffered per encryption level. */
  maxCryptoBufferBytes: number;
  /** Largest QPACK dynamic table we allow the peer's encoder (SETTINGS_QPACK_MAX_TABLE_CAPACITY). */
  qpackMaxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS. */
  qpackBlockedStreams: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxRequestLineBytes: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxChunkLineBytes: 1024,
  maxBodyBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  bodyTimeoutMs: 30_000,
  maxPipelinedRequests: 16,

  responseHighWaterMark: 64 * 1024,
  requestBodyHighWaterMark: 64 * 1024,
  shutdownTimeoutMs: 10_000,
  maxConnections: 10_000,

  maxConcurrentStreams: 100,
  maxHeaderListBytes: 32 * 1024,
  maxHeaderBlockBytes: 64 * 1024,
  maxContinuationFrames: 32,
  maxResetsPerWindow: 200,
  maxControlFramesPerWindow: 1000,
  floodWindowMs: 10_000,
  settingsAckTimeoutMs: 10_000,
  zeroWindowTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,

  maxQuicConnections: 10_000,
  maxQuicHandshakes: 1_000,
  activeConnectionIdLimit: 4,
  maxStreamReassemblyBytes: 1024 * 1024,
  maxCryptoBufferBytes: 64 * 1024,
  qpackMaxTableCapacity: 4096,
  qpackBlockedStreams: 16,
});

/** Objects resolveLimits made: passing one back costs nothing (it runs per request in places). */
const RESOLVED = new WeakSet<object>();

export function resolveLimits(overrides?: Partial<Limits>): Limits {
  if (overrides && RESOLVED.has(overrides)) return overrides as Limits;
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  RESOLVED.add(limits);
  return limits;
}
