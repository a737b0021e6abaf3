// pinscope import: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const importCommand: CommandModule = {
  command: 'import',
  describe: '(import: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('import is not available yet');
  }),
};
