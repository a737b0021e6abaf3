// Who pays, across a batch: one mark per trace and strategy, coloured by
// strategy; a cross where that strategy corrupted or leaked data in that trace.
import type { TopLevelSpec } from 'vega-lite';
import { STRATEGY_IDS, type StrategyId } from '../../replay/types.js';
import { CHART_WIDTH, DECADE_LABEL, decadeTicks, withConfig } from './base.js';
import { SECURITY_CLASSES } from './who-pays.js';

export interface BatchWhoPaysPoint {
  trace: string;
  strategy: StrategyId;
  device: number;
  fs: number;
  security: number;
  class: string;
}

export function whoPaysBatchChart(points: BatchWhoPaysPoint[], strategies: readonly StrategyId[]): TopLevelSpec {
  const order = STRATEGY_IDS.filter((s) => strategies.includes(s));
  const xTicks = decadeTicks(1, Math.max(1, ...points.map((p) => p.device)), true);
  const yTicks = decadeTicks(1, Math.max(1, ...points.map((p) => p.fs)), true);
  return withConfig({
    title: { text: 'Who pays, trace by trace', subtitle: 'one mark per trace and strategy; lower left is better; a cross corrupts or leaks data' },
    width: CHART_WIDTH,
    height: 340,
    data: { values: points as unknown as Record<string, unknown>[] },
    mark: { type: 'point', filled: true, size: 110, opacity: 0.85, tooltip: true },
    encoding: {
      x: { field: 'device', type: 'quantitative', scale: { type: 'symlog', domain: [0, xTicks.at(-1)!], nice: false },
        axis: { values: xTicks, labelExpr: DECADE_LABEL }, title: 'harm to the device user → (page-equivalents, symlog)' },
      y: { field: 'fs', type: 'quantitative', scale: { type: 'symlog', domain: [0, yTicks.at(-1)!], nice: false },
        axis: { values: yTicks, labelExpr: DECADE_LABEL }, title: 'harm to the filesystem → (seconds-equivalents, symlog)' },
      color: { field: 'strategy', type: 'nominal', scale: { domain: order, scheme: 'tableau10' }, title: 'strategy' },
      shape: { field: 'class', type: 'nominal', scale: { domain: [...SECURITY_CLASSES], range: ['cross', 'circle'] }, title: null },
      tooltip: [
        { field: 'trace', type: 'nominal' },
        { field: 'strategy', type: 'nominal' },
        { field: 'device', type: 'quantitative', title: 'device user (page-eq.)' },
        { field: 'fs', type: 'quantitative', title: 'filesystem (s-eq.)' },
        { field: 'security', type: 'quantitative', title: 'corruption + info leaks' },
      ],
    },
  });
}
