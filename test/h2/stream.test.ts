import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RECEIVE, RESET_SENT, Stream, StreamRegistry, StreamState, TRANSITIONS, transition, type StreamEvent } from '../../src/h2/stream.js';
import { ErrorCode, H2Error } from '../../src/h2/errors.js';

const S = StreamState;
const EVENTS: StreamEvent[] = ['send H', 'recv H', 'send ES', 'recv ES', 'send R', 'recv R', 'send PP', 'recv PP'];
type Outcome = StreamState | 'bug' | [code: number, scope: 'connection' | 'stream'];
const PROTO: Outcome = [ErrorCode.PROTOCOL_ERROR, 'connection'];
const CLOSED_ERR: Outcome = [ErrorCode.STREAM_CLOSED, 'stream'];

/** RFC 9113 §5.1, cell by cell: [send H, recv H, send ES, recv ES, send R, recv R, send PP, recv PP]. */
const EXPECTED: Record<StreamState, Outcome[]> = {
  [S.Idle]: [S.Open, S.Open, 'bug', PROTO, 'bug', PROTO, S.ReservedLocal, S.ReservedRemote],
  [S.ReservedLocal]: [S.HalfClosedRemote, PROTO, 'bug', PROTO, S.Closed, S.Closed, 'bug', PROTO],
  [S.ReservedRemote]: ['bug', S.HalfClosedLocal, 'bug', PROTO, S.Closed, S.Closed, 'bug', PROTO],
  [S.Open]: [S.Open, S.Open, S.HalfClosedLocal, S.HalfClosedRemote, S.Closed, S.Closed, 'bug', PROTO],
  [S.HalfClosedLocal]: ['bug', S.HalfClosedLocal, 'bug', S.Closed, S.Closed, S.Closed, 'bug', PROTO],
  [S.HalfClosedRemote]: [S.HalfClosedRemote, CLOSED_ERR, S.Closed, CLOSED_ERR, S.Closed, S.Closed, 'bug', PROTO],
  [S.Closed]: ['bug', CLOSED_ERR, 'bug', CLOSED_ERR, 'bug', S.Closed, 'bug', PROTO],
};

function outcome(state: StreamState, event: StreamEvent): Outcome {
  try {
    return transition(state, event, 1);
  } catch (error) {
    if (error instanceof H2Error) return [error.code, error.scope];
    return 'bug';
  }
}

describe('stream state transitions (RFC 9113 §5.1)', () => {
  const cells = Object.values(S).flatMap((state) => EVENTS.map((event, i) => [state, event, EXPECTED[state][i]!] as const));
  it.each(cells)('%s × %s', (state, event, expected) => {
    expect(outcome(state, event)).toEqual(expected);
  });

  it('the transition table has no entries beyond the diagram', () => {
    for (const state of Object.values(S)) {
      for (const event of Object.keys(TRANSITIONS[state])) expect(EVENTS).toContain(event);
    }
  });

  it('a request/response exchange, seen from the client and from the server', () => {
    const client = new Stream(1);
    const server = new Stream(1);
    // GET: HEADERS with END_STREAM is two events (§5.1).
    expect([client.apply('send H'), client.apply('send ES')]).toEqual([S.Open, S.HalfClosedLocal]);
    expect([server.apply('recv H'), server.apply('recv ES')]).toEqual([S.Open, S.HalfClosedRemote]);
    expect(server.apply('send H')).toBe(S.HalfClosedRemote); // 103 Early Hints
    expect(server.apply('send H')).toBe(S.HalfClosedRemote); // 200
    expect(client.apply('recv H')).toBe(S.HalfClosedLocal);
    expect(server.apply('send ES')).toBe(S.Closed);
    expect(client.apply('recv ES')).toBe(S.Closed);
  });

  it('a pushed response: reserved, then half-closed, then closed', () => {
    const server = new Stream(2);
    const client = new Stream(2);
    expect([server.apply('send PP'), server.apply('send H'), server.apply('send ES')]).toEqual([S.ReservedLocal, S.HalfClosedRemote, S.Closed]);
    expect([client.apply('recv PP'), client.apply('recv H'), client.apply('recv ES')]).toEqual([S.ReservedRemote, S.HalfClosedLocal, S.Closed]);
  });

  it('two endpoints stay in mirrored states: whatever one may send, the other accepts (§5.1)', () => {
    const MIRROR: Record<StreamState, StreamState> = {
      [S.Idle]: S.Idle, [S.Open]: S.Open, [S.Closed]: S.Closed,
      [S.ReservedLocal]: S.ReservedRemote, [S.ReservedRemote]: S.ReservedLocal,
      [S.HalfClosedLocal]: S.HalfClosedRemote, [S.HalfClosedRemote]: S.HalfClosedLocal,
    };
    const step = fc.record({ byA: fc.boolean(), kind: fc.constantFrom('H', 'ES', 'R', 'PP') });
    fc.assert(fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
      const a = new Stream(2);
      const b = new Stream(2);
      for (const { byA, kind } of steps) {
        const [sender, receiver] = byA ? [a, b] : [b, a];
        let sent: StreamState;
        try {
          sent = transition(sender.state, `send ${kind}` as StreamEvent, 2);
        } catch {
          continue; // not allowed to send this now
        }
        sender.state = sent;
        receiver.apply(`recv ${kind}` as StreamEvent);
        expect(b.state).toBe(MIRROR[a.state]);
      }
    }), { numRuns: 500 });
  });

  it('errors name the stream and the rule', () => {
    expect(() => transition(S.HalfClosedRemote, 'recv H', 7)).toThrow(expect.objectContaining({ streamId: 7, section: 'RFC 9113 §5.1', code: ErrorCode.STREAM_CLOSED }));
    expect(() => transition(S.Idle, 'recv R', 7)).toThrow(expect.objectContaining({ section: 'RFC 9113 §6.4' }));
  });
});

describe('received frames per state (RFC 9113 §5.1, §6.1, §6.4, §6.9)', () => {
  const cases: Array<[string, keyof typeof RECEIVE, keyof (typeof RECEIVE)['open'], 'accept' | 'ignore' | [number, string]]> = [
    ['DATA on idle', S.Idle, 'DATA', [ErrorCode.PROTOCOL_ERROR, 'connection']],
    ['WINDOW_UPDATE on idle', S.Idle, 'WINDOW_UPDATE', [ErrorCode.PROTOCOL_ERROR, 'connection']],
    ['PRIORITY on idle', S.Idle, 'PRIORITY', 'accept'],
    ['RST_STREAM on idle', S.Idle, 'RST_STREAM', [ErrorCode.PROTOCOL_ERROR, 'connection']],
    ['DATA on reserved (local)', S.ReservedLocal, 'DATA', [ErrorCode.PROTOCOL_ERROR, 'connection']],
    ['WINDOW_UPDATE on reserved (local)', S.ReservedLocal, 'WINDOW_UPDATE', 'accept'],
    ['WINDOW_UPDATE on reserved (remote)', S.ReservedRemote, 'WINDOW_UPDATE', [ErrorCode.PROTOCOL_ERROR, 'connection']],
    ['DATA on open', S.Open, 'DATA', 'accept'],
    ['DATA on half-closed (local)', S.HalfClosedLocal, 'DATA', 'accept'],
    ['DATA on half-closed (remote)', S.HalfClosedRemote, 'DATA', [ErrorCode.STREAM_CLOSED, 'stream']],
    ['WINDOW_UPDATE on half-closed (remote)', S.HalfClosedRemote, 'WINDOW_UPDATE', 'accept'],
    ['PUSH_PROMISE on half-closed (remote)', S.HalfClosedRemote, 'PUSH_PROMISE', [ErrorCode.PROTOCOL_ERROR, 'connection']],
    ['DATA on closed', S.Closed, 'DATA', [ErrorCode.STREAM_CLOSED, 'stream']],
    ['WINDOW_UPDATE on closed', S.Closed, 'WINDOW_UPDATE', 'ignore'],
    ['RST_STREAM on closed', S.Closed, 'RST_STREAM', 'ignore'],
    ['PRIORITY on closed', S.Closed, 'PRIORITY', 'accept'],
    ['DATA after we reset', RESET_SENT, 'DATA', 'ignore'],
    ['HEADERS after we reset', RESET_SENT, 'HEADERS', 'ignore'],
    ['PUSH_PROMISE after we reset', RESET_SENT, 'PUSH_PROMISE', 'ignore'],
  ];
  it.each(cases)('%s', (_name, row, type, expected) => {
    const verdict = RECEIVE[row][type];
    expect(typeof verdict === 'string' ? verdict : [verdict.code, verdict.scope]).toEqual(expected);
  });
});

describe('StreamRegistry: identifiers (RFC 9113 §5.1.1) and closed streams', () => {
  it('allocates odd identifiers for a client and even ones for a server, increasing', () => {
    const client = new StreamRegistry('client');
    expect([client.openLocal().id, client.openLocal().id, client.openLocal().id]).toEqual([1, 3, 5]);
    const server = new StreamRegistry('server');
    expect([server.openLocal('send PP').id, server.openLocal('send PP').id]).toEqual([2, 4]);
    expect(server.get(2)?.state).toBe(S.ReservedLocal);
  });

  it('reports exhaustion when the next identifier would pass 2^31-1', () => {
    const client = new StreamRegistry('client', { highestLocalId: 2 ** 31 - 3 });
    expect(client.openLocal().id).toBe(2 ** 31 - 1);
    expect(client.nextLocalId()).toBeNull();
    expect(() => client.openLocal()).toThrow(/exhausted/);
  });

  it('requires each new peer stream to be above all before it; skipped ones are closed', () => {
    const server = new StreamRegistry('server');
    server.openRemote(1);
    server.openRemote(7);
    expect(server.stateOf(3)).toBe(S.Closed);
    expect(server.stateOf(9)).toBe(S.Idle);
    expect(() => server.openRemote(5)).toThrow(expect.objectContaining({ code: ErrorCode.PROTOCOL_ERROR, scope: 'connection', section: 'RFC 9113 §5.1.1' }));
    expect(() => server.openRemote(7)).toThrow(H2Error);
    expect(server.openRemote(2 ** 31 - 1).id).toBe(2 ** 31 - 1);
  });

  it('refuses identifiers of the wrong parity, HEADERS on idle server streams, and pushes from clients', () => {
    const server = new StreamRegistry('server');
    expect(() => server.openRemote(2)).toThrow(expect.objectContaining({ section: 'RFC 9113 §5.1.1' }));
    expect(() => server.openRemote(3, 'recv PP')).toThrow(expect.objectContaining({ section: 'RFC 9113 §8.4' }));
    const client = new StreamRegistry('client');
    expect(() => client.openRemote(1)).toThrow(expect.objectContaining({ section: 'RFC 9113 §5.1.1' }));
    expect(() => client.openRemote(2)).toThrow(expect.objectContaining({ section: 'RFC 9113 §5.1' }));
    expect(client.openRemote(2, 'recv PP').state).toBe(S.ReservedRemote);
    expect(() => client.openRemote(2, 'recv PP')).toThrow(expect.objectContaining({ section: 'RFC 9113 §5.1.1' }));
  });

  it('discards late frames on a stream we reset, until the grace ends', () => {
    const server = new StreamRegistry('server');
    const stream = server.openRemote(1);
    server.apply(stream, 'send R');
    expect(server.stateOf(1)).toBe(S.Closed);
    expect(server.get(1)).toBeUndefined(); // closed streams are not kept
    expect(server.receive(1, 'DATA')).toBe('ignore');
    expect(server.receive(1, 'HEADERS')).toBe('ignore');
    server.forgetResets();
    expect(() => server.receive(1, 'DATA')).toThrow(expect.objectContaining({ code: ErrorCode.STREAM_CLOSED, scope: 'stream', streamId: 1 }));
  });

  it('tolerates WINDOW_UPDATE and RST_STREAM on a stream that closed normally, not DATA', () => {
    const server = new StreamRegistry('server');
    const stream = server.openRemote(1);
    server.apply(stream, 'recv ES');
    server.apply(stream, 'send H');
    server.apply(stream, 'send ES');
    expect(server.receive(1, 'WINDOW_UPDATE')).toBe('ignore');
    expect(server.receive(1, 'RST_STREAM')).toBe('ignore');
    expect(server.receive(1, 'PRIORITY')).toBe('accept');
    expect(() => server.receive(1, 'DATA')).toThrow(expect.objectContaining({ code: ErrorCode.STREAM_CLOSED }));
  });

  it('remembers only a bounded number of resets (rapid reset costs no lasting memory)', () => {
    const server = new StreamRegistry('server', { resetMemory: 2 });
    for (const id of [1, 3, 5]) server.apply(server.openRemote(id), 'send R');
    expect(() => server.receive(1, 'DATA')).toThrow(H2Error);
    expect(server.receive(3, 'DATA')).toBe('ignore');
    expect(server.receive(5, 'DATA')).toBe('ignore');
  });

  it('counts open and half-closed streams per initiator (§5.1.2), not reserved ones', () => {
    const server = new StreamRegistry('server');
    const a = server.openRemote(1);
    server.openRemote(3);
    server.openLocal('send PP');
    server.apply(a, 'recv ES');
    expect(server.activeCount('remote')).toBe(2);
    expect(server.activeCount('local')).toBe(0);
    server.apply(a, 'send R');
    expect(server.activeCount('remote')).toBe(1);
  });

  it('receive() judges idle streams by the table', () => {
    const server = new StreamRegistry('server');
    expect(server.receive(1, 'HEADERS')).toBe('accept');
    expect(() => server.receive(1, 'DATA')).toThrow(expect.objectContaining({ code: ErrorCode.PROTOCOL_ERROR, scope: 'connection' }));
    expect(() => server.receive(1, 'RST_STREAM')).toThrow(expect.objectContaining({ section: 'RFC 9113 §6.4' }));
  });
});
