/**
 * The HTTP/2 conformance checklist (RFC 9113, RFC 7541) against h123's serve(): one server for
 * the file, a new connection per case, every case of test/conformance/h2 as one test. A failure
 * message says what the RFC requires and what the server did.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { caseTitle, h2Cases, runCase, startConformanceServer, type ConformanceServer } from './h2/index.js';

let server: ConformanceServer;

// Most of a case's time is spent waiting for the server (held responses, PING round trips), not
// computing: more cases at once keep the file fast without loading the CPU.
vi.setConfig({ maxConcurrency: 10 });

beforeAll(async () => {
  server = await startConformanceServer();
});

afterAll(async () => {
  await server?.close();
});

describe.concurrent('RFC 9113 conformance (h2)', () => {
  for (const testCase of h2Cases) {
    it(caseTitle(testCase), async () => {
      const result = await runCase(testCase, { cleartext: server.cleartext, tls: server.tls });
      expect(result.passed, `${testCase.expect}\n${result.message ?? ''}`).toBe(true);
    });
  }
});
