/**
 * Error codes (RFC 9113 §7): "Unknown or unsupported error codes MUST NOT trigger any special
 * behavior", in GOAWAY and in RST_STREAM alike.
 */
import type { ConformanceCase } from '../case.js';
import { expectAlive, expectPingOrCleanClose } from '../expect.js';
import { E, T, frame, u32 } from '../frames.js';
import { sendRequest } from './common.js';

export const errorCodeCases: ConformanceCase[] = [
  {
    section: 'RFC 9113 §7',
    name: 'GOAWAY with the unknown error code 0xff',
    expect: 'no special behaviour: a PING answer, or a clean close as after any GOAWAY',
    async run(c) {
      c.send(frame(T.GOAWAY, 0, 0, u32(0, 0xff)));
      await expectPingOrCleanClose(c);
    },
  },
  {
    section: 'RFC 9113 §7',
    name: 'RST_STREAM with the unknown error code 0xff',
    expect: 'the stream closes as with any code; the connection stays usable',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.RST_STREAM, 0, 1, u32(0xff)));
      await expectAlive(c, undefined, { allowResetOn: [1] });
    },
  },
  {
    section: 'RFC 9113 §7',
    name: 'RST_STREAM with the largest error code 0xffffffff',
    expect: 'no error',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.RST_STREAM, 0, 1, u32(0xffff_ffff)));
      await expectAlive(c, undefined, { allowResetOn: [1] });
    },
  },
  {
    section: 'RFC 9113 §7',
    name: 'RST_STREAM with REFUSED_STREAM from the client, then a new request',
    expect: 'a known code with no meaning for a server: the next request is answered',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      c.send(frame(T.RST_STREAM, 0, 1, u32(E.REFUSED_STREAM)));
      sendRequest(c, ctx, 3);
      await expectAlive(c, undefined, { allowResetOn: [1] });
    },
  },
];
