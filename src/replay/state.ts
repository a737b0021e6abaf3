// One strategy's replay: its own machine, fed every event in trace order.
// Page faults, DMA, frees and timers are common; what to do with pinned
// pages a truncate removes is the policy's (src/strategies/).
import type { IndexedEvent } from '../trace/events.js';
import type { StrategyGauges } from '../analysis/collector.js';
import { DeviceState } from '../model/device.js';
import { FileState } from '../model/file.js';
import { DRAM, OWNED, type Frame } from '../model/frame.js';
import { Machine } from '../model/machine.js';
import type { AddressSpace } from '../model/mm.js';
import { PendingOp } from '../model/pending.js';
import { K_ODP, K_PIN, K_REFUSED, P_ABSENT, P_DUMMY, P_FRAME, P_REVOKED, Pin } from '../model/pin.js';
import { TimerQueue } from '../model/timer.js';
import type { StrategyPolicy } from '../strategies/policy.js';
import type { CauseLink, Finding, FindingKind, FindingSink } from './types.js';

const T_RELEASE = 0;
const T_DEADLINE = 1;
const T_INFLIGHT = 2;
interface TimerWhat {
  kind: typeof T_RELEASE | typeof T_DEADLINE | typeof T_INFLIGHT;
  op: PendingOp;
  pin: Pin | null;
}

/** odp: a DMA in flight on file pages [lo, hi] until `end`. */
interface Inflight {
  end: number;
  pin: Pin;
  link: CauseLink;
  file: FileState;
  lo: number;
  hi: number;
}

export interface StateOptions {
  pageSize: number;
  leaseBreakNs: number;
}

export function linkOf(ev: IndexedEvent): CauseLink {
  const l: CauseLink = { index: ev.index, type: ev.type, ts: ev.ts };
  if ('file' in ev && typeof ev.file === 'string') l.file = ev.file;
  if ('pid' in ev && typeof ev.pid === 'number') l.pid = ev.pid;
  return l;
}

/**
 * The causal link of the event being replayed, built once and shared by
 * every strategy (links are never mutated).
 */
export class LinkCache {
  private ev: IndexedEvent | null = null;
  private l: CauseLink | null = null;
  get(ev: IndexedEvent): CauseLink {
    if (this.ev !== ev) {
      this.ev = ev;
      this.l = linkOf(ev);
    }
    return this.l!;
  }
}

export class StrategyReplay {
  readonly m: Machine;
  dropped = 0;
  readonly timers = new TimerQueue<TimerWhat>();
  private readonly ready: PendingOp[] = [];
  private deadTimers = 0;
  private inflight: Inflight[] = [];
  private readonly ps: number;
  private readonly fast: ((kind: FindingKind, bytes: number, durNs: number | undefined) => void) | null;
  private readonly gaugesObj: StrategyGauges = { pinned_bytes: 0, leaked_bytes: 0 };

  constructor(
    readonly policy: StrategyPolicy,
    readonly opts: StateOptions,
    readonly sinks: FindingSink[],
    private readonly links: LinkCache = new LinkCache(),
  ) {
    this.m = new Machine(opts.pageSize);
    this.ps = opts.pageSize;
    const only = sinks.length === 1 ? sinks[0]!.tally : undefined;
    this.fast = only ? only : null;
  }

  gauges(): StrategyGauges {
    this.gaugesObj.pinned_bytes = this.m.pinnedPages * this.ps;
    this.gaugesObj.leaked_bytes = this.m.leakedPages * this.ps;
    return this.gaugesObj;
  }

  /**
   * Reports a finding. The causal chain is up to four links plus `more`
   * (pins a stall waited on); null links are left out. `dmaEv` stands for
   * the last link when it is a DMA, built only if a Finding is built.
   */
  private emit(
    kind: FindingKind, ts: number, bytes: number, pid: number | null, pin: Pin | null,
    file: string | null, page: number | null,
    c0: CauseLink | null, c1: CauseLink | null, c2: CauseLink | null, dmaEv: IndexedEvent | null,
    durNs?: number, more?: CauseLink[], pending?: boolean,
  ): void {
    if (this.fast) return this.fast(kind, bytes, durNs);
    const chain: CauseLink[] = [];
    if (more) chain.push(...more);
    if (c0) chain.push(c0);
    if (c1) chain.push(c1);
    if (c2) chain.push(c2);
    if (dmaEv) chain.push(this.links.get(dmaEv));
    const f: Finding = {
      strategy: this.policy.id, kind, ts, bytes, pid,
      dev: pin ? (pin.dev.name === '' ? null : pin.dev.name) : null,
      pin: pin ? pin.handle : null, file, page, chain,
    };
    if (durNs !== undefined) f.dur_ns = durNs;
    if (dmaEv && dmaEv.type === 'dma') f.dir = dmaEv.dir;
    if (pending) f.pending = true;
    for (const s of this.sinks) s.add(f);
  }

  // ---- timers ----

  /** Fires every timer due strictly before `ts` (an event at the timer's own time sees the world before it fires). */
  fireBefore(ts: number): void {
    while (this.timers.next < ts) this.fire();
  }

  private arm(t: number, what: TimerWhat): void {
    what.op.timers++;
    this.timers.arm(t, what);
  }

  /** Timers of completed operations stay in the heap until due; drop them when they are most of it. */
  private retire(op: PendingOp): void {
    this.deadTimers += op.timers;
    if (this.deadTimers > 256 && this.deadTimers * 2 > this.timers.size) {
      this.timers.compact((w) => !w.op.done);
      this.deadTimers = 0;
    }
  }

  private fire(): void {
    const t = this.timers.pop()!;
    const { op } = t.what;
    if (op.done) {
      if (this.deadTimers > 0) this.deadTimers--;
      return;
    }
    if (t.what.kind === T_RELEASE) {
      const pin = t.what.pin!;
      if (!pin.released && this.m.pins.get(pin.handle) === pin) this.releasePin(pin, t.t);
    } else if (t.what.kind === T_DEADLINE) {
      this.deadline(op, t.t);
    } else if (op.blockers === 0) {
      this.ready.push(op);
    }
    this.drain(t.t);
  }

  private drain(t: number): void {
    while (this.ready.length) {
      const op = this.ready.shift()!;
      if (!op.done && op.blockers === 0 && op.inflightUntil <= t) this.completeOp(op, t);
    }
  }

  // ---- events ----

  apply(ev: IndexedEvent): void {
    switch (ev.type) {
      case 'dma': return this.dma(ev);
      case 'pin': return this.pin(ev);
      case 'unpin': return this.unpin(ev.pin, ev.ts);
      case 'write': return this.write(ev);
      case 'truncate': return this.fileOp(ev, 'truncate', ev.size, 0, 0);
      case 'punch_hole': return this.fileOp(ev, 'punch_hole', 0, ev.off, ev.len);
      case 'mmap': return this.mmap(ev);
      case 'munmap': return this.munmap(ev);
      case 'exit': return this.exit(ev);
      case 'writeback': return this.writeback(ev);
      case 'mmu_notifier': return this.notifier(ev);
      case 'device': return this.device(ev);
      case 'file': return this.declareFile(ev);
      case 'proc':
        if (ev.notify_response_ns !== undefined) this.m.notifyResponse.set(ev.pid, ev.notify_response_ns);
        return;
    }
  }

  private device(ev: Extract<IndexedEvent, { type: 'device' }>): void {
    const d = this.m.devices.get(ev.dev);
    const caps = [ev.odp ?? false, ev.iommu ?? false, ev.remap ?? false, ev.fault_tolerant ?? false] as const;
    if (d) {
      // Pins that named the device before its declaration share this object.
      [d.odp, d.iommu, d.remap, d.faultTolerant] = caps;
    } else {
      this.m.devices.set(ev.dev, new DeviceState(ev.dev, ...caps));
    }
  }

  private declareFile(ev: Extract<IndexedEvent, { type: 'file' }>): void {
    const m = this.m;
    const old = m.files.get(ev.file);
    const f = new FileState(old ? old.id : m.files.size, ev.file, ev.dax ?? false, ev.shmem ?? false);
    if (old) {
      // Declared after an undeclared use (a write creating it): the old pages go.
      for (const fr of old.pages.values()) m.release(fr, null, !this.policy.ignoresPins);
    }
    m.files.set(ev.file, f);
    f.size = ev.size;
    const n = f.pageCount(this.ps);
    for (let p = 0; p < n; p++) m.fillFilePage(f, p, null);
  }

  private mmap(ev: Extract<IndexedEvent, { type: 'mmap' }>): void {
    if (this.m.killed.has(ev.pid)) return void this.dropped++;
    const as = this.m.space(ev.pid);
    // MAP_FIXED over an old mapping unmaps it first.
    this.unmapRange(as, ev.addr, ev.addr + ev.len, null);
    as.add({
      start: ev.addr, end: ev.addr + ev.len,
      file: ev.file === undefined ? null : this.m.file(ev.file),
      off: ev.off ?? 0, shared: ev.shared ?? true,
    });
  }

  /** Unmaps [start, end): anonymous frames and private copies there go; pinned ones stay with their pins. */
  private unmapRange(as: AddressSpace, start: number, end: number, by: CauseLink | null): void {
    as.removeRange(start, end);
    const v0 = Math.floor(start / this.ps);
    const v1 = Math.ceil(end / this.ps);
    this.dropAnon(as, v0, v1, by);
  }

  /** Releases anonymous frames of virtual pages [v0, v1) of `as`, lowest first. */
  private dropAnon(as: AddressSpace, v0: number, v1: number, by: CauseLink | null): void {
    if (as.anon.size === 0 || v1 <= v0) return;
    const keep = !this.policy.ignoresPins;
    if (v1 - v0 <= as.anon.size) {
      for (let v = v0; v < v1; v++) {
        const fr = as.anon.get(v);
        if (fr) {
          as.anon.delete(v);
          this.m.release(fr, by, keep);
        }
      }
    } else {
      const hit: number[] = [];
      for (const v of as.anon.keys()) if (v >= v0 && v < v1) hit.push(v);
      hit.sort((a, b) => a - b);
      for (const v of hit) {
        const fr = as.anon.get(v)!;
        as.anon.delete(v);
        this.m.release(fr, by, keep);
      }
    }
  }

  private munmap(ev: Extract<IndexedEvent, { type: 'munmap' }>): void {
    const m = this.m;
    if (m.killed.has(ev.pid)) return void this.dropped++;
    const as = m.spaces.get(ev.pid);
    if (!as) return;
    const end = ev.addr + ev.len;
    if (this.policy.munmapFails) {
      // EBUSY when a long-term pin of this process holds pages of the range.
      let pages = 0;
      let first: Pin | null = null;
      for (const pin of m.pins.values()) {
        if (pin.pid !== ev.pid || !pin.longterm || pin.kind !== K_PIN || pin.released) continue;
        const lo = Math.max(Math.floor(ev.addr / this.ps), pin.vpage0);
        const hi = Math.min(Math.ceil(end / this.ps), pin.vpage0 + pin.npages);
        for (let v = lo; v < hi; v++) {
          if (pin.mode[v - pin.vpage0] === P_FRAME) {
            pages++;
            first ??= pin;
          }
        }
      }
      if (pages > 0) {
        this.emit('op_failed', ev.ts, pages * this.ps, ev.pid, first, null, null, first!.link, this.links.get(ev), null, null);
        return;
      }
    }
    const link = this.links.get(ev);
    as.unmappedBy = link;
    this.unmapRange(as, ev.addr, end, link);
  }

  private exit(ev: Extract<IndexedEvent, { type: 'exit' }>): void {
    const m = this.m;
    if (m.killed.has(ev.pid)) return void this.dropped++;
    for (const pin of [...m.pins.values()]) {
      if (pin.pid !== ev.pid) continue;
      this.releasePin(pin, ev.ts);
      m.pins.delete(pin.handle);
    }
    this.tearDown(ev.pid, this.links.get(ev));
    this.drain(ev.ts);
  }

  /** The process's address space goes (exit, kill). */
  private tearDown(pid: number, by: CauseLink): void {
    const as = this.m.spaces.get(pid);
    if (!as) return;
    as.maps.length = 0;
    const keys = [...as.anon.keys()].sort((a, b) => a - b);
    for (const v of keys) {
      const fr = as.anon.get(v)!;
      as.anon.delete(v);
      this.m.release(fr, by, !this.policy.ignoresPins);
    }
    this.m.spaces.delete(pid);
  }

  private pin(ev: Extract<IndexedEvent, { type: 'pin' }>): void {
    const m = this.m;
    if (m.killed.has(ev.pid)) return void this.dropped++;
    const ps = this.ps;
    const v0 = Math.floor(ev.addr / ps);
    const n = Math.floor((ev.addr + ev.len - 1) / ps) - v0 + 1;
    const longterm = ev.longterm ?? false;
    const write = ev.write ?? false;
    const link = this.links.get(ev);
    const pin = new Pin(ev.pin, ev.pid, m.device(ev.dev), longterm, write, ev.addr, ev.len, v0, n, link);
    const old = m.pins.get(ev.pin);
    if (old) {
      // The trace reuses a handle the strategy still knows (released early): the old one is gone for good.
      this.releasePin(old, ev.ts);
    }
    m.pins.set(ev.pin, pin);
    const as = m.spaces.get(ev.pid);
    if (longterm) {
      let dax = false;
      let sharedDirty = false;
      let firstFile: string | null = null;
      for (let i = 0; i < n && as && this.policy.needsTarget; i++) {
        const map = as.find((v0 + i) * ps);
        if (map?.file) {
          firstFile ??= map.file.name;
          if (map.file.dax) dax = true;
          if (map.shared && map.file.dirtyTracked) sharedDirty = true;
        }
      }
      const adm = this.policy.admit(pin.dev, write, { dax, sharedDirtyTracked: sharedDirty });
      if (adm === 'refuse') {
        pin.kind = K_REFUSED;
        if (!this.policy.needsTarget && as) firstFile = as.find(ev.addr)?.file?.name ?? null;
        this.emit('pin_refused', ev.ts, ev.len, ev.pid, pin, firstFile, null, link, null, null, null);
        return;
      }
      if (adm === 'odp') {
        pin.kind = K_ODP;
        return;
      }
    }
    for (let i = 0; i < n; i++) {
      const r = m.resolve(as, v0 + i, write, true, link);
      if (r.frame) {
        pin.files[i] = r.file;
        pin.fpages[i] = r.fpage;
        m.hold(pin, i, r.frame);
      }
    }
  }

  private unpin(handle: number, ts: number): void {
    const pin = this.m.pins.get(handle);
    if (!pin) return;
    this.releasePin(pin, ts);
    this.m.pins.delete(handle);
    this.drain(ts);
  }

  /**
   * The pin lets go of its frames. When the strategy releases it early (a
   * notified owner, a kill) the trace still holds the handle, and DMA on it
   * is dropped until the trace's own unpin.
   */
  private releasePin(pin: Pin, ts: number): void {
    if (!pin.released) {
      this.m.dropAll(pin);
      pin.released = true;
    }
    if (pin.leaks) {
      for (const l of pin.leaks) {
        this.emit('block_leak', l.ts, l.pages * this.ps, pin.pid, pin, l.file, l.page, pin.link, l.link, null, null,
          Math.max(0, ts - l.ts));
      }
      pin.leaks = null;
    }
    if (pin.blocking) {
      for (const op of pin.blocking) {
        op.blockers--;
        if (op.blockers === 0) this.ready.push(op);
      }
      pin.blocking = null;
    }
  }

  private write(ev: Extract<IndexedEvent, { type: 'write' }>): void {
    const m = this.m;
    if (ev.pid !== undefined && m.killed.has(ev.pid)) return void this.dropped++;
    const f = m.file(ev.file);
    const end = ev.off + ev.len;
    if (end > f.size) f.size = end;
    if (ev.len === 0) return;
    let link: CauseLink | null = null;
    const p1 = Math.floor((end - 1) / this.ps);
    for (let p = Math.floor(ev.off / this.ps); p <= p1; p++) {
      if (!f.pages.has(p)) m.fillFilePage(f, p, (link ??= this.links.get(ev)));
    }
  }

  private writeback(ev: Extract<IndexedEvent, { type: 'writeback' }>): void {
    const f = this.m.file(ev.file);
    if (!f.dirtyTracked || ev.len === 0) return; // DAX and shmem have no writeback
    const p1 = Math.floor((ev.off + ev.len - 1) / this.ps);
    for (let p = Math.floor(ev.off / this.ps); p <= p1; p++) {
      const c = f.writeback.get(p) ?? 0;
      if (ev.phase === 'start') f.writeback.set(p, c + 1);
      else if (c <= 1) f.writeback.delete(p);
      else f.writeback.set(p, c - 1);
    }
    if (ev.phase === 'start') f.wbLink = this.links.get(ev);
  }

  private notifier(ev: Extract<IndexedEvent, { type: 'mmu_notifier' }>): void {
    const m = this.m;
    if (m.killed.has(ev.pid)) return void this.dropped++;
    // Only migration changes anything: other invalidations make an ODP
    // mirror re-fault, which the model does on every ODP DMA anyway.
    if (ev.event !== 'migrate' || this.policy.id === 'odp') return;
    const as = m.spaces.get(ev.pid);
    if (!as) return;
    const ps = this.ps;
    const link = this.links.get(ev);
    let blocked = 0;
    let first: Pin | null = null;
    for (const map of [...as.maps]) {
      const lo = Math.max(map.start, ev.start);
      const hi = Math.min(map.end, ev.end);
      if (lo >= hi) continue;
      for (let v = Math.floor(lo / ps); v * ps < hi; v++) {
        const r = m.resolve(as, v, false, false, null);
        const fr = r.frame;
        if (!fr || fr.pins.length === 0) continue;
        if (this.policy.ignoresPins) {
          // migrate_pages(): the new frame is taken before the old one is freed.
          const nf = m.pools.alloc(fr.pool, link);
          if (fr.file) {
            nf.file = fr.file;
            nf.page = fr.page;
            fr.file.pages.set(fr.page, nf);
          } else {
            nf.file = null;
            nf.page = v;
            nf.pid = as.pid;
            as.anon.set(v, nf);
          }
          m.pools.free(fr, link);
        } else if (fr.ltPins > 0) {
          blocked++;
          first ??= fr.pins.find((p) => p.longterm) ?? null;
        }
      }
    }
    if (blocked > 0) {
      this.emit('migration_blocked', ev.ts, blocked * ps, ev.pid, first, first?.files[0]?.name ?? null, null,
        first?.link ?? null, link, null, null);
    }
  }

  // ---- DMA ----

  private dma(ev: Extract<IndexedEvent, { type: 'dma' }>): void {
    const pin = this.m.pins.get(ev.pin);
    if (!pin || pin.released || pin.kind === K_REFUSED || pin.dev.hung) return void this.dropped++;
    if (pin.kind === K_ODP) return this.odpDma(pin, ev);
    const ps = this.ps;
    const start = pin.addr + ev.off;
    const end = Math.min(start + ev.len, pin.addr + pin.len);
    const write = ev.dir === 'write';
    let reusedB = 0, reusedI = -1, lostB = 0, lostI = -1, faultB = 0, faultI = -1, raceB = 0, raceI = -1;
    for (let v = Math.floor(start / ps); v * ps < end; v++) {
      const i = v - pin.vpage0;
      const b = Math.min(end, (v + 1) * ps) - Math.max(start, v * ps);
      const mode = pin.mode[i]!;
      if (mode === P_FRAME) {
        const fr = pin.frames[i]!;
        if (fr.state === OWNED) {
          if (fr.gen !== pin.gens[i]) {
            reusedB += b;
            if (reusedI < 0) reusedI = i;
          } else if (write && fr.file !== null && fr.file.writeback.size > 0 && fr.file.writeback.has(fr.page)) {
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
      } // P_ABSENT: nothing was pinned there; GUP returned fewer pages
    }
    if (reusedB === 0 && lostB === 0 && faultB === 0 && raceB === 0) return;
    if (reusedB > 0) {
      const fr = pin.frames[reusedI]!;
      this.emit(write ? 'corruption' : 'info_leak', ev.ts, reusedB, pin.pid, pin, this.fileName(pin, reusedI),
        this.pageOf(pin, reusedI), pin.link, fr.freedBy, fr.reusedBy, ev);
    }
    if (lostB > 0) {
      const fr = pin.frames[lostI];
      const why = pin.mode[lostI] === P_DUMMY ? pin.redirectedBy : (fr?.freedBy ?? null);
      this.emit(write ? 'lost_write' : 'stale_read', ev.ts, lostB, pin.pid, pin, this.fileName(pin, lostI),
        this.pageOf(pin, lostI), pin.link, why, null, ev);
    }
    if (faultB > 0) {
      this.emit('dma_fault', ev.ts, faultB, pin.pid, pin, this.fileName(pin, faultI), this.pageOf(pin, faultI),
        pin.link, pin.redirectedBy, null, ev);
      if (!pin.dev.faultTolerant) {
        pin.dev.hung = true;
        this.emit('device_hang', ev.ts, 0, pin.pid, pin, null, null, pin.link, pin.redirectedBy, null, ev);
      }
    }
    if (raceB > 0) {
      const f = pin.files[raceI] ?? pin.frames[raceI]!.file;
      this.emit('writeback_race', ev.ts, raceB, pin.pid, pin, this.fileName(pin, raceI), this.pageOf(pin, raceI),
        pin.link, f?.wbLink ?? null, null, ev);
    }
  }

  private fileName(pin: Pin, i: number): string | null {
    return pin.files[i]?.name ?? null;
  }

  private pageOf(pin: Pin, i: number): number {
    return pin.files[i] ? pin.fpages[i]! : i;
  }

  /** An ODP registration's DMA re-faults through the address space as it is now. */
  private odpDma(pin: Pin, ev: Extract<IndexedEvent, { type: 'dma' }>): void {
    const m = this.m;
    const ps = this.ps;
    const as = m.spaces.get(pin.pid);
    const start = pin.addr + ev.off;
    const end = Math.min(start + ev.len, pin.addr + pin.len);
    const write = ev.dir === 'write';
    let faultB = 0, faultI = -1, faultFile: string | null = null, faultPage = 0;
    let why: CauseLink | null = null;
    let inf: Inflight | null = null;
    const dur = ev.dur ?? 0;
    let link: CauseLink | null = null;
    for (let v = Math.floor(start / ps); v * ps < end; v++) {
      const b = Math.min(end, (v + 1) * ps) - Math.max(start, v * ps);
      // A write fault fills a hole inside EOF; a read of a hole sees zeros.
      const r = write ? m.resolve(as, v, true, true, (link ??= this.links.get(ev))) : m.resolve(as, v, false, false, null);
      if (!r.map || r.pastEof) {
        faultB += b;
        if (faultI < 0) {
          faultI = v - pin.vpage0;
          faultFile = r.map?.file?.name ?? null;
          faultPage = r.map?.file ? Math.floor((r.map.off + (v * ps - r.map.start)) / ps) : faultI;
          why = r.map ? (r.map.file?.shrunkBy ?? null) : (as?.unmappedBy ?? null);
        }
      } else if (dur > 0 && r.file) {
        if (inf && inf.file === r.file) {
          inf.lo = Math.min(inf.lo, r.fpage);
          inf.hi = Math.max(inf.hi, r.fpage);
        } else if (!inf) {
          inf = { end: ev.ts + dur, pin, link: (link ??= this.links.get(ev)), file: r.file, lo: r.fpage, hi: r.fpage };
        }
      }
    }
    if (inf) {
      // Keep only transfers still in flight: memory follows concurrency, not events.
      if (this.inflight.length >= 64) this.inflight = this.inflight.filter((x) => x.end > ev.ts);
      this.inflight.push(inf);
    }
    if (faultB > 0) {
      this.emit('dma_fault', ev.ts, faultB, pin.pid, pin, faultFile, faultPage, pin.link, why, null, ev);
    }
  }

  // ---- truncate / punch hole ----

  private fileOp(ev: IndexedEvent & { file: string }, kind: 'truncate' | 'punch_hole', size: number, off: number, len: number): void {
    const pid = (ev as { pid?: number }).pid;
    if (pid !== undefined && this.m.killed.has(pid)) return void this.dropped++;
    const f = this.m.file(ev.file);
    const op = new PendingOp(kind, f, size, off, len, ev.ts, this.links.get(ev));
    f.queue.push(op);
    // i_rwsem: operations on one file go one at a time.
    if (f.queue.length === 1) this.startOp(op, ev.ts);
    this.drain(ev.ts);
  }

  /** File pages [lo, hi) the operation removes, as the file is now. */
  private range(op: PendingOp): [number, number] {
    const ps = this.ps;
    const n = op.file.pageCount(ps);
    if (op.kind === 'truncate') return [Math.ceil(op.size / ps), n];
    return [Math.ceil(op.off / ps), Math.min(Math.floor((op.off + op.len) / ps), n)];
  }

  /** Frames of file pages [lo, hi), ascending (an owned frame knows its page), by whichever of range or map is smaller. */
  private framesIn(f: FileState, lo: number, hi: number): Frame[] {
    const out: Frame[] = [];
    if (hi <= lo) return out;
    if (hi - lo <= f.pages.size) {
      for (let p = lo; p < hi; p++) {
        const fr = f.pages.get(p);
        if (fr) out.push(fr);
      }
    } else {
      for (const fr of f.pages.values()) if (fr.page >= lo && fr.page < hi) out.push(fr);
      out.sort((a, b) => a.page - b.page);
    }
    return out;
  }

  /** Live pins (with frame references) on frames of [lo, hi), in pin order. */
  private pinsOn(frames: Frame[]): Pin[] {
    let set: Set<Pin> | null = null;
    for (const fr of frames) {
      if (fr.pins.length === 0) continue;
      set ??= new Set();
      for (const p of fr.pins) set.add(p);
    }
    return set ? [...set].sort((a, b) => a.link.index - b.link.index) : [];
  }

  private startOp(op: PendingOp, t: number): void {
    op.started = true;
    op.t0 = t;
    if (this.policy.ignoresPins) return this.completeOp(op, t);
    const [lo, hi] = this.range(op);
    const frames = this.framesIn(op.file, lo, hi);
    const pins = this.pinsOn(frames);
    for (const fr of frames) if (fr.pins.length) op.pinnedPages++;
    const lt = pins.filter((p) => p.longterm);
    if (lt.length > 0 && this.policy.onTruncate(lt[0]!) === 'fail') {
      this.emit('op_failed', op.ts, op.pinnedPages * this.ps, op.link.pid ?? null, lt[0]!, op.file.name, lo,
        op.link, null, null, null, undefined, lt.map((p) => p.link));
      op.done = true;
      return this.next(op, t);
    }
    let waits = false;
    for (const p of pins) {
      let blocks = false;
      if (!p.longterm) {
        // dax_layout_busy_page(): a DAX truncate waits for short-term pins (O_DIRECT) to go.
        blocks = op.file.dax;
      } else if (this.policy.onTruncate(p) === 'wait') {
        blocks = true;
        waits = true;
        op.notified.push(p);
        const resp = this.m.notifyResponse.get(p.pid);
        if (resp !== undefined) this.arm(t + resp, { kind: T_RELEASE, op, pin: p });
      }
      if (blocks) {
        (p.blocking ??= []).push(op);
        op.blockers++;
        op.waitedOn.push(p);
      }
    }
    if (waits) this.arm(t + this.opts.leaseBreakNs, { kind: T_DEADLINE, op, pin: null });
    if (this.policy.id === 'odp' && this.inflight.length) {
      // The invalidation waits for DMA in flight on the pages (mmu_interval_read_retry).
      this.inflight = this.inflight.filter((x) => x.end > t);
      for (const x of this.inflight) {
        if (x.file === op.file && x.hi >= lo && x.lo < hi && x.end > op.inflightUntil) {
          op.inflightUntil = x.end;
          op.inflightBy = x;
        }
      }
      if (op.inflightUntil > t) {
        // Bytes of the stall: the removed pages that DMA was in flight on.
        let busy = 0;
        for (const x of this.inflight) {
          if (x.file === op.file && x.hi >= lo && x.lo < hi) busy = Math.max(busy, Math.min(hi, x.hi + 1) - Math.max(lo, x.lo));
        }
        op.pinnedPages = Math.max(op.pinnedPages, busy);
        this.arm(op.inflightUntil, { kind: T_INFLIGHT, op, pin: null });
      }
    }
    if (op.blockers === 0 && op.inflightUntil <= t) this.completeOp(op, t);
  }

  /** The lease-break deadline: bounce-copy or kill for every notified pin still held. */
  private deadline(op: PendingOp, t: number): void {
    op.deadlinePassed = true;
    const ps = this.ps;
    let bounced = 0;
    let firstBounced: Pin | null = null;
    const [lo, hi] = this.range(op);
    for (const p of op.notified) {
      if (p.released || !p.blocking?.includes(op)) continue;
      if (this.policy.atDeadline(p) === 'bounce') {
        // Copy the pinned pages to bounce pages and repoint the device at them.
        for (let i = 0; i < p.npages; i++) {
          const fr = p.frames[i];
          if (!fr || p.mode[i] !== P_FRAME || fr.file !== op.file || fr.page < lo || fr.page >= hi) continue;
          this.m.drop(p, i);
          const b = this.m.pools.alloc(DRAM, op.link);
          this.m.hold(p, i, b);
          this.m.pools.disconnect(b, op.link);
          bounced++;
        }
        firstBounced ??= p;
        p.blocking.splice(p.blocking.indexOf(op), 1);
        op.blockers--;
      } else {
        this.kill(p.pid, t, op);
      }
    }
    if (bounced > 0) {
      this.emit('bounce_copy', t, bounced * ps, firstBounced!.pid, firstBounced, op.file.name, lo,
        firstBounced!.link, op.link, null, null);
    }
    if (op.blockers === 0) this.ready.push(op);
  }

  private kill(pid: number, t: number, op: PendingOp): void {
    const m = this.m;
    if (m.killed.has(pid)) return;
    m.killed.add(pid);
    let pages = 0;
    let first: Pin | null = null;
    for (const p of m.pins.values()) {
      if (p.pid !== pid) continue;
      if (op.notified.includes(p)) first ??= p;
      pages += p.refPages;
      this.releasePin(p, t);
    }
    this.emit('killed', t, pages * this.ps, pid, first, op.file.name, null, first?.link ?? null, op.link, null, null);
    this.tearDown(pid, op.link);
  }

  private completeOp(op: PendingOp, t: number): void {
    const m = this.m;
    const f = op.file;
    const [lo, hi] = this.range(op);
    const frames = this.framesIn(f, lo, hi);
    const keep = !this.policy.ignoresPins;
    if (keep) {
      for (const p of this.pinsOn(frames)) {
        if (!p.longterm) continue; // short-term pins keep an orphan until their unpin
        const act = this.policy.onTruncate(p);
        let leaked = 0;
        let firstPage = -1;
        for (let i = 0; i < p.npages; i++) {
          const fr = p.frames[i];
          if (!fr || p.mode[i] !== P_FRAME || fr.file !== f || fr.page < lo || fr.page >= hi) continue;
          if (act === 'dummy' || act === 'revoke') {
            m.drop(p, i);
            p.mode[i] = act === 'dummy' ? P_DUMMY : P_REVOKED;
            p.frames[i] = fr; // remembered for the chain; no reference held
            p.redirectedBy = op.link;
          } else if (f.dax) {
            leaked++;
            if (firstPage < 0) firstPage = fr.page;
          }
        }
        if (leaked > 0) (p.leaks ??= []).push({ link: op.link, ts: t, pages: leaked, file: f.name, page: firstPage });
      }
    }
    // Ascending page index, the file's pages before private copies: the last freed is the first reused.
    for (const fr of frames) {
      f.pages.delete(fr.page);
      m.release(fr, op.link, keep);
    }
    if (op.kind === 'truncate') {
      // truncate_pagecache() unmaps private COW copies past the new size too; a hole punch keeps them.
      for (const as of m.spaces.values()) {
        for (const map of as.maps) {
          if (map.file !== f || map.shared) continue;
          const vaLo = map.start + Math.max(0, lo * this.ps - map.off);
          if (vaLo >= map.end) continue;
          this.dropAnon(as, Math.floor(vaLo / this.ps), Math.ceil(map.end / this.ps), op.link);
        }
      }
      if (op.size < f.size) f.shrunkBy = op.link;
      f.size = op.size;
    }
    if (t > op.ts) this.stall(op, t - op.ts, lo, false);
    op.done = true;
    this.retire(op);
    for (const p of op.waitedOn) {
      if (p.blocking) {
        const k = p.blocking.indexOf(op);
        if (k >= 0) p.blocking.splice(k, 1);
      }
    }
    this.next(op, t);
  }

  private stall(op: PendingOp, dur: number, lo: number, pending: boolean): void {
    const inf = op.inflightBy as Inflight | null;
    const pin = op.waitedOn[0] ?? inf?.pin ?? null;
    this.emit('stall', op.ts, op.pinnedPages * this.ps, op.link.pid ?? null, pin, op.file.name, lo,
      inf?.pin.link ?? null, inf?.link ?? null, op.link, null, dur, op.waitedOn.map((p) => p.link), pending);
  }

  private next(op: PendingOp, t: number): void {
    const q = op.file.queue;
    if (q[0] === op) q.shift();
    const nx = q[0];
    if (nx && !nx.started) this.startOp(nx, t);
  }

  // ---- end of trace ----

  finish(lastTs: number | null): void {
    const end = lastTs ?? 0;
    // Timers due by the last event fire; later ones never happened in the
    // recorded window, so what waits on them is reported as still stalled.
    while (this.timers.next <= end) this.fire();
    for (const f of this.m.files.values()) {
      for (const op of f.queue) {
        if (!op.done) this.stall(op, Math.max(0, end - op.ts), this.range(op)[0], true);
      }
    }
    for (const pin of this.m.pins.values()) {
      if (!pin.leaks) continue;
      for (const l of pin.leaks) {
        this.emit('block_leak', l.ts, l.pages * this.ps, pin.pid, pin, l.file, l.page, pin.link, l.link, null, null,
          Math.max(0, end - l.ts));
      }
      pin.leaks = null;
    }
  }

  /** For the property test: the machine's invariants plus the pending-op bookkeeping. */
  checkInvariants(): void {
    this.m.checkInvariants();
    for (const pin of this.m.pins.values()) {
      if (pin.released && pin.refPages !== 0) throw new Error(`pin ${pin.handle}: released but holds ${pin.refPages} pages`);
      if (pin.kind !== K_PIN && pin.refPages !== 0) throw new Error(`pin ${pin.handle}: not a pin but holds pages`);
      for (let i = 0; i < pin.npages; i++) {
        if (pin.mode[i] === P_ABSENT && pin.frames[i]) throw new Error(`pin ${pin.handle}: absent page with a frame`);
      }
    }
  }
}
