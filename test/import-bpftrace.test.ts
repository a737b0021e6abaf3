// pinscope import bpftrace: the committed captures in test/fixtures/bpftrace
// were made by real `bpftrace -f json` (0.17) runs of the .bt files next to
// them. The imported trace must be exactly the events the script printed,
// in ts order, and replay exactly like them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { importBpftrace } from '../src/import/import-bpftrace.js';
import { printedLines, emptyCaptureStats } from '../src/import/bpftrace-capture.js';
import { SortWindow } from '../src/import/sort-window.js';
import { openTrace } from '../src/trace/open.js';
import { TraceInputError } from '../src/trace/errors.js';
import { STRATEGY_IDS } from '../src/replay/types.js';
import { analyzeTrace } from '../src/analysis/analyze.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // dist/test -> repo
const FIX = join(ROOT, 'test/fixtures/bpftrace');
const tmp = mkdtempSync(join(tmpdir(), 'pinscope-import-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** What the script printed, reconstructed independently: all printf text, split on newlines, stably sorted by ts. */
function printedTrace(capture: string): { meta: Record<string, unknown> | null; events: Record<string, unknown>[] } {
  let text = '';
  for (const line of readFileSync(capture, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const rec = JSON.parse(line) as { type: string; data: unknown };
    if (rec.type === 'printf') text += rec.data as string;
  }
  const all = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const meta = all[0]?.type === 'meta' ? all.shift()! : null;
  const events = all.map((e, i) => ({ e, i })).sort((a, b) => (a.e.ts as number) - (b.e.ts as number) || a.i - b.i).map((x) => x.e);
  return { meta, events };
}

async function readAll(path: string): Promise<Record<string, unknown>[]> {
  const t = await openTrace(path, { lenient: false });
  const out: Record<string, unknown>[] = [];
  for await (const batch of t.batches()) for (const ev of batch) out.push({ ...ev });
  return out;
}

function writeNdjson(path: string, meta: Record<string, unknown> | null, events: Record<string, unknown>[]): void {
  writeFileSync(path, [...(meta ? [meta] : []), ...events].map((e) => JSON.stringify(e)).join('\n') + '\n');
}

for (const name of ['dax-truncate', 'interval-odp']) {
  test(`${name}: the imported trace is the printed events in ts order, and replays the same`, async () => {
    const capture = join(FIX, `${name}.json`);
    const out = join(tmp, `${name}.ndjson`);
    const report = await importBpftrace(capture, out, { sortWindowNs: 100e6, lenient: false });
    const printed = printedTrace(capture);
    assert.equal(report.events_written, printed.events.length);
    assert.equal(report.events_skipped, 0);
    assert.equal(report.lost_events, 0);
    assert.ok(report.attached_probes !== null && report.attached_probes >= 1);
    assert.ok(Object.keys(report.maps).includes('@printed'), 'maps printed at exit are reported');

    const reference = join(tmp, `${name}.reference.ndjson`);
    writeNdjson(reference, printed.meta, printed.events);
    const got = await readAll(out);
    const want = await readAll(reference);
    assert.deepEqual(got, want);
    // ts order restored: non-decreasing, and the sort moved what the script printed late
    for (let i = 1; i < got.length; i++) assert.ok((got[i]!.ts as number) >= (got[i - 1]!.ts as number));

    const opts = { strategies: [...STRATEGY_IDS], leaseBreakNs: 45e9, lenient: false, findings: true };
    const a = (await analyzeTrace(out, opts)).summary;
    const b = (await analyzeTrace(reference, opts)).summary;
    assert.deepEqual(a.strategies, b.strategies);
    assert.deepEqual({ ...a.trace, path: '' }, { ...b.trace, path: '' });
    // and the replay finds something: the fixtures are not empty of consequences
    const findings = Object.values(a.strategies).reduce((n, st) => n + Object.values(st!.counts).reduce((x, y) => x + y, 0), 0);
    assert.ok(findings > 0);
  });
}

test('dax-truncate: the sort window moves the events printed late (a truncate printed at return)', async () => {
  const report = await importBpftrace(join(FIX, 'dax-truncate.json'), join(tmp, 'd.ndjson'), { sortWindowNs: 100e6, lenient: false });
  assert.equal(report.sort.moved, 2);
  assert.equal(report.sort.outside, 0);
  assert.equal(report.sort.max_lateness_ns, 2000);
  const evs = await readAll(join(tmp, 'd.ndjson'));
  const types = evs.map((e) => e.type);
  assert.ok(types.indexOf('truncate') < types.indexOf('write'), 'truncate before the write that reuses its blocks');
});

test('a gzipped capture imports the same, and a .gz output is a gzip of the same trace', async () => {
  const gz = join(tmp, 'dax-truncate.json.gz');
  writeFileSync(gz, gzipSync(readFileSync(join(FIX, 'dax-truncate.json'))));
  await importBpftrace(gz, join(tmp, 'from-gz.ndjson.gz'), { sortWindowNs: 100e6, lenient: false });
  await importBpftrace(join(FIX, 'dax-truncate.json'), join(tmp, 'plain.ndjson'), { sortWindowNs: 100e6, lenient: false });
  const a = await readAll(join(tmp, 'from-gz.ndjson.gz'));
  assert.equal(readFileSync(join(tmp, 'from-gz.ndjson.gz'))[0], 0x1f);
  assert.deepEqual(a, await readAll(join(tmp, 'plain.ndjson')));
});

test('late-event: outside the sort window is an error naming line, event and field; --lenient counts it and its dependents', async () => {
  const capture = join(FIX, 'late-event.json');
  await assert.rejects(importBpftrace(capture, join(tmp, 'late.ndjson'), { sortWindowNs: 100e6, lenient: false }), (err: unknown) => {
    assert.ok(err instanceof TraceInputError);
    assert.match(err.message, /late-event\.json:line 8: event 4: field 'ts': ts \d+ is 1100000000 ns older .* 100000000 ns sort window/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.equal(existsSync(join(tmp, 'late.ndjson')), false, 'no half-written trace is left behind');
  const r = await importBpftrace(capture, join(tmp, 'late.ndjson'), { sortWindowNs: 100e6, lenient: true });
  assert.deepEqual(r.skipped_by_reason, { no_live_pin: 2, outside_sort_window: 1 });
  const printed = printedTrace(capture).events.length;
  assert.equal(r.events_written + r.events_skipped, printed, 'events read = events written + events skipped');
  assert.equal((await readAll(join(tmp, 'late.ndjson'))).length, r.events_written);
  // a window wide enough takes it back in
  const wide = await importBpftrace(capture, join(tmp, 'late2.ndjson'), { sortWindowNs: 2e9, lenient: false });
  assert.equal(wide.events_written, printed);
  assert.equal(wide.sort.moved, 1);
});

test('--synthesize-dma: accesses every period on live pins only, writes only through write pins', async () => {
  const out = join(tmp, 'synth.ndjson');
  const period = 2_000_000;
  const r = await importBpftrace(join(FIX, 'interval-odp.json'), out, {
    sortWindowNs: 100e6, lenient: false, synthesize: { periodNs: period, dir: 'mixed' },
  });
  const evs = await readAll(out); // validates: every synthesized dma names a live pin, ts in order
  const synth = evs.filter((e) => e.synthetic === true);
  assert.equal(synth.length, r.dma_synthesized);
  assert.equal(r.events_recorded, printedTrace(join(FIX, 'interval-odp.json')).events.length);
  const pins = new Map(evs.filter((e) => e.type === 'pin').map((e) => [e.pin as number, e]));
  const ends = new Map<number, number>();
  for (const e of evs) {
    if (e.type === 'unpin') ends.set(e.pin as number, e.ts as number);
    if (e.type === 'exit') for (const [h, p] of pins) if (p.pid === e.pid && !ends.has(h)) ends.set(h, e.ts as number);
  }
  for (const [h, p] of pins) {
    const mine = synth.filter((d) => d.pin === h);
    const expectCount = Math.floor((ends.get(h)! - (p.ts as number)) / period);
    assert.equal(mine.length, expectCount, `pin ${h}: one access per period while live`);
    mine.forEach((d, k) => {
      assert.equal(d.ts, (p.ts as number) + (k + 1) * period);
      assert.equal(d.dir, p.write === true && k % 2 === 0 ? 'write' : 'read');
      assert.equal(d.len, p.len);
    });
  }
  const meta = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!) as { source: string };
  assert.match(meta.source, /WOULD happen/);
});

test('printf framing: fragments joined across records, several lines in one record, blank lines, junk counted', async () => {
  const capture = [
    '{"type": "attached_probes", "data": {"probes": 2}}',
    '',
    '{"type": "printf", "data": "{\\"a\\":"}',
    '{"type": "printf", "data": "1}\\n{\\"b\\":2}\\n{\\"c\\""}',
    '{"type": "lost_events", "data": {"events": 7}}',
    '{"type": "printf", "data": ":3}\\n\\n"}',
    'Attaching 2 probes...',
    '{"type": "map", "data": {"@x": {"k": 1}}}',
    '{"type": "printf", "data": "{\\"tail\\":1}"}',
  ].join('\n');
  const stats = emptyCaptureStats();
  const got = [];
  for await (const l of printedLines(Readable.from([Buffer.from(capture)]), stats)) got.push(l);
  assert.deepEqual(got.map((l) => l.text), ['{"a":1}', '{"b":2}', '{"c":3}', '', '{"tail":1}']);
  assert.deepEqual(got.map((l) => l.line), [3, 4, 4, 7, 9]);
  assert.equal(got[3]!.notCapture !== undefined, true);
  assert.equal(stats.lost_events, 7);
  assert.equal(stats.attached_probes, 2);
  assert.deepEqual(stats.maps, { '@x': { k: 1 } });
  assert.equal(stats.unterminated, true);
  assert.equal(stats.not_bpftrace_json, 1);
});

test('sort window: releases in (ts, arrival) order, holds only the window, detects events older than released', () => {
  const w = new SortWindow<{ ts: number; id: number }>(10);
  const out: number[] = [];
  // displaced by at most 10 from sorted order
  const input = [5, 0, 3, 12, 8, 20, 15, 15, 30, 22, 41, 33, 50];
  input.forEach((ts, id) => out.push(...w.push({ ts, id })!.map((e) => e.ts)));
  assert.ok(w.stats.max_held <= 5);
  out.push(...w.drain().map((e) => e.ts));
  assert.deepEqual(out, [...input].sort((a, b) => a - b));
  assert.equal(w.stats.moved, 7);
  assert.equal(w.stats.outside, 0);
  const w2 = new SortWindow<{ ts: number }>(10);
  w2.push({ ts: 0 });
  w2.push({ ts: 100 }); // releases 0
  assert.notEqual(w2.push({ ts: 95 }), null);
  w2.push({ ts: 200 }); // releases 95, 100
  assert.equal(w2.push({ ts: 99 }), null);
  assert.equal(w2.stats.outside, 1);
});

test('bad printed line: one line naming capture line, event and what was expected', async () => {
  const capture = join(tmp, 'bad.json');
  writeFileSync(capture, [
    '{"type": "printf", "data": "{\\"type\\":\\"pin\\",\\"ts\\":5,\\"pid\\":1,\\"pin\\":1,\\"addr\\":\\"0x1000\\",\\"len\\":4096}\\n"}',
    '{"type": "printf", "data": "{\\"type\\":\\"dma\\",\\"ts\\":6,\\"pin\\":1,\\"off\\":0,\\"len\\":4096,\\"dir\\":\\"sideways\\"}\\n"}',
  ].join('\n'));
  await assert.rejects(importBpftrace(capture, join(tmp, 'bad.ndjson'), { sortWindowNs: 100e6, lenient: false }),
    /bad\.json:line 2: event 1: field 'dir': expected one of "read", "write", got "sideways"/);
  const r = await importBpftrace(capture, join(tmp, 'bad.ndjson'), { sortWindowNs: 100e6, lenient: true });
  assert.deepEqual(r.skipped_by_reason, { bad_field: 1 });
  writeFileSync(join(tmp, 'plain.ndjson'), '{"type":"exit","ts":1,"pid":1}\n');
  await assert.rejects(importBpftrace(join(tmp, 'plain.ndjson'), join(tmp, 'x.ndjson'), { sortWindowNs: 1, lenient: true }),
    /no printf records: expected the output of `bpftrace -f json/);
});

test('CLI: pinscope import bpftrace writes the trace, counts on stderr, exit 2 with one line on bad input', () => {
  const bin = join(ROOT, 'bin/pinscope.js');
  const out = join(tmp, 'cli.ndjson');
  const ok = spawnSync(process.execPath, [bin, 'import', 'bpftrace', join(FIX, 'dax-truncate.json'), '-o', out, '--json'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const rep = JSON.parse(ok.stdout) as { events_written: number; sort: { moved: number } };
  assert.equal(rep.events_written, 23);
  assert.match(ok.stderr, /2 events moved/);
  const bad = spawnSync(process.execPath, [bin, 'import', 'bpftrace', join(FIX, 'late-event.json'), '-o', out], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /^pinscope: .*late-event\.json:line 8: event 4: field 'ts'/);
});

/** The same events, with ts relative to the first (a fresh capture has another nsecs origin). */
function relative(events: Record<string, unknown>[]): Record<string, unknown>[] {
  const t0 = (events[0]?.ts as number) ?? 0;
  return events.map((e) => ({ ...e, ts: (e.ts as number) - t0 }));
}

test('the committed captures are what their .bt print (regenerated when bpftrace runs here)', async (t) => {
  const probe = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    // Tests must not need bpftrace: the committed captures were checked above.
    t.diagnostic('bpftrace is not installed: the committed captures were not regenerated');
    return;
  }
  for (const name of ['dax-truncate', 'late-event']) {
    const run = spawnSync('bpftrace', ['-f', 'json', join(FIX, `${name}.bt`)], { encoding: 'utf8', timeout: 30_000 });
    if (run.status !== 0 || !run.stdout.includes('"printf"')) {
      t.diagnostic(`bpftrace cannot run BPF programs here (${run.stderr.trim().split('\n').at(-1)}): ${name} not regenerated`);
      continue;
    }
    const fresh = join(tmp, `${name}.fresh.json`);
    writeFileSync(fresh, run.stdout);
    const a = printedTrace(fresh);
    const b = printedTrace(join(FIX, `${name}.json`));
    assert.deepEqual(a.meta, b.meta);
    assert.deepEqual(relative(a.events), relative(b.events), `${name}: the capture matches its script`);
  }
});

test('a capture from a machine up more than 104 days (ts past 2^53 ns) is rebased exactly, and the meta says so', async () => {
  const printf = (o: object) => JSON.stringify({ type: 'printf', data: JSON.stringify(o) + '\n' });
  // Past 2^53 doubles step by 2 ns, so these three would collide as numbers: the rebase works on the digits.
  const raw = ['9100000000000001', '9100000000000002', '9100000000000003'];
  const text = [
    printf({ type: 'meta', format: 'pinscope-trace', version: 1, page_size: 4096, source: 'long uptime' }),
    printf({ type: 'mmap', ts: 0, pid: 5, addr: '0x10000', len: 4096 }).replace('\\"ts\\":0', `\\"ts\\":${raw[0]}`),
    printf({ type: 'pin', ts: 0, pid: 5, pin: 1, addr: '0x10000', len: 4096, longterm: true, write: true }).replace('\\"ts\\":0', `\\"ts\\":${raw[1]}`),
    printf({ type: 'unpin', ts: 0, pin: 1 }).replace('\\"ts\\":0', `\\"ts\\":${raw[2]}`),
  ].join('\n') + '\n';
  const cap = join(tmp, 'uptime.json');
  writeFileSync(cap, text);
  const out = join(tmp, 'uptime.ndjson');
  const window = 1_000_000;
  await importBpftrace(cap, out, { sortWindowNs: window, lenient: false });
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].source, `long uptime; ts rebased: 0 is CLOCK_MONOTONIC ${BigInt(raw[0]!) - BigInt(window)} ns`);
  assert.deepEqual(lines.slice(1).map((e) => e.ts), [window, window + 1, window + 2]);
});
