// The framing of `bpftrace -f json`: one JSON record per line, e.g.
//   {"type": "attached_probes", "data": {"probes": 3}}
//   {"type": "printf", "data": "{\"type\":\"pin\",\"ts\":12"}
//   {"type": "printf", "data": ",\"pin\":1}\n"}
//   {"type": "lost_events", "data": {"events": 12}}
//   {"type": "map", "data": {"@unmatched_unpin": 3}}
// and blank lines. A printf call is one record; the recording script may
// build an event with several calls, so fragments are joined until a
// newline completes a line. bpftrace <= 0.20 sends printf through per-CPU
// perf buffers and drains one CPU's buffer at a time, and a probe's
// printfs run on one CPU without preemption, so fragments of one event
// are contiguous.
import { readJsonLines } from '../trace/readers/jsonl.js';

/** One complete printed line, with the capture line where it started. */
export interface PrintedLine {
  text: string;
  /** 1-based capture line of the first fragment. */
  line: number;
  /** Byte offset of that record in the (decompressed) capture. */
  offset: number;
  /** Set when the capture record itself was not bpftrace JSON: why (text is then the raw detail). */
  notCapture?: string;
}

/** What the capture held besides printed lines, by record type. */
export interface CaptureStats {
  records: number;
  printf_records: number;
  lines: number;
  /** Records by bpftrace type ("attached_probes", "map", "time", ...). */
  records_by_type: Record<string, number>;
  /** Sum of lost_events records: events the kernel dropped (perf buffer full). */
  lost_events: number;
  attached_probes: number | null;
  /** Maps printed at exit, as bpftrace gave them (the script counts what it could not record in maps). */
  maps: Record<string, unknown>;
  /** Capture records that were not bpftrace JSON (counted, skipped). */
  not_bpftrace_json: number;
  /** A printf fragment left without a newline at the end of the capture. */
  unterminated: boolean;
}

export function emptyCaptureStats(): CaptureStats {
  return {
    records: 0, printf_records: 0, lines: 0, records_by_type: {}, lost_events: 0, attached_probes: null, maps: {},
    not_bpftrace_json: 0, unterminated: false,
  };
}

/**
 * Joins printf fragments into complete lines. Non-printf records are
 * tallied in `stats`; a printf text that contains several newlines yields
 * several lines.
 */
export async function* printedLines(chunks: AsyncIterable<Buffer>, stats: CaptureStats): AsyncGenerator<PrintedLine> {
  let pending = '';
  let pendingLine = 0;
  let pendingOffset = 0;
  for await (const batch of readJsonLines(chunks)) {
    for (const rec of batch) {
      stats.records++;
      const v = rec.value as { type?: unknown; data?: unknown } | undefined;
      if (rec.bad !== undefined || typeof v !== 'object' || v === null || typeof v.type !== 'string') {
        stats.not_bpftrace_json++;
        yield {
          text: '', line: rec.line, offset: rec.offset,
          notCapture: rec.bad !== undefined ? `not JSON (${rec.bad})` : 'not a bpftrace -f json record (expected {"type": ..., "data": ...})',
        };
        continue;
      }
      stats.records_by_type[v.type] = (stats.records_by_type[v.type] ?? 0) + 1;
      if (v.type !== 'printf') {
        noteRecord(v.type, v.data, stats);
        continue;
      }
      stats.printf_records++;
      const data = typeof v.data === 'string' ? v.data : String(v.data);
      let from = 0;
      for (;;) {
        const nl = data.indexOf('\n', from);
        const piece = nl < 0 ? data.slice(from) : data.slice(from, nl);
        if (pending === '' && piece !== '') { pendingLine = rec.line; pendingOffset = rec.offset; }
        pending += piece;
        if (nl < 0) break;
        from = nl + 1;
        const text = pending;
        pending = '';
        if (text.trim() !== '') {
          stats.lines++;
          yield { text, line: pendingLine, offset: pendingOffset };
        }
      }
    }
  }
  if (pending.trim() !== '') {
    stats.unterminated = true;
    stats.lines++;
    yield { text: pending, line: pendingLine, offset: pendingOffset };
  }
}

function noteRecord(type: string, data: unknown, stats: CaptureStats): void {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (type === 'lost_events' && typeof d.events === 'number') stats.lost_events += d.events;
  else if (type === 'attached_probes' && typeof d.probes === 'number') stats.attached_probes = d.probes;
  else if (type === 'map' || type === 'hist' || type === 'stats') {
    for (const [k, val] of Object.entries(d)) stats.maps[k] = val;
  }
}
