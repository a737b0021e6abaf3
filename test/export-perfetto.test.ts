// pinscope export --format perfetto: the document must follow the Chrome
// trace-event format's rules (what ui.perfetto.dev and chrome://tracing
// need) and say what the replay found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { exportPerfetto } from '../src/export/perfetto.js';
import { importBpftrace } from '../src/import/import-bpftrace.js';
import { STRATEGY_IDS, FINDING_KINDS } from '../src/replay/types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIX = join(ROOT, 'test/fixtures/bpftrace');
const tmp = mkdtempSync(join(tmpdir(), 'pinscope-export-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface TE {
  name: string;
  ph: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  s?: string;
  args?: Record<string, unknown>;
}

/** The format's rules; returns the events. Throws (assert) on the first violation. */
function checkChromeTrace(doc: unknown): TE[] {
  assert.equal(typeof doc, 'object');
  const d = doc as { traceEvents: unknown; displayTimeUnit: unknown };
  assert.ok(Array.isArray(d.traceEvents), 'traceEvents is an array');
  assert.equal(d.displayTimeUnit, 'ns');
  const evs = d.traceEvents as TE[];
  const procNames = new Set<number>();
  const threadNames = new Set<string>();
  const lastTs = new Map<string, number>();
  const openB = new Map<string, string[]>();
  const openX = new Map<string, number[]>(); // ends of enclosing X slices per track
  const usedTracks = new Set<string>();
  const usedPids = new Set<number>();
  for (const [i, e] of evs.entries()) {
    const at = `event ${i} ${JSON.stringify(e).slice(0, 120)}`;
    assert.equal(typeof e.name, 'string', at);
    assert.ok(['X', 'B', 'E', 'i', 'C', 'M'].includes(e.ph), at);
    assert.ok(Number.isInteger(e.pid), at);
    if (e.ph === 'M') {
      assert.ok(['process_name', 'process_sort_index', 'thread_name', 'thread_sort_index'].includes(e.name), at);
      assert.equal(typeof e.args, 'object', at);
      if (e.name === 'process_name') { assert.equal(typeof e.args!.name, 'string', at); procNames.add(e.pid); }
      if (e.name === 'thread_name') { assert.equal(typeof e.args!.name, 'string', at); threadNames.add(`${e.pid}/${e.tid}`); }
      continue;
    }
    assert.equal(typeof e.ts, 'number', at);
    assert.ok(Number.isFinite(e.ts) && e.ts! >= 0, at);
    usedPids.add(e.pid);
    if (e.ph === 'C') {
      const key = `${e.pid}/C/${e.name}`;
      assert.ok(e.ts! >= (lastTs.get(key) ?? -Infinity), `counter ts goes back: ${at}`);
      lastTs.set(key, e.ts!);
      for (const v of Object.values(e.args ?? {})) assert.equal(typeof v, 'number', at);
      continue;
    }
    assert.ok(Number.isInteger(e.tid), at);
    const track = `${e.pid}/${e.tid}`;
    usedTracks.add(track);
    assert.ok(e.ts! >= (lastTs.get(track) ?? -Infinity), `ts goes back on track ${track}: ${at}`);
    lastTs.set(track, e.ts!);
    if (e.ph === 'i') assert.ok(['t', 'p', 'g'].includes(e.s ?? ''), at);
    if (e.ph === 'B') openB.set(track, [...(openB.get(track) ?? []), e.name]);
    if (e.ph === 'E') {
      const st = openB.get(track) ?? [];
      assert.ok(st.length > 0, `E without B: ${at}`);
      st.pop();
    }
    if (e.ph === 'X') {
      assert.ok(typeof e.dur === 'number' && e.dur >= 0, at);
      // X slices on one track must nest: each starts after the enclosing ones' start and ends within them
      const ends = (openX.get(track) ?? []).filter((end) => end > e.ts!);
      for (const end of ends) assert.ok(e.ts! + e.dur! <= end, `X slices overlap without nesting on ${track}: ${at}`);
      ends.push(e.ts! + e.dur!);
      openX.set(track, ends);
    }
  }
  for (const [track, st] of openB) assert.equal(st.length, 0, `unmatched B on ${track}`);
  for (const p of usedPids) assert.ok(procNames.has(p), `pid ${p} has no process_name`);
  for (const t of usedTracks) assert.ok(threadNames.has(t), `track ${t} has no thread_name`);
  return evs;
}

test('export of an imported bpftrace capture: format rules, a process per strategy, pins, findings and counters', async () => {
  const trace = join(tmp, 'dax.ndjson');
  await importBpftrace(join(FIX, 'dax-truncate.json'), trace, { sortWindowNs: 100e6, lenient: false });
  const out = join(tmp, 'dax.perfetto.json');
  const res = await exportPerfetto(trace, out, { strategies: [...STRATEGY_IDS], leaseBreakNs: 45e9, lenient: false });
  const doc = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: TE[]; otherData: Record<string, unknown> };
  const evs = checkChromeTrace(doc);
  assert.equal(evs.length, res.events);
  assert.equal(doc.otherData.tool, 'pinscope');
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('.pinscope-perfetto-')), [], 'parts removed');

  const procs = evs.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args!.name]);
  assert.deepEqual(procs, STRATEGY_IDS.map((s, i) => [i + 1, `strategy ${s}`]));
  for (const [i, s] of STRATEGY_IDS.entries()) {
    const pid = i + 1;
    const mine = evs.filter((e) => e.pid === pid);
    const counts = res.summary.strategies[s]!.counts;
    // every finding is an instant with its record in args
    const found = mine.filter((e) => e.ph === 'i' && (FINDING_KINDS as readonly string[]).includes(e.name));
    const total = FINDING_KINDS.reduce((a, k) => a + counts[k], 0);
    assert.equal(found.length, total, `${s}: one instant per finding`);
    for (const f of found) {
      assert.equal(f.s, 't');
      assert.equal(f.args!.kind, f.name);
      assert.ok(Array.isArray(f.args!.cause));
    }
    // pins: slices from pin to their end, or instants when refused
    const pinSlices = mine.filter((e) => e.ph === 'X' && /^pin \d+$/.test(e.name));
    const refused = mine.filter((e) => e.ph === 'i' && /^pin \d+ refused$/.test(e.name));
    assert.equal(pinSlices.length + refused.length, 2, `${s}: both pins shown`);
    assert.equal(refused.length, counts.pin_refused, `${s}: refused pins are instants`);
    const p18 = pinSlices.find((e) => e.name === 'pin 18');
    if (p18) {
      assert.equal(p18.args!.end, 'unpin');
      assert.equal(p18.dur, 7.5); // 833883923682 -> 833883931182 ns, in us
    }
    // counters: pinned bytes rise with the pins and come back to 0 when the process exits
    const pinned = mine.filter((e) => e.ph === 'C' && e.name === 'pinned');
    if (refused.length === 2) assert.equal(pinned.length, 0, `${s}: nothing pinned`);
    else {
      assert.ok(pinned.length >= 2, `${s}: pinned counter`);
      assert.ok((pinned[0]!.args!.bytes as number) > 0);
      assert.equal(pinned.at(-1)!.args!.bytes, 0);
    }
    // the truncate is a slice on the fs track, marked where the strategy failed it
    const truncate = `truncate /mnt/pmem/a.dat to 0${s === 'fail' ? ' (EBUSY)' : ''}`;
    assert.equal(mine.filter((e) => e.ph === 'X' && e.name === truncate).length, 1, `${s}: ${truncate}`);
  }
  // refuse refuses the long-term pin of the DAX file; none lets the device write where the blocks went
  assert.ok(res.summary.strategies.refuse!.counts.pin_refused >= 1);
  assert.ok(evs.some((e) => e.pid === 1 && e.name === 'writeback_race'));
  const corruption = evs.find((e) => e.pid === 1 && e.name === 'corruption')!;
  assert.equal(corruption.args!.pin, 17);
  assert.deepEqual((corruption.args!.chain as string[]).map((c) => c.split('@')[0]), ['pin', 'truncate', 'write', 'dma'],
    'the pin, the truncate that freed the block, the write that reused it, the DMA');
});

test('kill and notify: a pin ends where the strategy released it; stalls are slices over the wait', async () => {
  const trace = join(tmp, 'kill.ndjson');
  const lines = [
    { type: 'meta', format: 'pinscope-trace', version: 1 },
    { type: 'device', ts: 0, dev: 'nic0' },
    { type: 'file', ts: 0, file: '/mnt/pmem/k.dat', dax: true, size: 8192 },
    { type: 'mmap', ts: 10, pid: 5, addr: '0x100000', len: 8192, file: '/mnt/pmem/k.dat' },
    { type: 'pin', ts: 20, pid: 5, pin: 1, dev: 'nic0', addr: '0x100000', len: 8192, longterm: true, write: true },
    { type: 'truncate', ts: 1000, pid: 6, file: '/mnt/pmem/k.dat', size: 0 },
    { type: 'dma', ts: 2_000_000, pin: 1, off: 0, len: 4096, dir: 'write' },
    { type: 'unpin', ts: 3_000_000, pin: 1 },
    { type: 'exit', ts: 4_000_000, pid: 5 },
  ];
  writeFileSync(trace, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const out = join(tmp, 'kill.perfetto.json');
  const res = await exportPerfetto(trace, out, { strategies: ['pin', 'notify', 'kill'], leaseBreakNs: 1_000_000, lenient: false });
  const evs = checkChromeTrace(JSON.parse(readFileSync(out, 'utf8')));
  const pid = (s: string) => STRATEGY_IDS.indexOf(s as never) + 1;
  assert.deepEqual([...new Set(evs.filter((e) => e.ph !== 'M').map((e) => e.pid))].sort(), [pid('pin'), pid('notify'), pid('kill')].sort());
  const killed = res.summary.strategies.kill!.counts.killed;
  assert.equal(killed, 1);
  const killPin = evs.find((e) => e.pid === pid('kill') && e.name === 'pin 1')!;
  assert.equal(killPin.args!.end, 'killed');
  assert.ok(killPin.ts! + killPin.dur! < 3000, 'killed before the trace unpins it');
  const pinPin = evs.find((e) => e.pid === pid('pin') && e.name === 'pin 1')!;
  assert.equal(pinPin.args!.end, 'unpin');
  const stalls = evs.filter((e) => e.pid === pid('kill') && e.ph === 'X' && e.name.startsWith('stall'));
  assert.equal(stalls.length, res.summary.strategies.kill!.counts.stall);
  for (const st of stalls) assert.equal(st.ts, 1, 'the stall starts at the truncate (1000 ns = 1 us)');
});

test('CLI: pinscope export writes the document; bad input is one line and exit 2', () => {
  const bin = join(ROOT, 'bin/pinscope.js');
  const trace = join(tmp, 'cli.ndjson');
  writeFileSync(trace, '{"type":"pin","ts":5,"pid":1,"pin":1,"addr":"0x1000","len":4096}\n{"type":"dma","ts":4,"pin":1,"off":0,"len":1,"dir":"read"}\n');
  const bad = spawnSync(process.execPath, [bin, 'export', trace, '--format', 'perfetto', '-o', join(tmp, 'cli.json')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /cli\.ndjson:line 2: event 1: field 'ts'/);
  assert.equal(existsSync(join(tmp, 'cli.json')), false, 'nothing written on bad input');
  writeFileSync(trace, '{"type":"pin","ts":5,"pid":1,"pin":1,"addr":"0x1000","len":4096}\n{"type":"dma","ts":6,"pin":1,"off":0,"len":1,"dir":"read"}\n');
  const ok = spawnSync(process.execPath, [bin, 'export', trace, '--format', 'perfetto', '-o', join(tmp, 'cli.json'), '--strategy', 'none'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  checkChromeTrace(JSON.parse(readFileSync(join(tmp, 'cli.json'), 'utf8')));
});

test('what a strategy dropped or failed is marked, and a writeback still open at the end is drawn to the last event', async () => {
  const trace = join(tmp, 'marks.ndjson');
  const lines = [
    { type: 'device', ts: 0, dev: 'nic0' },
    { type: 'file', ts: 0, file: '/mnt/pmem/m.dat', dax: true, size: 4096 },
    { type: 'file', ts: 0, file: '/srv/p.db', size: 4096 },
    { type: 'mmap', ts: 10, pid: 5, addr: '0x100000', len: 4096, file: '/mnt/pmem/m.dat' },
    { type: 'pin', ts: 20, pid: 5, pin: 1, dev: 'nic0', addr: '0x100000', len: 4096, longterm: true, write: true },
    { type: 'writeback', ts: 30, file: '/srv/p.db', off: 0, len: 4096, phase: 'start' },
    { type: 'truncate', ts: 1000, pid: 6, file: '/mnt/pmem/m.dat', size: 0 }, // 6
    { type: 'dma', ts: 2000, pin: 1, off: 0, len: 4096, dir: 'write' }, // 7
    { type: 'unpin', ts: 3000, pin: 1 },
  ];
  writeFileSync(trace, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const out = join(tmp, 'marks.perfetto.json');
  await exportPerfetto(trace, out, { strategies: ['pin', 'fail', 'refuse'], leaseBreakNs: 45e9, lenient: false });
  const evs = checkChromeTrace(JSON.parse(readFileSync(out, 'utf8')));
  const of = (s: string) => evs.filter((e) => e.pid === STRATEGY_IDS.indexOf(s as never) + 1 && e.ph === 'X');
  // refuse: the DAX pin was refused, so its DMA moved nothing.
  const refusedDma = of('refuse').find((e) => e.args?.index === 7)!;
  assert.equal(refusedDma.name, 'dma write pin 1 (dropped)');
  assert.equal(refusedDma.args!.dropped, true);
  assert.equal(of('pin').find((e) => e.args?.index === 7)!.args!.dropped, undefined);
  // fail: the truncate failed with EBUSY; under pin it went through.
  const failed = of('fail').find((e) => e.args?.index === 6)!;
  assert.equal(failed.name, 'truncate /mnt/pmem/m.dat to 0 (EBUSY)');
  assert.equal(failed.args!.failed, 'EBUSY');
  assert.equal(of('pin').find((e) => e.args?.index === 6)!.name, 'truncate /mnt/pmem/m.dat to 0');
  // The writeback window never ended: drawn from its start to the last event (3000 ns).
  const wb = of('pin').find((e) => e.name === 'writeback /srv/p.db')!;
  assert.deepEqual([wb.ts, wb.dur, wb.args!.index, wb.args!.end], [0.03, 2.97, 5, 'trace end']);
});

test('export to standard output needs no writable current folder', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/pinscope.js'), 'export', join(ROOT, 'traces/dax-truncate.ndjson'), '-o', '-', '--strategy', 'pin'],
    { encoding: 'utf8', cwd: '/proc' });
  assert.equal(r.status, 0, r.stderr);
  checkChromeTrace(JSON.parse(r.stdout));
});
