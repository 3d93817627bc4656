/**
 * Expressing HTTP in HTTP/2 (RFC 9113 §8): message framing and malformed messages (§8.1, §8.1.1),
 * field validity and connection-specific fields (§8.2.1, §8.2.2), request pseudo-header fields
 * (§8.3.1) and the response's control data (§8.3.2). A malformed request is a stream error of
 * type PROTOCOL_ERROR (§8.1.1); the server MAY answer it first, so a response before the reset
 * is allowed.
 */
import type { FieldInput } from '../../../../src/h2/hpack.js';
import type { ConformanceCase } from '../case.js';
import { check, expectResponse, expectStreamError } from '../expect.js';
import { E, F, T, frame } from '../frames.js';
import { sendData, sendHeaders, sendRequest } from './common.js';

/** A case whose request, built from the context's usual fields, is malformed. */
function malformed(section: string, name: string, expect: string, fields: (request: FieldInput[]) => FieldInput[]): ConformanceCase {
  return {
    section,
    name,
    expect: `${expect}: stream error PROTOCOL_ERROR`,
    async run(c, ctx) {
      sendHeaders(c, 1, fields(ctx.request()));
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  };
}

const without = (name: string) => (r: FieldInput[]): FieldInput[] => r.filter(([n]) => n !== name);
const withField = (name: string, value: string | Uint8Array) => (r: FieldInput[]): FieldInput[] => [...r, [name, value]];
const replacing = (name: string, value: string) => (r: FieldInput[]): FieldInput[] => r.map(([n, v]) => (n === name ? [n, value] : [n, v]));
const duplicating = (name: string) => (r: FieldInput[]): FieldInput[] => {
  const index = r.findIndex(([n]) => n === name);
  return [...r.slice(0, index + 1), r[index]!, ...r.slice(index + 1)];
};

export const httpCases: ConformanceCase[] = [
  // §8.1
  {
    section: 'RFC 9113 §8.1',
    name: 'GET request',
    expect: 'a response: HEADERS with :status, DATA, END_STREAM',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      const response = await expectResponse(c, 1);
      check(response.status === 200 && response.body.length > 0, '200 with a body', `${response.status}, ${response.body.length} octets`);
    },
  },
  {
    section: 'RFC 9113 §8.1.1',
    name: 'HEAD request',
    expect: 'a response with no content in DATA frames ("the response to a HEAD request" has no content)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'HEAD' });
      const response = await expectResponse(c, 1);
      check(response.status === 200 && response.body.length === 0, '200 and no DATA payload', `${response.status}, ${response.body.length} octets`);
    },
  },
  {
    section: 'RFC 9113 §8.1',
    name: 'POST request with a body',
    expect: 'a response (the echo of the body)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false, extra: [['content-length', '5']] });
      sendData(c, 1, 'hello');
      const response = await expectResponse(c, 1);
      check(response.body.toString() === 'hello', 'echo "hello"', JSON.stringify(response.body.toString()));
    },
  },
  {
    section: 'RFC 9113 §8.1',
    name: 'POST request with trailers',
    expect: '"Trailer fields are carried in a field block that also terminates the stream": a response',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false, extra: [['trailer', 'x-checksum']] });
      sendData(c, 1, 'body', false);
      sendHeaders(c, 1, [['x-checksum', 'abc']], true);
      const response = await expectResponse(c, 1);
      check(response.body.toString() === 'body', 'echo "body"', JSON.stringify(response.body.toString()));
    },
  },
  {
    section: 'RFC 9113 §8.1',
    name: 'trailers split over HEADERS (END_STREAM) and CONTINUATION',
    expect: 'a response',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      sendData(c, 1, 'body', false);
      const block = c.block([['x-trailer-one', 'a'], ['x-trailer-two', 'b']]);
      c.send(frame(T.HEADERS, F.END_STREAM, 1, block.subarray(0, 3)), frame(T.CONTINUATION, F.END_HEADERS, 1, block.subarray(3)));
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §8.1',
    name: 'second HEADERS (trailers) without END_STREAM',
    expect: '"An endpoint that receives a HEADERS frame without the END_STREAM flag set after receiving the HEADERS frame that opens a request ... MUST treat the corresponding request ... as malformed": stream error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      sendData(c, 1, 'body', false);
      sendHeaders(c, 1, [['x-trailer', 'a']], false);
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §8.1',
    name: 'DATA after the trailers ended the request',
    expect: 'the stream is half-closed (remote): stream error STREAM_CLOSED (§5.1)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false, extra: [['content-length', '0']] });
      sendHeaders(c, 1, [['x-trailer', 'a']], true);
      sendData(c, 1, 'late');
      await expectStreamError(c, 1, E.STREAM_CLOSED);
    },
  },
  {
    section: 'RFC 9113 §8.1.1',
    name: 'content-length 10 with a 4-octet body',
    expect: '"malformed if the value of a content-length header field does not equal the sum of the DATA frame payload lengths": stream error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false, extra: [['content-length', '10']] });
      sendData(c, 1, 'four');
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §8.1.1',
    name: 'content-length 4 with 2 + 2 + 2 octets in three DATA frames',
    expect: 'the sum of DATA payloads exceeds content-length: stream error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false, extra: [['content-length', '4']] });
      sendData(c, 1, 'ab', false);
      sendData(c, 1, 'cd', false);
      sendData(c, 1, 'ef', true);
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §8.1.1',
    name: 'content-length 3 with a GET that has END_STREAM on its HEADERS',
    expect: 'no DATA, so 0 ≠ 3: stream error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', extra: [['content-length', '3']] });
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    section: 'RFC 9113 §8.2.2',
    name: 'response carries no connection-specific header fields',
    expect: '"An endpoint MUST NOT generate an HTTP/2 message containing connection-specific header fields"',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      const response = await expectResponse(c, 1);
      const bad = response.headers.filter(([n]) => ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'].includes(n));
      check(bad.length === 0, 'no Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding or Upgrade', JSON.stringify(bad));
    },
  },
  {
    section: 'RFC 9113 §8.3.2',
    name: 'response control data',
    expect: '":status ... MUST be included in all responses"; no request pseudo-header fields; lowercase names (§8.2)',
    async run(c, ctx) {
      sendRequest(c, ctx, 1);
      const response = await expectResponse(c, 1);
      const names = response.headers.map(([n]) => n);
      check(names[0] === ':status', ':status first', names.join(', '));
      check(names.filter((n) => n.startsWith(':')).length === 1, 'only :status as a pseudo-header', names.join(', '));
      check(names.every((n) => n === n.toLowerCase()), 'lowercase field names', names.join(', '));
    },
  },

  // §8.2.1
  malformed('RFC 9113 §8.2.1', 'field name with uppercase letters', '"A field name MUST NOT contain characters in the ranges ... 0x41-0x5a"', withField('X-Test', 'a')),
  malformed('RFC 9113 §8.2.1', 'field name containing a space', 'a field name MUST NOT contain 0x00-0x20', withField('x test', 'a')),
  malformed('RFC 9113 §8.2.1', 'field name containing a colon', '"field names MUST NOT include a colon" (except pseudo-headers)', withField('x:test', 'a')),
  malformed('RFC 9113 §8.2.1', 'field name containing octet 0x80', 'a field name MUST NOT contain 0x7f-0xff', withField('x\u0080test', 'a')),
  malformed('RFC 9113 §8.2.1', 'empty field name', 'implementations SHOULD validate names by RFC 9110 §5.1, where a name is 1*tchar', withField('', 'a')),
  malformed('RFC 9113 §8.2.1', 'field value containing NUL', '"A field value MUST NOT contain the zero value (ASCII NUL, 0x00)"', withField('x-test', 'a\u0000b')),
  malformed('RFC 9113 §8.2.1', 'field value containing CR', 'a field value MUST NOT contain CR (0x0d)', withField('x-test', 'a\rb')),
  malformed('RFC 9113 §8.2.1', 'field value containing LF', 'a field value MUST NOT contain LF (0x0a)', withField('x-test', 'a\nb')),
  malformed('RFC 9113 §8.2.1', 'field value starting with a space', '"A field value MUST NOT start or end with an ASCII whitespace character"', withField('x-test', ' a')),
  malformed('RFC 9113 §8.2.1', 'field value ending with a tab', '"A field value MUST NOT start or end with an ASCII whitespace character"', withField('x-test', 'a\t')),

  // §8.2.2
  malformed('RFC 9113 §8.2.2', 'connection: keep-alive', '"Any message containing connection-specific header fields MUST be treated as malformed"', withField('connection', 'keep-alive')),
  malformed('RFC 9113 §8.2.2', 'keep-alive: timeout=5', 'Keep-Alive is connection-specific', withField('keep-alive', 'timeout=5')),
  malformed('RFC 9113 §8.2.2', 'proxy-connection: keep-alive', 'Proxy-Connection is connection-specific', withField('proxy-connection', 'keep-alive')),
  malformed('RFC 9113 §8.2.2', 'transfer-encoding: chunked', 'Transfer-Encoding is connection-specific', withField('transfer-encoding', 'chunked')),
  malformed('RFC 9113 §8.2.2', 'upgrade: websocket', 'Upgrade is connection-specific', withField('upgrade', 'websocket')),
  malformed('RFC 9113 §8.2.2', 'te: gzip', '"TE ... MUST NOT contain any value other than \\"trailers\\""', withField('te', 'gzip')),
  malformed('RFC 9113 §8.2.2', 'te: trailers, gzip', 'TE with a value besides "trailers"', withField('te', 'trailers, gzip')),
  {
    section: 'RFC 9113 §8.2.2',
    name: 'te: trailers',
    expect: '"The only exception to this is the TE header field, which MAY be present in an HTTP/2 request": a response',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { extra: [['te', 'trailers']] });
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §8.2.3',
    name: 'cookie split into several fields',
    expect: 'crumbs may be sent as separate fields: a response',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { extra: [['cookie', 'a=b'], ['cookie', 'c=d'], ['cookie', 'e=f']] });
      await expectResponse(c, 1);
    },
  },

  // §8.3
  malformed('RFC 9113 §8.3', 'unknown pseudo-header :foo', '"Endpoints MUST treat a request or response that contains undefined or invalid pseudo-header fields as malformed"', withField(':foo', 'bar')),
  malformed('RFC 9113 §8.3', 'response pseudo-header :status in a request', '"Pseudo-header fields defined for responses MUST NOT appear in requests"', (r) => [...r.slice(0, 4), [':status', '200'], ...r.slice(4)]),
  malformed('RFC 9113 §8.3', 'pseudo-header after a regular field', '"All pseudo-header fields MUST appear in a field block before all regular field lines"', (r) => [...r.filter(([n]) => n !== ':authority'), ['x-test', 'a'], [':authority', 'localhost']]),
  {
    section: 'RFC 9113 §8.1',
    name: 'pseudo-header field in trailers',
    expect: '"Trailers MUST NOT include pseudo-header fields ... MUST treat the request ... as malformed": stream error PROTOCOL_ERROR',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'POST', endStream: false });
      sendData(c, 1, 'body', false);
      sendHeaders(c, 1, [[':method', 'POST'], ['x-trailer', 'a']], true);
      await expectStreamError(c, 1, E.PROTOCOL_ERROR);
    },
  },
  malformed('RFC 9113 §8.3.1', 'empty :path', '":path ... MUST NOT be empty for http or https URIs"', replacing(':path', '')),
  malformed('RFC 9113 §8.3.1', 'no :method', '"All HTTP/2 requests MUST include exactly one valid value for the :method, :scheme, and :path pseudo-header fields"', without(':method')),
  malformed('RFC 9113 §8.3.1', 'no :scheme', 'a request MUST include :scheme', without(':scheme')),
  malformed('RFC 9113 §8.3.1', 'no :path', 'a request MUST include :path', without(':path')),
  malformed('RFC 9113 §8.3.1', 'two :method fields', '"exactly one valid value"; "The same pseudo-header field name MUST NOT appear more than once"', duplicating(':method')),
  malformed('RFC 9113 §8.3.1', 'two :scheme fields', 'exactly one :scheme', duplicating(':scheme')),
  malformed('RFC 9113 §8.3.1', 'two :path fields', 'exactly one :path', duplicating(':path')),
  malformed('RFC 9113 §8.3.1', 'two :authority fields', '"The same pseudo-header field name MUST NOT appear more than once in a field block"', duplicating(':authority')),
  malformed('RFC 9113 §8.5', 'CONNECT with :scheme and :path', '"The :scheme and :path pseudo-header fields MUST be omitted" for CONNECT', replacing(':method', 'CONNECT')),
  {
    section: 'RFC 9113 §8.3.1',
    name: 'OPTIONS with :path "*"',
    expect: 'an OPTIONS request without a path component carries :path "*": a response',
    async run(c, ctx) {
      sendRequest(c, ctx, 1, { method: 'OPTIONS', path: '*' });
      await expectResponse(c, 1);
    },
  },
  {
    section: 'RFC 9113 §8.3.1',
    name: 'request without :authority but with a host field',
    expect: 'only :method, :scheme and :path are mandatory; Host may carry the authority instead: a response',
    async run(c, ctx) {
      sendHeaders(c, 1, [...ctx.request().filter(([n]) => n !== ':authority'), ['host', ctx.authority]]);
      await expectResponse(c, 1);
    },
  },
];
