/**
 * What the client and the server side of an HTTP/3 connection share (RFC 9114 §3, §5, §6, §7;
 * RFC 9204 §4.2): the unidirectional streams and the connection-level rules.
 *
 * The story: start() opens our control stream with SETTINGS first (§6.2.1) and our QPACK encoder
 * and decoder streams (RFC 9204 §4.2); handleEvent() takes what QUIC reports, reads the type of
 * each peer unidirectional stream (§6.2) and routes its bytes: control frames here, QPACK
 * instructions to the encoder/decoder, push streams and request streams to the subclass.
 *
 * Rules kept here:
 *   - exactly one control, encoder and decoder stream per peer; a second one is
 *     H3_STREAM_CREATION_ERROR (§6.2.1, RFC 9204 §4.2);
 *   - closing or resetting any of them is H3_CLOSED_CRITICAL_STREAM (§6.2.1, RFC 9204 §4.2);
 *   - the first control frame is SETTINGS, exactly once (§6.2.1, §7.2.4; in the FrameReader);
 *   - unknown and reserved stream types are ignored with STOP_SENDING (§6.2, §6.2.3); we send a
 *     reserved stream type and a reserved frame type now and then so that peers keep ignoring them;
 *   - GOAWAY identifiers never increase (§5.2: H3_ID_ERROR);
 *   - an H3Error of stream scope ends one stream (subclass); any other error closes the
 *     connection with its code (§8).
 */
import { resolveLimits, type Limits } from '../../core/limits.js';
import { H3Error, H3ErrorCode } from '../errors.js';
import {
  encodeFrame,
  encodeFrameHeader,
  encodeSettingsFrame,
  encodeUniStreamHeader,
  FrameReader,
  frameHeaderLength,
  FrameType,
  readUniStreamHeader,
  UniStreamType,
  writeFrameHeader,
  type Frame,
} from '../frame.js';
import { QpackDecoder } from '../qpack/decoder.js';
import { QpackEncoder } from '../qpack/encoder.js';
import { DEFAULT_SETTINGS, greaseSettingId, type H3Settings } from '../settings.js';
import { isBidirectional, isClientInitiated, type QuicStreamEvent, type QuicStreams } from '../transport.js';

export type Role = 'client' | 'server';

export interface SessionOptions {
  limits?: Partial<Limits>;
  /** 32 random bits per call, for greasing (RFC 9114 §7.2.4.1, §6.2.3, §7.2.8). */
  random?: () => number;
  /** Send reserved settings, frame and stream types (default true). */
  grease?: boolean;
  /** One line per HTTP/3 frame sent or received (`h123 get --trace`). */
  trace?: (line: string) => void;
}

/** A unidirectional stream the peer opened, until and after its type is known (RFC 9114 §6.2). */
interface PeerUniStream {
  /** Bytes of the stream header so far (at most 16: a type and a push ID). */
  head: Buffer;
  kind: 'pending' | 'control' | 'qpack-encoder' | 'qpack-decoder' | 'push' | 'ignored';
}

const MAX_UNI_HEADER = 16;

/** Only greasing uses randomness; tests inject their own source. */
function defaultRandom(): number {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!;
}

export abstract class H3Session {
  readonly limits: Limits;
  readonly encoder: QpackEncoder;
  readonly decoder: QpackDecoder;
  /** The peer's SETTINGS, defaults until they arrive (RFC 9114 §7.2.4.2). */
  peerSettings: H3Settings = { ...DEFAULT_SETTINGS };
  peerSettingsReceived = false;
  /** The connection is closed (by us, the peer, or QUIC): nothing more happens. */
  closed = false;
  closeError: H3Error | null = null;
  protected readonly random: () => number;
  protected readonly trace: ((line: string) => void) | undefined;
  private readonly grease: boolean;
  private started = false;
  private controlStream: number | null = null;
  private encoderStream: number | null = null;
  private decoderStream: number | null = null;
  private readonly peerUni = new Map<number, PeerUniStream>();
  private peerControl: { id: number; reader: FrameReader } | null = null;
  private peerEncoderStream: number | null = null;
  private peerDecoderStream: number | null = null;
  /** Lowest GOAWAY identifier received (RFC 9114 §5.2). */
  peerGoaway: number | undefined;

  constructor(
    protected readonly transport: QuicStreams,
    readonly role: Role,
    options: SessionOptions,
  ) {
    this.limits = resolveLimits(options.limits);
    this.random = options.random ?? defaultRandom;
    this.grease = options.grease ?? true;
    this.trace = options.trace;
    this.encoder = new QpackEncoder({ maxTableCapacity: this.limits.qpackMaxTableCapacity });
    this.decoder = new QpackDecoder({
      maxTableCapacity: this.limits.qpackMaxTableCapacity,
      maxBlockedStreams: this.limits.qpackBlockedStreams,
      maxFieldSectionSize: this.limits.maxHeaderListBytes,
    });
  }

  /**
   * Opens our control stream (SETTINGS first, RFC 9114 §6.2.1) and QPACK streams (RFC 9204 §4.2).
   * Call once QUIC can open streams (after the handshake); retried on `streams-available`.
   */
  start(): void {
    if (this.started || this.closed) return;
    if (this.controlStream === null) {
      const id = this.transport.openStream(false);
      if (id === null) return;
      this.controlStream = id;
      const settings = encodeSettingsFrame(this.localSettings(), this.grease ? { grease: { id: greaseSettingId(this.random), value: this.random() % 64 } } : {});
      this.transport.write(id, Buffer.concat([encodeUniStreamHeader(UniStreamType.CONTROL), settings]));
      // RFC 9114 §7.2.8: a reserved frame type on the control stream, to be ignored by the peer.
      if (this.grease) this.transport.write(id, encodeFrameHeader(0x1f * (this.random() % 0x100) + 0x21, 0));
    }
    if (this.encoderStream === null) {
      const id = this.transport.openStream(false);
      if (id === null) return;
      this.encoderStream = id;
      this.transport.write(id, encodeUniStreamHeader(UniStreamType.QPACK_ENCODER));
    }
    if (this.decoderStream === null) {
      const id = this.transport.openStream(false);
      if (id === null) return;
      this.decoderStream = id;
      this.transport.write(id, encodeUniStreamHeader(UniStreamType.QPACK_DECODER));
    }
    this.started = true;
    // RFC 9114 §6.2.3: now and then a stream of a reserved type, which the peer must ignore.
    if (this.grease && this.random() % 2 === 0) {
      const id = this.transport.openStream(false);
      if (id !== null) this.transport.write(id, Buffer.concat([encodeUniStreamHeader(0x1f * (this.random() % 0x100) + 0x21), Buffer.from('grease')]), true);
    }
    this.flushQpack();
    this.onStarted();
  }

  /** Feeds one event from QUIC. Never throws: protocol errors close the stream or connection. */
  handleEvent(event: QuicStreamEvent): void {
    if (this.closed) return;
    try {
      this.dispatch(event);
    } catch (err) {
      this.onError(err, 'id' in event ? event.id : undefined);
    }
  }

  /** Closes the connection with an HTTP/3 error (RFC 9114 §8); every stream is abandoned. */
  fail(error: H3Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    this.transport.close(error.code, error.message);
    this.onClosed(error);
  }

  // ---- for subclasses ----

  protected abstract localSettings(): Partial<H3Settings>;
  /** Our streams are open and SETTINGS sent. */
  protected abstract onStarted(): void;
  /** A bidirectional stream opened by the peer (server: a request). */
  protected abstract onPeerBidiStream(id: number): void;
  /** Bytes, FIN, reset, STOP_SENDING or room to write on a bidirectional stream. */
  protected abstract onBidiData(id: number, data: Uint8Array, fin: boolean): void;
  protected abstract onBidiReset(id: number, code: number): void;
  protected abstract onStopSending(id: number, code: number): void;
  protected abstract onWritable(id: number): void;
  /** A push stream from the server (client only) and its bytes after the header. */
  protected abstract onPushStream(id: number, pushId: number, data: Uint8Array, fin: boolean): void;
  protected abstract onPushStreamData(id: number, data: Uint8Array, fin: boolean): void;
  protected abstract onPushStreamReset(id: number, code: number): void;
  /** A control frame other than SETTINGS (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH). */
  protected abstract onControlFrame(frame: Frame): void;
  /** QPACK unblocked these streams; their sections wait in decoder.takeResumed(). */
  protected abstract onUnblocked(streamIds: number[]): void;
  /** A stream-scoped error on stream `id`. */
  protected abstract onStreamError(id: number, error: H3Error): void;
  /** The connection closed: abort everything in flight. */
  protected abstract onClosed(error: H3Error): void;

  /** QUIC allows more streams of ours again (the peer raised MAX_STREAMS). */
  protected onStreamsAvailable(_bidi: boolean): void {}

  /** Sends a frame on our control stream. */
  protected sendControlFrame(frame: Frame): void {
    if (this.controlStream === null || this.closed) return;
    this.trace?.(`h3 → control ${describeFrame(frame)}`);
    this.transport.write(this.controlStream, encodeFrame(frame));
  }

  /**
   * A HEADERS frame with the field section of `lines` for stream `id` (RFC 9114 §7.2.2), at the
   * start of a buffer `spare` bytes longer for what the caller puts behind it. The QPACK encoder
   * instructions it needs are queued first: the peer's decoder would otherwise block on them.
   */
  protected headersFrame(id: number, lines: Iterable<readonly [string, string]>, spare = 0): Buffer {
    const sectionLength = this.encoder.encodeToScratch(id, lines);
    const out = Buffer.allocUnsafe(frameHeaderLength(FrameType.HEADERS, sectionLength) + sectionLength + spare);
    this.encoder.copyEncoded(out, writeFrameHeader(out, 0, FrameType.HEADERS, sectionLength));
    this.flushQpack();
    return out;
  }

  /** Sends what QPACK produced for its encoder and decoder streams (call after each QPACK use). */
  protected flushQpack(): void {
    if (this.closed) return;
    if (this.encoderStream !== null) {
      const bytes = this.encoder.takeEncoderStreamData();
      if (bytes.length > 0) this.transport.write(this.encoderStream, bytes);
    }
    if (this.decoderStream !== null) {
      const bytes = this.decoder.takeDecoderStreamData();
      if (bytes.length > 0) this.transport.write(this.decoderStream, bytes);
    }
  }

  /**
   * RFC 9114 §5.2: a GOAWAY identifier may only go down. Server → client it names a request
   * stream (checked in the FrameReader), client → server a push ID.
   */
  protected receiveGoaway(id: number): void {
    if (this.peerGoaway !== undefined && id > this.peerGoaway) {
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY ${id} above the earlier ${this.peerGoaway}`, 'RFC 9114 §5.2');
    }
    this.peerGoaway = id;
  }

  /** Routes an error: stream scope to that stream, everything else closes the connection. */
  protected onError(err: unknown, streamId: number | undefined): void {
    if (err instanceof H3Error) {
      if (err.scope === 'stream' && streamId !== undefined) this.onStreamError(streamId, err);
      else this.fail(err);
      return;
    }
    // Not a protocol error: a bug or an unexpected input shape. Close rather than throw into QUIC.
    this.fail(new H3Error(H3ErrorCode.H3_INTERNAL_ERROR, err instanceof Error ? err.message : String(err), 'RFC 9114 §8.1'));
  }

  protected isOurStream(id: number): boolean {
    return isClientInitiated(id) === (this.role === 'client');
  }

  // ---- dispatch ----

  private dispatch(event: QuicStreamEvent): void {
    switch (event.type) {
      case 'stream-opened':
        this.streamOpened(event.id);
        return;
      case 'stream-data':
        this.streamData(event.id, event.data, event.fin);
        return;
      case 'stream-reset':
        this.streamReset(event.id, event.code);
        return;
      case 'stop-sending':
        if (event.id === this.controlStream || event.id === this.encoderStream || event.id === this.decoderStream) {
          // RFC 9114 §6.2.1, RFC 9204 §4.2: our critical stream may not be closed by the peer.
          throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `STOP_SENDING on our critical stream ${event.id}`, 'RFC 9114 §6.2.1');
        }
        this.onStopSending(event.id, event.code);
        return;
      case 'writable':
        this.onWritable(event.id);
        return;
      case 'streams-available':
        if (!this.started) this.start();
        this.onStreamsAvailable(event.bidi);
        return;
      case 'closed': {
        const error = new H3Error(event.error.code, `connection closed (${event.error.source}): ${event.error.reason}`, 'RFC 9114 §5.3');
        this.closed = true;
        this.closeError = error;
        this.onClosed(error);
        return;
      }
    }
  }

  private streamOpened(id: number): void {
    if (this.isOurStream(id)) return;
    if (isBidirectional(id)) {
      // RFC 9114 §6.1: servers never open bidirectional streams.
      if (this.role === 'client') {
        throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `server-initiated bidirectional stream ${id}`, 'RFC 9114 §6.1');
      }
      this.onPeerBidiStream(id);
      return;
    }
    if (!this.peerUni.has(id)) this.peerUni.set(id, { head: Buffer.alloc(0), kind: 'pending' });
  }

  private streamData(id: number, data: Uint8Array, fin: boolean): void {
    // QUIC announces every peer stream (stream-opened) before its data; bytes of a stream we
    // know nothing of belong to one already finished or ignored.
    if (isBidirectional(id)) {
      this.onBidiData(id, data, fin);
      return;
    }
    if (this.isOurStream(id)) return; // our uni streams carry nothing back
    const stream = this.peerUni.get(id);
    if (!stream) return;
    if (stream.kind === 'pending') {
      const head = Buffer.concat([stream.head, data.subarray(0, MAX_UNI_HEADER)]);
      const header = readUniStreamHeader(head);
      if (!header) {
        stream.head = head;
        // RFC 9114 §6.2: a stream that ends before its type is known carries nothing to act on.
        if (fin) this.peerUni.delete(id);
        return;
      }
      const rest = data.subarray(header.length - stream.head.length);
      stream.head = Buffer.alloc(0);
      this.typeKnown(id, stream, header.kind, header.pushId ?? 0, rest, fin);
      return;
    }
    this.uniData(id, stream, data, fin);
  }

  /** RFC 9114 §6.2: the stream type decides what the stream is. */
  private typeKnown(id: number, stream: PeerUniStream, kind: string, pushId: number, rest: Uint8Array, fin: boolean): void {
    const duplicate = (what: string, section: string) =>
      new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `second ${what} stream from the peer`, section);
    switch (kind) {
      case 'control':
        if (this.peerControl) throw duplicate('control', 'RFC 9114 §6.2.1');
        this.peerControl = { id, reader: new FrameReader({ stream: 'control', receiver: this.role }) };
        stream.kind = 'control';
        break;
      case 'qpack-encoder':
        if (this.peerEncoderStream !== null) throw duplicate('QPACK encoder', 'RFC 9204 §4.2');
        this.peerEncoderStream = id;
        stream.kind = 'qpack-encoder';
        break;
      case 'qpack-decoder':
        if (this.peerDecoderStream !== null) throw duplicate('QPACK decoder', 'RFC 9204 §4.2');
        this.peerDecoderStream = id;
        stream.kind = 'qpack-decoder';
        break;
      case 'push':
        // RFC 9114 §6.2.2: only servers push.
        if (this.role === 'server') throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'client-initiated push stream', 'RFC 9114 §6.2.2');
        stream.kind = 'push';
        this.onPushStream(id, pushId, rest, fin);
        return;
      default:
        // RFC 9114 §6.2, §6.2.3: unknown and reserved types are ignored; we ask the peer to stop.
        stream.kind = 'ignored';
        if (!fin) this.transport.stopSending(id, H3ErrorCode.H3_STREAM_CREATION_ERROR);
        this.peerUni.delete(id);
        return;
    }
    this.uniData(id, stream, rest, fin);
  }

  private uniData(id: number, stream: PeerUniStream, data: Uint8Array, fin: boolean): void {
    switch (stream.kind) {
      case 'control': {
        const reader = this.peerControl!.reader;
        if (data.length > 0) {
          for (const frame of reader.push(data)) this.controlFrame(frame);
        }
        if (fin) reader.end(); // RFC 9114 §6.2.1: H3_CLOSED_CRITICAL_STREAM
        return;
      }
      case 'qpack-encoder':
        if (data.length > 0) {
          const unblocked = this.decoder.onEncoderStreamData(data);
          this.flushQpack();
          if (unblocked.length > 0) this.onUnblocked(unblocked);
        }
        if (fin) throw closedCritical('QPACK encoder');
        return;
      case 'qpack-decoder':
        if (data.length > 0) this.encoder.onDecoderStreamData(data);
        if (fin) throw closedCritical('QPACK decoder');
        return;
      case 'push':
        this.onPushStreamData(id, data, fin);
        return;
      default:
        return;
    }
  }

  private controlFrame(frame: Frame): void {
    this.trace?.(`h3 ← control ${describeFrame(frame)}`);
    if (frame.type === 'settings') {
      // RFC 9114 §7.2.4; RFC 9204 §5: the encoder may now use up to the peer's table capacity.
      this.peerSettings = frame.settings;
      this.peerSettingsReceived = true;
      this.encoder.applyPeerSettings(frame.settings);
      this.flushQpack();
      return;
    }
    this.onControlFrame(frame);
  }

  private streamReset(id: number, code: number): void {
    if (isBidirectional(id)) {
      this.onBidiReset(id, code);
      return;
    }
    if (this.isOurStream(id)) return;
    const stream = this.peerUni.get(id);
    if (!stream) return;
    if (stream.kind === 'control' || stream.kind === 'qpack-encoder' || stream.kind === 'qpack-decoder') {
      // RFC 9114 §6.2.1, RFC 9204 §4.2.
      throw closedCritical(stream.kind);
    }
    if (stream.kind === 'push') this.onPushStreamReset(id, code);
    this.peerUni.delete(id);
  }
}

/** One line about a frame, for traces: its type and the fields that matter. */
export function describeFrame(frame: Frame): string {
  switch (frame.type) {
    case 'data':
      return `DATA ${frame.data.length} bytes`;
    case 'headers':
      return `HEADERS ${frame.fieldSection.length} bytes`;
    case 'settings':
      return `SETTINGS ${JSON.stringify(frame.settings)}`;
    case 'push_promise':
      return `PUSH_PROMISE push ${frame.pushId}`;
    case 'goaway':
      return `GOAWAY ${frame.id}`;
    case 'max_push_id':
      return `MAX_PUSH_ID ${frame.pushId}`;
    case 'cancel_push':
      return `CANCEL_PUSH ${frame.pushId}`;
  }
}

function closedCritical(what: string): H3Error {
  return new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `the peer closed its ${what} stream`, 'RFC 9204 §4.2');
}
