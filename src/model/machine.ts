// The machine one strategy replays on: frames, files, address spaces,
// pins, devices. Pure state and the mechanics every strategy shares
// (resolving a page, holding and dropping frame references, freeing);
// what to do with pinned pages is the strategies' decision.
import type { CauseLink } from '../replay/types.js';
import { DeviceState } from './device.js';
import { FileState } from './file.js';
import { DISCONNECTED, DRAM, FREE, FrameTable, NO_FRAME, OWNED, PMEM } from './frame.js';
import { AddressSpace, filePageOf, type Mapping } from './mm.js';
import { LivePins } from './live-pins.js';
import { P_FRAME, type Pin } from './pin.js';

/** Where a virtual page leads now (filled by Machine.resolve, reused to avoid allocation). */
export interface Resolved {
  /** The frame, NO_FRAME when none. */
  frame: number;
  /** The file page, when the page is (still) the file's. */
  file: FileState | null;
  fpage: number;
  /** Mapping found, but the page is past EOF (or nothing is mapped when map is null). */
  map: Mapping | null;
  pastEof: boolean;
  /** A read fault on a hole of a DAX file: the zero page, no frame (file and fpage name the hole). */
  zero: boolean;
}

const NO_DEVICE = '';

export class Machine {
  readonly frames = new FrameTable();
  readonly files = new Map<string, FileState>();
  /** Files made so far: the next one's id (a re-declared file gets a new one, so an id names one FileState). */
  private fileIds = 0;
  readonly spaces = new Map<number, AddressSpace>();
  readonly pins = new LivePins();
  /** The same pins by the replay's slot for their handle (see Replay): DMA finds its pin by index, not by hash. */
  readonly bySlot: (Pin | undefined)[] = [];
  readonly devices = new Map<string, DeviceState>();
  /** pid -> notify_response_ns. */
  readonly notifyResponse = new Map<number, number>();
  readonly killed = new Set<number>();
  /** Pages referenced by live pins (gauge). */
  pinnedPages = 0;
  /** DAX blocks a file gave up that pins still hold (gauge). */
  leakedPages = 0;
  readonly r: Resolved = { frame: NO_FRAME, file: null, fpage: 0, map: null, pastEof: false, zero: false };

  constructor(readonly pageSize: number) {}

  device(name: string | undefined): DeviceState {
    const key = name ?? NO_DEVICE;
    let d = this.devices.get(key);
    if (!d) {
      d = new DeviceState(key, false, false, false, false);
      this.devices.set(key, d);
    }
    return d;
  }

  /** A file used without a declaration is a page-cache file of size 0. */
  file(name: string): FileState {
    return this.files.get(name) ?? this.newFile(name, false, false);
  }

  /** Makes (or declares again, replacing the old one) the file `name`. */
  newFile(name: string, dax: boolean, shmem: boolean): FileState {
    const f = new FileState(this.fileIds++, name, dax, shmem);
    this.files.set(name, f);
    return f;
  }

  space(pid: number): AddressSpace {
    let s = this.spaces.get(pid);
    if (!s) {
      s = new AddressSpace(pid);
      this.spaces.set(pid, s);
    }
    return s;
  }

  /** Allocates storage for file page `page` (a write, a fault on a hole). */
  fillFilePage(f: FileState, page: number, by: CauseLink | null): number {
    const fr = this.frames.alloc(f.pool, by);
    this.frames.setOwner(fr, f, page, -1);
    f.pages.set(page, fr);
    return fr;
  }

  anonFrame(as: AddressSpace, vpage: number, by: CauseLink | null): number {
    let fr = as.anon.get(vpage);
    if (fr === undefined) {
      fr = this.frames.alloc(DRAM, by);
      this.frames.setOwner(fr, null, vpage, as.pid);
      as.anon.set(vpage, fr);
    }
    return fr;
  }

  /**
   * Resolves virtual page `vpage` of `as` as a page fault would. With
   * `fault`, missing pages are filled: anonymous memory, a private copy
   * when `write` hits a MAP_PRIVATE file page (COW), storage for a hole
   * inside EOF. Without it, missing pages stay NO_FRAME.
   */
  resolve(as: AddressSpace | undefined, vpage: number, write: boolean, fault: boolean, by: CauseLink | null): Resolved {
    const r = this.r;
    r.frame = NO_FRAME;
    r.file = null;
    r.fpage = 0;
    r.pastEof = false;
    r.zero = false;
    const va = vpage * this.pageSize;
    const m = as ? as.find(va) : null;
    r.map = m;
    if (!m || !as) return r;
    if (!m.file) {
      r.frame = fault ? this.anonFrame(as, vpage, by) : (as.anon.get(vpage) ?? NO_FRAME);
      return r;
    }
    const fpage = filePageOf(m, va, this.pageSize);
    if (!m.shared) {
      const copy = as.anon.get(vpage);
      if (copy !== undefined) {
        r.frame = copy;
        return r;
      }
    }
    if (fpage >= m.file.pageCount(this.pageSize)) {
      r.pastEof = true;
      return r;
    }
    if (!m.shared && write) {
      // FOLL_WRITE on a private mapping breaks COW: a fresh anonymous frame.
      if (fault) r.frame = this.anonFrame(as, vpage, by);
      return r;
    }
    r.file = m.file;
    r.fpage = fpage;
    let fr = m.file.pages.get(fpage);
    if (fr === NO_FRAME && fault) {
      // dax_iomap_fault() -> dax_load_hole(): a read of a DAX hole maps the zero page; only a write allocates a block.
      if (m.file.dax && !write) {
        r.zero = true;
        return r;
      }
      fr = this.fillFilePage(m.file, fpage, by);
    }
    r.frame = fr;
    return r;
  }

  /** A pin takes a reference on the frame behind one of its pages. */
  hold(pin: Pin, i: number, fr: number): void {
    pin.holdFrame(i, fr, this.frames.gen(fr));
    this.frames.addPin(fr, pin, pin.req.longterm);
    pin.refPages++;
    this.pinnedPages++;
  }

  /** Drops the pin's reference on page i; a disconnected frame nobody holds goes back to its pool. */
  drop(pin: Pin, i: number): void {
    const fr = pin.frame(i);
    if (fr === NO_FRAME || pin.mode(i) !== P_FRAME) return;
    const t = this.frames;
    t.removePin(fr, pin, pin.req.longterm);
    pin.setFrame(i, NO_FRAME);
    pin.refPages--;
    this.pinnedPages--;
    if (t.state(fr) === DISCONNECTED && t.pinCount(fr) === 0) {
      if (t.pool(fr) === PMEM) this.leakedPages--;
      t.free(fr, null);
    }
  }

  dropAll(pin: Pin): void {
    if (pin.refPages === 0) return; // nothing held (an ODP mirror, a refused pin, released already)
    for (let i = 0; i < pin.req.npages; i++) this.drop(pin, i);
  }

  /**
   * The owner lets go of a frame. `keepPinned`: a frame pins hold becomes
   * disconnected (pin's world); otherwise it is freed at once (`none`).
   */
  release(fr: number, by: CauseLink | null, keepPinned: boolean): void {
    const t = this.frames;
    if (keepPinned && t.pinCount(fr) > 0) {
      t.disconnect(fr, by);
      if (t.pool(fr) === PMEM) this.leakedPages++;
    } else {
      t.free(fr, by);
    }
  }

  /** The invariants of the model; throws on the first broken one. */
  checkInvariants(): void {
    const t = this.frames;
    const seenOwned = new Set<number>();
    for (const f of this.files.values()) {
      for (const [p, fr] of f.pages) {
        if (t.state(fr) !== OWNED || t.file(fr) !== f || t.fileId(fr) !== f.id || t.page(fr) !== p) throw new Error(`file ${f.name} page ${p}: frame ${fr} not owned by it`);
        if (seenOwned.has(fr)) throw new Error(`frame ${fr} owned twice`);
        seenOwned.add(fr);
      }
    }
    for (const as of this.spaces.values()) {
      for (const [vp, fr] of as.anon.entries()) {
        if (!as.find(vp * this.pageSize)) throw new Error(`pid ${as.pid} page ${vp}: anonymous frame outside every mapping`);
        if (t.state(fr) !== OWNED || t.file(fr) !== null || t.fileId(fr) !== -1 || t.pid(fr) !== as.pid || t.page(fr) !== vp) throw new Error(`pid ${as.pid} page ${vp}: frame ${fr} not its anonymous memory`);
        if (seenOwned.has(fr)) throw new Error(`frame ${fr} owned twice`);
        seenOwned.add(fr);
      }
    }
    const refs = new Map<number, number>();
    let pinned = 0;
    for (const pin of this.pins.values()) {
      if (pin.refPages < 0) throw new Error(`pin ${pin.req.handle}: negative page count`);
      for (let i = 0; i < pin.req.npages; i++) {
        const fr = pin.frame(i);
        if (fr !== NO_FRAME && pin.mode(i) === P_FRAME) {
          refs.set(fr, (refs.get(fr) ?? 0) + 1);
          pinned++;
        }
      }
    }
    if (pinned !== this.pinnedPages) throw new Error(`pinned pages ${this.pinnedPages} != ${pinned} referenced`);
    const inPool = new Set<number>();
    for (const pool of [DRAM, PMEM] as const) {
      const st = t.stackOf(pool);
      for (const fr of st) {
        if (t.pool(fr) !== pool) throw new Error(`frame ${fr} in the other pool's free stack`);
        inPool.add(fr);
      }
      if (new Set(st).size !== st.length) throw new Error('a frame is twice in a free pool');
    }
    let leaked = 0;
    for (let fr = 0; fr < t.count; fr++) {
      const holders = t.holders(fr);
      const count = t.pinCount(fr);
      const lt = t.ltPins(fr);
      const state = t.state(fr);
      if (holders.length !== count) throw new Error(`frame ${fr}: ${holders.length} holders listed, count ${count}`);
      if (lt < 0 || lt > count) throw new Error(`frame ${fr}: long-term pin count ${lt}`);
      if (holders.filter((p) => p.req.longterm).length !== lt) throw new Error(`frame ${fr}: long-term pin count ${lt} but ${holders.filter((p) => p.req.longterm).length} listed`);
      if ((refs.get(fr) ?? 0) !== count) throw new Error(`frame ${fr}: ${count} pin refs recorded, ${refs.get(fr) ?? 0} held`);
      if (state !== OWNED && state !== DISCONNECTED && state !== FREE) throw new Error(`frame ${fr}: state ${state}`);
      if (state === OWNED && !seenOwned.has(fr)) throw new Error(`frame ${fr}: owned but no file or process maps it`);
      if (state !== OWNED && seenOwned.has(fr)) throw new Error(`frame ${fr}: not owned but mapped`);
      if (state === FREE && !inPool.has(fr)) throw new Error(`frame ${fr}: free but not in its pool`);
      if (state !== FREE && inPool.has(fr)) throw new Error(`frame ${fr}: in the pool but ${state}`);
      if (state !== OWNED && (t.file(fr) !== null || t.fileId(fr) !== -1 || t.pid(fr) !== -1)) throw new Error(`frame ${fr}: ${state} but still names an owner`);
      if (state === DISCONNECTED && count === 0) throw new Error(`frame ${fr}: disconnected and unpinned (leaked for good)`);
      if (state === DISCONNECTED && t.pool(fr) === PMEM) leaked++;
    }
    if (leaked !== this.leakedPages) throw new Error(`leaked pages ${this.leakedPages} != ${leaked}`);
  }
}
