// The single-trace report: one self-contained HTML file. Readable without
// JavaScript (tables and inline SVG); the Vega-Lite specs travel with it.
import { writeOutput } from '../output/file.js';
import type { TopLevelSpec } from 'vega-lite';
import {
  FINDING_KINDS, KIND_PAYER, STRATEGY_IDS, type FindingKind, type ReplaySummary, type StrategyId, type StrategySummary,
} from '../replay/types.js';
import type { ReportData } from '../analysis/report-data.js';
import { countOf, describeFinding, formatBytes, formatDuration, formatTime } from '../analysis/words.js';
import { escapeHtml as h, jsonForScript } from './escape.js';
import { renderSvg } from './svg.js';
import { EMBED_JS, vegaBundles } from './embed.js';
import { KIND_COLORS } from './palette.js';
import { PAGE_CSS } from './style.js';
import { BYTES_KINDS, outcomesChart } from './charts/outcomes.js';
import { whoPaysChart } from './charts/who-pays.js';
import { timelineChart } from './charts/timeline.js';
import { STALL_PENDING, stallsChart } from './charts/stalls.js';
import { whereChart } from './charts/where.js';
import {
  MAX_WHERE_FILES, kindsSeen, outcomeRows, spanNs, stallRows, strategiesOf, timelineRows, whereRows, whoPaysOf, whoPaysPoints,
} from './model.js';
import { DEVICE_WEIGHTS, FS_WEIGHTS, type WhoPays } from './who-pays.js';
import type { ReportInput } from './types.js';

export type { ReportInput } from './types.js';

/** A chart on the page: its spec (embedded as JSON) and its static SVG. */
export interface ChartBlock {
  id: string;
  spec: TopLevelSpec;
  caption: string;
}

/** Finding rows shown at once per strategy; the rest fold into a <details>. */
const WORST_SHOWN = 10;

/** The chart specs of a report, in page order (exported for tests and for `batch`). */
export function reportCharts(input: ReportInput): ChartBlock[] {
  const { summary } = input;
  const data = input.data ?? null;
  const strategies = strategiesOf(summary);
  const charts: ChartBlock[] = [];
  const scores = whoPaysOf(summary, data);
  charts.push({
    id: 'who-pays', spec: whoPaysChart(whoPaysPoints(scores)),
    caption: 'Each strategy is a point: right = the device\'s user loses more (lost and stale pages, faults, kills, refusals); '
      + 'up = the filesystem loses more (stall time, failed truncates, leaked storage). Scales: see "How to read who pays" below.'
      + ([...scores.values()].some((w) => w.leakEstimated)
        ? ' Made from a summary, which has no leak durations: leaked blocks count as held for the whole trace, so the filesystem\'s harm '
          + 'is an upper bound for the strategies that leaked (≤ in "At a glance", "upper bound" in the tooltip).' : ''),
  });
  const outcomes = outcomeRows(summary);
  if (outcomes.length > 0) {
    charts.push({ id: 'outcomes-count', spec: outcomesChart(outcomes, strategies, 'count'),
      caption: 'Findings of each kind under each strategy (model.md counts one finding per event per kind).' });
    const bytes = outcomes.filter((r) => r.bytes > 0 && BYTES_KINDS.includes(r.kind));
    if (bytes.length > 0) {
      charts.push({ id: 'outcomes-bytes', spec: outcomesChart(bytes, strategies, 'bytes'),
        caption: 'Bytes affected: data corrupted or leaked to another file, lost or read stale, torn by a writeback race; '
          + 'storage leaked to pins; bytes copied to bounce pages. The pages that stalls, failed operations, faults, refusals, '
          + 'kills and blocked migrations concerned are not data affected: their bytes are in the table above.' });
    }
  }
  if (data) {
    const tl = timelineRows(summary, data);
    if (tl) {
      charts.push({ id: 'timeline', spec: timelineChart(tl.rows, strategies, formatDuration(tl.binNs), spanNs(summary) / 1e6),
        caption: 'When findings happened, from the first event of the trace; one row per strategy with findings.' });
    }
    const stalls = stallRows(summary, data);
    if (stalls.length > 0) {
      charts.push({ id: 'stalls', spec: stallsChart(stalls, strategies, summary.params.lease_break_ns / 1e6),
        caption: 'How long truncates, hole punches and munmaps waited for pins, in power-of-two buckets.'
          + (stalls.some((r) => r.state === STALL_PENDING)
            ? ' Outlined in red: operations still waiting when the trace ended, measured to its last event (they waited at least that long).' : '') });
    }
    const where = whereRows(summary, data);
    if (where.rows.length > 0) {
      charts.push({ id: 'where', spec: whereChart(where.rows, strategies),
        caption: 'Whose data went wrong, and on which pages. A corruption or info leak is drawn on its victim: the file a later '
          + 'write put in the freed frame, or the process whose pin or fault took it ("memory of pid N"); a lost write or stale read '
          + 'on the pinned file, or the pinning process\'s anonymous memory. x is the page of the pinned range the DMA aimed at '
          + '(the victim\'s own page offset is not in the causal chain).'
          + (where.omitted > 0 ? ` ${countOf(where.omitted, 'finding')} in rows with fewer bytes hit ${where.omitted === 1 ? 'is' : 'are'} not drawn (${MAX_WHERE_FILES} rows per strategy at most).` : '') });
    }
  }
  return charts;
}

/** The whole page as a string: a pure function of the input. */
export function renderReport(input: ReportInput): string {
  const { summary } = input;
  const data = input.data ?? null;
  const title = input.title ?? `pinscope: ${summary.trace.path}`;
  const charts = reportCharts(input);
  const scores = whoPaysOf(summary, data);
  const body = [
    header(title, summary),
    glance(summary, scores, data),
    data ? '' : `<p class="note" id="summary-only">Made from a summary: counts, bytes and stall totals only. The timeline, stall
      distribution, page heatmap and worst findings need the trace: run <code>pinscope report &lt;trace&gt; -o FILE</code>.</p>`,
    chartFigure(charts.find((c) => c.id === 'who-pays')!),
    summaryTable(summary, data),
    ...charts.filter((c) => c.id !== 'who-pays').map(chartFigure),
    data ? worstSection(summary, data) : '',
    paramsSection(summary),
    howToRead(),
    `<footer>${h(summary.tool)} ${h(summary.version)}. The Vega-Lite specs of the charts, with their data, are in this file's
      <code>application/json</code> script blocks.</footer>`,
  ].join('\n');
  return htmlDocument({ title, body, charts, interactive: input.interactive !== false, generator: `${summary.tool} ${summary.version}` });
}

/**
 * The page around a report's or the index's body: one self-contained HTML
 * document with the styles, each chart's Vega-Lite spec and data as JSON,
 * and (interactive) the inlined vega bundles that redraw them.
 */
export function htmlDocument(p: { title: string; body: string; charts: ChartBlock[]; interactive: boolean; generator?: string }): string {
  const specs = p.charts.map((c) => `<script type="application/json" id="spec-${c.id}">${jsonForScript(c.spec)}</script>`).join('\n');
  const scripts = p.interactive ? `<script>${vegaBundles()}</script>\n<script>${EMBED_JS}</script>` : '';
  const generator = p.generator === undefined ? '' : `\n<meta name="generator" content="${h(p.generator)}">`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">${generator}
<title>${h(p.title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
${p.body}
</main>
${specs}
${scripts}
</body>
</html>
`;
}

/** Writes the report (- for standard output), creating the folder if needed; a failed write leaves the old file. */
export async function writeReport(outPath: string, input: ReportInput): Promise<void> {
  await writeOutput(outPath, renderReport(input));
}

function header(title: string, s: ReplaySummary): string {
  const span = spanNs(s);
  return `<header>
<h1>${h(title)}</h1>
<p class="sub">trace <code>${h(s.trace.path)}</code> · ${s.trace.events_replayed.toLocaleString('en-US').replace(/[^0-9,.]/g, '')} events replayed
 over ${h(formatDuration(span))} · ${countOf(strategiesOf(s).length, 'strategy', 'strategies')} · lease break ${h(formatDuration(s.params.lease_break_ns))}</p>
</header>`;
}

/** Each kind as a counted noun: "1 lost write", "3 refused pins". */
export const KIND_NOUNS: Record<FindingKind, [string, string]> = {
  corruption: ['corruption', 'corruptions'],
  info_leak: ['info leak', 'info leaks'],
  lost_write: ['lost write', 'lost writes'],
  stale_read: ['stale read', 'stale reads'],
  dma_fault: ['DMA fault', 'DMA faults'],
  device_hang: ['device hang', 'device hangs'],
  killed: ['process killed', 'processes killed'],
  pin_refused: ['refused pin', 'refused pins'],
  writeback_race: ['writeback race', 'writeback races'],
  stall: ['stall', 'stalls'],
  op_failed: ['op failed with EBUSY', 'ops failed with EBUSY'],
  block_leak: ['block leak', 'block leaks'],
  migration_blocked: ['blocked migration', 'blocked migrations'],
  bounce_copy: ['bounce copy', 'bounce copies'],
};

type Payer = (typeof KIND_PAYER)[FindingKind];
/** Who pays, in the order the glance names them; `cost` is no one's loss, only work done. */
const PAYERS: readonly Payer[] = ['everyone', 'device user', 'filesystem', 'system', 'cost'];
const PAYER_NAMES: Partial<Record<Payer, string>> = { 'device user': 'the device user', filesystem: 'the filesystem', system: 'the system' };

/** The findings of one strategy in words, grouped by who pays for them (every kind, its payer from model.md). */
export function glanceParts(st: StrategySummary, stallPending: number): Map<Payer, string[]> {
  const out = new Map<Payer, string[]>();
  for (const payer of PAYERS) {
    const words = FINDING_KINDS.filter((k) => KIND_PAYER[k] === payer && st.counts[k] > 0).map((k) => {
      const [one, many] = KIND_NOUNS[k];
      const said = `${countOf(st.counts[k], one, many)}${st.bytes[k] > 0 ? ` (${formatBytes(st.bytes[k])})` : ''}`;
      if (k !== 'stall' || st.stall_ns.count === 0) return said;
      const pending = stallPending > 0
        ? `, ${stallPending === st.stall_ns.count ? (stallPending === 1 ? 'still' : 'all still') : `${stallPending} still`} waiting when the trace ended`
        : '';
      // A pending stall is measured to the last event: its length so far, not its end.
      const soFar = stallPending > 0 ? ' so far' : '';
      return st.stall_ns.count === 1 ? `${said}${pending}: ${formatDuration(st.stall_ns.total)}${soFar}`
        : `${said}${pending}: ${formatDuration(st.stall_ns.total)} in all${soFar}, longest ${formatDuration(st.stall_ns.max)}`;
    });
    if (words.length > 0) out.set(payer, words);
  }
  return out;
}

/** "the device user and the filesystem pay"; "nobody pays". */
export function glanceVerdict(parts: Map<Payer, string[]>): string {
  if (parts.has('everyone')) return 'everyone pays';
  const names = PAYERS.filter((p) => parts.has(p) && PAYER_NAMES[p] !== undefined).map((p) => PAYER_NAMES[p]!);
  const who = names.length === 0 ? '' : `${names.slice(0, -1).join(', ')}${names.length > 1 ? ' and ' : ''}${names.at(-1)} pay${names.length === 1 ? 's' : ''}`;
  if (!parts.has('cost')) return who || 'nobody pays';
  return who ? `${who}, and copies cost work` : 'nobody pays, but copies cost work';
}

/** One line per strategy: who pays, in words, before any chart. */
function glance(s: ReplaySummary, scores: Map<StrategyId, WhoPays>, data: Partial<Record<StrategyId, ReportData>> | null): string {
  const items = strategiesOf(s).map((id) => {
    const parts = glanceParts(s.strategies[id]!, data?.[id]?.stall_pending ?? 0);
    const verdict = glanceVerdict(parts);
    const shown = parts.has('everyone') ? `<span class="bad">${h(verdict)}</span>`
      : verdict === 'nobody pays' ? `<span class="good">${h(verdict)}</span>` : h(verdict);
    const detail = PAYERS.filter((p) => parts.has(p)).map((p) => (p === 'everyone'
      ? `<span class="bad">${h(parts.get(p)!.join(', '))}</span>`
      : `${h(p)}: ${h(parts.get(p)!.join(', '))}`)).join('; ');
    const w = scores.get(id)!;
    // From a summary a leak's duration is unknown: the filesystem's number is then an upper bound.
    const fs = w.leakEstimated ? `≤ ${fmtNum(w.fs)} s-eq., leaks counted as held for the whole trace` : `${fmtNum(w.fs)} s-eq.`;
    return `<li><b>${id}</b>: ${shown}${detail ? ` — ${detail}` : ''} <span class="score">[${fmtNum(w.device)} page-eq. / ${h(fs)}]</span></li>`;
  });
  return `<section id="glance"><h2>At a glance</h2><ul class="glance">${items.join('\n')}</ul></section>`;
}

export function chartFigure(c: ChartBlock): string {
  return `<figure class="chart" id="chart-${c.id}" data-spec="spec-${c.id}">
<div class="vis">${renderSvg(c.spec, `svg-${c.id}`)}</div>
<figcaption>${h(c.caption)}</figcaption>
</figure>`;
}

function summaryTable(s: ReplaySummary, data: Partial<Record<StrategyId, ReportData>> | null): string {
  const strategies = strategiesOf(s);
  const kinds = kindsSeen(s);
  const none = FINDING_KINDS.filter((k) => !kinds.includes(k));
  const head = kinds.map((k) => `<th class="kind" title="${h(KIND_PAYER[k])} pays"><span class="sw" style="background:${KIND_COLORS[k]}"></span>${h(k.replace('_', ' '))}</th>`).join('');
  const rows = strategies.map((id) => {
    const st = s.strategies[id]!;
    const cells = kinds.map((k) => cell(st.counts[k], st.bytes[k], k)).join('');
    const sn = st.stall_ns;
    const pending = data?.[id]?.stall_pending ?? 0;
    const stall = sn.count > 0
      ? `${num(sn.count)} · ${h(formatDuration(sn.total))}${pending > 0
        ? `<br><small class="pending">${pending === sn.count ? (pending === 1 ? 'still' : 'all still') : `${pending} still`} waiting<br>when the trace ended</small>` : ''}${sn.count > 1
        ? `<br><small>p50 ${h(formatDuration(sn.p50))}<br>p99 ${h(formatDuration(sn.p99))}<br>max ${h(formatDuration(sn.max))}</small>` : ''}`
      : '<span class="zero">0</span>';
    return `<tr><th scope="row">${id}</th>${cells}<td class="stall">${stall}</td><td>${num(st.dropped_events)}</td></tr>`;
  }).join('\n');
  return `<section id="summary"><h2>Findings by strategy</h2>
<div class="scroll"><table class="summary${kinds.length > 9 ? ' many' : ''}"><thead><tr><th>strategy</th>${head}<th>stalls · total</th><th>dropped DMA</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="small">Counts, with bytes below. ${none.length ? `No finding of kind ${none.map((k) => `<code>${k}</code>`).join(', ')} under any strategy.` : ''}
"dropped DMA": DMA events a strategy made moot (refused pin, killed process, hung device).</p></section>`;
}

function cell(count: number, bytes: number, kind: FindingKind): string {
  if (count === 0) return '<td class="zero">0</td>';
  const severe = kind === 'corruption' || kind === 'info_leak';
  return `<td class="${severe ? 'severe' : 'hit'}">${num(count)}${bytes > 0 ? `<br><small>${h(formatBytes(bytes))}</small>` : ''}</td>`;
}

function worstSection(s: ReplaySummary, data: Partial<Record<StrategyId, ReportData>>): string {
  const origin = s.trace.first_ts ?? 0;
  const blocks = strategiesOf(s).map((id) => {
    const d = data[id];
    if (!d || d.worst.length === 0) return `<details><summary><b>${id}</b>: no findings</summary></details>`;
    const row = (f: ReportData['worst'][number]) => `<tr><td><span class="sw" style="background:${KIND_COLORS[f.kind]}"></span>${h(f.kind)}</td>
<td class="num">${h(formatTime(f.ts, origin))}</td><td class="num">${f.bytes > 0 ? h(formatBytes(f.bytes)) : ''}</td>
<td>${h(describeFinding(f, origin))}</td><td class="num small">${h(f.chain.map((c) => `#${c.index}`).join(' → '))}</td></tr>`;
    const shown = d.worst.slice(0, WORST_SHOWN).map(row).join('\n');
    const more = d.worst.slice(WORST_SHOWN);
    const rest = more.length
      ? `<tr><td colspan="5"><details><summary>${more.length} more</summary><table class="worst">${more.map(row).join('\n')}</table></details></td></tr>`
      : '';
    return `<details open><summary><b>${id}</b>: ${countOf(d.findings, 'finding')}${d.findings > d.worst.length ? `; the worst ${d.worst.length}` : ''}</summary>
<table class="worst"><thead><tr><th>kind</th><th>at</th><th>bytes</th><th>what happened</th><th>events</th></tr></thead>
<tbody>${shown}${rest}</tbody></table></details>`;
  });
  return `<section id="worst"><h2>Worst findings, with their causes</h2>
<p class="small">Per strategy, by severity of kind (model.md's order: corruption first), then bytes. Times are from the first event;
"events" are event indices in the trace (0-based, meta not counted) in causal order: the pin (or pins) first, the event
that revealed the finding last; an event may be older than the one before it (a writeback window opened before the pin).</p>
${blocks.join('\n')}</section>`;
}

function paramsSection(s: ReplaySummary): string {
  const t = s.trace;
  const skipped = Object.entries(t.skipped_by_reason).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([r, n]) => `${h(r)}: ${num(n)}`).join(', ');
  const rows: [string, string][] = [
    ['trace', `<code>${h(t.path)}</code> (${h(t.format)})`],
    ['events', `${num(t.events_read)} read, ${num(t.events_replayed)} replayed, ${num(t.events_skipped)} skipped${skipped ? ` (${skipped})` : ''}`],
    ['time span', t.first_ts === null ? '—' : `${num(t.first_ts)} ns .. ${num(t.last_ts)} ns (${h(formatDuration(spanNs(s)))})`],
    ['strategies', s.params.strategies.map((x) => h(x)).join(', ')],
    ['lease break', `${h(formatDuration(s.params.lease_break_ns))} (${num(s.params.lease_break_ns)} ns)`],
    ['page size', `${num(s.params.page_size)} bytes`],
    ['lenient', h(String(s.params.lenient))],
    ['tool', `${h(s.tool)} ${h(s.version)}`],
  ];
  return `<section id="params"><h2>Parameters</h2><table class="params">${rows.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join('')}</table></section>`;
}

function howToRead(): string {
  return `<section id="how"><h2>How to read "who pays"</h2>
<p>Every answer to a truncate of pinned pages punishes somebody. The x axis adds up what the <b>device's user</b> loses, in
page-equivalents: each lost or stale page counts 1, a faulted DMA ${DEVICE_WEIGHTS.dma_fault}, a refused long-term pin
${DEVICE_WEIGHTS.pin_refused}, a killed process or a hung device ${DEVICE_WEIGHTS.killed}. The y axis adds up what the
<b>filesystem</b> loses, in seconds: stall time, ${FS_WEIGHTS.op_failed_s} s per truncate that failed with EBUSY, and 1 s per
MiB·s of storage leaked to a pin. Both axes are symlog: 0 stays 0, large values are compressed. Corruption and info leaks are
on neither axis: everyone pays for those, so the point is a red cross. <code>none</code> is the baseline that ignores pins: it
shows where data <i>would</i> be corrupted.</p></section>`;
}

/** A number from the input, rendered as one whatever the input held. */
function num(x: unknown): string {
  return h(String(Number(x)));
}

function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(x < 10 ? 3 : 1);
}

/** Strategy ids in canonical order (re-exported for callers that build inputs). */
export const REPORT_STRATEGIES = STRATEGY_IDS;
