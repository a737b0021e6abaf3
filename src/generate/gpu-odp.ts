// gpu-odp: GPUs that can mirror an address space (ODP / HMM) hold
// long-term pins over anonymous memory and file mappings while the kernel
// keeps moving things underneath: mmu notifier invalidations (NUMA
// balancing and compaction migrate above all, also clear,
// protection_page and soft_dirty), munmaps of pinned ranges, and now and
// then a truncate of a mapped file. Some processes answer a notification
// (notify_response_ns), some never do.

import type { MMU_NOTIFIER_EVENTS, TraceEvent } from '../trace/events.js';
import { Bag, dmaOn, overlaps, pickPinRange, type FileState, type GenContext, type LivePin, type Region } from './builder.js';

const GPUS = [
  { dev: 'gpu0', odp: true, iommu: true, remap: true, fault_tolerant: true },
  { dev: 'gpu1', odp: true, iommu: false, remap: true, fault_tolerant: false },
] as const;

const WORKERS = 4;
const ANON_PAGES = 128;
const FILE_PAGES = 64;
const MAX_PINS = 20;

/** Why the kernel invalidates, weighted: migration is what long-term pins block. */
const NOTIFIER_MIX: ReadonlyArray<readonly [number, (typeof MMU_NOTIFIER_EVENTS)[number]]> = [
  [0.6, 'migrate'], [0.75, 'clear'], [0.9, 'protection_page'], [1, 'soft_dirty'],
];

interface Worker {
  pid: number;
  responds: boolean;
  anon: Region;
  mapped: Region;
}

export function* gpuOdp(ctx: GenContext): Generator<TraceEvent, never, undefined> {
  const { rng, page } = ctx;
  const t = () => ctx.tick(3000);

  for (const gpu of GPUS) yield { type: 'device', ts: t(), ...gpu };
  const files: FileState[] = [];
  for (let i = 0; i < WORKERS; i++) {
    // Half the workers map model weights from the page cache, half an NCCL ring in shmem.
    const shmem = i % 2 === 1;
    const f = { path: shmem ? `/dev/shm/nccl-${i}` : `/data/weights-${i}.bin`, cap: FILE_PAGES * page, size: FILE_PAGES * page, hole: null };
    files.push(f);
    yield shmem ? { type: 'file', ts: t(), file: f.path, size: f.size, shmem: true } : { type: 'file', ts: t(), file: f.path, size: f.size };
  }
  const admin = ctx.newPid();
  yield { type: 'proc', ts: t(), pid: admin, comm: 'cleanup' };

  const workers: Worker[] = [];
  const pins = new Bag<LivePin>();

  function* map(w: Worker, r: Region): Generator<TraceEvent, void, undefined> {
    yield r.file
      ? { type: 'mmap', ts: t(), pid: w.pid, addr: r.addr, len: r.len, file: r.file.path, off: 0 }
      : { type: 'mmap', ts: t(), pid: w.pid, addr: r.addr, len: r.len };
    r.mapped = true;
  }

  function* spawn(w: Worker): Generator<TraceEvent, void, undefined> {
    w.pid = ctx.newPid();
    yield w.responds
      ? { type: 'proc', ts: t(), pid: w.pid, comm: 'trainer', notify_response_ns: rng.int(50, 5000) * 1000 }
      : { type: 'proc', ts: t(), pid: w.pid, comm: 'trainer' };
    yield* map(w, w.anon);
    yield* map(w, w.mapped);
  }

  for (let i = 0; i < WORKERS; i++) {
    const anon: Region = { addr: ctx.newSlot(), len: ANON_PAGES * page, file: null, off: 0, shared: true, mapped: false };
    const mapped: Region = { addr: ctx.newSlot(), len: FILE_PAGES * page, file: files[i]!, off: 0, shared: true, mapped: false };
    const w: Worker = { pid: 0, responds: i !== WORKERS - 1, anon, mapped };
    workers.push(w);
    yield* spawn(w);
  }

  for (;;) {
    const r = rng.next();
    if (r < 0.05) {
      // An invalidation the kernel issued for its own reasons, mostly over a pinned range.
      const w = rng.pick(workers);
      const p = pins.pick(rng);
      let start: number;
      let end: number;
      let pid = w.pid;
      if (p && p.region.mapped && rng.chance(0.7)) {
        pid = p.pid;
        start = p.addr;
        end = p.addr + rng.int(1, p.len / page) * page;
      } else {
        const reg = rng.chance(0.6) ? w.anon : w.mapped;
        if (!reg.mapped) continue;
        const first = rng.int(0, reg.len / page - 1);
        start = reg.addr + first * page;
        end = start + rng.int(1, Math.min(16, reg.len / page - first)) * page;
      }
      const x = rng.next();
      const event = NOTIFIER_MIX.find(([w]) => x < w)![1];
      yield { type: 'mmu_notifier', ts: t(), pid, start, end, event };
    } else if (r < 0.056) {
      // munmap of a whole region with live pins in it: the pins keep their pages.
      const p = pins.pick(rng);
      if (!p || !p.region.mapped) continue;
      yield { type: 'munmap', ts: t(), pid: p.pid, addr: p.region.addr, len: p.region.len };
      p.region.mapped = false;
    } else if (r < 0.07) {
      const w = rng.pick(workers);
      const reg = w.anon.mapped ? w.mapped : w.anon;
      if (reg.mapped) continue;
      yield* map(w, reg);
    } else if (r < 0.074) {
      // Truncate of a mapped, pinned file; its owner may answer the notification.
      const p = pins.pick(rng);
      const f = p?.region.file;
      if (!p || !f || f.size !== f.cap) continue;
      const newSize = p.addr - p.region.addr + rng.int(0, p.len / page - 1) * page;
      yield { type: 'truncate', ts: t(), pid: admin, comm: 'cleanup', file: f.path, size: newSize };
      f.size = newSize;
    } else if (r < 0.084) {
      const w = rng.pick(workers);
      const f = w.mapped.file!;
      if (f.size === f.cap) continue;
      const gone = { off: f.size, len: f.cap - f.size };
      for (const q of pins.take((q) => q.region === w.mapped && overlaps(q, w.mapped, gone) && rng.chance(0.7))) {
        yield { type: 'unpin', ts: t(), pin: q.handle };
      }
      yield { type: 'write', ts: t(), pid: w.pid, file: f.path, off: gone.off, len: gone.len };
      f.size = f.cap;
    } else if (r < 0.0855) {
      const w = rng.pick(workers);
      yield { type: 'exit', ts: t(), pid: w.pid };
      pins.take((q) => q.owner === w);
      w.anon.mapped = false;
      w.mapped.mapped = false;
      yield* spawn(w);
    } else if ((r < 0.135 && pins.size < MAX_PINS) || pins.size === 0) {
      const w = rng.pick(workers);
      const reg = rng.chance(0.6) ? w.anon : w.mapped;
      const range = pickPinRange(rng, reg, page, 16);
      if (!range) continue;
      const handle = ctx.newHandle();
      const write = rng.chance(0.8);
      const dev = rng.pick(GPUS).dev;
      yield { type: 'pin', ts: t(), pid: w.pid, pin: handle, dev, addr: range.addr, len: range.len, longterm: true, write };
      pins.add({ handle, pid: w.pid, addr: range.addr, len: range.len, write, region: reg, owner: w });
    } else if (r < 0.165) {
      const q = pins.pick(rng)!;
      yield { type: 'unpin', ts: t(), pin: q.handle };
      pins.remove(q);
    } else {
      yield dmaOn(ctx, pins.pick(rng)!, 0.6, 200_000);
    }
  }
}
