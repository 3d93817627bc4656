/**
 * The receiving half of a request, response or push stream (RFC 9114 §4.1): bytes in, frames out
 * through the FrameReader, field sections decoded through QPACK in stream order.
 *
 * QPACK may block a field section until encoder instructions arrive (RFC 9204 §2.2.1). Frames
 * after a blocked section wait here, so the owner always sees HEADERS, DATA and trailers in the
 * order they were sent; the owner pauses reading meanwhile, which bounds what can wait.
 *
 * The owner tells interim, final and trailing HEADERS apart (that needs :status) and calls
 * `endOfMessage()` once it has seen the trailers: after that any HEADERS or DATA is
 * H3_FRAME_UNEXPECTED (RFC 9114 §4.1), which the FrameReader alone cannot know.
 */
import { H3Error, H3ErrorCode } from '../errors.js';
import { FrameReader, type Frame, type FrameStreamKind } from '../frame.js';
import type { FieldLine, QpackDecoder, ResumedSection } from '../qpack/decoder.js';

export interface MessageEvents {
  /** A decoded HEADERS section. */
  headers(lines: FieldLine[]): void;
  data(piece: Uint8Array): void;
  /** A decoded PUSH_PROMISE (client request streams only). */
  pushPromise?(pushId: number, lines: FieldLine[]): void;
  /** FIN at a frame boundary, after every section was delivered. */
  end(): void;
}

type Queued = Frame | 'fin';

export class IncomingMessage {
  private readonly reader: FrameReader;
  /** A field section is waiting for QPACK inserts; frames after it queue here. */
  private blocked: { frame: Frame } | null = null;
  private readonly queue: Queued[] = [];
  private complete = false;
  /** Bytes of DATA payload delivered so far (for Content-Length, RFC 9114 §4.1.2). */
  dataBytes = 0;
  /**
   * While the owner handles a frame: nothing but the stream's FIN follows it (both arrived in
   * the same push). A request whose HEADERS end the stream has no body to stream.
   */
  lastFrameOfStream = false;

  constructor(
    readonly streamId: number,
    stream: FrameStreamKind,
    receiver: 'client' | 'server',
    maxFieldSectionBytes: number,
    private readonly decoder: QpackDecoder,
    private readonly events: MessageEvents,
  ) {
    this.reader = new FrameReader({ stream, receiver, maxFieldSectionBytes });
  }

  get isBlocked(): boolean {
    return this.blocked !== null;
  }

  /** The owner has seen the trailing HEADERS: nothing but unknown frames may follow. */
  endOfMessage(): void {
    this.complete = true;
  }

  /** Bytes of the stream, in order; `fin` at its end. Throws H3Error. */
  push(bytes: Uint8Array, fin: boolean): void {
    const frames = bytes.length > 0 ? this.reader.push(bytes) : [];
    if (fin) this.reader.end(); // RFC 9114 §7.1: FIN inside a frame is H3_FRAME_ERROR
    const last = frames.length - 1;
    for (let i = 0; i <= last; i++) {
      this.lastFrameOfStream = fin && i === last;
      this.deliver(frames[i]!);
    }
    this.lastFrameOfStream = false;
    if (fin) this.deliver('fin');
  }

  /** QPACK unblocked this stream: the section decoded late, then the frames that waited. */
  resume(section: ResumedSection): void {
    const blocked = this.blocked;
    if (!blocked) return;
    this.blocked = null;
    if ('error' in section) throw section.error;
    this.emitSection(blocked.frame, section.headers);
    while (this.queue.length > 0 && !this.blocked) this.handle(this.queue.shift()!);
  }

  private deliver(item: Queued): void {
    if (this.blocked) this.queue.push(item);
    else this.handle(item);
  }

  private handle(item: Queued): void {
    if (item === 'fin') {
      this.events.end();
      return;
    }
    switch (item.type) {
      case 'headers':
      case 'push_promise': {
        if (item.type === 'headers' && this.complete) throw unexpected('HEADERS after the trailers');
        const result = this.decoder.decodeFieldSection(this.streamId, item.fieldSection);
        if ('blocked' in result) this.blocked = { frame: item };
        else this.emitSection(item, result.headers);
        return;
      }
      case 'data':
        if (this.complete) throw unexpected('DATA after the trailers');
        this.dataBytes += item.data.length;
        this.events.data(item.data);
        return;
      default:
        // The FrameReader lets no other frame through on request and push streams.
        return;
    }
  }

  private emitSection(frame: Frame, lines: FieldLine[]): void {
    if (frame.type === 'push_promise') {
      if (!this.events.pushPromise) throw unexpected('PUSH_PROMISE here');
      this.events.pushPromise(frame.pushId, lines);
    } else {
      this.events.headers(lines);
    }
  }
}

function unexpected(message: string): H3Error {
  return new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, message, 'RFC 9114 §4.1');
}
