// The command line before and around yargs: a lone '-' (standard input or
// output) kept as it was typed, an option given twice refused, and every
// usage error printed as one line.
import type { Argv, Arguments } from 'yargs';
import { EXIT_BAD_INPUT, UsageError, warn } from './common.js';

// yargs turns a lone '-' into '' (positionals) or drops it (variadic
// positionals): it stands in for '-' until yargs is done. No command-line
// argument can hold a NUL byte, so no real argument can be mistaken for it.
const DASH = '\u0000-';

/** The raw arguments with every lone '-' protected from yargs. */
export function protectDashes(argv: string[]): string[] {
  return argv.map((a) => (a === '-' ? DASH : a));
}

/** yargs middleware (before validation): the protected '-' back where it stood. */
export function restoreDashes(argv: Arguments): void {
  const back = (v: unknown): unknown => (v === DASH ? '-' : Array.isArray(v) ? v.map(back) : v);
  for (const key of Object.keys(argv)) argv[key] = back(argv[key]);
}

interface DeclaredOptions {
  key: Record<string, boolean>;
  alias: Record<string, string[]>;
  /** Options and variadic positionals that take a list. */
  array: string[];
}

/** yargs middleware (before validation): an option that takes one value, given twice, is a usage error. */
export function refuseRepeats(argv: Arguments, y: Argv): void {
  // getOptions() is yargs' own view of the declared options; @types/yargs leaves it out.
  const opts = (y as unknown as { getOptions(): DeclaredOptions }).getOptions();
  for (const key of Object.keys(opts.key)) {
    if (!Array.isArray(argv[key]) || opts.array.includes(key)) continue;
    const names = [key, ...(opts.alias[key] ?? [])].filter((n) => !/[A-Z]/.test(n)).sort((x, y) => x.length - y.length);
    const flags = names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join('/');
    throw new UsageError(`${flags} given more than once (${(argv[key] as unknown[]).join(', ')}); give it once`);
  }
}

/** A usage error: one line on stderr, exit 2. */
export function failUsage(message: string): never {
  warn(`${message.split(DASH).join('-').replace(/\s*\n\s*/g, ' ')} (see pinscope --help)`);
  process.exit(EXIT_BAD_INPUT);
}
