// Address spaces and processes in one strategy's replay: mmap (MAP_FIXED
// replaces), munmap (EBUSY under fail), exit and kill tear-down, and page
// migration announced by an mmu_notifier.
import type { IndexedEvent } from '../trace/events.js';
import type { AddressSpace } from '../model/mm.js';
import { NO_FRAME } from '../model/frame.js';
import { P_FRAME, K_ODP, K_PIN, type Pin } from '../model/pin.js';
import { fileName, forgetInflight, pageOf } from './dma.js';
import { forget, releasePin } from './pins.js';
import type { StrategyReplay } from './state.js';
import type { CauseLink } from './types.js';

export function mmap(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'mmap' }>): void {
  if (st.m.killed.has(ev.pid)) return void st.dropped++;
  const as = st.m.space(ev.pid);
  const ps = st.ps;
  // Whole pages, as the kernel maps them: a range covers every page it
  // touches, and the first of them maps the page `off` falls in.
  const v0 = Math.floor(ev.addr / ps);
  const v1 = Math.ceil((ev.addr + ev.len) / ps);
  // MAP_FIXED over an old mapping unmaps it first, so under fail it can hit EBUSY as munmap does.
  if (!unmapPages(st, as, ev.pid, ev.ts, v0, v1, st.links.get(ev))) return;
  const start = v0 * ps;
  const end = v1 * ps;
  as.add({
    start, end,
    file: ev.file === undefined ? null : st.m.file(ev.file),
    off: Math.floor((ev.off ?? 0) / ps) * ps, shared: ev.shared ?? true,
  });
}

/**
 * Unmaps virtual pages [v0, v1) of `pid` (munmap, or MAP_FIXED replacing
 * them): false when `fail` refuses it with EBUSY. Anonymous frames and
 * private copies there go, pinned ones stay with their pins; odp mirrors
 * lose the pages and the DMA in flight through them is settled.
 */
function unmapPages(st: StrategyReplay, as: AddressSpace, pid: number, ts: number, v0: number, v1: number, by: CauseLink): boolean {
  const ps = st.ps;
  // Nothing mapped there: nothing to fail on, unmap or tell a mirror (anonymous frames only live inside mappings).
  if (!as.mapsAny(v0 * ps, v1 * ps)) return true;
  if (st.munmapFails && busy(st, as, pid, ts, v0, v1, by)) return false;
  if (st.isOdp) {
    markUnmapped(st, pid, v0, v1, by);
    forgetInflight(st, pid, v0, v1);
  }
  as.removeRange(v0 * ps, v1 * ps);
  dropAnon(st, as, v0, v1, by);
  return true;
}

/** Releases anonymous frames of virtual pages [v0, v1) of `as`, lowest first. */
export function dropAnon(st: StrategyReplay, as: AddressSpace, v0: number, v1: number, by: CauseLink | null): void {
  if (as.anon.size === 0 || v1 <= v0) return;
  const keep = !st.ignoresPins;
  if (v1 - v0 <= as.anon.size) {
    for (let v = v0; v < v1; v++) {
      const fr = as.anon.get(v);
      if (fr !== undefined) {
        as.anon.delete(v);
        st.m.release(fr, by, keep);
      }
    }
  } else {
    const hit = as.anon.pagesIn(v0, v1);
    for (let k = 0; k < hit.length; k++) {
      const v = hit[k]!;
      const fr = as.anon.get(v)!;
      as.anon.delete(v);
      st.m.release(fr, by, keep);
    }
  }
}

export function munmap(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'munmap' }>): void {
  const m = st.m;
  if (m.killed.has(ev.pid)) return void st.dropped++;
  const as = m.spaces.get(ev.pid);
  if (!as) return;
  // munmap() takes whole pages: every page the range touches.
  unmapPages(st, as, ev.pid, ev.ts, Math.floor(ev.addr / st.ps), Math.ceil((ev.addr + ev.len) / st.ps), st.links.get(ev));
}

/**
 * fail: EBUSY when a long-term pin of the process took one of the virtual
 * pages [v0, v1) and still holds the frame mapped there now (a mapping
 * replaced since is not the pinned one). One finding: the pages once each.
 */
function busy(st: StrategyReplay, as: AddressSpace, pid: number, ts: number, v0: number, v1: number, link: CauseLink): boolean {
  const m = st.m;
  let pages: Set<number> | null = null;
  const holders: Pin[] = [];
  let firstV = Infinity, firstPin: Pin | null = null;
  for (const pin of m.pins.values()) {
    if (pin.req.pid !== pid || !pin.req.longterm || pin.kind !== K_PIN || pin.released) continue;
    const lo = Math.max(v0, pin.req.vpage0);
    const hi = Math.min(v1, pin.req.vpage0 + pin.req.npages);
    let holds = false;
    for (let v = lo; v < hi; v++) {
      const i = v - pin.req.vpage0;
      if (pin.mode(i) !== P_FRAME || pin.frame(i) !== m.resolve(as, v, false, false, null).frame) continue;
      holds = true;
      (pages ??= new Set()).add(v);
      if (v < firstV) {
        firstV = v;
        firstPin = pin;
      }
    }
    if (holds) holders.push(pin);
  }
  if (!pages) return false;
  const i = firstV - firstPin!.req.vpage0;
  st.emit('op_failed', ts, pages.size * st.ps, pid, holders[0]!, fileName(firstPin!, i), pageOf(firstPin!, i),
    null, link, null, null, undefined, holders.map((p) => p.req.link));
  return true;
}

/** odp: the mirrors of the process's registrations lose [v0, v1); a later fault there names this munmap. */
function markUnmapped(st: StrategyReplay, pid: number, v0: number, v1: number, link: CauseLink): void {
  for (const pin of st.m.pins.values()) {
    if (pin.req.pid !== pid || pin.kind !== K_ODP) continue;
    const lo = Math.max(v0, pin.req.vpage0);
    const hi = Math.min(v1, pin.req.vpage0 + pin.req.npages);
    for (let v = lo; v < hi; v++) pin.setCause(v - pin.req.vpage0, link);
  }
}

export function exit(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'exit' }>): void {
  const m = st.m;
  const killed = m.killed.delete(ev.pid);
  // Pins released early still hold their handles until now.
  const pins = m.pins.values();
  for (let k = 0; k < pins.length; k++) {
    const pin = pins[k]!;
    if (pin.req.pid !== ev.pid) continue;
    releasePin(st, pin, ev.ts);
    forget(st, pin);
  }
  // A killed process's exit is its own last event, dropped; the pid is free for a new process.
  if (killed) return void st.dropped++;
  tearDown(st, ev.pid, st.links.get(ev));
  st.drain(ev.ts);
}

/** The process's address space goes (exit, kill). */
export function tearDown(st: StrategyReplay, pid: number, by: CauseLink): void {
  const as = st.m.spaces.get(pid);
  if (!as) return;
  as.maps.length = 0;
  const keys = as.anon.pagesIn(-Infinity, Infinity);
  for (let k = 0; k < keys.length; k++) {
    const v = keys[k]!;
    const fr = as.anon.get(v)!;
    as.anon.delete(v);
    st.m.release(fr, by, !st.ignoresPins);
  }
  st.m.spaces.delete(pid);
}

export function notifier(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'mmu_notifier' }>): void {
  const m = st.m;
  if (m.killed.has(ev.pid)) return void st.dropped++;
  // Only migration changes anything: other invalidations make an ODP
  // mirror re-fault, which the model does on every ODP DMA anyway.
  if (ev.event !== 'migrate' || st.isOdp) return;
  const as = m.spaces.get(ev.pid);
  if (!as) return;
  const ps = st.ps;
  const link = st.links.get(ev);
  const t = m.frames;
  // Physical pages: one mapped at two addresses of the range is one page that cannot move.
  const blocked = new Set<number>();
  let first: Pin | null = null;
  let firstFile: string | null = null;
  let firstPage: number | null = null;
  for (const map of [...as.maps]) {
    const lo = Math.max(map.start, ev.start);
    const hi = Math.min(map.end, ev.end);
    if (lo >= hi) continue;
    for (let v = Math.floor(lo / ps); v * ps < hi; v++) {
      const r = m.resolve(as, v, false, false, null);
      const fr = r.frame;
      if (fr === NO_FRAME || t.pinCount(fr) === 0) continue;
      if (st.ignoresPins) {
        // migrate_pages(): the new frame is taken before the old one is freed.
        const nf = t.alloc(t.pool(fr), link);
        const file = t.file(fr);
        if (file) {
          t.setOwner(nf, file, t.page(fr), -1);
          file.pages.set(t.page(fr), nf);
        } else {
          t.setOwner(nf, null, v, as.pid);
          as.anon.set(v, nf);
        }
        t.free(fr, link);
      } else if (t.ltPins(fr) > 0) {
        blocked.add(fr);
        if (!first) {
          first = t.holders(fr).find((p) => p.req.longterm)!;
          // Named as a DMA finding names its page: the file page, or the page within the pin for anonymous memory.
          firstFile = r.file?.name ?? null;
          firstPage = r.file ? r.fpage : v - first.req.vpage0;
        }
      }
    }
  }
  if (blocked.size > 0) {
    st.emit('migration_blocked', ev.ts, blocked.size * ps, ev.pid, first, firstFile, firstPage,
      first?.req.link ?? null, link, null, null);
  }
}
