/**
 * Reads values out of the RFC 8448 trace text kept in fixtures/rfc8448/: a step heading such as
 * `{server}  derive secret "tls13 c hs traffic"` followed by fields `name (N octets):  hex…`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function loadTrace(file: string): string[] {
  const path = fileURLToPath(new URL(`../../../fixtures/rfc8448/${file}`, import.meta.url));
  return readFileSync(path, 'utf8').split('\n');
}

/** The hex of `field` in the first step whose heading starts with `step`, checked against its octet count. */
export function traceValue(lines: string[], step: string, field: string): Buffer {
  const start = lines.findIndex((l) => l.trim().startsWith(step));
  if (start === -1) throw new Error(`no step ${step}`);
  for (let i = start + 1; i < lines.length && !lines[i]!.trim().startsWith('{'); i++) {
    const m = /^\s+(.+?) \((\d+) octets\):\s*(.*)$/.exec(lines[i]!);
    if (!m || m[1] !== field) continue;
    let hex = m[3]!;
    // Continuation lines are indented further; a page break of the RFC text leaves a blank line inside a value.
    const continuation = /^ {9}([0-9a-f]{2} ?)+$/;
    for (let j = i + 1; j < lines.length; j++) {
      if (continuation.test(lines[j]!)) hex += ' ' + lines[j]!.trim();
      else if (!(lines[j]!.trim() === '' && continuation.test(lines[j + 1] ?? ''))) break;
    }
    const value = Buffer.from(hex.replace(/[^0-9a-f]/g, ''), 'hex');
    if (value.length !== Number(m[2])) throw new Error(`${step} / ${field}: ${value.length} bytes, expected ${m[2]}`);
    return value;
  }
  throw new Error(`no field ${field} in step ${step}`);
}
