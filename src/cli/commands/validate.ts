// pinscope validate <trace...>: check traces against format v1; the first
// error of each bad file (or every bad event with --all-errors).
import { stat } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { EXIT_BAD_INPUT, EXIT_OK, runCommand, UsageError } from '../common.js';
import { openTrace } from '../../trace/open.js';
import { TraceInputError } from '../../trace/errors.js';
import { discoverTraces } from '../../batch/discover.js';

interface ValidateArgs {
  trace: string[];
  'all-errors': boolean;
}

/** One line for an error of any kind (never a stack trace for bad input or a missing file). */
function errorLine(err: unknown): string {
  if (err instanceof TraceInputError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && e.message) return e.message;
  throw err;
}

/**
 * yargs drops a bare `-` argument, so standard input is put back where it
 * stood among the trace arguments of the raw command line.
 */
export function withStdin(list: string[], raw: string[] = process.argv.slice(2)): string[] {
  const named = list.filter((p) => p !== '');
  if (!raw.includes('-')) return named;
  const out: string[] = [];
  let j = 0;
  for (const tok of raw) {
    if (tok === '-') out.push('-');
    else if (j < named.length && tok === named[j]) out.push(named[j++]!);
  }
  while (j < named.length) out.push(named[j++]!);
  return out;
}

/** `pinscope ... | head` closes stdout early: stop quietly instead of an EPIPE stack trace. */
export function quietOnClosedStdout(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/** Files named, with folders expanded to the traces under them (by content, like batch). */
export async function expandTracePaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = p === '-' ? null : await stat(p).catch(() => null);
    if (st?.isDirectory()) out.push(...(await discoverTraces(p)).traces);
    else out.push(p);
  }
  return out;
}

/** Validates one trace; returns true when it is good. Writes the ok line or the error lines. */
export async function validateOne(path: string, allErrors: boolean): Promise<boolean> {
  let bad = 0;
  try {
    const trace = await openTrace(path, { lenient: allErrors }, {
      onSkip: (err) => {
        bad++;
        process.stderr.write(`pinscope: ${err.message}\n`);
      },
    });
    let n = 0;
    for await (const batch of trace.batches()) n += batch.length;
    if (bad > 0) {
      process.stderr.write(`pinscope: ${path}: ${bad} of ${trace.stats.events_read} events are bad\n`);
      return false;
    }
    const what = trace.gzip ? `${trace.format}, gzip` : trace.format;
    process.stdout.write(`ok ${path}: ${n} events (${what})\n`);
    return true;
  } catch (err) {
    process.stderr.write(`pinscope: ${errorLine(err)}\n`);
    return false;
  }
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <trace...>',
  describe: 'check traces against trace format v1: the first error of each bad file, or every bad event with --all-errors',
  builder: (y) =>
    y
      .positional('trace', { type: 'string', array: true, demandOption: true, describe: 'trace files (- for stdin); a folder means every trace under it' })
      .option('all-errors', { type: 'boolean', default: false, describe: 'list every bad event, not just the first (framing and gzip errors still stop the file)' })
      .example('$0 validate traces/scenarios/dax-truncate-reuse.ndjson', 'prints: ok <file>: N events (ndjson)')
      .example('$0 validate capture.json.gz other.ndjson --all-errors', 'every bad event of each file, one line each; exit 2 if any is bad')
      .example('zcat capture.ndjson.gz | $0 validate -', 'a trace on standard input') as never,
  handler: (argv) =>
    runCommand(async () => {
      quietOnClosedStdout();
      const paths = await expandTracePaths(withStdin(argv.trace));
      if (paths.length === 0) throw new UsageError('name at least one trace (or - for standard input)');
      let allGood = true;
      for (const p of paths) {
        if (!(await validateOne(p, argv['all-errors']))) allGood = false;
      }
      return allGood ? EXIT_OK : EXIT_BAD_INPUT;
    }),
};
