// pinscope report <trace or summary.json> -o FILE: the self-contained HTML report.
import { dirname, relative, resolve } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { commonOptions, parseDuration, parseStrategies, runCommand, checkInputFile, UsageError } from '../common.js';
import { detectInput, SummaryInputError } from '../../report/load.js';

interface ReportArgs {
  input: string;
  o: string;
  strategy: string;
  'lease-break': string;
  lenient: boolean;
  title?: string;
  static: boolean;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <input>',
  describe: 'write the self-contained HTML report of a trace (or of a replay --json / batch summary.json)',
  builder: (y) =>
    y
      .positional('input', { type: 'string', demandOption: true, describe: 'a trace, or the JSON that replay --json or batch wrote' })
      .option('o', { alias: 'output', type: 'string', demandOption: true, describe: 'HTML file to write' })
      .option('strategy', commonOptions.strategy)
      .option('lease-break', commonOptions['lease-break'])
      .option('lenient', commonOptions.lenient)
      .option('title', { type: 'string', describe: 'page title (default: pinscope: <trace path>)' })
      .option('static', { type: 'boolean', default: false, describe: 'leave out the inlined vega bundles (~750 KB): static SVG charts, no tooltips' })
      .example('$0 report traces/dax-truncate.ndjson -o report.html', 'replay under every strategy and write the report')
      .example('$0 replay t.ndjson --json > s.json && $0 report s.json -o s.html', 'a report from a saved summary (no timeline)')
      .example('$0 report reports/summary.json -o all.html', 'the comparison page of a batch') as never,
  handler: (argv) =>
    runCommand(async () => {
      checkInputFile(String(argv.input ?? ''));
      const strategies = parseStrategies(argv.strategy);
      const leaseBreakNs = parseDuration(argv['lease-break']);
      const interactive = !argv.static;
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
        const report = await analyzeForReport(input.path, {
          strategies, leaseBreakNs, lenient: argv.lenient, interactive,
          ...(argv.title !== undefined ? { title: argv.title } : {}),
        });
        await writeReport(argv.o, report);
      } else if (input.kind === 'summary') {
        await writeReport(argv.o, { summary: input.summary, data: null, interactive, ...(argv.title !== undefined ? { title: argv.title } : {}) });
      } else {
        // Links in summary.json are relative to the batch's folder; re-aim them at the page we write.
        const base = dirname(resolve(argv.input));
        const links: Record<string, string> = {};
        for (const e of input.batch.traces) {
          if (e.report) links[e.path] = relative(dirname(resolve(argv.o)), resolve(base, e.report)).split('\\').join('/');
        }
        await mkdir(dirname(resolve(argv.o)), { recursive: true });
        await writeFile(argv.o, renderIndex(input.batch, links, { interactive, ...(argv.title !== undefined ? { title: argv.title } : {}) }));
      }
      process.stdout.write(`report: ${argv.o}\n`);
    }),
};
