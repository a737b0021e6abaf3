// JSON Lines framing, on bytes. A line that is one flat event object (nearly
// every line) is decoded straight from the read buffer (flat-event.ts); any
// other line is decoded to a string and JSON.parse'd, so every odd input
// means exactly what one JSON.parse per line makes of it. A '\n' byte never
// sits inside a multi-byte UTF-8 sequence, so lines are cut on bytes; an
// unfinished last line is kept as bytes and joined with the next chunk.
// The hot path keeps no per-record position: a batch is the parsed values,
// and line and byte offset are recomputed by rescanning the bytes only for
// a record someone asks about (an error, a skipped event).
import { FlatEventDecoder } from './flat-event.js';
import type { RawRecord, RecordBatch } from './record.js';

const NL = 0x0a;
const CR = 0x0d;
const LBRACE = 0x7b;

/** Complete lines in `buf[from, to)`: `to` is the last line's '\n' (or the end of the input); the first byte is at stream `offset`, on line `line`. */
interface LineSpan {
  buf: Buffer;
  from: number;
  to: number;
  offset: number;
  line: number;
}

/** The end of the line's content: a trailing '\r' is not part of it. */
function contentEnd(b: Buffer, s: number, nl: number): number {
  return nl > s && b[nl - 1] === CR ? nl - 1 : nl;
}

/** A line holds a record unless it is blank (as String.prototype.trim sees it). Events are objects: '{' answers at once. */
function holdsRecord(b: Buffer, s: number, e: number): boolean {
  return e > s && (b[s] === LBRACE || b.toString('utf8', s, e).trim() !== '');
}

/** The line break ending the line that starts at `s`, or `to`. */
function lineBreak(b: Buffer, s: number, to: number): number {
  const nl = b.indexOf(NL, s);
  return nl < 0 || nl > to ? to : nl;
}

/** One chunk's records; positions are rescanned on demand. */
export class LineBatch implements RecordBatch {
  readonly values: unknown[] = [];
  /** The line after this batch's last line. */
  readonly nextLine: number;
  private errors: Map<number, string> | null = null;
  private lines: number[] | null = null;
  private offsets: number[] | null = null;

  /** `spans`: the line the previous chunk left unfinished (joined: a few bytes), then the chunk's own lines. */
  constructor(private readonly spans: LineSpan[], decoder: FlatEventDecoder) {
    let next = spans[0]!.line;
    for (const span of spans) next = this.parse(span, decoder);
    this.nextLine = next;
  }

  /** Decodes every line of the span; returns the line after its last. */
  private parse(span: LineSpan, decoder: FlatEventDecoder): number {
    const values = this.values;
    const { buf, to } = span;
    let line = span.line;
    let s = span.from;
    for (;;) {
      const ev = decoder.decode(buf, s, to);
      let nl: number;
      if (ev !== undefined) {
        values.push(ev);
        nl = decoder.end;
      } else {
        nl = lineBreak(buf, s, to);
        const e = contentEnd(buf, s, nl);
        if (holdsRecord(buf, s, e)) {
          try {
            values.push(JSON.parse(buf.toString('utf8', s, e)));
          } catch (err) {
            (this.errors ??= new Map()).set(values.length, (err as Error).message);
            values.push(undefined);
          }
        }
      }
      line++;
      if (nl >= to) return line;
      s = nl + 1;
    }
  }

  bad(k: number): string | undefined { return this.errors?.get(k); }
  header(): boolean { return false; }
  line(k: number): number { return this.positions().lines[k]!; }
  offset(k: number): number { return this.positions().offsets[k]!; }

  private positions(): { lines: number[]; offsets: number[] } {
    if (!this.lines || !this.offsets) {
      const lines: number[] = [];
      const offsets: number[] = [];
      for (const { buf, from, to, offset, line: first } of this.spans) {
        for (let s = from, line = first; ; line++) {
          const nl = lineBreak(buf, s, to);
          if (holdsRecord(buf, s, contentEnd(buf, s, nl))) {
            lines.push(line);
            offsets.push(offset + (s - from));
          }
          if (nl >= to) break;
          s = nl + 1;
        }
      }
      this.lines = lines;
      this.offsets = offsets;
    }
    return { lines: this.lines, offsets: this.offsets };
  }
}

/** JSON Lines as batches of parsed values, one batch per chunk that completes a line; flat events carry the validator's index slot unless `indexSlot` is false. */
export async function* readLineBatches(chunks: AsyncIterable<Buffer>, indexSlot = true): AsyncGenerator<LineBatch, void, undefined> {
  const decoder = new FlatEventDecoder(indexSlot);
  let tail: Buffer[] = []; // bytes of an unfinished line (a long line may span many chunks: joined once)
  let offset = 0; // stream offset of the next line's first byte
  let line = 1;
  for await (const chunk of chunks) {
    const lastNl = chunk.lastIndexOf(NL);
    if (lastNl < 0) {
      tail.push(chunk);
      continue;
    }
    const spans: LineSpan[] = [];
    let from = 0;
    if (tail.length > 0) {
      // Only the unfinished line is joined (a few bytes), not the whole chunk.
      const firstNl = chunk.indexOf(NL);
      tail.push(chunk.subarray(0, firstNl));
      const lead = Buffer.concat(tail);
      tail = [];
      spans.push({ buf: lead, from: 0, to: lead.length, offset, line });
      offset += lead.length + 1;
      line++;
      from = firstNl + 1;
    }
    if (from <= lastNl) {
      spans.push({ buf: chunk, from, to: lastNl, offset, line });
      offset += lastNl + 1 - from;
    }
    const batch = new LineBatch(spans, decoder);
    line = batch.nextLine;
    if (lastNl + 1 < chunk.length) tail.push(chunk.subarray(lastNl + 1));
    if (batch.values.length > 0) yield batch;
  }
  if (tail.length > 0) {
    const bytes = Buffer.concat(tail);
    const batch = new LineBatch([{ buf: bytes, from: 0, to: bytes.length, offset, line }], decoder);
    if (batch.values.length > 0) yield batch;
  }
}

/** The same records with their positions, one object each, each value exactly JSON.parse's (for callers that want them all: tests, bpftrace capture). */
export async function* readJsonLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<RawRecord[], void, undefined> {
  for await (const b of readLineBatches(chunks, false)) {
    const out: RawRecord[] = [];
    for (let k = 0; k < b.values.length; k++) {
      const bad = b.bad(k);
      out.push(bad === undefined ? { value: b.values[k], line: b.line(k), offset: b.offset(k) } : { value: undefined, line: b.line(k), offset: b.offset(k), bad });
    }
    yield out;
  }
}
