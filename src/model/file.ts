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
  /**
   * Pages past EOF and the truncate that cut each run of them off (why an
   * ODP fault there happened), newest and lowest last. Growth trims them, so
   * the runs stay disjoint and no more than the file's pages.
   */
  private cut: { lo: number; hi: number; by: CauseLink }[] | null = null;
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

  /** The size becomes `size`: by a truncate `by`, or grown by a write (by null). */
  resize(size: number, pageSize: number, by: CauseLink | null): void {
    const had = this.pageCount(pageSize);
    this.size = size;
    const n = this.pageCount(pageSize);
    if (n < had && by) {
      (this.cut ??= []).push({ lo: n, hi: had, by });
    } else if (n > had && this.cut) {
      // Pages back inside EOF were not cut off any more.
      const c = this.cut;
      while (c.length > 0 && c[c.length - 1]!.hi <= n) c.pop();
      if (c.length > 0 && c[c.length - 1]!.lo < n) c[c.length - 1]!.lo = n;
    }
  }

  /** The truncate that cut page `page` (past EOF) off the file, if one did. */
  cutBy(page: number): CauseLink | null {
    const c = this.cut;
    if (c) for (let k = c.length - 1; k >= 0; k--) if (c[k]!.lo <= page && page < c[k]!.hi) return c[k]!.by;
    return null;
  }
}
