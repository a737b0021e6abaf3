// The pinscope command line: yargs parses, the library does the work.
import yargs from 'yargs';
import { endQuietlyOnClosedOutput, UsageError } from './common.js';
import { failUsage, protectDashes, refuseRepeats, restoreDashes } from './args.js';
import { TOOL_VERSION } from '../version.js';
import { replayCommand } from './commands/replay.js';
import { batchCommand } from './commands/batch.js';
import { reportCommand } from './commands/report.js';
import { validateCommand } from './commands/validate.js';
import { statsCommand } from './commands/stats.js';
import { generateCommand } from './commands/generate.js';
import { importCommand } from './commands/import.js';
import { exportCommand } from './commands/export.js';

export async function main(argv: string[]): Promise<void> {
  endQuietlyOnClosedOutput();
  const cli = yargs(protectDashes(argv))
    .scriptName('pinscope')
    .usage('$0 <command> [options]\n\nReplay get_user_pages / DMA / truncate traces under every pinning strategy and show who pays.')
    .middleware(restoreDashes, true)
    // yargs passes itself as the middleware's second argument; @types/yargs leaves it out.
    .middleware(refuseRepeats as never, true)
    .command(replayCommand)
    .command(batchCommand)
    .command(reportCommand)
    .command(validateCommand)
    .command(statsCommand)
    .command(generateCommand)
    .command(importCommand)
    .command(exportCommand)
    .demandCommand(1, 'name a command')
    .strict()
    .version(TOOL_VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(100, process.stdout.columns || 100))
    // yargs exits 1 on a usage error; ours is 2, with one line on stderr.
    .fail((msg, err) => {
      if (err && !msg) throw err;
      failUsage(msg ?? err?.message ?? 'bad usage');
    });
  try {
    await cli.parseAsync();
  } catch (err) {
    if (err instanceof UsageError) failUsage(err.message);
    throw err;
  }
}
