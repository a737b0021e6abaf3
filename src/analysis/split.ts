// Which thread replays which strategies. The thread that parses the trace
// pays for parsing and validating every event; each worker thread pays
// only for decoding them off the wire; all pay per strategy they replay.
// Used only to balance threads: results never depend on the split.
import { STRATEGY_IDS, type StrategyId } from '../replay/types.js';

/**
 * Relative replay cost per strategy (pin = 1): instructions of one-strategy
 * replays of the 200k-event mixed workload past those of reading it alone
 * (Nov 2026); notify and kill, which keep truncates waiting, counted 1.5
 * but time only ~1.1-1.2 of pin, so 1.3.
 */
const COST: Record<StrategyId, number> = {
  none: 0.97, pin: 1, notify: 1.3, kill: 1.3, fail: 1.04, remap: 1.01, iommu: 1.03, odp: 1.04, refuse: 0.96,
};
/**
 * Reading, parsing, validating and encoding an event, in the same unit:
 * ~4 by instructions, but parsing streams through memory while the
 * strategies' machines miss the cache. Timing both threads of 1M-event
 * replays put the worker last at 3.5, and still last by 0.1-0.4 s in half
 * the runs at 3.0 (kill, fail, odp here). At 2.5 this thread replays
 * notify, kill and odp: the two that hold truncates for a lease break and
 * the one with its own DMA path, so the worker compiles none of the
 * lease-break or ODP code. Of the
 * splits timed (six to twelve interleaved runs each, Nov 2026), it took
 * the least CPU (6.0-6.4 s against 6.5-7.8 s) and the least wall time.
 */
export const PARSE_COST = 2.5;
/** Decoding an event off the wire, in the same unit. */
export const DECODE_COST = 0.15;

/**
 * Splits strategies over `n` threads: element 0 is the parsing thread's
 * share (possibly empty), the rest are worker threads' shares (never
 * empty). Every assignment is tried when there are few (n^k <= 2^16), the
 * one with the lightest busiest thread wins; otherwise heaviest first into
 * the lightest thread. Each share is in canonical order.
 */
export function splitByCost(strategies: StrategyId[], n: number, parseCost = PARSE_COST): StrategyId[][] {
  const ids = STRATEGY_IDS.filter((s) => strategies.includes(s));
  const threads = Math.max(1, Math.min(n, ids.length + 1));
  if (threads === 1) return [ids];
  const base = Array.from({ length: threads }, (_, t) => (t === 0 ? parseCost : DECODE_COST));
  const owner = threads ** ids.length <= 1 << 16 ? bestAssignment(ids, base) : greedy(ids, base);
  const groups = base.map((_, t) => ids.filter((_, i) => owner[i] === t));
  return [groups[0]!, ...groups.slice(1).filter((g) => g.length > 0)];
}

/** Thread of each strategy, minimizing the busiest thread's load; ties go to the first assignment in counting order. */
function bestAssignment(ids: StrategyId[], base: number[]): number[] {
  const n = base.length;
  const k = ids.length;
  const owner = new Array<number>(k).fill(0);
  let best = owner.slice();
  let bestMax = Infinity;
  for (let c = 0; c < n ** k; c++) {
    let x = c;
    const load = base.slice();
    for (let i = 0; i < k; i++) {
      owner[i] = x % n;
      x = Math.floor(x / n);
      load[owner[i]!]! += COST[ids[i]!];
    }
    const max = Math.max(...load);
    if (max < bestMax - 1e-9) {
      bestMax = max;
      best = owner.slice();
    }
  }
  return best;
}

function greedy(ids: StrategyId[], base: number[]): number[] {
  const load = base.slice();
  const owner = new Array<number>(ids.length).fill(0);
  const order = ids.map((_, i) => i).sort((a, b) => COST[ids[b]!] - COST[ids[a]!] || a - b);
  for (const i of order) {
    let t = 0;
    for (let u = 1; u < load.length; u++) if (load[u]! < load[t]!) t = u;
    owner[i] = t;
    load[t]! += COST[ids[i]!];
  }
  return owner;
}
