// One thread's share of a replay: some of the strategies, their summary
// builders and collectors, fed the trace's events in order. The thread that
// parses the trace runs one (possibly of no strategies); each worker thread
// runs another, fed the same events over the wire (src/trace/wire.ts).
import type { CollectorFactory, CollectorRef, StrategyCollector } from './collector.js';
import { SummaryBuilder } from './summary.js';
import type { IndexedEvent } from '../trace/events.js';
import type { TraceHeader } from '../trace/source.js';
import type { WireBatch, WireDecoder } from '../trace/wire.js';
import { Replay } from '../replay/engine.js';
import type { FindingSink, StrategyId, StrategySummary } from '../replay/types.js';

export interface PartOptions {
  leaseBreakNs: number;
  lenient: boolean;
  findings?: boolean;
  collectors?: CollectorRef[];
}

/** What one part produces (structured-cloneable). */
export interface PartOutput {
  strategies: Partial<Record<StrategyId, StrategySummary>>;
  extra: Partial<Record<StrategyId, Record<string, unknown>>>;
}

export class ReplayPart {
  private constructor(
    private readonly strategies: StrategyId[],
    private readonly opts: PartOptions,
    private readonly builders: SummaryBuilder[],
    private readonly collectors: StrategyCollector[][],
    private readonly replay: Replay,
  ) {}

  static async create(strategies: StrategyId[], opts: PartOptions, header: TraceHeader): Promise<ReplayPart> {
    const builders = strategies.map(() => new SummaryBuilder(opts.findings ?? false));
    const collectors: StrategyCollector[][] = strategies.map(() => []);
    for (const ref of opts.collectors ?? []) {
      const mod = (await import(ref.module)) as Record<string, unknown>;
      const factory = mod[ref.factory] as CollectorFactory | undefined;
      if (typeof factory !== 'function') throw new Error(`collector ${ref.name}: ${ref.module} exports no function ${ref.factory}`);
      strategies.forEach((s, i) => collectors[i]!.push(factory(s, ref.options, header)));
    }
    const sinks: FindingSink[][] = strategies.map((_, i) => [builders[i]!, ...collectors[i]!]);
    const replay = new Replay(strategies, { pageSize: header.page_size, leaseBreakNs: opts.leaseBreakNs }, sinks);
    return new ReplayPart(strategies, opts, builders, collectors, replay);
  }

  feedBatch(batch: IndexedEvent[]): void {
    this.replay.feedBatch(batch);
  }

  /** A batch from the wire, each event decoded into a reused object and replayed before the next. */
  feedWire(batch: WireBatch, decoder: WireDecoder): void {
    decoder.feed(batch, this.replay);
  }

  /** Fires what is due by the trace's last event and sums up each strategy. */
  finish(lastTs: number | null): PartOutput {
    this.replay.finish(lastTs);
    const out: PartOutput = { strategies: {}, extra: {} };
    this.strategies.forEach((s, i) => {
      out.strategies[s] = this.builders[i]!.finish(this.replay.states[i]!.dropped);
      if (this.collectors[i]!.length) {
        const ex: Record<string, unknown> = {};
        (this.opts.collectors ?? []).forEach((ref, k) => (ex[ref.name] = this.collectors[i]![k]!.finish(lastTs)));
        out.extra[s] = ex;
      }
    });
    return out;
  }
}
