// The report's collector: one strategy's findings folded into data whose
// size is bounded whatever the trace's length, so a 10M-event trace still
// gives a report of a few hundred KB. Runs in the engine's worker thread:
// the result is plain, structured-cloneable data.
import type { CollectorFactory, StrategyCollector } from './collector.js';
import type { TraceHeader } from '../trace/source.js';
import { FINDING_KINDS, type CauseLink, type Finding, type FindingKind, type StrategyId } from '../replay/types.js';

/** The kinds the "where" heatmap shows: data damaged, lost or read from the wrong place. */
export const WHERE_KINDS = ['corruption', 'info_leak', 'lost_write', 'stale_read'] as const;
export type WhereKind = (typeof WHERE_KINDS)[number];

function isWhereKind(k: FindingKind): k is WhereKind {
  return (WHERE_KINDS as readonly string[]).includes(k);
}

/**
 * The event that reused a frame a corruption or info leak went through:
 * model.md's chain is the pin, the event that freed the frame, the one that
 * reused it (a write, a pin or DMA fault that allocated, an mmu notifier
 * migrate), then the DMA; the freeing one may be missing, never the reuse.
 */
export function reuserOf(chain: readonly CauseLink[]): CauseLink | undefined {
  const n = chain.length;
  return n >= 3 && chain[n - 1]!.type === 'dma' ? chain[n - 2] : undefined;
}

/**
 * Whose data a finding damaged, and the page the heatmap puts it on. A
 * corruption or info leak hurts whoever reused the frame: the file the
 * reusing write went to, or the process whose pin or fault took the frame
 * (its page in that file or process is not in the chain: the page is the
 * pinned one the DMA aimed at). A lost write or stale read hurts the pinned
 * file page itself, or the pinning process's anonymous memory.
 */
export function whereOf(f: Pick<Finding, 'kind' | 'file' | 'page' | 'pid' | 'chain'>): { row: string; page: number } | null {
  if (f.page === null) return null;
  if (f.kind === 'corruption' || f.kind === 'info_leak') {
    const r = reuserOf(f.chain);
    if (r?.file !== undefined) return { row: r.file, page: f.page };
    if (r?.pid !== undefined) return { row: `memory of pid ${r.pid}`, page: f.page };
  }
  return { row: f.file ?? `anonymous memory of pid ${f.pid ?? '?'}`, page: f.page };
}

export interface ReportCollectorOptions {
  /** Worst findings kept (default 50). */
  worst?: number;
  /** Timeline bins above which the bin width doubles (default 200). */
  maxBins?: number;
  /** Page bins per file in the heatmap above which they double (default 64). */
  maxPageBins?: number;
  /** Files in the heatmap; later files are folded into `other_files` (default 200). */
  maxFiles?: number;
}

/** Findings of one time bin [i * bin_ns, (i + 1) * bin_ns), by kind. */
export interface TimelineBin {
  i: number;
  counts: Partial<Record<FindingKind, number>>;
}

/** Stalls whose duration lies in [2^log2, 2^(log2+1)) ns (log2 = -1: zero-length). */
export interface StallBucket {
  log2: number;
  count: number;
  /** Operations still waiting when the trace ended (duration measured to its last event): bucketed apart. */
  pending?: true;
}

/** Findings of one kind on pages [bin * page_bin, (bin + 1) * page_bin) of a file. */
export interface WhereCell {
  bin: number;
  kind: WhereKind;
  count: number;
  bytes: number;
}

export interface WhereFile {
  /** Whose data (whereOf): a file, "memory of pid N" or "anonymous memory of pid N". */
  file: string;
  /** Pages per cell: a power of two, doubled when the file has many cells. */
  page_bin: number;
  cells: WhereCell[];
}

/** A finding of the worst-N table, with its chain (all the words need). */
export type WorstFinding = Omit<Finding, 'strategy'>;

export interface ReportData {
  strategy: StrategyId;
  page_size: number;
  findings: number;
  /** Timeline bin width in ns: 1 µs doubled as often as needed; bins are anchored at ts 0. */
  bin_ns: number;
  bins: TimelineBin[];
  stall_buckets: StallBucket[];
  /** Stalls still waiting when the trace ended (finding.pending). */
  stall_pending: number;
  where: WhereFile[];
  /** WHERE_KINDS findings in rows past `maxFiles`. */
  other_files: { count: number; bytes: number };
  worst: WorstFinding[];
  /** Sum over block_leak findings of bytes x ns held: the "leaked block-seconds" of who-pays. */
  leak_byte_ns: number;
  /** The trace's last event time, as the engine gave it to finish(). */
  last_ts: number | null;
}

const BASE_BIN_NS = 1000;
const KIND_RANK = new Map<FindingKind, number>(FINDING_KINDS.map((k, i) => [k, i]));

type Severity = Pick<WorstFinding, 'kind' | 'bytes' | 'ts' | 'chain'>;

/** Worse first: the kind's place in model.md's table (corruption first), then bytes, then time. */
export function compareSeverity(a: Severity, b: Severity): number {
  return (KIND_RANK.get(a.kind)! - KIND_RANK.get(b.kind)!) || (b.bytes - a.bytes) || (a.ts - b.ts)
    || ((a.chain.at(-1)?.index ?? 0) - (b.chain.at(-1)?.index ?? 0));
}

class ReportCollector implements StrategyCollector<ReportData> {
  private findings = 0;
  private binNs = BASE_BIN_NS;
  private bins = new Map<number, Partial<Record<FindingKind, number>>>();
  private minBin = Infinity;
  private maxBin = -Infinity;
  /** Key: the log2 bucket, with a 'p' for stalls still pending at the end. */
  private stalls = new Map<string, StallBucket>();
  private stallPending = 0;
  private files = new Map<string, { pageBin: number; cells: Map<number, WhereCell> }>();
  private other = { count: 0, bytes: 0 };
  private worst: WorstFinding[] = [];
  /** After a trim, the last finding kept: one not worse than it can never make the table. */
  private worstCutoff: WorstFinding | null = null;
  private leakByteNs = 0;
  private readonly nWorst: number;
  private readonly maxBins: number;
  private readonly maxPageBins: number;
  private readonly maxFiles: number;

  constructor(private readonly strategy: StrategyId, options: ReportCollectorOptions, private readonly pageSize: number) {
    this.nWorst = Math.max(0, options.worst ?? 50);
    this.maxBins = Math.max(2, options.maxBins ?? 200);
    this.maxPageBins = Math.max(1, options.maxPageBins ?? 64);
    this.maxFiles = Math.max(0, options.maxFiles ?? 200);
  }

  add(f: Finding): void {
    this.findings++;
    this.addToTimeline(f);
    if (f.kind === 'stall') {
      const d = f.dur_ns ?? 0;
      const log2 = d >= 1 ? Math.floor(Math.log2(d)) : -1;
      const key = `${log2}${f.pending ? 'p' : ''}`;
      const b = this.stalls.get(key) ?? { log2, count: 0, ...(f.pending ? { pending: true as const } : {}) };
      b.count++;
      this.stalls.set(key, b);
      if (f.pending) this.stallPending++;
    }
    if (f.kind === 'block_leak') this.leakByteNs += f.bytes * (f.dur_ns ?? 0);
    if (isWhereKind(f.kind)) {
      const at = whereOf(f);
      if (at) this.addWhere(at.row, at.page, f.kind, f.bytes);
    }
    this.addWorst(f);
  }

  private addToTimeline(f: Finding): void {
    const i = Math.floor(f.ts / this.binNs);
    const counts = this.bins.get(i) ?? {};
    counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    this.bins.set(i, counts);
    this.minBin = Math.min(this.minBin, i);
    this.maxBin = Math.max(this.maxBin, i);
    // Doubling the width merges bin pairs exactly (bins are anchored at 0).
    while (this.maxBin - this.minBin + 1 > this.maxBins) {
      this.binNs *= 2;
      const merged = new Map<number, Partial<Record<FindingKind, number>>>();
      for (const [j, c] of this.bins) mergeCounts(merged, Math.floor(j / 2), c);
      this.bins = merged;
      this.minBin = Math.floor(this.minBin / 2);
      this.maxBin = Math.floor(this.maxBin / 2);
    }
  }

  private addWhere(row: string, page: number, kind: WhereKind, bytes: number): void {
    let entry = this.files.get(row);
    if (!entry) {
      if (this.files.size >= this.maxFiles) {
        this.other.count++;
        this.other.bytes += bytes;
        return;
      }
      entry = { pageBin: 1, cells: new Map() };
      this.files.set(row, entry);
    }
    addCell(entry.cells, Math.floor(page / entry.pageBin), kind, 1, bytes);
    // Too many distinct cells: make each cell cover twice the pages (never more bins than cells).
    while (entry.cells.size > this.maxPageBins && distinctBins(entry.cells) > this.maxPageBins) {
      entry.pageBin *= 2;
      const merged = new Map<number, WhereCell>();
      for (const c of entry.cells.values()) addCell(merged, Math.floor(c.bin / 2), c.kind, c.count, c.bytes);
      entry.cells = merged;
    }
  }

  private addWorst(f: Finding): void {
    if (this.nWorst === 0) return;
    if (this.worstCutoff !== null && compareSeverity(f, this.worstCutoff) >= 0) return;
    this.worst.push({
      kind: f.kind, ts: f.ts, bytes: f.bytes, pid: f.pid, dev: f.dev, pin: f.pin, file: f.file, page: f.page,
      ...(f.dir ? { dir: f.dir } : {}), ...(f.dur_ns !== undefined ? { dur_ns: f.dur_ns } : {}),
      ...(f.pending ? { pending: true } : {}),
      chain: f.chain.map((c) => ({ ...c })),
    });
    // Sort now and then rather than per finding: amortized O(log N) each.
    if (this.worst.length >= 4 * this.nWorst) this.trimWorst();
  }

  private trimWorst(): void {
    this.worst.sort(compareSeverity);
    this.worst.length = Math.min(this.worst.length, this.nWorst);
    if (this.worst.length === this.nWorst) this.worstCutoff = this.worst[this.nWorst - 1]!;
  }

  finish(lastTs: number | null): ReportData {
    this.trimWorst();
    const bins = [...this.bins].sort((a, b) => a[0] - b[0]).map(([i, counts]) => ({ i, counts }));
    const where = [...this.files]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([file, e]) => ({
        file,
        page_bin: e.pageBin,
        cells: [...e.cells.values()].sort((a, b) => a.bin - b.bin || (a.kind < b.kind ? -1 : 1)),
      }));
    return {
      strategy: this.strategy,
      page_size: this.pageSize,
      findings: this.findings,
      bin_ns: this.binNs,
      bins,
      stall_buckets: [...this.stalls.values()].sort((a, b) => a.log2 - b.log2 || Number(a.pending ?? false) - Number(b.pending ?? false)),
      stall_pending: this.stallPending,
      where,
      other_files: { ...this.other },
      worst: this.worst,
      leak_byte_ns: this.leakByteNs,
      last_ts: lastTs,
    };
  }
}

function mergeCounts(into: Map<number, Partial<Record<FindingKind, number>>>, i: number, c: Partial<Record<FindingKind, number>>): void {
  const t = into.get(i) ?? {};
  for (const [k, n] of Object.entries(c) as [FindingKind, number][]) t[k] = (t[k] ?? 0) + n;
  into.set(i, t);
}

function addCell(cells: Map<number, WhereCell>, bin: number, kind: WhereKind, count: number, bytes: number): void {
  const key = bin * WHERE_KINDS.length + WHERE_KINDS.indexOf(kind);
  const c = cells.get(key);
  if (c) {
    c.count += count;
    c.bytes += bytes;
  } else cells.set(key, { bin, kind, count, bytes });
}

function distinctBins(cells: Map<number, WhereCell>): number {
  const s = new Set<number>();
  for (const c of cells.values()) s.add(c.bin);
  return s.size;
}

/** The factory the engine calls by name in its worker (CollectorRef.factory). */
export const createReportCollector: CollectorFactory<ReportData> = (strategy, options, header: TraceHeader) =>
  new ReportCollector(strategy, (options ?? {}) as ReportCollectorOptions, header.page_size);

/**
 * Re-bins a strategy's timeline to a coarser width (a power-of-two multiple
 * of its own), so every strategy of a report shares one time axis.
 */
export function rebin(bins: TimelineBin[], fromNs: number, toNs: number): TimelineBin[] {
  if (toNs === fromNs) return bins;
  const factor = Math.round(toNs / fromNs);
  const merged = new Map<number, Partial<Record<FindingKind, number>>>();
  for (const b of bins) mergeCounts(merged, Math.floor(b.i / factor), b.counts);
  return [...merged].sort((a, b) => a[0] - b[0]).map(([i, counts]) => ({ i, counts }));
}
