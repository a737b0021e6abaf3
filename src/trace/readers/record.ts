// What a reader hands to the validator: one framed record and where it sat.
// Readers frame records and parse them (JSON.parse, or for flat event lines the
// byte decoder of flat-event.ts, which gives the same values); they check nothing.

export interface RawRecord {
  /** The parsed JSON value (undefined when `bad` is set). */
  value: unknown;
  /** 1-based line of the record's first byte; 0 when unknown. */
  line: number;
  /** Byte offset of the record's first byte in the decompressed stream. */
  offset: number;
  /** JSON.parse failed on a record whose framing was fine: the parser's message. */
  bad?: string;
  /** The object container's `meta` value (a header, not an event). */
  header?: boolean;
}

/** A reader turns decompressed bytes into batches of records (one batch per input chunk, roughly). */
export type RecordReader = (chunks: AsyncIterable<Buffer>) => AsyncGenerator<RawRecord[], void, undefined>;

/** Parses one framed record; a parse failure is kept on the record, not thrown. */
export function parseRecord(text: string, line: number, offset: number): RawRecord {
  try {
    return { value: JSON.parse(text), line, offset };
  } catch (err) {
    return { value: undefined, line, offset, bad: (err as Error).message };
  }
}

/**
 * A batch as open.ts consumes it: parsed values in one array, and each
 * record's position asked for only when something is wrong with it (an
 * error message, a skipped event). JSON Lines recomputes positions by
 * rescanning its chunk, so the hot path allocates no per-record object.
 */
export interface RecordBatch {
  /** Parsed values; undefined where `bad(k)` says JSON.parse failed. */
  readonly values: unknown[];
  /** JSON.parse's message for record k, or undefined. */
  bad(k: number): string | undefined;
  /** Record k is the object container's `meta` value. */
  header(k: number): boolean;
  line(k: number): number;
  offset(k: number): number;
}

/** Wraps framed records (the JSON containers' readers) as a batch; open.ts validates `recs` directly. */
export class RawBatch implements RecordBatch {
  private vals: unknown[] | null = null;
  constructor(readonly recs: RawRecord[]) {}
  get values(): unknown[] { return (this.vals ??= this.recs.map((r) => r.value)); }
  bad(k: number): string | undefined { return this.recs[k]!.bad; }
  header(k: number): boolean { return this.recs[k]!.header === true; }
  line(k: number): number { return this.recs[k]!.line; }
  offset(k: number): number { return this.recs[k]!.offset; }
}
