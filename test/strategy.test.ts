// Every strategy on tiny hand-built traces, with exact counts, bytes,
// durations and causal chains worked out from model.md by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replay } from '../src/replay/engine.js';
import { STRATEGY_IDS, type Finding, type FindingKind, type StrategyId } from '../src/replay/types.js';
import type { IndexedEvent } from '../src/trace/events.js';

type Raw = { type: string; [k: string]: unknown };

interface Outcome {
  findings: Record<StrategyId, Finding[]>;
  dropped: Record<StrategyId, number>;
}

/** Numbers the events, replays them under `strategies`, and checks the model's invariants after every event. */
function run(raw: Raw[], lease = 45e9, strategies: StrategyId[] = [...STRATEGY_IDS]): Outcome {
  const findings = {} as Record<StrategyId, Finding[]>;
  const sinks = strategies.map((s) => {
    findings[s] = [];
    return [{ add: (f: Finding) => findings[s].push(f) }];
  });
  const r = new Replay(strategies, { pageSize: 4096, leaseBreakNs: lease }, sinks);
  raw.forEach((e, index) => {
    r.feed({ ...e, index } as unknown as IndexedEvent);
    r.checkInvariants();
  });
  r.finish();
  r.checkInvariants();
  const dropped = {} as Record<StrategyId, number>;
  strategies.forEach((s, i) => (dropped[s] = r.states[i]!.dropped));
  return { findings, dropped };
}

/** kind -> count, only kinds that occurred. */
function counts(fs: Finding[]): Partial<Record<FindingKind, number>> {
  const c: Partial<Record<FindingKind, number>> = {};
  for (const f of fs) c[f.kind] = (c[f.kind] ?? 0) + 1;
  return c;
}

const one = (fs: Finding[], kind: FindingKind): Finding => {
  const xs = fs.filter((f) => f.kind === kind);
  assert.equal(xs.length, 1, `one ${kind} expected, got ${JSON.stringify(fs.map((f) => f.kind))}`);
  return xs[0]!;
};
const cause = (f: Finding) => f.chain.map((c) => c.index);

const A = 0x7f0000000000;
const daxReuse: Raw[] = [
  { type: 'device', ts: 0, dev: 'nic', remap: true, iommu: true }, // 0
  { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 8192 }, // 1
  { type: 'file', ts: 0, file: '/pmem/b', dax: true, size: 0 }, // 2
  { type: 'mmap', ts: 10, pid: 42, addr: A, len: 8192, file: '/pmem/a' }, // 3
  { type: 'pin', ts: 20, pid: 42, pin: 17, dev: 'nic', addr: A, len: 8192, longterm: true, write: true }, // 4
  { type: 'truncate', ts: 50, pid: 7, file: '/pmem/a', size: 0 }, // 5
  { type: 'write', ts: 60, pid: 7, file: '/pmem/b', off: 0, len: 8192 }, // 6
  { type: 'dma', ts: 70, pin: 17, off: 0, len: 8192, dir: 'write' }, // 7
  { type: 'dma', ts: 80, pin: 17, off: 100, len: 10, dir: 'read' }, // 8
  { type: 'unpin', ts: 110, pin: 17 }, // 9
];

test('DAX truncate then reuse: every strategy', () => {
  const { findings: f, dropped } = run(daxReuse);
  assert.deepEqual(counts(f.none), { corruption: 1, info_leak: 1 });
  const c = one(f.none, 'corruption');
  assert.deepEqual([c.bytes, c.pid, c.dev, c.pin, c.file, c.page], [8192, 42, 'nic', 17, '/pmem/a', 0]);
  assert.deepEqual(cause(c), [4, 5, 6, 7], 'pin, the truncate that freed, the write that reused, the dma');
  assert.equal(one(f.none, 'info_leak').bytes, 10, 'bytes of the DMA, not whole pages');

  assert.deepEqual(counts(f.pin), { lost_write: 1, stale_read: 1, block_leak: 1 });
  const leak = one(f.pin, 'block_leak');
  assert.deepEqual([leak.bytes, leak.dur_ns, leak.ts], [8192, 60, 50]);
  assert.deepEqual(cause(leak), [4, 5]);
  assert.deepEqual(cause(one(f.pin, 'lost_write')), [4, 5, 7]);

  for (const s of ['notify', 'kill'] as const) {
    assert.deepEqual(counts(f[s]), { stall: 1 }, s);
    const st = one(f[s], 'stall');
    assert.deepEqual([st.dur_ns, st.bytes, st.ts, st.pid], [60, 8192, 50, 7], 'waits for the unpin, well before the deadline');
    assert.deepEqual(cause(st), [4, 5]);
  }
  assert.deepEqual(counts(f.fail), { op_failed: 1 });
  assert.deepEqual(cause(one(f.fail, 'op_failed')), [4, 5]);
  assert.deepEqual(counts(f.remap), { lost_write: 1, stale_read: 1 });
  assert.deepEqual(counts(f.iommu), { dma_fault: 1, device_hang: 1 });
  assert.equal(one(f.iommu, 'dma_fault').bytes, 8192);
  assert.equal(dropped.iommu, 1, 'the read after the hang moves nothing');
  for (const s of ['odp', 'refuse'] as const) {
    assert.deepEqual(counts(f[s]), { pin_refused: 1 }, s);
    assert.equal(dropped[s], 2);
  }
});

test('iommu: a fault-tolerant device reports the fault and goes on; without an IOMMU the device falls back to pin', () => {
  const tol = daxReuse.map((e) => (e.type === 'device' ? { ...e, fault_tolerant: true } : e));
  const a = run(tol, 45e9, ['iommu']);
  assert.deepEqual(counts(a.findings.iommu), { dma_fault: 2 });
  const noIommu = daxReuse.map((e) => (e.type === 'device' ? { ...e, iommu: false, remap: false } : e));
  const b = run(noIommu, 45e9, ['iommu', 'remap']);
  assert.deepEqual(counts(b.findings.iommu), { lost_write: 1, stale_read: 1, block_leak: 1 });
  assert.deepEqual(counts(b.findings.remap), { lost_write: 1, stale_read: 1, block_leak: 1 });
});

test('notify answered: the owner releases after notify_response_ns; its later DMA is dropped; the trace unpin changes nothing', () => {
  const ev: Raw[] = [
    { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 4096 },
    { type: 'proc', ts: 0, pid: 42, notify_response_ns: 1000 },
    { type: 'mmap', ts: 10, pid: 42, addr: A, len: 4096, file: '/pmem/a' },
    { type: 'pin', ts: 20, pid: 42, pin: 1, dev: 'nic', addr: A, len: 4096, longterm: true, write: true }, // 3
    { type: 'truncate', ts: 100, file: '/pmem/a', size: 0 }, // 4
    { type: 'dma', ts: 1100, pin: 1, off: 0, len: 4096, dir: 'write' }, // at the release: sees the pin as it was
    { type: 'dma', ts: 2000, pin: 1, off: 0, len: 4096, dir: 'write' }, // dropped
    { type: 'unpin', ts: 3000, pin: 1 },
  ];
  const { findings: f, dropped } = run(ev, 45e9, ['notify', 'kill']);
  for (const s of ['notify', 'kill'] as const) {
    assert.deepEqual(counts(f[s]), { stall: 1 });
    assert.equal(one(f[s], 'stall').dur_ns, 1000);
    assert.deepEqual(cause(one(f[s], 'stall')), [3, 4]);
    assert.equal(dropped[s], 1);
  }
});

test('lease-break deadline: notify bounce-copies for a device that can remap and kills otherwise; kill kills both', () => {
  const B = 0x7f1000000000;
  const ev: Raw[] = [
    { type: 'device', ts: 0, dev: 'remapper', remap: true },
    { type: 'device', ts: 0, dev: 'plain' },
    { type: 'file', ts: 0, file: '/pmem/x', dax: true, size: 4096 },
    { type: 'file', ts: 0, file: '/pmem/y', dax: true, size: 4096 },
    { type: 'mmap', ts: 1, pid: 1, addr: A, len: 4096, file: '/pmem/x' },
    { type: 'mmap', ts: 1, pid: 2, addr: B, len: 4096, file: '/pmem/y' }, // 5
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'remapper', addr: A, len: 4096, longterm: true, write: true }, // 6
    { type: 'pin', ts: 2, pid: 2, pin: 2, dev: 'plain', addr: B, len: 4096, longterm: true, write: true }, // 7
    { type: 'truncate', ts: 100, file: '/pmem/x', size: 0 }, // 8
    { type: 'truncate', ts: 100, file: '/pmem/y', size: 0 }, // 9
    { type: 'dma', ts: 2000, pin: 1, off: 0, len: 4096, dir: 'write' }, // 10
    { type: 'dma', ts: 2000, pin: 2, off: 0, len: 4096, dir: 'write' }, // 11
    { type: 'mmap', ts: 2500, pid: 2, addr: B, len: 4096 }, // 12: a dead process does nothing
    { type: 'unpin', ts: 5000, pin: 1 },
  ];
  const { findings: f, dropped } = run(ev, 1000, ['notify', 'kill']);
  assert.deepEqual(counts(f.notify), { bounce_copy: 1, killed: 1, stall: 2, lost_write: 1 });
  const bc = one(f.notify, 'bounce_copy');
  assert.deepEqual([bc.ts, bc.bytes, bc.pin], [1100, 4096, 1]);
  assert.deepEqual(cause(bc), [6, 8]);
  const k = one(f.notify, 'killed');
  assert.deepEqual([k.ts, k.pid, k.bytes], [1100, 2, 4096]);
  assert.deepEqual(f.notify.filter((x) => x.kind === 'stall').map((x) => x.dur_ns), [1000, 1000]);
  assert.deepEqual(cause(one(f.notify, 'lost_write')), [6, 8, 10], 'the device writes to the bounce page');
  assert.equal(dropped.notify, 2);
  assert.deepEqual(counts(f.kill), { killed: 2, stall: 2 });
  assert.equal(dropped.kill, 3);
});

test('short-term pins: a DAX truncate waits for the unpin under every strategy but none; pending at the end is still stalled', () => {
  const ev: Raw[] = [
    { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 4096 },
    { type: 'mmap', ts: 10, pid: 5, addr: A, len: 4096, file: '/pmem/a' },
    { type: 'pin', ts: 20, pid: 5, pin: 3, addr: A, len: 4096 },
    { type: 'truncate', ts: 100, file: '/pmem/a', size: 0 },
    { type: 'unpin', ts: 600, pin: 3 },
  ];
  const { findings: f } = run(ev);
  assert.deepEqual(counts(f.none), {});
  for (const s of STRATEGY_IDS.filter((x) => x !== 'none')) {
    assert.deepEqual(counts(f[s]), { stall: 1 }, s);
    assert.equal(one(f[s], 'stall').dur_ns, 500, s);
  }
  const pending = run([...ev.slice(0, 4), { type: 'write', ts: 900, file: '/other', off: 0, len: 1 }], 45e9, ['pin']);
  const st = one(pending.findings.pin, 'stall');
  assert.equal(st.dur_ns, 800);
  assert.equal(st.pending, true);
});

test('writeback race: DMA write to a page under writeback, under every strategy that leaves it pinned; ODP is immune', () => {
  const ev: Raw[] = [
    { type: 'device', ts: 0, dev: 'gpu', odp: true },
    { type: 'file', ts: 0, file: '/srv/c', size: 8192 },
    { type: 'mmap', ts: 1, pid: 9, addr: A, len: 8192, file: '/srv/c' },
    { type: 'pin', ts: 2, pid: 9, pin: 4, dev: 'gpu', addr: A, len: 8192, longterm: true, write: true },
    { type: 'writeback', ts: 10, file: '/srv/c', off: 0, len: 4096, phase: 'start' }, // 4
    { type: 'dma', ts: 20, pin: 4, off: 2048, len: 4096, dir: 'write' }, // 5: half on the page under writeback
    { type: 'writeback', ts: 30, file: '/srv/c', off: 0, len: 4096, phase: 'end' },
    { type: 'dma', ts: 40, pin: 4, off: 0, len: 4096, dir: 'write' },
  ];
  const { findings: f, dropped } = run(ev);
  for (const s of ['none', 'pin', 'notify', 'kill', 'fail', 'remap', 'iommu'] as const) {
    assert.deepEqual(counts(f[s]), { writeback_race: 1 }, s);
    assert.equal(one(f[s], 'writeback_race').bytes, 2048);
    assert.deepEqual(cause(one(f[s], 'writeback_race')), [3, 4, 5]);
  }
  assert.deepEqual(counts(f.odp), {});
  assert.deepEqual(counts(f.refuse), { pin_refused: 1 }, 'writable long-term pin of a dirty-tracked shared mapping');
  assert.equal(dropped.refuse, 2);
});

test('refuse follows the gup_longterm truth table', () => {
  const F = (file: string, extra: object) => ({ type: 'file', ts: 0, file, size: 4096, ...extra });
  const maps: [string | null, boolean, boolean][] = [
    // file, shared, write
    [null, true, true], // anonymous: ok
    ['/pc', false, true], // private page cache, write (COW): ok
    ['/shm', true, true], // shmem, shared write: ok
    ['/pc', true, false], // page cache shared read-only: ok
    ['/pc', true, true], // page cache shared write: refused
    ['/dax', true, false], // DAX read-only: refused
    ['/dax', false, false], // DAX private: refused
  ];
  const ev: Raw[] = [F('/pc', {}), F('/shm', { shmem: true }), F('/dax', { dax: true })];
  maps.forEach(([file, shared, write], i) => {
    const addr = A + i * 0x100000;
    ev.push({ type: 'mmap', ts: 1, pid: 1, addr, len: 4096, shared, ...(file ? { file } : {}) });
    ev.push({ type: 'pin', ts: 2, pid: 1, pin: 100 + i, addr, len: 4096, longterm: true, write });
  });
  const { findings: f } = run(ev, 45e9, ['refuse', 'pin']);
  assert.deepEqual(f.refuse.map((x) => x.pin), [104, 105, 106]);
  assert.deepEqual(counts(f.refuse), { pin_refused: 3 });
  assert.deepEqual(counts(f.pin), {});
});

test('private COW copies: truncate zaps a pinned copy (lost, nothing waits or leaks); punch hole keeps it; odp faults', () => {
  const base: Raw[] = [
    { type: 'device', ts: 0, dev: 'nic', odp: true, remap: true, iommu: true },
    { type: 'file', ts: 0, file: '/srv/m', size: 4096 },
    { type: 'mmap', ts: 1, pid: 3, addr: A, len: 4096, file: '/srv/m', shared: false },
    { type: 'pin', ts: 2, pid: 3, pin: 1, dev: 'nic', addr: A, len: 4096, longterm: true, write: true }, // 3
  ];
  const dma: Raw = { type: 'dma', ts: 200, pin: 1, off: 0, len: 4096, dir: 'write' };
  const t = run([...base, { type: 'truncate', ts: 100, file: '/srv/m', size: 0 }, dma]);
  for (const s of ['none', 'pin', 'notify', 'kill', 'fail', 'remap', 'iommu', 'refuse'] as const) {
    assert.deepEqual(counts(t.findings[s]), { lost_write: 1 }, s);
    assert.deepEqual(cause(one(t.findings[s], 'lost_write')), [3, 4, 5], s);
  }
  assert.deepEqual(counts(t.findings.odp), { dma_fault: 1 });
  assert.deepEqual(cause(one(t.findings.odp, 'dma_fault')), [3, 4, 5]);
  const p = run([...base, { type: 'punch_hole', ts: 100, file: '/srv/m', off: 0, len: 4096 }, dma]);
  for (const s of STRATEGY_IDS) assert.deepEqual(counts(p.findings[s]), {}, s);
});

test('migration: blocked by long-term pins; under none the page moves and the device writes to the freed frame', () => {
  const ev: Raw[] = [
    { type: 'device', ts: 0, dev: 'gpu', odp: true },
    { type: 'mmap', ts: 1, pid: 8, addr: A, len: 8192 },
    { type: 'pin', ts: 2, pid: 8, pin: 9, dev: 'gpu', addr: A, len: 8192, longterm: true, write: true }, // 2
    { type: 'mmu_notifier', ts: 10, pid: 8, start: A, end: A + 8192, event: 'migrate' }, // 3
    { type: 'mmu_notifier', ts: 11, pid: 8, start: A, end: A + 8192, event: 'clear' },
    { type: 'dma', ts: 20, pin: 9, off: 0, len: 8192, dir: 'write' }, // 5
  ];
  const { findings: f } = run(ev);
  // Page 0 moves to a fresh frame and frees its old one; page 1's new frame
  // is that just-freed frame (LIFO), so the write to page 0 lands in page 1.
  assert.deepEqual(counts(f.none), { corruption: 1, lost_write: 1 });
  const c = one(f.none, 'corruption');
  assert.deepEqual([c.page, c.bytes, ...cause(c)], [0, 4096, 2, 3, 3, 5]);
  assert.deepEqual([one(f.none, 'lost_write').page, ...cause(one(f.none, 'lost_write'))], [1, 2, 3, 5]);
  for (const s of ['pin', 'notify', 'kill', 'fail', 'remap', 'iommu', 'refuse'] as const) {
    assert.deepEqual(counts(f[s]), { migration_blocked: 1 }, s);
    assert.equal(one(f[s], 'migration_blocked').bytes, 8192);
  }
  assert.deepEqual(counts(f.odp), {});
});

test('munmap of pinned pages: EBUSY under fail; the pin keeps the file pages elsewhere; odp faults', () => {
  const ev: Raw[] = [
    { type: 'device', ts: 0, dev: 'nic', odp: true },
    { type: 'file', ts: 0, file: '/dev/shm/r', shmem: true, size: 4096 },
    { type: 'mmap', ts: 1, pid: 8, addr: A, len: 4096, file: '/dev/shm/r' },
    { type: 'pin', ts: 2, pid: 8, pin: 9, dev: 'nic', addr: A, len: 4096, longterm: true, write: true },
    { type: 'munmap', ts: 10, pid: 8, addr: A, len: 4096 }, // 4
    { type: 'dma', ts: 20, pin: 9, off: 0, len: 4096, dir: 'write' }, // 5
  ];
  const { findings: f } = run(ev);
  assert.deepEqual(counts(f.fail), { op_failed: 1 });
  assert.deepEqual(counts(f.pin), {});
  assert.deepEqual(counts(f.none), {});
  assert.deepEqual(counts(f.odp), { dma_fault: 1 });
  assert.deepEqual(cause(one(f.odp, 'dma_fault')), [3, 4, 5]);
});

test('odp: a truncate waits for DMA in flight; a punched hole re-faults; past EOF faults without hanging the device', () => {
  const ev: Raw[] = [
    { type: 'device', ts: 0, dev: 'gpu', odp: true },
    { type: 'file', ts: 0, file: '/c', size: 8192 },
    { type: 'mmap', ts: 1, pid: 8, addr: A, len: 8192, file: '/c' },
    { type: 'pin', ts: 2, pid: 8, pin: 9, dev: 'gpu', addr: A, len: 8192, longterm: true, write: true }, // 3
    { type: 'dma', ts: 100, pin: 9, off: 4096, len: 4096, dir: 'write', dur: 500 }, // 4
    { type: 'truncate', ts: 200, pid: 7, file: '/c', size: 4096 }, // 5: waits until 600
    { type: 'punch_hole', ts: 700, pid: 7, file: '/c', off: 0, len: 4096 }, // 6
    { type: 'dma', ts: 800, pin: 9, off: 0, len: 4096, dir: 'write' }, // 7: fills the hole
    { type: 'dma', ts: 900, pin: 9, off: 4096, len: 4096, dir: 'read' }, // 8: past EOF
    { type: 'dma', ts: 950, pin: 9, off: 4096, len: 100, dir: 'read' }, // 9: still a fault, no hang
  ];
  const { findings: f, dropped } = run(ev, 45e9, ['odp']);
  assert.deepEqual(counts(f.odp), { stall: 1, dma_fault: 2 });
  const st = one(f.odp, 'stall');
  assert.deepEqual([st.dur_ns, st.bytes], [400, 4096], 'the one removed page the DMA was in flight on');
  assert.deepEqual(cause(st), [3, 4, 5]);
  assert.deepEqual(f.odp.filter((x) => x.kind === 'dma_fault').map((x) => [x.bytes, ...cause(x)]), [[4096, 3, 5, 8], [100, 3, 5, 9]]);
  assert.equal(dropped.odp, 0);
});

test('exit releases the pins, ends a wait, and frees a pinned page cache orphan', () => {
  const ev: Raw[] = [
    { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 4096 },
    { type: 'file', ts: 0, file: '/srv/p', size: 4096 },
    { type: 'mmap', ts: 1, pid: 8, addr: A, len: 4096, file: '/pmem/a' },
    { type: 'mmap', ts: 1, pid: 8, addr: A + 4096, len: 4096, file: '/srv/p' },
    { type: 'pin', ts: 2, pid: 8, pin: 1, addr: A, len: 8192, longterm: true, write: true },
    { type: 'truncate', ts: 100, file: '/pmem/a', size: 0 },
    { type: 'truncate', ts: 100, file: '/srv/p', size: 0 },
    { type: 'exit', ts: 400, pid: 8 },
    { type: 'write', ts: 500, file: '/pmem/z', off: 0, len: 1 },
  ];
  const { findings: f } = run(ev, 45e9, ['pin', 'notify']);
  assert.deepEqual(counts(f.pin), { block_leak: 1 }, 'only the DAX page is a leak; the page cache page is an orphan');
  assert.deepEqual([one(f.pin, 'block_leak').dur_ns, one(f.pin, 'block_leak').bytes], [300, 4096]);
  assert.deepEqual(f.notify.map((x) => [x.kind, x.file, x.dur_ns]), [['stall', '/pmem/a', 300], ['stall', '/srv/p', 300]]);
});

test('one operation frees its pages in ascending order, so the last freed is the first reused', () => {
  const ev: Raw[] = [
    { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 3 * 4096 },
    { type: 'mmap', ts: 1, pid: 8, addr: A, len: 3 * 4096, file: '/pmem/a' },
    { type: 'pin', ts: 2, pid: 8, pin: 1, addr: A, len: 3 * 4096, longterm: true, write: true },
    { type: 'truncate', ts: 10, file: '/pmem/a', size: 0 },
    { type: 'write', ts: 20, file: '/pmem/b', off: 0, len: 1 }, // page cache: DRAM pool, reuses nothing
    { type: 'file', ts: 21, file: '/pmem/c', dax: true, size: 0 },
    { type: 'write', ts: 22, file: '/pmem/c', off: 0, len: 1 }, // 6: takes the frame of page 2
    { type: 'dma', ts: 30, pin: 1, off: 0, len: 3 * 4096, dir: 'write' }, // 7
  ];
  const { findings: f } = run(ev, 45e9, ['none']);
  const c = one(f.none, 'corruption');
  assert.deepEqual([c.page, c.bytes, ...cause(c)], [2, 4096, 2, 3, 6, 7]);
  assert.equal(one(f.none, 'lost_write').bytes, 8192);
});

test('timers of operations that completed early do not pile up (memory follows live state, not events)', () => {
  const ev: Raw[] = [
    { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 0 },
    { type: 'mmap', ts: 0, pid: 1, addr: A, len: 4096, file: '/pmem/a' },
  ];
  for (let k = 0; k < 2000; k++) {
    const ts = 10 + k * 10;
    ev.push({ type: 'write', ts, file: '/pmem/a', off: 0, len: 4096 });
    ev.push({ type: 'pin', ts, pid: 1, pin: k, addr: A, len: 4096, longterm: true, write: true });
    ev.push({ type: 'truncate', ts: ts + 1, file: '/pmem/a', size: 0 });
    ev.push({ type: 'unpin', ts: ts + 2, pin: k });
  }
  const strategies: StrategyId[] = ['notify'];
  const stalls: number[] = [];
  const r = new Replay(strategies, { pageSize: 4096, leaseBreakNs: 45e9 }, [[{ add: (f: Finding) => stalls.push(f.dur_ns!) }]]);
  let peak = 0;
  ev.forEach((e, index) => {
    r.feed({ ...e, index } as unknown as IndexedEvent);
    peak = Math.max(peak, r.states[0]!.timers.size);
  });
  r.finish();
  assert.equal(stalls.length, 2000);
  assert.ok(stalls.every((d) => d === 1));
  assert.ok(peak <= 600, `${peak} timers held at once`);
});
