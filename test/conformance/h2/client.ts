/**
 * A raw-frame HTTP/2 test client for the conformance checklist (RFC 9113, RFC 7541).
 *
 * It speaks just enough HTTP/2 to drive a server into each rule and watch what comes back: the
 * connection preface and SETTINGS exchange (RFC 9113 §3.4), frames built with the h123 codec
 * (src/h2/frame.ts) or as raw bytes when a case needs a malformed one (frames.ts), and an event
 * queue of everything the server sends. Received frames are parsed leniently by hand (9-octet
 * header + payload, §4.1), so a server that sends a broken frame is reported, not thrown over.
 * Field blocks the server sends are decoded in arrival order with one HPACK decoder, so that the
 * dynamic table stays in step (RFC 7541 §2.2).
 */
import net from 'node:net';
import tls from 'node:tls';
import { CONNECTION_PREFACE, FRAME_HEADER_LENGTH, decodeFrame, encodeFrame, type Frame, type SettingsEntry } from '../../../src/h2/frame.js';
import { errorCodeName } from '../../../src/h2/errors.js';
import { HpackDecoder, HpackEncoder, type FieldInput, type HeaderField } from '../../../src/h2/hpack.js';

/** Where the server under test listens. */
export interface Target {
  host: string;
  port: number;
  /** Connect with TLS and ALPN "h2" (RFC 9113 §3.2); otherwise h2c with prior knowledge (§3.3). */
  tls?: boolean;
  /** TLS only: the CA that issued the server certificate (PEM); without it the certificate is not checked. */
  ca?: string;
}

/** One thing the server did, as the client saw it. */
export type Received =
  | {
      kind: 'frame';
      frame: Frame;
      /** The frame header as on the wire (flags before the codec dropped unknown ones). */
      type: number;
      flags: number;
      length: number;
      /** For HEADERS/PUSH_PROMISE whose field block is complete: the decoded fields. */
      fields?: HeaderField[];
    }
  | { kind: 'malformed'; type: number; flags: number; streamId: number; length: number; error: string }
  | { kind: 'closed' };

/** Read timeout for one expected event (ms): only a wrong server waits this long; "nothing else happened" is proven by a PING round trip. */
export const DEFAULT_TIMEOUT_MS = 3000;

let pingCounter = 0;

export class H2TestClient {
  /** The server's SETTINGS values as last received, by identifier (RFC 9113 §6.5.2). */
  readonly serverSettings = new Map<number, number>();
  /** Every event seen so far, for failure messages. */
  readonly log: Received[] = [];
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder({ valueEncoding: 'latin1' });
  closed = false;
  private readonly queue: Received[] = [];
  private waiter: (() => void) | null = null;
  private inbound: Buffer = Buffer.alloc(0);
  /** HEADERS/PUSH_PROMISE waiting for CONTINUATION: the event and the fragments so far. */
  private pendingBlock: { event: Received & { kind: 'frame' }; fragments: Uint8Array[] } | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.push({ kind: 'closed' });
    });
  }

  /** Opens a TCP (or TLS) connection; nothing is sent yet. */
  static async connect(target: Target): Promise<H2TestClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket = target.tls
        ? tls.connect({
            host: target.host,
            port: target.port,
            ALPNProtocols: ['h2'],
            servername: 'localhost',
            ...(target.ca ? { ca: target.ca } : { rejectUnauthorized: false }),
          })
        : net.connect({ host: target.host, port: target.port });
      const ready = target.tls ? 'secureConnect' : 'connect';
      s.once(ready, () => { s.off('error', reject); resolve(s); });
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    return new H2TestClient(socket);
  }

  /** The ALPN protocol the TLS handshake chose (false on cleartext). */
  get alpnProtocol(): string | false {
    return this.socket instanceof tls.TLSSocket ? this.socket.alpnProtocol ?? false : false;
  }

  /** Writes raw octets. */
  send(...chunks: Uint8Array[]): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  /** Encodes frames with the h123 codec and writes them in one piece. */
  sendFrames(...frames: Frame[]): void {
    this.send(Buffer.concat(frames.map(encodeFrame)));
  }

  /**
   * The usual start (RFC 9113 §3.4): preface + our SETTINGS; the server's SETTINGS must be its first
   * frame; we acknowledge it and wait for the acknowledgement of ours.
   */
  async handshake(settings: SettingsEntry[] = [[0x2, 0]]): Promise<void> {
    this.send(CONNECTION_PREFACE, encodeFrame({ type: 'SETTINGS', streamId: 0, ack: false, settings }));
    const first = await this.next();
    if (first.kind !== 'frame' || first.frame.type !== 'SETTINGS' || first.frame.ack) {
      throw new HandshakeError(`expected the server's SETTINGS as its first frame (RFC 9113 §3.4), got ${describe(first)}`);
    }
    this.sendFrames({ type: 'SETTINGS', streamId: 0, ack: true, settings: [] });
    const ack = await this.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
    if (ack.kind !== 'frame') throw new HandshakeError(`expected a SETTINGS ACK (RFC 9113 §6.5.3), got ${describe(ack)}`);
  }

  /** A field block for `fields` from this connection's HPACK encoder. */
  block(fields: Iterable<FieldInput>): Buffer {
    return this.encoder.encode(fields);
  }

  /**
   * The first event that matches (by default any), taken out of the queue; events that do not
   * match stay queued for later readers, so waiting for one stream does not lose another's
   * frames. A close always matches. TIMED_OUT after `timeoutMs`.
   */
  async next(timeoutMs = DEFAULT_TIMEOUT_MS, match: (e: Received) => boolean = () => true): Promise<Received | TimedOut> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.queue.findIndex((e) => e.kind === 'closed' || match(e));
      if (index >= 0) {
        const event = this.queue[index]!;
        // 'closed' stays queued: every later read sees it too.
        if (event.kind !== 'closed') this.queue.splice(index, 1);
        return event;
      }
      const left = deadline - Date.now();
      if (left <= 0) return TIMED_OUT;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.waiter = null; resolve(); }, left);
        this.waiter = () => { clearTimeout(timer); this.waiter = null; resolve(); };
      });
    }
  }

  /** The first event that matches, leaving the others queued (see next()). */
  waitFor(match: (e: Received) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Received | TimedOut> {
    return this.next(timeoutMs, match);
  }

  /** Sends a PING with fresh opaque data and returns that data (RFC 9113 §6.7). */
  ping(): Buffer {
    const data = Buffer.alloc(8);
    data.writeUInt32BE(0x68313233, 0); // "h123"
    data.writeUInt32BE(++pingCounter, 4);
    this.sendFrames({ type: 'PING', streamId: 0, ack: false, opaqueData: data });
    return data;
  }

  close(): void {
    this.socket.destroy();
  }

  private push(event: Received): void {
    this.log.push(event);
    this.queue.push(event);
    this.waiter?.();
  }

  private onData(chunk: Buffer): void {
    this.inbound = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    while (this.inbound.length >= FRAME_HEADER_LENGTH) {
      const length = this.inbound.readUIntBE(0, 3);
      if (this.inbound.length < FRAME_HEADER_LENGTH + length) break;
      const type = this.inbound[3]!;
      const flags = this.inbound[4]!;
      const streamId = this.inbound.readUInt32BE(5) & 0x7fff_ffff;
      const payload = this.inbound.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + length);
      this.inbound = this.inbound.subarray(FRAME_HEADER_LENGTH + length);
      this.onFrame(type, flags, streamId, length, payload);
    }
  }

  private onFrame(type: number, flags: number, streamId: number, length: number, payload: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame({ length, type, flags, streamId }, payload);
    } catch (error) {
      this.push({ kind: 'malformed', type, flags, streamId, length, error: (error as Error).message });
      return;
    }
    const event: Received & { kind: 'frame' } = { kind: 'frame', frame, type, flags, length };
    if (frame.type === 'SETTINGS' && !frame.ack) {
      for (const [id, value] of frame.settings) this.serverSettings.set(id, value);
      if (this.serverSettings.has(0x1)) this.encoder.setPeerMaxTableSize(this.serverSettings.get(0x1)!);
    }
    if (frame.type === 'HEADERS' || frame.type === 'PUSH_PROMISE') {
      if (!frame.endHeaders) {
        this.pendingBlock = { event, fragments: [frame.fragment] };
        return; // reported once its block is complete
      }
      event.fields = this.decodeBlock([frame.fragment]);
    } else if (frame.type === 'CONTINUATION' && this.pendingBlock) {
      this.pendingBlock.fragments.push(frame.fragment);
      if (!frame.endHeaders) return;
      const { event: head, fragments } = this.pendingBlock;
      this.pendingBlock = null;
      head.fields = this.decodeBlock(fragments);
      this.push(head);
      return;
    }
    this.push(event);
  }

  private decodeBlock(fragments: Uint8Array[]): HeaderField[] {
    try {
      return this.decoder.decode(Buffer.concat(fragments));
    } catch (error) {
      return [[':h123-decode-error', (error as Error).message]];
    }
  }
}

export interface TimedOut {
  kind: 'timeout';
}
export const TIMED_OUT: TimedOut = Object.freeze({ kind: 'timeout' });

/** The handshake itself went wrong: every case that needs it fails with this message. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

/** The RFC 9113 §7 name of an error code. */
export function errorName(code: number): string {
  return errorCodeName(code);
}

/** A one-line description of an event, for "expected X, got Y" messages. */
export function describe(event: Received | TimedOut): string {
  switch (event.kind) {
    case 'timeout':
      return 'nothing (timeout)';
    case 'closed':
      return 'connection closed';
    case 'malformed':
      return `a malformed frame type 0x${event.type.toString(16)} on stream ${event.streamId} (${event.error})`;
    case 'frame': {
      const f = event.frame;
      const where = `stream ${f.streamId}`;
      switch (f.type) {
        case 'GOAWAY':
          return `GOAWAY ${errorName(f.errorCode)} (last stream ${f.lastStreamId}${f.debugData.length ? `, "${Buffer.from(f.debugData).toString('latin1')}"` : ''})`;
        case 'RST_STREAM':
          return `RST_STREAM ${errorName(f.errorCode)} on ${where}`;
        case 'HEADERS': {
          const status = event.fields?.find(([n]) => n === ':status')?.[1];
          return `HEADERS on ${where}${status ? ` (:status ${status})` : ''}${f.endStream ? ' END_STREAM' : ''}`;
        }
        case 'DATA':
          return `DATA (${f.data.length} octets) on ${where}${f.endStream ? ' END_STREAM' : ''}`;
        case 'SETTINGS':
          return f.ack ? 'SETTINGS ACK' : `SETTINGS [${f.settings.map(([id, v]) => `${id}=${v}`).join(', ')}]`;
        case 'PING':
          return `PING${f.ack ? ' ACK' : ''} ${Buffer.from(f.opaqueData).toString('hex')}`;
        case 'WINDOW_UPDATE':
          return `WINDOW_UPDATE +${f.increment} on ${where}`;
        case 'UNKNOWN':
          return `frame type 0x${f.frameType.toString(16)} on ${where}`;
        default:
          return `${f.type} on ${where}`;
      }
    }
  }
}
