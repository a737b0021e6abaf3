// pinscope validate: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const validateCommand: CommandModule = {
  command: 'validate',
  describe: '(validate: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('validate is not available yet');
  }),
};
