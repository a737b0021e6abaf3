// The fast framing scanner for the JSON containers, after Perfetto's
// json_trace_tokenizer: track nesting depth and string/escape state, slice
// one complete element at a time and hand only that slice to JSON.parse.
//
// Two speed-ups over a plain character loop: bytes are decoded a piece at
// a time, cut just after the last ASCII byte of each chunk (so a UTF-8
// sequence is never split, and ASCII text makes char index = byte offset);
// and an event object (flat: every field is a scalar) is framed
// optimistically, by trying JSON.parse on the text up to the next '}'.
// JSON objects are prefix-free, so if that parses it IS the element; if
// not ('}' inside a string, nesting, bad JSON) the character loop frames
// it. Lines are counted lazily with a cached next-newline position.
import { TraceInputError } from '../errors.js';
import { parseRecord, type RawRecord } from './record.js';

const enum P {
  Start, ElemOrClose, Elem, InElem, AfterElem, KeyOrClose, Key, InKey, Colon, Value, AfterValue, Done, Failed,
}
const enum Use { Event, Meta, Skip }

const QUOTE = 0x22, BSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACK = 0x5b, RBRACK = 0x5d;
const COMMA = 0x2c, COLON = 0x3a, NL = 0x0a;
const ASCII_ONLY = /^[\x00-\x7f]*$/;

function isWs(c: number): boolean {
  return c === 0x20 || c === NL || c === 0x0d || c === 0x09;
}
function show(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `character U+${c.toString(16).padStart(4, '0')}`;
}

export type JsonContainer = 'array' | 'object';

export class FrameScanner {
  private phase = P.Start;
  private depth = 0;
  private inStr = false;
  private esc = false;
  // The text being scanned: what is kept of the previous pieces plus the new piece.
  private text = '';
  private pos = 0;
  private ascii = true;
  private textBase = 0; // stream byte offset of text[0]
  private pendingBytes: Buffer | null = null; // trailing non-ASCII bytes not decoded yet
  private byteCursor = 0; // (non-ASCII text) char index whose byte offset is byteAtCursor
  private byteAtCursor = 0;
  private lineCursor = 0; // char index whose line is lineAtCursor
  private lineAtCursor = 1;
  private nextNl = -2; // next '\n' at or after lineCursor; -1 none in text; -2 unknown
  private elemStart = -1; // kept element (event, meta, key); -1 none
  private elemBase = 0; // depth the element closes back to
  private elemUse = Use.Skip;
  private elemInArray = false;
  private bare = false; // the element is a bare scalar (number, true, ...)
  private key = '';
  private eventsSeen = false;
  /** Set when framing failed; everything framed before it was emitted. */
  error: TraceInputError | null = null;
  metaFound = false;

  /** `metaOnly`: skip events at scanner speed, emit only the object's meta (the pre-scan). */
  constructor(private readonly container: JsonContainer, private readonly file: string, private readonly metaOnly = false) {}

  private byteAt(i: number): number {
    if (this.ascii) return this.textBase + i;
    if (i < this.byteCursor) { this.byteCursor = 0; this.byteAtCursor = 0; }
    this.byteAtCursor += Buffer.byteLength(this.text.slice(this.byteCursor, i));
    this.byteCursor = i;
    return this.textBase + this.byteAtCursor;
  }

  private lineAt(i: number): number {
    let nl = this.nextNl;
    if (nl === -2) nl = this.text.indexOf('\n', this.lineCursor);
    let line = this.lineAtCursor;
    while (nl >= 0 && nl < i) {
      line++;
      nl = this.text.indexOf('\n', nl + 1);
    }
    this.nextNl = nl;
    this.lineCursor = i;
    this.lineAtCursor = line;
    return line;
  }

  private fail(i: number, detail: string): void {
    this.error = new TraceInputError('container', { file: this.file, line: this.lineAt(i), offset: this.byteAt(i), index: -1, json: true }, null, detail);
    this.phase = P.Failed;
  }

  private emit(value: unknown, bad: string | undefined, start: number, use: Use, out: RawRecord[]): void {
    const rec: RawRecord = { value, line: this.lineAt(start), offset: this.byteAt(start) };
    if (bad !== undefined) rec.bad = bad;
    if (use === Use.Meta) {
      rec.header = true;
      this.metaFound = true;
    }
    out.push(rec);
  }

  private startElem(c: number, i: number, use: Use, inArray: boolean): void {
    this.elemStart = use === Use.Skip ? -1 : i;
    this.elemBase = this.depth;
    this.elemUse = use;
    this.elemInArray = inArray;
    this.bare = false;
    if (c === LBRACE || c === LBRACK) this.depth++;
    else if (c === QUOTE) this.inStr = true;
    else this.bare = true;
    this.phase = P.InElem;
  }

  private finishElem(end: number, out: RawRecord[]): void {
    if (this.elemUse !== Use.Skip) {
      const r = parseRecord(this.text.slice(this.elemStart, end), 0, 0);
      this.emit(r.value, r.bad, this.elemStart, this.elemUse, out);
    }
    this.elemStart = -1;
    this.phase = this.elemInArray ? P.AfterElem : P.AfterValue;
  }

  /** Tries to frame an object element at `i` in one go; returns the index after it, or -1. */
  private fastObject(i: number, use: Use, inArray: boolean, out: RawRecord[]): number {
    const close = this.text.indexOf('}', i + 1);
    if (close < 0) return -1;
    let value: unknown;
    try {
      value = JSON.parse(this.text.slice(i, close + 1));
    } catch {
      return -1;
    }
    this.emit(value, undefined, i, use, out);
    this.phase = inArray ? P.AfterElem : P.AfterValue;
    return close + 1;
  }

  /**
   * From a ',' after an element: frames `, {event}` pairs while they parse
   * in one go. Returns where it stopped (at a ',' still to be handled, or
   * just after the last framed element, phase AfterElem either way).
   */
  private fastRun(text: string, i: number, out: RawRecord[]): number {
    const n = text.length;
    for (;;) {
      let j = i + 1;
      let c = text.charCodeAt(j);
      while (c === 0x20 || c === NL || c === 0x0d || c === 0x09) c = text.charCodeAt(++j);
      if (c !== LBRACE) return i;
      const next = this.fastObject(j, Use.Event, true, out);
      if (next < 0) return i;
      i = next;
      c = text.charCodeAt(i);
      while (c === 0x20 || c === NL || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
      if (c !== COMMA || i >= n) return i;
    }
  }

  private closeArray(): void {
    this.depth--;
    if (this.container === 'array') this.phase = P.Done;
    else {
      this.eventsSeen = true;
      this.phase = P.AfterValue;
    }
  }

  /** Frames what `chunk` completes; records go to `out`. */
  push(chunk: Buffer, out: RawRecord[]): void {
    if (this.phase === P.Failed) return;
    const bytes = this.pendingBytes ? Buffer.concat([this.pendingBytes, chunk]) : chunk;
    let cut = bytes.length;
    while (cut > 0 && bytes[cut - 1]! >= 0x80) cut--;
    this.pendingBytes = cut < bytes.length ? bytes.subarray(cut) : null;
    if (cut === 0) return;
    this.append(bytes.toString('utf8', 0, cut), out, cut);
  }

  private append(piece: string, out: RawRecord[], bytes = -1): void {
    // As many chars as bytes means one char per byte: char index = byte offset.
    const pieceAscii = bytes >= 0 ? piece.length === bytes : ASCII_ONLY.test(piece);
    if (this.text.length === 0) {
      this.text = piece;
      this.ascii = pieceAscii;
    } else {
      this.text += piece;
      this.ascii = this.ascii && pieceAscii;
    }
    if (this.nextNl === -1) this.nextNl = -2; // new text may hold the next newline
    this.scan(out);
    if (this.phase === P.Failed) return;
    // Drop what is done; keep an unfinished element's (or key's) text.
    const keep = this.elemStart >= 0 ? this.elemStart : this.text.length;
    const line = this.lineAt(keep);
    const base = this.byteAt(keep);
    this.text = this.text.slice(keep);
    this.pos -= keep;
    if (this.elemStart >= 0) this.elemStart = 0;
    this.textBase = base;
    this.lineCursor = 0;
    this.lineAtCursor = line;
    this.nextNl = -2;
    this.byteCursor = 0;
    this.byteAtCursor = 0;
    if (!this.ascii) this.ascii = ASCII_ONLY.test(this.text);
  }

  private scan(out: RawRecord[]): void {
    const text = this.text;
    const n = text.length;
    let i = this.pos;
    while (i < n) {
      if (this.phase === P.InElem) {
        // The slow path: a character loop until the element closes or the text ends.
        if (this.bare) {
          for (; i < n; i++) {
            const b = text.charCodeAt(i);
            if (b === COMMA || b === RBRACK || b === RBRACE || isWs(b)) break;
          }
          if (i < n) this.finishElem(i, out);
          continue;
        }
        let depth = this.depth;
        let inStr = this.inStr;
        let esc = this.esc;
        const elemBase = this.elemBase;
        let done = -1;
        for (; i < n; i++) {
          const b = text.charCodeAt(i);
          if (inStr) {
            if (esc) esc = false;
            else if (b === BSLASH) esc = true;
            else if (b === QUOTE) {
              inStr = false;
              if (depth === elemBase) { done = i + 1; break; }
            }
          } else if (b === QUOTE) inStr = true;
          else if (b === LBRACE || b === LBRACK) depth++;
          else if (b === RBRACE || b === RBRACK) {
            if (--depth === elemBase) { done = i + 1; break; }
          }
        }
        this.depth = depth;
        this.inStr = inStr;
        this.esc = esc;
        if (done >= 0) {
          this.finishElem(done, out);
          i = done;
        }
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.phase === P.InKey) {
        if (this.esc) this.esc = false;
        else if (c === BSLASH) this.esc = true;
        else if (c === QUOTE) {
          try {
            this.key = JSON.parse(text.slice(this.elemStart, i + 1)) as string;
          } catch {
            return this.fail(this.elemStart, 'malformed key in the top-level object');
          }
          this.inStr = false;
          this.elemStart = -1;
          this.phase = P.Colon;
        }
        i++;
        continue;
      }
      if (isWs(c)) { i++; continue; }
      switch (this.phase) {
        case P.Start:
          if (this.container === 'array' && c === LBRACK) { this.depth = 1; this.phase = P.ElemOrClose; }
          else if (this.container === 'object' && c === LBRACE) { this.depth = 1; this.phase = P.KeyOrClose; }
          else return this.fail(i, `expected ${this.container === 'array' ? "'['" : "'{'"} to open the trace, got ${show(c)}`);
          break;
        case P.ElemOrClose:
        case P.Elem: {
          if (c === RBRACK && this.phase === P.ElemOrClose) { this.closeArray(); break; }
          if (c === RBRACK || c === COMMA) return this.fail(i, `expected an event after ',', got ${show(c)}`);
          if (c === LBRACE && !this.metaOnly) {
            const next = this.fastObject(i, Use.Event, true, out);
            if (next >= 0) { i = next; continue; }
          }
          this.startElem(c, i, this.metaOnly ? Use.Skip : Use.Event, true);
          break;
        }
        case P.AfterElem:
          if (c === COMMA) {
            // The steady state: ',' whitespace '{'...'}' over and over, framed in this tight loop.
            if (!this.metaOnly) i = this.fastRun(text, i, out);
            if (this.phase === P.AfterElem && text.charCodeAt(i) === COMMA) this.phase = P.Elem;
            else continue;
          }
          else if (c === RBRACK) this.closeArray();
          else return this.fail(i, `expected ',' or ']' after an event, got ${show(c)}`);
          break;
        case P.KeyOrClose:
        case P.Key:
          if (c === QUOTE) { this.elemStart = i; this.inStr = true; this.esc = false; this.phase = P.InKey; }
          else if (c === RBRACE && this.phase === P.KeyOrClose) { this.depth = 0; this.phase = P.Done; }
          else return this.fail(i, `expected a key ("meta" or "events") in the top-level object, got ${show(c)}`);
          break;
        case P.Colon:
          if (c === COLON) this.phase = P.Value;
          else return this.fail(i, `expected ':' after key "${this.key}", got ${show(c)}`);
          break;
        case P.Value:
          if (this.key === 'events') {
            if (c !== LBRACK) return this.fail(i, `expected '[' to open the "events" array, got ${show(c)}`);
            if (this.eventsSeen) return this.fail(i, 'the top-level object has two "events" keys');
            this.depth = 2;
            this.phase = P.ElemOrClose;
            break;
          }
          this.startElem(c, i, this.key === 'meta' ? Use.Meta : Use.Skip, false);
          break;
        case P.AfterValue:
          if (c === COMMA) this.phase = P.Key;
          else if (c === RBRACE) { this.depth = 0; this.phase = P.Done; }
          else return this.fail(i, `expected ',' or '}' in the top-level object, got ${show(c)}`);
          break;
        case P.Done:
          return this.fail(i, `unexpected data after the end of the trace: ${show(c)}`);
        default:
          return;
      }
      i++;
    }
    this.pos = i;
  }

  /** The input ended: decode what is left, complete a trailing bare value, or report what is unfinished. */
  end(out: RawRecord[]): void {
    if (this.phase === P.Failed) return;
    if (this.pendingBytes) {
      const rest = this.pendingBytes.toString('utf8');
      this.pendingBytes = null;
      this.append(rest, out);
      if ((this.phase as P) === P.Failed) return;
    }
    const at = this.text.length;
    if (this.phase === P.InElem && this.bare) this.finishElem(at, out);
    const where = { file: this.file, line: this.lineAt(at), offset: this.byteAt(at), index: -1, json: true };
    if (this.phase !== P.Done) {
      const what = this.depth >= 2 || this.phase === P.Elem || this.phase === P.ElemOrClose || this.phase === P.AfterElem
        ? (this.container === 'array' ? "inside the array: expected ']'" : 'inside the "events" array')
        : this.phase === P.Start ? 'before the trace began' : "inside the top-level object: expected '}'";
      this.error = new TraceInputError('container', where, null, `unexpected end of input ${what}`);
      this.phase = P.Failed;
      return;
    }
    if (this.container === 'object' && !this.eventsSeen && !this.metaOnly) {
      this.error = new TraceInputError('container', where, 'events', 'the top-level object has no "events" array');
      this.phase = P.Failed;
    }
  }
}

/** The scanner as a reader: one batch per input chunk; a framing error is thrown after the records before it. */
export function scannerReader(container: JsonContainer, file: string) {
  return async function* readFramed(chunks: AsyncIterable<Buffer>): AsyncGenerator<RawRecord[], void, undefined> {
    const sc = new FrameScanner(container, file);
    for await (const chunk of chunks) {
      const out: RawRecord[] = [];
      sc.push(chunk, out);
      if (out.length > 0) yield out;
      if (sc.error) throw sc.error;
    }
    const out: RawRecord[] = [];
    sc.end(out);
    if (out.length > 0) yield out;
    if (sc.error) throw sc.error;
  };
}

/** The pre-scan: the object container's meta value, or null; stops reading once found. */
export async function scanForMeta(chunks: AsyncIterable<Buffer>, file: string): Promise<RawRecord | null> {
  const sc = new FrameScanner('object', file, true);
  for await (const chunk of chunks) {
    const out: RawRecord[] = [];
    sc.push(chunk, out);
    if (out.length > 0) return out[0]!;
    if (sc.error) throw sc.error;
  }
  const out: RawRecord[] = [];
  sc.end(out);
  if (sc.error) throw sc.error;
  return out[0] ?? null;
}
