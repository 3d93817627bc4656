/**
 * Streams and multiplexing (RFC 9113 §5): which frames each stream state accepts (§5.1), stream
 * identifiers (§5.1.1), concurrency (§5.1.2), priority signals (§5.3.2), error handling (§5.4)
 * and extension frames (§5.5).
 *
 * RFC 9113 changed two rules of RFC 7540 that older checklists still test:
 * - §5.1 "closed": receiving a frame on a closed stream "MAY" be a connection error STREAM_CLOSED
 *   (RFC 7540 said MUST for frames after RST_STREAM). DATA is still covered by §6.1 ("MUST respond
 *   with a stream error of type STREAM_CLOSED"), and §5.1 allows the connection-level form.
 * - §5.3: the RFC 7540 priority scheme is deprecated; the self-dependency rule (RFC 7540 §5.3.1)
 *   is no longer in the text, so a self-dependent priority may be reset or ignored.
 */
import type { CaseContext, ConformanceCase } from '../case.js';
import { describe, type H2TestClient } from '../client.js';
import { check, expectAlive, expectClosed, expectClosedStreamRefused, expectConnectionError, expectResetOrAlive, expectResponse, expectStreamClosed, expectStreamError } from '../expect.js';
import { E, F, T, frame, frameOfLength, priorityFields, u32 } from '../frames.js';
import { halfClosedRemote, sendData, sendRequest } from './common.js';

/** A stream the client opened and then reset: "closed" after receiving RST_STREAM (§5.1). */
function resetStream(c: H2TestClient, ctx: CaseContext, id: number): void {
  sendRequest(c, ctx, id, { method: 'POST', endStream: false });
  c.send(frame(T.RST_STREAM, 0, id, u32(E.CANCEL)));
}

export const streamCases: ConformanceCase[] = [
  // §5.1 idle
  {
    section: 'RFC 9113 §5.1',
    name: 'idle: DATA',
    expect: '"Receiving any frame other than HEADERS or PRIORITY on a stream in this state MUST be treated as a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      sendData(c, 1, 'x');
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'idle: RST_STREAM',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c) {
      c.send(frame(T.RST_STREAM, 0, 1, u32(E.CANCEL)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'idle: WINDOW_UPDATE',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c) {
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(100)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'idle: CONTINUATION',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, c.block(ctx.request())));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'idle: PRIORITY',
    expect: '"PRIORITY can be sent and received in any stream state": no error',
    async run(c) {
      c.send(frame(T.PRIORITY, 0, 3, priorityFields(0)));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'idle: PRIORITY on stream 5, then HEADERS on the lower stream 3',
    expect: 'PRIORITY does not open stream 5 ("does not affect the state of any stream", §6.3): a response on 3',
    async run(c, ctx) {
      c.send(frame(T.PRIORITY, 0, 5, priorityFields(0)));
      sendRequest(c, ctx, 3);
      await expectResponse(c, 3);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'idle: HEADERS opens a stream',
    expect: 'a response on stream 1',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      const response = await expectResponse(c, 1);
      check(response.status === 200, ':status 200', String(response.status));
    },
  },

  // §5.1 open
  {
    section: 'RFC 9113 §5.1',
    name: 'open: DATA, WINDOW_UPDATE and PRIORITY on a request stream',
    expect: '"may be used by both peers to send frames of any type": the echoed body',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(1000)), frame(T.PRIORITY, 0, 1, priorityFields(0)));
      sendData(c, 1, 'abc', false);
      sendData(c, 1, 'def', true);
      const response = await expectResponse(c, 1);
      check(response.body.toString() === 'abcdef', 'body "abcdef"', JSON.stringify(response.body.toString()));
    },
  },

  // §5.1 half-closed (remote)
  {
    section: 'RFC 9113 §5.1',
    name: 'half-closed (remote): DATA',
    expect: '"other than WINDOW_UPDATE, PRIORITY, or RST_STREAM ... MUST respond with a stream error of type STREAM_CLOSED"',
    async run(c, ctx) {
      halfClosedRemote(c, ctx, 1);
      sendData(c, 1, 'late');
      await expectStreamError(c, 1, E.STREAM_CLOSED);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'half-closed (remote): HEADERS',
    expect: 'stream error STREAM_CLOSED',
    async run(c, ctx) {
      halfClosedRemote(c, ctx, 1);
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, c.block([['x-trailer', '1']])));
      await expectStreamError(c, 1, E.STREAM_CLOSED);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'half-closed (remote): CONTINUATION after a complete HEADERS',
    expect: '"A CONTINUATION frame MUST be preceded by a HEADERS ... without the END_HEADERS flag": connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      halfClosedRemote(c, ctx, 1);
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, c.block([['x-more', '1']])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'half-closed (remote): WINDOW_UPDATE',
    expect: 'allowed in this state: no error, the response still arrives',
    async run(c, ctx) {
      halfClosedRemote(c, ctx, 1, 200);
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(1000)));
      await expectAlive(c);
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'half-closed (remote): PRIORITY',
    expect: 'allowed in this state: no error, the response still arrives',
    async run(c, ctx) {
      halfClosedRemote(c, ctx, 1, 200);
      c.send(frame(T.PRIORITY, 0, 1, priorityFields(0, 200)));
      await expectAlive(c);
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'half-closed (remote): RST_STREAM',
    expect: 'allowed in this state; the stream closes and the connection stays usable',
    async run(c, ctx) {
      halfClosedRemote(c, ctx, 1);
      c.send(frame(T.RST_STREAM, 0, 1, u32(E.CANCEL)));
      await expectAlive(c, undefined, { allowResetOn: [1] });
    },
  },

  // §5.1 closed
  {
    section: 'RFC 9113 §6.1',
    name: 'closed (client sent RST_STREAM): DATA',
    expect: 'DATA on a stream not "open" or "half-closed (local)": STREAM_CLOSED, as RST_STREAM (§6.1) or GOAWAY (§5.1)',
    async run(c, ctx) {
      resetStream(c, ctx, 1);
      sendData(c, 1, 'after reset');
      await expectStreamClosed(c, 1);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'closed (client sent RST_STREAM): HEADERS',
    expect: 'a closed stream cannot be reopened: STREAM_CLOSED (RST_STREAM or GOAWAY) or GOAWAY PROTOCOL_ERROR (§5.1.1)',
    async run(c, ctx) {
      resetStream(c, ctx, 1);
      sendRequest(c, ctx, 1);
      await expectClosedStreamRefused(c, 1);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'closed (client sent RST_STREAM): CONTINUATION',
    expect: 'CONTINUATION without an open field block: connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      resetStream(c, ctx, 1);
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, c.block([['x-more', '1']])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.1',
    name: 'closed (both END_STREAM): DATA',
    expect: 'STREAM_CLOSED, as RST_STREAM (§6.1) or GOAWAY (§5.1)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      await expectResponse(c, 1);
      sendData(c, 1, 'late');
      await expectStreamClosed(c, 1);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'closed (both END_STREAM): HEADERS',
    expect: 'STREAM_CLOSED (RST_STREAM or GOAWAY) or GOAWAY PROTOCOL_ERROR; never a second response',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      await expectResponse(c, 1);
      sendRequest(c, ctx, 1);
      await expectClosedStreamRefused(c, 1);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'closed (both END_STREAM): CONTINUATION',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      await expectResponse(c, 1);
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, c.block([['x-more', '1']])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'closed: PRIORITY',
    expect: '"An endpoint MUST NOT send frames other than PRIORITY on a closed stream": PRIORITY is fine, no error',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      await expectResponse(c, 1);
      c.send(frame(T.PRIORITY, 0, 1, priorityFields(0)));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'closed: WINDOW_UPDATE right after the response ended',
    expect: '"might receive a WINDOW_UPDATE or RST_STREAM frame from its peer" after END_STREAM: no error',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      await expectResponse(c, 1);
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(1)));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §5.1',
    name: 'closed: RST_STREAM right after the response ended',
    expect: 'no error',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      await expectResponse(c, 1);
      c.send(frame(T.RST_STREAM, 0, 1, u32(E.CANCEL)));
      await expectAlive(c, undefined, { allowResetOn: [1] });
    },
  },

  // §5.1.1
  {
    section: 'RFC 9113 §5.1.1',
    name: 'HEADERS on an even-numbered stream',
    expect: '"Streams initiated by a client MUST use odd-numbered stream identifiers": connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 2);
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1.1',
    name: 'HEADERS on stream 3, then on stream 1',
    expect: '"MUST be numerically greater than all streams that the initiating endpoint has opened": connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 3, { path: '/wait?ms=500' });
      sendRequest(c, ctx, 1);
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1.1',
    name: 'stream identifiers may skip: HEADERS on 1, then on 7',
    expect: 'both answered',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      sendRequest(c, ctx, 7);
      await expectResponse(c, 1);
      await expectResponse(c, 7);
    },
  },
  {
    section: 'RFC 9113 §5.1.1',
    name: 'HEADERS on stream 3 after stream 5 was opened (3 was skipped, so closed)',
    expect: 'skipped identifiers are closed, and a new stream must be numbered above all earlier ones: GOAWAY PROTOCOL_ERROR (or STREAM_CLOSED, §5.1)',
    async run(c, ctx) {
      sendRequest(c, ctx, 5);
      await expectResponse(c, 5);
      sendRequest(c, ctx, 3);
      await expectConnectionError(c, E.PROTOCOL_ERROR, E.STREAM_CLOSED);
    },
  },

  // §5.1.2
  {
    section: 'RFC 9113 §5.1.2',
    name: 'one HEADERS more than SETTINGS_MAX_CONCURRENT_STREAMS',
    expect: '"MUST treat this as a stream error of type PROTOCOL_ERROR or REFUSED_STREAM" on the extra stream',
    async run(c, ctx) {
      const limit = c.serverSettings.get(0x3);
      check(limit !== undefined && limit < 10_000, 'SETTINGS_MAX_CONCURRENT_STREAMS advertised (DESIGN: safe defaults)', String(limit));
      const frames: Buffer[] = [];
      for (let i = 0; i <= limit; i++) frames.push(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 2 * i + 1, c.block(ctx.request('GET', '/wait?ms=2000'))));
      c.send(Buffer.concat(frames));
      await expectStreamError(c, 2 * limit + 1, E.REFUSED_STREAM, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.1.2',
    name: 'at the limit, a stream reset by the client stops counting',
    expect: 'only open and half-closed streams count toward the limit: a response on the next stream',
    async run(c, ctx) {
      const limit = c.serverSettings.get(0x3) ?? 100;
      const frames: Buffer[] = [];
      for (let i = 0; i < limit; i++) frames.push(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 2 * i + 1, c.block(ctx.request('GET', '/wait?ms=3000'))));
      c.send(Buffer.concat(frames));
      c.send(frame(T.RST_STREAM, 0, 1, u32(E.CANCEL)));
      await expectAlive(c, undefined, { allowResetOn: [1] });
      sendRequest(c, ctx, 2 * limit + 1);
      await expectResponse(c, 2 * limit + 1);
    },
  },

  // §5.3
  {
    section: 'RFC 9113 §5.3.2',
    name: 'HEADERS whose priority depends on its own stream',
    expect: 'RFC 9113 dropped RFC 7540 §5.3.1\'s self-dependency rule: RST_STREAM PROTOCOL_ERROR (RFC 7540) or a response, never a connection error',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PRIORITY, 1, Buffer.concat([priorityFields(1), c.block(ctx.request())])));
      const outcome = await expectResetOrAlive(c, 1, E.PROTOCOL_ERROR);
      if (outcome === 'alive') await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §5.3.2',
    name: 'PRIORITY whose dependency is its own stream',
    expect: 'RST_STREAM PROTOCOL_ERROR (RFC 7540 §5.3.1) or ignored; the connection stays usable',
    async run(c) {
      c.send(frame(T.PRIORITY, 0, 1, priorityFields(1)));
      await expectResetOrAlive(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.3.2',
    name: 'PRIORITY with weight 1 and with weight 256',
    expect: 'priority fields are parsed and may be ignored: no error',
    async run(c) {
      c.send(frame(T.PRIORITY, 0, 1, priorityFields(0, 1)), frame(T.PRIORITY, 0, 3, priorityFields(0, 256)));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §5.3.2',
    name: 'PRIORITY with an exclusive dependency on another stream',
    expect: 'no error',
    async run(c) {
      c.send(frame(T.PRIORITY, 0, 3, priorityFields(1, 16, true)));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §5.3.2',
    name: 'HEADERS with priority fields depending on an idle stream',
    expect: 'a response',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PRIORITY, 3, Buffer.concat([priorityFields(11, 32, true), c.block(ctx.request())])));
      await expectResponse(c, 3);
    },
  },

  // §5.4
  {
    section: 'RFC 9113 §5.4.1',
    name: 'connection error (PING of length 7): GOAWAY',
    expect: '"SHOULD first send a GOAWAY frame": GOAWAY FRAME_SIZE_ERROR',
    async run(c) {
      c.send(frameOfLength(T.PING, 0, 0, 7));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.4.1',
    name: 'connection error (PING of length 7): TCP close',
    expect: '"After sending the GOAWAY frame for an error condition, the endpoint MUST close the TCP connection"',
    async run(c) {
      c.send(frameOfLength(T.PING, 0, 0, 7));
      await expectClosed(c);
    },
  },
  {
    section: 'RFC 9113 §6.8',
    name: 'connection error after stream 3 was answered: GOAWAY names the last stream',
    expect: 'GOAWAY PROTOCOL_ERROR whose last stream identifier is 3 (the last stream processed)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      sendRequest(c, ctx, 3);
      await expectResponse(c, 1);
      await expectResponse(c, 3);
      c.send(frame(T.SETTINGS, 0, 3));
      const goaway = await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'GOAWAY');
      check(goaway.kind === 'frame' && goaway.frame.type === 'GOAWAY' && goaway.frame.errorCode === E.PROTOCOL_ERROR && goaway.frame.lastStreamId === 3,
        'GOAWAY PROTOCOL_ERROR (last stream 3)', describe(goaway));
    },
  },
  {
    section: 'RFC 9113 §5.4.2',
    name: 'stream error on one stream leaves another stream running',
    expect: 'RST_STREAM PROTOCOL_ERROR on 3; the response on 1 still completes',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { path: '/wait?ms=200' });
      sendRequest(c, ctx, 3, { extra: [['connection', 'keep-alive']] });
      await expectStreamError(c, 3, E.PROTOCOL_ERROR);
      await expectResponse(c, 1);
    },
  },

  // §5.5
  {
    section: 'RFC 9113 §5.5',
    name: 'unknown extension frame on an open stream',
    expect: '"Implementations MUST discard frames that have unknown or unsupported types": the response arrives',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(0xfe, 0xff, 1, Buffer.from('extension')));
      sendData(c, 1, 'ok');
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §5.5',
    name: 'unknown extension frame on an idle stream',
    expect: '"Receipt of frames for which the semantics are unknown cannot be treated as an error" (§5.1): no error',
    async run(c) {
      c.send(frame(0x2a, 0, 9, Buffer.from('idle')));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §5.5',
    name: 'unknown extension frame in the middle of a field block',
    expect: '"extension frames that appear in the middle of a field block ... MUST be treated as a connection error of type PROTOCOL_ERROR"',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(0xfe, 0, 1, Buffer.alloc(4)));
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
];
