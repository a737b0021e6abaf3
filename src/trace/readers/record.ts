// What a reader hands to the validator: one framed record and where it sat.
// Readers only frame and JSON.parse; they know nothing about event types.

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
