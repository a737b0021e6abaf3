// What the report's charts show and leave out: drawing order, labels,
// axis domains, captions, the page's words (an audit in Chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TopLevelSpec } from 'vega-lite';
import { whoPaysPoints } from '../src/report/model.js';
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
    { trace: 'a', strategy: 'none', device: 1, fs: 0, security: 1, class: 'corrupts or leaks data' },
    { trace: 'a', strategy: 'pin', device: 1, fs: 0, security: 0, class: 'no corruption' },
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
  const b = spec(whoPaysBatchChart([{ trace: 'a', strategy: 'pin', device: 100, fs: 1, security: 0, class: 'no corruption' }], ['pin']));
  assert.deepEqual(b.encoding.x.scale.domain, [0, 1000]);
  assert.deepEqual(b.encoding.y.scale.domain, [0, 10]);
});
