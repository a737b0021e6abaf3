// pinscope report <trace or summary.json> -o FILE: the self-contained HTML report.
import { dirname, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { commonOptions, parseDuration, parseStrategies, printable, runCommand, checkInputFile, UsageError } from '../common.js';
import { detectInput, heldStrategies, keepStrategies, SummaryInputError, type Summarized } from '../../report/load.js';
import { writeOutput } from '../../output/file.js';
import { STRATEGY_IDS, type StrategyId } from '../../replay/types.js';

interface ReportArgs {
  input: string;
  o: string;
  strategy: string;
  'lease-break'?: string;
  lenient: boolean;
  title?: string;
  static: boolean;
}

/**
 * A summary was replayed already: --strategy picks among the strategies it
 * holds; --lease-break and --lenient would need a replay, so they are refused.
 */
function fromSummary(input: Summarized, path: string, strategies: StrategyId[], argv: ReportArgs): Summarized {
  if (argv['lease-break'] !== undefined || argv.lenient) {
    throw new UsageError(`${argv.lenient ? '--lenient' : '--lease-break'}: ${path} is a summary, already replayed; these options need a trace`);
  }
  if (strategies.length === STRATEGY_IDS.length) return input;
  const held = heldStrategies(input);
  const missing = strategies.filter((s) => !held.includes(s));
  if (missing.length > 0) throw new UsageError(`--strategy: ${path} holds no ${missing.join(', ')} (it holds ${held.join(', ')})`);
  return keepStrategies(input, strategies);
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <input>',
  describe: 'write the self-contained HTML report of a trace (or of a replay --json / batch summary.json)',
  builder: (y) =>
    y
      .positional('input', { type: 'string', demandOption: true, describe: 'a trace (- for stdin), or the JSON that replay --json or batch wrote' })
      .option('o', { alias: 'output', type: 'string', demandOption: true, describe: 'HTML file to write (- for stdout)' })
      .option('strategy', { ...commonOptions.strategy, describe: `${commonOptions.strategy.describe}; of a summary, the ones to show` })
      .option('lease-break', { ...commonOptions['lease-break'], default: undefined, describe: `${commonOptions['lease-break'].describe}; default ${commonOptions['lease-break'].default}; a trace only` })
      .option('lenient', { ...commonOptions.lenient, describe: `${commonOptions.lenient.describe}; a trace only` })
      .option('title', { type: 'string', describe: 'page title (default: pinscope: <trace path>)' })
      .option('static', { type: 'boolean', default: false, describe: 'leave out the inlined vega bundles (~750 KB): static SVG charts, no tooltips' })
      .example('$0 report traces/dax-truncate.ndjson -o report.html', 'replay under every strategy and write the report')
      .example('$0 replay t.ndjson --json > s.json && $0 report s.json -o s.html', 'a report from a saved summary (no timeline)')
      .example('$0 report reports/summary.json -o all.html --strategy pin,odp', 'the comparison page of a batch, two strategies') as never,
  handler: (argv) =>
    runCommand(async () => {
      checkInputFile(argv.input);
      const strategies = parseStrategies(argv.strategy);
      const leaseBreakNs = parseDuration(argv['lease-break'] ?? commonOptions['lease-break'].default);
      const interactive = !argv.static;
      const title = argv.title !== undefined ? { title: argv.title } : {};
      let input;
      try {
        input = await detectInput(argv.input);
      } catch (e) {
        if (e instanceof SummaryInputError) throw new UsageError(e.message);
        throw e;
      }
      // The report modules (vega, vega-lite: ~0.6 s to load) load here, not with the CLI.
      const [{ analyzeForReport }, { writeReport }, { renderIndex }] = await Promise.all([
        import('../../report/collect.js'), import('../../report/page.js'), import('../../report/index-page.js'),
      ]);
      if (input.kind === 'trace') {
        const report = await analyzeForReport(input.path, { strategies, leaseBreakNs, lenient: argv.lenient, interactive, ...title });
        await writeReport(argv.o, report);
      } else {
        const shown = fromSummary(input, argv.input, strategies, argv);
        if (shown.kind === 'summary') {
          await writeReport(argv.o, { summary: shown.summary, data: null, interactive, ...title });
        } else {
          // Links in summary.json are relative to the batch's folder; re-aim them at the page we write.
          const base = dirname(resolve(argv.input));
          const links: Record<string, string> = {};
          for (const e of shown.batch.traces) {
            if (e.report) links[e.path] = relative(dirname(resolve(argv.o)), resolve(base, e.report)).split('\\').join('/');
          }
          await writeOutput(argv.o, renderIndex(shown.batch, links, { interactive, ...title }));
        }
      }
      // The page itself is standard output with -o -.
      if (argv.o !== '-') process.stdout.write(`report: ${printable(argv.o)}\n`);
    }),
};
