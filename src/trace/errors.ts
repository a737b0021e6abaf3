// Bad input is reported as one line that says where (file, line or byte
// offset, event index), which field, and what was expected. The CLI prints
// `message` and exits 2; nothing in it is a stack trace.

/** Why a bad event is rejected; also the key of `skipped_by_reason` under --lenient. */
export type SkipReason =
  | 'malformed_json'
  | 'not_an_object'
  | 'unknown_type'
  | 'missing_field'
  | 'bad_field'
  | 'ts_backwards'
  | 'no_live_pin'
  | 'pin_reused'
  | 'range_overflow'
  | 'file_redeclared'
  | 'meta_misplaced'
  | 'dropped_after_error';

/** Where a record sits in its input. */
export interface InputPosition {
  file: string;
  /** 1-based line (JSON Lines, and JSON when known); 0 when unknown. */
  line: number;
  /** Byte offset of the record's first byte in the (decompressed) stream. */
  offset: number;
  /** In a JSON array or object: the byte offset is shown beside the line (one line may hold the whole trace). */
  json?: boolean;
  /** 0-based event index (meta not counted); -1 when the record is not an event. */
  index: number;
}

export class TraceInputError extends Error {
  override readonly name = 'TraceInputError';
  constructor(
    readonly reason: SkipReason | 'truncated_gzip' | 'io' | 'container',
    readonly position: InputPosition,
    readonly field: string | null,
    readonly detail: string,
  ) {
    super(formatInputError(position, field, detail));
  }
}

export function formatInputError(pos: InputPosition, field: string | null, detail: string): string {
  const where: string[] = [pos.file];
  if (pos.line > 0) where.push(`line ${pos.line}`);
  if ((pos.line <= 0 || pos.json) && pos.offset >= 0) where.push(`byte ${pos.offset}`);
  const at = where.join(':');
  const ev = pos.index >= 0 ? ` event ${pos.index}:` : '';
  const f = field ? ` field '${field}':` : '';
  return `${at}:${ev}${f} ${detail}`.replace(/: +/g, ': ');
}
