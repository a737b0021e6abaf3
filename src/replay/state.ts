// One strategy's replay: its own machine, fed every event in trace order.
// This file holds the strategy's state, finding emission, timers and the
// dispatch by event type; the handlers live by concern next to it (pins,
// dma, truncate, leasebreak, mmap, pagecache). What to do with pinned pages
// a truncate removes is the policy's (src/strategies/).
import type { IndexedEvent } from '../trace/events.js';
import type { StrategyGauges } from '../analysis/collector.js';
import { Machine } from '../model/machine.js';
import type { PendingOp } from '../model/pending.js';
import { NO_FRAME, OWNED } from '../model/frame.js';
import { K_PIN, P_ABSENT, P_FRAME, type FastDmaFlags, type Pin } from '../model/pin.js';
import { TimerQueue } from '../model/timer.js';
import type { PinTarget, StrategyPolicy } from '../strategies/policy.js';
import { dma, type Inflight } from './dma.js';
import { deadline } from './leasebreak.js';
import { LinkCache } from './links.js';
import { exit, mmap, munmap, notifier } from './mmap.js';
import { declareFile, device, write, writeback } from './pagecache.js';
import { pin, releasePin, unpin } from './pins.js';
import { completeOp, fileOp, range, stall } from './truncate.js';
import type { CauseLink, Finding, FindingKind, FindingSink } from './types.js';

export { LinkCache, linkOf } from './links.js';

export const T_RELEASE = 0;
export const T_DEADLINE = 1;
export const T_INFLIGHT = 2;
export interface TimerWhat {
  kind: typeof T_RELEASE | typeof T_DEADLINE | typeof T_INFLIGHT;
  op: PendingOp;
  pin: Pin | null;
}

export interface StateOptions {
  pageSize: number;
  leaseBreakNs: number;
}

export class StrategyReplay {
  readonly m: Machine;
  dropped = 0;
  readonly timers = new TimerQueue<TimerWhat>();
  readonly ready: PendingOp[] = [];
  deadTimers = 0;
  readonly inflight: Inflight[] = [];
  readonly ps: number;
  readonly fast: ((kind: FindingKind, bytes: number, durNs: number | undefined) => void) | null;
  readonly gaugesObj: StrategyGauges = { pinned_bytes: 0, leaked_bytes: 0, dropped_events: 0 };
  /** What a long-term pin resolves through, refilled per pin for admit() (which never keeps it). */
  readonly pinTarget: PinTarget = { dax: false, sharedDirtyTracked: false };
  /** The engine's fast-DMA bytes (null: the engine looks at every DMA), this strategy's column, and the row length. */
  fastDma: FastDmaFlags | null = null;
  fastIndex = 0;
  fastStride = 1;
  // The policy's answers, copied here: hot paths then read fields of this
  // one class, not of nine policy classes (a megamorphic load each time).
  readonly ignoresPins: boolean;
  readonly needsTarget: boolean;
  readonly munmapFails: boolean;
  readonly isOdp: boolean;
  readonly admit: StrategyPolicy['admit'];
  readonly onTruncate: StrategyPolicy['onTruncate'];
  readonly atDeadline: StrategyPolicy['atDeadline'];

  constructor(
    readonly policy: StrategyPolicy,
    readonly opts: StateOptions,
    readonly sinks: FindingSink[],
    readonly links: LinkCache = new LinkCache(),
  ) {
    this.m = new Machine(opts.pageSize);
    this.ps = opts.pageSize;
    this.ignoresPins = policy.ignoresPins;
    this.needsTarget = policy.needsTarget;
    this.munmapFails = policy.munmapFails;
    this.isOdp = policy.id === 'odp';
    this.admit = policy.admit.bind(policy);
    this.onTruncate = policy.onTruncate.bind(policy);
    this.atDeadline = policy.atDeadline.bind(policy);
    const only = sinks.length === 1 ? sinks[0]!.tally : undefined;
    this.fast = only ? only : null;
  }

  gauges(): StrategyGauges {
    this.gaugesObj.pinned_bytes = this.m.pinnedPages * this.ps;
    this.gaugesObj.leaked_bytes = this.m.leakedPages * this.ps;
    this.gaugesObj.dropped_events = this.dropped;
    return this.gaugesObj;
  }

  /**
   * Reports a finding. The causal chain is up to four links plus `more`
   * (pins a stall waited on); null links are left out. `dmaEv` stands for
   * the last link when it is a DMA, built only if a Finding is built.
   */
  emit(
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
      pin: pin ? pin.req.handle : null, file, page, chain,
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

  arm(t: number, what: TimerWhat): void {
    // A release is the process's answer, due whatever becomes of the operation: it never goes dead with it.
    if (what.kind !== T_RELEASE) what.op.timers++;
    this.timers.arm(t, what);
  }

  /** Timers of completed operations stay in the heap until due; drop them when they are most of it. */
  retire(op: PendingOp): void {
    this.deadTimers += op.timers;
    if (this.deadTimers > 256 && this.deadTimers * 2 > this.timers.size) {
      this.timers.compact((w) => !w.op.done || w.kind === T_RELEASE);
      this.deadTimers = 0;
    }
  }

  fire(): void {
    const t = this.timers.pop()!;
    const { op } = t.what;
    if (t.what.kind === T_RELEASE) {
      // notify_response_ns: the owner lets go this long after it was notified, even if a deadline ended the wait first.
      const pin = t.what.pin!;
      if (!pin.released && pin.live) releasePin(this, pin, t.t);
      return this.drain(t.t);
    }
    if (op.done) {
      if (this.deadTimers > 0) this.deadTimers--;
      return;
    }
    if (t.what.kind === T_DEADLINE) {
      deadline(this, op, t.t);
    } else if (op.blockers === 0) {
      this.ready.push(op);
    }
    this.drain(t.t);
  }

  drain(t: number): void {
    while (this.ready.length) {
      const op = this.ready.shift()!;
      if (!op.done && op.blockers === 0 && op.inflightUntil <= t) completeOp(this, op, t);
    }
  }

  // ---- events ----

  /** `slot`: for pin, dma and unpin, the replay's slot for the handle (Replay.slotOf). */
  apply(ev: IndexedEvent, slot: number): void {
    switch (ev.type) {
      case 'dma': return dma(this, ev, slot, ev.dir === 'write');
      case 'pin': return pin(this, ev, slot);
      case 'unpin': return unpin(this, slot, ev.ts);
      case 'write': return write(this, ev);
      case 'truncate': return fileOp(this, ev, 'truncate', ev.size, 0, 0);
      case 'punch_hole': return fileOp(this, ev, 'punch_hole', 0, ev.off, ev.len);
      case 'mmap': return mmap(this, ev);
      case 'munmap': return munmap(this, ev);
      case 'exit': return exit(this, ev);
      case 'writeback': return writeback(this, ev);
      case 'mmu_notifier': return notifier(this, ev);
      case 'device': return device(this, ev);
      case 'file': return declareFile(this, ev);
      case 'proc':
        if (ev.notify_response_ns !== undefined) this.m.notifyResponse.set(ev.pid, ev.notify_response_ns);
        return;
    }
  }

  // ---- end of trace ----

  finish(lastTs: number | null): void {
    const end = lastTs ?? 0;
    // Timers due by the last event fire; later ones never happened in the
    // recorded window, so what waits on them is reported as still stalled.
    while (this.timers.next <= end) this.fire();
    for (const f of this.m.files.values()) {
      for (const op of f.queue) {
        if (!op.done) stall(this, op, Math.max(0, end - op.ts), range(this, op)[0], true);
      }
    }
    for (const pin of this.m.pins.values()) {
      if (!pin.leaks) continue;
      for (const l of pin.leaks) {
        this.emit('block_leak', l.ts, l.pages * this.ps, pin.req.pid, pin, l.file, l.page, pin.req.link, l.link, null, null,
          Math.max(0, end - l.ts));
      }
      pin.leaks = null;
    }
  }

  /** For the property test: the machine's invariants plus the pending-op bookkeeping. */
  checkInvariants(): void {
    this.m.checkInvariants();
    if (this.fastDma !== null) {
      for (let s = 0; s < this.m.bySlot.length; s++) {
        if (this.m.bySlot[s] === undefined && this.fastDma.bytes[s * this.fastStride + this.fastIndex] !== 0) {
          throw new Error(`slot ${s}: fast-DMA byte set but no pin there`);
        }
      }
    }
    for (const pin of this.m.pins.values()) {
      if (pin.released && pin.refPages !== 0) throw new Error(`pin ${pin.req.handle}: released but holds ${pin.refPages} pages`);
      if (pin.kind !== K_PIN && pin.refPages !== 0) throw new Error(`pin ${pin.req.handle}: not a pin but holds pages`);
      if (this.fastDma !== null && this.m.bySlot[pin.slot] === pin) {
        // The engine skips a DMA only when the pin says it would do nothing.
        const flag = this.fastDma.bytes[pin.slot * this.fastStride + this.fastIndex]!;
        if (flag !== 0 && flag !== pin.fastBits()) {
          throw new Error(`pin ${pin.req.handle}: fast-DMA byte ${flag} but DMA through it may matter`);
        }
      }
      for (let i = 0; i < pin.req.npages; i++) {
        if (pin.mode(i) === P_ABSENT && pin.frame(i) !== NO_FRAME) throw new Error(`pin ${pin.req.handle}: absent page with a frame`);
        if (!pin.settled || pin.kind !== K_PIN || pin.released || pin.mode(i) === P_ABSENT) continue;
        // What lets DMA skip the page checks: nothing moved under a settled pin.
        const fr = pin.frame(i);
        const t = this.m.frames;
        if (pin.mode(i) !== P_FRAME || fr === NO_FRAME || t.state(fr) !== OWNED || t.gen(fr) !== pin.gen(i) || t.file(fr) !== pin.file(i)) {
          throw new Error(`pin ${pin.req.handle}: settled, but page ${i} moved`);
        }
      }
    }
  }
}
