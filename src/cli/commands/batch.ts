// pinscope batch: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const batchCommand: CommandModule = {
  command: 'batch',
  describe: '(batch: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('batch is not available yet');
  }),
};
