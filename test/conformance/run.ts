/**
 * `npm run conformance -- h2 [--connect host:port] [--tls] [--filter text]`: runs the HTTP/2
 * checklist (test/conformance/h2) and prints one row per case: section, case, PASS/FAIL, and for
 * a failure what the RFC expected and what the server did. Exits 1 when a case fails.
 *
 * Without --connect it starts h123's own serve() on loopback (h2c and TLS). With --connect it
 * tests any server reachable there (h2c by prior knowledge, or TLS with ALPN h2 with --tls,
 * certificate unchecked); TLS-only cases then run only with --tls.
 *
 * Compiled by tsc to dist/test/conformance/run.js: no vitest here.
 */
import { caseTitle, h2Cases, runCases, startConformanceServer, type CaseResult, type ConformanceServer, type Targets } from './h2/index.js';

interface Options {
  suite: string;
  connect?: { host: string; port: number };
  tls: boolean;
  filter?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { suite: 'h2', tls: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--connect') {
      const value = argv[++i] ?? '';
      const colon = value.lastIndexOf(':');
      options.connect = { host: value.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(value.slice(colon + 1)) };
    } else if (arg === '--tls') options.tls = true;
    else if (arg === '--filter') options.filter = argv[++i];
    else if (!arg.startsWith('-')) options.suite = arg;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function printTable(results: CaseResult[]): void {
  const sectionWidth = Math.max(...results.map((r) => r.case.section.length), 'SECTION'.length);
  const nameWidth = Math.min(70, Math.max(...results.map((r) => caseName(r).length), 'CASE'.length));
  console.log(`${pad('SECTION', sectionWidth)}  ${pad('CASE', nameWidth)}  RESULT`);
  for (const r of results) {
    console.log(`${pad(r.case.section, sectionWidth)}  ${pad(caseName(r), nameWidth)}  ${r.passed ? 'PASS' : 'FAIL'}`);
    if (!r.passed) {
      console.log(`${' '.repeat(sectionWidth + 2)}  RFC: ${r.case.expect}`);
      console.log(`${' '.repeat(sectionWidth + 2)}  ${r.message}`);
    }
  }
}

const caseName = (r: CaseResult): string => (r.case.tls ? `[TLS] ${r.case.name}` : r.case.name);

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.suite !== 'h2') {
    console.error(`unknown checklist "${options.suite}" (available: h2)`);
    return 2;
  }
  let server: ConformanceServer | undefined;
  let targets: Targets;
  if (options.connect) {
    const target = { ...options.connect, tls: options.tls };
    targets = options.tls ? { cleartext: target, tls: target } : { cleartext: target };
  } else {
    server = await startConformanceServer();
    targets = { cleartext: server.cleartext, tls: server.tls };
  }
  let cases = h2Cases.filter((c) => !options.filter || caseTitle(c).toLowerCase().includes(options.filter.toLowerCase()));
  if (options.connect && options.tls) cases = cases.map((c) => ({ ...c, tls: true }));
  const started = Date.now();
  const results = await runCases(cases, targets);
  await server?.close();
  printTable(results);
  const failed = results.filter((r) => !r.passed).length;
  console.log(`\n${results.length} cases, ${results.length - failed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
