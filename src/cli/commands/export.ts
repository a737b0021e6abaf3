// pinscope export <trace> --format perfetto -o timeline.json: the replay's
// timeline as Chrome trace-event JSON (docs/recording.md, "Export to Perfetto").
import type { CommandModule } from 'yargs';
import { runCommand, checkInputFile, parseDuration, parseStrategies, printable, commonOptions, EXIT_OK } from '../common.js';
import { writeAtomically } from '../../output/file.js';

interface ExportArgs {
  trace: string;
  format: string;
  output: string;
  strategy: string;
  'lease-break': string;
  lenient: boolean;
  quiet: boolean;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <trace>',
  describe: 'the replay as a timeline: Chrome trace-event JSON that ui.perfetto.dev opens',
  builder: (y) => y
    .positional('trace', { type: 'string', demandOption: true, describe: 'the trace to replay (- for stdin)' })
    .option('format', { type: 'string', choices: ['perfetto'], default: 'perfetto', describe: 'output format' })
    .option('output', { alias: 'o', type: 'string', default: 'timeline.json', describe: 'file to write (- for stdout)' })
    .option('strategy', commonOptions.strategy)
    .option('lease-break', commonOptions['lease-break'])
    .option('lenient', commonOptions.lenient)
    .option('quiet', commonOptions.quiet)
    .example('$0 export trace.ndjson --format perfetto -o timeline.json', 'then open timeline.json in ui.perfetto.dev')
    .example('$0 export trace.ndjson --strategy none,notify,odp -o timeline.json', 'three strategies side by side')
    .strictOptions() as never,
  handler: (argv) => runCommand(async () => {
    checkInputFile(argv.trace);
    const strategies = parseStrategies(argv.strategy);
    const leaseBreakNs = parseDuration(argv['lease-break']);
    const { exportPerfetto } = await import('../../export/perfetto.js');
    const res = await writeAtomically(argv.output, (target) => exportPerfetto(argv.trace, target, { strategies, leaseBreakNs, lenient: argv.lenient }));
    if (!argv.quiet && argv.output !== '-') {
      const s = res.summary.trace;
      process.stderr.write(`wrote ${printable(argv.output)}: ${res.events} trace events, ${strategies.length} strategies, `
        + `${s.events_replayed} events replayed${s.events_skipped ? `, ${s.events_skipped} skipped` : ''}; open it in ui.perfetto.dev\n`);
    }
    return EXIT_OK;
  }),
};
