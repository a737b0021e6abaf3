// A pin (get_user_pages / pin_user_pages, or an ODP registration under
// the odp strategy): the frame behind each pinned page as resolved at pin
// time. A pin does not follow the file afterwards: that is the problem.
import type { CauseLink } from '../replay/types.js';
import type { DeviceState } from './device.js';
import type { FileState } from './file.js';
import { NO_FRAME } from './frame.js';
import type { PendingOp } from './pending.js';

/** What a pinned page points at now. */
export const P_FRAME = 0;
/** Redirected to the dummy page (remap). */
export const P_DUMMY = 1;
/** IOMMU mapping revoked (iommu). */
export const P_REVOKED = 2;
/** Nothing was mapped there when pinned (GUP returned fewer pages). */
export const P_ABSENT = 3;
/** The shared zero page: a read fault on a DAX hole maps it (dax_load_hole()), no storage behind it. */
export const P_ZERO = 4;

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
/** Alone: a DMA through the pin is dropped, counted and nothing else (a refused or released pin, a hung device). */
export const FAST_DROP = 4;

/**
 * One byte per strategy per pin slot, FAST_READ | FAST_WRITE when a DMA
 * through that strategy's pin would do nothing, FAST_DROP when it would
 * only be counted as dropped, so the replay can settle it for all
 * strategies by reading one cache line (and a worker thread need not even
 * decode it). A strategy sets its byte for a pin that is settled or drops
 * its DMA; anything that could make a DMA matter clears it first
 * (Pin.unsettle, Pin.clearFast). Zero is always safe: it only means "look".
 */
export interface FastDmaFlags {
  bytes: Uint8Array;
}

/** Shared by pins without per-page records: never written (reads past its end give undefined). */
const NO_PAGES: never[] = [];

/**
 * A pinned page's record, four slots in Pin.pages: the frame held (or
 * remembered; NO_FRAME when none), its generation when pinned and what the
 * page points at now (gen * 4 + P_*, one slot), and the file page it was
 * (file null: anonymous memory or a private copy). One array for all of
 * them: a pin is one allocation of records, and a page's record shares a
 * cache line.
 */
const PG_FRAME = 0;
const PG_GENMODE = 1;
const PG_FILE = 2;
const PG_FPAGE = 3;
const PG_STRIDE = 4;
/** The mode's bits in PG_GENMODE (P_* fit in three). */
const MODE_BITS = 7;

/**
 * What a pin event asks for: the same in every strategy, so it is made once
 * per event and shared by the strategies' Pins, which hold only their own
 * state (one allocation per event instead of nine, and no numbers boxed
 * again per strategy: addresses are past 2^31).
 */
export class PinRequest {
  constructor(
    readonly handle: number,
    readonly pid: number,
    readonly longterm: boolean,
    readonly write: boolean,
    readonly addr: number,
    readonly len: number,
    /** First virtual page (addr / page size). */
    readonly vpage0: number,
    readonly npages: number,
    readonly link: CauseLink,
    /** Where addr falls in the first page (addr - vpage0 * page size): DMA offsets from it are small integers, addresses are past 2^31. */
    readonly head: number,
  ) {}
}

/** Pin.bits: kind (K_*) in the low two bits, then one bit per flag. */
const B_KIND = 3;
const B_RELEASED = 4;
const B_SETTLED = 8;
const B_WB_PAGES = 16;
const B_LIVE = 32;

export class Pin {
  /**
   * kind and the four flags below, packed: nine strategies' pins for every
   * pin event are the replay's largest allocation, and five fields were 40
   * of a Pin's 160 bytes.
   */
  private bits = K_PIN | B_SETTLED;
  /** Per-page records (PG_*), allocated only for a pin that takes pages (an ODP mirror or a refused pin has none). */
  pages: (FileState | number | null)[] = NO_PAGES;
  /** Page index -> the event that redirected or revoked it (a pin), or unmapped it (an ODP mirror): causal chains only. */
  private causes: Map<number, CauseLink> | null = null;
  leaks: Leak[] | null = null;
  blocking: PendingOp[] | null = null;
  /** Pages holding a frame reference. */
  refPages = 0;
  /** Index in Machine.bySlot. */
  slot = -1;
  /** Neighbours in its machine's LivePins. */
  livePrev: Pin | null = null;
  liveNext: Pin | null = null;
  /** The fast-DMA byte mirroring this pin, while set. */
  fast: FastDmaFlags | null = null;
  fastAt = -1;
  constructor(
    readonly req: PinRequest,
    readonly dev: DeviceState,
  ) {}

  private flag(bit: number): boolean {
    return (this.bits & bit) !== 0;
  }

  private setFlag(bit: number, v: boolean): void {
    this.bits = v ? this.bits | bit : this.bits & ~bit;
  }

  /** K_PIN, K_ODP (a mirror) or K_REFUSED. */
  get kind(): number {
    return this.bits & B_KIND;
  }

  set kind(k: number) {
    this.bits = (this.bits & ~B_KIND) | k;
  }

  /** Released early by the strategy (killed, or in answer to a notification, or exit): DMA is dropped. */
  get released(): boolean {
    return this.flag(B_RELEASED);
  }

  set released(v: boolean) {
    this.setFlag(B_RELEASED, v);
  }

  /**
   * Every page still points at the frame it was pinned on, owned, same
   * generation (no free, disconnect, redirect or revoke since): DMA can
   * only race writeback, so it skips the per-page frame checks.
   */
  get settled(): boolean {
    return this.flag(B_SETTLED);
  }

  /** Some page is a page-cache file page (the only kind writeback touches). */
  get wbPages(): boolean {
    return this.flag(B_WB_PAGES);
  }

  set wbPages(v: boolean) {
    this.setFlag(B_WB_PAGES, v);
  }

  /** In its machine's LivePins. */
  get live(): boolean {
    return this.flag(B_LIVE);
  }

  set live(v: boolean) {
    this.setFlag(B_LIVE, v);
  }

  /** Something moved under the pin: its DMA must look page by page. */
  unsettle(): void {
    this.bits &= ~B_SETTLED;
    this.clearFast();
  }

  /** A DMA through the pin is dropped (counted, nothing else): released early, refused, or its device hung. */
  dropsDma(): boolean {
    return this.released || this.kind === K_REFUSED || this.dev.hung;
  }

  /** The fast-DMA byte this pin's state allows: 0 when a DMA through it may matter. */
  fastBits(): number {
    if (this.dropsDma()) return FAST_DROP;
    if (this.kind !== K_PIN || !this.settled) return 0;
    return this.wbPages ? FAST_READ : FAST_READ | FAST_WRITE;
  }

  /** Its DMA may matter again (unsettled, released, device hung). */
  clearFast(): void {
    if (this.fast !== null) {
      this.fast.bytes[this.fastAt] = 0;
      this.fast = null;
    }
  }

  /** The event that redirected, revoked or unmapped page i, if one did. */
  causeOf(i: number): CauseLink | null {
    return this.causes?.get(i) ?? null;
  }

  setCause(i: number, by: CauseLink): void {
    (this.causes ??= new Map()).set(i, by);
  }

  /** The pin takes pages: one record per page, nothing held yet. */
  takePages(): void {
    // Sized once and filled by a loop: no builtin call, no growth as push would allocate.
    const n = this.req.npages * PG_STRIDE;
    const pages = new Array<FileState | number | null>(n);
    for (let k = 0; k < n; k += PG_STRIDE) {
      pages[k + PG_FRAME] = NO_FRAME;
      pages[k + PG_GENMODE] = P_ABSENT;
      pages[k + PG_FILE] = null;
      pages[k + PG_FPAGE] = 0;
    }
    this.pages = pages;
  }

  /** The frame page i holds, or remembers after a redirect or revoke (NO_FRAME: none). */
  frame(i: number): number {
    const fr = this.pages[i * PG_STRIDE + PG_FRAME] as number | undefined;
    return fr === undefined ? NO_FRAME : fr;
  }

  setFrame(i: number, fr: number): void {
    this.pages[i * PG_STRIDE + PG_FRAME] = fr;
  }

  /** The frame's generation when page i was pinned. */
  gen(i: number): number {
    const x = this.pages[i * PG_STRIDE + PG_GENMODE] as number;
    // Not x >> 2: a generation may pass 2^29 (the bit mask reads the low 32 bits, which is all the mode needs).
    return (x - (x & MODE_BITS)) / (MODE_BITS + 1);
  }

  /** What page i points at now (P_FRAME, P_DUMMY, P_REVOKED, P_ABSENT, P_ZERO). */
  mode(i: number): number {
    const x = this.pages[i * PG_STRIDE + PG_GENMODE] as number | undefined;
    return x === undefined ? P_ABSENT : x & MODE_BITS;
  }

  setMode(i: number, mode: number): void {
    const k = i * PG_STRIDE + PG_GENMODE;
    const x = this.pages[k] as number;
    this.pages[k] = x - (x & MODE_BITS) + mode;
  }

  /** Page i holds frame `fr`, of generation `gen`. */
  holdFrame(i: number, fr: number, gen: number): void {
    const k = i * PG_STRIDE;
    this.pages[k + PG_FRAME] = fr;
    this.pages[k + PG_GENMODE] = gen * (MODE_BITS + 1) + P_FRAME;
  }

  /** The file page i was when pinned (null: anonymous memory or a private copy). */
  file(i: number): FileState | null {
    return (this.pages[i * PG_STRIDE + PG_FILE] as FileState | null | undefined) ?? null;
  }

  /** Its page index in that file (meaningful when file(i) is not null). */
  fpage(i: number): number {
    return this.pages[i * PG_STRIDE + PG_FPAGE] as number;
  }

  /** Page i is page `fpage` of file `f`. */
  setFilePage(i: number, f: FileState, fpage: number): void {
    const k = i * PG_STRIDE;
    this.pages[k + PG_FILE] = f;
    this.pages[k + PG_FPAGE] = fpage;
  }
}
