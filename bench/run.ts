/** `npm run bench -- <name>…`: runs the named benchmarks (all when none is named). */
const BENCHES: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  h1: () => import('./h1.js'),
  h2: () => import('./h2.js'),
  h3: () => import('./h3.js'),
  'quic-crypto': () => import('./quic-crypto.js'),
  quic: () => import('./quic.js'),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const selected = names.length ? names : Object.keys(BENCHES);
  for (const name of selected) {
    const load = BENCHES[name];
    if (!load) {
      console.error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(', ')}`);
      process.exitCode = 1;
      continue;
    }
    await (await load()).run();
  }
}

void main();
