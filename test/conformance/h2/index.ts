/**
 * The HTTP/2 conformance checklist (RFC 9113, RFC 7541), in RFC order: the one list that both
 * `npm run conformance -- h2` (run.ts) and vitest (h2.test.ts) run.
 */
import type { ConformanceCase } from './case.js';
import { startingCases } from './cases/starting.js';
import { framingCases } from './cases/framing.js';
import { streamCases } from './cases/streams.js';
import { frameDefinitionCases } from './cases/frame-definitions.js';
import { errorCodeCases } from './cases/error-codes.js';
import { httpCases } from './cases/http.js';
import { hpackCases } from './cases/hpack.js';

export const h2Cases: readonly ConformanceCase[] = [
  ...startingCases,
  ...framingCases,
  ...streamCases,
  ...frameDefinitionCases,
  ...errorCodeCases,
  ...httpCases,
  ...hpackCases,
];

/** "RFC 9113 §6.5 SETTINGS on stream 1": a case's unique, readable title. */
export function caseTitle(c: ConformanceCase): string {
  return `${c.section}${c.tls ? ' [TLS]' : ''} ${c.name}`;
}

export type { ConformanceCase, CaseContext } from './case.js';
export { runCase, runCases, type CaseResult, type Targets } from './runner.js';
export { startConformanceServer, type ConformanceServer } from './server.js';
