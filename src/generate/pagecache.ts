// pagecache: ordinary files in the page cache and shmem. O_DIRECT reads
// pin a MAP_SHARED mapping of a page-cache file for a moment (short-term
// pins) and the disk controller DMAs into it, often while the kernel is
// writing the same pages back (writeback start..end); an RDMA NIC holds
// long-term writable pins over MAP_PRIVATE mappings (copy-on-write breaks
// first) and over a shmem ring; truncates and writes go on meanwhile.

import type { TraceEvent } from '../trace/events.js';
import { Bag, dmaOn, overlaps, pickPinRange, type FileState, type GenContext, type LivePin, type Region } from './builder.js';

const DEVICES = [
  { dev: 'nvme0', odp: false, iommu: true, remap: false, fault_tolerant: false },
  { dev: 'mlx5_1', odp: false, iommu: true, remap: true, fault_tolerant: true },
] as const;

const DATA_FILES = 3;
const DATA_PAGES = 64;
const RING_PAGES = 32;
const MAX_SHORT = 8;
const MAX_LONG = 10;

interface Worker {
  pid: number;
  /** MAP_SHARED of its own data file: O_DIRECT buffers. */
  shared: Region;
  /** MAP_PRIVATE of the next data file: long-term pins break COW. */
  priv: Region;
  /** MAP_SHARED of the shmem ring. */
  ring: Region;
}

export function* pagecache(ctx: GenContext): Generator<TraceEvent, never, undefined> {
  const { rng, page } = ctx;
  const t = () => ctx.tick(3000);

  for (const d of DEVICES) yield { type: 'device', ts: t(), ...d };
  const data: FileState[] = [];
  for (let i = 0; i < DATA_FILES; i++) {
    const f = { path: `/srv/pg/base-${i}.db`, cap: DATA_PAGES * page, size: DATA_PAGES * page, hole: null };
    data.push(f);
    yield { type: 'file', ts: t(), file: f.path, size: f.size };
  }
  const ring: FileState = { path: '/dev/shm/ring-0', cap: RING_PAGES * page, size: RING_PAGES * page, hole: null };
  yield { type: 'file', ts: t(), file: ring.path, size: ring.size, shmem: true };
  const files = [...data, ring];
  const admin = ctx.newPid();
  yield { type: 'proc', ts: t(), pid: admin, comm: 'logrotate' };

  const workers: Worker[] = [];
  const short = new Bag<LivePin>();
  const long = new Bag<LivePin>();
  /** Open writeback windows, at most one per file. */
  const windows = new Map<FileState, { off: number; len: number }>();

  for (let i = 0; i < DATA_FILES; i++) {
    const pid = ctx.newPid();
    const w: Worker = {
      pid,
      shared: { addr: ctx.newSlot(), len: DATA_PAGES * page, file: data[i]!, off: 0, shared: true, mapped: true },
      priv: { addr: ctx.newSlot(), len: DATA_PAGES * page, file: data[(i + 1) % DATA_FILES]!, off: 0, shared: false, mapped: true },
      ring: { addr: ctx.newSlot(), len: RING_PAGES * page, file: ring, off: 0, shared: true, mapped: true },
    };
    workers.push(w);
    yield { type: 'proc', ts: t(), pid, comm: 'postgres' };
    yield { type: 'mmap', ts: t(), pid, addr: w.shared.addr, len: w.shared.len, file: w.shared.file!.path, off: 0 };
    yield { type: 'mmap', ts: t(), pid, addr: w.priv.addr, len: w.priv.len, file: w.priv.file!.path, off: 0, shared: false };
    yield { type: 'mmap', ts: t(), pid, addr: w.ring.addr, len: w.ring.len, file: ring.path, off: 0 };
  }

  for (;;) {
    const r = rng.next();
    if (r < 0.03) {
      const f = rng.pick(data);
      if (windows.has(f) || f.size === 0) continue;
      const first = rng.int(0, f.size / page - 1);
      const len = rng.int(1, Math.min(16, f.size / page - first)) * page;
      windows.set(f, { off: first * page, len });
      yield { type: 'writeback', ts: t(), file: f.path, off: first * page, len, phase: 'start' };
    } else if (r < 0.06) {
      const open = [...windows];
      if (open.length === 0) continue;
      const [f, wb] = rng.pick(open);
      windows.delete(f);
      yield { type: 'writeback', ts: t(), file: f.path, off: wb.off, len: wb.len, phase: 'end' };
    } else if (r < 0.12 && short.size < MAX_SHORT) {
      // O_DIRECT read into a shared file mapping, aimed at a page under writeback when there is one.
      const w = rng.pick(workers);
      const wb = windows.get(w.shared.file!);
      let range = pickPinRange(rng, w.shared, page, 4);
      if (wb && rng.chance(0.7) && wb.off + wb.len <= w.shared.file!.size) {
        const first = rng.int(wb.off / page, (wb.off + wb.len) / page - 1);
        range = { addr: w.shared.addr + first * page, len: rng.int(1, Math.min(4, (wb.off + wb.len) / page - first)) * page };
      }
      if (!range) continue;
      const handle = ctx.newHandle();
      const write = rng.chance(0.7);
      yield { type: 'pin', ts: t(), pid: w.pid, pin: handle, dev: 'nvme0', addr: range.addr, len: range.len, longterm: false, write };
      const p = { handle, pid: w.pid, addr: range.addr, len: range.len, write, region: w.shared, owner: w };
      short.add(p);
      yield dmaOn(ctx, p, 1, 100_000);
    } else if (r < 0.19 && short.size > 0) {
      const q = short.pick(rng)!;
      yield { type: 'unpin', ts: t(), pin: q.handle };
      short.remove(q);
    } else if (r < 0.21 && long.size < MAX_LONG) {
      const w = rng.pick(workers);
      const reg = rng.chance(0.6) ? w.priv : w.ring;
      const range = pickPinRange(rng, reg, page, 8);
      if (!range) continue;
      const handle = ctx.newHandle();
      const write = rng.chance(0.8);
      yield { type: 'pin', ts: t(), pid: w.pid, pin: handle, dev: 'mlx5_1', addr: range.addr, len: range.len, longterm: true, write };
      long.add({ handle, pid: w.pid, addr: range.addr, len: range.len, write, region: reg, owner: w });
    } else if (r < 0.225 && long.size > 0) {
      const q = long.pick(rng)!;
      yield { type: 'unpin', ts: t(), pin: q.handle };
      long.remove(q);
    } else if (r < 0.232) {
      // Truncate a file someone has pinned (directly, or through a private copy).
      const p = rng.chance(0.5) ? short.pick(rng) : long.pick(rng);
      const f = p?.region.file;
      if (!p || !f || f.size !== f.cap || f.hole) continue;
      const pinOff = p.addr - p.region.addr + p.region.off;
      yield { type: 'truncate', ts: t(), pid: admin, comm: 'logrotate', file: f.path, size: pinOff };
      f.size = pinOff;
    } else if (r < 0.245) {
      // Regrow a truncated file; the long-term holders deregister what went stale first.
      const f = rng.pick(files);
      if (f.size === f.cap) continue;
      const gone = { off: f.size, len: f.cap - f.size };
      for (const q of long.take((q) => q.region.file === f && overlaps(q, q.region, gone) && rng.chance(0.5))) {
        yield { type: 'unpin', ts: t(), pin: q.handle };
      }
      yield { type: 'write', ts: t(), pid: rng.pick(workers).pid, file: f.path, off: gone.off, len: gone.len };
      f.size = f.cap;
    } else if (r < 0.285) {
      // pwrite inside the file: dirties page cache, allocates nothing new.
      const f = rng.pick(data);
      if (f.size === 0) continue;
      const off = rng.int(0, f.size - 1);
      yield { type: 'write', ts: t(), pid: rng.pick(workers).pid, file: f.path, off, len: rng.int(1, Math.min(f.size - off, 4 * page)) };
    } else {
      const bag = short.size > 0 && (long.size === 0 || rng.chance(0.5)) ? short : long;
      const p = bag.pick(rng);
      if (!p) continue;
      yield dmaOn(ctx, p, p.region.shared ? 1 : 0.6, 100_000);
    }
  }
}
