// One strategy's replay as Chrome trace-event JSON, written as it happens
// to a part file (the exporter joins the parts): memory holds live pins,
// open writebacks and the lanes, never the events. Runs in the engine's
// worker thread, so it writes with synchronous calls and returns only the
// part's path and counts.
//
// Layout (one process per strategy, pid = 1 + its index in STRATEGY_IDS):
//   counters   "pinned" and "leaked" (arg "bytes": the engine's gauges)
//   devices    "dma <dev>": each DMA a slice, [ts, ts + dur)
//   pins       "pins <dev>": each pin a slice from pin to its end: the
//              trace's unpin or exit, the strategy's kill, or the trace's
//              end (args.end says which); refused pins are instants
//   fs         truncate / punch_hole / write / munmap / mmap /
//              mmu_notifier as zero-length slices, writeback start..end
//   stalls     "stalls": each stall a slice over the time the op waited;
//              "leaked blocks": each block_leak over the time it lasted
//   findings   "findings": every finding an instant ('i', scope 't')
//              with its record in args
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { CollectorFactory, StrategyCollector, StrategyGauges } from '../analysis/collector.js';
import type { IndexedEvent } from '../trace/events.js';
import { STRATEGY_IDS, type Finding, type StrategyId } from '../replay/types.js';
import { LaneSet } from './track-lanes.js';

export interface PerfettoCollectorOptions {
  /** Folder for the part file (the exporter's temporary folder). */
  dir: string;
}

export interface PerfettoPart {
  strategy: StrategyId;
  pid: number;
  /** Path of the part: trace events, each preceded by ",\n". */
  part: string;
  events: number;
  tracks: number;
}

/** Process id of a strategy's tracks. */
export function strategyPid(s: StrategyId): number {
  return STRATEGY_IDS.indexOf(s) + 1;
}

/** ns -> the format's microseconds (fractions allowed, exact to the ns for ts below 2^53 ns / 1000). */
export function us(ns: number): number {
  return ns / 1000;
}

interface LivePin {
  ts: number;
  pid: number;
  dev: string;
  addr: number;
  len: number;
  longterm: boolean;
  write: boolean;
}

const SORT = { counters: 0, dma: 1, pins: 2, fs: 3, writeback: 4, stalls: 5, leaks: 6, findings: 7 } as const;
const FLUSH_AT = 1 << 16;

interface OpenWriteback {
  ts: number;
  index: number;
  file: string;
  off: number;
  len: number;
}

class PerfettoCollector implements StrategyCollector<PerfettoPart> {
  private readonly pid: number;
  private readonly path: string;
  private readonly fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  private events = 0;
  private nextTid = 1;
  private readonly laneSets = new Map<string, LaneSet>();
  private readonly pins = new Map<number, LivePin>();
  /** Device and owner of every pin the trace still has live (a DMA names the pin, not the device). */
  private readonly pinDev = new Map<number, { dev: string; pid: number }>();
  private readonly refused = new Set<number>();
  /** Open writeback windows: start time and event index. */
  private readonly writebacks = new Map<string, OpenWriteback>();
  /** Operations this strategy failed with EBUSY (op_failed arrives before the event is observed). */
  private readonly failed = new Set<number>();
  private pinned = 0;
  private leaked = 0;
  private dropped = 0;
  /** The event being observed was dropped by this strategy (a refused pin's DMA, a killed process's event...). */
  private evDropped = false;

  constructor(private readonly strategy: StrategyId, opts: PerfettoCollectorOptions) {
    this.pid = strategyPid(strategy);
    this.path = join(opts.dir, `${strategy}.part`);
    this.fd = openSync(this.path, 'w');
  }

  observe(ev: IndexedEvent, g: StrategyGauges): void {
    this.evDropped = g.dropped_events !== this.dropped;
    this.dropped = g.dropped_events;
    switch (ev.type) {
      case 'pin': {
        const dev = ev.dev ?? '(no device)';
        this.pinDev.set(ev.pin, { dev, pid: ev.pid });
        if (this.refused.delete(ev.pin)) {
          this.instant(this.lanes(`pins ${dev}`, SORT.pins), ev.ts, `pin ${ev.pin} refused`, this.pinArgs(ev.pin, ev));
        } else {
          this.pins.set(ev.pin, {
            ts: ev.ts, pid: ev.pid, dev, addr: ev.addr, len: ev.len, longterm: ev.longterm === true, write: ev.write === true,
          });
        }
        break;
      }
      case 'unpin':
        this.closePin(ev.pin, ev.ts, 'unpin');
        this.pinDev.delete(ev.pin);
        break;
      case 'exit':
        for (const [h, p] of this.pins) if (p.pid === ev.pid) this.closePin(h, ev.ts, 'exit');
        for (const [h, p] of this.pinDev) if (p.pid === ev.pid) this.pinDev.delete(h);
        this.slice('fs', ev.ts, 0, `exit ${ev.pid}`, { pid: ev.pid, index: ev.index });
        break;
      case 'dma': {
        const dev = this.pinDev.get(ev.pin)?.dev ?? '(no device)';
        this.slice(`dma ${dev}`, ev.ts, ev.dur ?? 0, this.named(`dma ${ev.dir} pin ${ev.pin}`, ev.index),
          this.marked({ pin: ev.pin, off: ev.off, len: ev.len, dir: ev.dir, index: ev.index }, ev.index), SORT.dma);
        break;
      }
      case 'truncate':
        this.slice('fs', ev.ts, 0, this.named(`truncate ${ev.file} to ${ev.size}`, ev.index), this.marked({ file: ev.file, size: ev.size, pid: ev.pid ?? null, index: ev.index }, ev.index));
        break;
      case 'punch_hole':
        this.slice('fs', ev.ts, 0, this.named(`punch_hole ${ev.file}`, ev.index), this.marked({ file: ev.file, off: ev.off, len: ev.len, pid: ev.pid ?? null, index: ev.index }, ev.index));
        break;
      case 'write':
        this.slice('fs', ev.ts, 0, this.named(`write ${ev.file}`, ev.index), this.marked({ file: ev.file, off: ev.off, len: ev.len, pid: ev.pid ?? null, index: ev.index }, ev.index));
        break;
      case 'mmap':
        this.slice('fs', ev.ts, 0, this.named(`mmap ${ev.file ?? 'anon'}`, ev.index), this.marked({
          pid: ev.pid, addr: hex(ev.addr), len: ev.len, file: ev.file ?? null, off: ev.off ?? 0, index: ev.index,
        }, ev.index));
        break;
      case 'munmap':
        this.slice('fs', ev.ts, 0, this.named(`munmap ${ev.pid}`, ev.index), this.marked({ pid: ev.pid, addr: hex(ev.addr), len: ev.len, index: ev.index }, ev.index));
        break;
      case 'mmu_notifier':
        this.slice('fs', ev.ts, 0, this.named(`mmu_notifier ${ev.event}`, ev.index), this.marked({
          pid: ev.pid, start: hex(ev.start), end: hex(ev.end), event: ev.event, index: ev.index,
        }, ev.index));
        break;
      case 'writeback': {
        const key = `${ev.file}\0${ev.off}\0${ev.len}`;
        if (ev.phase === 'start') this.writebacks.set(key, { ts: ev.ts, index: ev.index, file: ev.file, off: ev.off, len: ev.len });
        else {
          const start = this.writebacks.get(key);
          this.writebacks.delete(key);
          if (start !== undefined) this.writebackSlice(start, ev.ts, 'end');
        }
        break;
      }
      default:
        break;
    }
    this.counters(ev.ts, g);
  }

  add(f: Finding): void {
    if (f.kind === 'pin_refused' && f.pin !== null) this.refused.add(f.pin);
    if (f.kind === 'op_failed') this.failed.add(f.chain[f.chain.length - 1]!.index);
    if (f.kind === 'killed' && f.pid !== null) {
      for (const [h, p] of this.pins) if (p.pid === f.pid) this.closePin(h, f.ts, 'killed');
    }
    if ((f.kind === 'stall' || f.kind === 'block_leak') && f.dur_ns !== undefined) {
      // The op that waited (or gave the blocks up) is the last truncate-like link of the chain.
      const op = [...f.chain].reverse().find((c) => c.type === 'truncate' || c.type === 'punch_hole' || c.type === 'munmap');
      const start = op?.ts ?? f.ts;
      const name = f.kind === 'stall' ? `stall ${op?.type ?? 'op'} ${f.file ?? ''}`.trim() : `leaked blocks ${f.file ?? ''}`.trim();
      this.slice(f.kind === 'stall' ? 'stalls' : 'leaked blocks', start, f.dur_ns, name, this.findingArgs(f),
        f.kind === 'stall' ? SORT.stalls : SORT.leaks);
    }
    this.instant(this.lanes('findings', SORT.findings), f.ts, f.kind, this.findingArgs(f));
  }

  finish(lastTs: number | null): PerfettoPart {
    const end = lastTs ?? 0;
    for (const h of [...this.pins.keys()]) this.closePin(h, end, 'trace end');
    for (const w of this.writebacks.values()) this.writebackSlice(w, end, 'trace end');
    this.writebacks.clear();
    this.flush();
    closeSync(this.fd);
    return { strategy: this.strategy, pid: this.pid, part: this.path, events: this.events, tracks: this.nextTid - 1 };
  }

  private closePin(handle: number, ts: number, end: string): void {
    const p = this.pins.get(handle);
    if (!p) return;
    this.pins.delete(handle);
    this.slice(`pins ${p.dev}`, p.ts, Math.max(0, ts - p.ts), `pin ${handle}`, {
      pin: handle, pid: p.pid, dev: p.dev, addr: hex(p.addr), len: p.len, longterm: p.longterm, write: p.write, end,
    }, SORT.pins);
  }

  /** A slice's name, saying when this strategy dropped the event or failed the operation. */
  private named(name: string, index: number): string {
    return this.evDropped ? `${name} (dropped)` : this.failed.has(index) ? `${name} (EBUSY)` : name;
  }

  private marked(args: Record<string, unknown>, index: number): Record<string, unknown> {
    if (this.evDropped) args.dropped = true;
    if (this.failed.delete(index)) args.failed = 'EBUSY';
    return args;
  }

  private writebackSlice(w: OpenWriteback, end: number, how: string): void {
    this.slice('writeback', w.ts, Math.max(0, end - w.ts), `writeback ${w.file}`, { file: w.file, off: w.off, len: w.len, index: w.index, end: how });
  }

  private pinArgs(handle: number, ev: { pid: number; addr: number; len: number; longterm?: boolean; write?: boolean }): Record<string, unknown> {
    return { pin: handle, pid: ev.pid, addr: hex(ev.addr), len: ev.len, longterm: ev.longterm === true, write: ev.write === true };
  }

  private findingArgs(f: Finding): Record<string, unknown> {
    return {
      kind: f.kind, bytes: f.bytes, pid: f.pid, dev: f.dev, pin: f.pin, file: f.file, page: f.page,
      ...(f.dur_ns !== undefined ? { dur_ns: f.dur_ns } : {}), ...(f.dir ? { dir: f.dir } : {}),
      cause: f.chain.map((c) => c.index),
      chain: f.chain.map((c) => `${c.type}@${c.ts}`),
    };
  }

  private counters(ts: number, g: StrategyGauges): void {
    if (g.pinned_bytes !== this.pinned) {
      this.pinned = g.pinned_bytes;
      this.write({ name: 'pinned', ph: 'C', pid: this.pid, ts: us(ts), args: { bytes: g.pinned_bytes } });
    }
    if (g.leaked_bytes !== this.leaked) {
      this.leaked = g.leaked_bytes;
      this.write({ name: 'leaked', ph: 'C', pid: this.pid, ts: us(ts), args: { bytes: g.leaked_bytes } });
    }
  }

  private lanes(name: string, sort: number): LaneSet {
    let set = this.laneSets.get(name);
    if (!set) {
      set = new LaneSet(name, sort, (threadName, sortIndex) => {
        const tid = this.nextTid++;
        this.write({ name: 'thread_name', ph: 'M', pid: this.pid, tid, args: { name: threadName } });
        this.write({ name: 'thread_sort_index', ph: 'M', pid: this.pid, tid, args: { sort_index: sortIndex } });
        return tid;
      });
      this.laneSets.set(name, set);
    }
    return set;
  }

  private slice(lane: string, ts: number, dur: number, name: string, args: Record<string, unknown>, sort: number = SORT[lane as keyof typeof SORT] ?? SORT.fs): void {
    const l = this.lanes(lane, sort).place(ts, dur);
    this.write({ name, ph: 'X', pid: this.pid, tid: l.tid, ts: us(ts), dur: us(dur), args });
  }

  private instant(set: LaneSet, ts: number, name: string, args: Record<string, unknown>): void {
    const l = set.place(ts, 0);
    this.write({ name, ph: 'i', s: 't', pid: this.pid, tid: l.tid, ts: us(ts), args });
  }

  private write(ev: Record<string, unknown>): void {
    const s = `,\n${JSON.stringify(ev)}`;
    this.buf.push(s);
    this.bufLen += s.length;
    this.events++;
    if (this.bufLen >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.bufLen = 0;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** The factory the engine calls by name in its worker (CollectorRef.factory). */
export const createPerfettoCollector: CollectorFactory<PerfettoPart> = (strategy, options) =>
  new PerfettoCollector(strategy, options as PerfettoCollectorOptions);
