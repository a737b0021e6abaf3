// `pinscope export <trace> --format perfetto`: the replay's timeline as
// Chrome trace-event JSON ({"traceEvents": [...], "displayTimeUnit": "ns"})
// that ui.perfetto.dev and chrome://tracing open. Each strategy's
// collector (perfetto-collector.ts) streams its events to a part file in
// a temporary folder next to the output; this joins the parts, in
// strategy order, into the output by streaming copies. Memory stays
// bounded; disk holds the output about twice until the parts are removed.
import { mkdtempSync, rmSync, createReadStream, createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { CollectorRef } from '../analysis/collector.js';
import { analyzeTrace } from '../analysis/analyze.js';
import { STRATEGY_IDS, type ReplaySummary, type StrategyId } from '../replay/types.js';
import { TOOL_VERSION } from '../version.js';
import { strategyPid, type PerfettoPart, type PerfettoCollectorOptions } from './perfetto-collector.js';

export interface ExportOptions {
  strategies: StrategyId[];
  leaseBreakNs: number;
  lenient: boolean;
}

export interface ExportResult {
  output: string;
  events: number;
  parts: PerfettoPart[];
  summary: ReplaySummary;
}

export async function exportPerfetto(tracePath: string, outPath: string, opts: ExportOptions): Promise<ExportResult> {
  // Beside the output (one rename away), or for standard output in the system's temporary folder: '.' may not be writable.
  const dir = mkdtempSync(join(outPath === '-' ? tmpdir() : dirname(resolve(outPath)), '.pinscope-perfetto-'));
  try {
    const options: PerfettoCollectorOptions = { dir };
    const collectors: CollectorRef[] = [{
      name: 'perfetto',
      module: new URL('./perfetto-collector.js', import.meta.url).href,
      factory: 'createPerfettoCollector',
      options,
    }];
    const { summary, extra } = await analyzeTrace(tracePath, { ...opts, collectors });
    const parts = STRATEGY_IDS.filter((s) => opts.strategies.includes(s)).map((s) => {
      const p = extra[s]?.perfetto as PerfettoPart | undefined;
      if (!p) throw new Error(`the engine returned no perfetto part for strategy ${s}`);
      return p;
    });
    const events = await assemble(outPath, parts, summary, tracePath, opts);
    return { output: outPath, events, parts, summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the document: header, process metadata, every part in strategy order, footer. */
export async function assemble(outPath: string, parts: PerfettoPart[], summary: ReplaySummary | null, tracePath: string, opts: ExportOptions): Promise<number> {
  const meta: string[] = [];
  for (const p of parts) {
    meta.push(JSON.stringify({ name: 'process_name', ph: 'M', pid: p.pid, args: { name: `strategy ${p.strategy}` } }));
    meta.push(JSON.stringify({ name: 'process_sort_index', ph: 'M', pid: p.pid, args: { sort_index: strategyPid(p.strategy) } }));
  }
  const otherData = {
    tool: 'pinscope', version: TOOL_VERSION, trace: tracePath,
    strategies: parts.map((p) => p.strategy).join(','), lease_break_ns: opts.leaseBreakNs, lenient: opts.lenient,
    page_size: summary?.params.page_size ?? null, events_replayed: summary?.trace.events_replayed ?? null,
  };
  async function* document(): AsyncGenerator<string | Buffer> {
    yield `{"traceEvents":[\n${meta.join(',\n')}`;
    for (const p of parts) yield* createReadStream(p.part) as AsyncIterable<Buffer>;
    yield `\n],\n"displayTimeUnit":"ns",\n"otherData":${JSON.stringify(otherData)}}\n`;
  }
  // pipeline: backpressure, and a write error (no such folder) rejects instead of crashing
  if (outPath === '-') {
    // a reader that stops early (| head) is not an error
    await pipeline(document, process.stdout, { end: false }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  } else await pipeline(document, createWriteStream(outPath));
  return meta.length + parts.reduce((n, p) => n + p.events, 0);
}
