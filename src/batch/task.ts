// One trace in a pool worker: replay with the report collector (in this
// thread: the pool already keeps every core busy), write its report, and
// return what summary.json keeps. Bad input is an outcome, not a throw.
import { analyzeForReport, writeReport } from '../report/index.js';
import { TraceInputError } from '../trace/errors.js';
import { OutputError, isSystemError } from '../output/file.js';
import type { TraceOutcome, TraceTask } from './types.js';

export default async function runTraceTask(task: TraceTask): Promise<TraceOutcome> {
  try {
    const input = await analyzeForReport(task.path, {
      strategies: task.strategies,
      leaseBreakNs: task.leaseBreakNs,
      lenient: task.lenient,
      threads: 1,
    });
    await writeReport(task.reportFile, input);
    return { status: 'ok', trace: input.summary.trace, strategies: input.summary.strategies };
  } catch (err) {
    if (err instanceof TraceInputError) return { status: 'error', error: err.message };
    // The report could not be written, or the trace read (it went away, a folder, no permission): say so, not "internal".
    if (err instanceof OutputError) return { status: 'error', error: `${task.path}: ${err.message}` };
    if (isSystemError(err)) return { status: 'error', error: err.message };
    return { status: 'error', error: `${task.path}: internal error: ${err instanceof Error ? err.message : String(err)}` };
  }
}
