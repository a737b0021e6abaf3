// A truncate or punch hole that a strategy delays: it waits for pins to go
// (short-term pins on DAX: dax_layout_busy_page; notify/kill: a lease
// break), a deadline, or DMA in flight (odp), then takes effect.
import type { CauseLink } from '../replay/types.js';
import type { FileState } from './file.js';
import type { Pin } from './pin.js';

/** Shared by operations that notified or waited for no pin (most): never written. */
const NO_PINS: readonly Pin[] = Object.freeze([]);

export class PendingOp {
  /** Pins it still waits for. */
  blockers = 0;
  /** Long-term pins it notified (notify/kill), for the deadline. */
  notified: readonly Pin[] = NO_PINS;
  /** Every pin it waited for, for the stall's causal chain. */
  waitedOn: readonly Pin[] = NO_PINS;
  /** odp: DMA in flight on the pages ends at this time. */
  inflightUntil = 0;
  /** odp: the DMA in flight it waits for (registration and dma event, for the chain). */
  inflightBy: unknown = null;
  deadlinePassed = false;
  /** Timers armed for it (dead weight in the heap once it is done). */
  timers = 0;
  started = false;
  done = false;
  /** When the wait began (queued ops start when the one before them completes). */
  t0 = 0;
  pinnedPages = 0;
  constructor(
    readonly kind: 'truncate' | 'punch_hole',
    readonly file: FileState,
    /** truncate: new size; punch_hole: [off, off+len). */
    readonly size: number,
    readonly off: number,
    readonly len: number,
    readonly ts: number,
    readonly link: CauseLink,
  ) {}

  notify(p: Pin): void {
    if (this.notified === NO_PINS) this.notified = [];
    (this.notified as Pin[]).push(p);
  }

  waitOn(p: Pin): void {
    if (this.waitedOn === NO_PINS) this.waitedOn = [];
    (this.waitedOn as Pin[]).push(p);
  }
}
