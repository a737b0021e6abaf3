// Timeline: findings over trace time, one row per strategy, binned by the
// report collector (bin width doubles so there are at most ~200 bins).
import type { TopLevelSpec } from 'vega-lite';
import { FINDING_KINDS, STRATEGY_IDS, type FindingKind, type StrategyId } from '../../replay/types.js';
import { kindScale } from '../palette.js';
import { CHART_WIDTH, withConfig } from './base.js';

export interface TimelineRow {
  strategy: StrategyId;
  kind: FindingKind;
  /** Bin start and end, ms from the trace's first event. */
  t0: number;
  t1: number;
  count: number;
}

export function timelineChart(rows: TimelineRow[], strategies: readonly StrategyId[], binLabel: string, spanMs: number): TopLevelSpec {
  const order = STRATEGY_IDS.filter((s) => strategies.includes(s) && rows.some((r) => r.strategy === s));
  const kinds = FINDING_KINDS.filter((k) => rows.some((r) => r.kind === k));
  return withConfig({
    title: { text: 'Findings over time', subtitle: `bins of ${binLabel}; each row has its own count scale` },
    data: { values: rows as unknown as Record<string, unknown>[] },
    facet: { row: { field: 'strategy', type: 'nominal', sort: order, title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: CHART_WIDTH - 80,
      height: 46,
      mark: { type: 'bar', tooltip: true, aria: false },
      encoding: {
        x: { field: 't0', type: 'quantitative', title: 'time since the first event (ms)', scale: { domain: [0, spanMs], nice: false } },
        x2: { field: 't1' },
        y: { field: 'count', type: 'quantitative', aggregate: 'sum', stack: 'zero', title: null, axis: { tickCount: 2, format: '~s', tickMinStep: 1 } },
        color: { field: 'kind', type: 'nominal', scale: kindScale(kinds), title: 'kind' },
        tooltip: [
          { field: 'kind', type: 'nominal' },
          { field: 't0', type: 'quantitative', title: 'from (ms)' },
          { field: 't1', type: 'quantitative', title: 'to (ms)' },
          { field: 'count', type: 'quantitative', aggregate: 'sum', title: 'findings' },
        ],
      },
    },
  });
}
