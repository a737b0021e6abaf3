// What the report's charts show and leave out: drawing order, labels,
// axis domains, captions, the page's words (an audit in Chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TopLevelSpec } from 'vega-lite';
import { whoPaysPoints } from '../src/report/model.js';
import { describeFinding } from '../src/analysis/words.js';
import { KIND_SHORT, renderIndex } from '../src/report/index-page.js';
import { PAGE_CSS } from '../src/report/style.js';
import { renderSvg } from '../src/report/svg.js';
import { sansTextWidth } from '../src/report/text-width.js';
import type { BatchSummary } from '../src/batch/types.js';
import { renderReport, reportCharts } from '../src/report/page.js';
import { build, corruptionChain, finding, MS, scenario } from './report-fixture.js';
import { whoPaysChart } from '../src/report/charts/who-pays.js';
import { whoPaysBatchChart } from '../src/report/charts/who-pays-batch.js';
import { CHART_WIDTH, symlogTop } from '../src/report/charts/base.js';
import type { WhoPays } from '../src/report/who-pays.js';
import type { StrategyId } from '../src/replay/types.js';

const wp = (device: number, fs: number, security = 0): WhoPays => ({ device, fs, security, leakEstimated: false });
const scores = (e: [StrategyId, WhoPays][]) => new Map<StrategyId, WhoPays>(e);
const spec = (s: TopLevelSpec) => s as any;

test('who pays: corrupting strategies come last in the data, so their cross is drawn over a circle on the same spot', () => {
  const pts = whoPaysPoints(scores([['none', wp(1, 0, 1)], ['pin', wp(1, 0)], ['notify', wp(1, 0)], ['refuse', wp(16, 0)]]));
  assert.deepEqual(pts.map((p) => p.strategy), ['pin', 'notify', 'refuse', 'none']);
  const layer = spec(whoPaysChart(pts)).layer[0];
  assert.deepEqual(layer.encoding.order, { field: 'security', type: 'quantitative', sort: 'ascending' });
  const batch = spec(whoPaysBatchChart([
    { trace: 'a', strategy: 'none', device: 1, fs: 0, security: 1, class: 'corrupts or leaks data', leak: 'none' },
    { trace: 'a', strategy: 'pin', device: 1, fs: 0, security: 0, class: 'no corruption', leak: 'none' },
  ], ['none', 'pin']));
  assert.deepEqual(batch.data.values.map((p: { strategy: string }) => p.strategy), ['pin', 'none']);
  assert.deepEqual(batch.encoding.order, { field: 'security', type: 'quantitative', sort: 'ascending' });
});

test('who pays: points clearly apart get their own labels; labels near the right edge end left of their point', () => {
  // 430 and 660 page-equivalents are ~30 px apart on a 1,000 axis: two spots, two labels.
  const pts = whoPaysPoints(scores([['pin', wp(430, 0)], ['notify', wp(500, 0)], ['kill', wp(505, 0)], ['odp', wp(660, 0)]]));
  const label = (s: string) => pts.find((p) => p.strategy === s)!.label;
  assert.equal(label('pin'), 'pin');
  assert.equal(label('notify'), 'notify, kill');
  assert.equal(label('kill'), '');
  assert.equal(label('odp'), 'odp');
  // A long label on the rightmost point would run past the plot: it is right-aligned.
  const right = whoPaysPoints(scores([['none', wp(0, 0)], ['pin', wp(900, 0)], ['notify', wp(900, 0)], ['kill', wp(900, 0)], ['odp', wp(900, 0)]]));
  const p = right.find((x) => x.label.startsWith('pin'))!;
  assert.equal(p.label, 'pin, notify, kill, odp');
  assert.equal(p.labelAlign, 'right');
  assert.ok(right.find((x) => x.strategy === 'none')!.labelAlign === 'left');
  // Each (position, alignment) pair has its text layer.
  const layers = spec(whoPaysChart(right)).layer.slice(1);
  assert.deepEqual(layers.map((l: { mark: { align: string; dx: number } }) => [l.mark.align, Math.sign(l.mark.dx)]),
    [['left', 1], ['right', -1], ['left', 1], ['right', -1]]);
  assert.ok(CHART_WIDTH > 0);
});

test('who pays: a maximum that is a power of ten is inside the domain, not on the border', () => {
  assert.equal(symlogTop(0), 10);
  assert.equal(symlogTop(1), 10);
  assert.equal(symlogTop(9.5), 10);
  assert.equal(symlogTop(10), 100);
  assert.equal(symlogTop(100), 1000);
  assert.equal(symlogTop(96_000), 100_000);
  const c = spec(whoPaysChart(whoPaysPoints(scores([['pin', wp(100, 10)]]))));
  assert.deepEqual(c.layer[0].encoding.x.scale.domain, [0, 1000]);
  assert.deepEqual(c.layer[0].encoding.y.scale.domain, [0, 100]);
  assert.deepEqual(c.layer[0].encoding.x.axis.values, [0, 1, 10, 100, 1000]);
  const b = spec(whoPaysBatchChart([{ trace: 'a', strategy: 'pin', device: 100, fs: 1, security: 0, class: 'no corruption', leak: 'none' }], ['pin']));
  assert.deepEqual(b.encoding.x.scale.domain, [0, 1000]);
  assert.deepEqual(b.encoding.y.scale.domain, [0, 10]);
});

const glanceOf = (html: string) => /<section id="glance">(.*?)<\/section>/s.exec(html)![1]!.replace(/<[^>]+>/g, '');

test('at a glance names every kind with its payer: a blocked migration is the system\'s, a bounce copy a cost', () => {
  const b = build([
    finding('pin', 'migration_blocked', MS),
    finding('notify', 'bounce_copy', MS, { bytes: 8192 }),
    finding('notify', 'stall', MS, { bytes: 0, dur_ns: 2 * MS }),
    finding('kill', 'bounce_copy', MS),
  ], { strategies: ['none', 'pin', 'notify', 'kill'] });
  const g = glanceOf(renderReport({ ...b, interactive: false }));
  assert.match(g, /none: nobody pays/);
  assert.match(g, /pin: the system pays — system: 1 blocked migration \(4 KiB\)/);
  assert.match(g, /notify: the filesystem pays, and copies cost work — filesystem: 1 stall: 2\.000 ms; cost: 1 bounce copy \(8 KiB\)/);
  assert.match(g, /kill: nobody pays, but copies cost work — cost: 1 bounce copy \(4 KiB\)/);
});

test('a stall still pending at the end of the trace is shown as still waiting: glance, table, histogram', () => {
  const b = build([
    finding('notify', 'stall', MS, { bytes: 4096, dur_ns: 19e9, pending: true }),
    finding('kill', 'stall', MS, { bytes: 4096, dur_ns: 2 * MS }),
    finding('kill', 'stall', 2 * MS, { bytes: 4096, dur_ns: 19e9, pending: true }),
  ], { strategies: ['notify', 'kill'] });
  assert.equal(b.data.notify!.stall_pending, 1);
  assert.deepEqual(b.data.notify!.stall_buckets, [{ log2: Math.floor(Math.log2(19e9)), count: 1, pending: true }]);
  const html = renderReport({ ...b, interactive: false });
  const g = glanceOf(html);
  assert.match(g, /notify: the filesystem pays — filesystem: 1 stall \(4 KiB\), still waiting when the trace ended: 19\.000 s so far/);
  assert.match(g, /kill: .*2 stalls \(8 KiB\), 1 still waiting when the trace ended: 19\.002 s in all so far, longest 19\.000 s/);
  assert.match(html, /<small class="pending">still waiting<br>when the trace ended<\/small>/);
  assert.match(html, /<small class="pending">1 still waiting<br>when the trace ended<\/small>/);
  const stalls = reportCharts(b).find((c) => c.id === 'stalls')!;
  assert.match(stalls.caption, /still waiting when the trace ended, measured to its last event/);
  const layers = spec(stalls.spec).layer;
  const rows = layers[0].data.values as { strategy: string; state: string; range: string }[];
  assert.deepEqual(rows.map((r) => [r.strategy, r.state]),
    [['notify', 'still waiting when the trace ended'], ['kill', 'ended'], ['kill', 'still waiting when the trace ended']]);
  assert.match(rows[0]!.range, / so far$/);
  assert.ok(layers.some((l: { mark: { stroke?: string; strokeDash?: number[] } }) => l.mark.strokeDash && l.mark.stroke === '#b2182b'));
  assert.ok(layers.some((l: { data: { values: { label?: string }[] } }) => l.data.values.some((v) => v.label === '→ still waiting')));
});

test('counts are said in the singular when there is one: no "1 strategies", no "finding(s)"', () => {
  const one = build([finding('none', 'lost_write', MS)], { strategies: ['none'] });
  const html = renderReport({ ...one, interactive: false });
  assert.match(html, /· 1 strategy ·/);
  assert.match(html, /<b>none<\/b>: 1 finding<\/summary>/);
  assert.ok(!/\b1 strategies|\(s\)/.test(html.replace(/<script[\s\S]*?<\/script>/g, '')));
  assert.match(renderReport({ ...scenario(), interactive: false }), /· 9 strategies ·/);
});

test('where: a corruption is drawn on the file that reused the frame, a lost write on the pinned file, anonymous memory gets rows', () => {
  const anon = [
    { index: 1, type: 'pin' as const, ts: 0, pid: 300 },
    { index: 2, type: 'munmap' as const, ts: MS, pid: 300 },
    { index: 3, type: 'pin' as const, ts: 2 * MS, pid: 400 },
    { index: 4, type: 'dma' as const, ts: 3 * MS },
  ];
  const b = build([
    finding('none', 'corruption', 3 * MS, { chain: corruptionChain('/mnt/pmem/a.dat', '/mnt/pmem/victim.log'), page: 2 }),
    finding('none', 'info_leak', 4 * MS, { chain: corruptionChain('/mnt/pmem/a.dat', '/mnt/pmem/victim.log'), page: 3 }),
    finding('none', 'corruption', 5 * MS, { chain: anon, file: null, pid: 300, page: 0 }),
    finding('pin', 'lost_write', 3 * MS, { chain: corruptionChain().slice(0, 2).concat([{ index: 7, type: 'dma', ts: 3 * MS }]), page: 2 }),
    finding('pin', 'stale_read', 3 * MS, { chain: [], file: null, pid: 300, page: 5 }),
  ], { strategies: ['none', 'pin'] });
  assert.deepEqual(b.data.none!.where.map((w) => [w.file, w.cells.map((c) => [c.kind, c.bin])]), [
    ['/mnt/pmem/victim.log', [['corruption', 2], ['info_leak', 3]]],
    ['memory of pid 400', [['corruption', 0]]],
  ]);
  assert.deepEqual(b.data.pin!.where.map((w) => [w.file, w.cells.map((c) => [c.kind, c.bin])]), [
    ['/mnt/pmem/a.dat', [['lost_write', 2]]],
    ['anonymous memory of pid 300', [['stale_read', 5]]],
  ]);
  const where = reportCharts(b).find((c) => c.id === 'where')!;
  assert.match(where.caption, /A corruption or info leak is drawn on its victim: the file a later write put in the freed frame/);
  assert.match(where.caption, /a lost write or stale read on the pinned file, or the pinning process's anonymous memory/);
  const rows = spec(where.spec).data.values as { strategy: string; file: string; kind: string }[];
  assert.deepEqual([...new Set(rows.map((r) => `${r.strategy} ${r.file}`))].sort(),
    ['none /mnt/pmem/victim.log', 'none memory of pid 400', 'pin /mnt/pmem/a.dat', 'pin anonymous memory of pid 300']);
});

test('bytes affected: only data-damage, leak and bounce bytes, said so in the caption; ticks on binary values', () => {
  const b = build([
    finding('none', 'corruption', MS, { bytes: 4096 }),
    finding('pin', 'lost_write', MS, { bytes: 8192 }),
    finding('notify', 'stall', MS, { bytes: 4096, dur_ns: MS }),
    finding('fail', 'op_failed', MS, { bytes: 4096 }),
    finding('pin', 'migration_blocked', MS, { bytes: 4096 }),
    finding('kill', 'bounce_copy', MS, { bytes: 4096 }),
  ], { strategies: ['none', 'pin', 'notify', 'kill', 'fail'] });
  const c = reportCharts(b).find((x) => x.id === 'outcomes-bytes')!;
  const s = spec(c.spec);
  assert.deepEqual(s.data.values.map((r: { kind: string }) => r.kind).sort(), ['bounce_copy', 'corruption', 'lost_write']);
  assert.match(c.caption, /stalls, failed operations, faults, refusals, kills and blocked migrations/);
  assert.match(c.caption, /^Bytes affected: data corrupted or leaked/);
  assert.deepEqual(s.encoding.x.axis.values, [0, 1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192]);
  assert.deepEqual(s.encoding.x.scale.domain, [0, 8192]);
  for (const v of s.encoding.x.axis.values) assert.equal(v % 1024, 0);
});

test('causal sentences: a migrate that freed and reused a frame is said once; many pins are summed up; the DAX zero page is named', () => {
  const migrate = describeFinding(finding('none', 'corruption', 179 * MS, { file: null, page: 6, chain: [
    { index: 74, type: 'pin', ts: 37 * MS, pid: 1028 },
    { index: 108, type: 'mmu_notifier', ts: 38 * MS, pid: 1028 },
    { index: 108, type: 'mmu_notifier', ts: 38 * MS, pid: 1028 },
    { index: 179, type: 'dma', ts: 43 * MS },
  ] }), 0);
  assert.match(migrate, /landed on a frame moved by the mmu notifier migrate of pid 1028 at 38\.000 ms, which freed it and reused it \(page 6 of the pin\); pinned by pid 1028 at 37\.000 ms$/);
  assert.equal(migrate.match(/38\.000 ms/g)!.length, 1);

  const pins = Array.from({ length: 12 }, (_, i) => ({ index: 10 + i, type: 'pin' as const, ts: (112 + i) * MS, pid: 1107 }));
  const failed = describeFinding(finding('fail', 'op_failed', 113 * MS, { bytes: 0, chain: [...pins, { index: 30, type: 'truncate', ts: 113 * MS, file: '/mnt/pmem/db-0.dat' }] }), 0);
  assert.match(failed, /failed with EBUSY: pin 17 \(mlx5_0\) holds its pages long-term; held by 12 pins of pid 1107, the first at 112\.000 ms$/);
  assert.ok(!failed.includes('pinned by'));
  const two = describeFinding(finding('notify', 'stall', MS, { bytes: 0, dur_ns: MS, chain: [pins[0]!, { ...pins[1]!, pid: 9 }, { index: 30, type: 'truncate', ts: 113 * MS }] }), 0);
  assert.match(two, /held by 2 pins of pids 9, 1107, the first at 112\.000 ms$/);

  const zero = [{ index: 4, type: 'pin' as const, ts: 3000, pid: 3100 }, { index: 7, type: 'dma' as const, ts: 2.5e9 }];
  const stale = describeFinding(finding('none', 'stale_read', 2.5e9, { chain: zero, dir: 'read' }), 0);
  assert.match(stale, /read the zero page that the pin holds over what was a hole of the file, and the file has data there now \(or the page is gone\): stale data/);
  assert.ok(!stale.includes('had taken from the file'));
  const lost = describeFinding(finding('none', 'lost_write', 2.5e9, { chain: zero }), 0);
  assert.match(lost, /went to the shared zero page that the pin holds over a hole of the file/);
  // A chain with the event that took the page keeps the old words.
  assert.match(describeFinding(finding('pin', 'lost_write', 3 * MS, { chain: corruptionChain() }), 0), /memory that the truncate of \/mnt\/pmem\/a\.dat at 1\.000 ms had taken from the file/);
});

test('the worst-findings note says the chain is in causal order, not oldest first', () => {
  const html = renderReport({ ...scenario(), interactive: false });
  assert.match(html, /in causal order: the pin \(or pins\) first, the event\s+that revealed the finding last/);
  assert.ok(!html.includes('oldest first'));
});

test('batch index: totals scroll inside the page, short kind names with a legend, failed text wraps, a who-pays caption that is true', () => {
  const a = scenario();
  const batch: BatchSummary = {
    tool: 'pinscope', version: '0.1.0', params: { strategies: a.summary.params.strategies, lease_break_ns: 45e9, lenient: false },
    traces: [
      { path: 'traces/a.ndjson', status: 'ok', trace: a.summary.trace, strategies: a.summary.strategies },
      { path: 'traces/bad.ndjson', status: 'error', error: 'traces/bad.ndjson: line 3: event 2: field \'pin\': expected a live pin' },
    ],
    ignored: [],
  };
  const html = renderIndex(batch, {}, { interactive: false });
  assert.match(html, /<section id="totals"><h2>Totals per strategy<\/h2>\n<div class="scroll"><table class="summary/);
  assert.match(html, /<td colspan="10" class="bad failed">failed: /);
  assert.match(PAGE_CSS, /table\.index td\.failed \{[^}]*overflow-wrap: anywhere/);
  assert.match(html, />corrupt<\/span> 1<\/td>/);
  assert.match(html, /corrupt = <code>corruption<\/code>/);
  for (const k of Object.values(KIND_SHORT)) assert.ok(k.length <= 8, k);
  assert.match(html, /<p class="sub">.*<\/p>/);
  const cap = /id="chart-who-pays-batch"[\s\S]*?<figcaption>(.*?)<\/figcaption>/.exec(html)![1]!;
  assert.ok(!cap.includes('on the scales of the single reports'));
  assert.match(cap, /lost and stale bytes are counted in 4 KiB pages \(the summary holds no page size\), and leaked blocks as held for the whole trace/);
  assert.match(html, /<title>pinscope: 2 traces<\/title>/);
});

test('static SVG: text measured like a browser\'s sans-serif, so no blank bands, no cut legend, no gap before file names', () => {
  assert.ok(Math.abs(sansTextWidth('harm to the filesystem', 12) - 132) < 15, String(sansTextWidth('harm to the filesystem', 12)));
  const input = scenario();
  const charts = reportCharts(input);
  const who = renderSvg(charts.find((c) => c.id === 'who-pays')!.spec);
  const height = Number(/^<svg[^>]* height="(\d+)"/.exec(who)![1]);
  // 340 px of plot, a title, an x axis: the rotated y title (~330 px) fits beside the plot.
  assert.ok(height < 440, `who-pays height ${height}`);
  assert.match(who, />corrupts or leaks data</);
  assert.ok(!who.includes('…'), 'no legend label cut short');
  const where = renderSvg(charts.find((c) => c.id === 'where')!.spec);
  // The row labels end at the plot: the gap before "/mnt/pmem/b.dat" is no wider than the label needs.
  const x = Number(/<text text-anchor="end" transform="translate\((-?[\d.]+),[^)]*\)"[^>]*>\/mnt\/pmem\/b\.dat</.exec(where)![1]);
  assert.ok(x < 0, `${x}`);
  const width = Number(/^<svg[^>]* width="(\d+)"/.exec(where)![1]);
  assert.ok(width < 900, `where width ${width}`);
});

test('a report from a summary marks the leak part of who pays as an upper bound', () => {
  const { summary, data } = scenario();
  const fromSummary = renderReport({ summary, data: null, interactive: false });
  assert.match(glanceOf(fromSummary), /pin: .*\[1 page-eq\. \/ ≤ [\d.]+ s-eq\., leaks counted as held for the whole trace\]/);
  assert.ok(!/notify: .*≤/.test(glanceOf(fromSummary)), 'no leak, no bound');
  const chart = reportCharts({ summary, data: null }).find((c) => c.id === 'who-pays')!;
  assert.match(chart.caption, /the filesystem's harm is an upper bound for the strategies that leaked/);
  const pin = spec(chart.spec).data.values.find((p: { strategy: string }) => p.strategy === 'pin');
  assert.equal(pin.leak, 'upper bound: leaked blocks counted as held for the whole trace');
  // With the trace, leak durations are measured: no bound, no caption sentence.
  const full = reportCharts({ summary, data }).find((c) => c.id === 'who-pays')!;
  assert.ok(!full.caption.includes('upper bound'));
  assert.ok(!glanceOf(renderReport({ summary, data, interactive: false })).includes('≤'));
});
