/** A small argv parser for the `h123` command: flags, `--name value`, `--name=value`, `-X value`. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** Options that take a value; every other `--x` is a boolean flag. */
export function parseArgs(argv: string[], valued: ReadonlySet<string>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { positional.push(arg); continue; }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (eq > 0) { flags.set(name, arg.slice(eq + 1)); continue; }
    if (valued.has(name)) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${name} needs a value`);
      flags.set(name, value);
    } else {
      flags.set(name, true);
    }
  }
  return { positional, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function portFlag(args: ParsedArgs, name: string, def: number): number {
  const v = stringFlag(args, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}: not a port: ${v}`);
  return n;
}
