// From (summary, per-strategy report data) to the rows each chart draws.
// Everything here is plain arithmetic on the inputs: deterministic, so the
// same trace gives the same page byte for byte.
import { FINDING_KINDS, STRATEGY_IDS, type FindingKind, type ReplaySummary, type StrategyId } from '../replay/types.js';
import { rebin, type ReportData } from '../analysis/report-data.js';
import { formatDuration } from '../analysis/words.js';
import { outcomeRow, type OutcomeRow } from './charts/outcomes.js';
import { LABEL_DX, LABEL_DY, WHO_PAYS_HEIGHT, symlogPx, type WhoPaysPoint } from './charts/who-pays.js';
import { CHART_WIDTH, symlogTop } from './charts/base.js';
import { sansTextWidth } from './text-width.js';
import type { TimelineRow } from './charts/timeline.js';
import { STALL_ENDED, STALL_PENDING, type StallRow } from './charts/stalls.js';
import type { WhereRow } from './charts/where.js';
import { whoPays, type WhoPays } from './who-pays.js';

export const MAX_TIMELINE_BINS = 200;
/** The bin width is at least span / this. */
export const MIN_TIMELINE_BINS_SPAN = 120;

/** The strategies the summary holds, in canonical order. */
export function strategiesOf(summary: ReplaySummary): StrategyId[] {
  return STRATEGY_IDS.filter((s) => summary.strategies[s] !== undefined);
}

export function outcomeRows(summary: ReplaySummary): OutcomeRow[] {
  const rows: OutcomeRow[] = [];
  for (const s of strategiesOf(summary)) {
    const st = summary.strategies[s]!;
    for (const k of FINDING_KINDS) {
      if (st.counts[k] > 0 || st.bytes[k] > 0) rows.push(outcomeRow(s, k, st.counts[k], st.bytes[k]));
    }
  }
  return rows;
}

export function spanNs(summary: ReplaySummary): number {
  const { first_ts: a, last_ts: b } = summary.trace;
  return a !== null && b !== null ? Math.max(0, b - a) : 0;
}

export function whoPaysOf(summary: ReplaySummary, data: Partial<Record<StrategyId, ReportData>> | null | undefined): Map<StrategyId, WhoPays> {
  const out = new Map<StrategyId, WhoPays>();
  for (const s of strategiesOf(summary)) {
    const d = data?.[s];
    out.set(s, whoPays(summary.strategies[s]!, summary.params.page_size, d ? d.leak_byte_ns : null, spanNs(summary)));
  }
  return out;
}

/** Points closer than this (px, about a marker's diameter) are one spot and share one label. */
export const SAME_SPOT_PX = 10;
/** A label's height at 12 px: with its width (sansTextWidth), what the placement avoids overprinting. */
const LABEL_HEIGHT_PX = 14;

/**
 * Who-pays points in drawing order (strategies that corrupt or leak data
 * last, so they are drawn on top), each spot labelled once, labels placed
 * so they stay in the plot and do not overprint each other.
 */
export function whoPaysPoints(scores: Map<StrategyId, WhoPays>): WhoPaysPoint[] {
  // Judged in pixels on the chart's own symlog axes.
  const all = [...scores];
  const topX = symlogTop(Math.max(0, ...all.map(([, w]) => w.device)));
  const topY = symlogTop(Math.max(0, ...all.map(([, w]) => w.fs)));
  const at = (w: WhoPays) => ({ x: symlogPx(w.device, topX, CHART_WIDTH), y: WHO_PAYS_HEIGHT - symlogPx(w.fs, topY, WHO_PAYS_HEIGHT) });
  const clusters: { x: number; y: number; sec: boolean; members: StrategyId[] }[] = [];
  for (const [s, w] of all) {
    const { x, y } = at(w);
    const sec = w.security > 0;
    const c = clusters.find((k) => k.sec === sec && Math.hypot(k.x - x, k.y - y) < SAME_SPOT_PX);
    if (c) c.members.push(s);
    else clusters.push({ x, y, sec, members: [s] });
  }
  // Greedy placement, left to right: the first of four spots around the point that
  // stays inside the plot and overprints no label placed before (else the least bad).
  type Box = { x0: number; x1: number; y0: number; y1: number };
  const overlap = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  const placed: Box[] = [];
  const marks: Box[] = clusters.map((c) => ({ x0: c.x - 7, x1: c.x + 7, y0: c.y - 7, y1: c.y + 7 }));
  const place = new Map<StrategyId, { label: string; pos: 'above' | 'below'; align: 'left' | 'right' }>();
  for (const c of [...clusters].sort((a, b) => a.x - b.x || b.y - a.y)) {
    const label = c.members.join(', ');
    const w = sansTextWidth(label, 12);
    let best: { score: number; box: Box; pos: 'above' | 'below'; align: 'left' | 'right' } | null = null;
    for (const align of ['left', 'right'] as const) {
      for (const pos of ['above', 'below'] as const) {
        const x0 = align === 'left' ? c.x + LABEL_DX : c.x - LABEL_DX - w;
        const base = c.y + LABEL_DY[pos];
        const box = { x0, x1: x0 + w, y0: base - LABEL_HEIGHT_PX + 3, y1: base + 3 };
        // A few px over the top or bottom border is fine (the padding leaves room); past the right edge is not.
        const outside = box.x0 < 0 || box.x1 > CHART_WIDTH || box.y0 < -4 || box.y1 > WHO_PAYS_HEIGHT + 4;
        const score = (outside ? 100 : 0) + 10 * placed.filter((b) => overlap(b, box)).length + marks.filter((b) => overlap(b, box)).length;
        if (!best || score < best.score) best = { score, box, pos, align };
      }
    }
    placed.push(best!.box);
    place.set(c.members[0]!, { label, pos: best!.pos, align: best!.align });
  }
  const points = all.map(([s, w]) => ({
    strategy: s, device: w.device, fs: w.fs, security: w.security,
    class: w.security > 0 ? 'corrupts or leaks data' : 'no corruption',
    leak: leakWords(w),
    label: place.get(s)?.label ?? '',
    labelPos: place.get(s)?.pos ?? 'above',
    labelAlign: place.get(s)?.align ?? 'left',
  } satisfies WhoPaysPoint));
  return [...points.filter((p) => p.security === 0), ...points.filter((p) => p.security > 0)];
}

/** How a who-pays point counted leaked storage: an upper bound when the leak durations are unknown (a summary). */
export function leakWords(w: WhoPays): string {
  return w.leakEstimated ? LEAK_UPPER_BOUND : 'measured per leak (or none)';
}
export const LEAK_UPPER_BOUND = 'upper bound: leaked blocks counted as held for the whole trace';

/** Timeline rows on one shared bin width; null when no strategy has findings. */
export function timelineRows(summary: ReplaySummary, data: Partial<Record<StrategyId, ReportData>>): { rows: TimelineRow[]; binNs: number } | null {
  const present = strategiesOf(summary).filter((s) => (data[s]?.bins.length ?? 0) > 0);
  if (present.length === 0) return null;
  let binNs = Math.max(...present.map((s) => data[s]!.bin_ns));
  // Sparse findings in a long trace would be hairlines: bins at least 1/120 of the span, so bars stay visible.
  while (binNs * MIN_TIMELINE_BINS_SPAN < spanNs(summary)) binNs *= 2;
  const at = (s: StrategyId) => rebin(data[s]!.bins, data[s]!.bin_ns, binNs);
  // Strategies may have findings far apart: widen until the shared span fits.
  for (;;) {
    const all = present.flatMap((s) => at(s).map((b) => b.i));
    if (Math.max(...all) - Math.min(...all) + 1 <= MAX_TIMELINE_BINS) break;
    binNs *= 2;
  }
  const origin = summary.trace.first_ts ?? 0;
  const rows: TimelineRow[] = [];
  for (const s of present) {
    for (const b of at(s)) {
      for (const k of FINDING_KINDS) {
        const n = b.counts[k];
        if (!n) continue;
        rows.push({ strategy: s, kind: k, t0: ms(b.i * binNs - origin), t1: ms((b.i + 1) * binNs - origin), count: n });
      }
    }
  }
  return { rows, binNs };
}

export function stallRows(summary: ReplaySummary, data: Partial<Record<StrategyId, ReportData>>): StallRow[] {
  const rows: StallRow[] = [];
  for (const s of strategiesOf(summary)) {
    for (const b of data[s]?.stall_buckets ?? []) {
      const loNs = b.log2 < 0 ? 0 : 2 ** b.log2;
      const hiNs = b.log2 < 0 ? 1 : 2 ** (b.log2 + 1);
      // A zero-length stall has no place on a log axis: drawn in the lowest bucket.
      rows.push({
        strategy: s, lo: Math.max(loNs, 0.5) / 1e6, hi: hiNs / 1e6, count: b.count,
        range: `${formatDuration(loNs)} – ${formatDuration(hiNs)}${b.pending ? ' so far' : ''}`,
        state: b.pending ? STALL_PENDING : STALL_ENDED,
      });
    }
  }
  return rows;
}

/** Files per strategy in the heatmap, and cells per file: what a reader can take in, and what keeps the page small. */
export const MAX_WHERE_FILES = 15;
export const MAX_WHERE_CELLS = 32;

/** Heatmap rows: per strategy the files hit hardest (by bytes), pages re-binned to at most MAX_WHERE_CELLS cells. */
export function whereRows(summary: ReplaySummary, data: Partial<Record<StrategyId, ReportData>>): { rows: WhereRow[]; omitted: number } {
  const rows: WhereRow[] = [];
  let omitted = 0;
  for (const s of strategiesOf(summary)) {
    const d = data[s];
    if (!d) continue;
    omitted += d.other_files.count;
    const ranked = [...d.where].sort((a, b) => total(b) - total(a) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    for (const f of ranked.slice(MAX_WHERE_FILES)) omitted += f.cells.reduce((n, c) => n + c.count, 0);
    for (const f of ranked.slice(0, MAX_WHERE_FILES)) {
      let pageBin = f.page_bin;
      let cells = f.cells;
      while (new Set(cells.map((c) => c.bin)).size > MAX_WHERE_CELLS) {
        pageBin *= 2;
        const merged = new Map<string, { bin: number; kind: typeof cells[number]['kind']; count: number; bytes: number }>();
        for (const c of cells) {
          const key = `${Math.floor(c.bin / 2)}:${c.kind}`;
          const m = merged.get(key) ?? { bin: Math.floor(c.bin / 2), kind: c.kind, count: 0, bytes: 0 };
          m.count += c.count;
          m.bytes += c.bytes;
          merged.set(key, m);
        }
        cells = [...merged.values()].sort((a, b) => a.bin - b.bin || (a.kind < b.kind ? -1 : 1));
      }
      for (const c of cells) {
        const p0 = c.bin * pageBin;
        const p1 = p0 + pageBin;
        rows.push({
          strategy: s, file: f.file, kind: c.kind, p0, p1,
          pages: pageBin === 1 ? `page ${p0}` : `pages ${p0}–${p1 - 1}`, count: c.count, bytes: c.bytes,
        });
      }
    }
  }
  return { rows, omitted };
}

function total(f: { cells: { bytes: number }[] }): number {
  return f.cells.reduce((n, c) => n + c.bytes, 0);
}

/** Kinds with a finding under some strategy, in model.md's order. */
export function kindsSeen(summary: ReplaySummary): FindingKind[] {
  const ss = strategiesOf(summary).map((s) => summary.strategies[s]!);
  return FINDING_KINDS.filter((k) => ss.some((st) => st.counts[k] > 0));
}

function ms(ns: number): number {
  return Math.round(ns) / 1e6;
}
