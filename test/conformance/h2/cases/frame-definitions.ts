/**
 * Frame definitions (RFC 9113 §6.1–§6.10): each frame type's rules on stream identifiers, lengths,
 * padding and flags, SETTINGS values and synchronization (§6.5.2, §6.5.3), PING (§6.7), GOAWAY
 * (§6.8), flow control through WINDOW_UPDATE and SETTINGS_INITIAL_WINDOW_SIZE (§6.9), and
 * CONTINUATION sequencing (§6.10).
 */
import type { CaseContext, ConformanceCase } from '../case.js';
import { describe, type H2TestClient, type Received } from '../client.js';
import { check, ConformanceFailure, expectAlive, expectConnectionError, expectPingOrCleanClose, expectResponse, expectStreamClosed, expectStreamError } from '../expect.js';
import { E, F, S, T, frame, frameOfLength, padded, priorityFields, settingsPayload, u32 } from '../frames.js';
import { halfClosedRemote, sendData, sendRequest } from './common.js';

const isData = (streamId: number) => (e: Received): boolean => e.kind === 'frame' && e.frame.type === 'DATA' && e.frame.streamId === streamId;

/** The next DATA frame on `streamId` (skipping other frames); fails on anything ending the stream or connection. */
async function nextData(c: H2TestClient, streamId: number, timeoutMs?: number): Promise<Buffer> {
  const event = await c.waitFor((e) => isData(streamId)(e) || (e.kind === 'frame' && (e.frame.type === 'GOAWAY' || e.frame.type === 'RST_STREAM')), timeoutMs);
  if (event.kind === 'frame' && event.frame.type === 'DATA') return Buffer.from(event.frame.data);
  throw new ConformanceFailure(`DATA on stream ${streamId}`, describe(event));
}

/**
 * After a PING round trip, the DATA received on `streamId` in all adds up to `total` octets: the
 * server sent nothing beyond the flow-control window (RFC 9113 §6.9.1).
 */
async function expectDataTotal(c: H2TestClient, streamId: number, total: number, why: string): Promise<void> {
  await expectAlive(c, `no more DATA on stream ${streamId} than ${total} octets (${why})`);
  const sent = c.log.reduce((sum, e) => sum + (e.kind === 'frame' && e.frame.type === 'DATA' && e.frame.streamId === streamId ? e.frame.data.length : 0), 0);
  if (sent !== total) throw new ConformanceFailure(`${total} octets of DATA on stream ${streamId} (${why})`, `${sent} octets`);
}

/** A GET of `size` octets on stream 1 once SETTINGS_INITIAL_WINDOW_SIZE is `window`. */
async function requestWithWindow(c: H2TestClient, ctx: CaseContext, window: number, size: number): Promise<void> {
  c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, window])));
  await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
  sendRequest(c, ctx, 1, { path: `/bytes?size=${size}` });
}

/** Opens our receive windows to the maximum, so that the server's sending is limited by nothing else (RFC 9113 §6.9). */
async function openReceiveWindows(c: H2TestClient): Promise<void> {
  c.send(
    frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, 2 ** 31 - 1])),
    frame(T.WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1 - 65_535)),
  );
  await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
}

/**
 * Sends `total` octets of request body on `streamId`, never more than the server's flow-control
 * windows allow (RFC 9113 §6.9.1), waiting for its WINDOW_UPDATEs when they are used up.
 */
async function sendBodyWithinWindows(c: H2TestClient, streamId: number, total: number): Promise<void> {
  const maxFrame = c.serverSettings.get(S.MAX_FRAME_SIZE) ?? 16_384;
  let connectionWindow = 65_535; // §6.9.2: SETTINGS does not change the connection window
  let streamWindow = c.serverSettings.get(S.INITIAL_WINDOW_SIZE) ?? 65_535;
  const credit = (e: Received): boolean => e.kind === 'frame' && e.frame.type === 'WINDOW_UPDATE' && (e.frame.streamId === 0 || e.frame.streamId === streamId);
  for (const update of c.log.filter(credit)) {
    if (update.kind === 'frame' && update.frame.type === 'WINDOW_UPDATE' && update.frame.streamId === 0) connectionWindow += update.frame.increment;
  }
  let sent = 0;
  while (sent < total) {
    const size = Math.min(maxFrame, total - sent, connectionWindow, streamWindow);
    if (size > 0) {
      sendData(c, streamId, Buffer.alloc(size, 0x62), sent + size === total);
      sent += size;
      connectionWindow -= size;
      streamWindow -= size;
      continue;
    }
    const update = await c.waitFor((e) => credit(e) || (e.kind === 'frame' && (e.frame.type === 'GOAWAY' || e.frame.type === 'RST_STREAM')));
    if (update.kind !== 'frame' || update.frame.type !== 'WINDOW_UPDATE') {
      throw new ConformanceFailure(`a WINDOW_UPDATE after ${sent} of ${total} octets (the server must extend its windows for the body to arrive)`, describe(update));
    }
    if (update.frame.streamId === 0) connectionWindow += update.frame.increment;
    else streamWindow += update.frame.increment;
  }
}

export const frameDefinitionCases: ConformanceCase[] = [
  // §6.1 DATA
  {
    section: 'RFC 9113 §6.1',
    name: 'DATA on stream 0',
    expect: '"If a DATA frame is received whose Stream Identifier field is 0x00, the recipient MUST respond with a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      sendData(c, 0, 'x');
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.1',
    name: 'DATA on a stream in "half-closed (remote)"',
    expect: '"MUST respond with a stream error of type STREAM_CLOSED" (RST_STREAM, or GOAWAY by §5.1)',
    async run(c, ctx) {
      halfClosedRemote(c, ctx, 1);
      sendData(c, 1, 'x');
      await expectStreamClosed(c, 1);
    },
  },
  {
    section: 'RFC 9113 §6.1',
    name: 'DATA with pad length greater than the payload',
    expect: '"If the length of the padding is the length of the frame payload or greater, the recipient MUST treat this as a connection error of type PROTOCOL_ERROR"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.DATA, F.PADDED | F.END_STREAM, 1, Buffer.from([6, 0x61, 0x62, 0, 0])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.1',
    name: 'DATA with pad length equal to the payload length',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.DATA, F.PADDED | F.END_STREAM, 1, Buffer.from([4, 0, 0, 0])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.1',
    name: 'DATA with padding',
    expect: 'padding is removed: the echo is the data alone',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.DATA, F.PADDED | F.END_STREAM, 1, padded(Buffer.from('padded body'), 20)));
      const response = await expectResponse(c, 1);
      check(response.body.toString() === 'padded body', 'echo "padded body"', JSON.stringify(response.body.toString()));
    },
  },
  {
    section: 'RFC 9113 §6.1',
    name: 'request body in several DATA frames, the last one empty with END_STREAM',
    expect: 'the body is the concatenation: an echo of "abcdef"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      sendData(c, 1, 'ab', false);
      sendData(c, 1, 'cd', false);
      sendData(c, 1, 'ef', false);
      sendData(c, 1, '', true);
      const response = await expectResponse(c, 1);
      check(response.body.toString() === 'abcdef', 'echo "abcdef"', JSON.stringify(response.body.toString()));
    },
  },
  {
    section: 'RFC 9113 §6.1',
    name: 'padded DATA: the padding counts toward flow control',
    expect: 'padding is flow-controlled ("The entire DATA frame payload is included in flow control") but is not content: the echo is "xy"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.DATA, F.PADDED, 1, padded(Buffer.from('x'), 255)));
      sendData(c, 1, 'y', true);
      const response = await expectResponse(c, 1);
      check(response.body.toString() === 'xy', 'echo "xy"', JSON.stringify(response.body.toString()));
    },
  },

  // §6.2 HEADERS
  {
    section: 'RFC 9113 §6.2',
    name: 'HEADERS on stream 0',
    expect: '"If a HEADERS frame is received whose Stream Identifier field is 0x00, the recipient MUST respond with a connection error of type PROTOCOL_ERROR"',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 0, c.block(ctx.request())));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.2',
    name: 'HEADERS with pad length greater than the payload',
    expect: '"If the length of the padding is the length of the frame payload or greater, the recipient MUST treat this as a connection error of type PROTOCOL_ERROR"',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      const payload = Buffer.concat([Buffer.from([block.length + 10]), block]);
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PADDED, 1, payload));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.2',
    name: 'HEADERS with padding',
    expect: 'a response',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PADDED, 1, padded(c.block(ctx.request()), 16)));
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §6.2',
    name: 'HEADERS with padding and priority fields',
    expect: 'Pad Length, then the priority fields, then the fragment: a response',
    async run(c, ctx) {
      const body = Buffer.concat([priorityFields(0, 200), c.block(ctx.request())]);
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PADDED | F.PRIORITY, 1, padded(body, 8)));
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §6.2',
    name: 'HEADERS without END_HEADERS, then PRIORITY on the same stream',
    expect: '"A HEADERS frame without the END_HEADERS flag set MUST be followed by a CONTINUATION frame for the same stream": connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM, 1, c.block(ctx.request())), frame(T.PRIORITY, 0, 1, priorityFields(0)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.2',
    name: 'HEADERS without END_HEADERS, then DATA on the same stream',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, 0, 1, c.block(ctx.request('POST'))), frame(T.DATA, F.END_STREAM, 1, Buffer.from('x')));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },

  // §6.3 PRIORITY
  {
    section: 'RFC 9113 §6.3',
    name: 'PRIORITY on stream 0',
    expect: '"If a PRIORITY frame is received with a stream identifier of 0x00, the recipient MUST respond with a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.PRIORITY, 0, 0, priorityFields(1)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.3',
    name: 'PRIORITY of length 4 on an idle stream',
    expect: '"A PRIORITY frame with a length other than 5 octets MUST be treated as a stream error of type FRAME_SIZE_ERROR"',
    async run(c) {
      c.send(frame(T.PRIORITY, 0, 1, Buffer.alloc(4)));
      await expectStreamError(c, 1, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.3',
    name: 'PRIORITY of length 6 on an open stream',
    expect: 'stream error FRAME_SIZE_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.PRIORITY, 0, 1, Buffer.alloc(6)));
      await expectStreamError(c, 1, E.FRAME_SIZE_ERROR);
    },
  },

  // §6.4 RST_STREAM
  {
    section: 'RFC 9113 §6.4',
    name: 'RST_STREAM on stream 0',
    expect: '"If a RST_STREAM frame is received with a stream identifier of 0x00, the recipient MUST treat this as a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.RST_STREAM, 0, 0, u32(E.CANCEL)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.4',
    name: 'RST_STREAM on an idle stream',
    expect: '"If a RST_STREAM frame identifying an idle stream is received, the recipient MUST treat this as a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.RST_STREAM, 0, 5, u32(E.CANCEL)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.4',
    name: 'RST_STREAM of length 3',
    expect: '"A RST_STREAM frame with a length other than 4 octets MUST be treated as a connection error of type FRAME_SIZE_ERROR"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.RST_STREAM, 0, 1, Buffer.alloc(3)));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.4',
    name: 'RST_STREAM on an open stream',
    expect: 'the stream closes; the server sends nothing more on it but may answer RST_STREAM; no connection error',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.RST_STREAM, 0, 1, u32(E.CANCEL)));
      await expectAlive(c, undefined, { allowResetOn: [1] });
    },
  },

  // §6.5 SETTINGS
  {
    section: 'RFC 9113 §6.5',
    name: 'SETTINGS with ACK and a payload',
    expect: '"Receipt of a SETTINGS frame with the ACK flag set and a length field value other than 0 MUST be treated as a connection error of type FRAME_SIZE_ERROR"',
    async run(c) {
      c.send(frame(T.SETTINGS, F.ACK, 0, settingsPayload([S.MAX_CONCURRENT_STREAMS, 100])));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5',
    name: 'SETTINGS on stream 1',
    expect: '"If an endpoint receives a SETTINGS frame whose Stream Identifier field is anything other than 0x00, the endpoint MUST respond with a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 1, settingsPayload([S.MAX_CONCURRENT_STREAMS, 100])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5',
    name: 'SETTINGS of length 3',
    expect: '"A SETTINGS frame with a length other than a multiple of 6 octets MUST be treated as a connection error of type FRAME_SIZE_ERROR"',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, Buffer.from([0, 3, 0])));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5',
    name: 'SETTINGS of length 8',
    expect: 'connection error FRAME_SIZE_ERROR',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, Buffer.concat([settingsPayload([S.MAX_CONCURRENT_STREAMS, 100]), Buffer.alloc(2)])));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5',
    name: 'empty SETTINGS',
    expect: 'acknowledged with SETTINGS ACK',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0));
      const ack = await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
      check(ack.kind === 'frame', 'SETTINGS ACK', describe(ack));
    },
  },

  // §6.5.2
  {
    section: 'RFC 9113 §6.5.2',
    name: 'SETTINGS_ENABLE_PUSH = 2',
    expect: '"Any value other than 0 or 1 MUST be treated as a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.ENABLE_PUSH, 2])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5.2',
    name: 'SETTINGS_INITIAL_WINDOW_SIZE = 2^31',
    expect: '"Values above the maximum flow-control window size of 2^31-1 MUST be treated as a connection error of type FLOW_CONTROL_ERROR"',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, 2 ** 31])));
      await expectConnectionError(c, E.FLOW_CONTROL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5.2',
    name: 'SETTINGS_MAX_FRAME_SIZE = 2^14 - 1',
    expect: '"Values outside this range MUST be treated as a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.MAX_FRAME_SIZE, 16383])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5.2',
    name: 'SETTINGS_MAX_FRAME_SIZE = 2^24',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.MAX_FRAME_SIZE, 2 ** 24])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.5.2',
    name: 'SETTINGS with an unknown identifier 0xff',
    expect: '"An endpoint that receives a SETTINGS frame with any unknown or unsupported identifier MUST ignore that setting": SETTINGS ACK',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([0xff, 1234])));
      const ack = await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
      check(ack.kind === 'frame', 'SETTINGS ACK', describe(ack));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §6.5.2',
    name: 'SETTINGS_MAX_FRAME_SIZE = 2^24 - 1 (the largest allowed)',
    expect: 'accepted: SETTINGS ACK and no error',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.MAX_FRAME_SIZE, 2 ** 24 - 1])));
      await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §6.5.2',
    name: 'SETTINGS_HEADER_TABLE_SIZE lowered to 0 between two requests',
    expect: 'the server encoder keeps to 0 octets once it acknowledged; if its table held entries, the next field block "MUST start" with a size update (§4.3.1, RFC 7541 §4.2)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      await expectResponse(c, 1);
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.HEADER_TABLE_SIZE, 0])));
      await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
      const tableWasUsed = c.decoder.tableSize > 0;
      // With entries in the table, the decoder now insists on a leading size update to 0.
      if (tableWasUsed) c.decoder.setMaxTableSize(0);
      sendRequest(c, ctx, 3);
      const response = await expectResponse(c, 3);
      const error = response.headers.find(([n]) => n === ':h123-decode-error');
      check(!error, 'a field block valid under a 0-octet table', error?.[1] ?? '');
      check(c.decoder.tableSize === 0, 'no entries added to the dynamic table', `${c.decoder.tableSize} octets in it`);
    },
  },

  // §6.5.3
  {
    section: 'RFC 9113 §6.5.3',
    name: 'SETTINGS_INITIAL_WINDOW_SIZE twice in one frame (100, then 1)',
    expect: '"Values in the SETTINGS frame MUST be processed in the order they appear": the last value, 1, is in force, so 1 octet of DATA',
    async run(c, ctx) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, 100], [S.INITIAL_WINDOW_SIZE, 1])));
      await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
      sendRequest(c, ctx, 1, { path: '/bytes?size=50' });
      const data = await nextData(c, 1);
      check(data.length === 1, 'DATA of 1 octet', `DATA of ${data.length} octets`);
    },
  },
  {
    section: 'RFC 9113 §6.5.3',
    name: 'SETTINGS without ACK',
    expect: '"the recipient MUST immediately emit a SETTINGS frame with the ACK flag set"',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.MAX_CONCURRENT_STREAMS, 50])));
      const ack = await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack, 1000);
      check(ack.kind === 'frame', 'SETTINGS ACK within 1 s', describe(ack));
    },
  },

  // §6.6 / §8.4
  {
    section: 'RFC 9113 §8.4',
    name: 'PUSH_PROMISE from the client',
    expect: '"A client cannot push. Thus, servers MUST treat the receipt of a PUSH_PROMISE frame as a connection error of type PROTOCOL_ERROR"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.PUSH_PROMISE, F.END_HEADERS, 1, Buffer.concat([u32(2), c.block(ctx.request())])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.6',
    name: 'PUSH_PROMISE from the client on stream 0',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      c.send(frame(T.PUSH_PROMISE, F.END_HEADERS, 0, Buffer.concat([u32(2), c.block(ctx.request())])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },

  // §6.7 PING
  {
    section: 'RFC 9113 §6.7',
    name: 'PING',
    expect: '"Receivers of a PING frame that does not include an ACK flag MUST send a PING frame with the ACK flag set in response, with an identical frame payload"',
    async run(c) {
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §6.7',
    name: 'PING with ACK',
    expect: '"An endpoint MUST NOT respond to PING frames containing this flag"',
    async run(c) {
      const unsolicited = Buffer.from('unsolic!');
      c.send(frame(T.PING, F.ACK, 0, unsolicited));
      const seen = await expectAlive(c);
      const echoed = seen.find((e) => e.kind === 'frame' && e.frame.type === 'PING' && Buffer.from(e.frame.opaqueData).equals(unsolicited));
      check(!echoed, 'no answer to the PING ACK', echoed ? describe(echoed) : '');
    },
  },
  {
    section: 'RFC 9113 §6.7',
    name: 'PING on stream 1',
    expect: '"If a PING frame is received with a Stream Identifier field value other than 0x00, the recipient MUST respond with a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.PING, 0, 1, Buffer.alloc(8)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.7',
    name: 'PING of length 6',
    expect: '"Receipt of a PING frame with a length field value other than 8 MUST be treated as a connection error of type FRAME_SIZE_ERROR"',
    async run(c) {
      c.send(frameOfLength(T.PING, 0, 0, 6));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.7',
    name: 'PING of length 9',
    expect: 'connection error FRAME_SIZE_ERROR',
    async run(c) {
      c.send(frameOfLength(T.PING, 0, 0, 9));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },

  // §6.8 GOAWAY
  {
    section: 'RFC 9113 §6.8',
    name: 'GOAWAY on stream 1',
    expect: '"An endpoint MUST treat a GOAWAY frame with a stream identifier other than 0x00 as a connection error of type PROTOCOL_ERROR"',
    async run(c) {
      c.send(frame(T.GOAWAY, 0, 1, u32(0, E.NO_ERROR)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.8',
    name: 'GOAWAY of length 5',
    expect: 'too short for its fields (§4.2), on stream 0: connection error FRAME_SIZE_ERROR',
    async run(c) {
      c.send(frameOfLength(T.GOAWAY, 0, 0, 5));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.8',
    name: 'GOAWAY NO_ERROR from the client',
    expect: 'no error in return: a PING answer, or a clean close (at most a GOAWAY NO_ERROR)',
    async run(c) {
      c.send(frame(T.GOAWAY, 0, 0, u32(0, E.NO_ERROR)));
      await expectPingOrCleanClose(c);
    },
  },
  {
    section: 'RFC 9113 §6.8',
    name: 'GOAWAY from the client while a request is in progress',
    expect: '"Activity on streams numbered lower than or equal to the last stream identifier might still complete successfully": the response arrives',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { path: '/wait?ms=200' });
      c.send(frame(T.GOAWAY, 0, 0, u32(0, E.NO_ERROR)));
      await expectResponse(c, 1);
    },
  },

  // §6.9 WINDOW_UPDATE
  {
    section: 'RFC 9113 §6.9',
    name: 'WINDOW_UPDATE with increment 0 on stream 0',
    expect: '"errors on the connection flow-control window MUST be treated as a connection error": GOAWAY PROTOCOL_ERROR',
    async run(c) {
      c.send(frame(T.WINDOW_UPDATE, 0, 0, u32(0)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.9',
    name: 'WINDOW_UPDATE with increment 0 on an open stream',
    expect: '"A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control window increment of 0 as a stream error of type PROTOCOL_ERROR"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(0)));
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.9',
    name: 'WINDOW_UPDATE of length 3',
    expect: '"A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as a connection error of type FRAME_SIZE_ERROR"',
    async run(c) {
      c.send(frameOfLength(T.WINDOW_UPDATE, 0, 0, 3));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.9',
    name: 'WINDOW_UPDATE on stream 0',
    expect: 'no error',
    async run(c) {
      c.send(frame(T.WINDOW_UPDATE, 0, 0, u32(1000)));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §6.9',
    name: 'WINDOW_UPDATE with the reserved bit set in the increment',
    expect: 'the reserved bit is ignored ("MUST be ignored when receiving"): no error',
    async run(c) {
      c.send(frame(T.WINDOW_UPDATE, 0, 0, u32(0x8000_0000 | 1000)));
      await expectAlive(c);
    },
  },

  // §6.9.1
  {
    section: 'RFC 9113 §6.9.1',
    name: 'SETTINGS_INITIAL_WINDOW_SIZE = 1, then a GET of 50 octets',
    expect: '"The sender MUST NOT send a flow-controlled frame with a length that exceeds the space available": DATA of 1 octet, then nothing more',
    async run(c, ctx) {
      await requestWithWindow(c, ctx, 1, 50);
      const data = await nextData(c, 1);
      check(data.length === 1, 'DATA of 1 octet', `DATA of ${data.length} octets`);
      await expectDataTotal(c, 1, 1, 'the stream window is 1 octet');
    },
  },
  {
    section: 'RFC 9113 §6.9.1',
    name: 'WINDOW_UPDATEs that raise the connection window above 2^31-1',
    expect: '"a GOAWAY frame with an error code of FLOW_CONTROL_ERROR is sent"',
    async run(c) {
      c.send(frame(T.WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1)), frame(T.WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1)));
      await expectConnectionError(c, E.FLOW_CONTROL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.9.1',
    name: 'WINDOW_UPDATEs that raise a stream window above 2^31-1',
    expect: '"For streams, the sender sends a RST_STREAM with an error code of FLOW_CONTROL_ERROR"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(2 ** 31 - 1)), frame(T.WINDOW_UPDATE, 0, 1, u32(2 ** 31 - 1)));
      await expectStreamError(c, 1, E.FLOW_CONTROL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.9.1',
    name: 'window of 1 octet, then a stream WINDOW_UPDATE of 49',
    expect: 'the server sends exactly the credited 49 octets more',
    async run(c, ctx) {
      await requestWithWindow(c, ctx, 1, 50);
      const first = await nextData(c, 1);
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(49)));
      let total = first.length;
      while (total < 50) total += (await nextData(c, 1)).length;
      check(total === 50, '50 octets in all', `${total} octets`);
    },
  },

  {
    section: 'RFC 9113 §6.9',
    name: 'request body of 200 000 octets sent within the server\'s windows',
    expect: 'the server extends its receive windows with WINDOW_UPDATE as it reads, and the echo is complete',
    async run(c, ctx) {
      await openReceiveWindows(c);
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false, extra: [['content-length', '200000']] });
      await sendBodyWithinWindows(c, 1, 200_000);
      const response = await expectResponse(c, 1);
      check(response.body.length === 200_000, 'an echo of 200000 octets', `${response.body.length} octets`);
    },
  },
  {
    section: 'RFC 9113 §4.1',
    name: 'response of 100 000 octets with the default SETTINGS_MAX_FRAME_SIZE',
    expect: 'Length "Values greater than 2^14 (16,384) MUST NOT be sent unless the receiver has set a larger value for SETTINGS_MAX_FRAME_SIZE": no DATA frame above 16384 octets',
    async run(c, ctx) {
      await openReceiveWindows(c);
      sendRequest(c, ctx, 1, { path: '/bytes?size=100000' });
      const response = await expectResponse(c, 1);
      check(response.body.length === 100_000, '100000 octets', `${response.body.length} octets`);
      const largest = Math.max(...response.dataFrames);
      check(largest <= 16_384, 'DATA frames of at most 16384 octets', `a DATA frame of ${largest} octets`);
    },
  },

  // §6.9.2
  {
    section: 'RFC 9113 §6.9.2',
    name: 'SETTINGS_INITIAL_WINDOW_SIZE raised from 1 to 10 while a response waits',
    expect: '"a receiver MUST adjust the size of all stream flow-control windows that it maintains by the difference": 9 more octets',
    async run(c, ctx) {
      await requestWithWindow(c, ctx, 1, 50);
      await nextData(c, 1);
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, 10])));
      let total = 0;
      while (total < 9) total += (await nextData(c, 1)).length;
      check(total === 9, '9 more octets', `${total} octets`);
      await expectDataTotal(c, 1, 10, 'the window is 10 octets');
    },
  },
  {
    section: 'RFC 9113 §6.9.2',
    name: 'SETTINGS_INITIAL_WINDOW_SIZE lowered so that a stream window goes negative',
    expect: 'the window goes negative; the server "MUST NOT send new flow-controlled frames until it receives WINDOW_UPDATE frames that cause the flow-control window to become positive"',
    async run(c, ctx) {
      await requestWithWindow(c, ctx, 5, 50);
      let total = 0;
      while (total < 5) total += (await nextData(c, 1)).length;
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, 0]))); // window 5 - 5 + (0 - 5) = -5
      await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(5))); // back to 0
      await expectDataTotal(c, 1, 5, 'after SETTINGS the window is 0 - 5 = -5, and +5 brings it to 0');
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(3)));
      await nextData(c, 1);
      await expectDataTotal(c, 1, 8, 'the window was opened by 3 more octets');
    },
  },
  {
    section: 'RFC 9113 §6.9.2',
    name: 'SETTINGS_INITIAL_WINDOW_SIZE = 2^32 - 1',
    expect: 'above 2^31-1: connection error FLOW_CONTROL_ERROR',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, 2 ** 32 - 1])));
      await expectConnectionError(c, E.FLOW_CONTROL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.9.2',
    name: 'SETTINGS_INITIAL_WINDOW_SIZE change that pushes an open stream window above 2^31-1',
    expect: '"An endpoint MUST treat a change to SETTINGS_INITIAL_WINDOW_SIZE that causes any flow-control window to exceed the maximum size as a connection error of type FLOW_CONTROL_ERROR"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(2 ** 31 - 1 - 65_535))); // stream window now 2^31-1
      await expectAlive(c);
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload([S.INITIAL_WINDOW_SIZE, 65_536])));
      await expectConnectionError(c, E.FLOW_CONTROL_ERROR);
    },
  },

  // §6.10 CONTINUATION
  {
    section: 'RFC 9113 §6.10',
    name: 'HEADERS followed by one CONTINUATION',
    expect: 'a response',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 3)), frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(3)));
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'HEADERS followed by several CONTINUATION frames, one of them empty',
    expect: '"Any number of CONTINUATION frames can be sent": a response',
    async run(c, ctx) {
      const block = c.block(ctx.request('GET', '/', [['x-a', 'aaaa'], ['x-b', 'bbbb']]));
      const frames = [frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 1))];
      for (let i = 1; i < block.length; i += 4) frames.push(frame(T.CONTINUATION, 0, 1, block.subarray(i, i + 4)));
      frames.push(frame(T.CONTINUATION, 0, 1), frame(T.CONTINUATION, F.END_HEADERS, 1));
      c.send(...frames);
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'CONTINUATION followed by a frame other than CONTINUATION',
    expect: 'the field block is still open: connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request('POST'));
      c.send(frame(T.HEADERS, 0, 1, block.subarray(0, 2)), frame(T.CONTINUATION, 0, 1, block.subarray(2)), frame(T.DATA, F.END_STREAM, 1, Buffer.from('x')));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'CONTINUATION on stream 0',
    expect: '"If a CONTINUATION frame is received with a Stream Identifier field of 0x00, the recipient MUST respond with a connection error of type PROTOCOL_ERROR"',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(T.CONTINUATION, F.END_HEADERS, 0, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'CONTINUATION after a HEADERS that had END_HEADERS',
    expect: '"A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE or CONTINUATION frame without the END_HEADERS flag set": connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_HEADERS, 1, c.block(ctx.request('POST'))), frame(T.CONTINUATION, F.END_HEADERS, 1, c.block([['x-a', '1']])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'CONTINUATION after a CONTINUATION that had END_HEADERS',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request('POST'));
      c.send(
        frame(T.HEADERS, 0, 1, block.subarray(0, 2)),
        frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)),
        frame(T.CONTINUATION, F.END_HEADERS, 1, c.block([['x-a', '1']])),
      );
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'CONTINUATION after a DATA frame',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      sendData(c, 1, 'x', false);
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, c.block([['x-a', '1']])));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'CONTINUATION on another stream than the open field block',
    expect: '"followed by a CONTINUATION frame for the same stream": connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(T.CONTINUATION, F.END_HEADERS, 3, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §6.10',
    name: 'HEADERS with END_STREAM but not END_HEADERS, then CONTINUATION',
    expect: '"a HEADERS frame with the END_STREAM flag set can be followed by CONTINUATION frames" (§8.1): a response',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 1)), frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(1)));
      await expectResponse(c, 1);
    },
  },
];
