// Truncate and punch hole in one strategy's replay: queued per file
// (i_rwsem), started when they reach the head, waiting for pins (DAX
// short-term pins, lease breaks) or DMA in flight (odp), then completed:
// pinned pages leak, are redirected or revoked, frames are freed.
import type { IndexedEvent } from '../trace/events.js';
import type { FileState } from '../model/file.js';
import { NO_FRAME, type FrameTable } from '../model/frame.js';
import { PendingOp } from '../model/pending.js';
import { P_DUMMY, P_FRAME, P_REVOKED, type Pin } from '../model/pin.js';
import { inflightLink, pruneInflight, type Inflight } from './dma.js';
import { dropAnon } from './mmap.js';
import { T_DEADLINE, T_INFLIGHT, T_RELEASE, type StrategyReplay } from './state.js';

export function fileOp(st: StrategyReplay, ev: IndexedEvent & { file: string }, kind: 'truncate' | 'punch_hole', size: number, off: number, len: number): void {
  const pid = (ev as { pid?: number }).pid;
  if (pid !== undefined && st.m.killed.has(pid)) return void st.dropped++;
  const f = st.m.file(ev.file);
  const op = new PendingOp(kind, f, size, off, len, ev.ts, st.links.get(ev));
  f.queue.push(op);
  // i_rwsem: operations on one file go one at a time.
  if (f.queue.length === 1) startOp(st, op, ev.ts);
  st.drain(ev.ts);
}

/** File pages [lo, hi) the operation removes, as the file is now. */
export function range(st: StrategyReplay, op: PendingOp): [number, number] {
  return [rangeLo(st, op), rangeHi(st, op)];
}

/** range()'s ends apart, for the hot callers (no pair allocated). */
function rangeLo(st: StrategyReplay, op: PendingOp): number {
  return Math.ceil((op.kind === 'truncate' ? op.size : op.off) / st.ps);
}

function rangeHi(st: StrategyReplay, op: PendingOp): number {
  const n = op.file.pageCount(st.ps);
  return op.kind === 'truncate' ? n : Math.min(Math.floor((op.off + op.len) / st.ps), n);
}

/** Frames of file pages [lo, hi), ascending. */
export function framesIn(f: FileState, lo: number, hi: number): number[] {
  return hi > lo ? f.pages.framesIn(lo, hi) : [];
}

/** Live pins (with frame references) on frames of [lo, hi), in pin order. */
export function pinsOn(t: FrameTable, frames: number[]): Pin[] {
  let set: Set<Pin> | null = null;
  // Indexed loops here and below: truncates are rare enough to run unoptimized
  // for a long while, where for-of allocates an iterator result per element.
  for (let k = 0; k < frames.length; k++) {
    const fr = frames[k]!;
    if (t.pinCount(fr) === 0) continue;
    set ??= new Set();
    set.add(t.firstHolder(fr)!);
    const more = t.moreHolders(fr);
    if (more) for (let j = 0; j < more.length; j++) set.add(more[j]!);
  }
  if (!set) return [];
  // By pin event (a pin's own index, so no ties). A short list by insertion:
  // Array.prototype.sort copies it into a workspace first.
  const out = [...set];
  if (out.length > 32) return out.sort((a, b) => a.req.link.index - b.req.link.index);
  for (let k = 1; k < out.length; k++) {
    const p = out[k]!;
    let j = k - 1;
    for (; j >= 0 && out[j]!.req.link.index > p.req.link.index; j--) out[j + 1] = out[j]!;
    out[j + 1] = p;
  }
  return out;
}

export function startOp(st: StrategyReplay, op: PendingOp, t: number): void {
  op.started = true;
  op.t0 = t;
  if (st.ignoresPins) return completeOp(st, op, t);
  const lo = rangeLo(st, op);
  const hi = rangeHi(st, op);
  const frames = framesIn(op.file, lo, hi);
  const ft = st.m.frames;
  const pins = pinsOn(ft, frames);
  const lt = pins.length > 0 ? pins.filter((p) => p.req.longterm) : pins;
  if (lt.length > 0 && st.onTruncate(lt[0]!) === 'fail') {
    // EBUSY for the long-term pinned pages; short-term pins alone would not fail it.
    let ltPages = 0;
    for (let k = 0; k < frames.length; k++) if (ft.ltPins(frames[k]!) > 0) ltPages++;
    st.emit('op_failed', op.ts, ltPages * st.ps, op.link.pid ?? null, lt[0]!, op.file.name, lo,
      op.link, null, null, null, undefined, lt.map((p) => p.req.link));
    op.done = true;
    return next(st, op, t);
  }
  let waits = false;
  for (let k = 0; k < pins.length; k++) {
    const p = pins[k]!;
    let blocks = false;
    if (!p.req.longterm) {
      // dax_layout_busy_page(): a DAX truncate waits for short-term pins (O_DIRECT) to go.
      blocks = op.file.dax;
    } else if (st.onTruncate(p) === 'wait') {
      blocks = true;
      waits = true;
      op.notify(p);
      const resp = st.m.notifyResponse.get(p.req.pid);
      if (resp !== undefined) st.arm(t + resp, { kind: T_RELEASE, op, pin: p });
    }
    if (blocks) {
      (p.blocking ??= []).push(op);
      op.blockers++;
      op.waitOn(p);
    }
  }
  if (op.blockers > 0) op.pinnedPages = blockedPages(ft, frames, op);
  if (waits) st.arm(t + st.opts.leaseBreakNs, { kind: T_DEADLINE, op, pin: null });
  if (st.isOdp && st.inflight.length) {
    // The invalidation waits for DMA in flight on the pages (mmu_interval_read_retry).
    pruneInflight(st, t);
    for (const x of st.inflight) {
      if (x.file === op.file && x.hi >= lo && x.lo < hi && x.end > op.inflightUntil) {
        op.inflightUntil = x.end;
        op.inflightBy = x;
      }
    }
    if (op.inflightUntil > t) {
      // Bytes of the stall: the removed pages that DMA was in flight on, each once.
      const busy = new Set<number>();
      for (const x of st.inflight) {
        if (x.file !== op.file) continue;
        for (let p = Math.max(lo, x.lo); p < Math.min(hi, x.hi + 1); p++) busy.add(p);
      }
      op.pinnedPages = Math.max(op.pinnedPages, busy.size);
      st.arm(op.inflightUntil, { kind: T_INFLIGHT, op, pin: null });
    }
  }
  // Completing now: nothing changed since the frames and pins were looked up.
  if (op.blockers === 0 && op.inflightUntil <= t) completeOp(st, op, t, frames, pins);
}

/** How many of `frames` a pin that `op` waits for holds: the stall's pages (a page cache page's short-term pin does not block). */
function blockedPages(ft: FrameTable, frames: number[], op: PendingOp): number {
  let n = 0;
  for (let k = 0; k < frames.length; k++) {
    const fr = frames[k]!;
    if (ft.pinCount(fr) === 0) continue;
    if (ft.firstHolder(fr)!.blocking?.includes(op)) n++;
    else if (ft.moreHolders(fr)?.some((p) => p.blocking?.includes(op))) n++;
  }
  return n;
}

/** `frames`, `pins`: the operation's frames and the pins on them, when the caller just looked them up. */
export function completeOp(st: StrategyReplay, op: PendingOp, t: number, frames?: number[], pins?: Pin[]): void {
  const m = st.m;
  const ft = m.frames;
  const f = op.file;
  const lo = rangeLo(st, op);
  const hi = rangeHi(st, op);
  frames ??= framesIn(f, lo, hi);
  const keep = !st.ignoresPins;
  if (keep) {
    const held = pins ?? pinsOn(ft, frames);
    for (let k = 0; k < held.length; k++) {
      const p = held[k]!;
      if (!p.req.longterm) continue; // short-term pins keep an orphan until their unpin
      const act = st.onTruncate(p);
      // Blocks, not pin pages: two mappings of one block in a pin leak it once.
      let leaked: Set<number> | null = null;
      let firstPage = -1;
      for (let i = 0; i < p.req.npages; i++) {
        const fr = p.frame(i);
        if (fr === NO_FRAME || p.mode(i) !== P_FRAME || ft.fileId(fr) !== f.id) continue;
        const page = ft.page(fr);
        if (page < lo || page >= hi) continue;
        if (act === 'dummy' || act === 'revoke') {
          m.drop(p, i);
          p.setMode(i, act === 'dummy' ? P_DUMMY : P_REVOKED);
          p.unsettle();
          p.setFrame(i, fr); // remembered for the chain; no reference held
          p.setCause(i, op.link);
        } else if (f.dax) {
          (leaked ??= new Set()).add(fr);
          if (firstPage < 0) firstPage = page;
        }
      }
      if (leaked) (p.leaks ??= []).push({ link: op.link, ts: t, pages: leaked.size, file: f.name, page: firstPage });
    }
  }
  // Ascending page index, the file's pages before private copies: the last freed is the first reused.
  for (let k = 0; k < frames.length; k++) {
    const fr = frames[k]!;
    f.pages.delete(ft.page(fr));
    m.release(fr, op.link, keep);
  }
  if (op.kind === 'truncate') {
    // truncate_pagecache() unmaps private COW copies past the new size too; a hole punch keeps them.
    for (const as of m.spaces.values()) {
      for (let k = 0; k < as.maps.length; k++) {
        const map = as.maps[k]!;
        if (map.file !== f || map.shared) continue;
        const vaLo = map.start + Math.max(0, lo * st.ps - map.off);
        if (vaLo >= map.end) continue;
        dropAnon(st, as, Math.floor(vaLo / st.ps), Math.ceil(map.end / st.ps), op.link);
      }
    }
    f.resize(op.size, st.ps, op.link);
  }
  if (t > op.ts) stall(st, op, t - op.ts, lo, false);
  op.done = true;
  st.retire(op);
  for (let k = 0; k < op.waitedOn.length; k++) {
    const p = op.waitedOn[k]!;
    if (p.blocking) {
      const k = p.blocking.indexOf(op);
      if (k >= 0) p.blocking.splice(k, 1);
    }
  }
  next(st, op, t);
}

export function stall(st: StrategyReplay, op: PendingOp, dur: number, lo: number, pending: boolean): void {
  const inf = op.inflightBy as Inflight | null;
  const pin = op.waitedOn[0] ?? inf?.pin ?? null;
  st.emit('stall', op.ts, op.pinnedPages * st.ps, op.link.pid ?? null, pin, op.file.name, lo,
    inf?.pin.req.link ?? null, inf ? inflightLink(inf) : null, op.link, null, dur, op.waitedOn.map((p) => p.req.link), pending);
}

export function next(st: StrategyReplay, op: PendingOp, t: number): void {
  const q = op.file.queue;
  if (q[0] === op) q.shift();
  const nx = q[0];
  if (nx && !nx.started) startOp(st, nx, t);
}
