/**
 * HTTP/3 connections kept per origin for one-shot requests (what src/client.ts and `h3Request`
 * use), like the HTTP/1.1 client's keep-alive pool and the HTTP/2 client's shared connection:
 * requests to the same origin share one QUIC connection, many at a time (RFC 9114 §4.1: one
 * bidirectional stream per request), instead of paying a handshake each.
 *
 * Life of a pooled connection:
 *   - opened by the first request to its origin (concurrent first requests wait for the same
 *     handshake);
 *   - reused while it takes new requests (no GOAWAY received, not closed, RFC 9114 §5.2);
 *   - idle (no request in flight): unref'd, so that it does not keep the process alive, and after
 *     `idleTimeoutMs` (default 5 s) closed cleanly, GOAWAY then CONNECTION_CLOSE H3_NO_ERROR
 *     (RFC 9114 §5.2, §8.1), and forgotten; ref'd again while it carries a request;
 *   - closed by the server (GOAWAY, error, idle timeout): the next request opens a new one.
 * A request the server did not process (H3_REQUEST_REJECTED, or above its GOAWAY) is retried
 * once on a new connection when its body can be sent again (RFC 9114 §4.1.1).
 *
 * Connections are shared only between requests with the same TLS trust (ca, insecure); a traced
 * request or one with its own limits gets a connection of its own, closed after its response.
 */
import type { ClientRequestOptions, ClientResponse } from '../h1/client.js';
import type { H3ClientHandle } from './client.js';
import { H3RequestRejected } from './connection.js';

interface PooledH3 {
  key: string;
  /** Resolves once the handshake is done; shared by the requests that wait for it. */
  handle: Promise<H3ClientHandle>;
  /** Requests whose response has not ended yet. */
  inFlight: number;
  idleTimer: NodeJS.Timeout | null;
  /** Out of the pool: closed when its last request ends. */
  retired: boolean;
  /** Set once close() has been called. */
  closing: Promise<void> | null;
}

/**
 * How long an idle connection waits for the next request. An idle one is unref'd, as the h1 and
 * h2 pools unref their idle sockets, so this does not delay a program's exit.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 5_000;

export interface H3PoolOptions {
  /** Opens a connection to `url`'s origin (src/h3/client.ts connectH3). */
  connect: (url: URL, options: ClientRequestOptions) => Promise<H3ClientHandle>;
  /** How long a connection with no request in flight stays open for the next one (ms). */
  idleTimeoutMs?: number;
}

export class H3ConnectionPool {
  private readonly connections = new Map<string, PooledH3>();
  private readonly idleTimeoutMs: number;
  private readonly connect: H3PoolOptions['connect'];

  constructor(options: H3PoolOptions) {
    this.connect = options.connect;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** Connections open or opening (for tests and diagnostics). */
  get size(): number {
    return this.connections.size;
  }

  /** One request on the origin's pooled connection; its body streams on after the promise settles. */
  async request(url: URL, options: ClientRequestOptions = {}): Promise<ClientResponse> {
    if (options.trace || options.limits) return this.dedicated(url, options);
    const replayable = options.body === undefined || typeof options.body === 'string' || options.body instanceof Uint8Array;
    // A retry sends the same request again: header fields given as a one-shot iterable (a
    // generator, map.entries()) would be empty the second time, so they are read once, here.
    if (replayable && options.headers !== undefined && !Array.isArray(options.headers)) {
      options = { ...options, headers: [...options.headers] };
    }
    const entry = await this.connectionFor(url, options, null);
    try {
      return await this.send(entry, url, options);
    } catch (err) {
      // RFC 9114 §4.1.1: a rejected request was not processed and may be sent again, elsewhere.
      if (!(err instanceof H3RequestRejected) || !replayable || options.signal?.aborted) throw err;
      return this.send(await this.connectionFor(url, options, entry), url, options);
    }
  }

  /** Closes every pooled connection (GOAWAY, CONNECTION_CLOSE H3_NO_ERROR once idle). */
  async closeAll(): Promise<void> {
    const entries = [...this.connections.values()];
    for (const entry of entries) this.retire(entry);
    // Connections with requests in flight close when those end; the idle ones are closed here.
    await Promise.all(entries.map((entry) => entry.closing));
  }

  private async send(entry: PooledH3, url: URL, options: ClientRequestOptions): Promise<ClientResponse> {
    entry.inFlight++;
    if (entry.idleTimer) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = null;
    }
    let response: ClientResponse;
    try {
      const handle = await entry.handle;
      // A request in flight keeps the process alive until its response has ended.
      if (entry.inFlight > 0) handle.ref();
      response = await handle.request(url, options);
    } catch (err) {
      this.release(entry);
      throw err;
    }
    const done = () => this.release(entry);
    void response.trailers.then(done, done);
    return response;
  }

  /** The origin's usable connection, or a new one; never `failed` (it rejected a request). */
  private async connectionFor(url: URL, options: ClientRequestOptions, failed: PooledH3 | null): Promise<PooledH3> {
    const key = poolKey(url, options);
    const existing = this.connections.get(key);
    if (existing && existing !== failed) {
      const handle = await existing.handle.catch(() => null);
      if (handle?.available) return existing;
    }
    if (existing) this.retire(existing);
    if (failed) this.retire(failed);
    // Another request may have opened a new one while this one waited.
    const current = this.connections.get(key);
    if (current) return current;
    const entry: PooledH3 = { key, handle: this.connect(url, options), inFlight: 0, idleTimer: null, retired: false, closing: null };
    this.connections.set(key, entry);
    entry.handle.catch(() => {
      if (this.connections.get(key) === entry) this.connections.delete(key);
    });
    return entry;
  }

  /** A response ended (or failed): an idle connection is closed after idleTimeoutMs. */
  private release(entry: PooledH3): void {
    entry.inFlight--;
    if (entry.inFlight > 0) return;
    if (entry.retired) {
      close(entry);
      return;
    }
    // Idle: nothing of this connection keeps the process alive any more.
    void entry.handle.then((handle) => {
      if (entry.inFlight === 0) handle.unref();
    }, () => {});
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = null;
      if (entry.inFlight === 0) this.retire(entry);
    }, this.idleTimeoutMs);
    // The timer alone must not keep the process alive.
    entry.idleTimer.unref();
  }

  /** Out of the pool; closed now if idle, else when its last request ends. */
  private retire(entry: PooledH3): void {
    if (entry.retired) return;
    entry.retired = true;
    if (this.connections.get(entry.key) === entry) this.connections.delete(entry.key);
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    if (entry.inFlight === 0) close(entry);
  }

  /** A connection for one request only, closed when its response has ended. */
  private async dedicated(url: URL, options: ClientRequestOptions): Promise<ClientResponse> {
    const handle = await this.connect(url, options);
    // As in close(): a failed close has nobody to report to, and must not be an unhandled rejection.
    const closeQuietly = (): void => void handle.close().catch(() => {});
    try {
      const response = await handle.request(url, options);
      void response.trailers.then(closeQuietly, closeQuietly);
      return response;
    } catch (err) {
      closeQuietly();
      throw err;
    }
  }
}

/**
 * GOAWAY, then CONNECTION_CLOSE H3_NO_ERROR (RFC 9114 §5.2); a connection already closed stays so.
 * A close that fails (handshake failed, socket already gone) is ignored: the connection is out of
 * use either way, and nobody may be waiting on this promise to handle its rejection.
 */
function close(entry: PooledH3): void {
  // Ref'd while closing, so that the clean close (GOAWAY, CONNECTION_CLOSE) is sent before an exit.
  entry.closing ??= entry.handle.then((handle) => {
    handle.ref();
    return handle.close();
  }).then(undefined, () => {});
}

/**
 * Same origin and same TLS trust: a connection verified for one may serve the other. The parts are
 * JSON-encoded so that no two different CA lists (["a", "b"] and "a\nb") give the same key.
 */
function poolKey(url: URL, options: ClientRequestOptions): string {
  const ca = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  return JSON.stringify([url.hostname, url.port || '443', Boolean(options.insecure), ca]);
}
