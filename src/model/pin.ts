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

export class Pin {
  kind = K_PIN;
  /** Released early by the strategy (killed, or in answer to a notification, or exit): DMA is dropped. */
  released = false;
  readonly frames: (Frame | null)[];
  // Plain arrays: most pins are a few pages, and small typed arrays cost
  // more to allocate than they save.
  readonly gens: number[];
  readonly mode: number[];
  /** The file page each pinned page was (null: anonymous memory or a private copy). */
  readonly files: (FileState | null)[];
  readonly fpages: number[];
  /** The event that redirected or revoked pages of this pin. */
  redirectedBy: CauseLink | null = null;
  leaks: Leak[] | null = null;
  blocking: PendingOp[] | null = null;
  /** Pages holding a frame reference. */
  refPages = 0;
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
  ) {
    this.frames = new Array<Frame | null>(npages).fill(null);
    this.gens = new Array<number>(npages).fill(0);
    this.mode = new Array<number>(npages).fill(P_ABSENT);
    this.files = new Array<FileState | null>(npages).fill(null);
    this.fpages = new Array<number>(npages).fill(0);
  }
}
