// What a report is made from: a pure function of these, so it can be
// tested without the engine and rebuilt from a saved summary.
import type { ReplaySummary, StrategyId } from '../replay/types.js';
import type { ReportData } from '../analysis/report-data.js';

export interface ReportInput {
  /** What `replay --json` prints. */
  summary: ReplaySummary;
  /** The report collector's result per strategy; absent when made from a summary.json (no timeline then). */
  data?: Partial<Record<StrategyId, ReportData>> | null;
  /** Page title; default "pinscope: <trace path>". */
  title?: string;
  /** Inline vega and vega-lite so the charts get tooltips (default true); the static SVG is there either way. */
  interactive?: boolean;
}
