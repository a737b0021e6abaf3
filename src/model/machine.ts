// The machine one strategy replays on: frames, files, address spaces,
// pins, devices. Pure state and the mechanics every strategy shares
// (resolving a page, holding and dropping frame references, freeing);
// what to do with pinned pages is the strategies' decision.
import type { CauseLink } from '../replay/types.js';
import { DeviceState } from './device.js';
import { FileState } from './file.js';
import { DISCONNECTED, DRAM, FREE, FramePools, OWNED, PMEM, type Frame } from './frame.js';
import { AddressSpace, type Mapping } from './mm.js';
import { LivePins } from './live-pins.js';
import { P_FRAME, type Pin } from './pin.js';

/** Where a virtual page leads now (filled by Machine.resolve, reused to avoid allocation). */
export interface Resolved {
  frame: Frame | null;
  /** The file page, when the page is (still) the file's. */
  file: FileState | null;
  fpage: number;
  /** Mapping found, but the page is past EOF (or nothing is mapped when map is null). */
  map: Mapping | null;
  pastEof: boolean;
}

const NO_DEVICE = '';

export class Machine {
  readonly pools = new FramePools();
  readonly files = new Map<string, FileState>();
  readonly spaces = new Map<number, AddressSpace>();
  readonly pins = new LivePins();
  /** Some process was killed and its exit dropped: pins the trace released may still be here, by handle. */
  zombies = false;
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
  readonly r: Resolved = { frame: null, file: null, fpage: 0, map: null, pastEof: false };

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
    let f = this.files.get(name);
    if (!f) {
      f = new FileState(this.files.size, name, false, false);
      this.files.set(name, f);
    }
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
  fillFilePage(f: FileState, page: number, by: CauseLink | null): Frame {
    const fr = this.pools.alloc(f.pool, by);
    fr.file = f;
    fr.page = page;
    fr.pid = -1;
    f.pages.set(page, fr);
    return fr;
  }

  anonFrame(as: AddressSpace, vpage: number, by: CauseLink | null): Frame {
    let fr = as.anon.get(vpage);
    if (!fr) {
      fr = this.pools.alloc(DRAM, by);
      fr.file = null;
      fr.page = vpage;
      fr.pid = as.pid;
      as.anon.set(vpage, fr);
    }
    return fr;
  }

  /**
   * Resolves virtual page `vpage` of `as` as a page fault would. With
   * `fault`, missing pages are filled: anonymous memory, a private copy
   * when `write` hits a MAP_PRIVATE file page (COW), storage for a hole
   * inside EOF. Without it, missing pages stay null.
   */
  resolve(as: AddressSpace | undefined, vpage: number, write: boolean, fault: boolean, by: CauseLink | null): Resolved {
    const r = this.r;
    r.frame = null;
    r.file = null;
    r.fpage = 0;
    r.pastEof = false;
    const va = vpage * this.pageSize;
    const m = as ? as.find(va) : null;
    r.map = m;
    if (!m || !as) return r;
    if (!m.file) {
      r.frame = fault ? this.anonFrame(as, vpage, by) : (as.anon.get(vpage) ?? null);
      return r;
    }
    const fpage = Math.floor((m.off + (va - m.start)) / this.pageSize);
    if (!m.shared) {
      const copy = as.anon.get(vpage);
      if (copy) {
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
    let fr = m.file.pages.get(fpage) ?? null;
    if (!fr && fault) fr = this.fillFilePage(m.file, fpage, by);
    r.frame = fr;
    return r;
  }

  /** A pin takes a reference on the frame behind one of its pages. */
  hold(pin: Pin, i: number, fr: Frame): void {
    pin.holdFrame(i, fr);
    fr.addPin(pin);
    if (pin.req.longterm) fr.ltPins++;
    pin.refPages++;
    this.pinnedPages++;
  }

  /** Drops the pin's reference on page i; a disconnected frame nobody holds goes back to its pool. */
  drop(pin: Pin, i: number): void {
    const fr = pin.frame(i);
    if (!fr || pin.mode(i) !== P_FRAME) return;
    fr.removePin(pin);
    if (pin.req.longterm) fr.ltPins--;
    pin.setFrame(i, null);
    pin.refPages--;
    this.pinnedPages--;
    if (fr.state === DISCONNECTED && fr.pinCount === 0) {
      if (fr.pool === PMEM) this.leakedPages--;
      this.pools.free(fr, null);
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
  release(fr: Frame, by: CauseLink | null, keepPinned: boolean): void {
    if (keepPinned && fr.pinCount > 0) {
      this.pools.disconnect(fr, by);
      if (fr.pool === PMEM) this.leakedPages++;
    } else {
      this.pools.free(fr, by);
    }
  }

  /** The invariants of the model; throws on the first broken one. */
  checkInvariants(): void {
    const seenOwned = new Set<Frame>();
    for (const f of this.files.values()) {
      for (const [p, fr] of f.pages) {
        if (fr.state !== OWNED || fr.file !== f || fr.page !== p) throw new Error(`file ${f.name} page ${p}: frame ${fr.id} not owned by it`);
        if (seenOwned.has(fr)) throw new Error(`frame ${fr.id} owned twice`);
        seenOwned.add(fr);
      }
    }
    for (const as of this.spaces.values()) {
      for (const [vp, fr] of as.anon.entries()) {
        if (!as.find(vp * this.pageSize)) throw new Error(`pid ${as.pid} page ${vp}: anonymous frame outside every mapping`);
        if (fr.state !== OWNED || fr.file !== null || fr.pid !== as.pid || fr.page !== vp) throw new Error(`pid ${as.pid} page ${vp}: frame ${fr.id} not its anonymous memory`);
        if (seenOwned.has(fr)) throw new Error(`frame ${fr.id} owned twice`);
        seenOwned.add(fr);
      }
    }
    const refs = new Map<Frame, number>();
    let pinned = 0;
    for (const pin of this.pins.values()) {
      if (pin.refPages < 0) throw new Error(`pin ${pin.req.handle}: negative page count`);
      for (let i = 0; i < pin.req.npages; i++) {
        const fr = pin.frame(i);
        if (fr && pin.mode(i) === P_FRAME) {
          refs.set(fr, (refs.get(fr) ?? 0) + 1);
          pinned++;
        }
      }
    }
    if (pinned !== this.pinnedPages) throw new Error(`pinned pages ${this.pinnedPages} != ${pinned} referenced`);
    let leaked = 0;
    for (const fr of this.pools.all) {
      const holders = fr.holders();
      if (holders.length !== fr.pinCount) throw new Error(`frame ${fr.id}: ${holders.length} holders listed, count ${fr.pinCount}`);
      if (fr.ltPins < 0 || fr.ltPins > fr.pinCount) throw new Error(`frame ${fr.id}: long-term pin count ${fr.ltPins}`);
      if (holders.filter((p) => p.req.longterm).length !== fr.ltPins) throw new Error(`frame ${fr.id}: long-term pin count ${fr.ltPins} but ${holders.filter((p) => p.req.longterm).length} listed`);
      if ((refs.get(fr) ?? 0) !== fr.pinCount) throw new Error(`frame ${fr.id}: ${fr.pinCount} pin refs recorded, ${refs.get(fr) ?? 0} held`);
      const states = (fr.state === OWNED ? 1 : 0) + (fr.state === DISCONNECTED ? 1 : 0) + (fr.state === FREE ? 1 : 0);
      if (states !== 1) throw new Error(`frame ${fr.id}: state ${fr.state}`);
      if (fr.state === OWNED && !seenOwned.has(fr)) throw new Error(`frame ${fr.id}: owned but no file or process maps it`);
      if (fr.state !== OWNED && seenOwned.has(fr)) throw new Error(`frame ${fr.id}: not owned but mapped`);
      if (fr.state === FREE && !fr.inFreeStack) throw new Error(`frame ${fr.id}: free but not in its pool`);
      if (fr.state !== FREE && fr.inFreeStack) throw new Error(`frame ${fr.id}: in the pool but ${fr.state}`);
      if (fr.state === DISCONNECTED && fr.pinCount === 0) throw new Error(`frame ${fr.id}: disconnected and unpinned (leaked for good)`);
      if (fr.state === DISCONNECTED && fr.pool === PMEM) leaked++;
    }
    for (const pool of [DRAM, PMEM] as const) {
      const st = this.pools.stackOf(pool);
      if (new Set(st).size !== st.length) throw new Error('a frame is twice in a free pool');
    }
    if (leaked !== this.leakedPages) throw new Error(`leaked pages ${this.leakedPages} != ${leaked}`);
  }
}
