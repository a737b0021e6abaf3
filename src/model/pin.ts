// A pin (get_user_pages / pin_user_pages, or an ODP registration under
// the odp strategy): the frame behind each pinned page as resolved at pin
// time. A pin does not follow the file afterwards: that is the problem.
import type { CauseLink } from '../replay/types.js';
import type { DeviceState } from './device.js';
import type { FileState } from './file.js';
import type { Frame } from './frame.js';
import type { PendingOp } from './pending.js';

/** What a pinned page points at now. */
export const P_FRAME = 0;
/** Redirected to the dummy page (remap). */
export const P_DUMMY = 1;
/** IOMMU mapping revoked (iommu). */
export const P_REVOKED = 2;
/** Nothing was mapped there when pinned (GUP returned fewer pages). */
export const P_ABSENT = 3;

export const K_PIN = 0;
export const K_ODP = 1;
export const K_REFUSED = 2;

export interface Leak {
  link: CauseLink;
  ts: number;
  pages: number;
  file: string;
  page: number;
}

/** A read DMA through the pin does nothing (see FastDmaFlags). */
export const FAST_READ = 1;
/** A write DMA through the pin does nothing either. */
export const FAST_WRITE = 2;

/**
 * One byte per strategy per pin slot, FAST_READ | FAST_WRITE when a DMA
 * through that strategy's pin would do nothing, so the replay can skip it
 * for all strategies by reading one cache line. A strategy sets its byte
 * for a pin that is settled; anything that could make a DMA matter clears
 * it first (Pin.unsettle, Pin.clearFast). Zero is always safe: it only
 * means "look".
 */
export interface FastDmaFlags {
  bytes: Uint8Array;
}

/** Shared by pins without per-page records: never written (reads past its end give undefined). */
const NO_PAGES: never[] = [];

export class Pin {
  kind = K_PIN;
  /** Released early by the strategy (killed, or in answer to a notification, or exit): DMA is dropped. */
  released = false;
  // Per-page records, allocated only for a pin that takes pages (an ODP
  // mirror or a refused pin has none); plain arrays: most pins are a few
  // pages, and small typed arrays cost more to allocate than they save.
  frames: (Frame | null)[] = NO_PAGES;
  gens: number[] = NO_PAGES;
  mode: number[] = NO_PAGES;
  /** The file page each pinned page was (null: anonymous memory or a private copy); allocated at the first file page. */
  files: (FileState | null)[] = NO_PAGES;
  fpages: number[] = NO_PAGES;
  /** The event that redirected or revoked pages of this pin. */
  redirectedBy: CauseLink | null = null;
  leaks: Leak[] | null = null;
  blocking: PendingOp[] | null = null;
  /**
   * Every page still points at the frame it was pinned on, owned, same
   * generation (no free, disconnect, redirect or revoke since): DMA can
   * only race writeback, so it skips the per-page frame checks.
   */
  settled = true;
  /** Some page is a page-cache file page (the only kind writeback touches). */
  wbPages = false;
  /** Pages holding a frame reference. */
  refPages = 0;
  /** Index in Machine.bySlot. */
  slot = -1;
  /** In its machine's LivePins, and the neighbours there. */
  live = false;
  livePrev: Pin | null = null;
  liveNext: Pin | null = null;
  /** The fast-DMA byte mirroring this pin, while set. */
  fast: FastDmaFlags | null = null;
  fastAt = -1;
  constructor(
    readonly handle: number,
    readonly pid: number,
    readonly dev: DeviceState,
    readonly longterm: boolean,
    readonly write: boolean,
    readonly addr: number,
    readonly len: number,
    /** First virtual page (addr / page size). */
    readonly vpage0: number,
    readonly npages: number,
    readonly link: CauseLink,
  ) {}

  /** Something moved under the pin: its DMA must look page by page. */
  unsettle(): void {
    this.settled = false;
    this.clearFast();
  }

  /** The fast-DMA byte this pin's state allows: 0 when a DMA through it may matter. */
  fastBits(): number {
    if (this.kind !== K_PIN || this.released || !this.settled || this.dev.hung) return 0;
    return this.wbPages ? FAST_READ : FAST_READ | FAST_WRITE;
  }

  /** Its DMA may matter again (unsettled, released, device hung). */
  clearFast(): void {
    if (this.fast !== null) {
      this.fast.bytes[this.fastAt] = 0;
      this.fast = null;
    }
  }

  /** The pin takes pages: one record per page, nothing held yet. */
  takePages(): void {
    // Sized once and filled by a loop: no builtin call per array, and no
    // growth past n as push would allocate.
    const n = this.npages;
    const frames = new Array<Frame | null>(n);
    const gens = new Array<number>(n);
    const mode = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      frames[i] = null;
      gens[i] = 0;
      mode[i] = P_ABSENT;
    }
    this.frames = frames;
    this.gens = gens;
    this.mode = mode;
  }

  /** Page i is page `fpage` of file `f`. */
  setFilePage(i: number, f: FileState, fpage: number): void {
    if (this.files === NO_PAGES) {
      const files = new Array<FileState | null>(this.npages);
      const fpages = new Array<number>(this.npages);
      for (let k = 0; k < this.npages; k++) {
        files[k] = null;
        fpages[k] = 0;
      }
      this.files = files;
      this.fpages = fpages;
    }
    this.files[i] = f;
    this.fpages[i] = fpage;
  }
}
