// Outcomes by strategy: findings of each kind, stacked, one bar per strategy.
import type { TopLevelSpec } from 'vega-lite';
import { FINDING_KINDS, KIND_PAYER, STRATEGY_IDS, type FindingKind, type StrategyId } from '../../replay/types.js';
import { kindScale } from '../palette.js';
import { BYTES_LABEL, CHART_WIDTH, binaryTicks, withConfig } from './base.js';

export interface OutcomeRow {
  strategy: StrategyId;
  kind: FindingKind;
  payer: string;
  count: number;
  bytes: number;
}

export function outcomeRow(strategy: StrategyId, kind: FindingKind, count: number, bytes: number): OutcomeRow {
  return { strategy, kind, payer: KIND_PAYER[kind], count, bytes };
}

/**
 * The kinds the bytes chart stacks: bytes of data damaged (corrupted, leaked,
 * lost, read stale, torn under writeback), storage leaked to pins, bytes
 * copied to bounce pages. The bytes of a stall, failed op, fault, refusal,
 * kill or blocked migration are the pages it held or concerned, not data
 * affected: they stay in the table.
 */
export const BYTES_KINDS: readonly FindingKind[] = ['corruption', 'info_leak', 'lost_write', 'stale_read', 'writeback_race', 'block_leak', 'bounce_copy'];

/** `measure` picks findings counted or bytes affected; zero rows are dropped by the caller. */
export function outcomesChart(rows: OutcomeRow[], strategies: readonly StrategyId[], measure: 'count' | 'bytes'): TopLevelSpec {
  // The legend lists the kinds that occur; each keeps its colour from the palette.
  const kinds = FINDING_KINDS.filter((k) => rows.some((r) => r.kind === k));
  const title = measure === 'count' ? 'Findings by strategy (count)' : 'Bytes affected by strategy';
  const perStrategy = new Map<StrategyId, number>();
  for (const r of rows) perStrategy.set(r.strategy, (perStrategy.get(r.strategy) ?? 0) + r.bytes);
  const bytesTicks = binaryTicks(Math.max(1, ...perStrategy.values()));
  return withConfig({
    title,
    width: CHART_WIDTH,
    height: { step: 22 },
    data: { values: rows as unknown as Record<string, unknown>[] },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'strategy', type: 'nominal', sort: STRATEGY_IDS.filter((s) => strategies.includes(s)), title: null,
        scale: { domain: STRATEGY_IDS.filter((s) => strategies.includes(s)) } },
      x: measure === 'count'
        ? { field: measure, type: 'quantitative', aggregate: 'sum', stack: 'zero', title: 'findings', axis: { format: 'd', tickMinStep: 1 } }
        : { field: measure, type: 'quantitative', aggregate: 'sum', stack: 'zero', title: 'bytes',
          // Ticks on binary values, labelled in binary units: no "1.95 KiB".
          scale: { domain: [0, bytesTicks.at(-1)!], nice: false }, axis: { values: bytesTicks, labelExpr: BYTES_LABEL } },
      color: { field: 'kind', type: 'nominal', scale: kindScale(kinds), title: 'kind' },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [
        { field: 'strategy', type: 'nominal' },
        { field: 'kind', type: 'nominal' },
        { field: 'payer', type: 'nominal', title: 'who pays' },
        { field: measure, type: 'quantitative', aggregate: 'sum', title: measure },
      ],
    },
    transform: [{ calculate: `indexof(${JSON.stringify(FINDING_KINDS)}, datum.kind)`, as: 'order' }],
  });
}
