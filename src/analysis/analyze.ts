// analyzeTrace: replay one trace under the selected strategies and build
// the summary of cli.md. This thread reads, parses and validates the trace
// once; strategies are split by cost between it and worker threads, which
// get the validated events over the wire (src/trace/wire.ts). Results are
// merged in canonical order, so the JSON is the same whatever the split.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { CollectorRef } from './collector.js';
import { ReplayPart, type PartOptions, type PartOutput } from './part.js';
import { PartWorker } from './part-worker.js';
import { splitByCost } from './split.js';
import { openTrace } from '../trace/open.js';
import type { OpenedTrace } from '../trace/source.js';
import { WireEncoder, type WireBatch } from '../trace/wire.js';
import { STRATEGY_IDS, type ReplaySummary, type StrategyId, type TraceInfo } from '../replay/types.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

export { splitByCost } from './split.js';

export interface AnalyzeOptions {
  strategies: StrategyId[];
  leaseBreakNs: number;
  lenient: boolean;
  findings?: boolean;
  collectors?: CollectorRef[];
  /** Threads that replay, this one included (default: 2 for a trace of 16 MiB or more, or standard input, with more than one strategy; else 1). */
  threads?: number;
  onProgress?: (bytes: number) => void;
}

export interface AnalyzeResult {
  summary: ReplaySummary;
  extra: Partial<Record<StrategyId, Record<string, unknown>>>;
}

export async function analyzeTrace(path: string, opts: AnalyzeOptions): Promise<AnalyzeResult> {
  const strategies = STRATEGY_IDS.filter((s) => opts.strategies.includes(s));
  const part: PartOptions = { leaseBreakNs: opts.leaseBreakNs, lenient: opts.lenient };
  if (opts.findings) part.findings = true;
  if (opts.collectors) part.collectors = opts.collectors;
  const readOpts = opts.onProgress ? { lenient: opts.lenient, onProgress: opts.onProgress } : { lenient: opts.lenient };
  // Workers start loading before the trace is opened; they get its header once it is read.
  const [mine, ...theirs] = splitByCost(strategies, opts.threads ?? defaultThreads(strategies, path));
  const workers = theirs.map((g) => new PartWorker({ strategies: g, opts: part }));
  let trace: OpenedTrace;
  let outputs: PartOutput[];
  try {
    trace = await openTrace(path, readOpts);
    const header = trace.header;
    for (const w of workers) w.begin(header);
    const local = await ReplayPart.create(mine!, part, header);
    const encoder = workers.length ? new WireEncoder() : null;
    for await (const batch of trace.batches()) {
      if (encoder) {
        // Sent before this thread replays its share, so the workers replay meanwhile.
        const wire = encoder.encode(batch);
        workers.forEach((w, i) => w.send(i === workers.length - 1 ? wire : copyOf(wire)));
      }
      local.feedBatch(batch);
      for (const w of workers) await w.caughtUp();
    }
    const lastTs = trace.stats.last_ts;
    const pending = workers.map((w) => w.end(lastTs));
    outputs = [local.finish(lastTs), ...(await Promise.all(pending))];
  } finally {
    // Not awaited: a worker's output is in hand (or it failed); its teardown takes ~20 ms.
    for (const w of workers) void w.stop();
  }
  const st = trace.stats;
  const info: TraceInfo = {
    path: trace.path,
    format: trace.format,
    events_read: st.events_read,
    events_replayed: st.events_read - st.events_skipped,
    events_skipped: st.events_skipped,
    skipped_by_reason: sortKeys(st.skipped_by_reason),
    first_ts: st.first_ts,
    last_ts: st.last_ts,
  };
  const summary: ReplaySummary = {
    tool: TOOL_NAME,
    version: TOOL_VERSION,
    params: { strategies, lease_break_ns: opts.leaseBreakNs, page_size: trace.header.page_size, lenient: opts.lenient },
    trace: info,
    strategies: {},
  };
  const extra: AnalyzeResult['extra'] = {};
  for (const s of strategies) {
    for (const o of outputs) {
      if (o.strategies[s]) summary.strategies[s] = o.strategies[s];
      if (o.extra[s]) extra[s] = o.extra[s];
    }
  }
  return { summary, extra };
}

/**
 * Two threads pay off only once the worker's start (~0.12 s) and its own
 * warm-up are amortized: measured on the mixed workload, 9 strategies, one
 * thread was faster up to 100,000 events (0.4 s vs 0.6 s at 10,000) and
 * as fast at 200,000 (~18 MB of JSON Lines). So a trace under 16 MiB (gzip
 * counted at 5x, a typical ratio) replays on one thread; standard input or
 * a pipe, of unknown length, on two. `gzip` is read from the file's magic
 * bytes when not given.
 */
const ONE_THREAD_BELOW = 16 * 2 ** 20;
const GZIP_RATIO = 5;

export function defaultThreads(strategies: StrategyId[], path: string, gzip?: boolean): number {
  if (strategies.length < 2) return 1;
  if (path === '-') return 2;
  const st = statSync(path);
  if (!st.isFile()) return 2; // a pipe (e.g. <(zcat x.gz)): reading its magic would consume it
  const size = st.size * ((gzip ?? isGzipFile(path)) ? GZIP_RATIO : 1);
  return size < ONE_THREAD_BELOW ? 1 : 2;
}

function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

function copyOf(w: WireBatch): WireBatch {
  return { ...w, data: w.data.slice() };
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  const o: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) o[k] = r[k]!;
  return o;
}
