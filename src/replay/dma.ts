// DMA in one strategy's replay: a pinned page's frame reused, freed,
// redirected or revoked under the device; an ODP mirror re-faulting
// through the address space as it is now (and the DMA in flight an
// invalidation must wait for).
import type { IndexedEvent } from '../trace/events.js';
import type { FileState } from '../model/file.js';
import { NO_FRAME, OWNED } from '../model/frame.js';
import { filePageOf } from '../model/mm.js';
import { K_ODP, P_DUMMY, P_FRAME, P_REVOKED, P_ZERO, type Pin } from '../model/pin.js';
import { eventLink } from './links.js';
import { remarkFast } from './pins.js';
import type { StrategyReplay } from './state.js';
import type { CauseLink } from './types.js';

/**
 * odp: a DMA in flight on file pages [lo, hi] until `end`, reached through
 * the registration's virtual pages [vlo, vhi] (one record per run of
 * consecutive pages of one file). The dma event's index and ts stand for
 * its causal link, built only if a stall names it (most transfers end
 * unnoticed; a link each was a third of odp's garbage).
 */
export interface Inflight {
  end: number;
  pin: Pin;
  index: number;
  ts: number;
  file: FileState;
  lo: number;
  hi: number;
  vlo: number;
  vhi: number;
}

/** The causal link of the dma event behind `x` (a dma event names no file or pid: linkOf gives the same). */
export function inflightLink(x: Inflight): CauseLink {
  return eventLink(x.index, 'dma', x.ts);
}

/** `slot`: the replay's slot for the pin's handle; `write`: ev.dir is "write" (both looked at once for every strategy). */
export function dma(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'dma' }>, slot: number, write: boolean): void {
  const pin = st.m.bySlot[slot];
  if (pin === undefined || pin.dropsDma()) return void st.dropped++;
  if (pin.kind === K_ODP) return odpDma(st, pin, ev);
  const ps = st.ps;
  // Bytes from the start of the pin's first page: page i is [i * ps, (i + 1) * ps).
  const start = pin.req.head + ev.off;
  const end = Math.min(start + ev.len, pin.req.head + pin.req.len);
  if (pin.settled) {
    // Nothing moved under the pin: only a write into a page under writeback can matter.
    if (write && pin.wbPages) settledWrite(st, pin, ev, start, end);
    return;
  }
  const t = st.m.frames;
  let reusedB = 0, reusedI = -1, lostB = 0, lostI = -1, faultB = 0, faultI = -1, raceB = 0, raceI = -1;
  for (let i = Math.floor(start / ps); i * ps < end; i++) {
    const b = Math.min(end, (i + 1) * ps) - Math.max(start, i * ps);
    const mode = pin.mode(i);
    if (mode === P_FRAME) {
      const fr = pin.frame(i);
      if (t.state(fr) === OWNED) {
        if (t.gen(fr) !== pin.gen(i)) {
          reusedB += b;
          if (reusedI < 0) reusedI = i;
        } else if (write && t.fileId(fr) >= 0 && racesWriteback(t.file(fr)!, t.page(fr))) {
          raceB += b;
          if (raceI < 0) raceI = i;
        }
      } else {
        lostB += b;
        if (lostI < 0) lostI = i;
      }
    } else if (mode === P_DUMMY) {
      lostB += b;
      if (lostI < 0) lostI = i;
    } else if (mode === P_REVOKED) {
      faultB += b;
      if (faultI < 0) faultI = i;
    } else if (mode === P_ZERO && (write || !stillHole(pin, i, ps))) {
      // Zeros are the file's data only while its page is a hole; a write lands in the shared zero page.
      lostB += b;
      if (lostI < 0) lostI = i;
    } // P_ABSENT: nothing was pinned there; GUP returned fewer pages
  }
  if (reusedB === 0 && lostB === 0 && faultB === 0 && raceB === 0) return;
  if (reusedB > 0) {
    const fr = pin.frame(reusedI);
    st.emit(write ? 'corruption' : 'info_leak', ev.ts, reusedB, pin.req.pid, pin, fileName(pin, reusedI),
      pageOf(pin, reusedI), pin.req.link, t.freedBy(fr), t.reusedBy(fr), ev);
  }
  if (lostB > 0) {
    const fr = pin.frame(lostI);
    const why = pin.mode(lostI) === P_DUMMY ? pin.causeOf(lostI) : (fr === NO_FRAME ? null : t.freedBy(fr));
    st.emit(write ? 'lost_write' : 'stale_read', ev.ts, lostB, pin.req.pid, pin, fileName(pin, lostI),
      pageOf(pin, lostI), pin.req.link, why, null, ev);
  }
  if (faultB > 0) {
    st.emit('dma_fault', ev.ts, faultB, pin.req.pid, pin, fileName(pin, faultI), pageOf(pin, faultI),
      pin.req.link, pin.causeOf(faultI), null, ev);
    if (!pin.dev.faultTolerant) {
      pin.dev.hung = true;
      // Every pin through the hung device now drops its DMA: none may be skipped as a no-op.
      for (const p of st.m.pins.values()) if (p.dev === pin.dev) remarkFast(st, p);
      st.emit('device_hang', ev.ts, 0, pin.req.pid, pin, null, null, pin.req.link, pin.causeOf(faultI), null, ev);
    }
  }
  if (raceB > 0) {
    // The frame is still its file page (checked above): that page's window.
    const fr = pin.frame(raceI);
    st.emit('writeback_race', ev.ts, raceB, pin.req.pid, pin, fileName(pin, raceI), pageOf(pin, raceI),
      pin.req.link, t.file(fr)!.writeback.window(t.page(fr)), null, ev);
  }
}

/** A write DMA through a settled pin: each page's frame is still its file's page, so the pin's own record says which. `start`, `end`: bytes from the pin's first page. */
function settledWrite(st: StrategyReplay, pin: Pin, ev: Extract<IndexedEvent, { type: 'dma' }>, start: number, end: number): void {
  const ps = st.ps;
  let raceB = 0, raceI = -1;
  for (let i = Math.floor(start / ps); i * ps < end; i++) {
    const f = pin.file(i);
    if (f && racesWriteback(f, pin.fpage(i))) {
      raceB += Math.min(end, (i + 1) * ps) - Math.max(start, i * ps);
      if (raceI < 0) raceI = i;
    }
  }
  if (raceB > 0) {
    st.emit('writeback_race', ev.ts, raceB, pin.req.pid, pin, fileName(pin, raceI), pageOf(pin, raceI),
      pin.req.link, pin.file(raceI)!.writeback.window(pin.fpage(raceI)), null, ev);
  }
}

/** Page i of the pin (pinned on the zero page) is still a hole inside its file's EOF. */
function stillHole(pin: Pin, i: number, ps: number): boolean {
  const f = pin.file(i)!;
  const p = pin.fpage(i);
  return p < f.pageCount(ps) && f.pages.get(p) === NO_FRAME;
}

/** Page `page` of `f` is under writeback. */
function racesWriteback(f: FileState, page: number): boolean {
  return f.writeback.size > 0 && f.writeback.has(page);
}

function pushInflight(st: StrategyReplay, inf: Inflight, now: number): void {
  // Keep only transfers still in flight: memory follows concurrency, not events.
  if (st.inflight.length >= 64) pruneInflight(st, now);
  st.inflight.push(inf);
}

/** munmap under odp: the invalidation of [v0, v1) in `pid` settles the DMA in flight through it (nothing mapped is left to wait for). */
export function forgetInflight(st: StrategyReplay, pid: number, v0: number, v1: number): void {
  const a = st.inflight;
  let w = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!;
    if (!(x.pin.req.pid === pid && x.vhi >= v0 && x.vlo < v1)) a[w++] = x;
  }
  a.length = w;
}

/** Drops transfers done by `now`, in place (kept in arrival order). */
export function pruneInflight(st: StrategyReplay, now: number): void {
  const a = st.inflight;
  let w = 0;
  for (let k = 0; k < a.length; k++) if (a[k]!.end > now) a[w++] = a[k]!;
  a.length = w;
}

export function fileName(pin: Pin, i: number): string | null {
  return pin.file(i)?.name ?? null;
}

export function pageOf(pin: Pin, i: number): number {
  return pin.file(i) ? pin.fpage(i) : i;
}

/** An ODP registration's DMA re-faults through the address space as it is now. */
export function odpDma(st: StrategyReplay, pin: Pin, ev: Extract<IndexedEvent, { type: 'dma' }>): void {
  const m = st.m;
  const ps = st.ps;
  const as = m.spaces.get(pin.req.pid);
  const start = pin.req.addr + ev.off;
  const end = Math.min(start + ev.len, pin.req.addr + pin.req.len);
  const write = ev.dir === 'write';
  let faultB = 0, faultI = -1, faultFile: string | null = null, faultPage = 0;
  let why: CauseLink | null = null;
  let inf: Inflight | null = null;
  const dur = ev.dur ?? 0;
  let link: CauseLink | null = null;
  for (let v = Math.floor(start / ps); v * ps < end; v++) {
    const b = Math.min(end, (v + 1) * ps) - Math.max(start, v * ps);
    // A write fault fills a hole inside EOF; a read of a hole sees zeros.
    const r = write ? m.resolve(as, v, true, true, (link ??= st.links.get(ev))) : m.resolve(as, v, false, false, null);
    if (!r.map || r.pastEof) {
      faultB += b;
      if (faultI < 0) {
        faultI = v - pin.req.vpage0;
        faultFile = r.map?.file?.name ?? null;
        faultPage = r.map?.file ? filePageOf(r.map, v * ps, ps) : faultI;
        why = r.map ? (r.map.file?.cutBy(faultPage) ?? null) : pin.causeOf(faultI);
      }
    } else if (dur > 0 && r.file) {
      if (inf && inf.file === r.file && r.fpage === inf.hi + 1 && v === inf.vhi + 1) {
        inf.hi = r.fpage;
        inf.vhi = v;
      } else {
        // Another file, or a jump in the file: a record of its own, so a truncate waits only for pages really in flight.
        if (inf) pushInflight(st, inf, ev.ts);
        inf = { end: ev.ts + dur, pin, index: ev.index, ts: ev.ts, file: r.file, lo: r.fpage, hi: r.fpage, vlo: v, vhi: v };
      }
    }
  }
  if (inf) pushInflight(st, inf, ev.ts);
  if (faultB > 0) {
    st.emit('dma_fault', ev.ts, faultB, pin.req.pid, pin, faultFile, faultPage, pin.req.link, why, null, ev);
  }
}
