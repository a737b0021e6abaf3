// Address spaces and processes in one strategy's replay: mmap (MAP_FIXED
// replaces), munmap (EBUSY under fail), exit and kill tear-down, and page
// migration announced by an mmu_notifier.
import type { IndexedEvent } from '../trace/events.js';
import type { AddressSpace } from '../model/mm.js';
import { NO_FRAME } from '../model/frame.js';
import { P_FRAME, K_PIN, type Pin } from '../model/pin.js';
import { forget, releasePin } from './pins.js';
import type { StrategyReplay } from './state.js';
import type { CauseLink } from './types.js';

export function mmap(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'mmap' }>): void {
  if (st.m.killed.has(ev.pid)) return void st.dropped++;
  const as = st.m.space(ev.pid);
  // MAP_FIXED over an old mapping unmaps it first.
  unmapRange(st, as, ev.addr, ev.addr + ev.len, st.links.get(ev));
  as.add({
    start: ev.addr, end: ev.addr + ev.len,
    file: ev.file === undefined ? null : st.m.file(ev.file),
    off: ev.off ?? 0, shared: ev.shared ?? true,
  });
}

/** Unmaps [start, end): anonymous frames and private copies there go; pinned ones stay with their pins. */
export function unmapRange(st: StrategyReplay, as: AddressSpace, start: number, end: number, by: CauseLink | null): void {
  // Anonymous frames only live inside mappings (the invariants check it): none to drop where nothing was mapped.
  if (!as.removeRange(start, end)) return;
  const v0 = Math.floor(start / st.ps);
  const v1 = Math.ceil(end / st.ps);
  dropAnon(st, as, v0, v1, by);
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
  const end = ev.addr + ev.len;
  if (st.munmapFails) {
    // EBUSY when a long-term pin of this process holds pages of the range.
    let pages = 0;
    let first: Pin | null = null;
    for (const pin of m.pins.values()) {
      if (pin.req.pid !== ev.pid || !pin.req.longterm || pin.kind !== K_PIN || pin.released) continue;
      const lo = Math.max(Math.floor(ev.addr / st.ps), pin.req.vpage0);
      const hi = Math.min(Math.ceil(end / st.ps), pin.req.vpage0 + pin.req.npages);
      for (let v = lo; v < hi; v++) {
        if (pin.mode(v - pin.req.vpage0) === P_FRAME) {
          pages++;
          first ??= pin;
        }
      }
    }
    if (pages > 0) {
      st.emit('op_failed', ev.ts, pages * st.ps, ev.pid, first, null, null, first!.req.link, st.links.get(ev), null, null);
      return;
    }
  }
  const link = st.links.get(ev);
  as.unmappedBy = link;
  unmapRange(st, as, ev.addr, end, link);
}

export function exit(st: StrategyReplay, ev: Extract<IndexedEvent, { type: 'exit' }>): void {
  const m = st.m;
  if (m.killed.has(ev.pid)) {
    // Its pins stay here under handles the trace now reuses: pin() looks them up.
    m.zombies = true;
    return void st.dropped++;
  }
  const pins = m.pins.values();
  for (let k = 0; k < pins.length; k++) {
    const pin = pins[k]!;
    if (pin.req.pid !== ev.pid) continue;
    releasePin(st, pin, ev.ts);
    forget(st, pin);
  }
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
  let blocked = 0;
  let first: Pin | null = null;
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
        blocked++;
        first ??= t.holders(fr).find((p) => p.req.longterm) ?? null;
      }
    }
  }
  if (blocked > 0) {
    st.emit('migration_blocked', ev.ts, blocked * ps, ev.pid, first, first?.file(0)?.name ?? null, null,
      first?.req.link ?? null, link, null, null);
  }
}
