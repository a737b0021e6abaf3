// How a report gets its data from the engine: the report collector named
// by module URL (collectors are built inside the engine's worker threads).
import type { CollectorRef } from '../analysis/collector.js';
import type { ReportCollectorOptions, ReportData } from '../analysis/report-data.js';
import type { StrategyId } from '../replay/types.js';
import type { ReportInput } from './types.js';
import { analyzeTrace, type AnalyzeOptions } from '../analysis/analyze.js';

export const REPORT_COLLECTOR = 'report';

/** The CollectorRef to pass to analyzeTrace({ collectors: [...] }). */
export function reportCollectorRef(options: ReportCollectorOptions = {}): CollectorRef {
  return {
    name: REPORT_COLLECTOR,
    module: new URL('../analysis/report-data.js', import.meta.url).href,
    factory: 'createReportCollector',
    options,
  };
}

/** The analyze result's `extra`, narrowed to the report collector's results. */
export function reportDataOf(extra: Partial<Record<StrategyId, Record<string, unknown>>> | undefined): Partial<Record<StrategyId, ReportData>> {
  const out: Partial<Record<StrategyId, ReportData>> = {};
  for (const [s, byName] of Object.entries(extra ?? {}) as [StrategyId, Record<string, unknown> | undefined][]) {
    const d = byName?.[REPORT_COLLECTOR];
    if (d) out[s] = d as ReportData;
  }
  return out;
}

/** Replays a trace with the report collector and returns the report's input. */
export async function analyzeForReport(path: string, opts: AnalyzeOptions & { title?: string; interactive?: boolean }): Promise<ReportInput> {
  const { title, interactive, ...analyze } = opts;
  const { summary, extra } = await analyzeTrace(path, {
    ...analyze,
    collectors: [...(opts.collectors ?? []), reportCollectorRef()],
  });
  return {
    summary, data: reportDataOf(extra),
    ...(title !== undefined ? { title } : {}),
    ...(interactive !== undefined ? { interactive } : {}),
  };
}
