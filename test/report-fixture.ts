// Hand-made findings for the report tests: fed through the real report
// collector, with a ReplaySummary built from the same findings, so the
// report can be tested without the engine.
import { createReportCollector, type ReportCollectorOptions, type ReportData } from '../src/analysis/report-data.js';
import {
  FINDING_KINDS, type CauseLink, type Finding, type FindingKind, type ReplaySummary, type StrategyId, type StrategySummary,
} from '../src/replay/types.js';

export const MS = 1_000_000;

export function finding(strategy: StrategyId, kind: FindingKind, ts: number, extra: Partial<Finding> = {}): Finding {
  return {
    strategy, kind, ts, bytes: 4096, pid: 100, dev: 'mlx5_0', pin: 17, file: '/mnt/pmem/a.dat', page: 0, chain: [], ...extra,
  };
}

/** The corruption of model.md: pin, truncate frees the block, a write to another file reuses it, DMA lands. */
export function corruptionChain(file = '/mnt/pmem/a.dat', other = '/mnt/pmem/b.dat'): CauseLink[] {
  return [
    { index: 3, type: 'pin', ts: 0, pid: 100 },
    { index: 5, type: 'truncate', ts: 1 * MS, file },
    { index: 6, type: 'write', ts: 2 * MS, file: other },
    { index: 7, type: 'dma', ts: 3 * MS },
  ];
}

function zero(): Record<FindingKind, number> {
  return Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
}

export interface Built {
  summary: ReplaySummary;
  data: Partial<Record<StrategyId, ReportData>>;
}

/** Summary + collector data from findings, as the engine would give them. */
export function build(findings: Finding[], opts: {
  path?: string; strategies?: StrategyId[]; first?: number; last?: number; collector?: ReportCollectorOptions;
} = {}): Built {
  const strategies = opts.strategies ?? ['none', 'pin', 'notify', 'kill', 'fail', 'remap', 'iommu', 'odp', 'refuse'];
  const data: Partial<Record<StrategyId, ReportData>> = {};
  const sums: Partial<Record<StrategyId, StrategySummary>> = {};
  for (const s of strategies) {
    const c = createReportCollector(s, opts.collector ?? {}, { page_size: 4096, version: 1 });
    const counts = zero();
    const bytes = zero();
    const stalls: number[] = [];
    for (const f of findings.filter((x) => x.strategy === s)) {
      c.add(f);
      counts[f.kind]++;
      bytes[f.kind] += f.bytes;
      if (f.kind === 'stall') stalls.push(f.dur_ns ?? 0);
    }
    stalls.sort((a, b) => a - b);
    const q = (p: number) => (stalls.length ? stalls[Math.min(stalls.length - 1, Math.floor(p * stalls.length))]! : 0);
    data[s] = c.finish(opts.last ?? 10 * MS);
    sums[s] = {
      counts, bytes, dropped_events: 0,
      stall_ns: { count: stalls.length, total: stalls.reduce((a, b) => a + b, 0), max: stalls.at(-1) ?? 0, p50: q(0.5), p99: q(0.99) },
    };
  }
  const summary: ReplaySummary = {
    tool: 'pinscope', version: '0.1.0',
    params: { strategies, lease_break_ns: 45e9, page_size: 4096, lenient: false },
    trace: {
      path: opts.path ?? 'traces/dax-truncate.ndjson', format: 'ndjson', events_read: 12, events_replayed: 12, events_skipped: 0,
      skipped_by_reason: {}, first_ts: opts.first ?? 0, last_ts: opts.last ?? 10 * MS,
    },
    strategies: sums,
  };
  return { summary, data };
}

/** A scenario touching every chart: corruption under none, leaks under pin, stalls under notify, ... */
export function scenario(file = '/mnt/pmem/a.dat', other = '/mnt/pmem/b.dat', dev = 'mlx5_0', path?: string): Built {
  const chain = corruptionChain(file, other);
  const f: Finding[] = [
    finding('none', 'corruption', 3 * MS, { chain, file, dev, page: 2, dir: 'write' }),
    finding('none', 'info_leak', 4 * MS, { chain, file, dev, page: 3, dir: 'read' }),
    finding('pin', 'block_leak', 1 * MS, { chain: chain.slice(0, 2), file, dev, bytes: 8192, dur_ns: 5 * MS }),
    finding('pin', 'lost_write', 3 * MS, { chain, file, dev, page: 2 }),
    finding('notify', 'stall', 1 * MS, { chain: chain.slice(0, 2), file, dev, bytes: 0, dur_ns: 3 * MS }),
    finding('notify', 'stall', 1.5 * MS, { chain: chain.slice(0, 2), file, dev, bytes: 0, dur_ns: 45e9 }),
    finding('kill', 'killed', 2 * MS, { chain: chain.slice(0, 2), file, dev, bytes: 0 }),
    finding('kill', 'stall', 1 * MS, { chain: chain.slice(0, 2), file, dev, bytes: 0, dur_ns: 1 * MS }),
    finding('fail', 'op_failed', 1 * MS, { chain: chain.slice(0, 2), file, dev, bytes: 0 }),
    finding('remap', 'lost_write', 3 * MS, { chain, file, dev, page: 2 }),
    finding('iommu', 'dma_fault', 3 * MS, { chain, file, dev }),
    finding('iommu', 'device_hang', 3 * MS, { chain, file, dev, bytes: 0 }),
    finding('odp', 'dma_fault', 3 * MS, { chain, file, dev }),
    finding('refuse', 'pin_refused', 0, { chain: chain.slice(0, 1), file, dev, bytes: 0 }),
  ];
  return build(f, { path });
}
