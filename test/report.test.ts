// The report: its collector (bounded aggregation), the words of a causal
// chain, the chart specs, the page, and the `report` command's inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { tempFolder } from './temp.js';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { createReportCollector, compareSeverity, rebin } from '../src/analysis/report-data.js';
import { describeFinding, formatBytes, formatDuration, formatTime } from '../src/analysis/words.js';
import { renderReport, reportCharts, writeReport } from '../src/report/page.js';
import { renderIndex, worstKind } from '../src/report/index-page.js';
import { renderSvg } from '../src/report/svg.js';
import { whoPays } from '../src/report/who-pays.js';
import { whoPaysPoints, whoPaysOf, timelineRows } from '../src/report/model.js';
import { detectInput, SummaryInputError } from '../src/report/load.js';
import { reportCollectorRef, reportDataOf } from '../src/report/collect.js';
import type { BatchSummary } from '../src/batch/types.js';
import { build, corruptionChain, finding, MS, scenario } from './report-fixture.js';

const HEADER = { page_size: 4096, version: 1 };

test('timeline bins double their width instead of growing past the limit', () => {
  const c = createReportCollector('none', { maxBins: 200 }, HEADER);
  // 10k findings spread over 10 s: at 1 µs bins that would be 10M bins.
  for (let i = 0; i < 10_000; i++) c.add(finding('none', 'lost_write', i * MS));
  const d = c.finish(10_000 * MS);
  assert.ok(d.bins.length <= 200, `${d.bins.length} bins`);
  assert.ok(d.bin_ns >= (10_000 * MS) / 200, `bin ${d.bin_ns}`);
  assert.equal(Math.log2(d.bin_ns / 1000) % 1, 0, 'a power-of-two multiple of 1 µs');
  const total = d.bins.reduce((a, b) => a + (b.counts.lost_write ?? 0), 0);
  assert.equal(total, 10_000, 'no finding lost in the merge');
  // Each bin holds exactly the findings whose ts falls in it.
  for (const b of d.bins) {
    const lo = b.i * d.bin_ns;
    const expect = Array.from({ length: 10_000 }, (_, i) => i * MS).filter((t) => t >= lo && t < lo + d.bin_ns).length;
    assert.equal(b.counts.lost_write, expect);
  }
});

test('rebin merges to a coarser shared width exactly', () => {
  const bins = [{ i: 0, counts: { stall: 1 } }, { i: 1, counts: { stall: 2 } }, { i: 5, counts: { killed: 1 } }];
  assert.deepEqual(rebin(bins, 1000, 4000), [{ i: 0, counts: { stall: 3 } }, { i: 1, counts: { killed: 1 } }]);
});

test('stall durations land in power-of-two buckets; block leaks add byte-ns', () => {
  const c = createReportCollector('notify', {}, HEADER);
  for (const d of [0, 1, 3, 1000, 1023, 1024, 45e9]) c.add(finding('notify', 'stall', 0, { dur_ns: d, bytes: 0 }));
  c.add(finding('notify', 'block_leak', 0, { bytes: 8192, dur_ns: 2e9 }));
  const d = c.finish(0);
  assert.deepEqual(d.stall_buckets, [
    { log2: -1, count: 1 }, { log2: 0, count: 1 }, { log2: 1, count: 1 }, { log2: 9, count: 2 }, { log2: 10, count: 1 },
    { log2: Math.floor(Math.log2(45e9)), count: 1 },
  ]);
  assert.equal(d.leak_byte_ns, 8192 * 2e9);
});

test('heatmap cells: bounded per file by binning pages; files past the cap fold into other_files', () => {
  const c = createReportCollector('none', { maxPageBins: 8, maxFiles: 2 }, HEADER);
  for (let p = 0; p < 100; p++) c.add(finding('none', 'corruption', p, { file: '/a', page: p }));
  c.add(finding('none', 'lost_write', 200, { file: '/b', page: 3 }));
  c.add(finding('none', 'lost_write', 201, { file: '/c', page: 3, bytes: 100 }));
  c.add(finding('none', 'stall', 202, { file: '/d', page: 3 }));
  const d = c.finish(0);
  assert.deepEqual(d.where.map((f) => f.file), ['/a', '/b']);
  const a = d.where[0]!;
  assert.ok(new Set(a.cells.map((x) => x.bin)).size <= 8);
  assert.equal(a.page_bin, 16);
  assert.equal(a.cells.reduce((s, x) => s + x.count, 0), 100);
  assert.deepEqual(d.other_files, { count: 1, bytes: 100 });
});

test('worst findings: N kept, by kind severity then bytes, whatever the arrival order', () => {
  const fs = [
    finding('none', 'stall', 1, { bytes: 0 }),
    finding('none', 'lost_write', 2, { bytes: 4096 }),
    finding('none', 'corruption', 3, { bytes: 4096 }),
    finding('none', 'lost_write', 4, { bytes: 65536 }),
    finding('none', 'corruption', 5, { bytes: 8192 }),
  ];
  for (const order of [fs, [...fs].reverse()]) {
    const c = createReportCollector('none', { worst: 3 }, HEADER);
    for (let r = 0; r < 20; r++) for (const f of order) c.add({ ...f, ts: f.ts + r * 10 });
    const d = c.finish(0);
    assert.equal(d.worst.length, 3);
    assert.deepEqual(d.worst.map((w) => [w.kind, w.bytes, w.ts]), [['corruption', 8192, 5], ['corruption', 8192, 15], ['corruption', 8192, 25]]);
  }
  assert.ok(compareSeverity(
    { ...finding('none', 'corruption', 0), chain: [] }, { ...finding('none', 'info_leak', 0), chain: [] }) < 0);
});

test('the collector result survives structured cloning (it crosses worker threads)', () => {
  const { data } = scenario();
  assert.deepEqual(structuredClone(data), data);
});

test('a corruption chain in words names the DMA, the truncate that freed and the write that reused', () => {
  const f = { ...finding('none', 'corruption', 3 * MS, { chain: corruptionChain('/mnt/pmem/a.dat', '/mnt/pmem/b.dat') }) };
  const s = describeFinding(f, 0);
  assert.match(s, /^DMA write by mlx5_0 through pin 17 at 3\.000 ms \(4 KiB\) landed on the block that truncate of \/mnt\/pmem\/a\.dat at 1\.000 ms freed and the write to \/mnt\/pmem\/b\.dat at 2\.000 ms reused/);
  assert.match(s, /pinned by pid 100 at 0\.000 ms/);
  const stall = describeFinding({ ...finding('notify', 'stall', MS, { chain: corruptionChain().slice(0, 2), dur_ns: 45e9, bytes: 0 }) }, 0);
  assert.match(stall, /^truncate of \/mnt\/pmem\/a\.dat at 1\.000 ms waited 45\.000 s for pin 17/);
  const pending = describeFinding({ ...finding('notify', 'stall', MS, { chain: corruptionChain().slice(0, 2), dur_ns: 9e9, bytes: 0, pending: true }) }, 0);
  assert.match(pending, /was still waiting after 9\.000 s when the trace ended for pin 17/);
  // Times are relative to the trace's first event.
  assert.equal(formatTime(5 * MS, 2 * MS), '3.000 ms');
  assert.equal(formatDuration(1500), '1.500 µs');
  assert.equal(formatBytes(4096), '4 KiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
});

test('who pays: device harm in page-equivalents, filesystem harm in seconds', () => {
  const { summary, data } = scenario();
  const w = whoPaysOf(summary, data);
  assert.equal(w.get('none')!.security, 2);
  assert.equal(w.get('kill')!.device, 256);
  assert.equal(w.get('refuse')!.device, 16);
  assert.equal(w.get('iommu')!.device, 1 + 256);
  assert.equal(w.get('fail')!.fs, 1);
  assert.equal(w.get('notify')!.fs, (3 * MS + 45e9) / 1e9);
  // pin: 8 KiB leaked for 5 ms = 8192 * 5e6 byte-ns = 0.0390625 MiB·s (plus one lost page on the device side).
  assert.ok(Math.abs(w.get('pin')!.fs - 8192 * 5e6 / 1e9 / (1 << 20)) < 1e-6);
  // Without collector data, a leak counts as held for the whole trace (an upper bound).
  const est = whoPays(summary.strategies.pin!, 4096, null, 10 * MS);
  assert.ok(Math.abs(est.fs - 8192 * 10 * MS / 1e9 / (1 << 20)) < 1e-6);
  assert.ok(est.leakEstimated);
});

test('who-pays labels: strategies drawn on the same spot share one label', () => {
  const { summary, data } = scenario();
  const pts = whoPaysPoints(whoPaysOf(summary, data));
  const labels = pts.map((p) => p.label).filter(Boolean);
  // pin (1 page + a tiny leak), remap and odp (1 page each) sit on one spot; kill and iommu (256, 257) on another.
  assert.deepEqual(labels, ['pin, remap, odp', 'notify', 'kill, iommu', 'fail', 'refuse', 'none']);
  assert.equal(pts.filter((p) => p.label === '').length, pts.length - labels.length);
  assert.deepEqual(pts.map((p) => p.strategy).sort(), [...labels.join(', ').split(', ')].sort());
});

test('timeline rows share one bin width across strategies and start at the first event', () => {
  const { summary, data } = scenario();
  const tl = timelineRows(summary, data)!;
  assert.ok(tl.rows.length > 0);
  const widths = new Set(tl.rows.map((r) => Math.round((r.t1 - r.t0) * 1e6)));
  assert.equal(widths.size, 1);
  assert.ok(tl.rows.every((r) => r.t0 >= 0 && r.t0 <= 10));
});

test('every chart spec compiles and renders to SVG with marks', () => {
  const charts = reportCharts(scenario());
  assert.deepEqual(charts.map((c) => c.id), ['who-pays', 'outcomes-count', 'outcomes-bytes', 'timeline', 'stalls', 'where']);
  for (const c of charts) {
    assert.doesNotThrow(() => compile(c.spec), c.id);
    const svg = renderSvg(c.spec);
    assert.match(svg, /^<svg /, c.id);
    assert.match(svg, /class="mark-(rect|symbol|text)/, c.id);
    assert.ok(!/xmlns/.test(svg), 'no namespace URLs inline');
  }
});

test('the synchronous SVG renderer gives what vega View.toSVG() gives', async () => {
  for (const c of reportCharts(scenario())) {
    const view = new vega.View(vega.parse(compile(c.spec).spec), { renderer: 'none' });
    const viaView = await view.toSVG();
    const norm = (svg: string) => svg.replace(/\s+xmlns(:\w+)?="[^"]*"/g, '').replace(/^<svg([^>]*)>/, '<svg$1 role="img">')
      .replace(/(id="|url\(#)[a-z]+_\d+/g, '$1ID');
    assert.equal(renderSvg(c.spec, 'x').replace(/(id="|url\(#)x-\d+/g, '$1ID'), norm(viaView), c.id);
  }
});

test('the page holds every chart as inline SVG, its spec as JSON, the tables, and is deterministic', () => {
  const input = scenario();
  const html = renderReport({ ...input, interactive: false });
  for (const id of ['who-pays', 'outcomes-count', 'outcomes-bytes', 'timeline', 'stalls', 'where']) {
    assert.match(html, new RegExp(`<figure class="chart" id="chart-${id}" data-spec="spec-${id}">\\s*<div class="vis"><svg `), id);
    const m = new RegExp(`<script type="application/json" id="spec-${id}">(.*?)</script>`, 's').exec(html);
    assert.ok(m, `spec ${id}`);
    assert.doesNotThrow(() => compile(JSON.parse(m[1]!)), id);
  }
  assert.match(html, /<table class="summary( many)?">/);
  assert.match(html, /<section id="worst">/);
  assert.match(html, /landed on the block that truncate of \/mnt\/pmem\/a\.dat at 1\.000 ms freed/);
  assert.match(html, /<th scope="row">lease break<\/th><td>45\.000 s/);
  assert.ok(!/<script>/.test(html), 'static: no script element but the JSON blocks');
  assert.ok(!/(src|href)\s*=\s*["']?https?:/i.test(html), 'nothing loaded from the network');
  assert.equal(renderReport({ ...input, interactive: false }), html, 'same input, same bytes');
  // Interactive: the vega bundles are inlined, not linked.
  const live = renderReport(input);
  assert.match(live, /<script>!function\(t,e\)/);
  assert.ok(!/<script[^>]+src=/.test(live));
  assert.ok(!/(src|href)\s*=\s*["']?https?:/i.test(live));
});

test('a summary-only report says the timeline needs the trace and draws no timeline', () => {
  const { summary } = scenario();
  const html = renderReport({ summary, data: null, interactive: false });
  assert.match(html, /id="summary-only"/);
  assert.match(html, /need the trace/);
  assert.ok(!html.includes('id="chart-timeline"'));
  assert.ok(html.includes('id="chart-who-pays"'));
  assert.ok(html.includes('id="chart-outcomes-count"'));
});

test('a trace with no findings still gives a page with who-pays and the table', () => {
  const b = build([]);
  const html = renderReport({ ...b, interactive: false });
  assert.match(html, /nobody pays/);
  assert.deepEqual(reportCharts(b).map((c) => c.id), ['who-pays']);
});

test('a 10M-event-sized aggregate stays small on the page', () => {
  // Many findings across many files: the collector bounds, the page stays well under a few MB.
  const c = createReportCollector('none', {}, HEADER);
  for (let i = 0; i < 200_000; i++) {
    c.add(finding('none', i % 3 ? 'lost_write' : 'corruption', i * 50_000, {
      file: `/mnt/pmem/f${i % 500}.dat`, page: (i * 7919) % 100_000, chain: corruptionChain(),
    }));
  }
  const d = c.finish(200_000 * 50_000);
  const b = build([], { strategies: ['none'], last: 200_000 * 50_000 });
  b.summary.strategies.none!.counts.corruption = 66_667;
  b.summary.strategies.none!.counts.lost_write = 133_333;
  const html = renderReport({ summary: b.summary, data: { none: d }, interactive: false });
  assert.ok(html.length < 3_000_000, `${html.length} bytes`);
  assert.ok(d.bins.length <= 200 && d.where.length <= 200 && d.worst.length <= 50);
});

test('writeReport writes the file; the collector ref names the factory', async () => {
  const dir = tempFolder('pinscope-report-');
  const out = join(dir, 'sub', 'r.html');
  await writeReport(out, { ...scenario(), interactive: false });
  assert.match(readFileSync(out, 'utf8'), /^<!DOCTYPE html>/);
  const ref = reportCollectorRef();
  const mod = await import(ref.module);
  assert.equal(typeof mod[ref.factory], 'function');
  assert.deepEqual(Object.keys(reportDataOf({ none: { report: 1, other: 2 }, pin: {} })), ['none']);
});

test('report input detection: trace vs replay summary vs batch summary; bad summaries are one-line errors', async () => {
  const dir = tempFolder('pinscope-load-');
  const { summary } = scenario();
  const s = join(dir, 's.json');
  writeFileSync(s, JSON.stringify(summary, null, 2));
  assert.equal((await detectInput(s)).kind, 'summary');
  const t = join(dir, 't.json');
  writeFileSync(t, '{"meta": {"page_size": 4096}, "events": []}');
  assert.equal((await detectInput(t)).kind, 'trace');
  const b = join(dir, 'b.json');
  const batch = { tool: 'pinscope', version: '0.1.0', params: { strategies: ['none'], lease_break_ns: 1, lenient: false },
    traces: [{ path: 'x', status: 'error', error: 'x: line 1: bad' }], ignored: [] };
  writeFileSync(b, JSON.stringify(batch));
  assert.equal((await detectInput(b)).kind, 'batch');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...summary, strategies: { none: { ...summary.strategies.none, counts: { corruption: '1<script>' } } } }));
  await assert.rejects(detectInput(bad), (e: Error) => e instanceof SummaryInputError
    && /bad\.json: field 'strategies\.none\.counts\.corruption': expected a non-negative number/.test(e.message) && !e.message.includes('\n'));
});

test('index page: trace x strategy matrix of worst findings, links, totals, failures', () => {
  const a = scenario();
  const batch: BatchSummary = {
    tool: 'pinscope', version: '0.1.0', params: { strategies: a.summary.params.strategies, lease_break_ns: 45e9, lenient: false },
    traces: [
      { path: 'traces/a.ndjson', status: 'ok', report: 'traces--a.ndjson.html', trace: a.summary.trace, strategies: a.summary.strategies },
      { path: 'traces/bad.ndjson', status: 'error', error: 'traces/bad.ndjson: line 3: event 2: field \'pin\': expected a live pin' },
    ],
    ignored: [],
  };
  const html = renderIndex(batch, {}, { interactive: false });
  assert.match(html, /<a href="traces--a\.ndjson\.html" title="traces\/a\.ndjson">a\.ndjson<\/a>/);
  assert.match(html, /traces under <code>traces\/<\/code>/);
  assert.match(html, /title="corruption: everyone pays"><span class="k"><span class="sw"[^>]*><\/span>corrupt<\/span> 1<\/td>/);
  assert.match(html, /title="pin_refused: device user pays"><span class="k"><span class="sw"[^>]*><\/span>refused<\/span> 1<\/td>/);
  assert.match(html, /failed: traces\/bad\.ndjson: line 3/);
  assert.match(html, /id="chart-who-pays-batch"/);
  assert.match(html, /id="chart-totals-count"/);
  assert.equal(worstKind(a.summary.strategies.pin), 'lost_write');
  assert.equal(renderIndex(batch, { 'traces/a.ndjson': '../r/a.html' }, { interactive: false }).includes('href="../r/a.html"'), true);
});

test('CLI: pinscope report from a trace and from its replay --json; bad input is one line and exit 2', async () => {
  const { execFile } = await import('node:child_process');
  const run = (args: string[]) => new Promise<{ code: number; out: string; err: string }>((res) => {
    execFile(process.execPath, ['bin/pinscope.js', ...args], (e, out, err) => res({ code: e ? (e.code as number) : 0, out, err }));
  });
  const dir = tempFolder('pinscope-cli-report-');
  const trace = 'traces/scenarios/dax-truncate-reuse.ndjson';
  const a = await run(['report', trace, '-o', join(dir, 'a.html'), '--strategy', 'none,pin', '--lease-break', '2s', '--static']);
  assert.equal(a.code, 0, a.err);
  const html = readFileSync(join(dir, 'a.html'), 'utf8');
  assert.match(html, /<h1>pinscope: traces\/scenarios\/dax-truncate-reuse\.ndjson<\/h1>/);
  assert.match(html, /<th scope="row">lease break<\/th><td>2\.000 s/);
  assert.match(html, /id="chart-timeline"/);
  assert.ok(!html.includes('<script>'));
  const j = await run(['replay', trace, '--json', '--strategy', 'none,pin']);
  assert.equal(j.code, 0, j.err);
  writeFileSync(join(dir, 's.json'), j.out);
  const s = await run(['report', join(dir, 's.json'), '-o', join(dir, 's.html'), '--title', 'from a summary']);
  assert.equal(s.code, 0, s.err);
  const sh = readFileSync(join(dir, 's.html'), 'utf8');
  assert.match(sh, /<title>from a summary<\/title>/);
  assert.match(sh, /id="summary-only"/);
  writeFileSync(join(dir, 'bad.json'), '{"tool": "pinscope", "version": "0.1.0", "params": 3}');
  for (const args of [['report', join(dir, 'bad.json'), '-o', join(dir, 'x.html')], ['report', trace, '-o', join(dir, 'x.html'), '--strategy', 'nope']]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
  }
});
