// rdma-dax: the seed mail's story. RDMA NICs register long-term writable
// pins (ibv_reg_mr) over MAP_SHARED mappings of DAX files on /mnt/pmem and
// DMA into them steadily; now and then another process truncates or
// punches a hole in a pinned file and a log writer appends to ANOTHER DAX
// file right after, so the freed blocks are handed out again while the NIC
// still writes to them (corruption under `none`).

import type { TraceEvent } from '../trace/events.js';
import { Bag, dmaOn, overlaps, pickPinRange, type FileState, type GenContext, type LivePin, type Region } from './builder.js';

/** One NIC per interesting capability set: ODP+IOMMU, IOMMU only, nothing. */
const NICS = [
  { dev: 'mlx5_0', odp: true, iommu: true, remap: true, fault_tolerant: true },
  { dev: 'mlx4_0', odp: false, iommu: true, remap: false, fault_tolerant: false },
  { dev: 'bnxt_re0', odp: false, iommu: false, remap: false, fault_tolerant: false },
] as const;

const DATA_FILES = 4;
const DATA_PAGES = 64;
const LOG_FILES = 2;
const LOG_PAGES = 128;
const MAX_PINS = 24;

interface Worker {
  pid: number;
  file: FileState;
  region: Region;
}

export function* rdmaDax(ctx: GenContext): Generator<TraceEvent, never, undefined> {
  const { rng, page } = ctx;
  const t = () => ctx.tick(3000);

  for (const nic of NICS) yield { type: 'device', ts: t(), ...nic };
  const data: FileState[] = [];
  for (let i = 0; i < DATA_FILES; i++) {
    const f = { path: `/mnt/pmem/db-${i}.dat`, cap: DATA_PAGES * page, size: DATA_PAGES * page, hole: null };
    data.push(f);
    yield { type: 'file', ts: t(), file: f.path, size: f.size, dax: true };
  }
  const logs: FileState[] = [];
  for (let i = 0; i < LOG_FILES; i++) {
    const f = { path: `/mnt/pmem/wal-${i}.log`, cap: LOG_PAGES * page, size: 0, hole: null };
    logs.push(f);
    yield { type: 'file', ts: t(), file: f.path, size: 0, dax: true };
  }
  // Whoever truncates is never the process that holds the pins.
  const admin = ctx.newPid();
  yield { type: 'proc', ts: t(), pid: admin, comm: 'xfs_io' };
  const logd = ctx.newPid();
  yield { type: 'proc', ts: t(), pid: logd, comm: 'pmem_logd' };

  const workers: Worker[] = [];
  const pins = new Bag<LivePin>();

  function* spawn(w: Worker): Generator<TraceEvent, void, undefined> {
    w.pid = ctx.newPid();
    yield { type: 'proc', ts: t(), pid: w.pid, comm: 'ib_write_bw' };
    yield { type: 'mmap', ts: t(), pid: w.pid, addr: w.region.addr, len: w.region.len, file: w.file.path, off: 0 };
    w.region.mapped = true;
  }

  for (let i = 0; i < DATA_FILES; i++) {
    const region: Region = { addr: ctx.newSlot(), len: DATA_PAGES * page, file: data[i]!, off: 0, shared: true, mapped: false };
    const w: Worker = { pid: 0, file: data[i]!, region };
    workers.push(w);
    yield* spawn(w);
  }

  /** A pin over a whole, intact data file: the victim of the next truncate. */
  const victim = (): LivePin | undefined => {
    const p = pins.pick(rng);
    const f = p?.region.file;
    return f && f.size === f.cap && !f.hole ? p : undefined;
  };

  /** Makes room in a log BEFORE the truncate, so the data file's blocks are the last freed and the first reused. */
  function* logRoom(bytes: number): Generator<TraceEvent, FileState, undefined> {
    const log = rng.pick(logs);
    if (log.size + bytes > log.cap) {
      yield { type: 'truncate', ts: t(), pid: logd, file: log.path, size: 0 };
      log.size = 0;
    }
    return log;
  }

  function* append(log: FileState, bytes: number): Generator<TraceEvent, void, undefined> {
    yield { type: 'write', ts: ctx.tick(500), pid: logd, file: log.path, off: log.size, len: bytes };
    log.size += bytes;
  }

  for (;;) {
    const r = rng.next();
    let p: LivePin | undefined;
    if (r < 0.012 && (p = victim())) {
      // ftruncate of a pinned DAX file, cutting at least the pin's last page.
      const f = p.region.file!;
      const pinOff = p.addr - p.region.addr + p.region.off;
      const newSize = pinOff + rng.int(0, p.len / page - 1) * page;
      const log = yield* logRoom(f.size - newSize);
      yield { type: 'truncate', ts: t(), pid: admin, comm: 'xfs_io', file: f.path, size: newSize };
      const freed = f.size - newSize;
      f.size = newSize;
      yield* append(log, freed);
    } else if (r < 0.018 && (p = victim())) {
      // fallocate(PUNCH_HOLE) of the pinned pages, then another file grows into them.
      const f = p.region.file!;
      const off = p.addr - p.region.addr + p.region.off;
      const len = rng.int(1, p.len / page) * page;
      const log = yield* logRoom(len);
      yield { type: 'punch_hole', ts: t(), pid: admin, comm: 'xfs_io', file: f.path, off, len };
      f.hole = { off, len };
      yield* append(log, len);
    } else if (r < 0.03) {
      // The owner deregisters what it noticed went stale, then rewrites its file to full size.
      const w = rng.pick(workers);
      const f = w.file;
      if (f.size === f.cap && !f.hole) continue;
      const gone = f.hole ?? { off: f.size, len: f.cap - f.size };
      for (const q of pins.take((q) => q.owner === w && overlaps(q, w.region, gone) && rng.chance(0.7))) {
        yield { type: 'unpin', ts: t(), pin: q.handle };
      }
      yield { type: 'write', ts: t(), pid: w.pid, file: f.path, off: gone.off, len: gone.len };
      if (f.hole) f.hole = null;
      else f.size = f.cap;
    } else if (r < 0.032) {
      // The process exits (its pins go with it) and is restarted under a new pid.
      const w = rng.pick(workers);
      yield { type: 'exit', ts: t(), pid: w.pid };
      pins.take((q) => q.owner === w);
      w.region.mapped = false;
      yield* spawn(w);
    } else if ((r < 0.09 && pins.size < MAX_PINS) || pins.size === 0) {
      // ibv_reg_mr: FOLL_LONGTERM, writable unless the MR is remote-read only.
      const w = rng.pick(workers);
      const range = pickPinRange(rng, w.region, page, 8);
      if (!range) continue;
      const handle = ctx.newHandle();
      const write = rng.chance(0.85);
      const dev = rng.pick(NICS).dev;
      yield { type: 'pin', ts: t(), pid: w.pid, pin: handle, dev, addr: range.addr, len: range.len, longterm: true, write };
      pins.add({ handle, pid: w.pid, addr: range.addr, len: range.len, write, region: w.region, owner: w });
    } else if (r < 0.125) {
      const q = pins.pick(rng)!;
      yield { type: 'unpin', ts: t(), pin: q.handle };
      pins.remove(q);
    } else {
      yield dmaOn(ctx, pins.pick(rng)!, 0.65, 50_000);
    }
  }
}
