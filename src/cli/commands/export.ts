// pinscope export: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const exportCommand: CommandModule = {
  command: 'export',
  describe: '(export: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('export is not available yet');
  }),
};
