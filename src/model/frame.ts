// Frames: the memory a device DMAs into, one per page, in two pools
// (pmem: DAX blocks; dram: page cache, shmem, anonymous memory). Freed
// frames are handed out again most-recently-freed first (LIFO) so reuse
// of a just-freed block is deterministic, as a filesystem reusing it soon
// would be.
//
// A frame is a number (its pfn, in effect) into one table per machine, as
// the kernel's struct page array is: a frame's record is 32 bytes of
// integers, no pointers. Nine machines' frames as objects were scattered
// over the heap, a cache miss on most page operations, and each pin stored
// into an old frame ran the write barrier's slow path.
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

/** "No frame", where a frame number is expected. */
export const NO_FRAME = -1;

/**
 * A frame's record: STRIDE int32s, 32 bytes (two frames per cache line).
 * F_META packs the state (bits 0-1), the pool (bit 2) and the long-term
 * pin references (bits 3 and up); page and pid, which pass 2^32 (a virtual
 * page of anonymous memory), are split in low and high words.
 */
const F_META = 0;
/**
 * Bumped at every allocation: a pin that saw generation g finds the frame
 * reused when it differs (an int32 that wraps after 2^32 allocations of one
 * frame, which only equality reads).
 */
const F_GEN = 1;
/** Owner when OWNED: page `page` of the file with id `file`, or anonymous memory of `pid` (file -1, page = virtual page). */
const F_FILE = 2;
const F_PAGE_LO = 3;
const F_PAGE_HI = 4;
const F_PID_LO = 5;
const F_PID_HI = 6;
/** Pin references holding the frame (one per pinned page). */
const F_PINS = 7;
const STRIDE = 8;
const STATE_MASK = 3;
const POOL_BIT = 4;
const LT_SHIFT = 3;
const LT_ONE = 1 << LT_SHIFT;
const WORD = 2 ** 32;

export class FrameTable {
  private rec = new Int32Array(STRIDE * 64);
  /** Frames made so far (ids 0 .. count-1). */
  count = 0;
  /** The owning file of each frame (its id is in the record, for comparing without this load). */
  private readonly owners: (FileState | null)[] = [];
  /** Pins holding each frame, as [pin1, ...pinsMore]: usually none or one, so no array until a second. */
  private readonly pin1: (Pin | null)[] = [];
  private readonly pinsMore: (Pin[] | null)[] = [];
  /** The event that freed (or disconnected) each frame last, and the one that reused it, while pins were on it. */
  private readonly freedLinks: (CauseLink | null)[] = [];
  private readonly reusedLinks: (CauseLink | null)[] = [];
  private readonly stacks: [number[], number[]] = [[], []];

  state(f: number): FrameState {
    return (this.rec[f * STRIDE + F_META]! & STATE_MASK) as FrameState;
  }

  pool(f: number): PoolId {
    return (this.rec[f * STRIDE + F_META]! & POOL_BIT ? PMEM : DRAM);
  }

  private setState(k: number, s: FrameState): void {
    this.rec[k + F_META] = (this.rec[k + F_META]! & ~STATE_MASK) | s;
  }

  gen(f: number): number {
    return this.rec[f * STRIDE + F_GEN]!;
  }

  /** The owning file's id (FileState.id), -1 when anonymous or not owned. */
  fileId(f: number): number {
    return this.rec[f * STRIDE + F_FILE]!;
  }

  /** The owning file, null when anonymous or not owned. */
  file(f: number): FileState | null {
    return this.owners[f] ?? null;
  }

  page(f: number): number {
    const k = f * STRIDE;
    return this.rec[k + F_PAGE_HI]! * WORD + (this.rec[k + F_PAGE_LO]! >>> 0);
  }

  pid(f: number): number {
    const k = f * STRIDE;
    return this.rec[k + F_PID_HI]! * WORD + (this.rec[k + F_PID_LO]! >>> 0);
  }

  pinCount(f: number): number {
    return this.rec[f * STRIDE + F_PINS]!;
  }

  ltPins(f: number): number {
    return this.rec[f * STRIDE + F_META]! >> LT_SHIFT;
  }

  freedBy(f: number): CauseLink | null {
    return this.freedLinks[f]!;
  }

  reusedBy(f: number): CauseLink | null {
    return this.reusedLinks[f]!;
  }

  /** The frame now holds page `page` of `file` (null: anonymous memory of `pid`). */
  setOwner(f: number, file: FileState | null, page: number, pid: number): void {
    const k = f * STRIDE;
    this.owners[f] = file;
    this.rec[k + F_FILE] = file === null ? -1 : file.id;
    this.rec[k + F_PAGE_LO] = page % WORD;
    this.rec[k + F_PAGE_HI] = Math.floor(page / WORD);
    this.rec[k + F_PID_LO] = pid % WORD;
    this.rec[k + F_PID_HI] = Math.floor(pid / WORD);
  }

  /** Takes the most recently freed frame of the pool, else a fresh one. */
  alloc(pool: PoolId, by: CauseLink | null): number {
    const f = this.stacks[pool].pop() ?? this.make(pool);
    const k = f * STRIDE;
    this.rec[k + F_GEN]++;
    this.setState(k, OWNED);
    // Who reused a frame matters only to a pin still on it (its DMA names it).
    if (this.pinCount(f) > 0) this.reusedLinks[f] = by;
    return f;
  }

  private make(pool: PoolId): number {
    const f = this.count++;
    if (this.count * STRIDE > this.rec.length) {
      const bigger = new Int32Array(this.rec.length * 2);
      bigger.set(this.rec);
      this.rec = bigger;
    }
    const k = f * STRIDE;
    this.rec[k + F_META] = pool === PMEM ? POOL_BIT : 0;
    this.noOwner(k);
    this.owners.push(null);
    this.pin1.push(null);
    this.pinsMore.push(null);
    this.freedLinks.push(null);
    this.reusedLinks.push(null);
    return f;
  }

  /** Gives a frame back to its pool (it may still be referenced by pins under `none`). */
  free(f: number, by: CauseLink | null): void {
    if (this.state(f) === FREE) return;
    this.leave(f, by);
    this.setState(f * STRIDE, FREE);
    this.stacks[this.pool(f)].push(f);
  }

  /** The file or process lets go of the frame; pins keep it alive, disconnected. */
  disconnect(f: number, by: CauseLink | null): void {
    this.leave(f, by);
    this.setState(f * STRIDE, DISCONNECTED);
  }

  /** The owner goes: the frame stops being what its pins saw, so their DMA must look page by page again. */
  private leave(f: number, by: CauseLink | null): void {
    this.owners[f] = null;
    this.noOwner(f * STRIDE);
    if (this.pinCount(f) === 0) return;
    if (by) this.freedLinks[f] = by;
    this.pin1[f]!.unsettle();
    const more = this.pinsMore[f];
    if (more) for (let j = 0; j < more.length; j++) more[j]!.unsettle();
  }

  /** The record at `k` names no owner: no file, no pid (the page is left as it was: it is read only while owned). */
  private noOwner(k: number): void {
    this.rec[k + F_FILE] = -1;
    this.rec[k + F_PID_LO] = -1;
    this.rec[k + F_PID_HI] = -1;
  }

  addPin(f: number, p: Pin, longterm: boolean): void {
    const k = f * STRIDE;
    if (this.pinCount(f) === 0) this.pin1[f] = p;
    else {
      const more = this.pinsMore[f];
      // [p], not [] then push: a literal born holding objects never changes its elements kind.
      if (more) more.push(p);
      else this.pinsMore[f] = [p];
    }
    this.rec[k + F_PINS]++;
    if (longterm) this.rec[k + F_META] += LT_ONE;
  }

  /** Removes one reference of `p`: the last reference takes its place (the list's order is part of the replay's determinism). */
  removePin(f: number, p: Pin, longterm: boolean): void {
    const k = f * STRIDE;
    const more = this.pinsMore[f];
    let at = 0;
    if (this.pin1[f] !== p) {
      const j = more ? more.indexOf(p) : -1;
      if (j < 0) return;
      at = j + 1;
    }
    if (this.pinCount(f) === 1) this.pin1[f] = null;
    else {
      const last = more!.pop()!;
      if (at === 0) this.pin1[f] = last;
      else if (at - 1 < more!.length) more![at - 1] = last;
    }
    this.rec[k + F_PINS]--;
    if (longterm) this.rec[k + F_META] -= LT_ONE;
  }

  /** The pins holding the frame, in order (for the rare paths: truncates, migration, checks). */
  holders(f: number): Pin[] {
    if (this.pinCount(f) === 0) return [];
    const more = this.pinsMore[f];
    return more && more.length ? [this.pin1[f]!, ...more] : [this.pin1[f]!];
  }

  /** The frame's first holder, and moreHolders() the rest: holders() without the copy (pinsOn). */
  firstHolder(f: number): Pin | null {
    return this.pin1[f]!;
  }

  moreHolders(f: number): Pin[] | null {
    return this.pinsMore[f]!;
  }

  freeCount(pool: PoolId): number {
    return this.stacks[pool].length;
  }

  stackOf(pool: PoolId): readonly number[] {
    return this.stacks[pool];
  }
}
