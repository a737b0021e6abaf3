// JSON Lines framing. Each chunk's complete lines are decoded as ONE
// string (a '\n' byte never sits inside a multi-byte UTF-8 sequence, so a
// cut there is always safe), then split and JSON.parse'd per line. An
// unfinished last line is kept as bytes and joined with the next chunk.
// The hot path keeps no per-record position: a batch is the parsed values,
// and line and byte offset are recomputed by rescanning the chunk only for
// a record someone asks about (an error, a skipped event). Byte offsets
// come free when the text is ASCII (chars = bytes); otherwise each line's
// byte length is counted.
import type { RawRecord, RecordBatch } from './record.js';

const NL = 0x0a;
const LBRACE = 0x7b;

/** Calls `each(start, end, line, offset)` for every non-blank line of `text` (a trailing '\r' cut off). */
function eachLine(
  text: string, asciiOnly: boolean, baseOffset: number, firstLine: number,
  each: (start: number, end: number, line: number, offset: number) => void,
): void {
  let line = firstLine;
  let start = 0;
  let offset = baseOffset;
  const n = text.length;
  for (;;) {
    let nl = text.indexOf('\n', start);
    const last = nl < 0;
    if (last) nl = n;
    let end = nl;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    // Events are objects: the common case skips the blank check.
    if (end > start && (text.charCodeAt(start) === LBRACE || text.slice(start, end).trim() !== '')) each(start, end, line, offset);
    if (last) return;
    line++;
    offset += asciiOnly ? nl + 1 - start : Buffer.byteLength(text.slice(start, nl)) + 1;
    start = nl + 1;
  }
}

/** One chunk's records; positions are rescanned on demand. */
export class LineBatch implements RecordBatch {
  readonly values: unknown[] = [];
  /** The line after this chunk's last line. */
  readonly nextLine: number;
  private errors: Map<number, string> | null = null;
  private lines: number[] | null = null;
  private offsets: number[] | null = null;

  /**
   * `lead` is the line the previous chunk left unfinished, completed by this
   * chunk's first bytes (`leadBytes` long): kept apart so the chunk's bulk
   * is decoded straight from the read buffer, never copied to join it.
   */
  constructor(
    private readonly lead: string | null, private readonly leadBytes: number,
    private readonly text: string, private readonly asciiOnly: boolean,
    private readonly baseOffset: number, private readonly firstLine: number,
  ) {
    const leadLines = lead === null ? 0 : this.parse(lead);
    this.nextLine = firstLine + leadLines + this.parse(text);
  }

  /** One JSON.parse per line and nothing else (no position is kept: see positions()); returns the number of lines. */
  private parse(text: string): number {
    const values = this.values;
    let lines = 1;
    let start = 0;
    const n = text.length;
    for (;;) {
      let nl = text.indexOf('\n', start);
      const last = nl < 0;
      if (last) nl = n;
      let end = nl;
      if (end > start && text.charCodeAt(end - 1) === 13) end--;
      // Events are objects: the common case skips the blank check.
      if (end > start && (text.charCodeAt(start) === LBRACE || text.slice(start, end).trim() !== '')) {
        try {
          values.push(JSON.parse(text.slice(start, end)));
        } catch (err) {
          (this.errors ??= new Map()).set(values.length, (err as Error).message);
          values.push(undefined);
        }
      }
      if (last) return lines;
      lines++;
      start = nl + 1;
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
      const add = (_s: number, _e: number, line: number, offset: number) => { lines.push(line); offsets.push(offset); };
      if (this.lead === null) eachLine(this.text, this.asciiOnly, this.baseOffset, this.firstLine, add);
      else {
        eachLine(this.lead, this.lead.length === this.leadBytes, this.baseOffset, this.firstLine, add);
        eachLine(this.text, this.asciiOnly, this.baseOffset + this.leadBytes + 1, this.firstLine + 1, add);
      }
      this.lines = lines;
      this.offsets = offsets;
    }
    return { lines: this.lines, offsets: this.offsets };
  }
}

/** JSON Lines as batches of parsed values, one batch per chunk that completes a line. */
export async function* readLineBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<LineBatch, void, undefined> {
  let tail: Buffer[] = []; // bytes of an unfinished line (a long line may span many chunks: joined once)
  let offset = 0; // stream offset of the next line's first byte
  let line = 1;
  for await (const chunk of chunks) {
    const lastNl = chunk.lastIndexOf(NL);
    if (lastNl < 0) {
      tail.push(chunk);
      continue;
    }
    let lead: string | null = null;
    let leadBytes = 0;
    let from = 0;
    if (tail.length > 0) {
      // Only the unfinished line is joined (a few bytes), not the whole chunk.
      const firstNl = chunk.indexOf(NL);
      tail.push(chunk.subarray(0, firstNl));
      const bytes = Buffer.concat(tail);
      tail = [];
      lead = bytes.toString('utf8');
      leadBytes = bytes.length;
      from = firstNl + 1;
    }
    const body = chunk.toString('utf8', from, Math.max(from, lastNl));
    const bodyBytes = lastNl - from;
    let batch: LineBatch;
    if (lead === null) batch = new LineBatch(null, 0, body, body.length === bodyBytes, offset, line);
    else if (bodyBytes < 0) batch = new LineBatch(null, 0, lead, lead.length === leadBytes, offset, line); // the lead was the only line
    else batch = new LineBatch(lead, leadBytes, body, body.length === bodyBytes, offset, line);
    line = batch.nextLine;
    offset += (lead === null ? 0 : leadBytes + 1) + Math.max(0, bodyBytes) + (bodyBytes < 0 ? 0 : 1);
    if (lastNl + 1 < chunk.length) tail.push(chunk.subarray(lastNl + 1));
    if (batch.values.length > 0) yield batch;
  }
  if (tail.length > 0) {
    const bytes = Buffer.concat(tail);
    const text = bytes.toString('utf8');
    const batch = new LineBatch(null, 0, text, text.length === bytes.length, offset, line);
    if (batch.values.length > 0) yield batch;
  }
}

/** The same records with their positions, one object each (for callers that want them all: tests, bpftrace capture). */
export async function* readJsonLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<RawRecord[], void, undefined> {
  for await (const b of readLineBatches(chunks)) {
    const out: RawRecord[] = [];
    for (let k = 0; k < b.values.length; k++) {
      const bad = b.bad(k);
      out.push(bad === undefined ? { value: b.values[k], line: b.line(k), offset: b.offset(k) } : { value: undefined, line: b.line(k), offset: b.offset(k), bad });
    }
    yield out;
  }
}
