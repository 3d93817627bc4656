/**
 * Runs conformance cases: a fresh connection per case (so that one case's connection error cannot
 * hide another's), a few cases at a time, each with an overall deadline.
 */
import { H2TestClient, type Target } from './client.js';
import { caseContext, type ConformanceCase } from './case.js';

export interface CaseResult {
  case: ConformanceCase;
  passed: boolean;
  /** Why it failed ("expected …; got …"). */
  message?: string;
  ms: number;
}

export interface Targets {
  cleartext: Target;
  /** Cases marked `tls` fail with a clear message when there is no TLS target. */
  tls?: Target;
}

/** A case that runs longer than this has hung (every read inside has its own timeout). */
const CASE_DEADLINE_MS = 15_000;

/** Runs one case on a new connection and reports, never throws. */
export async function runCase(testCase: ConformanceCase, targets: Targets): Promise<CaseResult> {
  const started = Date.now();
  const target = testCase.tls ? targets.tls : targets.cleartext;
  if (!target) return { case: testCase, passed: false, message: 'no TLS target to run this case on', ms: 0 };
  let client: H2TestClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = (async () => {
      client = await H2TestClient.connect(target);
      if (testCase.handshake !== false) await client.handshake();
      await testCase.run(client, caseContext(target));
    })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no verdict within ${CASE_DEADLINE_MS} ms`)), CASE_DEADLINE_MS);
    });
    await Promise.race([run, deadline]);
    return { case: testCase, passed: true, ms: Date.now() - started };
  } catch (error) {
    return { case: testCase, passed: false, message: (error as Error).message, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
    client?.close();
  }
}

/** Runs all cases, `concurrency` at a time; results keep the order of `cases`. */
export async function runCases(cases: readonly ConformanceCase[], targets: Targets, concurrency = 6): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < cases.length) {
      const index = nextIndex++;
      results[index] = await runCase(cases[index]!, targets);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  return results;
}
