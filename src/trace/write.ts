// The trace writer: events in, a trace file of format v1 out, in any of
// the three containers, optionally gzipped. Compact JSON, addresses as hex
// strings, the meta header first. It buffers about 64 KiB of text per
// write to the stream and makes the caller wait when the stream pushes
// back, so memory stays flat however many events go through.

import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { EVENT_SPECS, type EventType } from './events.js';
import type { ContainerFormat } from './source.js';

export interface TraceWriterOptions {
  format: ContainerFormat;
  gzip: boolean;
  /**
   * The header. When absent, a first written event of type meta is taken
   * as the header; a meta event anywhere else is a programming error.
   */
  meta?: Record<string, unknown>;
  /**
   * End the destination stream on close. Default: true, except for
   * process.stdout and process.stderr, which stay open.
   */
  end?: boolean;
}

/** An event to write: addresses may be numbers (written as hex) or hex strings already. */
export type WritableEvent = { readonly type: string; readonly [field: string]: unknown };

export interface TraceWriter {
  /**
   * Queues one event. Returns a promise when the destination is pushing
   * back: await it before the next write. Returns undefined otherwise, so
   * the fast path costs no microtask.
   */
  write(ev: WritableEvent): Promise<void> | undefined;
  /** Writes the container's closing text, flushes, ends the stream (see `end`) and waits for it. */
  close(): Promise<void>;
  /** Events written so far (the meta header not counted). */
  readonly count: number;
}

const FLUSH_AT = 64 * 1024;
// Let a few chunks queue in the file and gzip streams (their I/O and
// compression run on libuv's thread pool) before the caller must wait.
const QUEUE_BYTES = 1024 * 1024;

/** Per event type, the fields that hold addresses (EVENT_SPECS kind 'addr'). */
const ADDR_FIELDS: Partial<Record<string, string[]>> = {};
for (const [type, spec] of Object.entries(EVENT_SPECS) as Array<[EventType, { fields: Record<string, { kind: string }> }]>) {
  const names = Object.entries(spec.fields).filter(([, f]) => f.kind === 'addr').map(([n]) => n);
  if (names.length > 0) ADDR_FIELDS[type] = names;
}

/** An address as the format prefers it: "0x7f0000000000". */
export function hexAddr(n: number): string {
  return '0x' + n.toString(16);
}

/** One event as compact JSON, addresses in hex; `type` first. */
export function eventJson(ev: WritableEvent): string {
  const addrs = ADDR_FIELDS[ev.type];
  if (addrs) {
    let copy: Record<string, unknown> | null = null;
    for (const name of addrs) {
      const v = ev[name];
      if (typeof v === 'number') {
        copy ??= { ...ev };
        copy[name] = hexAddr(v);
      }
    }
    if (copy) return JSON.stringify(copy);
  }
  return JSON.stringify(ev);
}

function metaJson(meta: Record<string, unknown>, withType: boolean): string {
  const { type: _type, ...fields } = meta;
  return JSON.stringify(withType ? { type: 'meta', ...fields } : fields);
}

export function createTraceWriter(out: Writable | string, opts: TraceWriterOptions): TraceWriter {
  const ownsFile = typeof out === 'string' && out !== '-';
  // Open synchronously so that a bad path fails here, as one ENOENT line, not later in a stream event.
  const dest: Writable =
    typeof out !== 'string' ? out : out === '-' ? process.stdout : createWriteStream(out, { fd: openSync(out, 'w'), highWaterMark: QUEUE_BYTES });
  const endDest = opts.end ?? (dest !== process.stdout && dest !== process.stderr);
  const gzip = opts.gzip ? createGzip({ writableHighWaterMark: QUEUE_BYTES } as ZlibOptions) : null;
  // Backpressure is taken from the first stream we write to; pipe() carries it on to dest.
  const sink: Writable = gzip ?? dest;
  if (gzip) gzip.pipe(dest, { end: endDest });

  let failure: Error | null = null;
  const onError = (err: Error) => {
    failure ??= err;
  };
  dest.on('error', onError);
  gzip?.on('error', onError);

  let text = '';
  let count = 0;
  let header = opts.meta ?? null;
  let started = false;
  let closed = false;

  const open = (): void => {
    started = true;
    if (opts.format === 'ndjson') {
      if (header) text += metaJson(header, true) + '\n';
    } else if (opts.format === 'array') {
      text += header ? '[' + metaJson(header, true) : '[';
    } else {
      text += header ? '{"meta":' + metaJson(header, false) + ',"events":[' : '{"events":[';
    }
  };

  const flush = (): Promise<void> | undefined => {
    const chunk = text;
    text = '';
    if (failure) throw failure;
    if (sink.write(chunk)) return undefined;
    return drained(sink).then(() => {
      if (failure) throw failure;
    });
  };

  return {
    get count() {
      return count;
    },
    write(ev) {
      if (closed) throw new Error('trace writer: write after close');
      if (ev.type === 'meta') {
        if (started || header) throw new Error('trace writer: meta must be the first event, and only one');
        header = ev;
        return undefined;
      }
      if (!started) open();
      const json = eventJson(ev);
      if (opts.format === 'ndjson') text += json + '\n';
      else text += (count > 0 || (opts.format === 'array' && header) ? ',\n' : '\n') + json;
      count++;
      return text.length >= FLUSH_AT ? flush() : undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!started) open();
      if (opts.format === 'array') text += '\n]\n';
      else if (opts.format === 'object') text += '\n]}\n';
      const wait = flush();
      if (wait) await wait;
      // Wait until every byte has left: into the file (close), or through gzip into a stream we keep open.
      const done = endDest ? finished(dest, ownsFile ? 'close' : 'finish') : gzip ? finished(gzip, 'end') : null;
      if (gzip) gzip.end();
      else if (endDest) dest.end();
      if (done) await done;
      // A stream we ended is done; one we keep (stdout) keeps our listener, so a late EPIPE cannot crash the process.
      if (endDest) {
        dest.off('error', onError);
        gzip?.off('error', onError);
      }
      if (failure) throw failure;
    },
  };
}

// Both waits also end on 'close', so a destroyed stream cannot leave the caller hanging.
function drained(s: Writable): Promise<void> {
  if (s.destroyed) return Promise.reject(new Error('trace writer: the output stream was closed'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      s.off('drain', ok);
      s.off('error', bad);
      s.off('close', gone);
      if (err) reject(err);
      else resolve();
    };
    const ok = () => done();
    const bad = (err: Error) => done(err);
    const gone = () => done(new Error('trace writer: the output stream was closed'));
    s.once('drain', ok);
    s.once('error', bad);
    s.once('close', gone);
  });
}

function finished(s: Writable | NodeJS.ReadableStream, event: 'close' | 'finish' | 'end'): Promise<void> {
  if ((s as Writable).destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    s.once(event, () => resolve());
    s.once('close', () => resolve());
    s.once('error', reject);
  });
}
