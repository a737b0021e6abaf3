// Frames: the memory a device DMAs into, one per page, in two pools
// (pmem: DAX blocks; dram: page cache, shmem, anonymous memory). Freed
// frames are handed out again most-recently-freed first (LIFO) so reuse
// of a just-freed block is deterministic, as a filesystem reusing it soon
// would be.
import type { CauseLink } from '../replay/types.js';
import type { FileState } from './file.js';
import type { Pin } from './pin.js';

export const FREE = 0;
export const OWNED = 1;
export const DISCONNECTED = 2;
export type FrameState = typeof FREE | typeof OWNED | typeof DISCONNECTED;

export const DRAM = 0;
export const PMEM = 1;
export type PoolId = typeof DRAM | typeof PMEM;

export class Frame {
  state: FrameState = FREE;
  /** Owner when OWNED: a file page (file, page) or anonymous memory of pid (file null, page = virtual page). */
  file: FileState | null = null;
  page = 0;
  pid = -1;
  /** Bumped at every allocation: a pin that saw generation g finds the frame reused when it differs. */
  gen = 0;
  /** Pins (page references, one entry per pinned page) holding this frame; usually 0 or 1. */
  pins: Pin[] = [];
  /** Long-term pin references among `pins`. */
  ltPins = 0;
  /** The event that freed (or disconnected) the frame last, and the one that reused it. */
  freedBy: CauseLink | null = null;
  reusedBy: CauseLink | null = null;
  /** True while on its pool's free stack. */
  inFreeStack = false;
  constructor(readonly id: number, readonly pool: PoolId) {}
}

/** The frame stops being what its pins saw: their DMA must look page by page again. */
function unsettle(f: Frame): void {
  const pins = f.pins;
  for (let k = 0; k < pins.length; k++) pins[k]!.settled = false;
}

export class FramePools {
  readonly all: Frame[] = [];
  private readonly stacks: [Frame[], Frame[]] = [[], []];

  /** Takes the most recently freed frame of the pool, else a fresh one. */
  alloc(pool: PoolId, by: CauseLink | null): Frame {
    const stack = this.stacks[pool];
    let f = stack.pop();
    if (f) f.inFreeStack = false;
    else {
      f = new Frame(this.all.length, pool);
      this.all.push(f);
    }
    f.gen++;
    f.state = OWNED;
    f.reusedBy = by;
    return f;
  }

  /** Gives a frame back to its pool (it may still be referenced by pins under `none`). */
  free(f: Frame, by: CauseLink | null): void {
    if (f.inFreeStack) return;
    unsettle(f);
    f.state = FREE;
    f.file = null;
    f.pid = -1;
    if (by) f.freedBy = by;
    f.inFreeStack = true;
    this.stacks[f.pool].push(f);
  }

  /** The file or process lets go of the frame; pins keep it alive, disconnected. */
  disconnect(f: Frame, by: CauseLink | null): void {
    unsettle(f);
    f.state = DISCONNECTED;
    f.file = null;
    f.pid = -1;
    if (by) f.freedBy = by;
  }

  freeCount(pool: PoolId): number {
    return this.stacks[pool].length;
  }

  stackOf(pool: PoolId): readonly Frame[] {
    return this.stacks[pool];
  }
}
