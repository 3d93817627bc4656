/**
 * Review of the HTTP/1.1 performance pass (issue 2): the state that the pass made shared or reused
 * — the last response head kept for reuse, one field-section reader per connection, the last valid
 * Host, field names and methods recognised in the bytes, shared constant output buffers, the first
 * abort listener slot — must never carry one request's state into another. Each test pins what
 * RFC 9110 / RFC 9112 require of a sequence of requests, not of one request alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { H1ServerConnection } from '../../../src/h1/connection.js';
import { RequestHeadParser } from '../../../src/h1/parse.js';
import { requestFraming } from '../../../src/h1/framing.js';
import type { Handler, ServerRequest } from '../../../src/core/types.js';
import { rawExchange, startCleartext } from '../../helpers/server.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

/** A connection fed one piece per step at the step's time; output pieces kept as handed out. */
async function converse(handler: Handler, steps: [now: number, bytes: string][]) {
  let now = 0;
  const conn = new H1ServerConnection({ handler, scheme: 'http', remoteAddress: '127.0.0.1', remotePort: 1, clock: () => now });
  const pieces: Uint8Array[] = [];
  conn.onWake = () => { pieces.push(...conn.transmit()); };
  for (const [at, bytes] of steps) {
    now = at;
    conn.receive(Buffer.from(bytes, 'latin1'), now);
    await settle();
  }
  pieces.push(...conn.transmit());
  // Concatenated only now: a piece rewritten in place by a later response would show here.
  return { conn, text: Buffer.concat(pieces).toString('latin1') };
}

describe('response heads on one connection (RFC 9112 §6.1, §9.3, §9.6; RFC 9110 §6.6.1, §9.3.2)', () => {
  it('writes each head for its own request: HEAD, HTTP/1.0 keep-alive, a lower-case method, close, a new Date second', async () => {
    const handler: Handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      await res.end('hi');
    };
    const { text, conn } = await converse(handler, [
      [1000, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n'],
      [1500, 'HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n'],
      // RFC 9110 §9.1: methods are case-sensitive; "head" is not HEAD, so its response has content.
      // Only the Date second differs from the head before.
      [2100, 'head /c HTTP/1.1\r\nHost: x\r\n\r\n'],
      [2200, 'GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'],
      [2300, 'GET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ]);
    const second1 = 'date: Thu, 01 Jan 1970 00:00:01 GMT';
    const second2 = 'date: Thu, 01 Jan 1970 00:00:02 GMT';
    const head = (...lines: string[]): string => `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n${lines.join('\r\n')}\r\n\r\n`;
    expect(text).toBe(
      `${head(second1)}hi` +
      head(second1) + // HEAD: the same head, no content (RFC 9110 §9.3.2)
      `${head(second2)}hi` +
      `${head('connection: keep-alive', second2)}hi` +
      `${head('connection: close', second2)}hi`,
    );
    expect(conn.state).toBe('closing');
  });

  it('frames each response for its own request: chunked, HEAD without a body, Content-Length; shared chunk lines intact', async () => {
    const handler: Handler = async (req, res) => {
      res.writeHead(200, { 'x-a': '1' });
      if (!req.path.endsWith('L')) res.flush(); // streamed: chunked unless HEAD, the same fields otherwise
      res.write('abc');
      await res.end();
    };
    const { text } = await converse(handler, [
      [0, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n'],
      [0, 'HEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n'],
      [0, 'GET /3L HTTP/1.1\r\nHost: x\r\n\r\n'],
      [0, 'GET /4 HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n'],
    ]);
    const date = 'date: Thu, 01 Jan 1970 00:00:00 GMT';
    const chunked = `HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n${date}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`;
    // RFC 9112 §6.3 item 1: a response to HEAD ends with its head, so it carries no chunked coding.
    const head = `HTTP/1.1 200 OK\r\nx-a: 1\r\n${date}\r\n\r\n`;
    const length = `HTTP/1.1 200 OK\r\nx-a: 1\r\ncontent-length: 3\r\n${date}\r\n\r\nabc`;
    expect(text).toBe(chunked + head + length + chunked);
  });
  it('never sends Transfer-Encoding to an HTTP/1.0 client after a chunked head with the same fields on another connection', async () => {
    const handler: Handler = async (_req, res) => {
      res.writeHead(200, { 'x-a': '1' });
      res.flush();
      await res.end('abc');
    };
    const date = 'date: Thu, 01 Jan 1970 00:00:00 GMT';
    const first = await converse(handler, [[0, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']]);
    expect(first.text).toBe(`HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n${date}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`);
    // RFC 9112 §6.1: no Transfer-Encoding unless the request is HTTP/1.1; §6.3 item 8: the body ends at close.
    const second = await converse(handler, [[0, 'GET / HTTP/1.0\r\n\r\n']]);
    expect(second.text).toBe(`HTTP/1.1 200 OK\r\nx-a: 1\r\nconnection: close\r\n${date}\r\n\r\nabc`);
  });
});

describe('one field-section reader per connection (RFC 9112 §5, RFC 6585 §5)', () => {
  it('starts each pipelined head with a fresh field budget and count, and leaves the earlier head’s fields alone', () => {
    // Each head uses nearly all of the budget: a count or byte total carried over would give 431.
    const parser = new RequestHeadParser({ maxHeaderCount: 3, maxHeaderBytes: 60 });
    const head = (path: string, v: string): string =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Aaaaaaaaaaaa: ${v}\r\nX-Bbbbbbbbbbbb: ${v}\r\n\r\n`;
    const first = parser.push(Buffer.from(head('/1', 'one') + head('/2', 'two'), 'latin1'))!;
    const snapshot = JSON.stringify(first.head.headers);
    const second = parser.push(first.rest)!;
    expect(second.head.path).toBe('/2');
    expect(second.head.headers).toEqual([['host', 'x'], ['x-aaaaaaaaaaaa', 'two'], ['x-bbbbbbbbbbbb', 'two']]);
    expect(JSON.stringify(first.head.headers)).toBe(snapshot);
    expect(second.head.headers).not.toBe(first.head.headers);
    // The third head is over the count: refused, although the two before were fine.
    expect(() => parser.push(Buffer.from('GET /3 HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'latin1'))).toThrow(
      expect.objectContaining({ status: 431 }),
    );
  });
});

describe('field names recognised in the bytes (RFC 9110 §5.1, §5.6.2; RFC 9112 §5.1, §6)', () => {
  const parse = (text: string) => new RequestHeadParser().push(Buffer.from(text, 'latin1'));

  it('never maps a look-alike name onto a framing field', () => {
    for (const name of ['Content-Lengthx', 'Content_Length', 'Content-Lengt', 'XContent-Length', 'Transfer_Encoding', 'Transfer-Encodinh', 'Hos^', 'Host_']) {
      const got = parse(`POST / HTTP/1.1\r\nHost: x\r\n${name}: 5\r\n\r\n`)!;
      expect(got.head.headers[1]).toEqual([name.toLowerCase(), '5']);
      // Not a framing field: the request has no content (RFC 9112 §6.3 item 7).
      expect(requestFraming(got.head).body).toEqual({ kind: 'none' });
    }
  });

  it('reads a framing field whatever its case, and refuses whitespace before the colon and non-token bytes', () => {
    const got = parse('POST / HTTP/1.1\r\nhOsT: x\r\ncOnTeNt-LeNgTh: 5\r\n\r\n')!;
    expect(requestFraming(got.head).body).toEqual({ kind: 'length', length: 5 });
    const te = parse('POST / HTTP/1.1\r\nHost: x\r\nTRANSFER-ENCODING: chunked\r\n\r\n')!;
    expect(requestFraming(te.head).body).toEqual({ kind: 'chunked' });
    for (const line of ['Transfer-Encoding : chunked', 'Content-Length\t: 5', 'Cont\u00e9nt-Length: 5', 'Content-Length\u0000: 5', 'Content-Le\u000bngth: 5']) {
      expect(() => parse(`POST / HTTP/1.1\r\nHost: x\r\n${line}\r\n\r\n`), line).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});

describe('Host checked per value (RFC 9112 §3.2)', () => {
  const head = (host: string) => new RequestHeadParser().push(Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'latin1'))!.head;

  it('refuses an invalid Host after the same connection (or another) sent a valid one, and accepts the valid one again', () => {
    expect(requestFraming(head('a.example:80')).authority).toBe('a.example:80');
    for (const bad of ['a.example:80x', 'a.exam ple', 'a.example:99999', 'a%zz.example', '[::1', 'a@b']) {
      expect(() => requestFraming(head(bad)), bad).toThrow(expect.objectContaining({ status: 400 }));
      expect(requestFraming(head('a.example:80')).authority).toBe('a.example:80');
    }
  });

  it('answers 400 on a pipelined request whose Host changed to an invalid value', async () => {
    const { text } = await converse(async (_req, res) => { await res.end('ok'); }, [
      [0, 'GET /1 HTTP/1.1\r\nHost: h.example\r\n\r\nGET /2 HTTP/1.1\r\nHost: h.example/\r\n\r\n'],
    ]);
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['200', '400']);
  });
});

describe('abort state of a request (core AbortState)', () => {
  it('never aborts a request that completed, even when the client leaves afterwards', async () => {
    const requests: ServerRequest[] = [];
    const events: string[] = [];
    const { conn } = await converse(async (req, res) => {
      requests.push(req);
      req.signal.addEventListener('abort', () => events.push(`abort ${req.path}`));
      await res.end('ok');
    }, [[0, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n']]);
    conn.peerClosed();
    await settle();
    expect(requests[0]!.signal.aborted).toBe(false);
    expect(events).toEqual([]);
  });

  it('aborts a request in progress once, for every listener, when the client leaves', async () => {
    const events: string[] = [];
    let writeAfter: boolean | null = null;
    let ended = false;
    const { conn } = await converse((req, res) => {
      req.signal.addEventListener('abort', () => events.push('signal 1'));
      req.signal.addEventListener('abort', () => events.push('signal 2'));
      res.write('partial');
      res.flush();
      req.signal.addEventListener('abort', () => {
        writeAfter = res.write('more');
        void res.end().then(() => { ended = true; });
      });
    }, [[0, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n']]);
    conn.peerClosed();
    conn.peerClosed('again');
    await settle();
    expect(events).toEqual(['signal 1', 'signal 2']);
    expect(writeAfter).toBe(false);
    expect(ended).toBe(true);
  });
});

describe('the socket driver with shared listeners and one tick-end queue (RFC 9112 §9.3.2)', () => {
  // serve() loads the protocol modules on first use: do that outside the timed test.
  beforeAll(async () => { const s = await startCleartext(() => {}, { h2: false }); await s.close(); });

  it('answers each of many concurrent pipelining connections on its own socket, in request order', async () => {
    // Responses finish out of order across connections (and within a tick), so a listener that
    // found the wrong driver, or a pump that wrote another connection's output, shows up here.
    let n = 0;
    const handler: Handler = async (req, res) => {
      const wait = (n++ * 7) % 5;
      for (let i = 0; i < wait; i++) await new Promise((r) => setImmediate(r));
      res.write(`${req.path};`);
      if (wait % 2 === 0) res.flush();
      await res.end();
    };
    const server = await startCleartext(handler, { h2: false });
    try {
      const results = await Promise.all(Array.from({ length: 12 }, (_, c) => {
        const paths = [0, 1, 2].map((i) => `/c${c}r${i}`);
        const last = paths.length - 1;
        const bytes = paths.map((p, i) => `GET ${p} HTTP/1.1\r\nHost: x\r\n${i === last ? 'Connection: close\r\n' : ''}\r\n`).join('');
        return rawExchange(server.httpPort!, [bytes]).then((r) => ({ paths, text: r.data.toString('latin1'), closed: r.closed }));
      }));
      for (const { paths, text, closed } of results) {
        expect([...text.matchAll(/(\/c\d+r\d);/g)].map((m) => m[1])).toEqual(paths);
        expect(closed).toBe(true);
      }
    } finally {
      await server.close();
    }
  });
});
