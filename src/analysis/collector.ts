// A collector receives one strategy's findings (and, if it asks, its
// events) as the replay produces them, and keeps an aggregate whose size
// does not grow with the number of events. Collectors run inside whichever
// worker thread replays their strategy, so they are named by module URL
// and export name, and their results must be structured-cloneable.
import type { IndexedEvent } from '../trace/events.js';
import type { TraceHeader } from '../trace/source.js';
import type { FindingSink, StrategyId } from '../replay/types.js';

/** What the engine knows about one strategy's state, after an event. */
export interface StrategyGauges {
  /** Bytes currently pinned (long- and short-term) by live pins under this strategy. */
  pinned_bytes: number;
  /** Bytes of storage that files gave up but pins still hold (DAX blocks leaked). */
  leaked_bytes: number;
  /** Events this strategy dropped so far (its own earlier choice made them moot): one more than before means this one. */
  dropped_events: number;
}

export interface StrategyCollector<R = unknown> extends FindingSink {
  /** Optional: every event, after the strategy applied it (not called for events dropped by the strategy? it is: all events). */
  observe?(ev: IndexedEvent, gauges: StrategyGauges): void;
  /** Called once after the last finding; `lastTs` is the trace's last event time. */
  finish(lastTs: number | null): R;
}

/** How a collector is named so a worker thread can build it. */
export interface CollectorRef {
  /** Key of its result in AnalyzeResult.extra[strategy]. */
  name: string;
  /** Module URL (e.g. new URL('./report-data.js', import.meta.url).href). */
  module: string;
  /** Exported factory: (strategy, options, header) => StrategyCollector. */
  factory: string;
  /** Structured-cloneable options passed to the factory. */
  options?: unknown;
}

export type CollectorFactory<R = unknown> = (
  strategy: StrategyId,
  options: unknown,
  header: TraceHeader,
) => StrategyCollector<R>;
