// Edge cases of the model found by reading model.md rule by rule: bytes
// that count each page once and only the pages that matter, ranges that
// cover every page they touch, and causal chains that name the event
// behind *this* page, not the last such event anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replay } from '../src/replay/engine.js';
import type { Finding, StrategyId } from '../src/replay/types.js';
import type { IndexedEvent } from '../src/trace/events.js';

/** Each finding as [kind, bytes, file, page, chain indices], per strategy. */
function replay(strategies: StrategyId[], events: object[], leaseBreakNs = 45e9): Record<string, unknown[][]> {
  const found: Finding[][] = strategies.map(() => []);
  const r = new Replay(strategies, { pageSize: 4096, leaseBreakNs }, found.map((out) => [{ add: (f: Finding) => void out.push(f) }]));
  events.forEach((e, index) => r.feed({ ...e, index } as IndexedEvent));
  r.finish();
  r.checkInvariants();
  return Object.fromEntries(strategies.map((s, i) => [s, found[i]!.map((f) => [f.kind, f.bytes, f.file, f.page, f.chain.map((l) => l.index)])]));
}

function dropped(strategy: StrategyId, events: object[], leaseBreakNs: number): number {
  const r = new Replay([strategy], { pageSize: 4096, leaseBreakNs }, [[]]);
  events.forEach((e, index) => r.feed({ ...e, index } as IndexedEvent));
  r.finish();
  return r.states[0]!.dropped;
}

const PC = [
  { type: 'device', ts: 0, dev: 'd', remap: true, iommu: true, odp: true },
  { type: 'file', ts: 0, file: '/pc', size: 8192 },
  { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 8192, file: '/pc', off: 0 },
];

test('a truncate failed or stalled by a long-term pin counts the pages that pin holds, not a short-term pin\'s', () => {
  const out = replay(['fail', 'notify'], [
    ...PC,
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 4096, longterm: true, write: true },
    // O_DIRECT on the page cache page next to it: it neither fails nor holds up a truncate.
    { type: 'pin', ts: 3, pid: 1, pin: 2, dev: 'd', addr: 0x101000, len: 4096, longterm: false, write: true },
    { type: 'truncate', ts: 10, pid: 2, file: '/pc', size: 0 },
    { type: 'unpin', ts: 20, pin: 2 },
    { type: 'unpin', ts: 30, pin: 1 },
  ]);
  assert.deepEqual(out.fail, [['op_failed', 4096, '/pc', 0, [3, 5]]]);
  assert.deepEqual(out.notify, [['stall', 4096, '/pc', 0, [3, 5]]]);
});

test('fail: a munmap counts a page two pins hold once, names both pins and the file page', () => {
  const out = replay(['fail'], [
    { type: 'file', ts: 0, file: '/pc', size: 4096 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 4096, file: '/pc', off: 0 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, addr: 0x100000, len: 4096, longterm: true, write: false },
    { type: 'pin', ts: 2, pid: 1, pin: 2, addr: 0x100000, len: 4096, longterm: true, write: false },
    { type: 'munmap', ts: 3, pid: 1, addr: 0x100000, len: 4096 },
  ]);
  assert.deepEqual(out.fail, [['op_failed', 4096, '/pc', 0, [2, 3, 4]]]);
});

test('fail: MAP_FIXED over a pinned page is refused as munmap is, and the pin keeps working', () => {
  // The mmap unmaps the old range first (mmap_region), so it meets the same EBUSY. Had it
  // replaced the mapping, the munmap after it would remove an unpinned page and succeed.
  const out = replay(['fail', 'pin'], [
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 4096 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, addr: 0x100000, len: 4096, longterm: true, write: true },
    { type: 'mmap', ts: 3, pid: 1, addr: 0x100000, len: 4096 },
    { type: 'munmap', ts: 4, pid: 1, addr: 0x100000, len: 4096 },
    { type: 'dma', ts: 5, pin: 1, off: 0, len: 4096, dir: 'write' },
  ]);
  assert.deepEqual(out.fail, [['op_failed', 4096, null, 0, [1, 2]], ['op_failed', 4096, null, 0, [1, 3]]]);
  // Under pin the mmap replaced the page: the pin's frame is disconnected, the write lost.
  assert.deepEqual(out.pin, [['lost_write', 4096, null, 0, [1, 2, 4]]]);
});

test('munmap and mmap take every page their range touches', () => {
  // 16 bytes inside page 1 of the mapping unmap all of page 1: the ODP mirror faults there.
  const unmap = replay(['odp'], [
    ...PC,
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 8192, longterm: true, write: true },
    { type: 'munmap', ts: 3, pid: 1, addr: 0x101800, len: 16 },
    { type: 'dma', ts: 4, pin: 1, off: 0, len: 8192, dir: 'write' },
  ]);
  assert.deepEqual(unmap.odp, [['dma_fault', 4096, null, 1, [3, 4, 5]]]);
  // A mapping at 0x100800 maps pages 0x100 and 0x101 to file pages 0 and 1: both truncated.
  const map = replay(['pin'], [
    { type: 'device', ts: 0, dev: 'd' },
    { type: 'file', ts: 0, file: '/pc', size: 8192 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100800, len: 4096, file: '/pc', off: 0 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100800, len: 4096, longterm: true, write: true },
    { type: 'truncate', ts: 3, pid: 2, file: '/pc', size: 0 },
    { type: 'dma', ts: 4, pin: 1, off: 0, len: 4096, dir: 'write' },
  ]);
  assert.deepEqual(map.pin, [['lost_write', 4096, '/pc', 0, [3, 4, 5]]]);
});

test('a writeback race names the writeback window open on that page', () => {
  const out = replay(['pin'], [
    ...PC,
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 8192, longterm: true, write: true },
    { type: 'writeback', ts: 3, file: '/pc', off: 0, len: 4096, phase: 'start' },
    // A later window on page 1, closed before the DMA: not the one page 0 races.
    { type: 'writeback', ts: 4, file: '/pc', off: 4096, len: 4096, phase: 'start' },
    { type: 'writeback', ts: 5, file: '/pc', off: 4096, len: 4096, phase: 'end' },
    { type: 'dma', ts: 6, pin: 1, off: 0, len: 8192, dir: 'write' },
  ]);
  assert.deepEqual(out.pin, [['writeback_race', 4096, '/pc', 0, [3, 4, 7]]]);
});

test('odp: a fault names the munmap or the truncate that removed that page, not the last one', () => {
  const out = replay(['odp'], [
    { type: 'device', ts: 0, dev: 'd', odp: true },
    { type: 'file', ts: 0, file: '/pc', size: 16384 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 4096, file: '/pc', off: 0 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x200000, len: 4096 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 4096, longterm: true, write: true },
    { type: 'munmap', ts: 3, pid: 1, addr: 0x100000, len: 4096 }, // 5: removes pin 1's page
    { type: 'munmap', ts: 4, pid: 1, addr: 0x200000, len: 4096 }, // 6: elsewhere
    { type: 'dma', ts: 5, pin: 1, off: 0, len: 4096, dir: 'write' },
    { type: 'mmap', ts: 6, pid: 1, addr: 0x300000, len: 16384, file: '/pc', off: 0 },
    { type: 'pin', ts: 7, pid: 1, pin: 2, dev: 'd', addr: 0x300000, len: 16384, longterm: true, write: true },
    { type: 'truncate', ts: 8, pid: 2, file: '/pc', size: 8192 }, // 10: cuts pages 2 and 3
    { type: 'truncate', ts: 9, pid: 2, file: '/pc', size: 4096 }, // 11: cuts page 1
    { type: 'dma', ts: 10, pin: 2, off: 4096, len: 8192, dir: 'write' },
    // Growing the file again brings page 1 back (a hole): only page 3 faults, cut by 10.
    { type: 'truncate', ts: 11, pid: 2, file: '/pc', size: 12288 },
    { type: 'dma', ts: 12, pin: 2, off: 4096, len: 12288, dir: 'read' },
  ]);
  assert.deepEqual(out.odp, [
    ['dma_fault', 4096, null, 0, [4, 5, 7]],
    ['dma_fault', 8192, '/pc', 1, [9, 11, 12]],
    ['dma_fault', 4096, '/pc', 3, [9, 10, 14]],
  ]);
});

test('remap and iommu: a DMA into a redirected page names the truncate that redirected that page', () => {
  const out = replay(['remap', 'iommu'], [
    { type: 'device', ts: 0, dev: 'd', iommu: true, remap: true, fault_tolerant: true },
    { type: 'file', ts: 0, file: '/a', size: 4096 },
    { type: 'file', ts: 0, file: '/b', size: 4096 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 4096, file: '/a', off: 0 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x101000, len: 4096, file: '/b', off: 0 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 8192, longterm: true, write: true },
    { type: 'truncate', ts: 3, pid: 2, file: '/a', size: 0 },
    { type: 'truncate', ts: 4, pid: 2, file: '/b', size: 0 },
    { type: 'dma', ts: 5, pin: 1, off: 0, len: 4096, dir: 'write' },
  ]);
  assert.deepEqual(out.remap, [['lost_write', 4096, '/a', 0, [5, 6, 8]]]);
  assert.deepEqual(out.iommu, [['dma_fault', 4096, '/a', 0, [5, 6, 8]]]);
});

test('migration_blocked names the blocked page\'s file and index', () => {
  const out = replay(['pin'], [
    { type: 'file', ts: 0, file: '/a', size: 4096 },
    { type: 'file', ts: 0, file: '/b', size: 4096 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 4096, file: '/a', off: 0 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x101000, len: 4096, file: '/b', off: 0 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, addr: 0x100000, len: 8192, longterm: true, write: false },
    { type: 'mmu_notifier', ts: 3, pid: 1, start: 0x101000, end: 0x102000, event: 'migrate' },
  ]);
  assert.deepEqual(out.pin, [['migration_blocked', 4096, '/b', 0, [4, 5]]]);
});

test('a write of zero bytes does not move EOF', () => {
  // write(2) of nothing changes no i_size: page 1 stays past EOF and the mirror faults there.
  const out = replay(['odp'], [
    { type: 'device', ts: 0, dev: 'd', odp: true },
    { type: 'file', ts: 0, file: '/pc', size: 4096 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 8192, file: '/pc', off: 0 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 8192, longterm: true, write: true },
    { type: 'write', ts: 3, pid: 2, file: '/pc', off: 8192, len: 0 },
    { type: 'dma', ts: 4, pin: 1, off: 4096, len: 4096, dir: 'read' },
  ]);
  assert.deepEqual(out.odp, [['dma_fault', 4096, '/pc', 1, [3, 5]]]);
});

test('kill: after a killed process\'s exit its pid is a new process, whose events are replayed', () => {
  const events = [
    { type: 'device', ts: 0, dev: 'd' },
    { type: 'file', ts: 0, file: '/dax', dax: true, size: 4096 },
    { type: 'file', ts: 0, file: '/pc', size: 4096 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 4096, file: '/dax', off: 0 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 4096, longterm: true, write: true },
    { type: 'truncate', ts: 100, pid: 2, file: '/dax', size: 0 }, // the lease break kills pid 1 at 1100
    { type: 'exit', ts: 5000, pid: 1 }, // dropped: the process is gone already
    { type: 'mmap', ts: 6000, pid: 1, addr: 0x100000, len: 4096, file: '/pc', off: 0 },
    { type: 'pin', ts: 6001, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 4096, longterm: false, write: true },
    { type: 'truncate', ts: 6002, pid: 3, file: '/pc', size: 0 },
    { type: 'write', ts: 6003, pid: 3, file: '/pc2', off: 0, len: 4096 },
    { type: 'dma', ts: 6004, pin: 1, off: 0, len: 4096, dir: 'write' },
  ];
  const out = replay(['kill'], events, 1000);
  assert.deepEqual(out.kill, [
    ['killed', 4096, '/dax', 0, [4, 5]], // named by the truncate it was killed for: its file and first page
    ['stall', 4096, '/dax', 0, [4, 5]],
    // The new process's short-term pin keeps the orphaned page cache page: its write is lost.
    ['lost_write', 4096, '/pc', 0, [8, 9, 11]],
  ]);
  assert.equal(dropped('kill', events, 1000), 1);
});

test('a read pin of a DAX hole holds the zero page: no block, zeros right until the file has storage there', () => {
  const out = replay(['pin'], [
    { type: 'device', ts: 0, dev: 'd' },
    { type: 'file', ts: 0, file: '/dax', dax: true, size: 8192 },
    { type: 'punch_hole', ts: 1, pid: 2, file: '/dax', off: 4096, len: 4096 },
    { type: 'mmap', ts: 2, pid: 1, addr: 0x100000, len: 8192, file: '/dax', off: 0 },
    // dax_load_hole(): page 1 is the zero page, no block allocated for it.
    { type: 'pin', ts: 3, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 8192, longterm: true, write: false },
    { type: 'dma', ts: 4, pin: 1, off: 4096, len: 4096, dir: 'read' }, // zeros are the hole's data: fine
    { type: 'write', ts: 5, pid: 2, file: '/dax', off: 4096, len: 4096 }, // the file gets a block there
    { type: 'dma', ts: 6, pin: 1, off: 4096, len: 100, dir: 'read' }, // still zeros: stale
    { type: 'dma', ts: 7, pin: 1, off: 4096, len: 10, dir: 'write' }, // into the zero page: lost
    { type: 'truncate', ts: 8, pid: 2, file: '/dax', size: 0 },
    { type: 'unpin', ts: 9, pin: 1 },
  ]);
  assert.deepEqual(out.pin, [
    ['stale_read', 100, '/dax', 1, [4, 7]],
    ['lost_write', 10, '/dax', 1, [4, 8]],
    // Only page 0's block was pinned, so only it leaks.
    ['block_leak', 4096, '/dax', 0, [4, 9]],
  ]);
});

test('a refused pin names its first file page, or page 0 of the pin for anonymous memory', () => {
  const out = replay(['refuse'], [
    { type: 'device', ts: 0, dev: 'd' },
    { type: 'file', ts: 0, file: '/dax', dax: true, size: 16384 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x100000, len: 4096 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x101000, len: 8192, file: '/dax', off: 8192 },
    // Page 0 is anonymous, page 1 is /dax page 2: a DAX mapping in the range refuses the pin.
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'd', addr: 0x100000, len: 8192, longterm: true, write: true },
  ]);
  assert.deepEqual(out.refuse, [['pin_refused', 8192, '/dax', 2, [4]]]);
});

test('notify: a process answers the notification even when the deadline ended the wait first', () => {
  // notify_response_ns 5 s, lease break 1 s: the deadline bounces the page at 1 s, the owner still
  // lets go at 5 s, so the DMA at 7 s is dropped (a released pin moves no data).
  const events = [
    { type: 'device', ts: 0, dev: 'd', remap: true },
    { type: 'file', ts: 0, file: '/f', dax: true, size: 4096 },
    { type: 'proc', ts: 0, pid: 1, notify_response_ns: 5e9 },
    { type: 'mmap', ts: 10, pid: 1, addr: 0x1000, len: 4096, file: '/f', off: 0 },
    { type: 'pin', ts: 20, pid: 1, pin: 1, dev: 'd', addr: 0x1000, len: 4096, longterm: true, write: true },
    { type: 'truncate', ts: 1000, pid: 2, file: '/f', size: 0 },
    { type: 'dma', ts: 3e9, pin: 1, off: 0, len: 4096, dir: 'write' },
    { type: 'dma', ts: 7e9, pin: 1, off: 0, len: 4096, dir: 'write' },
  ];
  const out = replay(['notify'], events, 1e9);
  assert.deepEqual(out.notify, [
    ['bounce_copy', 4096, '/f', 0, [4, 5]],
    ['stall', 4096, '/f', 0, [4, 5]],
    ['lost_write', 4096, '/f', 0, [4, 5, 6]],
  ]);
  assert.equal(dropped('notify', events, 1e9), 1);
});

test('odp: a truncate waits only for DMA in flight on its own file and pages; a munmap settles the DMA through it', () => {
  const base = [
    { type: 'device', ts: 0, dev: 'd', odp: true },
    { type: 'file', ts: 0, file: '/f', size: 45056 },
    { type: 'file', ts: 0, file: '/g', size: 4096 },
    { type: 'mmap', ts: 10, pid: 1, addr: 0x1000, len: 4096, file: '/f', off: 0 },
    { type: 'mmap', ts: 10, pid: 1, addr: 0x2000, len: 4096, file: '/g', off: 0 },
    { type: 'mmap', ts: 10, pid: 1, addr: 0x3000, len: 4096, file: '/f', off: 40960 },
    { type: 'pin', ts: 20, pid: 1, pin: 1, dev: 'd', addr: 0x1000, len: 12288, longterm: true, write: true },
    // In flight until 11000 on /f page 0, /g page 0 and /f page 10.
    { type: 'dma', ts: 1000, pin: 1, off: 0, len: 12288, dir: 'write', dur: 10000 },
  ];
  const out = replay(['odp'], [
    ...base,
    { type: 'truncate', ts: 2000, pid: 2, file: '/g', size: 0 }, // 8: the second file's page waits too
    { type: 'punch_hole', ts: 3000, pid: 2, file: '/f', off: 12288, len: 12288 }, // 9: pages 3-5, nothing in flight
  ]);
  assert.deepEqual(out.odp, [['stall', 4096, '/g', 0, [6, 7, 8]]]);
  const unmapped = replay(['odp'], [
    ...base,
    { type: 'munmap', ts: 1500, pid: 1, addr: 0x1000, len: 12288 },
    { type: 'truncate', ts: 2000, pid: 2, file: '/f', size: 0 }, // no mirror left: nothing to wait for
  ]);
  assert.deepEqual(unmapped.odp, []);
});

test('a block, a page, a frame counts once however many pin pages map it', () => {
  // One pin over two mappings of the same DAX block.
  const events = [
    { type: 'device', ts: 0, dev: 'd' },
    { type: 'file', ts: 0, file: '/f', dax: true, size: 4096 },
    { type: 'mmap', ts: 10, pid: 1, addr: 0x1000, len: 4096, file: '/f', off: 0 },
    { type: 'mmap', ts: 10, pid: 1, addr: 0x2000, len: 4096, file: '/f', off: 0 },
    { type: 'pin', ts: 20, pid: 1, pin: 1, dev: 'd', addr: 0x1000, len: 8192, longterm: true, write: true },
    { type: 'mmu_notifier', ts: 500, pid: 1, start: 0x1000, end: 0x3000, event: 'migrate' },
    { type: 'truncate', ts: 1000, pid: 2, file: '/f', size: 0 },
    { type: 'unpin', ts: 2000, pin: 1 },
  ];
  const out = replay(['pin', 'kill'], events, 100);
  assert.deepEqual(out.pin!.map((f) => [f[0], f[1]]), [['migration_blocked', 4096], ['block_leak', 4096]]);
  assert.deepEqual(out.kill!.map((f) => [f[0], f[1]]), [['migration_blocked', 4096], ['killed', 4096], ['stall', 4096]]);
});
