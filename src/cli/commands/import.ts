// pinscope import bpftrace <capture> -o FILE: a `bpftrace -f json` capture
// of scripts/record/pinscope.bt -> a trace of format v1 (docs/recording.md).
import type { CommandModule } from 'yargs';
import { runCommand, parseDuration, printable, UsageError, EXIT_OK } from '../common.js';
import { importBpftrace, describeImport, DEFAULT_SORT_WINDOW_NS } from '../../import/import-bpftrace.js';
import { parseSynthSpec } from '../../import/synthesize-dma.js';
import { writeAtomically } from '../../output/file.js';

interface ImportArgs {
  source: string;
  capture: string;
  output: string;
  'sort-window': string;
  'synthesize-dma'?: string;
  lenient: boolean;
  json: boolean;
  quiet: boolean;
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <source> <capture>',
  describe: 'turn a recording (bpftrace -f json of scripts/record/pinscope.bt) into a trace',
  builder: (y) => y
    .positional('source', { type: 'string', choices: ['bpftrace'], demandOption: true, describe: 'what made the capture' })
    .positional('capture', { type: 'string', demandOption: true, describe: 'the capture file (- for stdin; gzip accepted)' })
    .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'trace to write (JSON Lines; gzip if it ends in .gz; - for stdout)' })
    .option('sort-window', {
      type: 'string', default: `${DEFAULT_SORT_WINDOW_NS / 1e6}ms`,
      describe: 'per-CPU buffers deliver events out of order: sort by ts within this window (ns, or 100ms, ...)',
    })
    .option('synthesize-dma', {
      type: 'string',
      describe: 'PERIOD[,write|read|mixed]: add DMA on every live pin at this period (device DMA is invisible to the kernel)',
    })
    .option('lenient', { type: 'boolean', default: false, describe: 'skip bad lines and late events, count them by reason, and go on' })
    .option('json', { type: 'boolean', default: false, describe: 'print the import report as JSON on stdout' })
    .option('quiet', { type: 'boolean', default: false, describe: 'no counts on stderr' })
    .example('$0 import bpftrace capture.json -o trace.ndjson', 'import a capture of `sudo bpftrace -f json scripts/record/pinscope.bt`')
    .example('$0 import bpftrace capture.json -o trace.ndjson --synthesize-dma 1ms,mixed', 'and say how the devices access their pins')
    .strictOptions() as never,
  handler: (argv) => runCommand(async () => {
    const sortWindowNs = parseDuration(argv['sort-window'], '--sort-window');
    let synthesize;
    if (argv['synthesize-dma'] !== undefined) {
      try {
        synthesize = parseSynthSpec(argv['synthesize-dma'], (s) => parseDuration(s, '--synthesize-dma'));
      } catch (err) {
        if (err instanceof RangeError) throw new UsageError(err.message);
        throw err;
      }
    }
    if (argv.json && argv.output === '-') throw new UsageError('--json and -o - both want stdout; write the trace to a file');
    const opts = { sortWindowNs, synthesize, lenient: argv.lenient };
    const written = await writeAtomically(argv.output, (target) => importBpftrace(argv.capture, target, opts));
    const report = { ...written, output: argv.output };
    if (!argv.quiet) process.stderr.write(describeImport({ ...report, capture: printable(report.capture), output: printable(report.output) }));
    if (argv.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return EXIT_OK;
  }),
};
