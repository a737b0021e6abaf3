// A collector receives one strategy's findings as the replay produces them
// and keeps an aggregate whose size does not grow with the number of events.
import type { FindingSink } from '../replay/types.js';

export interface StrategyCollector<R> extends FindingSink {
  /** Called once after the last finding; `lastTs` is the trace's last event time. */
  finish(lastTs: number | null): R;
}
