// pinscope stats: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const statsCommand: CommandModule = {
  command: 'stats',
  describe: '(stats: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('stats is not available yet');
  }),
};
