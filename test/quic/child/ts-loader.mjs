// Module hooks that let a child `node` process run this repository's TypeScript directly (Node 20
// cannot): `./x.js` imports from a .ts file resolve to `./x.ts` when it exists, and .ts sources are
// stripped of their types by esbuild, which vitest already brings (through vite); the TypeScript
// compiler would take seconds of CPU per child. For tests only.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

export async function resolve(specifier, context, next) {
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const { code } = transformSync(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: fileURLToPath(url) });
  return { format: 'module', source: code, shortCircuit: true };
}
