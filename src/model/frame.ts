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
  /**
   * Pin references holding this frame (one per pinned page), as the list
   * [pin1, ...pinsMore]: usually none or one, so no array until a second.
   */
  pinCount = 0;
  pin1: Pin | null = null;
  pinsMore: Pin[] | null = null;
  /** Long-term pin references among them. */
  ltPins = 0;
  /** The event that freed (or disconnected) the frame last, and the one that reused it, while pins were on it. */
  freedBy: CauseLink | null = null;
  reusedBy: CauseLink | null = null;
  /** True while on its pool's free stack. */
  inFreeStack = false;
  constructor(readonly id: number, readonly pool: PoolId) {}

  addPin(p: Pin): void {
    if (this.pinCount === 0) this.pin1 = p;
    else (this.pinsMore ??= []).push(p);
    this.pinCount++;
  }

  /** Removes one reference of `p`: the last reference takes its place (the list's order is part of the replay's determinism). */
  removePin(p: Pin): void {
    const more = this.pinsMore;
    let k = 0;
    if (this.pin1 !== p) {
      const j = more ? more.indexOf(p) : -1;
      if (j < 0) return;
      k = j + 1;
    }
    if (this.pinCount === 1) this.pin1 = null;
    else {
      const last = more!.pop()!;
      if (k === 0) this.pin1 = last;
      else if (k - 1 < more!.length) more![k - 1] = last;
    }
    this.pinCount--;
  }

  /** The references, in order (for the rare paths: truncates, migration, checks). */
  holders(): Pin[] {
    if (this.pinCount === 0) return [];
    return this.pinsMore && this.pinsMore.length ? [this.pin1!, ...this.pinsMore] : [this.pin1!];
  }
}

/** The frame stops being what its pins saw: their DMA must look page by page again. */
function unsettle(f: Frame): void {
  if (f.pinCount === 0) return;
  f.pin1!.unsettle();
  const more = f.pinsMore;
  if (more) for (let k = 0; k < more.length; k++) more[k]!.unsettle();
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
    // Who reused or freed a frame matters only to a pin still on it (its
    // DMA names them); skipping the store otherwise spares a write barrier
    // per page into a long-lived frame.
    if (f.pinCount > 0) f.reusedBy = by;
    return f;
  }

  /** Gives a frame back to its pool (it may still be referenced by pins under `none`). */
  free(f: Frame, by: CauseLink | null): void {
    if (f.inFreeStack) return;
    unsettle(f);
    f.state = FREE;
    f.file = null;
    f.pid = -1;
    if (by && f.pinCount > 0) f.freedBy = by;
    f.inFreeStack = true;
    this.stacks[f.pool].push(f);
  }

  /** The file or process lets go of the frame; pins keep it alive, disconnected. */
  disconnect(f: Frame, by: CauseLink | null): void {
    unsettle(f);
    f.state = DISCONNECTED;
    f.file = null;
    f.pid = -1;
    if (by && f.pinCount > 0) f.freedBy = by;
  }

  freeCount(pool: PoolId): number {
    return this.stacks[pool].length;
  }

  stackOf(pool: PoolId): readonly Frame[] {
    return this.stacks[pool];
  }
}
