// pinscope replay: not yet written (owned by the issue that builds it).
import type { CommandModule } from 'yargs';
import { runCommand, UsageError } from '../common.js';

export const replayCommand: CommandModule = {
  command: 'replay',
  describe: '(replay: not yet available)',
  handler: () => runCommand(async () => {
    throw new UsageError('replay is not available yet');
  }),
};
