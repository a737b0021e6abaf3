// The replay: one pass over the trace; each event is fed, in trace order,
// to every selected strategy's own copy of the machine. Timers of a
// strategy fire before the first event whose ts is past them.
import type { IndexedEvent } from '../trace/events.js';
import type { StrategyCollector } from '../analysis/collector.js';
import { policyFor } from '../strategies/index.js';
import { LinkCache, StrategyReplay } from './state.js';
import type { FindingSink, StrategyId } from './types.js';

export interface ReplayOptions {
  pageSize: number;
  leaseBreakNs: number;
}

export class Replay {
  readonly states: StrategyReplay[];
  private readonly observers: (StrategyCollector[] | null)[];
  lastTs: number | null = null;

  /** `sinks[i]` receive strategy i's findings; collectors with observe() also see every event. */
  constructor(
    readonly strategies: StrategyId[],
    opts: ReplayOptions,
    sinks: FindingSink[][],
  ) {
    const links = new LinkCache();
    this.states = strategies.map((s, i) => new StrategyReplay(policyFor(s), opts, sinks[i] ?? [], links));
    this.observers = (sinks.length ? sinks : strategies.map(() => [])).map((list) => {
      const obs = (list as Partial<StrategyCollector>[]).filter((c) => typeof c.observe === 'function') as StrategyCollector[];
      return obs.length ? obs : null;
    });
  }

  feed(ev: IndexedEvent): void {
    const ts = ev.ts;
    const states = this.states;
    for (let i = 0; i < states.length; i++) {
      const st = states[i]!;
      if (st.timers.next < ts) st.fireBefore(ts);
      st.apply(ev);
      const obs = this.observers[i];
      if (obs) {
        const g = st.gauges();
        for (const o of obs) o.observe!(ev, g);
      }
    }
    this.lastTs = ts;
  }

  feedBatch(batch: IndexedEvent[]): void {
    for (let i = 0; i < batch.length; i++) this.feed(batch[i]!);
  }

  /** Fires the remaining timers and reports what is still pending; `lastTs` defaults to the last event fed. */
  finish(lastTs: number | null = this.lastTs): void {
    for (const st of this.states) st.finish(lastTs);
  }

  /** Every strategy's model invariants (for tests). */
  checkInvariants(): void {
    for (const st of this.states) st.checkInvariants();
  }
}
