// pinscope stats <trace>: what is in a trace (events by type, time span,
// pins, devices, files, processes); a folder gives every trace under it.
import type { CommandModule } from 'yargs';
import { EXIT_BAD_INPUT, EXIT_OK, checkInputFile, printable, runCommand, warn } from '../common.js';
import { TraceInputError } from '../../trace/errors.js';
import { openTrace } from '../../trace/open.js';
import { traceStats, formatTraceStats, type TraceStats } from '../../trace/trace-stats.js';
import { expandTracePaths } from './validate.js';

interface StatsArgs {
  trace: string;
  json: boolean;
  lenient: boolean;
}

export const statsCommand: CommandModule<object, StatsArgs> = {
  command: 'stats <trace>',
  describe: 'events by type, time span, pins, devices, files and processes of a trace (or of every trace under a folder)',
  builder: (y) =>
    y
      .positional('trace', { type: 'string', demandOption: true, describe: 'a trace file (- for stdin) or a folder searched recursively' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON object (an array of them for a folder)' })
      .option('lenient', { type: 'boolean', default: false, describe: 'skip bad events, count them by reason, and go on' })
      .example('$0 stats traces/scenarios/dax-truncate-reuse.ndjson', 'one trace, readable')
      .example('$0 stats traces --json', 'every trace under traces/, as a JSON array') as never,
  handler: (argv) =>
    runCommand(async () => {
      const given = argv.trace;
      checkInputFile(given, true);
      const paths = await expandTracePaths([given]);
      const single = paths.length === 1 && paths[0] === given;
      const all: TraceStats[] = [];
      let bad = false;
      for (const p of paths) {
        let st: TraceStats;
        try {
          st = await traceStats(await openTrace(p, { lenient: argv.lenient }));
        } catch (err) {
          // One bad trace in a folder does not hide the others; it still makes the exit code 2.
          if (single || !(err instanceof TraceInputError)) throw err;
          warn(err.message);
          bad = true;
          continue;
        }
        if (argv.json) all.push(st);
        else process.stdout.write(`${formatTraceStats(printableNames(st))}\n`);
      }
      if (argv.json) process.stdout.write(`${JSON.stringify(single ? all[0] : all, null, 2)}\n`);
      return bad ? EXIT_BAD_INPUT : EXIT_OK;
    }),
};

/** Names from the trace (and its path) as the terminal may show them: see printable(). */
function printableNames(st: TraceStats): TraceStats {
  return {
    ...st,
    path: printable(st.path),
    source: st.source === null ? null : printable(st.source),
    devices: { ...st.devices, names: st.devices.names.map(printable) },
  };
}
