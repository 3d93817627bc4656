/**
 * The h3 client driver's request() (src/h3/client.ts) over real UDP on loopback: the request's
 * field lines (lower-cased names, a User-Agent unless the caller gave one, RFC 9114 §4.2), errors
 * as rejections, and the trace line of each response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../../src/core/body.js';
import { resolveLimits } from '../../src/core/limits.js';
import { connectH3, type H3ClientHandle } from '../../src/h3/client.js';
import { listenH3 } from '../../src/h3/server.js';
import type { H3Listener } from '../../src/protocols.js';
import { testCertificate } from '../helpers/cert.js';

let server: H3Listener;
let conn: H3ClientHandle;
const traced: string[] = [];
const cert = testCertificate();

beforeAll(async () => {
  server = await listenH3({
    addresses: ['127.0.0.1'],
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
    // Answers with the request's header lines, in order.
    handler: (req, res) => {
      void res.end(JSON.stringify([...req.headers]));
    },
    limits: resolveLimits({ shutdownTimeoutMs: 2000 }),
  });
  conn = await connectH3(new URL(`https://localhost:${server.port}/`), { ca: [cert.caCertPem], trace: (line) => traced.push(line) });
});

afterAll(async () => {
  await conn?.close();
  await server?.close();
});

const target = () => new URL(`https://localhost:${server.port}/h?q=1`);

async function headersSeen(headers?: Iterable<readonly [string, string]>): Promise<[string, string][]> {
  const res = await conn.request(target(), headers === undefined ? {} : { headers });
  expect(res.status).toBe(200);
  return JSON.parse((await readAll(res.body)).toString()) as [string, string][];
}

describe('h3 client driver request()', () => {
  it('sends User-Agent h123 when the caller gives no headers', async () => {
    expect(await headersSeen()).toEqual([['user-agent', 'h123']]);
    // The shared default lines are not changed by a request: the next one sends the same.
    expect(await headersSeen()).toEqual([['user-agent', 'h123']]);
  });

  it("lower-cases the caller's names and adds User-Agent after them", async () => {
    expect(await headersSeen([['X-One', '1'], ['accept', '*/*']])).toEqual([['x-one', '1'], ['accept', '*/*'], ['user-agent', 'h123']]);
  });

  it("keeps the caller's User-Agent, in any case, and adds none", async () => {
    expect(await headersSeen([['User-Agent', 'me/1'], ['x-two', '2']])).toEqual([['user-agent', 'me/1'], ['x-two', '2']]);
  });

  it('a failure while building the request is a rejected promise, not a throw', async () => {
    const broken: Iterable<readonly [string, string]> = {
      [Symbol.iterator]() {
        throw new Error('no headers today');
      },
    };
    let promise: Promise<unknown> | undefined;
    expect(() => { promise = conn.request(target(), { headers: broken }); }).not.toThrow();
    await expect(promise).rejects.toThrow('no headers today');
  });

  it('traces each response status once the response head arrives', async () => {
    traced.length = 0;
    const res = await conn.request(target());
    await readAll(res.body);
    expect(traced).toContain('h3 response 200');
    expect(traced.filter((l) => l.startsWith('h3 response'))).toHaveLength(1);
  });
});
