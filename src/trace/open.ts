// openTrace: the one way into a trace. Container from content, streaming
// framing, validation, batches of validated events in constant memory.
import { DEFAULT_PAGE_SIZE, FORMAT_VERSION, type IndexedEvent } from './events.js';
import { TraceInputError, type InputPosition } from './errors.js';
import type { OpenedTrace, ReadOptions, ReadStats, TraceHeader, ContainerFormat } from './source.js';
import { TraceValidator, checkMeta, Reject } from './validate.js';
import { openBytes, inputName } from './readers/bytes.js';
import { detectContainer } from './readers/detect.js';
import { readLineBatches } from './readers/jsonl.js';
import { scannerReader, scanForMeta } from './readers/frame-scanner.js';
import { RawBatch, type RawRecord, type RecordBatch, type RecordReader } from './readers/record.js';

/** Which framing the JSON containers use: the byte scanner (default, faster) or stream-json (kept for comparison). */
export type JsonFraming = 'scanner' | 'stream-json';

export interface OpenInternals {
  jsonFraming?: JsonFraming;
  /** Under lenient mode, told about every skipped event (validate --all-errors lists them). */
  onSkip?: (err: TraceInputError) => void;
}

type BatchReader = (chunks: AsyncIterable<Buffer>) => AsyncGenerator<RecordBatch, void, undefined>;

/** The JSON containers' readers frame records one object each; JSON Lines hands on values and positions on demand. */
function asBatches(reader: RecordReader): BatchReader {
  return async function* batched(chunks) {
    for await (const recs of reader(chunks)) yield new RawBatch(recs);
  };
}

async function readerFor(format: ContainerFormat, file: string, framing: JsonFraming): Promise<BatchReader> {
  if (format === 'ndjson') return readLineBatches;
  if (framing === 'stream-json') {
    const { streamJsonReader } = await import('./readers/stream-json.js');
    return asBatches(streamJsonReader(format, file));
  }
  return asBatches(scannerReader(format, file));
}

function isMetaRecord(b: RecordBatch, k: number): boolean {
  const v = b.values[k] as { type?: unknown } | null;
  return b.header(k) || (typeof v === 'object' && v !== null && !Array.isArray(v) && v.type === 'meta');
}

/** The object container's meta when it comes after "events": found by a pre-scan at scanner speed. */
async function preScanMeta(path: string, file: string): Promise<RawRecord | null> {
  const src = await openBytes(path);
  const det = await detectContainer(src.chunks, file);
  return scanForMeta(det.chunks, file);
}

export async function openTrace(path: string, opts: ReadOptions, internals: OpenInternals = {}): Promise<OpenedTrace> {
  const file = inputName(path);
  const src = await openBytes(path, opts.onProgress);
  const det = await detectContainer(src.chunks, file);
  const framing = internals.jsonFraming ?? 'scanner';

  let header: TraceHeader = { page_size: DEFAULT_PAGE_SIZE, version: FORMAT_VERSION };
  let headerKnown = false; // a header was read (or pre-scanned) before any event
  const json = det.format !== 'ndjson';
  const metaPos = (rec: RawRecord): InputPosition => ({ file, line: rec.line, offset: rec.offset, index: -1, json });
  const recordAt = (b: RecordBatch, k: number): RawRecord => {
    const bad = b.bad(k);
    const rec: RawRecord = { value: b.values[k], line: b.line(k), offset: b.offset(k) };
    if (bad !== undefined) rec.bad = bad;
    return rec;
  };

  if (det.format === 'object' && (det.firstKey !== 'meta' || framing === 'stream-json') && path !== '-') {
    const meta = await preScanMeta(path, file);
    if (meta) {
      if (meta.bad) throw new TraceInputError('malformed_json', metaPos(meta), 'meta', `malformed JSON: ${meta.bad}`);
      header = checkMeta(meta.value, metaPos(meta));
      headerKnown = true; // else the first event may still be a meta
    }
  }

  const reader = await readerFor(det.format, file, framing);
  const it = reader(det.chunks)[Symbol.asyncIterator]();
  // Read the first batch now: a leading meta sets the header before anyone iterates.
  let first: RecordBatch | null = null;
  let firstFrom = 0; // 1 when the first record was the meta header
  const r0 = await it.next();
  if (!r0.done && r0.value.values.length > 0) {
    first = r0.value;
    if (first.header(0) && first.bad(0) !== undefined) {
      const rec = recordAt(first, 0);
      throw new TraceInputError('malformed_json', metaPos(rec), 'meta', `malformed JSON: ${rec.bad}`);
    }
    if (!headerKnown && first.bad(0) === undefined && isMetaRecord(first, 0)) {
      header = checkMeta(first.values[0], metaPos(recordAt(first, 0)));
      firstFrom = 1;
      headerKnown = true;
    }
  }
  headerKnown = true; // from here on a meta is misplaced, except the object's meta key (below)

  const stats: ReadStats = {
    events_read: 0, events_skipped: 0, skipped_by_reason: {}, first_ts: null, last_ts: null, bytes_read: src.bytesRead(),
  };
  const validator = new TraceValidator(file);
  const lenient = opts.lenient;
  let index = 0;
  let used = false;
  let ended = r0.done === true;

  const skip = (err: TraceInputError) => {
    internals.onSkip?.(err);
    stats.events_skipped++;
    stats.skipped_by_reason[err.reason] = (stats.skipped_by_reason[err.reason] ?? 0) + 1;
  };

  /** The object's meta key met while streaming: already pre-scanned (file) or checked against the default (stdin). */
  const lateMeta = (rec: RawRecord) => {
    if (path !== '-') return; // the pre-scan already read it
    if (rec.bad) throw new TraceInputError('malformed_json', metaPos(rec), 'meta', `malformed JSON: ${rec.bad}`);
    const h = checkMeta(rec.value, metaPos(rec));
    if (index > 0 && h.page_size !== header.page_size) {
      throw new TraceInputError('meta_misplaced', metaPos(rec), 'page_size',
        `meta comes after "events" on standard input and sets page_size ${h.page_size} (default ${DEFAULT_PAGE_SIZE}); put "meta" before "events"`);
    }
    header.version = h.version;
    if (h.source !== undefined) header.source = h.source;
    header.page_size = h.page_size;
  };

  /** The JSON containers' records, each with its position: no batch methods per record. */
  const validateRecords = (batch: RawRecord[], from: number): IndexedEvent[] => {
    const out: IndexedEvent[] = [];
    for (let k = from; k < batch.length; k++) {
      const rec = batch[k]!;
      if (rec.header) { lateMeta(rec); continue; }
      const i = index++;
      const r = rec.bad === undefined ? validator.accept(rec.value, i) : new Reject('malformed_json', null, `malformed JSON: ${rec.bad}`);
      if (r instanceof Reject) {
        const err = new TraceInputError(r.reason, { file, line: rec.line, offset: rec.offset, index: i, json: true }, r.field, r.detail);
        if (!lenient) { stats.events_read = index; throw err; }
        skip(err);
      } else out.push(r);
    }
    return out;
  };

  const validateBatch = (batch: RecordBatch, from: number): IndexedEvent[] => {
    const out = batch instanceof RawBatch ? validateRecords(batch.recs, from) : validateLines(batch, from);
    stats.events_read = index;
    if (out.length > 0) {
      if (stats.first_ts === null) stats.first_ts = out[0]!.ts;
      stats.last_ts = out[out.length - 1]!.ts;
    }
    return out;
  };

  /**
   * JSON Lines: values only (it has no header records); a position is asked
   * for when an event is refused. The events are compacted into the batch's
   * own array (a write never passes the read, and positions are rescanned
   * from bytes): a second array per batch was 27 MB per million events.
   */
  const validateLines = (batch: RecordBatch, from: number): IndexedEvent[] => {
    const values = batch.values;
    let w = 0;
    // The ordinal in a local for the loop (a captured `let` is a context slot, read and written per event).
    let i = index;
    const end = values.length;
    for (let k = from; k < end; k++, i++) {
      const value = values[k];
      // undefined is never a parsed JSON value: it marks a line JSON.parse refused.
      const r = value !== undefined ? validator.accept(value, i) : new Reject('malformed_json', null, `malformed JSON: ${batch.bad(k)}`);
      if (r instanceof Reject) {
        index = i + 1;
        const err = new TraceInputError(r.reason, { file, line: batch.line(k), offset: batch.offset(k), index: i }, r.field, r.detail);
        if (!lenient) { stats.events_read = index; throw err; }
        skip(err);
      } else values[w++] = r;
    }
    index = i;
    values.length = w;
    return values as IndexedEvent[];
  };

  async function* batches(): AsyncGenerator<IndexedEvent[]> {
    if (used) throw new Error('OpenedTrace.batches() may be iterated once');
    used = true;
    try {
      if (first) {
        const out = validateBatch(first, firstFrom);
        first = null;
        if (out.length > 0) yield out;
      }
      while (!ended) {
        let r: IteratorResult<RecordBatch>;
        try {
          r = await it.next();
        } catch (err) {
          // A framing error: the records before it were all validated, so `index` is the failing event's.
          if (err instanceof TraceInputError && err.position.index < 0 && err.reason === 'container') {
            throw new TraceInputError(err.reason, { ...err.position, index }, err.field, err.detail);
          }
          throw err;
        }
        if (r.done) break;
        const out = validateBatch(r.value, 0);
        if (out.length > 0) yield out;
      }
      ended = true;
    } finally {
      stats.bytes_read = src.bytesRead();
      if (!ended) await it.return?.(undefined);
    }
  }

  return {
    path,
    format: det.format,
    gzip: src.gzip,
    header,
    batches,
    stats,
  };
}
