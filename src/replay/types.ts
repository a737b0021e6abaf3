// The replay's output contract (../shared/spec/cli.md, `replay --json`)
// and the records that flow from the engine to the analysis stage.

import type { EventType } from '../trace/events.js';

/** The nine strategies, in the order tables and charts show them. */
export const STRATEGY_IDS = ['none', 'pin', 'notify', 'kill', 'fail', 'remap', 'iommu', 'odp', 'refuse'] as const;
export type StrategyId = (typeof STRATEGY_IDS)[number];

/** The 14 finding kinds of model.md, in the order of its table. */
export const FINDING_KINDS = [
  'corruption', 'info_leak', 'lost_write', 'stale_read', 'dma_fault', 'device_hang', 'killed',
  'pin_refused', 'writeback_race', 'stall', 'op_failed', 'block_leak', 'migration_blocked', 'bounce_copy',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Who a kind of finding punishes (model.md's table). */
export const KIND_PAYER: Record<FindingKind, 'everyone' | 'device user' | 'filesystem' | 'system' | 'cost'> = {
  corruption: 'everyone', info_leak: 'everyone',
  lost_write: 'device user', stale_read: 'device user', dma_fault: 'device user', device_hang: 'device user',
  killed: 'device user', pin_refused: 'device user',
  writeback_race: 'filesystem', stall: 'filesystem', op_failed: 'filesystem', block_leak: 'filesystem',
  migration_blocked: 'system', bounce_copy: 'cost',
};

/** One event of a finding's causal chain. */
export interface CauseLink {
  /** Event index (IndexedEvent.index). */
  index: number;
  type: EventType;
  ts: number;
  /** The file the event touched, where it has one (a truncate, the write that reused a block). */
  file?: string;
  pid?: number;
}

/** A finding as the engine emits it (model.md "Findings"). */
export interface Finding {
  strategy: StrategyId;
  kind: FindingKind;
  ts: number;
  bytes: number;
  pid: number | null;
  dev: string | null;
  pin: number | null;
  file: string | null;
  /** Page index in `file` (or in the pin's range when the page has no file). */
  page: number | null;
  /** Causal chain in causal order (model.md): the pin(s) first, the event that revealed the finding last; not sorted by time. */
  chain: CauseLink[];
  /** stall: how long the operation waited; block_leak: ns until the block was released. */
  dur_ns?: number;
  /** DMA direction, for DMA findings. */
  dir?: 'read' | 'write';
  /** stall: the operation was still waiting at the end of the trace (dur_ns measured to the last event). */
  pending?: boolean;
}

/** A finding as `--findings` prints it: the chain reduced to event indices. */
export type FindingRecord = Omit<Finding, 'strategy' | 'chain' | 'dir'> & { cause: number[] };

/** Receives findings as the replay produces them, strategy by strategy, in trace order. */
export interface FindingSink {
  add(f: Finding): void;
  /**
   * Optional fast path: when this is a strategy's only sink, the engine
   * calls tally() instead of building a Finding (no allocation per finding).
   */
  tally?(kind: FindingKind, bytes: number, durNs: number | undefined): void;
}

export interface StallStats {
  count: number;
  total: number;
  max: number;
  p50: number;
  p99: number;
}

export interface StrategySummary {
  counts: Record<FindingKind, number>;
  bytes: Record<FindingKind, number>;
  stall_ns: StallStats;
  dropped_events: number;
  findings?: FindingRecord[];
}

export interface ReplayParams {
  strategies: StrategyId[];
  lease_break_ns: number;
  page_size: number;
  lenient: boolean;
}

export interface TraceInfo {
  path: string;
  format: 'ndjson' | 'array' | 'object';
  events_read: number;
  events_replayed: number;
  events_skipped: number;
  skipped_by_reason: Record<string, number>;
  first_ts: number | null;
  last_ts: number | null;
}

/** `pinscope replay --json`, exactly (cli.md). */
export interface ReplaySummary {
  tool: 'pinscope';
  version: string;
  params: ReplayParams;
  trace: TraceInfo;
  strategies: Partial<Record<StrategyId, StrategySummary>>;
}

export const DEFAULT_LEASE_BREAK_NS = 45_000_000_000;
