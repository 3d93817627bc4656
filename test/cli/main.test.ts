/** The `h123` command, run in-process: get (with --trace), cert, and usage errors. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { demoHandler } from '../../src/demo/routes.js';
import { startCleartext } from '../helpers/server.js';

let server: Awaited<ReturnType<typeof startCleartext>>;
beforeAll(async () => { server = await startCleartext(demoHandler, { h2: false }); });
afterAll(async () => { await server.close(); });

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => { out += typeof c === 'string' ? c : Buffer.from(c).toString(); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => { err += typeof c === 'string' ? c : Buffer.from(c).toString(); return true; });
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('h123 get', () => {
  it('prints the body as it arrives', async () => {
    const r = await capture(['get', `${server.url}/stream?n=3&interval=0`, '--http1.1']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('chunk 1\nchunk 2\nchunk 3\n');
  });

  it('--trace shows each read with its chunk-size lines and a timestamp', async () => {
    const r = await capture(['get', `${server.url}/stream?n=2&interval=50`, '--http1.1', '--trace']);
    expect(r.err).toMatch(/\[\s*[\d.]+ ms\] recv \d+ bytes: .*8\\r\\nchunk 1\\n\\r\\n/);
    expect(r.err).toMatch(/0\\r\\n\\r\\n/);
  });

  it('posts data with -d and writes to a file with -o', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'h123-cli-')), 'out.txt');
    const r = await capture(['get', `${server.url}/echo`, '-d', 'hello h123', '-o', file]);
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('hello h123');
  });

  it('a reader that goes away ends the download with exit code 23, not a crash (`h123 get … | head`)', async () => {
    const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
    const child = spawn(process.execPath, [here('../quic/child/run-ts.mjs'), here('./child-main.ts'), 'get', `${server.url}/bytes?size=50000000`, '--http1.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -c`: read the first bytes, then close the pipe.
    await new Promise<void>((resolve) => child.stdout!.once('data', () => { child.stdout!.destroy(); resolve(); }));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(stderr).not.toMatch(/Unhandled|EPIPE/);
    expect(code).toBe(23);
  }, 30_000);

  it('exits non-zero for an error status and for a missing URL', async () => {
    expect((await capture(['get', `${server.url}/nope`])).code).toBe(22);
    await expect(main(['get'])).rejects.toThrow(/URL/);
  });
});

describe('h123 cert', () => {
  it('prints the paths and the SPKI hash', async () => {
    const prev = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'h123-xdg-'));
    try {
      const r = await capture(['cert']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/SPKI sha-256: +[A-Za-z0-9+/]{43}=/);
      expect(r.out).toContain(process.env.XDG_CACHE_HOME);
    } finally {
      if (prev === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = prev;
    }
  });
});
