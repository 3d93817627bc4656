/**
 * The HTTP/2 stream state machine (RFC 9113 §5.1) and stream identifiers (§5.1.1, §5.1.2).
 *
 * The rules are data: TRANSITIONS maps state × event to the next state, RECEIVE maps state × frame
 * type to what the connection does with a received frame. Errors carry the §5.1 rule they break.
 * The registry allocates and validates stream identifiers and remembers only live streams plus a
 * bounded set of streams we reset (whose late frames are tolerated), so a flood of short-lived
 * streams (rapid reset) costs no lasting memory.
 */
import { ErrorCode, H2Error, connectionError, streamError } from './errors.js';
import { MAX_STREAM_ID } from './frames/header.js';

/**
 * Stream states, RFC 9113 §5.1, Figure 2:
 *
 *                              +--------+
 *                      send PP |        | recv PP
 *                     ,--------+  idle  +--------.
 *                    /         |        |         \
 *                   v          +--------+          v
 *            +----------+          |           +----------+
 *            |          |          | send H /  |          |
 *     ,------+ reserved |          | recv H    | reserved +------.
 *     |      | (local)  |          |           | (remote) |      |
 *     |      +---+------+          v           +------+---+      |
 *     |          |             +--------+             |          |
 *     |          |     recv ES |        | send ES     |          |
 *     |   send H |     ,-------+  open  +-------.     | recv H   |
 *     |          |    /        |        |        \    |          |
 *     |          v   v         +---+----+         v   v          |
 *     |      +----------+          |           +----------+      |
 *     |      |   half-  |          |           |   half-  |      |
 *     |      |  closed  |          | send R /  |  closed  |      |
 *     |      | (remote) |          | recv R    | (local)  |      |
 *     |      +----+-----+          |           +-----+----+      |
 *     |           |                |                 |           |
 *     |           | send ES /      |       recv ES / |           |
 *     |           |  send R /      v        send R / |           |
 *     |           |  recv R    +--------+   recv R   |           |
 *     | send R /  `----------->|        |<-----------'  send R / |
 *     | recv R                 | closed |               recv R   |
 *     `----------------------->|        |<-----------------------'
 *                              +--------+
 *
 *   send: endpoint sends this frame       H: HEADERS (with its CONTINUATIONs)
 *   recv: endpoint receives this frame    ES: END_STREAM flag (an event of its own, after H or DATA)
 *   R: RST_STREAM                         PP: PUSH_PROMISE (transitions apply to the promised stream)
 */
export enum StreamState {
  Idle = 'idle',
  ReservedLocal = 'reserved (local)',
  ReservedRemote = 'reserved (remote)',
  Open = 'open',
  HalfClosedLocal = 'half-closed (local)',
  HalfClosedRemote = 'half-closed (remote)',
  Closed = 'closed',
}

export type StreamEvent = 'send H' | 'recv H' | 'send ES' | 'recv ES' | 'send R' | 'recv R' | 'send PP' | 'recv PP';

/** Why a received frame or event is refused: the error the connection must raise. */
export interface Refusal {
  code: number;
  scope: 'connection' | 'stream';
  section: string;
}

const PROTOCOL: Refusal = { code: ErrorCode.PROTOCOL_ERROR, scope: 'connection', section: 'RFC 9113 §5.1' };
const STREAM_CLOSED: Refusal = { code: ErrorCode.STREAM_CLOSED, scope: 'stream', section: 'RFC 9113 §5.1' };
const RST_ON_IDLE: Refusal = { code: ErrorCode.PROTOCOL_ERROR, scope: 'connection', section: 'RFC 9113 §6.4' };

/**
 * State × event → next state (RFC 9113 §5.1). A missing "send" event is one we must not send
 * (a bug in the caller); a received event maps to a Refusal when the RFC calls it an error.
 */
export const TRANSITIONS: Readonly<Record<StreamState, Partial<Record<StreamEvent, StreamState | Refusal>>>> = {
  [StreamState.Idle]: {
    'send H': StreamState.Open,
    'recv H': StreamState.Open,
    'send PP': StreamState.ReservedLocal,
    'recv PP': StreamState.ReservedRemote,
    'recv R': RST_ON_IDLE, // §6.4: RST_STREAM on an idle stream
  },
  [StreamState.ReservedLocal]: {
    'send H': StreamState.HalfClosedRemote,
    'send R': StreamState.Closed,
    'recv R': StreamState.Closed,
    'recv H': PROTOCOL, // only RST_STREAM, PRIORITY, WINDOW_UPDATE may be received
  },
  [StreamState.ReservedRemote]: {
    'recv H': StreamState.HalfClosedLocal,
    'send R': StreamState.Closed,
    'recv R': StreamState.Closed,
  },
  [StreamState.Open]: {
    'send H': StreamState.Open, // interim responses, or trailers before ES
    'recv H': StreamState.Open,
    'send ES': StreamState.HalfClosedLocal,
    'recv ES': StreamState.HalfClosedRemote,
    'send R': StreamState.Closed,
    'recv R': StreamState.Closed,
  },
  [StreamState.HalfClosedLocal]: {
    'recv H': StreamState.HalfClosedLocal,
    'recv ES': StreamState.Closed,
    'send R': StreamState.Closed,
    'recv R': StreamState.Closed,
  },
  [StreamState.HalfClosedRemote]: {
    'send H': StreamState.HalfClosedRemote,
    'send ES': StreamState.Closed,
    'send R': StreamState.Closed,
    'recv R': StreamState.Closed,
    'recv H': STREAM_CLOSED, // §5.1: frames other than WINDOW_UPDATE, PRIORITY, RST_STREAM
    'recv ES': STREAM_CLOSED,
  },
  [StreamState.Closed]: {
    'recv R': StreamState.Closed,
    'recv H': STREAM_CLOSED,
    'recv ES': STREAM_CLOSED,
  },
};

export type ReceivedFrameType = 'HEADERS' | 'DATA' | 'RST_STREAM' | 'WINDOW_UPDATE' | 'PRIORITY' | 'PUSH_PROMISE';

/** What to do with a received frame: process it, or minimally process and discard it (§5.1 "closed"). */
export type Verdict = 'accept' | 'ignore' | Refusal;

/** The closed state seen shortly after we sent RST_STREAM: the peer may not know yet. */
export const RESET_SENT = 'closed (after sending RST_STREAM)';
export type ReceiveRow = StreamState | typeof RESET_SENT;

/**
 * State × received frame type → verdict (RFC 9113 §5.1, §6.1, §6.4, §6.6, §6.9). PUSH_PROMISE is
 * judged on its associated stream. "ignore" still means: decode HEADERS/PUSH_PROMISE field blocks
 * (HPACK state) and count DATA against the connection window (§5.1, §6.9).
 */
export const RECEIVE: Readonly<Record<ReceiveRow, Record<ReceivedFrameType, Verdict>>> = {
  [StreamState.Idle]: {
    HEADERS: 'accept', DATA: PROTOCOL, RST_STREAM: RST_ON_IDLE, WINDOW_UPDATE: PROTOCOL, PRIORITY: 'accept', PUSH_PROMISE: PROTOCOL,
  },
  [StreamState.ReservedLocal]: {
    HEADERS: PROTOCOL, DATA: PROTOCOL, RST_STREAM: 'accept', WINDOW_UPDATE: 'accept', PRIORITY: 'accept', PUSH_PROMISE: PROTOCOL,
  },
  [StreamState.ReservedRemote]: {
    HEADERS: 'accept', DATA: PROTOCOL, RST_STREAM: 'accept', WINDOW_UPDATE: PROTOCOL, PRIORITY: 'accept', PUSH_PROMISE: PROTOCOL,
  },
  [StreamState.Open]: {
    HEADERS: 'accept', DATA: 'accept', RST_STREAM: 'accept', WINDOW_UPDATE: 'accept', PRIORITY: 'accept', PUSH_PROMISE: 'accept',
  },
  [StreamState.HalfClosedLocal]: {
    HEADERS: 'accept', DATA: 'accept', RST_STREAM: 'accept', WINDOW_UPDATE: 'ignore', PRIORITY: 'accept', PUSH_PROMISE: 'accept',
  },
  [StreamState.HalfClosedRemote]: {
    HEADERS: STREAM_CLOSED, DATA: STREAM_CLOSED, RST_STREAM: 'accept', WINDOW_UPDATE: 'accept', PRIORITY: 'accept',
    PUSH_PROMISE: { code: ErrorCode.PROTOCOL_ERROR, scope: 'connection', section: 'RFC 9113 §6.6' },
  },
  [StreamState.Closed]: {
    HEADERS: STREAM_CLOSED, DATA: STREAM_CLOSED, RST_STREAM: 'ignore', WINDOW_UPDATE: 'ignore', PRIORITY: 'accept',
    PUSH_PROMISE: { code: ErrorCode.PROTOCOL_ERROR, scope: 'connection', section: 'RFC 9113 §6.6' },
  },
  [RESET_SENT]: {
    HEADERS: 'ignore', DATA: 'ignore', RST_STREAM: 'ignore', WINDOW_UPDATE: 'ignore', PRIORITY: 'accept', PUSH_PROMISE: 'ignore',
  },
};

function refusalError(refusal: Refusal, streamId: number, what: string): H2Error {
  return refusal.scope === 'connection'
    ? connectionError(refusal.code, what, refusal.section)
    : streamError(refusal.code, streamId, what, refusal.section);
}

/** The state after `event`; throws H2Error for a refused received event, Error for a forbidden send. */
export function transition(state: StreamState, event: StreamEvent, streamId: number): StreamState {
  const next = TRANSITIONS[state][event];
  if (typeof next === 'string') return next;
  if (next) throw refusalError(next, streamId, `${event} on stream ${streamId} in state ${state}`);
  if (event.startsWith('send')) throw new Error(`cannot ${event} on stream ${streamId} in state ${state} (RFC 9113 §5.1)`);
  // Received events without an entry (e.g. ES on a reserved stream) break the §5.1 catch-all rule.
  throw connectionError(ErrorCode.PROTOCOL_ERROR, `${event} on stream ${streamId} in state ${state}`, 'RFC 9113 §5.1');
}

export class Stream {
  state: StreamState;
  constructor(readonly id: number, state: StreamState = StreamState.Idle) {
    this.state = state;
  }

  /** Applies one event (RFC 9113 §5.1); END_STREAM is applied after its H/DATA. */
  apply(event: StreamEvent): StreamState {
    this.state = transition(this.state, event, this.id);
    return this.state;
  }

  /** Open or half-closed: counts toward SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2). */
  get active(): boolean {
    return this.state === StreamState.Open || this.state === StreamState.HalfClosedLocal || this.state === StreamState.HalfClosedRemote;
  }
}

export type Role = 'client' | 'server';

export interface StreamRegistryOptions {
  /** How many streams we reset are remembered, to discard their late frames quietly (§5.1). */
  resetMemory?: number;
  /** Highest identifier we already used before this registry existed (0 if none). */
  highestLocalId?: number;
}

/** Live streams of one connection, identifier allocation (§5.1.1) and the receive rules per stream. */
export class StreamRegistry {
  private readonly streams = new Map<number, Stream>();
  /** Streams we reset, oldest first; bounded. */
  private readonly resetSent = new Set<number>();
  private readonly resetMemory: number;
  /** Highest identifier opened or reserved by each side (§5.1.1). */
  private highestLocal = 0;
  private highestRemote = 0;

  constructor(readonly role: Role, options: StreamRegistryOptions = {}) {
    this.resetMemory = options.resetMemory ?? 256;
    this.highestLocal = options.highestLocalId ?? 0;
  }

  /** Streams we initiate: odd for a client, even for a server (RFC 9113 §5.1.1). */
  isLocal(id: number): boolean {
    return (id % 2 === 1) === (this.role === 'client');
  }

  get(id: number): Stream | undefined {
    return this.streams.get(id);
  }

  /** The state of any identifier: unknown ones at or below the initiator's highest are closed (§5.1.1). */
  stateOf(id: number): StreamState {
    const stream = this.streams.get(id);
    if (stream) return stream.state;
    return id <= (this.isLocal(id) ? this.highestLocal : this.highestRemote) ? StreamState.Closed : StreamState.Idle;
  }

  /** Live streams in a state that counts toward the initiator's concurrency limit (§5.1.2). */
  activeCount(initiator: 'local' | 'remote'): number {
    let count = 0;
    for (const stream of this.streams.values()) {
      if (stream.active && this.isLocal(stream.id) === (initiator === 'local')) count++;
    }
    return count;
  }

  /** The identifier our next stream gets, or null when they are exhausted (§5.1.1: open a new connection). */
  nextLocalId(): number | null {
    const next = this.highestLocal === 0 ? (this.role === 'client' ? 1 : 2) : this.highestLocal + 2;
    return next > MAX_STREAM_ID ? null : next;
  }

  /** Opens our next stream by sending HEADERS (client), or reserves it by PUSH_PROMISE (server). */
  openLocal(event: 'send H' | 'send PP' = 'send H'): Stream {
    const id = this.nextLocalId();
    if (id === null) throw new Error('stream identifiers exhausted (RFC 9113 §5.1.1)');
    this.highestLocal = id;
    const stream = new Stream(id);
    stream.apply(event);
    this.streams.set(id, stream);
    return stream;
  }

  /**
   * What to do with a frame the peer sent on `id` (PUSH_PROMISE: on its associated stream).
   * Throws H2Error when the frame is refused. A HEADERS that opens a stream must then go through
   * `openRemote`. Field blocks are HPACK-decoded before acting on a stream-scope refusal, or the
   * compression context would be lost (RFC 9113 §4.3).
   */
  receive(id: number, type: ReceivedFrameType): 'accept' | 'ignore' {
    const state = this.stateOf(id);
    const row: ReceiveRow = state === StreamState.Closed && this.resetSent.has(id) ? RESET_SENT : state;
    const verdict = RECEIVE[row][type];
    if (typeof verdict === 'string') return verdict;
    throw refusalError(verdict, id, `${type} on stream ${id} in state ${row}`);
  }

  /**
   * The peer opens `id` with HEADERS (`recv H`) or promises it with PUSH_PROMISE (`recv PP`):
   * its parity and ordering must be right (RFC 9113 §5.1.1, §6.6, §8.4).
   */
  openRemote(id: number, event: 'recv H' | 'recv PP' = 'recv H'): Stream {
    if (this.isLocal(id) || id === 0) {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, `peer used stream ${id} of the wrong parity`, 'RFC 9113 §5.1.1');
    }
    if (event === 'recv PP' && this.role === 'server') {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, 'a client cannot push', 'RFC 9113 §8.4');
    }
    if (event === 'recv H' && this.role === 'client') {
      // Server-initiated streams are opened by PUSH_PROMISE only (§5.1 idle).
      throw connectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on idle server stream ${id}`, 'RFC 9113 §5.1');
    }
    if (id <= this.highestRemote) {
      throw connectionError(ErrorCode.PROTOCOL_ERROR, `stream ${id} not above ${this.highestRemote}`, 'RFC 9113 §5.1.1');
    }
    this.highestRemote = id;
    const stream = new Stream(id);
    stream.apply(event);
    this.streams.set(id, stream);
    return stream;
  }

  /** Applies an event to a live stream; a closed stream is forgotten (and remembered if we reset it). */
  apply(stream: Stream, event: StreamEvent): StreamState {
    const state = stream.apply(event);
    if (state === StreamState.Closed) {
      this.streams.delete(stream.id);
      if (event === 'send R') this.rememberReset(stream.id);
    }
    return state;
  }

  /**
   * Ends the grace for late frames on streams we reset: call it when the peer has shown it saw
   * the resets, e.g. on the ACK of a PING or SETTINGS sent after them (§5.1 "closed": no timers).
   */
  forgetResets(): void {
    this.resetSent.clear();
  }

  private rememberReset(id: number): void {
    this.resetSent.add(id);
    if (this.resetSent.size > this.resetMemory) {
      const oldest = this.resetSent.values().next().value!;
      this.resetSent.delete(oldest);
    }
  }
}
