// pinscope report: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const reportCommand: CommandModule = {
  command: 'report',
  describe: '(report: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('report is not available yet');
  }),
};
