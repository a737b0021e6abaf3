// Runs every trace of a folder through analysis and the report in a pool
// of worker threads (piscina: a well-kept pool that restarts a crashed
// worker and rejects only its task), and writes summary.json + index.html.
import { join, relative, resolve, sep } from 'node:path';
import { Piscina } from 'piscina';
import { discoverTraces } from './discover.js';
import { reportNames } from './report-names.js';
import type { BatchEntry, BatchSummary, TraceOutcome, TraceTask } from './types.js';
import type { StrategyId } from '../replay/types.js';
import { TOOL_VERSION } from '../version.js';
import { renderIndex } from '../report/index.js';
import { makeFolder, writeOutput } from '../output/file.js';

export interface BatchOptions {
  dir: string;
  out: string;
  jobs: number;
  strategies: StrategyId[];
  leaseBreakNs: number;
  lenient: boolean;
  /** The worker module (a test swaps in one that crashes); default ./task.js. */
  taskModule?: string;
  /** Called after each trace: traces done, total, events read so far. */
  onProgress?: (done: number, total: number, events: number) => void;
}

export interface BatchResult {
  summary: BatchSummary;
  failed: number;
}

export async function runBatch(opts: BatchOptions): Promise<BatchResult> {
  await makeFolder(opts.out);
  const { traces, ignored } = await discoverTraces(opts.dir, opts.out);
  const rel = traces.map((t) => relative(opts.dir, t).split(sep).join('/'));
  const names = reportNames(rel);

  const pool = new Piscina<TraceTask, TraceOutcome>({
    filename: opts.taskModule ?? new URL('./task.js', import.meta.url).href,
    minThreads: Math.min(opts.jobs, Math.max(1, traces.length)),
    maxThreads: opts.jobs,
    idleTimeout: 1000,
  });
  let done = 0;
  let events = 0;
  opts.onProgress?.(0, traces.length, 0);
  const entries: BatchEntry[] = await Promise.all(
    traces.map(async (path, i): Promise<BatchEntry> => {
      const task: TraceTask = {
        path,
        reportFile: resolve(opts.out, names[i]!),
        strategies: opts.strategies,
        leaseBreakNs: opts.leaseBreakNs,
        lenient: opts.lenient,
      };
      let outcome: TraceOutcome;
      try {
        outcome = await pool.run(task);
      } catch (err) {
        outcome = { status: 'error', error: `${path}: worker crashed: ${err instanceof Error ? err.message : String(err)}` };
      }
      done += 1;
      if (outcome.status === 'ok') events += outcome.trace.events_read;
      opts.onProgress?.(done, traces.length, events);
      return outcome.status === 'ok'
        ? { path, status: 'ok', report: names[i]!, trace: outcome.trace, strategies: outcome.strategies }
        : { path, status: 'error', error: outcome.error };
    }),
  );
  await pool.destroy();

  const summary: BatchSummary = {
    tool: 'pinscope',
    version: TOOL_VERSION,
    params: { strategies: opts.strategies, lease_break_ns: opts.leaseBreakNs, lenient: opts.lenient },
    traces: entries,
    ignored: ignored.map((f) => ({ path: f.path, reason: f.reason })),
  };
  await writeOutput(join(opts.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeOutput(join(opts.out, 'index.html'), renderIndex(summary));
  return { summary, failed: entries.filter((e) => e.status === 'error').length };
}
