/**
 * A request body as the handler sees it: an async iterable of chunks, with backpressure. The
 * protocol pushes chunks in; when the unread amount passes the high-water mark push() returns false
 * and the protocol stops reading (h1 pauses the socket; h2/h3 withhold flow-control credit). As the
 * handler reads, `onConsumed` tells the protocol how many bytes left the buffer, so it can resume.
 */
import { copyOf, isSmallView } from './small-view.js';

export class RequestBody implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private done = false;
  private failure: Error | null = null;
  private waiter: (() => void) | null = null;
  private iterating = false;
  /** Called with the number of bytes the handler took off the buffer. */
  onConsumed: ((bytes: number) => void) | null = null;

  constructor(private readonly highWaterMark: number) {}

  /** Bytes received but not yet read by the handler. */
  get buffered(): number { return this.bufferedBytes; }
  get ended(): boolean { return this.done || this.failure !== null; }
  /** The handler started reading the body. */
  get started(): boolean { return this.iterating; }

  /** Adds a chunk; false when over the high-water mark (stop reading until onConsumed). */
  push(chunk: Uint8Array): boolean {
    if (this.done || this.failure) return false;
    if (chunk.length > 0) {
      // A small view of a large buffer (a few bytes of a decrypted QUIC packet or of a socket read)
      // would keep all of that buffer alive while it waits here, and the high-water mark counts
      // only the view's bytes: such a chunk waits as a copy (small-view.ts, RFC 9000 §21.7).
      this.queue.push(isSmallView(chunk) ? copyOf(chunk) : chunk);
      this.bufferedBytes += chunk.length;
      this.wake();
    }
    return this.bufferedBytes < this.highWaterMark;
  }

  end(): void {
    if (this.done || this.failure) return;
    this.done = true;
    this.wake();
  }

  /** The body will not complete (client reset, connection lost, malformed framing). */
  fail(err: Error): void {
    if (this.done || this.failure) return;
    this.failure = err;
    this.queue.length = 0;
    this.head = 0;
    this.bufferedBytes = 0;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterating) throw new Error('request body can be read only once');
    this.iterating = true;
    for (;;) {
      if (this.head < this.queue.length) {
        const chunk = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as Uint8Array;
        if (this.head > 64 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.bufferedBytes -= chunk.length;
        this.onConsumed?.(chunk.length);
        yield chunk;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.done) return;
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }

  private wake(): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w();
    }
  }
}

/** Reads a whole body into one Buffer, refusing more than `limit` bytes. */
export async function readAll(body: AsyncIterable<Uint8Array>, limit = Infinity): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) throw new RangeError(`body larger than ${limit} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts, total);
}

/**
 * The body of a request that has none (no Content-Length, no Transfer-Encoding: RFC 9112 §6.3
 * item 7). Stateless, so one instance serves every such request: reading it ends at once.
 */
class EmptyRequestBody extends RequestBody {
  constructor() {
    super(0);
    super.end();
  }
  override push(): boolean { return false; }
  override [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return { next: () => Promise.resolve({ done: true, value: undefined }) };
  }
}

export const EMPTY_BODY: RequestBody = new EmptyRequestBody();
