// `pinscope batch`'s summary.json (cli.md "batch").
import type { ReplayParams, StrategyId, StrategySummary, TraceInfo } from '../replay/types.js';
import type { IgnoredFile } from './discover.js';

export interface BatchEntry {
  path: string;
  status: 'ok' | 'error';
  error?: string;
  /** The report's path relative to --out. */
  report?: string;
  trace?: TraceInfo;
  strategies?: Partial<Record<StrategyId, StrategySummary>>;
}

export interface BatchSummary {
  tool: 'pinscope';
  version: string;
  /** As replay's, less page_size, which each trace sets for itself; --jobs is left out: it changes no result. */
  params: Omit<ReplayParams, 'page_size'>;
  traces: BatchEntry[];
  /** Files under the folder that are not traces, with why. */
  ignored: IgnoredFile[];
}

/** What the main thread sends a worker for one trace. */
export interface TraceTask {
  path: string;
  /** Absolute path of the HTML report to write. */
  reportFile: string;
  strategies: StrategyId[];
  leaseBreakNs: number;
  lenient: boolean;
}

export type TraceOutcome =
  | { status: 'ok'; trace: TraceInfo; strategies: Partial<Record<StrategyId, StrategySummary>> }
  | { status: 'error'; error: string };
