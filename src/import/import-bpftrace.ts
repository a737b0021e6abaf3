// `pinscope import bpftrace`: a `bpftrace -f json` capture of
// scripts/record/pinscope.bt -> trace format v1 (JSON Lines).
//
// capture records -> printed lines (fragments joined) -> JSON events
// (shape checked) -> sort window (per-CPU buffers deliver slightly out of
// order) -> stateful validation (live pins, declared files) -> optional
// synthesized DMA -> output. Memory: the sort window's events, live pins.
//
// Strict (default): the first line that is not a valid event, or an event
// that fell outside the sort window, stops the import with one line that
// names the capture line and the output event index. --lenient: such
// events are skipped and counted by reason; the events that depended on
// them (an unpin of a dropped pin) are skipped too, as no_live_pin.
import { basename } from 'node:path';
import { openBytes, inputName } from '../trace/readers/bytes.js';
import { TraceInputError, type InputPosition } from '../trace/errors.js';
import { TraceValidator, checkMeta, shapeError } from '../trace/validate.js';
import { FORMAT_NAME, FORMAT_VERSION, DEFAULT_PAGE_SIZE, type TraceEvent } from '../trace/events.js';
import { printedLines, emptyCaptureStats, type CaptureStats } from './bpftrace-capture.js';
import { SortWindow, type SortWindowStats } from './sort-window.js';
import { DmaSynthesizer, type SynthOptions } from './synthesize-dma.js';
import { rmSync } from 'node:fs';
import { createTraceWriter, type TraceWriter } from '../trace/write.js';

export const DEFAULT_SORT_WINDOW_NS = 100_000_000;

export interface ImportOptions {
  sortWindowNs: number;
  synthesize?: SynthOptions;
  lenient: boolean;
}

export interface ImportReport {
  capture: string;
  output: string;
  capture_records: number;
  capture_records_by_type: Record<string, number>;
  printed_lines: number;
  /** Events written, meta excluded (synthesized DMA included). */
  events_written: number;
  /** Events that came from the capture (events_written - dma_synthesized). */
  events_recorded: number;
  dma_synthesized: number;
  events_skipped: number;
  skipped_by_reason: Record<string, number>;
  sort: SortWindowStats & { window_ns: number };
  /** Events the kernel dropped before bpftrace read them (perf buffer full): the trace has gaps. */
  lost_events: number;
  attached_probes: number | null;
  /** Maps the script printed at exit (its own counts of what it could not record). */
  maps: Record<string, unknown>;
  first_ts: number | null;
  last_ts: number | null;
  source: string;
}

interface Held {
  ts: number;
  ev: Record<string, unknown>;
  line: number;
  offset: number;
  /** Ordinal of the event among those the script printed (meta not counted): the "event N" of messages. */
  printed: number;
}

/** A `ts` of 16 digits or more, as the script prints it; rebased from 2^52 ns (52 days up) on. */
const BIG_TS = /"ts":(\d{16,})/;
const REBASE_FROM = 2n ** 52n;

export async function importBpftrace(capturePath: string, outPath: string, opts: ImportOptions): Promise<ImportReport> {
  const file = inputName(capturePath);
  const cap: CaptureStats = emptyCaptureStats();
  const skipped: Record<string, number> = {};
  const window = new SortWindow<Held>(opts.sortWindowNs);
  const validator = new TraceValidator(file);
  const synth = opts.synthesize ? new DmaSynthesizer(opts.synthesize) : null;
  // Opened with the header, once the header is known (the first event that passes, or the end).
  let out: TraceWriter | null = null;

  let meta: Record<string, unknown> | null = null;
  let metaWritten = false;
  let sawEvent = false;
  let index = 0; // output event index (meta not counted)
  let printed = 0; // events the script printed, in capture order
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  // nsecs is CLOCK_MONOTONIC: past 2^53 ns (up > 104 days) no double holds it exactly, and the format stops
  // at 2^53. Such a capture is rebased, exactly (digits, not doubles), so that its first event is near 0.
  let tsBase: bigint | null = null;

  const skip = (err: TraceInputError, reason: string = err.reason): void => {
    if (!opts.lenient) throw err;
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };

  const writeMeta = (): void => {
    if (metaWritten) return;
    metaWritten = true;
    const m: Record<string, unknown> = meta ?? {
      type: 'meta', format: FORMAT_NAME, version: FORMAT_VERSION, page_size: DEFAULT_PAGE_SIZE,
      source: `bpftrace capture ${basename(file)}`,
    };
    if (tsBase !== null) m.source = `${String(m.source ?? 'bpftrace capture')}; ts rebased: 0 is CLOCK_MONOTONIC ${tsBase} ns`;
    if (synth) {
      const o = synth.opts;
      m.source = `${String(m.source ?? 'bpftrace capture')}; DMA synthesized every ${o.periodNs} ns (${o.dir}) on live pins:`
        + ' findings say what WOULD happen under that access pattern';
    }
    out = createTraceWriter(outPath, { format: 'ndjson', gzip: outPath.endsWith('.gz'), meta: m });
  };

  const emit = async (ev: Record<string, unknown>, line: number, offset: number, printed: number): Promise<void> => {
    const pos: InputPosition = { file, line, offset, index: printed };
    // The validator normalizes addresses in place: check a copy, write the original (hex stays hex).
    let checked: TraceEvent;
    try {
      checked = validator.check({ ...ev }, pos);
    } catch (err) {
      if (err instanceof TraceInputError) return skip(err);
      throw err;
    }
    writeMeta();
    // The line as printed (hex stays hex, unknown fields stay), in the writer's compact form.
    const wait = out!.write(ev as { type: string });
    if (wait) await wait;
    index++;
    if (firstTs === null) firstTs = checked.ts;
    lastTs = checked.ts;
    synth?.apply(checked);
  };

  const release = async (items: Held[]): Promise<void> => {
    for (const h of items) {
      if (synth) for (const d of synth.due(h.ts)) await emit(d as unknown as Record<string, unknown>, h.line, h.offset, h.printed);
      await emit(h.ev, h.line, h.offset, h.printed);
    }
  };

  try {
    const bytes = await openBytes(capturePath);
    for await (const pl of printedLines(bytes.chunks, cap)) {
      const pos: InputPosition = { file, line: pl.line, offset: pl.offset, index: -1 };
      if (pl.notCapture !== undefined) {
        skip(new TraceInputError('container', pos, null, `${pl.notCapture}; expected the output of bpftrace -f json`), 'not_bpftrace_json');
        continue;
      }
      let value: unknown;
      let text = pl.text;
      const big = BIG_TS.exec(text);
      if (big) {
        const raw = BigInt(big[1]!);
        // The sort window below the first: an event printed late may be older than it, never below 0.
        if (tsBase === null && raw >= REBASE_FROM) tsBase = raw - BigInt(Math.min(opts.sortWindowNs, Number.MAX_SAFE_INTEGER));
        if (tsBase !== null && raw >= tsBase) text = text.slice(0, big.index) + `"ts":${raw - tsBase}` + text.slice(big.index + big[0].length);
      }
      try {
        value = JSON.parse(text);
      } catch (err) {
        pos.index = printed++;
        skip(new TraceInputError('malformed_json', pos, null,
          `the printed line is not one JSON event (${(err as Error).message}): ${shorten(pl.text)}`));
        continue;
      }
      const obj = value as Record<string, unknown>;
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && obj.type === 'meta') {
        if (sawEvent || meta !== null) {
          skip(new TraceInputError('meta_misplaced', pos, 'type', 'a meta line may only be the first line the script prints'));
          continue;
        }
        try {
          checkMeta(obj, pos);
        } catch (err) {
          if (err instanceof TraceInputError) { skip(err); continue; }
          throw err;
        }
        meta = obj;
        continue;
      }
      sawEvent = true;
      pos.index = printed++;
      // shapeError normalizes addresses in place: check a copy so hex addresses stay hex in the output.
      const shape = shapeError(typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...obj } : value);
      if (shape) {
        skip(new TraceInputError(shape.reason, pos, shape.field, shape.detail));
        continue;
      }
      const held: Held = { ts: obj.ts as number, ev: obj, line: pl.line, offset: pl.offset, printed: pos.index };
      const released = window.push(held);
      if (released === null) {
        skip(new TraceInputError('ts_backwards', pos, 'ts',
          `ts ${held.ts} is ${window.lateness(held.ts)} ns older than an event already written: it fell outside the`
          + ` ${opts.sortWindowNs} ns sort window (use a larger --sort-window, or --lenient to drop such events)`),
          'outside_sort_window');
        continue;
      }
      await release(released);
    }
    await release(window.drain());
    if (cap.printf_records === 0) {
      throw new TraceInputError('container', { file, line: 0, offset: 0, index: -1 }, null,
        'no printf records: expected the output of `bpftrace -f json scripts/record/pinscope.bt`');
    }
    writeMeta();
    await out!.close();
  } catch (err) {
    // No half trace is left behind.
    if (out !== null && outPath !== '-') {
      await (out as TraceWriter).close().catch(() => undefined);
      rmSync(outPath, { force: true });
    }
    throw err;
  }

  const events_skipped = Object.values(skipped).reduce((a, b) => a + b, 0);
  return {
    capture: file,
    output: outPath,
    capture_records: cap.records,
    capture_records_by_type: sortKeys(cap.records_by_type),
    printed_lines: cap.lines,
    events_written: index,
    events_recorded: index - (synth?.synthesized ?? 0),
    dma_synthesized: synth?.synthesized ?? 0,
    events_skipped,
    skipped_by_reason: sortKeys(skipped),
    sort: { window_ns: opts.sortWindowNs, ...window.stats },
    lost_events: cap.lost_events,
    attached_probes: cap.attached_probes,
    maps: cap.maps,
    first_ts: firstTs,
    last_ts: lastTs,
    source: String((meta as Record<string, unknown> | null)?.source ?? `bpftrace capture ${basename(file)}`),
  };
}

function shorten(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function sortKeys<V>(o: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The counts as a few lines for stderr. */
export function describeImport(r: ImportReport): string {
  const lines = [
    `imported ${r.capture} -> ${r.output}: ${r.events_written} events (${r.events_recorded} recorded, ${r.dma_synthesized} DMA synthesized) from ${r.printed_lines} printed lines`,
    `sort window ${r.sort.window_ns} ns: ${r.sort.moved} events moved (latest by ${r.sort.max_lateness_ns} ns), ${r.sort.outside} outside the window, at most ${r.sort.max_held} held`,
  ];
  if (r.events_skipped > 0) {
    lines.push(`skipped ${r.events_skipped}: ${Object.entries(r.skipped_by_reason).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  } else {
    lines.push('skipped 0');
  }
  if (r.lost_events > 0) lines.push(`warning: the kernel lost ${r.lost_events} events (bpftrace lost_events): the trace has gaps; record with a larger perf buffer (BPFTRACE_PERF_RB_PAGES)`);
  const mapText = Object.entries(r.maps).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  if (mapText) lines.push(`script counts: ${mapText}`);
  return lines.join('\n') + '\n';
}
