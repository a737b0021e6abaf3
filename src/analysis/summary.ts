// One strategy's summary (cli.md `replay --json`): counts and bytes per
// kind and stall durations, aggregated as findings stream by, without
// keeping them (unless --findings asks for the records).
//
// Percentiles use the nearest-rank rule: pQ is the smallest recorded value
// v such that at least ceil(Q/100 * n) stalls lasted <= v. Up to
// EXACT_LIMIT stalls are kept exactly; past that they go into log buckets
// 2^(1/64) wide (under 1.1% relative error) and a percentile is the upper
// bound of its rank's bucket, clipped to the maximum. Either way the result
// depends only on the multiset of durations: deterministic.
import { FINDING_KINDS, type Finding, type FindingKind, type FindingRecord, type FindingSink, type StallStats, type StrategySummary } from '../replay/types.js';

export const EXACT_LIMIT = 4096;
const BUCKETS_PER_OCTAVE = 64;

/** Each kind's number per FINDING_KINDS position, as a record in that order. */
function byKind(values: readonly number[]): Record<FindingKind, number> {
  const r = {} as Record<FindingKind, number>;
  FINDING_KINDS.forEach((k, i) => (r[k] = values[i]!));
  return r;
}

/**
 * A kind's position in FINDING_KINDS, by a switch over the names:
 * counting into a record keyed by the kind would be a keyed access whose
 * key changes from call to call, which V8 only does through its slow,
 * megamorphic path (~1.5M findings in a 1M-event replay).
 */
const kindIndex = new Function('kind', [
  'switch (kind) {',
  ...FINDING_KINDS.map((k, i) => `  case ${JSON.stringify(k)}: return ${i};`),
  '}',
  'throw new Error("unknown finding kind " + kind);',
].join('\n')) as (kind: FindingKind) => number;
const STALL = kindIndex('stall');

export class StallAggregate {
  count = 0;
  total = 0;
  max = 0;
  private exact: number[] | null = [];
  private hist: Map<number, number> | null = null;
  private zeros = 0;

  add(ns: number): void {
    this.count++;
    this.total += ns;
    if (ns > this.max) this.max = ns;
    if (this.exact) {
      this.exact.push(ns);
      if (this.exact.length > EXACT_LIMIT) {
        const xs = this.exact;
        this.exact = null;
        this.hist = new Map();
        for (const x of xs) this.bucket(x);
      }
    } else {
      this.bucket(ns);
    }
  }

  private bucket(ns: number): void {
    if (ns <= 0) {
      this.zeros++;
      return;
    }
    const b = Math.floor(Math.log2(ns) * BUCKETS_PER_OCTAVE);
    this.hist!.set(b, (this.hist!.get(b) ?? 0) + 1);
  }

  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((q / 100) * this.count));
    if (this.exact) {
      const s = [...this.exact].sort((a, b) => a - b);
      return s[rank - 1]!;
    }
    if (rank <= this.zeros) return 0;
    let seen = this.zeros;
    const keys = [...this.hist!.keys()].sort((a, b) => a - b);
    for (const k of keys) {
      seen += this.hist!.get(k)!;
      if (seen >= rank) return Math.min(this.max, Math.floor(2 ** ((k + 1) / BUCKETS_PER_OCTAVE)));
    }
    return this.max;
  }

  stats(): StallStats {
    return { count: this.count, total: this.total, max: this.max, p50: this.percentile(50), p99: this.percentile(99) };
  }
}

export function toRecord(f: Finding): FindingRecord {
  const r: FindingRecord = {
    kind: f.kind, ts: f.ts, bytes: f.bytes, pid: f.pid, dev: f.dev, pin: f.pin, file: f.file, page: f.page,
    cause: f.chain.map((c) => c.index),
  };
  if (f.dur_ns !== undefined) r.dur_ns = f.dur_ns;
  if (f.pending) r.pending = true;
  return r;
}

export class SummaryBuilder implements FindingSink {
  private readonly counts: number[] = FINDING_KINDS.map(() => 0);
  private readonly bytes: number[] = FINDING_KINDS.map(() => 0);
  readonly stalls = new StallAggregate();
  private readonly records: FindingRecord[] | null;

  constructor(keepFindings: boolean) {
    this.records = keepFindings ? [] : null;
  }

  add(f: Finding): void {
    this.tallyFn(f.kind, f.bytes, f.dur_ns);
    if (this.records) this.records.push(toRecord(f));
  }

  /** Only offered when no records are kept: counting needs no Finding. */
  get tally(): ((kind: FindingKind, bytes: number, durNs: number | undefined) => void) | undefined {
    if (this.records) return undefined;
    return this.tallyFn;
  }

  private readonly tallyFn = (kind: FindingKind, bytes: number, durNs: number | undefined): void => {
    const i = kindIndex(kind);
    this.counts[i]++;
    this.bytes[i] += bytes;
    if (i === STALL) this.stalls.add(durNs ?? 0);
  };

  finish(dropped: number): StrategySummary {
    const s: StrategySummary = {
      counts: byKind(this.counts),
      bytes: byKind(this.bytes),
      stall_ns: this.stalls.stats(),
      dropped_events: dropped,
    };
    if (this.records) s.findings = this.records;
    return s;
  }
}
