// analyzeTrace: replay one trace under the selected strategies and build
// the summary of cli.md. Strategies are split across worker threads by
// cost; each thread opens and parses the trace itself, and the results are
// merged in canonical order, so the JSON is the same whatever the split.
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { CollectorFactory, CollectorRef, StrategyCollector } from './collector.js';
import { SummaryBuilder } from './summary.js';
import { openTrace } from '../trace/open.js';
import { TraceInputError, type InputPosition } from '../trace/errors.js';
import { Replay } from '../replay/engine.js';
import {
  STRATEGY_IDS, type FindingSink, type ReplaySummary, type StrategyId, type StrategySummary, type TraceInfo,
} from '../replay/types.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

export interface AnalyzeOptions {
  strategies: StrategyId[];
  leaseBreakNs: number;
  lenient: boolean;
  findings?: boolean;
  collectors?: CollectorRef[];
  /** Default: 2 when more than one strategy and `path` is a regular file, else 1. */
  threads?: number;
  onProgress?: (bytes: number) => void;
}

export interface AnalyzeResult {
  summary: ReplaySummary;
  extra: Partial<Record<StrategyId, Record<string, unknown>>>;
}

/** What one thread's replay produces (structured-cloneable). */
export interface PartResult {
  trace: TraceInfo;
  pageSize: number;
  strategies: Partial<Record<StrategyId, StrategySummary>>;
  extra: Partial<Record<StrategyId, Record<string, unknown>>>;
}

export type PartOptions = Omit<AnalyzeOptions, 'threads' | 'onProgress' | 'strategies'>;

/**
 * Relative replay cost per strategy (CPU time of single-strategy replays
 * of already-parsed events, mixed workload, 1M events, best of 6; pin = 1):
 * used only to balance threads, never affects results.
 */
const COST: Record<StrategyId, number> = {
  none: 0.98, pin: 1, notify: 0.97, kill: 1, fail: 0.82, remap: 1, iommu: 0.98, odp: 1.12, refuse: 0.91,
};

/**
 * Splits strategies into `n` groups of similar cost. Two groups (the
 * default) are chosen exhaustively (at most 2^(k-1) splits of k
 * strategies); more go heaviest first into the lightest group. The group
 * holding the heaviest strategy comes first; each group is in canonical order.
 */
export function splitByCost(strategies: StrategyId[], n: number): StrategyId[][] {
  const order = [...strategies].sort((a, b) => COST[b] - COST[a] || STRATEGY_IDS.indexOf(a) - STRATEGY_IDS.indexOf(b));
  let groups: StrategyId[][];
  if (n === 2 && order.length >= 2 && order.length <= 16) groups = bestTwo(order);
  else {
    const g: { cost: number; ids: StrategyId[] }[] = Array.from({ length: Math.max(1, n) }, () => ({ cost: 0, ids: [] }));
    for (const s of order) {
      let x = g[0]!;
      for (const y of g) if (y.cost < x.cost) x = y;
      x.cost += COST[s];
      x.ids.push(s);
    }
    groups = g.map((x) => x.ids);
  }
  return groups.filter((g) => g.length > 0).map((g) => STRATEGY_IDS.filter((s) => g.includes(s)));
}

/** The two-way split with the smallest heavier half; order[0] stays in the first group. */
function bestTwo(order: StrategyId[]): StrategyId[][] {
  const k = order.length;
  let best = 0;
  let bestMax = Infinity;
  for (let mask = 1; mask < 1 << k; mask += 2) {
    if (mask === (1 << k) - 1) continue;
    let a = 0;
    let b = 0;
    for (let i = 0; i < k; i++) {
      if (mask & (1 << i)) a += COST[order[i]!];
      else b += COST[order[i]!];
    }
    const max = Math.max(a, b);
    if (max < bestMax - 1e-9) {
      bestMax = max;
      best = mask;
    }
  }
  return [order.filter((_, i) => best & (1 << i)), order.filter((_, i) => !(best & (1 << i)))];
}

/** Replays `strategies` of the trace in this thread. */
export async function runPart(
  path: string, strategies: StrategyId[], opts: PartOptions, onProgress?: (bytes: number) => void,
): Promise<PartResult> {
  const readOpts = onProgress ? { lenient: opts.lenient, onProgress } : { lenient: opts.lenient };
  const trace = await openTrace(path, readOpts);
  const header = trace.header;
  const builders = strategies.map(() => new SummaryBuilder(opts.findings ?? false));
  const collectors: StrategyCollector[][] = strategies.map(() => []);
  for (const ref of opts.collectors ?? []) {
    const mod = (await import(ref.module)) as Record<string, unknown>;
    const factory = mod[ref.factory] as CollectorFactory | undefined;
    if (typeof factory !== 'function') throw new Error(`collector ${ref.name}: ${ref.module} exports no function ${ref.factory}`);
    strategies.forEach((s, i) => collectors[i]!.push(factory(s, ref.options, header)));
  }
  const sinks: FindingSink[][] = strategies.map((_, i) => [builders[i]!, ...collectors[i]!]);
  const replay = new Replay(strategies, { pageSize: header.page_size, leaseBreakNs: opts.leaseBreakNs }, sinks);
  for await (const batch of trace.batches()) replay.feedBatch(batch);
  const st = trace.stats;
  replay.finish(st.last_ts);
  const out: PartResult = {
    trace: {
      path: trace.path,
      format: trace.format,
      events_read: st.events_read,
      events_replayed: st.events_read - st.events_skipped,
      events_skipped: st.events_skipped,
      skipped_by_reason: sortKeys(st.skipped_by_reason),
      first_ts: st.first_ts,
      last_ts: st.last_ts,
    },
    pageSize: header.page_size,
    strategies: {},
    extra: {},
  };
  strategies.forEach((s, i) => {
    out.strategies[s] = builders[i]!.finish(replay.states[i]!.dropped);
    if (collectors[i]!.length) {
      const ex: Record<string, unknown> = {};
      (opts.collectors ?? []).forEach((ref, k) => (ex[ref.name] = collectors[i]![k]!.finish(st.last_ts)));
      out.extra[s] = ex;
    }
  });
  return out;
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  const o: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) o[k] = r[k]!;
  return o;
}

/** A worker's error, as plain data. */
export type WireError =
  | { kind: 'input'; reason: TraceInputError['reason']; position: InputPosition; field: string | null; detail: string }
  | { kind: 'other'; message: string; code?: string; stack?: string };

export function toWire(err: unknown): WireError {
  if (err instanceof TraceInputError) {
    return { kind: 'input', reason: err.reason, position: err.position, field: err.field, detail: err.detail };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const w: WireError = { kind: 'other', message: e.message };
  const code = (e as NodeJS.ErrnoException).code;
  if (code) w.code = code;
  if (e.stack) w.stack = e.stack;
  return w;
}

export function fromWire(w: WireError): Error {
  if (w.kind === 'input') return new TraceInputError(w.reason, w.position, w.field, w.detail);
  const e = new Error(w.message) as NodeJS.ErrnoException;
  if (w.code) e.code = w.code;
  if (w.stack) e.stack = w.stack;
  return e;
}

function runInWorker(
  path: string, strategies: StrategyId[], opts: PartOptions, onProgress?: (bytes: number) => void,
): Promise<PartResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: { path, strategies, opts, progress: Boolean(onProgress) },
    });
    let settled = false;
    w.on('message', (msg: { progress?: number; result?: PartResult; error?: WireError }) => {
      if (msg.progress !== undefined) onProgress?.(msg.progress);
      else if (msg.result) {
        settled = true;
        resolve(msg.result);
      } else if (msg.error) {
        settled = true;
        reject(fromWire(msg.error));
      }
    });
    w.on('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    w.on('exit', (code) => {
      if (!settled) reject(new Error(`replay worker exited with code ${code}`));
    });
  });
}

function defaultThreads(path: string, n: number): number {
  if (n <= 1 || path === '-') return 1;
  try {
    return statSync(path).isFile() ? 2 : 1;
  } catch {
    return 1;
  }
}

export async function analyzeTrace(path: string, opts: AnalyzeOptions): Promise<AnalyzeResult> {
  const strategies = STRATEGY_IDS.filter((s) => opts.strategies.includes(s));
  const part: PartOptions = { leaseBreakNs: opts.leaseBreakNs, lenient: opts.lenient };
  if (opts.findings) part.findings = true;
  if (opts.collectors) part.collectors = opts.collectors;
  // Standard input cannot be read twice: one thread.
  const threads = path === '-' ? 1 : Math.min(opts.threads ?? defaultThreads(path, strategies.length), strategies.length);
  let parts: PartResult[];
  if (threads <= 1) {
    parts = [await runPart(path, strategies, part, opts.onProgress)];
  } else {
    const groups = splitByCost(strategies, threads);
    // Progress from the first group only: every thread reads the same bytes.
    const settled = await Promise.allSettled(groups.map((g, i) => runInWorker(path, g, part, i === 0 ? opts.onProgress : undefined)));
    const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    parts = settled.map((s) => (s as PromiseFulfilledResult<PartResult>).value);
  }
  const first = parts[0]!;
  const summary: ReplaySummary = {
    tool: TOOL_NAME,
    version: TOOL_VERSION,
    params: { strategies, lease_break_ns: opts.leaseBreakNs, page_size: first.pageSize, lenient: opts.lenient },
    trace: first.trace,
    strategies: {},
  };
  const extra: AnalyzeResult['extra'] = {};
  for (const s of strategies) {
    for (const p of parts) {
      if (p.strategies[s]) summary.strategies[s] = p.strategies[s];
      if (p.extra[s]) extra[s] = p.extra[s];
    }
  }
  return { summary, extra };
}
