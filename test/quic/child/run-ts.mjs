// Entry of a child process: installs ts-loader.mjs, then runs the TypeScript file named first on
// the command line (the rest of the arguments stay in process.argv for it).
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('./ts-loader.mjs', import.meta.url);
await import(pathToFileURL(process.argv[2]).href);
