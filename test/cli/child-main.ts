/** Child process of main.test.ts: runs `h123 <args>` from the TypeScript sources, as bin/h123.js runs the build. */
import { main } from '../../src/cli/main.js';

main(process.argv.slice(3)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 1; },
);
