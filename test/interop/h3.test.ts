/**
 * Real HTTP/3 peers against h123 (RFC 9114 over RFC 9000): ngtcp2's gtlsclient against our server
 * (/, /bytes checksum, /stream chunk timing, POST /echo), our client against ngtcp2's gtlsserver
 * (a 10 MB file, checksum), headless Chromium loading `/` over h3, and Chromium discovering h3
 * from serve()'s Alt-Svc on h2. Each test skips, saying why, when its peer is missing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../../src/core/body.js';
import { resolveLimits } from '../../src/core/limits.js';
import type { Handler } from '../../src/core/types.js';
import { demoHandler } from '../../src/demo/routes.js';
import { h3Request } from '../../src/h3/client.js';
import { listenH3 } from '../../src/h3/server.js';
import type { H3Listener } from '../../src/protocols.js';
import { serve } from '../../src/serve.js';
import { testCertificate } from '../helpers/cert.js';
import { findProgram, skipMessage } from '../helpers/peers.js';

const gtlsclient = findProgram('gtlsclient');
const gtlsserver = findProgram('gtlsserver');
const chromium = findProgram('chromium') ?? findProgram('chromium-browser');

/** When each /stream chunk was written, to compare with when the peer printed it. */
const writeTimes: number[] = [];
const handler: Handler = (req, res) => {
  if (req.path.startsWith('/stream')) {
    const write = res.write.bind(res);
    res.write = (chunk) => { writeTimes.push(performance.now()); return write(chunk); };
  }
  return demoHandler(req, res);
};

const cert = testCertificate();
let server: H3Listener;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h123-h3-interop-'));
  server = await listenH3({
    addresses: ['127.0.0.1', '::1'],
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
    handler,
    limits: resolveLimits({ shutdownTimeoutMs: 1000 }),
    onHandlerError: () => {},
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run { stdout: string; stderr: string; code: number | null; arrivals: { at: number; text: string }[] }

function run(program: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  const child = spawn(program, args);
  const arrivals: { at: number; text: string }[] = [];
  let stdout = '';
  let stderr = '';
  // Each arrival records all of its stream's output so far, so that text split across two reads
  // is still found at the read that completed it.
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString('latin1'); arrivals.push({ at: performance.now(), text: stdout }); });
  // ngtcp2's examples print debug output and the body dump on stderr: time those pieces too.
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); arrivals.push({ at: performance.now(), text: stderr }); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.on('close', (code) => { clearTimeout(timer); resolve({ stdout, stderr, code, arrivals }); }));
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return b;
}

/** gtlsclient against our server; its downloads land in a fresh directory. */
async function ngtcp2Get(path: string, extra: string[] = []): Promise<{ run: Run; files: Buffer[] }> {
  const out = mkdtempSync(join(dir, 'dl-'));
  const r = await run(gtlsclient!, [
    '--quiet', '--exit-on-all-streams-close', '--no-quic-dump', `--download=${out}`, ...extra,
    '127.0.0.1', String(server.port), `https://localhost:${server.port}${path}`,
  ]);
  return { run: r, files: readdirSync(out).map((f) => readFileSync(join(out, f))) };
}

describe('ngtcp2 gtlsclient → h123 server', () => {
  it.skipIf(!gtlsclient)(gtlsclient ? 'GET / and /bytes?size=10000000 (checksum)' : skipMessage('gtlsclient', 'ngtcp2-client'), async () => {
    const page = await ngtcp2Get('/');
    expect(page.run.code, page.run.stderr).toBe(0);
    expect(page.files[0]!.toString()).toContain('id="server-protocol">h3<');
    const size = 10_000_000;
    const bytes = await ngtcp2Get(`/bytes?size=${size}`);
    expect(bytes.run.code, bytes.run.stderr).toBe(0);
    expect(bytes.files[0]!.length).toBe(size);
    expect(sha256(bytes.files[0]!)).toBe(sha256(pattern(size)));
  }, 60_000);

  it.skipIf(!gtlsclient)(gtlsclient ? '/stream: each chunk is printed before the next is written' : skipMessage('gtlsclient', 'ngtcp2-client'), async () => {
    writeTimes.length = 0;
    // Without --quiet, gtlsclient prints the body as it arrives (and its HTTP events).
    const r = await run(gtlsclient!, ['--exit-on-all-streams-close', '--no-quic-dump', '127.0.0.1', String(server.port), `https://localhost:${server.port}/stream?n=3&interval=300`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('chunk 3');
    const firstSeen = r.arrivals.find((a) => a.text.includes('chunk 1'))!.at;
    expect(writeTimes).toHaveLength(3);
    expect(firstSeen).toBeLessThan(writeTimes[1]!);
  }, 30_000);

  it.skipIf(!gtlsclient)(gtlsclient ? 'POST /echo returns the uploaded file' : skipMessage('gtlsclient', 'ngtcp2-client'), async () => {
    const input = join(dir, 'upload.bin');
    const data = pattern(100_000).reverse();
    writeFileSync(input, data);
    const r = await ngtcp2Get('/echo', ['-m', 'POST', `--data=${input}`]);
    expect(r.run.code, r.run.stderr).toBe(0);
    expect(sha256(r.files[0]!)).toBe(sha256(data));
  }, 30_000);
});

async function freeUdpPort(): Promise<number> {
  // A TCP port free now is very likely free for UDP too on loopback.
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('h123 client → ngtcp2 gtlsserver', () => {
  it.skipIf(!gtlsserver)(gtlsserver ? 'downloads a 10 MB file (checksum)' : skipMessage('gtlsserver', 'ngtcp2-server'), async () => {
    const htdocs = mkdtempSync(join(dir, 'htdocs-'));
    const size = 10 * 1024 * 1024;
    const file = pattern(size);
    writeFileSync(join(htdocs, 'big.bin'), file);
    const port = await freeUdpPort();
    const child = spawn(gtlsserver!, ['--quiet', `--htdocs=${htdocs}`, '127.0.0.1', String(port), cert.keyPath, cert.certPath]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const res = await h3Request(new URL(`https://localhost:${port}/big.bin`), { ca: [cert.caCertPem] });
      expect(res.status, stderr).toBe(200);
      const body = await readAll(res.body);
      expect(body.length).toBe(size);
      expect(sha256(body)).toBe(sha256(file));
    } finally {
      child.kill();
    }
  }, 60_000);
});

describe('headless Chromium → h123 server', () => {
  it.skipIf(!chromium)(chromium ? 'loads / over h3 and the page finishes its /stream and /sse' : skipMessage('chromium', 'chromium'), async () => {
    const origin = `localhost:${server.port}`;
    const r = await run(chromium!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', `--user-data-dir=${mkdtempSync(join(dir, 'chromium-'))}`,
      `--origin-to-force-quic-on=${origin}`,
      `--ignore-certificate-errors-spki-list=${cert.spkiSha256Base64}`,
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE localhost',
      '--virtual-time-budget=10000', '--dump-dom', `https://${origin}/`,
    ], 60_000);
    expect(r.stdout, r.stderr.slice(-2000)).toContain('id="server-protocol">h3<');
    expect(r.stdout).toMatch(/id="next-hop">h3</);
    expect(r.stdout).toContain('<p id="status">done</p>');
  }, 90_000);
});

/** A page that fetches /ping until the browser reports one over h3, then says after how many. */
const DISCOVERY_PAGE = `<!doctype html><p id="result">waiting</p><script>
(async () => {
  for (let i = 0; i < 40; i++) {
    const url = new URL('/ping?' + i, location).href;
    await (await fetch(url, { cache: 'no-store' })).text();
    const entry = performance.getEntriesByName(url)[0];
    if (entry && entry.nextHopProtocol === 'h3') { document.getElementById('result').textContent = 'h3 after ' + i; return; }
    await new Promise((r) => setTimeout(r, 250));
  }
  document.getElementById('result').textContent = 'never h3';
})();
</script>`;

describe('headless Chromium discovers h3 through Alt-Svc (RFC 7838)', () => {
  it.skipIf(!chromium)(chromium ? 'first requests over h2, later ones over h3' : skipMessage('chromium', 'chromium'), async () => {
    const running = await serve((req, res) => {
      if (req.path === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(`${DISCOVERY_PAGE}<p id="protocol">${req.protocol}</p>`);
      }
      return res.end(req.protocol);
    }, { host: 'localhost', port: 0, httpPort: false, cert: cert.certPem, key: cert.keyPem });
    try {
      // Chromium accepts a self-signed certificate over QUIC only for an origin forced to QUIC;
      // naming an unused port of the same host is enough (and keeps discovery real for ours).
      const unused = await freeUdpPort();
      const r = await run(chromium!, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
        '--disable-background-networking', `--user-data-dir=${mkdtempSync(join(dir, 'chromium-'))}`,
        `--origin-to-force-quic-on=localhost:${unused}`,
        `--ignore-certificate-errors-spki-list=${cert.spkiSha256Base64}`,
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE localhost',
        '--virtual-time-budget=15000', '--dump-dom', `https://localhost:${running.port}/`,
      ], 60_000);
      expect(r.stdout, r.stderr.slice(-2000)).toContain('<p id="protocol">h2</p>');
      expect(r.stdout).toMatch(/id="result">h3 after \d+</);
    } finally {
      await running.close();
    }
  }, 90_000);
});
