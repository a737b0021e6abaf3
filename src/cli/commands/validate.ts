// pinscope validate <trace...>: check traces against format v1; the first
// error of each bad file (or every bad event with --all-errors).
import { stat } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { EXIT_BAD_INPUT, EXIT_OK, isReportable, printable, runCommand, UsageError, warn } from '../common.js';
import { openTrace } from '../../trace/open.js';
import { discoverTraces } from '../../batch/discover.js';

interface ValidateArgs {
  trace: string[];
  'all-errors': boolean;
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
        warn(err.message);
      },
    });
    let n = 0;
    for await (const batch of trace.batches()) n += batch.length;
    if (bad > 0) {
      warn(`${path}: ${bad} of ${trace.stats.events_read} events are bad`);
      return false;
    }
    const what = trace.gzip ? `${trace.format}, gzip` : trace.format;
    process.stdout.write(`ok ${printable(path)}: ${n} events (${what})\n`);
    return true;
  } catch (err) {
    if (!isReportable(err)) throw err;
    warn(err.message);
    return false;
  }
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <trace...>',
  describe: 'check traces against trace format v1: the first error of each bad file, or every bad event with --all-errors',
  builder: (y) =>
    y
      .positional('trace', { type: 'string', array: true, demandOption: true, default: undefined, describe: 'trace files (- for stdin); a folder means every trace under it' })
      .option('all-errors', { type: 'boolean', default: false, describe: 'list every bad event, not just the first (framing and gzip errors still stop the file)' })
      .example('$0 validate traces/scenarios/dax-truncate-reuse.ndjson', 'prints: ok <file>: N events (ndjson)')
      .example('$0 validate capture.json.gz other.ndjson --all-errors', 'every bad event of each file, one line each; exit 2 if any is bad')
      .example('zcat capture.ndjson.gz | $0 validate -', 'a trace on standard input') as never,
  handler: (argv) =>
    runCommand(async () => {
      const paths = await expandTracePaths(argv.trace);
      if (paths.length === 0) throw new UsageError('name at least one trace (or - for standard input)');
      let allGood = true;
      for (const p of paths) {
        if (!(await validateOne(p, argv['all-errors']))) allGood = false;
      }
      return allGood ? EXIT_OK : EXIT_BAD_INPUT;
    }),
};
