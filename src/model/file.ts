// A file: size and a page index -> frame map (holes have no frame), plus
// the pages under writeback and the operations (truncate, punch hole)
// waiting on its i_rwsem, oldest first.
import type { PoolId } from './frame.js';
import { DRAM, PMEM } from './frame.js';
import { PageMap } from './pagemap.js';
import { WritebackPages } from './writeback.js';
import type { PendingOp } from './pending.js';
import type { CauseLink } from '../replay/types.js';

export class FileState {
  size = 0;
  readonly pages = new PageMap();
  /** Page -> number of writeback windows open on it (page cache files only). */
  readonly writeback = new WritebackPages();
  /** Operations queued on the file; the head is the one in progress. */
  readonly queue: PendingOp[] = [];
  /** The last writeback start, for a writeback_race's causal chain. */
  wbLink: CauseLink | null = null;
  /** The last truncate that shrank the file (why an ODP fault past EOF happened). */
  shrunkBy: CauseLink | null = null;
  readonly pool: PoolId;
  /** Page cache files that need dirty tracking: not DAX, not shmem. */
  readonly dirtyTracked: boolean;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly dax: boolean,
    readonly shmem: boolean,
  ) {
    this.pool = dax ? PMEM : DRAM;
    this.dirtyTracked = !dax && !shmem;
  }

  /** Number of pages covering [0, size). */
  pageCount(pageSize: number): number {
    return Math.ceil(this.size / pageSize);
  }
}
