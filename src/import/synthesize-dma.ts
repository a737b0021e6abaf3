// Device DMA of kernel-bypass hardware (RDMA NICs, GPUs) goes straight
// from the device to memory: no CPU instruction, no kernel function, no
// probe sees it. A recording therefore has pins but no `dma` events, and a
// replay of it finds nothing wrong. `--synthesize-dma PERIOD[,DIR]` adds
// the access pattern a user states: every live pin is accessed every
// PERIOD from its pin until its unpin (or its process's exit). Findings of
// such a trace say what WOULD happen under that pattern, not what did.
import type { TraceEvent } from '../trace/events.js';
import { MinHeap } from '../model/min-heap.js';

export type SynthDir = 'write' | 'read' | 'mixed';

export interface SynthOptions {
  periodNs: number;
  dir: SynthDir;
}

/** A synthesized access covers the pin, or a 1 MiB window of it that sweeps the range tick by tick (bounded replay cost for huge MRs). */
export const SYNTH_CHUNK = 1 << 20;

interface LivePin {
  pin: number;
  pid: number;
  len: number;
  write: boolean;
  next: number;
  tick: number;
}

export interface SynthDma {
  type: 'dma';
  ts: number;
  pin: number;
  off: number;
  len: number;
  dir: 'read' | 'write';
  /** Unknown fields are ignored by readers: this marks the event as made up. */
  synthetic: true;
}

export class DmaSynthesizer {
  private readonly pins = new Map<number, LivePin>();
  /** Live pins by their next access; a released pin is dropped when it surfaces. */
  private readonly heap = new MinHeap<LivePin>();
  synthesized = 0;

  constructor(readonly opts: SynthOptions) {
    if (!(opts.periodNs > 0)) throw new RangeError('synthesize-dma period must be > 0');
  }

  /** The synthesized accesses due at or before `ts`, in order; call before emitting an event at `ts`. */
  due(ts: number): SynthDma[] {
    const out: SynthDma[] = [];
    while (this.heap.minKey <= ts) {
      const p = this.heap.pop()!;
      if (this.pins.get(p.pin) !== p) continue; // released since it was queued
      out.push(this.access(p));
      p.tick++;
      p.next += this.opts.periodNs;
      this.heap.push(p.next, p);
    }
    this.synthesized += out.length;
    return out;
  }

  /** Follows the real event stream (after `due(ev.ts)` was emitted). */
  apply(ev: TraceEvent): void {
    switch (ev.type) {
      case 'pin': {
        const p: LivePin = {
          pin: ev.pin, pid: ev.pid, len: ev.len, write: ev.write === true,
          next: ev.ts + this.opts.periodNs, tick: 0,
        };
        this.pins.set(ev.pin, p);
        this.heap.push(p.next, p);
        break;
      }
      case 'unpin':
        this.pins.delete(ev.pin);
        break;
      case 'exit':
        for (const [h, p] of this.pins) if (p.pid === ev.pid) this.pins.delete(h);
        break;
      default:
        break;
    }
  }

  get live(): number {
    return this.pins.size;
  }

  private access(p: LivePin): SynthDma {
    // A device writes only through a pin taken for writing (FOLL_WRITE).
    let dir: 'read' | 'write' = 'read';
    if (p.write && (this.opts.dir === 'write' || (this.opts.dir === 'mixed' && p.tick % 2 === 0))) dir = 'write';
    if (p.len <= SYNTH_CHUNK) return { type: 'dma', ts: p.next, pin: p.pin, off: 0, len: p.len, dir, synthetic: true };
    const chunks = Math.ceil(p.len / SYNTH_CHUNK);
    const off = (p.tick % chunks) * SYNTH_CHUNK;
    return { type: 'dma', ts: p.next, pin: p.pin, off, len: Math.min(SYNTH_CHUNK, p.len - off), dir, synthetic: true };
  }
}

/** "1ms", "1ms,write", "500us,mixed" -> options; the period is parsed by the caller's duration parser. */
export function parseSynthSpec(text: string, parseDuration: (s: string) => number): SynthOptions {
  const [period, dir = 'write', ...rest] = text.split(',').map((s) => s.trim());
  if (rest.length > 0 || !['write', 'read', 'mixed'].includes(dir)) {
    throw new RangeError(`--synthesize-dma: expected PERIOD[,write|read|mixed], e.g. 1ms,write, got '${text}'`);
  }
  const periodNs = parseDuration(period ?? '');
  if (periodNs <= 0) throw new RangeError(`--synthesize-dma: the period must be > 0, got '${period}'`);
  return { periodNs, dir: dir as SynthDir };
}
