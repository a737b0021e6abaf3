// What every workload shares: the clock, the allocators of pids, pin
// handles and address-space slots, and the bookkeeping that keeps a
// generated trace valid (files, mappings, live pins). State is
// proportional to the live pins and files of a workload, never to the
// number of events written.

import type { TraceEvent, DmaEvent } from '../trace/events.js';
import { Rng } from './prng.js';

/** Mappings live in 4 GiB slots from 0x7f0000000000 up: 256 slots below 2^47. */
const SLOT_BASE = 0x7f00_0000_0000;
const SLOT_SIZE = 0x1_0000_0000;
const SLOT_COUNT = 256;

export class GenContext {
  readonly rng: Rng;
  /** Page size in bytes: every mapping, pin and truncate is aligned to it. */
  readonly page: number;
  now = 0;
  private nextPid = 1000;
  private nextHandle = 1;
  private nextSlot = 0;

  constructor(seed: number, pageSize: number) {
    this.rng = new Rng(seed);
    this.page = pageSize;
  }

  /** Advances the clock by 0..2*mean ns and returns the new time. */
  tick(mean: number): number {
    this.now += Math.floor(this.rng.next() * 2 * mean);
    return this.now;
  }

  newPid(): number {
    return this.nextPid++;
  }

  /** MR keys only grow: a handle is never reused, so it is unique among live pins by construction. */
  newHandle(): number {
    return this.nextHandle++;
  }

  /** A fresh 4 GiB stretch of address space; workloads take a fixed few at set-up. */
  newSlot(): number {
    if (this.nextSlot >= SLOT_COUNT) throw new Error('generate: out of address-space slots');
    return SLOT_BASE + SLOT_SIZE * this.nextSlot++;
  }
}

export interface FileState {
  path: string;
  /** Size the file is regrown to after a truncate, in bytes. */
  cap: number;
  size: number;
  /** A punched, page-aligned hole [off, off+len) not yet filled again. */
  hole: { off: number; len: number } | null;
}

/** A mapping a workload keeps at a fixed address (re-created after munmap or exit). */
export interface Region {
  addr: number;
  len: number;
  file: FileState | null;
  off: number;
  shared: boolean;
  mapped: boolean;
}

export interface LivePin {
  handle: number;
  pid: number;
  addr: number;
  len: number;
  write: boolean;
  region: Region;
  /** Who the pin belongs to, for exit. */
  owner: object;
}

/** An unordered set with O(1) add, random pick and removal. */
export class Bag<T> {
  readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
  }

  pick(rng: Rng): T | undefined {
    return this.items.length === 0 ? undefined : this.items[Math.floor(rng.next() * this.items.length)];
  }

  remove(item: T): void {
    const i = this.items.indexOf(item);
    if (i < 0) return;
    this.items[i] = this.items[this.items.length - 1]!;
    this.items.pop();
  }

  /** Removes and returns every item matching `pred` (called once per item, in order). */
  take(pred: (item: T) => boolean): T[] {
    const out: T[] = [];
    let keep = 0;
    for (const x of this.items) {
      if (pred(x)) out.push(x);
      else this.items[keep++] = x;
    }
    this.items.length = keep;
    return out;
  }
}

/**
 * Page spans [first, end) of `region` (page indices from region.addr)
 * whose memory a pin can resolve now: mapped, and for a file mapping
 * inside the file's size and outside an unfilled hole.
 */
export function pinnableSpans(region: Region, page: number): Array<[number, number]> {
  if (!region.mapped) return [];
  const pages = region.len / page;
  if (!region.file) return [[0, pages]];
  const f = region.file;
  const filePages = Math.floor(f.size / page) - region.off / page;
  const end = Math.min(pages, filePages);
  if (end <= 0) return [];
  if (!f.hole) return [[0, end]];
  const hs = f.hole.off / page - region.off / page;
  const he = hs + f.hole.len / page;
  const spans: Array<[number, number]> = [];
  if (hs > 0) spans.push([0, Math.min(hs, end)]);
  if (he < end) spans.push([Math.max(he, 0), end]);
  return spans.filter(([a, b]) => b > a);
}

/** A random page-aligned range of up to maxPages pages that a pin can resolve, or null. */
export function pickPinRange(rng: Rng, region: Region, page: number, maxPages: number): { addr: number; len: number } | null {
  const spans = pinnableSpans(region, page);
  if (spans.length === 0) return null;
  const [a, b] = rng.pick(spans);
  const first = rng.int(a, b - 1);
  const n = rng.int(1, Math.min(maxPages, b - first));
  return { addr: region.addr + first * page, len: n * page };
}

/** A DMA through `pin`: any byte range inside it, up to four pages long. */
export function dmaOn(ctx: GenContext, pin: LivePin, writeShare: number, maxDur: number): DmaEvent {
  const rng = ctx.rng;
  const off = rng.chance(0.5) ? Math.floor(rng.int(0, pin.len - 1) / ctx.page) * ctx.page : rng.int(0, pin.len - 1);
  const len = rng.int(1, Math.min(pin.len - off, 4 * ctx.page));
  const dir = pin.write && rng.chance(writeShare) ? 'write' : 'read';
  return { type: 'dma', ts: ctx.tick(2000), pin: pin.handle, off, len, dir, dur: rng.int(0, maxDur) };
}

/** Does pin q (through region) cover any byte of the file range? */
export function overlaps(q: LivePin, region: Region, range: { off: number; len: number }): boolean {
  const start = q.addr - region.addr + region.off;
  return start < range.off + range.len && range.off < start + q.len;
}

/** A workload: an endless stream of valid events; the caller takes the first N. */
export type Workload = (ctx: GenContext) => Generator<TraceEvent, never, undefined>;
