// Where: whose data went wrong, per strategy: the file (or process) a
// corruption or leak hit, the pinned file page a write was lost from or a
// read came stale from. Pages are binned per row by the collector when a
// row has many, so a cell may cover several pages (its tooltip says which).
import type { TopLevelSpec } from 'vega-lite';
import { FINDING_KINDS, STRATEGY_IDS, type StrategyId } from '../../replay/types.js';
import type { WhereKind } from '../../analysis/report-data.js';
import { kindScale } from '../palette.js';
import { CHART_WIDTH, withConfig } from './base.js';

export interface WhereRow {
  strategy: StrategyId;
  /** Whose data: a file, "memory of pid N" or "anonymous memory of pid N" (report-data.ts whereOf). */
  file: string;
  kind: WhereKind;
  /** Pages [p0, p1). */
  p0: number;
  p1: number;
  pages: string;
  count: number;
  bytes: number;
}

export function whereChart(rows: WhereRow[], strategies: readonly StrategyId[]): TopLevelSpec {
  const order = STRATEGY_IDS.filter((s) => strategies.includes(s));
  const kinds = FINDING_KINDS.filter((k) => rows.some((r) => r.kind === k)) as WhereKind[];
  return withConfig({
    title: { text: 'Where data went wrong', subtitle: 'whose data x page index; corruption and leaks on the victim that reused the frame; darker: more findings' },
    data: { values: rows as unknown as Record<string, unknown>[] },
    facet: { row: { field: 'strategy', type: 'nominal', sort: order, title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: CHART_WIDTH - 80,
      // The step is per kind (yOffset): kinds on the same pages sit one above the other in the row.
      height: { step: kinds.length > 2 ? 7 : 11 },
      mark: { type: 'rect', tooltip: true, stroke: 'white', strokeWidth: 0.5, aria: false },
      encoding: {
        y: { field: 'file', type: 'nominal', title: null, axis: { labelLimit: 220 } },
        yOffset: { field: 'kind', type: 'nominal', scale: { domain: kinds } },
        x: { field: 'p0', type: 'quantitative', title: 'pinned page index', scale: { zero: true }, axis: { format: 'd', tickMinStep: 1 } },
        x2: { field: 'p1' },
        color: { field: 'kind', type: 'nominal', scale: kindScale(kinds), title: 'kind' },
        opacity: { field: 'count', type: 'quantitative', scale: { type: 'log', range: [0.45, 1] }, legend: null },
        tooltip: [
          { field: 'file', type: 'nominal', title: 'whose data' },
          { field: 'pages', type: 'nominal', title: 'pinned page(s)' },
          { field: 'kind', type: 'nominal' },
          { field: 'count', type: 'quantitative', title: 'findings' },
          { field: 'bytes', type: 'quantitative' },
        ],
      },
    },
  });
}
