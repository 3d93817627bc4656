/**
 * Starting HTTP/2 (RFC 9113 §3): the connection preface (§3.4), h2 over TLS chosen by ALPN (§3.2,
 * §9.2) and a few exchanges repeated over TLS, since the TLS driver is a separate path into the
 * same connection code.
 */
import tls from 'node:tls';
import { CONNECTION_PREFACE } from '../../../../src/h2/frame.js';
import type { ConformanceCase } from '../case.js';
import { describe, type H2TestClient } from '../client.js';
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
    name: 'invalid connection preface ("SM" replaced by "XX")',
    expect: '"MUST treat an invalid connection preface as a connection error of type PROTOCOL_ERROR. A GOAWAY frame MAY be omitted": the connection closes',
    handshake: false,
    async run(c) {
      c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'), frame(T.SETTINGS, 0, 0));
      await expectPrefaceRejected(c);
    },
  },
  {
    section: 'RFC 9113 §3.4',
    name: 'preface cut after "PRI * HTTP/2.0\\r\\n\\r\\n" and followed by an HTTP/1.1 request',
    expect: 'an invalid preface: the connection closes (GOAWAY PROTOCOL_ERROR or none), no request is served as h2',
    handshake: false,
    async run(c) {
      c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nGET / HTTP/1.1\r\nhost: localhost\r\n\r\n'));
      await expectPrefaceRejected(c);
    },
  },
  {
    section: 'RFC 9113 §3.4',
    name: 'preface followed by a PING instead of SETTINGS',
    expect: '"MUST be followed by a SETTINGS frame": an invalid preface; the connection closes (GOAWAY PROTOCOL_ERROR or none), the PING is not answered',
    handshake: false,
    async run(c) {
      c.send(CONNECTION_PREFACE, frame(T.PING, 0, 0, Buffer.alloc(8)));
      await expectPrefaceRejected(c);
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

/**
 * RFC 9113 §3.4: an invalid preface is a connection error PROTOCOL_ERROR whose GOAWAY "MAY be
 * omitted": the connection must close, any GOAWAY must say PROTOCOL_ERROR, and nothing may be
 * answered as if the connection were up (no PING ACK, no response).
 */
async function expectPrefaceRejected(c: H2TestClient): Promise<void> {
  const from = c.log.length;
  const event = await c.next(undefined, () => false);
  const wrong = c.log.slice(from).find((e) => e.kind === 'frame' && (
    (e.frame.type === 'GOAWAY' && e.frame.errorCode !== E.PROTOCOL_ERROR) ||
    (e.frame.type === 'PING' && e.frame.ack) || e.frame.type === 'HEADERS'));
  if (wrong) throw new ConformanceFailure('a close, after at most SETTINGS and GOAWAY PROTOCOL_ERROR', describe(wrong));
  if (event.kind !== 'closed') throw new ConformanceFailure('the connection to close', describe(event));
}
