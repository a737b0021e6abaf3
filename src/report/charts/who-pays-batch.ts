// Who pays, across a batch: one mark per trace and strategy, coloured by
// strategy; a cross where that strategy corrupted or leaked data in that trace.
import type { TopLevelSpec } from 'vega-lite';
import { STRATEGY_IDS, type StrategyId } from '../../replay/types.js';
import { CHART_WIDTH, symlogTop, withConfig } from './base.js';
import { DEVICE_TITLE, FS_TITLE, SECURITY_CLASSES, WHO_PAYS_HEIGHT, whoPaysAxis } from './who-pays.js';

export interface BatchWhoPaysPoint {
  trace: string;
  strategy: StrategyId;
  device: number;
  fs: number;
  security: number;
  class: string;
  /** Whether the filesystem harm holds an upper bound for leaked blocks (no leak durations in a batch summary). */
  leak: string;
}

export function whoPaysBatchChart(points: BatchWhoPaysPoint[], strategies: readonly StrategyId[]): TopLevelSpec {
  const order = STRATEGY_IDS.filter((s) => strategies.includes(s));
  // Crosses last: drawn on top of the circles they share a spot with.
  const values = [...points.filter((p) => p.security === 0), ...points.filter((p) => p.security > 0)];
  return withConfig({
    title: { text: 'Who pays, trace by trace', subtitle: 'one mark per trace and strategy; lower left is better; a cross corrupts or leaks data' },
    width: CHART_WIDTH,
    height: WHO_PAYS_HEIGHT,
    data: { values: values as unknown as Record<string, unknown>[] },
    mark: { type: 'point', filled: true, size: 110, opacity: 0.85, tooltip: true },
    encoding: {
      x: whoPaysAxis('device', symlogTop(Math.max(0, ...points.map((p) => p.device))), DEVICE_TITLE),
      y: whoPaysAxis('fs', symlogTop(Math.max(0, ...points.map((p) => p.fs))), FS_TITLE),
      color: { field: 'strategy', type: 'nominal', scale: { domain: order, scheme: 'tableau10' }, title: 'strategy' },
      shape: { field: 'class', type: 'nominal', scale: { domain: [...SECURITY_CLASSES], range: ['cross', 'circle'] }, title: null },
      order: { field: 'security', type: 'quantitative', sort: 'ascending' },
      tooltip: [
        { field: 'trace', type: 'nominal' },
        { field: 'strategy', type: 'nominal' },
        { field: 'device', type: 'quantitative', title: 'device user (page-eq.)' },
        { field: 'fs', type: 'quantitative', title: 'filesystem (s-eq.)' },
        { field: 'security', type: 'quantitative', title: 'corruption + info leaks' },
        { field: 'leak', type: 'nominal', title: 'leaked storage' },
      ],
    },
  });
}
