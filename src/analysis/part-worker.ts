// The parsing thread's handle on one worker thread replaying a share of
// the strategies: started before the trace is opened (a worker takes
// ~0.1 s to load), it gets the trace's header, then WireBatches (the
// worker acknowledges each, so the parser never runs more than MAX_AHEAD
// batches ahead: memory stays flat), then the end of the trace, and
// answers with its PartOutput.
import { Worker } from 'node:worker_threads';
import { TraceInputError, type InputPosition } from '../trace/errors.js';
import type { TraceHeader } from '../trace/source.js';
import type { WireBatch } from '../trace/wire.js';
import type { StrategyId } from '../replay/types.js';
import type { PartOptions, PartOutput } from './part.js';

/**
 * Batches sent and not yet replayed before the parser waits: 256 of ~740
 * events (64 KB each on the wire, 16 MB at most), about half a second
 * of replay. The threads take turns being the slower one (the worker warms
 * up later; stretches of truncates cost notify and kill more): with 32, the
 * parser waited 0.1-0.5 s per 1M-event run while the worker also idled.
 */
const MAX_AHEAD = 256;

/**
 * Each batch sent is transferred, so detached here. The first ArrayBuffer
 * detached in an isolate invalidates V8's ArrayBufferDetaching protector,
 * which throws away all code compiled to read typed arrays: by the first
 * batch, the parser's, compiled while it primed itself. Detaching an empty
 * buffer before the trace is opened spares those recompiles (9 fewer
 * deopts, ~0.2 s less compiling per 1M-event replay).
 */
let detached = false;
function detachOnce(): void {
  if (detached) return;
  detached = true;
  const b = new ArrayBuffer(0);
  structuredClone(b, { transfer: [b] });
}

/** What the parsing thread tells a worker. */
export type ToWorker = { header: TraceHeader } | { batch: WireBatch } | { end: number | null };
/** What a worker answers. */
export type FromWorker = { ack: number } | { result: PartOutput } | { error: WireError };

export interface WorkerStart {
  strategies: StrategyId[];
  opts: PartOptions;
}

export class PartWorker {
  private readonly worker: Worker;
  private sent = 0;
  private acked = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** The worker's output; rejects when it fails (handled, so a failure before anyone awaits is not unhandled). */
  readonly result: Promise<PartOutput>;

  constructor(start: WorkerStart) {
    detachOnce();
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: start });
    this.result = new Promise<PartOutput>((resolve, reject) => {
      const fail = (err: Error) => {
        this.failure ??= err;
        reject(this.failure);
        this.wakeUp();
      };
      this.worker.on('message', (msg: FromWorker) => {
        if ('ack' in msg) {
          this.acked += msg.ack;
          this.wakeUp();
        } else if ('result' in msg) resolve(msg.result);
        else fail(fromWire(msg.error));
      });
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => fail(new Error(`replay worker exited with code ${code}`)));
    });
    this.result.catch(() => {});
  }

  /** The trace's header: the worker builds its replay on it (first message). */
  begin(header: TraceHeader): void {
    const msg: ToWorker = { header };
    this.worker.postMessage(msg);
  }

  send(batch: WireBatch): void {
    if (this.failure) throw this.failure;
    this.sent++;
    const msg: ToWorker = { batch };
    this.worker.postMessage(msg, [batch.data.buffer as ArrayBuffer]);
  }

  /** Waits while the worker is more than MAX_AHEAD batches behind; throws its failure. */
  async caughtUp(): Promise<void> {
    while (!this.failure && this.sent - this.acked > MAX_AHEAD) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }

  end(lastTs: number | null): Promise<PartOutput> {
    const msg: ToWorker = { end: lastTs };
    if (!this.failure) this.worker.postMessage(msg);
    return this.result;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/** A worker's error, as plain data. */
export type WireError =
  | { kind: 'input'; reason: TraceInputError['reason']; position: InputPosition; field: string | null; detail: string }
  | { kind: 'other'; message: string; code?: string; stack?: string };

export function toWire(err: unknown): WireError {
  if (err instanceof TraceInputError) {
    return { kind: 'input', reason: err.reason, position: err.position, field: err.field, detail: err.detail };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const w: WireError = { kind: 'other', message: e.message };
  const code = (e as NodeJS.ErrnoException).code;
  if (code) w.code = code;
  if (e.stack) w.stack = e.stack;
  return w;
}

export function fromWire(w: WireError): Error {
  if (w.kind === 'input') return new TraceInputError(w.reason, w.position, w.field, w.detail);
  const e = new Error(w.message) as NodeJS.ErrnoException;
  if (w.code) e.code = w.code;
  if (w.stack) e.stack = w.stack;
  return e;
}
