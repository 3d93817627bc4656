/**
 * Real HTTP/2 peers against h123's server: curl --http2 and nghttp stream /stream with chunk timing
 * (the first chunk arrives before the second is written), h2load runs 1000 requests as 100
 * concurrent streams over one connection. Each test skips, saying why, when its peer is missing.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevCertificate, type DevCertificate } from '../../src/cert/dev-cert.js';
import type { Handler } from '../../src/core/types.js';
import { demoHandler } from '../../src/demo/routes.js';
import { serve, type RunningServer } from '../../src/serve.js';
import { curlWithHttp2, findProgram, skipMessage } from '../helpers/peers.js';

const writeTimes = new Map<string, number[]>();
const handler: Handler = (req, res) => {
  const times: number[] = [];
  writeTimes.set(req.path, times);
  const write = res.write.bind(res);
  res.write = (chunk) => { times.push(performance.now()); return write(chunk); };
  return demoHandler(req, res);
};

let dir: string;
let cert: DevCertificate;
let server: RunningServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h123-h2-interop-'));
  cert = loadOrCreateDevCertificate(dir);
  server = await serve(handler, { host: '127.0.0.1', port: 0, httpPort: 0, h3: false, cert: cert.certPem, key: cert.keyPem });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a program, timing each stdout piece. */
async function timedRun(program: string, args: string[]): Promise<{ arrivals: { at: number; text: string }[]; stderr: string; code: number | null }> {
  const child = spawn(program, args);
  const arrivals: { at: number; text: string }[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => arrivals.push({ at: performance.now(), text: d.toString() }));
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  return { arrivals, stderr, code };
}

function expectStreamedInTime(path: string, arrivals: { at: number; text: string }[]): void {
  expect(arrivals.map((a) => a.text).join('')).toContain('chunk 1\nchunk 2\nchunk 3\n');
  const writes = writeTimes.get(path)!;
  expect(writes).toHaveLength(3);
  const first = arrivals.find((a) => a.text.includes('chunk 1'))!;
  // The first chunk reached the client before the server wrote the second one.
  expect(first.at).toBeLessThan(writes[1]!);
}

const curl = curlWithHttp2();
const nghttp = findProgram('nghttp');
const h2load = findProgram('h2load');

describe('curl --http2', () => {
  it.skipIf(!curl)(`streams /stream over TLS (ALPN h2) as it is flushed (${curl ? 'curl with HTTP2' : skipMessage('curl with HTTP/2', 'curl')})`, async () => {
    const path = '/stream?n=3&interval=300&c=curl';
    const { arrivals, stderr } = await timedRun(curl!, ['--no-buffer', '-sS', '-v', '--http2', '--cacert', cert.caPath, `https://localhost:${server.port}${path}`]);
    expect(stderr).toMatch(/using HTTP\/2|ALPN: server accepted h2|ALPN, server accepted to use h2/);
    expectStreamedInTime(path, arrivals);
  });

  it.skipIf(!curl)('h2c with prior knowledge and with Upgrade', async () => {
    const prior = await timedRun(curl!, ['-sS', '--http2-prior-knowledge', `http://127.0.0.1:${server.httpPort}/bytes?size=5000`]);
    expect(prior.arrivals.map((a) => a.text).join('').length).toBeGreaterThan(0);
    const upgraded = await timedRun(curl!, ['-sS', '-v', '--http2', `http://127.0.0.1:${server.httpPort}/stream?n=2&interval=1&c=up`]);
    expect(upgraded.stderr).toMatch(/101 Switching Protocols/);
    expect(upgraded.arrivals.map((a) => a.text).join('')).toBe('chunk 1\nchunk 2\n');
  });
});

describe('nghttp', () => {
  it.skipIf(!nghttp)(`streams /stream as it is flushed (${nghttp ? 'nghttp found' : skipMessage('nghttp', 'nghttp2-client')})`, async () => {
    const path = '/stream?n=3&interval=300&c=nghttp';
    const { arrivals, code } = await timedRun(nghttp!, ['-n', '-v', `https://localhost:${server.port}${path}`]);
    expect(code).toBe(0);
    // nghttp -v prints each DATA frame as it is received; -n discards the body, so time the frames.
    const text = arrivals.map((a) => a.text).join('');
    expect(text).toMatch(/recv DATA frame <length=8/);
    const firstData = arrivals.find((a) => a.text.includes('recv DATA frame'))!;
    expect(firstData.at).toBeLessThan(writeTimes.get(path)![1]!);
    expect(text).not.toMatch(/GOAWAY.*error_code=(?!NO_ERROR)/);
  });
});

describe('h2load', () => {
  it.skipIf(!h2load)(`1000 requests as 100 concurrent streams over one connection all succeed (${h2load ? 'h2load found' : skipMessage('h2load', 'nghttp2-client')})`, async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(h2load!, ['-n', '1000', '-c', '1', '-m', '100', `https://localhost:${server.port}/bytes?size=1000`], (err, out) => (err && !out ? reject(err) : resolve(out)));
    });
    expect(stdout).toMatch(/requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored/);
    expect(stdout).toMatch(/status codes: 1000 2xx/);
  });
});
