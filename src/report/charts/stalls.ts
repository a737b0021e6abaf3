// Stalls: how long truncates, hole punches and munmaps waited, per
// strategy, in power-of-two buckets on a log axis; the lease-break
// deadline is drawn so a reader sees which stalls ran into it.
import type { TopLevelSpec } from 'vega-lite';
import { STRATEGY_IDS, type StrategyId } from '../../replay/types.js';
import { CHART_WIDTH, DECADE_LABEL, decadeTicks, withConfig } from './base.js';

export interface StallRow {
  strategy: StrategyId;
  /** Bucket bounds in ms. */
  lo: number;
  hi: number;
  count: number;
  range: string;
}

export function stallsChart(rows: StallRow[], strategies: readonly StrategyId[], leaseBreakMs: number): TopLevelSpec {
  const order = STRATEGY_IDS.filter((s) => strategies.includes(s));
  const lo = Math.min(leaseBreakMs, ...rows.map((r) => r.lo));
  const hi = Math.max(leaseBreakMs * 1.5, ...rows.map((r) => r.hi));
  const x = { type: 'quantitative' as const, scale: { type: 'log' as const, domain: [Math.max(lo, 1e-6), hi], nice: true },
    title: 'stall duration (ms, log scale)', axis: { labelExpr: DECADE_LABEL, values: decadeTicks(Math.max(lo, 1e-6), hi, false), grid: true } };
  return withConfig({
    title: { text: 'Stall durations', subtitle: 'each cell: stalls lasting between its bounds; dashed: the lease-break deadline' },
    width: CHART_WIDTH - 60,
    height: { step: 26 },
    layer: [
      {
        data: { values: rows as unknown as Record<string, unknown>[] },
        mark: { type: 'rect', tooltip: true, stroke: 'white', strokeWidth: 0.5, aria: false },
        encoding: {
          y: { field: 'strategy', type: 'nominal', sort: order, scale: { domain: order }, title: null },
          x: { field: 'lo', ...x },
          x2: { field: 'hi' },
          // A colour ramp says nothing when every cell holds the same count.
          color: new Set(rows.map((r) => r.count)).size > 1
            ? { field: 'count', type: 'quantitative', scale: { type: 'log', scheme: 'blues' }, title: 'stalls' }
            : { value: '#4a90c8' },
          tooltip: [
            { field: 'strategy', type: 'nominal' },
            { field: 'range', type: 'nominal', title: 'duration' },
            { field: 'count', type: 'quantitative', title: 'stalls' },
          ],
        },
      },
      {
        data: { values: [{ lease: leaseBreakMs, label: 'lease break' }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#b2182b' },
        encoding: { x: { field: 'lease', ...x } },
      },
      {
        data: { values: [{ lease: leaseBreakMs, label: 'lease break' }] },
        mark: { type: 'text', color: '#b2182b', align: 'right', dx: -4, baseline: 'top', y: 2, fontSize: 11 },
        encoding: { x: { field: 'lease', ...x }, text: { field: 'label', type: 'nominal' } },
      },
    ],
  });
}
