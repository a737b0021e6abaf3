// Where: which pages of which files took corruption or lost writes, per
// strategy. Pages are binned per file by the collector when a file has
// many, so a cell may cover several pages (its tooltip says which).
import type { TopLevelSpec } from 'vega-lite';
import { STRATEGY_IDS, type StrategyId } from '../../replay/types.js';
import { kindScale } from '../palette.js';
import { CHART_WIDTH, withConfig } from './base.js';

export interface WhereRow {
  strategy: StrategyId;
  file: string;
  kind: 'corruption' | 'lost_write';
  /** Pages [p0, p1). */
  p0: number;
  p1: number;
  pages: string;
  count: number;
  bytes: number;
}

export function whereChart(rows: WhereRow[], strategies: readonly StrategyId[]): TopLevelSpec {
  const order = STRATEGY_IDS.filter((s) => strategies.includes(s));
  return withConfig({
    title: { text: 'Where data went wrong', subtitle: 'file x page index of corruption and lost writes; darker: more findings' },
    data: { values: rows as unknown as Record<string, unknown>[] },
    facet: { row: { field: 'strategy', type: 'nominal', sort: order, title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: CHART_WIDTH - 80,
      height: { step: 11 },
      mark: { type: 'rect', tooltip: true, stroke: 'white', strokeWidth: 0.5, aria: false },
      encoding: {
        y: { field: 'file', type: 'nominal', title: null, axis: { labelLimit: 220 } },
        // Corruption and lost writes on the same pages sit side by side in the row, not on top of each other.
        yOffset: { field: 'kind', type: 'nominal', scale: { domain: ['corruption', 'lost_write'] } },
        x: { field: 'p0', type: 'quantitative', title: 'page index', scale: { zero: true }, axis: { format: 'd', tickMinStep: 1 } },
        x2: { field: 'p1' },
        color: { field: 'kind', type: 'nominal', scale: kindScale(['corruption', 'lost_write']), title: 'kind' },
        opacity: { field: 'count', type: 'quantitative', scale: { type: 'log', range: [0.45, 1] }, legend: null },
        tooltip: [
          { field: 'file', type: 'nominal' },
          { field: 'pages', type: 'nominal' },
          { field: 'kind', type: 'nominal' },
          { field: 'count', type: 'quantitative', title: 'findings' },
          { field: 'bytes', type: 'quantitative' },
        ],
      },
    },
  });
}
