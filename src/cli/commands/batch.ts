// pinscope batch <dir>: every trace under a folder, in parallel workers.
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import {
  commonOptions, EXIT_BAD_INPUT, EXIT_FAIL_ON, EXIT_OK, oneLine, parseCount, parseDuration, parseKinds, parseStrategies,
  progressEnabled, runCommand, UsageError,
} from '../common.js';
import type { BatchSummary } from '../../batch/types.js';
import type { FindingKind } from '../../replay/types.js';

interface BatchArgs {
  dir: string;
  out: string;
  jobs?: string;
  strategy: string;
  'lease-break': string;
  lenient: boolean;
  json: boolean;
  'fail-on'?: string;
  quiet: boolean;
}

/** True when some trace has a finding of one of `kinds` under some selected strategy. */
export function batchMatches(summary: BatchSummary, kinds: FindingKind[]): boolean {
  return summary.traces.some((t) =>
    Object.values(t.strategies ?? {}).some((s) => kinds.some((k) => (s?.counts[k] ?? 0) > 0)));
}

export const batchCommand: CommandModule<object, BatchArgs> = {
  command: 'batch <dir>',
  describe: 'replay every trace under a folder in parallel; write one report per trace, index.html and summary.json',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'folder searched recursively for traces (by content)' })
      .option('out', { type: 'string', default: 'reports', describe: 'output folder' })
      .option('jobs', { type: 'string', describe: 'worker threads (default: number of cores)' })
      .options(commonOptions)
      .option('json', { ...commonOptions.json, describe: 'print summary.json on stdout instead of the counts (the files are written either way)' })
      .example('$0 batch traces --out reports', 'every shipped trace; open reports/index.html')
      .example('$0 batch captures/ --jobs 2 --strategy pin,notify,odp --fail-on corruption', 'CI gate over a folder of captures')
      .example('$0 batch captures/ --json --quiet > summary.json', 'the summary on stdout too') as never,
  handler: (argv) =>
    runCommand(async () => {
      const strategies = parseStrategies(argv.strategy);
      const leaseBreakNs = parseDuration(argv['lease-break']);
      const failOn = parseKinds(argv['fail-on']);
      const jobs = argv.jobs === undefined ? availableParallelism() : parseCount(argv.jobs, '--jobs', 1);
      const st = await stat(argv.dir).catch(() => null);
      if (!st?.isDirectory()) throw new UsageError(`${argv.dir}: not a folder`);

      // The batch (worker pool, report modules, progress bar) loads here, not with the CLI.
      const { runBatch } = await import('../../batch/run.js');
      const progress = progressEnabled(argv.quiet) ? (await import('../progress.js')).createBatchProgress() : null;
      const { summary, failed } = await runBatch({
        dir: argv.dir, out: argv.out, jobs, strategies, leaseBreakNs, lenient: argv.lenient,
        onProgress: progress ? (done, total, events) => progress.update(done, total, events) : undefined,
      });
      progress?.stop();

      if (argv.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      else {
        const ok = summary.traces.length - failed;
        process.stdout.write(`${ok} trace(s) replayed, ${failed} failed, ${summary.ignored.length} non-trace file(s) ignored\n`);
        for (const t of summary.traces) if (t.status === 'error') process.stdout.write(`  failed: ${oneLine(t.error ?? '')}\n`);
        process.stdout.write(`index: ${oneLine(argv.out.replace(/\/+$/, ''))}/index.html\n`);
      }
      if (failed > 0 && !argv.lenient) return EXIT_BAD_INPUT;
      if (failOn.length > 0 && batchMatches(summary, failOn)) return EXIT_FAIL_ON;
      return EXIT_OK;
    }),
};
