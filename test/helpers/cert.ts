/** A development CA and localhost certificate made once per test process in a temp directory. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevCertificate, type DevCertificate } from '../../src/cert/dev-cert.js';

let cached: DevCertificate | null = null;

export function testCertificate(): DevCertificate {
  cached ??= loadOrCreateDevCertificate(mkdtempSync(join(tmpdir(), 'h123-test-cert-')));
  return cached;
}
