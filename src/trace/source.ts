// The contract between the readers (src/trace/readers/) and everything
// that consumes a trace. `openTrace` (src/trace/open.ts) detects the
// container from content, streams records, validates each, and hands out
// validated events in batches with constant memory.

import type { IndexedEvent } from './events.js';

export type ContainerFormat = 'ndjson' | 'array' | 'object';

export interface TraceHeader {
  /** From meta.page_size, or 4096. */
  page_size: number;
  version: number;
  source?: string;
}

export interface ReadOptions {
  /** Skip bad events (counted by reason) instead of failing on the first. */
  lenient: boolean;
  /** Called now and then with the bytes of input consumed so far (compressed bytes for gzip). */
  onProgress?: (bytesRead: number) => void;
}

export interface ReadStats {
  events_read: number;
  events_skipped: number;
  skipped_by_reason: Record<string, number>;
  first_ts: number | null;
  last_ts: number | null;
  /** Bytes of input consumed (compressed bytes for gzip). */
  bytes_read: number;
}

export interface OpenedTrace {
  /** As given (`-` for standard input). */
  path: string;
  format: ContainerFormat;
  gzip: boolean;
  header: TraceHeader;
  /**
   * Validated events in file order, in batches. Strict mode throws a
   * TraceInputError at the first bad event; lenient mode skips and counts.
   * May be iterated once.
   */
  batches(): AsyncIterable<IndexedEvent[]>;
  /** Complete once batches() is exhausted; events_read = (events yielded) + events_skipped. */
  readonly stats: ReadStats;
}
