/**
 * Finds real protocol peers (curl, nghttp, h2load, ngtcp2, Chromium). Interop tests skip with a
 * message naming the missing program when a peer is not installed.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execFileSync } from 'node:child_process';

const SEARCH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];

export function findProgram(name: string): string | null {
  for (const dir of SEARCH) {
    if (!dir) continue;
    const p = join(dir, name);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** curl that speaks HTTP/2 (built with nghttp2), or null. */
export function curlWithHttp2(): string | null {
  const curl = findProgram('curl');
  if (!curl) return null;
  try {
    return /HTTP2/.test(execFileSync(curl, ['--version'], { encoding: 'utf8' })) ? curl : null;
  } catch { return null; }
}

export function skipMessage(program: string, pkg: string): string {
  return `skipped: ${program} is not installed (Debian package ${pkg})`;
}
