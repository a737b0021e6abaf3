// What every command shares: exit codes, option parsing, error reporting.
import { statSync } from 'node:fs';
import { TraceInputError } from '../trace/errors.js';
import { OutputError, isSystemError } from '../output/file.js';
import { STRATEGY_IDS, FINDING_KINDS, DEFAULT_LEASE_BREAK_NS, type StrategyId, type FindingKind } from '../replay/types.js';

export const EXIT_OK = 0;
export const EXIT_FAIL_ON = 1;
export const EXIT_BAD_INPUT = 2;

/** Bad usage: printed as one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

// Powers of ten and a minute, so that a decimal fraction gives exact whole nanoseconds.
const UNITS: Record<string, bigint> = { ns: 1n, us: 1_000n, µs: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, min: 60_000_000_000n };

/** "45s", "500ms", "1.5us", "2000000" (ns) -> a whole number of ns. */
export function parseDuration(text: string | number, option = '--lease-break'): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new UsageError(`${option}: expected a non-negative duration, got ${text}`);
  }
  const m = /^\s*(\d+)(?:\.(\d+))?\s*(ns|us|µs|ms|s|min)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${option}: expected a duration such as 45s, 500ms or 2000000 (ns; units ns, us, ms, s, min), got '${text}'`);
  const frac = m[2] ?? '';
  const scaled = BigInt(m[1]! + frac) * UNITS[m[3] ?? 'ns']!;
  const per = 10n ** BigInt(frac.length);
  if (scaled % per !== 0n) throw new UsageError(`${option}: '${text}' is not a whole number of nanoseconds`);
  const ns = Number(scaled / per);
  if (!Number.isSafeInteger(ns)) throw new UsageError(`${option}: duration too large: '${text}'`);
  return ns;
}

/** The words of a comma list; an empty list is a usage error (it would silently mean all, or nothing). */
function commaList(text: string | string[], option: string, expected: string): string[] {
  const words = (Array.isArray(text) ? text.join(',') : text).split(',').map((s) => s.trim()).filter(Boolean);
  if (words.length === 0) throw new UsageError(`${option}: empty list; expected ${expected}`);
  return words;
}

/** "all" or a comma list of strategy ids, in canonical order, without repeats. */
export function parseStrategies(text: string | string[] | undefined): StrategyId[] {
  const expected = `all or a comma list of ${STRATEGY_IDS.join(', ')}`;
  const words = commaList(text ?? 'all', '--strategy', expected);
  if (words.includes('all')) return [...STRATEGY_IDS];
  for (const w of words) {
    if (!(STRATEGY_IDS as readonly string[]).includes(w)) throw new UsageError(`--strategy: unknown strategy '${w}'; expected ${expected}`);
  }
  return STRATEGY_IDS.filter((s) => words.includes(s));
}

/** A comma list of finding kinds for --fail-on. */
export function parseKinds(text: string | string[] | undefined, option = '--fail-on'): FindingKind[] {
  if (text === undefined) return [];
  const expected = `a comma list of ${FINDING_KINDS.join(', ')}`;
  const words = commaList(text, option, expected);
  for (const w of words) {
    if (!(FINDING_KINDS as readonly string[]).includes(w)) throw new UsageError(`${option}: unknown finding kind '${w}'; expected ${expected}`);
  }
  return FINDING_KINDS.filter((k) => words.includes(k));
}

/** An integer >= min from the command line ('1_000' allowed), or a usage error echoing the text given. */
export function parseCount(text: string | number | undefined, option: string, min = 0): number {
  const s = String(text ?? '').trim().replace(/_/g, '');
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${option}: expected an integer >= ${min}, got '${text ?? ''}'`);
  return n;
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
 * `pinscope ... | head` closes standard output early: from then on nothing
 * more is written there, quietly, and the command still ends with the exit
 * code it computes. Any other failure of stdout or stderr (a full disk) is
 * one line and exit 2.
 */
export function endQuietlyOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') return;
      if (stream === process.stdout) warn(`cannot write standard output: ${err.message}`);
      process.exit(EXIT_BAD_INPUT);
    });
  }
}

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

/** Errors that are the input's, the usage's or the system's, not pinscope's: one line says it all. */
export function isReportable(err: unknown): err is Error {
  return err instanceof TraceInputError || err instanceof UsageError || err instanceof OutputError || isSystemError(err);
}

export function reportError(err: unknown): number {
  if (isReportable(err)) {
    warn(err.message);
  } else {
    warn(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
  }
  return EXIT_BAD_INPUT;
}

/** A message on stderr: `pinscope: ...`, one line whatever the message holds. */
export function warn(message: string): void {
  process.stderr.write(`pinscope: ${oneLine(message)}\n`);
}

// C0 controls (newline, ESC, ...), DEL and the C1 controls: text a terminal acts on.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const escapeControl = (c: string): string => (c < '\u0020' ? JSON.stringify(c).slice(1, -1) : `\\u00${c.charCodeAt(0).toString(16)}`);

/** A message with every control character escaped (\\n, \\u001b, ...): one line that cannot drive the terminal. */
export function oneLine(message: string): string {
  return message.replace(CONTROL, escapeControl);
}

/** A name from a trace or the file system, as printed: JSON-quoted (with escapes) if it holds a control character, else as it is. */
export function printable(name: string): string {
  return name.search(CONTROL) < 0 ? name : JSON.stringify(name).replace(CONTROL, escapeControl);
}

/** Progress goes to stderr, and only when stderr is a TTY and not --quiet. */
export function progressEnabled(quiet: boolean | undefined): boolean {
  return !quiet && Boolean(process.stderr.isTTY);
}

/**
 * A trace argument must be named, and be a file or '-': a folder gets a
 * one-line answer naming it (reading one fails with a nameless EISDIR),
 * unless the command takes folders.
 */
export function checkInputFile(path: string, folders = false): void {
  if (path === '') throw new UsageError('an empty trace file name; name a trace file, or - for standard input');
  if (path === '-' || folders) return;
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new UsageError(`${path}: a folder, expected one trace file (pinscope batch takes folders)`);
}
