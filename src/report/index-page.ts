// The batch's index page: every trace against every strategy (worst
// finding per cell), totals per strategy, who pays trace by trace, links
// to every report, and the traces that failed with their errors. Same
// rules as the single report: self-contained, escaped, readable without JS.
import { FINDING_KINDS, KIND_PAYER, STRATEGY_IDS, type FindingKind, type StrategyId, type StrategySummary } from '../replay/types.js';
import type { BatchEntry, BatchSummary } from '../batch/types.js';
import { countOf, formatBytes, formatDuration } from '../analysis/words.js';
import { escapeHtml as h } from './escape.js';
import { KIND_COLORS } from './palette.js';
import { chartFigure, htmlDocument, type ChartBlock } from './page.js';
import { whoPays } from './who-pays.js';
import { leakWords } from './model.js';
import { outcomesChart, outcomeRow, type OutcomeRow } from './charts/outcomes.js';
import { whoPaysBatchChart, type BatchWhoPaysPoint } from './charts/who-pays-batch.js';

/** Lost and stale bytes per page-equivalent on the batch's who-pays: the summary holds no page size. */
const BATCH_PAGE_SIZE = 4096;

/** The short names the matrix uses, for the kinds in it. */
function shortLegend(b: BatchSummary): string {
  const kinds = FINDING_KINDS.filter((k) => b.traces.some((e) => Object.values(e.strategies ?? {}).some((st) => worstKind(st) === k)));
  if (kinds.length === 0) return '';
  return `<p class="small">${kinds.map((k) => `<span class="sw" style="background:${KIND_COLORS[k]}"></span>${h(KIND_SHORT[k])} = <code>${h(k)}</code>`).join(' · ')}</p>`;
}

export interface IndexOptions {
  title?: string;
  /** Inline the vega bundles for tooltips (default true). */
  interactive?: boolean;
}

/** Kind names short enough for nine strategy columns at 1400 px; the cell's title and the legend give the full name. */
export const KIND_SHORT: Record<FindingKind, string> = {
  corruption: 'corrupt', info_leak: 'leak', lost_write: 'lost wr', stale_read: 'stale rd', dma_fault: 'fault',
  device_hang: 'hang', killed: 'killed', pin_refused: 'refused', writeback_race: 'wb race', stall: 'stall',
  op_failed: 'EBUSY', block_leak: 'blk leak', migration_blocked: 'no migr', bounce_copy: 'bounce',
};

/** The worst kind a strategy produced (model.md's order), or null. */
export function worstKind(st: StrategySummary | undefined): FindingKind | null {
  return st ? (FINDING_KINDS.find((k) => st.counts[k] > 0) ?? null) : null;
}

/** Report links are relative paths: anything with a scheme (javascript:, http:) is made a relative path. */
export function safeHref(href: string | undefined): string | undefined {
  if (href === undefined || href === '') return undefined;
  return /^\s*[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//') ? `./${href.replace(/^[\s/]+/, '')}` : href;
}

/** The longest folder prefix ("traces/scenarios/") all paths share. */
export function commonFolder(paths: string[]): string {
  if (paths.length < 2) return '';
  let p = paths[0]!.slice(0, paths[0]!.lastIndexOf('/') + 1);
  while (p && !paths.every((x) => x.startsWith(p))) p = p.slice(0, p.slice(0, -1).lastIndexOf('/') + 1);
  return p;
}

function strategiesIn(b: BatchSummary): StrategyId[] {
  const seen = new Set<string>(b.params.strategies);
  for (const t of b.traces) for (const s of Object.keys(t.strategies ?? {})) seen.add(s);
  return STRATEGY_IDS.filter((s) => seen.has(s));
}

function spanOf(e: BatchEntry): number {
  const t = e.trace;
  return t && t.first_ts !== null && t.last_ts !== null ? Math.max(0, t.last_ts - t.first_ts) : 0;
}

/**
 * `reportLinks` maps a trace's path (BatchEntry.path) to the href of its
 * report; entries without one fall back to BatchEntry.report.
 */
export function renderIndex(batch: BatchSummary, reportLinks: Record<string, string> = {}, opts: IndexOptions = {}): string {
  const strategies = strategiesIn(batch);
  const ok = batch.traces.filter((t) => t.status === 'ok' && t.strategies);
  const failed = batch.traces.filter((t) => t.status !== 'ok');
  const title = opts.title ?? `pinscope: ${countOf(batch.traces.length, 'trace')}`;
  const link = (e: BatchEntry) => safeHref(reportLinks[e.path] ?? e.report);

  // Totals per strategy over the traces that replayed.
  const totals = new Map<StrategyId, { counts: Record<FindingKind, number>; bytes: Record<FindingKind, number>; stall: number; stallMax: number; traces: number }>();
  for (const s of strategies) {
    const z = () => Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
    totals.set(s, { counts: z(), bytes: z(), stall: 0, stallMax: 0, traces: 0 });
  }
  const points: BatchWhoPaysPoint[] = [];
  let leakBounded = false;
  for (const e of ok) {
    for (const s of strategies) {
      const st = e.strategies![s];
      if (!st) continue;
      const t = totals.get(s)!;
      t.traces++;
      for (const k of FINDING_KINDS) {
        t.counts[k] += st.counts[k];
        t.bytes[k] += st.bytes[k];
      }
      t.stall += st.stall_ns.total;
      t.stallMax = Math.max(t.stallMax, st.stall_ns.max);
      // A batch summary holds no page size (4096 is the format's default) and no leak durations
      // (leaks count as held for the trace's span): the caption says so.
      const w = whoPays(st, BATCH_PAGE_SIZE, null, spanOf(e));
      points.push({ trace: e.path, strategy: s, device: w.device, fs: w.fs, security: w.security,
        class: w.security > 0 ? 'corrupts or leaks data' : 'no corruption',
        leak: leakWords(w) });
      if (w.leakEstimated) leakBounded = true;
    }
  }
  const rows: OutcomeRow[] = [];
  for (const [s, t] of totals) for (const k of FINDING_KINDS) if (t.counts[k] > 0) rows.push(outcomeRow(s, k, t.counts[k], t.bytes[k]));

  const charts: ChartBlock[] = [];
  if (points.length > 0) {
    charts.push({ id: 'who-pays-batch', spec: whoPaysBatchChart(points, strategies),
      caption: 'Each mark is one trace under one strategy, on the axes of the single reports (see a report\'s "How to read who pays"), '
        + 'computed from the batch summary alone: lost and stale bytes are counted in 4 KiB pages (the summary holds no page size)'
        + (leakBounded ? ', and leaked blocks as held for the whole trace (no leak durations): an upper bound of the filesystem\'s harm where a strategy leaked.' : '.') });
  }
  if (rows.length > 0) {
    charts.push({ id: 'totals-count', spec: outcomesChart(rows, strategies, 'count'),
      caption: 'Findings of each kind under each strategy, summed over all traces that replayed.' });
  }

  // Paths usually share a folder: said once above the table, not on every row.
  const prefix = commonFolder(batch.traces.map((t) => t.path));
  const shortName = (p: string) => p.slice(prefix.length) || p;
  const matrix = `<section id="matrix"><h2>Worst finding per trace and strategy</h2>
${prefix ? `<p class="small">traces under <code>${h(prefix)}</code>; hover a cell for who pays.</p>` : ''}
<div class="scroll"><table class="index"><thead><tr><th>trace</th><th class="num">events</th>${strategies.map((s) => `<th>${s}</th>`).join('')}</tr></thead><tbody>
${batch.traces.map((e) => {
    const name = link(e) ? `<a href="${h(link(e))}" title="${h(e.path)}">${h(shortName(e.path))}</a>` : `<span title="${h(e.path)}">${h(shortName(e.path))}</span>`;
    if (e.status !== 'ok' || !e.strategies) {
      return `<tr class="failed"><th scope="row">${name}</th><td colspan="${strategies.length + 1}" class="bad failed">failed: ${h(e.error ?? 'unknown error')}</td></tr>`;
    }
    const cells = strategies.map((s) => {
      const st = e.strategies![s];
      const k = worstKind(st);
      if (!st) return '<td class="zero">—</td>';
      if (!k) return '<td class="cell good">none</td>';
      const severe = k === 'corruption' || k === 'info_leak';
      return `<td class="cell ${severe ? 'severe' : 'hit'}" title="${h(k)}: ${h(KIND_PAYER[k])} pays"><span class="k"><span class="sw" style="background:${KIND_COLORS[k]}"></span>${h(KIND_SHORT[k])}</span> ${h(String(Number(st.counts[k])))}</td>`;
    }).join('');
    return `<tr><th scope="row">${name}</th><td class="num">${h(String(Number(e.trace?.events_replayed ?? 0)))}</td>${cells}</tr>`;
  }).join('\n')}
</tbody></table></div>
${shortLegend(batch)}</section>`;

  const seenKinds = FINDING_KINDS.filter((k) => rows.some((r) => r.kind === k));
  const totalsTable = `<section id="totals"><h2>Totals per strategy</h2>
<div class="scroll"><table class="summary${seenKinds.length > 9 ? ' many' : ''}"><thead><tr><th>strategy</th><th>traces</th>${FINDING_KINDS.filter((k) => rows.some((r) => r.kind === k)).map((k) => `<th class="kind"><span class="sw" style="background:${KIND_COLORS[k]}"></span>${h(k.replace('_', ' '))}</th>`).join('')}<th>stall total</th><th>longest stall</th></tr></thead><tbody>
${[...totals].map(([s, t]) => `<tr><th scope="row">${s}</th><td>${t.traces}</td>${FINDING_KINDS.filter((k) => rows.some((r) => r.kind === k)).map((k) => (t.counts[k] === 0 ? '<td class="zero">0</td>'
    : `<td class="${k === 'corruption' || k === 'info_leak' ? 'severe' : 'hit'}">${t.counts[k]}${t.bytes[k] > 0 ? `<br><small>${h(formatBytes(t.bytes[k]))}</small>` : ''}</td>`)).join('')}<td>${h(formatDuration(t.stall))}</td><td>${h(formatDuration(t.stallMax))}</td></tr>`).join('\n')}
</tbody></table></div></section>`;

  const failedSection = failed.length === 0 ? '' : `<section id="failed"><h2>Traces that failed (${failed.length})</h2><ul>
${failed.map((e) => `<li><code>${h(e.path)}</code>: ${h(e.error ?? 'unknown error')}</li>`).join('\n')}</ul></section>`;
  const ignored = (batch.ignored ?? []) as unknown[];
  const ignoredSection = ignored.length === 0 ? '' : `<section id="ignored"><h2>Files that are not traces (${ignored.length})</h2><ul>
${ignored.map((f) => {
    const o = (typeof f === 'object' && f !== null ? f : { path: String(f) }) as Record<string, unknown>;
    return `<li><code>${h(o.path ?? '')}</code>${o.reason !== undefined ? `: ${h(o.reason)}` : ''}</li>`;
  }).join('\n')}</ul></section>`;

  const params = `<section id="params"><h2>Parameters</h2><table class="params">
<tr><th scope="row">strategies</th><td>${batch.params.strategies.map((s) => h(s)).join(', ')}</td></tr>
<tr><th scope="row">lease break</th><td>${h(formatDuration(Number(batch.params.lease_break_ns)))}</td></tr>
<tr><th scope="row">lenient</th><td>${h(String(batch.params.lenient))}</td></tr>
<tr><th scope="row">tool</th><td>${h(batch.tool)} ${h(batch.version)}</td></tr></table></section>`;

  const body = `<header><h1>${h(title)}</h1>
<p class="sub">${ok.length} replayed, ${failed.length} failed · strategies ${strategies.join(', ')} · lease break ${h(formatDuration(Number(batch.params.lease_break_ns)))}</p></header>
${matrix}
${charts.map(chartFigure).join('\n')}
${totalsTable}
${failedSection}
${ignoredSection}
${params}
<footer>${h(batch.tool)} ${h(batch.version)}. Each trace's own report has its timeline, stalls, pages and worst findings.</footer>`;
  return htmlDocument({ title, body, charts, interactive: opts.interactive !== false });
}
