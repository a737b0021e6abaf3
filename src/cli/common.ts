// What every command shares: exit codes, option parsing, error reporting.
import { statSync } from 'node:fs';
import { TraceInputError } from '../trace/errors.js';
import { STRATEGY_IDS, FINDING_KINDS, DEFAULT_LEASE_BREAK_NS, type StrategyId, type FindingKind } from '../replay/types.js';

export const EXIT_OK = 0;
export const EXIT_FAIL_ON = 1;
export const EXIT_BAD_INPUT = 2;

/** Bad usage: printed as one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, min: 60e9 };

/** "45s", "500ms", "2000000" (ns) -> integer ns. */
export function parseDuration(text: string | number, option = '--lease-break'): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new UsageError(`${option}: expected a non-negative duration, got ${text}`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|min)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${option}: expected a duration such as 45s, 500ms or 2000000 (ns), got '${text}'`);
  const ns = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ns']!);
  if (!Number.isSafeInteger(ns)) throw new UsageError(`${option}: duration too large: '${text}'`);
  return ns;
}

/** "all" or a comma list of strategy ids, in canonical order, without repeats. */
export function parseStrategies(text: string | string[] | undefined): StrategyId[] {
  const words = (Array.isArray(text) ? text.join(',') : (text ?? 'all')).split(',').map((s) => s.trim()).filter(Boolean);
  if (words.length === 0 || words.includes('all')) return [...STRATEGY_IDS];
  for (const w of words) {
    if (!(STRATEGY_IDS as readonly string[]).includes(w)) {
      throw new UsageError(`--strategy: unknown strategy '${w}'; expected all or a comma list of ${STRATEGY_IDS.join(', ')}`);
    }
  }
  return STRATEGY_IDS.filter((s) => words.includes(s));
}

/** A comma list of finding kinds for --fail-on. */
export function parseKinds(text: string | string[] | undefined, option = '--fail-on'): FindingKind[] {
  if (text === undefined) return [];
  const words = (Array.isArray(text) ? text.join(',') : text).split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of words) {
    if (!(FINDING_KINDS as readonly string[]).includes(w)) {
      throw new UsageError(`${option}: unknown finding kind '${w}'; expected a comma list of ${FINDING_KINDS.join(', ')}`);
    }
  }
  return FINDING_KINDS.filter((k) => words.includes(k));
}

export const leaseBreakDefault = DEFAULT_LEASE_BREAK_NS;

/** Options most commands take (cli.md "Common options"). */
export const commonOptions = {
  strategy: { type: 'string', default: 'all', describe: `strategies to replay: all, or a comma list of ${STRATEGY_IDS.join(',')}` },
  'lease-break': { type: 'string', default: '45s', describe: 'lease-break deadline for notify and kill (ns, or 45s, 500ms, ...)' },
  lenient: { type: 'boolean', default: false, describe: 'skip bad events, count them by reason, and go on' },
  json: { type: 'boolean', default: false, describe: 'print the JSON summary on stdout instead of a table' },
  'fail-on': { type: 'string', describe: 'exit 1 if a finding of one of these kinds (comma list) occurs under a selected strategy' },
  quiet: { type: 'boolean', default: false, describe: 'no progress on stderr' },
} as const;

/**
 * Runs a command body and turns expected failures into a one-line message
 * and an exit code; anything else is an internal error (still exit 2).
 */
export async function runCommand(body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? EXIT_OK;
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof TraceInputError || err instanceof UsageError) {
    process.stderr.write(`pinscope: ${err.message}\n`);
  } else if (err instanceof Error && ['ENOENT', 'EACCES', 'EISDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) {
    process.stderr.write(`pinscope: ${err.message}\n`);
  } else {
    process.stderr.write(`pinscope: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  return EXIT_BAD_INPUT;
}

/** Progress goes to stderr, and only when stderr is a TTY and not --quiet. */
export function progressEnabled(quiet: boolean | undefined): boolean {
  return !quiet && Boolean(process.stderr.isTTY);
}

/** A trace argument must be a file or '-': a folder gets a one-line answer naming it (reading one fails with a nameless EISDIR). */
export function checkInputFile(path: string): void {
  if (path === '-' || path === '') return;
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new UsageError(`${path}: a folder, expected one trace file (pinscope batch takes folders)`);
}
