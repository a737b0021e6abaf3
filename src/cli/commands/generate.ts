// pinscope generate: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const generateCommand: CommandModule = {
  command: 'generate',
  describe: '(generate: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('generate is not available yet');
  }),
};
