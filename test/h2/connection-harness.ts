/**
 * In-memory HTTP/2 peers for the connection tests (no sockets): a raw-frame client that speaks to
 * an H2ServerConnection frame by frame, and a wired client↔server pair, both with a fake clock.
 */
import type { Handler } from '../../src/core/types.js';
import type { Limits } from '../../src/core/limits.js';
import { H2ServerConnection } from '../../src/h2/connection/server-session.js';
import { H2ClientConnection, type H2ClientOptions } from '../../src/h2/connection/client-session.js';
import { CONNECTION_PREFACE, FrameDecoder, encodeFrame, type Frame, type SettingsEntry } from '../../src/h2/frame.js';
import { HpackDecoder, HpackEncoder, type FieldInput, type HeaderField } from '../../src/h2/hpack.js';

/** Lets handlers, response flushes and wakes run (microtasks and immediates). */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export type ReceivedFrame = Frame & { fields?: HeaderField[] };

/** A client that writes raw frames to a server connection and decodes what comes back. */
export class RawClient {
  readonly server: H2ServerConnection;
  now = 1_000;
  readonly frames: ReceivedFrame[] = [];
  private readonly decoder = new FrameDecoder({ maxFrameSize: 16_777_215 });
  readonly encoder = new HpackEncoder();
  private readonly hpack = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  closedByServer = false;

  constructor(handler: Handler, limits?: Partial<Limits>) {
    this.server = new H2ServerConnection({ handler, scheme: 'https', remoteAddress: '127.0.0.1', remotePort: 1, limits, now: this.now });
  }

  /** The connection preface with our SETTINGS (RFC 9113 §3.4), and the ACK of the server's. */
  start(settings: SettingsEntry[] = []): this {
    this.bytes(Buffer.concat([CONNECTION_PREFACE, encodeFrame({ type: 'SETTINGS', streamId: 0, ack: false, settings })]));
    this.send({ type: 'SETTINGS', streamId: 0, ack: true, settings: [] });
    return this;
  }

  bytes(data: Uint8Array): void {
    this.server.receive(data, this.now);
  }

  send(...frames: Frame[]): void {
    this.bytes(Buffer.concat(frames.map((f) => encodeFrame(f))));
  }

  /** A HEADERS frame carrying `fields` encoded with this client's HPACK context. */
  headers(streamId: number, fields: FieldInput[], endStream = true): Frame {
    return { type: 'HEADERS', streamId, endStream, endHeaders: true, fragment: this.encoder.encode(fields) };
  }

  request(streamId: number, path: string, method = 'GET', extra: FieldInput[] = [], endStream = true): void {
    this.send(this.headers(streamId, [[':method', method], [':scheme', 'https'], [':authority', 'example.com'], [':path', path], ...extra], endStream));
  }

  /** Runs the server's pending work and collects the frames it wrote since the last call. */
  async read(rounds = 3): Promise<ReceivedFrame[]> {
    const got: ReceivedFrame[] = [];
    for (let i = 0; i < rounds; i++) {
      await settle(1);
      const out = this.server.transmit();
      for (const piece of out) this.decoder.push(piece);
      for (let frame = this.decoder.next(); frame; frame = this.decoder.next()) {
        const f: ReceivedFrame = frame;
        if ((frame.type === 'HEADERS' || frame.type === 'PUSH_PROMISE') && frame.endHeaders) f.fields = this.hpack.decode(frame.fragment);
        got.push(f);
      }
    }
    if (this.server.shouldClose) this.closedByServer = true;
    this.frames.push(...got);
    return got;
  }

  /** Advances the fake clock and fires the server's timer if due. */
  advance(ms: number): void {
    this.now += ms;
    const at = this.server.nextTimeout();
    if (at !== undefined && at <= this.now) this.server.handleTimeout(this.now);
  }
}

export const ofType = <T extends Frame['type']>(frames: ReceivedFrame[], type: T): Extract<ReceivedFrame, { type: T }>[] =>
  frames.filter((f) => f.type === type) as Extract<ReceivedFrame, { type: T }>[];

export function goawayOf(frames: ReceivedFrame[]): Extract<Frame, { type: 'GOAWAY' }> | undefined {
  return ofType(frames, 'GOAWAY').at(-1);
}

/** A client session and a server session joined by an in-memory link. */
export class Pair {
  readonly server: H2ServerConnection;
  readonly client: H2ClientConnection;
  now = 1_000;
  /** Octets sent each way, for assertions on framing. */
  readonly toServer: Uint8Array[] = [];
  readonly toClient: Uint8Array[] = [];

  constructor(handler: Handler, options: { limits?: Partial<Limits>; client?: H2ClientOptions } = {}) {
    this.server = new H2ServerConnection({ handler, scheme: 'https', remoteAddress: '127.0.0.1', remotePort: 1, limits: options.limits, now: this.now });
    this.client = new H2ClientConnection({ now: this.now, ...options.client });
  }

  /** Moves bytes both ways until both sides are quiet. */
  async pump(rounds = 50): Promise<void> {
    for (let quiet = 0, i = 0; quiet < 3 && i < rounds; i++) {
      await settle(1);
      const up = this.client.transmit();
      const down = this.server.transmit();
      for (const b of up) { this.toServer.push(b); this.server.receive(b, this.now); }
      for (const b of down) { this.toClient.push(b); this.client.receive(b, this.now); }
      quiet = up.length === 0 && down.length === 0 ? quiet + 1 : 0;
    }
  }

  /** Pumps until `promise` settles. */
  async until<T>(promise: Promise<T>, rounds = 200): Promise<T> {
    let done = false;
    void promise.then(() => { done = true; }, () => { done = true; });
    for (let i = 0; i < rounds && !done; i++) await this.pump(3);
    return promise;
  }
}

export async function readBody(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}
