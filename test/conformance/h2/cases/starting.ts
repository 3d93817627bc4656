/**
 * Starting HTTP/2 (RFC 9113 §3): the connection preface (§3.4), h2 over TLS chosen by ALPN (§3.2,
 * §9.2) and a few exchanges repeated over TLS, since the TLS driver is a separate path into the
 * same connection code.
 */
import tls from 'node:tls';
import { CONNECTION_PREFACE } from '../../../../src/h2/frame.js';
import type { ConformanceCase } from '../case.js';
import { describe } from '../client.js';
import { check, ConformanceFailure, expectAlive, expectClosed, expectConnectionError, expectResponse, expectStreamError } from '../expect.js';
import { E, F, T, frame, frameOfLength, settingsPayload } from '../frames.js';
import { sendHeaders, sendRequest } from './common.js';

export const startingCases: ConformanceCase[] = [
  {
    section: 'RFC 9113 §3.4',
    name: 'client connection preface and SETTINGS',
    expect: "the server's first frame is a SETTINGS frame (the server connection preface), then it acknowledges ours",
    handshake: false,
    async run(c) {
      await c.handshake(); // asserts both
    },
  },
  {
    section: 'RFC 9113 §3.4',
    name: 'client preface split into 1-octet writes',
    expect: 'the preface is recognised however TCP splits it; SETTINGS follows',
    handshake: false,
    async run(c) {
      for (const octet of CONNECTION_PREFACE) {
        c.send(Buffer.from([octet]));
        await new Promise((r) => setImmediate(r));
      }
      c.send(frame(T.SETTINGS, 0, 0));
      const first = await c.next();
      check(first.kind === 'frame' && first.frame.type === 'SETTINGS' && !first.frame.ack, 'SETTINGS as the first frame', describe(first));
      c.send(frame(T.SETTINGS, F.ACK, 0));
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §3.4',
    name: 'invalid connection preface',
    expect: 'connection error PROTOCOL_ERROR: the connection is closed (a GOAWAY MAY be omitted; if sent, it says PROTOCOL_ERROR)',
    handshake: false,
    async run(c) {
      c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'), frame(T.SETTINGS, 0, 0));
      for (;;) {
        const event = await c.next();
        if (event.kind === 'closed') return;
        if (event.kind === 'timeout') throw new ConformanceFailure('the connection closed', describe(event));
        if (event.kind === 'frame' && event.frame.type === 'GOAWAY' && event.frame.errorCode !== E.PROTOCOL_ERROR) {
          throw new ConformanceFailure('GOAWAY PROTOCOL_ERROR or none, then close', describe(event));
        }
      }
    },
  },
  {
    section: 'RFC 9113 §3.4',
    name: 'preface followed by a PING instead of SETTINGS',
    expect: '"MUST be followed by a SETTINGS frame": an invalid preface, connection error PROTOCOL_ERROR',
    handshake: false,
    async run(c) {
      c.send(CONNECTION_PREFACE, frame(T.PING, 0, 0, Buffer.alloc(8)));
      for (;;) {
        const event = await c.next();
        if (event.kind === 'closed') return; // §3.4: "A GOAWAY frame MAY be omitted in this case"
        if (event.kind === 'timeout') throw new ConformanceFailure('GOAWAY PROTOCOL_ERROR or a close', describe(event));
        if (event.kind === 'frame' && event.frame.type === 'GOAWAY') {
          check(event.frame.errorCode === E.PROTOCOL_ERROR, 'GOAWAY PROTOCOL_ERROR', describe(event));
          return;
        }
        if (event.kind === 'frame' && event.frame.type === 'PING' && event.frame.ack) {
          throw new ConformanceFailure('no answer to a PING before SETTINGS, but PROTOCOL_ERROR', describe(event));
        }
      }
    },
  },
  {
    section: 'RFC 9113 §3.4',
    name: 'HTTP/1.1 request line on an h2c prior-knowledge connection is not a preface',
    expect: 'the server does not answer with HTTP/2 frames as if it were h2',
    handshake: false,
    async run(c) {
      c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\n'), Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      const event = await c.next();
      if (event.kind === 'frame' && event.frame.type === 'SETTINGS') {
        const next = await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'GOAWAY');
        check(next.kind === 'closed' || (next.kind === 'frame' && next.frame.type === 'GOAWAY' && next.frame.errorCode === E.PROTOCOL_ERROR),
          'GOAWAY PROTOCOL_ERROR or a close after the bad preface', describe(next));
        return;
      }
      check(event.kind !== 'timeout', 'a close or an error response', describe(event));
    },
  },
  {
    section: 'RFC 9113 §3.4',
    name: 'SETTINGS in the preface with values',
    expect: '"SETTINGS frames received from a peer as part of the connection preface MUST be acknowledged"',
    handshake: false,
    async run(c) {
      c.send(CONNECTION_PREFACE, frame(T.SETTINGS, 0, 0, settingsPayload([0x3, 100], [0x4, 1 << 20], [0x6, 1 << 16])));
      const ack = await c.waitFor((e) => e.kind === 'frame' && e.frame.type === 'SETTINGS' && e.frame.ack);
      check(ack.kind === 'frame', 'a SETTINGS ACK', describe(ack));
    },
  },

  // --- TLS (RFC 9113 §3.2, §9.2) ---
  {
    section: 'RFC 9113 §3.2',
    name: 'TLS: ALPN offers only "h2"',
    expect: 'the server selects "h2" and sends its SETTINGS first',
    tls: true,
    handshake: false,
    async run(c) {
      check(c.alpnProtocol === 'h2', 'ALPN protocol h2', String(c.alpnProtocol));
      await c.handshake();
    },
  },
  {
    section: 'RFC 9113 §9.2',
    name: 'TLS: negotiated TLS version',
    expect: '"Implementations of HTTP/2 MUST use TLS version 1.2 or higher"',
    tls: true,
    async run(c) {
      const version = (c.socket as tls.TLSSocket).getProtocol();
      check(version === 'TLSv1.2' || version === 'TLSv1.3', 'TLSv1.2 or TLSv1.3', String(version));
    },
  },
  {
    section: 'RFC 9113 §8.1',
    name: 'TLS: GET with :scheme https',
    expect: 'a 200 response over TLS',
    tls: true,
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      const response = await expectResponse(c, 1);
      check(response.status === 200, ':status 200', String(response.status));
    },
  },
  {
    section: 'RFC 9113 §6.7',
    name: 'TLS: PING',
    expect: 'a PING ACK with the same payload',
    tls: true,
    async run(c) {
      await expectAlive(c);
    },
  },
  {
    section: 'RFC 9113 §6.7',
    name: 'TLS: PING of length 6',
    expect: 'connection error FRAME_SIZE_ERROR',
    tls: true,
    async run(c) {
      c.send(frameOfLength(T.PING, 0, 0, 6));
      await expectConnectionError(c, E.FRAME_SIZE_ERROR);
    },
  },
  {
    section: 'RFC 9113 §8.2.1',
    name: 'TLS: request with an uppercase field name',
    expect: 'stream error PROTOCOL_ERROR; the connection stays usable',
    tls: true,
    async run(c, ctx) {
      sendHeaders(c, 1, ctx.request('GET', '/', [['X-Upper', 'a']]));
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §5.4.1',
    name: 'TLS: invalid frame, then the TCP connection',
    expect: 'GOAWAY PROTOCOL_ERROR, then the connection is closed',
    tls: true,
    async run(c) {
      c.send(frame(T.SETTINGS, 0, 1));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
      await expectClosed(c);
    },
  },
];
