// The engine end to end: model invariants after every event on generated
// traces (property test), determinism (run to run, 1 thread vs 2),
// worker errors, and the `pinscope replay` command's exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Replay } from '../src/replay/engine.js';
import { analyzeTrace, defaultThreads, splitByCost } from '../src/analysis/analyze.js';
import { generateEvents, writeWorkload, type WorkloadName } from '../src/generate/index.js';
import { FINDING_KINDS, STRATEGY_IDS, type Finding, type FindingKind } from '../src/replay/types.js';
import type { IndexedEvent } from '../src/trace/events.js';
import { TraceInputError } from '../src/trace/errors.js';

const DMA_KINDS = new Set<FindingKind>(['corruption', 'info_leak', 'lost_write', 'stale_read', 'dma_fault', 'writeback_race']);
const BIN = fileURLToPath(new URL('../../bin/pinscope.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'pinscope-replay-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

for (const workload of ['mixed', 'rdma-dax', 'gpu-odp', 'pagecache'] as WorkloadName[]) {
  test(`invariants hold after every event: ${workload}`, () => {
    // Small traces: the checker walks every frame after every event.
    for (const seed of workload === 'mixed' ? [1] : [3]) {
      // Findings of the event being fed, per strategy, to bound DMA bytes per DMA.
      const perEvent = STRATEGY_IDS.map(() => new Map<FindingKind, number>());
      const seen = STRATEGY_IDS.map(() => 0);
      const sinks = STRATEGY_IDS.map((_, i) => [{
        add: (f: Finding) => {
          seen[i]!++;
          if (DMA_KINDS.has(f.kind)) perEvent[i]!.set(f.kind, (perEvent[i]!.get(f.kind) ?? 0) + f.bytes);
          assert.ok(f.bytes >= 0 && Number.isSafeInteger(f.bytes));
          if (f.dur_ns !== undefined) assert.ok(f.dur_ns >= 0);
        },
      }]);
      const r = new Replay([...STRATEGY_IDS], { pageSize: 4096, leaseBreakNs: 1_000_000 }, sinks);
      let index = 0;
      for (const e of generateEvents({ workload, events: 1200, seed })) {
        const ev = { ...e, index: index++ } as IndexedEvent;
        for (const m of perEvent) m.clear();
        r.feed(ev);
        r.checkInvariants();
        for (let i = 0; i < STRATEGY_IDS.length; i++) {
          const st = r.states[i]!;
          assert.ok(st.m.pinnedPages >= 0 && st.m.leakedPages >= 0);
          for (const [kind, bytes] of perEvent[i]!) {
            // Timers fired before this event may add stalls, never DMA findings.
            assert.equal(ev.type, 'dma', `${STRATEGY_IDS[i]}: ${kind} from a ${ev.type}`);
            assert.ok(bytes <= (ev as { len: number }).len, `${STRATEGY_IDS[i]} ${kind}: ${bytes} bytes > DMA of ${(ev as { len: number }).len}`);
          }
        }
      }
      r.finish();
      r.checkInvariants();
      assert.ok(seen.some((n) => n > 0), 'the workload produced findings');
    }
  });
}

test('determinism: byte-identical JSON run to run and whatever the thread split', async () => {
  const path = join(tmp, 'mixed.ndjson');
  await writeWorkload(path, { workload: 'mixed', events: 8000, seed: 7 });
  const opts = { strategies: [...STRATEGY_IDS], leaseBreakNs: 2_000_000, lenient: false, findings: true };
  const a = JSON.stringify(await analyzeTrace(path, { ...opts, threads: 1 }));
  const b = JSON.stringify(await analyzeTrace(path, { ...opts, threads: 1 }));
  const c = JSON.stringify(await analyzeTrace(path, { ...opts, threads: 2 }));
  assert.equal(a, b);
  assert.equal(a, c);
  const s = JSON.parse(a).summary;
  assert.deepEqual(Object.keys(s.strategies), [...STRATEGY_IDS]);
  for (const id of STRATEGY_IDS) {
    assert.deepEqual(Object.keys(s.strategies[id].counts), [...FINDING_KINDS]);
    assert.deepEqual(Object.keys(s.strategies[id].bytes), [...FINDING_KINDS]);
    assert.equal(s.strategies[id].findings.length, FINDING_KINDS.reduce((n, k) => n + s.strategies[id].counts[k], 0));
  }
  assert.equal(s.trace.events_read, 8000);
  assert.deepEqual(s.params, { strategies: [...STRATEGY_IDS], lease_break_ns: 2_000_000, page_size: 4096, lenient: false });
});

test('a bad trace fails the same way in a worker thread as in this one', async () => {
  const path = join(tmp, 'bad.ndjson');
  writeFileSync(path, '{"type":"file","ts":0,"file":"/a","size":4096}\n{"type":"dma","ts":5,"pin":3,"off":0,"len":1,"dir":"write"}\n');
  const opts = { strategies: [...STRATEGY_IDS], leaseBreakNs: 45e9, lenient: false };
  const e1 = await analyzeTrace(path, { ...opts, threads: 1 }).then(() => null, (e: unknown) => e);
  const e2 = await analyzeTrace(path, { ...opts, threads: 2 }).then(() => null, (e: unknown) => e);
  assert.ok(e1 instanceof TraceInputError);
  assert.ok(e2 instanceof TraceInputError);
  assert.equal(e2.message, e1.message);
  const lenient = await analyzeTrace(path, { ...opts, lenient: true, threads: 2 });
  assert.equal(lenient.summary.trace.events_read, 2);
  assert.equal(lenient.summary.trace.events_replayed + lenient.summary.trace.events_skipped, 2);
});

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

test('pinscope replay: --json is the summary; --fail-on exits 1 only when a selected strategy has such a finding', () => {
  const path = join(tmp, 'reuse.ndjson');
  const A = 0x7f0000000000;
  const evs = [
    { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 4096 },
    { type: 'file', ts: 0, file: '/pmem/b', dax: true, size: 0 },
    { type: 'mmap', ts: 1, pid: 1, addr: A, len: 4096, file: '/pmem/a' },
    { type: 'pin', ts: 2, pid: 1, pin: 1, addr: A, len: 4096, longterm: true, write: true },
    { type: 'truncate', ts: 3, file: '/pmem/a', size: 0 },
    { type: 'write', ts: 4, file: '/pmem/b', off: 0, len: 4096 },
    { type: 'dma', ts: 5, pin: 1, off: 0, len: 4096, dir: 'write' },
  ];
  writeFileSync(path, evs.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const j = cli('replay', path, '--json', '--strategy', 'none,pin');
  assert.equal(j.status, 0, j.stderr);
  const s = JSON.parse(j.stdout);
  assert.equal(s.strategies.none.counts.corruption, 1);
  assert.equal(s.strategies.pin.counts.block_leak, 1);
  assert.equal(s.strategies.none.findings, undefined);
  const withF = JSON.parse(cli('replay', path, '--json', '--findings', '--strategy', 'none').stdout);
  assert.deepEqual(withF.strategies.none.findings[0].cause, [3, 4, 5, 6]);
  assert.equal(cli('replay', path, '--fail-on', 'corruption').status, 1);
  assert.equal(cli('replay', path, '--fail-on', 'corruption', '--strategy', 'pin,fail').status, 0);
  assert.equal(cli('replay', path, '--fail-on', 'block_leak,stall', '--strategy', 'pin').status, 1);
  const viaStdin = spawnSync(process.execPath, [BIN, 'replay', '-', '--json', '--strategy', 'none,pin'], {
    encoding: 'utf8', input: evs.map((e) => JSON.stringify(e)).join('\n'),
  });
  assert.equal(viaStdin.status, 0, viaStdin.stderr);
  assert.deepEqual(JSON.parse(viaStdin.stdout).strategies, s.strategies, 'stdin (one thread) gives the same result');
  const html = join(tmp, 'out', 'r.html');
  const h = cli('replay', path, '--strategy', 'none', '--html', html, '--fail-on', 'corruption');
  assert.equal(h.status, 1);
  assert.match(readFileSync(html, 'utf8'), /<html/i);
  const table = cli('replay', path, '--strategy', 'none,odp');
  assert.equal(table.status, 0);
  assert.match(table.stdout, /corruption\s+1 \(4 KiB\)\s+0/);
  assert.match(table.stdout, /^none\s+everyone pays \(1 corruption\)$/m);
});

test('pinscope replay: bad input and bad usage exit 2 with one line, no stack trace', () => {
  const path = join(tmp, 'broken.ndjson');
  writeFileSync(path, '{"type":"file","ts":0,"file":"/a","size":4096}\n{"type":"pin","ts":1,"pid":1,"pin":1,"addr":"0x1000"}\n');
  for (const args of [[path], [path, '--json'], [path, '--strategy', 'bogus'], [path, '--fail-on', 'nothing'], [join(tmp, 'missing.ndjson')]]) {
    const r = cli('replay', ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.match(r.stderr, /^pinscope: /);
  }
  const r = cli('replay', path);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /broken\.ndjson:line 2/);
});

test('the default thread count: one for a small trace or one strategy, two from 16 MiB (gzip counted at 5x) or for stdin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pinscope-threads-'));
  try {
    const small = join(dir, 'small.ndjson');
    const big = join(dir, 'big.ndjson');
    writeFileSync(small, '{"type":"exit","ts":1,"pid":1}\n');
    writeFileSync(big, '');
    truncateSync(big, 16 * 2 ** 20); // only its size is read
    const all = [...STRATEGY_IDS];
    assert.equal(defaultThreads(all, small, false), 1);
    assert.equal(defaultThreads(all, big, false), 2);
    assert.equal(defaultThreads(['pin'], big, false), 1, 'one strategy: nothing to split');
    assert.equal(defaultThreads(all, '-', false), 2, 'standard input: length unknown');
    truncateSync(small, 3 * 2 ** 20);
    assert.equal(defaultThreads(all, small, true), 1, '3 MiB of gzip stands for ~15 MiB of text');
    truncateSync(small, 4 * 2 ** 20);
    assert.equal(defaultThreads(all, small, false), 1);
    assert.equal(defaultThreads(all, small, true), 2, '4 MiB of gzip stands for ~20 MiB of text');
    // Not told: the file's magic bytes say whether it is gzip.
    assert.equal(defaultThreads(all, small), 1, 'no gzip magic: 4 MiB of text');
    writeFileSync(small, gzipSync('{"type":"exit","ts":1,"pid":1}\n'));
    truncateSync(small, 4 * 2 ** 20);
    assert.equal(defaultThreads(all, small), 2, 'gzip magic: 4 MiB counted at 5x');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.equal(defaultThreads(all, fifo), 2, 'a pipe: length unknown, and not read');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the thread split covers every strategy once, in canonical order; the parsing thread takes less', () => {
  for (const n of [1, 2, 3, 9, 12]) {
    const groups = splitByCost([...STRATEGY_IDS], n);
    assert.ok(groups.length >= 1 && groups.length <= n, `${n} threads: ${groups.length} groups`);
    assert.deepEqual(groups.flat().sort(), [...STRATEGY_IDS].sort());
    for (const g of groups) assert.deepEqual(g, STRATEGY_IDS.filter((s) => g.includes(s)));
    // Element 0 is the parsing thread's share and may be empty; a worker never idles.
    for (const g of groups.slice(1)) assert.ok(g.length > 0);
  }
  assert.deepEqual(splitByCost([...STRATEGY_IDS], 1), [[...STRATEGY_IDS]]);
  const [mine, theirs] = splitByCost([...STRATEGY_IDS], 2);
  assert.ok(mine!.length < theirs!.length, 'the parsing thread also parses, so it replays fewer strategies');
  // Parsing costs more than two strategies: both go to the worker.
  assert.deepEqual(splitByCost(['pin', 'odp'], 2), [[], ['pin', 'odp']]);
  assert.deepEqual(splitByCost(['pin', 'odp'], 2, 0), [['odp'], ['pin']]);
});

test('DMA through a settled pin finds exactly what the page-by-page check finds', () => {
  for (const workload of ['mixed', 'rdma-dax', 'pagecache'] as WorkloadName[]) {
    const run = (unsettle: boolean) => {
      const out: Finding[][] = STRATEGY_IDS.map(() => []);
      const sinks = STRATEGY_IDS.map((_, i) => [{ add: (f: Finding) => void out[i]!.push(f) }]);
      const r = new Replay([...STRATEGY_IDS], { pageSize: 4096, leaseBreakNs: 1_000_000 }, sinks);
      let index = 0;
      for (const e of generateEvents({ workload, events: 3000, seed: 5 })) {
        // Forcing every pin off the fast path must change nothing.
        if (unsettle) for (const st of r.states) for (const p of st.m.pins.values()) p.unsettle();
        r.feed({ ...e, index: index++ } as IndexedEvent);
      }
      r.finish();
      return out;
    };
    const fast = run(false);
    assert.ok(fast.some((f) => f.length > 0), `${workload}: findings to compare`);
    assert.deepEqual(fast, run(true), workload);
  }
});

test('a pinned anonymous page that MAP_FIXED replaces: the lost write names the pin, the mmap and the DMA', () => {
  const found: Finding[] = [];
  const r = new Replay(['pin', 'none'], { pageSize: 4096, leaseBreakNs: 1_000_000 }, [[{ add: (f: Finding) => void found.push(f) }], []]);
  const events = [
    { type: 'mmap', ts: 0, pid: 7, addr: 0x10000, len: 8192 },
    { type: 'write', ts: 1, pid: 8, file: '/unrelated', off: 0, len: 4096 },
    { type: 'truncate', ts: 2, pid: 8, file: '/unrelated', size: 0 },
    { type: 'pin', ts: 3, pid: 7, pin: 1, addr: 0x10000, len: 4096, longterm: true, write: true },
    // MAP_FIXED over the pinned page: the pin keeps its frame, disconnected from the process.
    { type: 'mmap', ts: 4, pid: 7, addr: 0x10000, len: 8192 },
    { type: 'dma', ts: 5, pin: 1, off: 0, len: 100, dir: 'write' },
  ];
  events.forEach((e, index) => r.feed({ ...e, index } as IndexedEvent));
  r.finish();
  assert.deepEqual(found.map((f) => [f.kind, f.bytes, f.chain.map((l) => l.index)]), [['lost_write', 100, [3, 4, 5]]]);
});

test('a pin handle the trace reuses after a killed process exits belongs to the new pin under every strategy', async () => {
  // pid 1's long-term pin blocks a truncate; under kill the lease break kills pid 1 at ts 110, so
  // its exit is dropped (counted), releasing the old pin 5's handle. pid 3 then pins handle 5 again:
  // its DMA must reach the new pin (no finding, not dropped), with one or two threads.
  const events = [
    { type: 'device', ts: 0, dev: 'nic' },
    { type: 'file', ts: 0, file: '/pmem/a', dax: true, size: 8192 },
    { type: 'file', ts: 0, file: '/pmem/b', dax: true, size: 8192 },
    { type: 'mmap', ts: 1, pid: 1, addr: '0x10000', len: 8192, file: '/pmem/a' },
    { type: 'pin', ts: 2, pid: 1, pin: 5, dev: 'nic', addr: '0x10000', len: 8192, longterm: true, write: true },
    { type: 'truncate', ts: 10, pid: 2, file: '/pmem/a', size: 0 },
    { type: 'exit', ts: 200, pid: 1 },
    { type: 'mmap', ts: 201, pid: 3, addr: '0x20000', len: 8192, file: '/pmem/b' },
    { type: 'pin', ts: 202, pid: 3, pin: 5, dev: 'nic', addr: '0x20000', len: 8192, longterm: true, write: true },
    { type: 'dma', ts: 203, pin: 5, off: 0, len: 8192, dir: 'write' },
    { type: 'unpin', ts: 204, pin: 5 },
  ];
  const path = join(tmp, 'handle-reuse.ndjson');
  writeFileSync(path, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  for (const threads of [1, 2]) {
    const { summary } = await analyzeTrace(path, { strategies: [...STRATEGY_IDS], leaseBreakNs: 100, lenient: false, threads });
    const kill = summary.strategies.kill!;
    assert.equal(kill.counts.killed, 1, 'the lease break killed pid 1');
    assert.equal(kill.dropped_events, 1, 'only the killed process\'s exit is dropped');
    for (const id of STRATEGY_IDS) {
      const s = summary.strategies[id]!;
      for (const k of ['corruption', 'info_leak', 'lost_write', 'stale_read', 'dma_fault'] as FindingKind[]) {
        assert.equal(s.counts[k], 0, `${id}: ${k} from the new pin's DMA`);
      }
    }
    assert.equal(summary.strategies.pin!.dropped_events, 0);
  }
});

test('a dma event\'s causal link is its index, type and ts: unknown fields on it are ignored, in a stall\'s chain too', () => {
  // odp: the truncate waits for the DMA in flight; the stall's chain names that DMA. The dma line
  // carries a `pid` and a `file` it has no such fields for (ignored, as the wire to a worker drops them).
  const found: Finding[] = [];
  const r = new Replay(['odp', 'pin'], { pageSize: 4096, leaseBreakNs: 1_000_000 }, [[{ add: (f: Finding) => void found.push(f) }], []]);
  const events = [
    { type: 'device', ts: 0, dev: 'gpu0', odp: true },
    { type: 'file', ts: 0, file: '/f', size: 65536 },
    { type: 'mmap', ts: 1, pid: 1, addr: 0x10000, len: 65536, file: '/f', off: 0 },
    { type: 'pin', ts: 2, pid: 1, pin: 1, dev: 'gpu0', addr: 0x10000, len: 8192, longterm: true, write: true },
    { type: 'dma', ts: 3, pin: 1, off: 0, len: 4096, dir: 'write', dur: 1_000_000, pid: 77, file: '/zzz' },
    { type: 'truncate', ts: 4, pid: 1, file: '/f', size: 0 },
    { type: 'unpin', ts: 5_000_000, pin: 1 },
  ];
  events.forEach((e, index) => r.feed({ ...e, index } as IndexedEvent));
  r.finish();
  const stall = found.find((f) => f.kind === 'stall');
  assert.ok(stall, 'the truncate stalled on the DMA in flight');
  assert.equal(stall.dur_ns, 999_999);
  assert.deepEqual(stall.chain, [
    { index: 3, type: 'pin', ts: 2, pid: 1 },
    { index: 4, type: 'dma', ts: 3 },
    { index: 5, type: 'truncate', ts: 4, file: '/f', pid: 1 },
  ]);
});
