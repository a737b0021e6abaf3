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
  /** A stall still waiting when the trace ended is measured to its last event: a lower bound, drawn apart. */
  state: typeof STALL_ENDED | typeof STALL_PENDING;
}

export const STALL_ENDED = 'ended';
export const STALL_PENDING = 'still waiting when the trace ended';

export function stallsChart(rows: StallRow[], strategies: readonly StrategyId[], leaseBreakMs: number): TopLevelSpec {
  const order = STRATEGY_IDS.filter((s) => strategies.includes(s));
  const lo = Math.min(leaseBreakMs, ...rows.map((r) => r.lo));
  const hi = Math.max(leaseBreakMs * 1.5, ...rows.map((r) => r.hi));
  const x = { type: 'quantitative' as const, scale: { type: 'log' as const, domain: [Math.max(lo, 1e-6), hi], nice: true },
    title: 'stall duration (ms, log scale)', axis: { labelExpr: DECADE_LABEL, values: decadeTicks(Math.max(lo, 1e-6), hi, false), grid: true } };
  return withConfig({
    title: { text: 'Stall durations', subtitle: 'each cell: stalls lasting between its bounds; dashed: the lease-break deadline'
      + (rows.some((r) => r.state === STALL_PENDING) ? '; red outline: still waiting when the trace ended (so far)' : '') },
    width: CHART_WIDTH - 60,
    height: { step: 26 },
    layer: [
      {
        data: { values: rows as unknown as Record<string, unknown>[] },
        mark: { type: 'rect', tooltip: true, stroke: 'white', strokeWidth: 0.5, aria: false },
        // A pending stall is drawn in its strategy's row like the others, outlined below.
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
            { field: 'state', type: 'nominal' },
          ],
        },
      },
      ...(rows.some((r) => r.state === STALL_PENDING) ? [{
        data: { values: rows.filter((r) => r.state === STALL_PENDING) as unknown as Record<string, unknown>[] },
        mark: { type: 'rect' as const, fillOpacity: 0, stroke: '#b2182b', strokeWidth: 2, strokeDash: [3, 2], aria: false },
        encoding: {
          y: { field: 'strategy', type: 'nominal' as const, sort: order, scale: { domain: order }, title: null },
          x: { field: 'lo', ...x },
          x2: { field: 'hi' },
        },
      }, {
        // The wait goes on past the trace: say so where the cell ends.
        data: { values: rows.filter((r) => r.state === STALL_PENDING).map((r) => ({ ...r, label: '→ still waiting' })) as unknown as Record<string, unknown>[] },
        mark: { type: 'text' as const, color: '#b2182b', align: 'left' as const, dx: 4, fontSize: 11 },
        encoding: {
          y: { field: 'strategy', type: 'nominal' as const, sort: order, scale: { domain: order }, title: null },
          x: { field: 'hi', ...x },
          text: { field: 'label', type: 'nominal' as const },
        },
      }] : []),
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
