/**
 * HTTP frames (RFC 9113 §4): the frame format (§4.1: unknown types, unknown flags and the reserved
 * bit are ignored), frame size (§4.2) and field section compression (§4.3: a field block is one
 * contiguous sequence of frames; a decoding error is a COMPRESSION_ERROR).
 */
import type { ConformanceCase } from '../case.js';
import { describe } from '../client.js';
import { check, expectAlive, expectConnectionError, expectResponse, expectStreamError } from '../expect.js';
import { E, F, T, frame, frameOfLength, plainBlock, priorityFields, settingsPayload, u32 } from '../frames.js';
import { sendRequest } from './common.js';

export const framingCases: ConformanceCase[] = [
  // §4.1
  {
    section: 'RFC 9113 §4.1',
    name: 'frame of unknown type 0xff on stream 0',
    expect: '"Implementations MUST ignore and discard frames of unknown types": no error',
    async run(c) {
      c.send(frame(0xff, 0, 0, Buffer.from('ignore me')));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §4.1',
    name: 'PING with undefined flags 0x16 set',
    expect: '"Unused flags MUST be ignored on receipt": a PING ACK with the same payload, its undefined flags not echoed as ACK',
    async run(c) {
      const data = Buffer.from('flags!!!');
      c.send(frame(T.PING, 0x16, 0, data));
      const ack = await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'PING' && e.frame.ack);
      check(ack.kind === 'frame' && ack.frame.type === 'PING' && Buffer.from(ack.frame.opaqueData).equals(data), `PING ACK ${data.toString('hex')}`, describe(ack));
    },
  },
  {
    section: 'RFC 9113 §4.1',
    name: 'HEADERS with undefined flags 0xd2 besides END_STREAM and END_HEADERS',
    expect: 'unused flags are ignored: a response',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | 0x02 | 0x10 | 0x40 | 0x80, 1, c.block(ctx.request())));
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §4.1',
    name: 'HEADERS with the reserved bit of the stream identifier set',
    expect: 'the bit "MUST remain unset (0x00) when sending and MUST be ignored when receiving": a response on stream 1',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 0x8000_0001, c.block(ctx.request())));
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §4.1',
    name: 'PING and SETTINGS with the reserved bit set on stream 0',
    expect: 'the reserved bit is ignored, so these are stream-0 frames: no error',
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 0x8000_0000), frame(T.PING, 0, 0x8000_0000, Buffer.alloc(8)));
      await expectAlive(c);
    },
  },

  // §4.2
  {
    section: 'RFC 9113 §4.2',
    name: 'DATA of 2^14 octets (the initial SETTINGS_MAX_FRAME_SIZE)',
    expect: '"All implementations MUST be capable of receiving and minimally processing frames up to 2^14 octets in length": the body arrives whole',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', path: '/echo', extra: [['content-length', '16384']], endStream: false });
      c.send(frameOfLength(T.DATA, F.END_STREAM, 1, 16384));
      const response = await expectResponse(c, 1);
      check(response.body.length === 16384, 'an echo of 16384 octets', `${response.body.length} octets`);
    },
  },
  {
    section: 'RFC 9113 §4.2',
    name: 'DATA longer than SETTINGS_MAX_FRAME_SIZE',
    expect: '"MUST send an error code of FRAME_SIZE_ERROR": RST_STREAM or GOAWAY with FRAME_SIZE_ERROR',
    async run(c, ctx) {
      const max = c.serverSettings.get(0x5) ?? 16384;
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frameOfLength(T.DATA, F.END_STREAM, 1, max + 1));
      const event = await c.waitFor((e) => e.kind === 'frame' && (e.frame.type === 'GOAWAY' || e.frame.type === 'RST_STREAM'));
      check(
        event.kind === 'frame' && (event.frame.type === 'GOAWAY' || event.frame.type === 'RST_STREAM') && event.frame.errorCode === E.FRAME_SIZE_ERROR,
        'RST_STREAM or GOAWAY FRAME_SIZE_ERROR',
        describe(event),
      );
    },
  },
  {
    section: 'RFC 9113 §4.2',
    name: 'HEADERS longer than SETTINGS_MAX_FRAME_SIZE',
    expect: 'a frame carrying a field block alters connection state: connection error FRAME_SIZE_ERROR',
    async run(c, ctx) {
      const max = c.serverSettings.get(0x5) ?? 16384;
      // Raw literals (no Huffman coding, no table), so the block is at least `max` octets long.
      const request = ctx.request().map(([n, v]) => [n, String(v)] as const);
      const block = plainBlock([...request, ['x-filler', 'a'.repeat(max)]]);
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, block));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.2',
    name: 'SETTINGS longer than SETTINGS_MAX_FRAME_SIZE',
    expect: 'a SETTINGS frame alters connection state: connection error FRAME_SIZE_ERROR',
    async run(c) {
      const max = c.serverSettings.get(0x5) ?? 16384;
      const entries = Math.floor(max / 6) + 1;
      c.send(frame(T.SETTINGS, 0, 0, settingsPayload(...Array.from({ length: entries }, (): [number, number] => [0x3, 100]))));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.2',
    name: 'padded DATA too short to hold the Pad Length field (length 0)',
    expect: '"too small to contain mandatory frame data": FRAME_SIZE_ERROR (RST_STREAM or GOAWAY)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.DATA, F.PADDED | F.END_STREAM, 1));
      const event = await c.waitFor((e) => e.kind === 'frame' && (e.frame.type === 'GOAWAY' || e.frame.type === 'RST_STREAM'));
      check(
        event.kind === 'frame' && (event.frame.type === 'GOAWAY' || event.frame.type === 'RST_STREAM') && event.frame.errorCode === E.FRAME_SIZE_ERROR,
        'RST_STREAM or GOAWAY FRAME_SIZE_ERROR',
        describe(event),
      );
    },
  },
  {
    section: 'RFC 9113 §4.2',
    name: 'HEADERS with the PRIORITY flag and only 3 octets',
    expect: 'too small for its mandatory fields, and it carries a field block: connection error FRAME_SIZE_ERROR',
    async run(c) {
      c.send(frame(T.HEADERS, F.PRIORITY | F.END_HEADERS | F.END_STREAM, 1, Buffer.from([0, 0, 0])));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },

  // §4.3
  {
    section: 'RFC 9113 §4.3',
    name: 'field block that cannot be decoded (a literal whose string runs past the block)',
    expect: '"A decoding error in a field block MUST be treated as a connection error of type COMPRESSION_ERROR"',
    async run(c) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, Buffer.from([0x82, 0x00, 0x7f])));
      await expectConnectionError(c, E.COMPRESSION_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'field block truncated in the middle of a prefixed integer',
    expect: 'a decoding error: connection error COMPRESSION_ERROR',
    async run(c) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, Buffer.from([0x82, 0xff, 0x80])));
      await expectConnectionError(c, E.COMPRESSION_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'PRIORITY on another stream between HEADERS and CONTINUATION',
    expect: '"no interleaved frames of any other type or from any other stream": connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(T.PRIORITY, 0, 3, priorityFields(0)));
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'HEADERS for another stream between HEADERS and CONTINUATION',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block));
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 3, c.block(ctx.request())));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'DATA on the same stream between HEADERS and CONTINUATION',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request('POST'));
      c.send(frame(T.HEADERS, 0, 1, block.subarray(0, 2)), frame(T.DATA, 0, 1, Buffer.from('x')));
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'PING between HEADERS and CONTINUATION',
    expect: 'a frame of another type inside a field block: connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(T.PING, 0, 0, Buffer.alloc(8)));
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'SETTINGS between HEADERS and CONTINUATION',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(T.SETTINGS, 0, 0));
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'WINDOW_UPDATE on stream 0 between HEADERS and CONTINUATION',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(T.WINDOW_UPDATE, 0, 0, u32(1000)));
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'RST_STREAM on the same stream between HEADERS and CONTINUATION',
    expect: 'connection error PROTOCOL_ERROR',
    async run(c, ctx) {
      const block = c.block(ctx.request());
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 2)), frame(T.RST_STREAM, 0, 1, u32(E.CANCEL)));
      c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(2)));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'field block split inside a string literal across HEADERS and two CONTINUATION frames',
    expect: 'the frames form one block decoded as a unit: a response',
    async run(c, ctx) {
      const block = c.block(ctx.request('GET', '/', [['x-long', 'v'.repeat(40)]]));
      const cut1 = block.length - 30;
      const cut2 = block.length - 10;
      c.send(
        frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, cut1)),
        frame(T.CONTINUATION, 0, 1, block.subarray(cut1, cut2)),
        frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(cut2)),
      );
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §4.3.1',
    name: 'second request refers to dynamic table entries added by the first',
    expect: 'one HPACK decoder context is used "for encoding and decoding all field blocks on a connection": both requests answered',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { extra: [['x-custom', 'kept in the table']] });
      await expectResponse(c, 1);
      sendRequest(c, ctx, 3, { extra: [['x-custom', 'kept in the table']] });
      await expectResponse(c, 3);
    },
  },
  {
    section: 'RFC 9113 §4.3',
    name: 'field block of a request the server refuses is still decoded (stream error, then a request using the table)',
    expect: 'the compression state is kept after a stream error: RST_STREAM PROTOCOL_ERROR on 1, then a response on 3',
    async run(c, ctx) {
      c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, c.block([...ctx.request(), ['x-custom', 'indexed'], ['connection', 'close']])));
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
      sendRequest(c, ctx, 3, { extra: [['x-custom', 'indexed']] });
      await expectResponse(c, 3);
    },
  },
];
