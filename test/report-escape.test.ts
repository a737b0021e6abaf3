// Hostile names from a trace (file, device, trace path, title) must never
// reach the page raw: not in HTML text or attributes, not in SVG text, not
// inside the embedded JSON where `</script>` would end the element.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../src/report/page.js';
import { renderIndex } from '../src/report/index-page.js';
import { escapeHtml, jsonForScript } from '../src/report/escape.js';
import type { BatchSummary } from '../src/batch/types.js';
import { scenario } from './report-fixture.js';

export const HOSTILE = [
  '</script><script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  'a & b',
  '<!--',
  'tab\u2028line\u2029sep',
];
const FILE = `/mnt/pmem/${HOSTILE[0]}${HOSTILE[1]}`;
const OTHER = `/mnt/pmem/${HOSTILE[2]}${HOSTILE[3]}${HOSTILE[4]}`;
const DEV = `mlx5_${HOSTILE[1]}${HOSTILE[5]}`;
const PATH = `traces/${HOSTILE[0]}.ndjson`;

function assertNoRaw(html: string): void {
  for (const bad of ['<script>alert(1)', '<img src=x', '<svg onload', 'onerror=alert(1)>']) {
    assert.ok(!html.includes(bad), `raw ${JSON.stringify(bad)} in output`);
  }
  // The only <script elements are the ones the page itself writes.
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  for (const s of scripts) assert.match(s, /^<script( type="application\/json" id="spec-[a-z-]+")?>$/);
  // Each JSON block parses and holds the hostile names intact (escaped, not mangled).
  for (const m of html.matchAll(/<script type="application\/json" id="spec-[a-z-]+">(.*?)<\/script>/gs)) {
    assert.ok(!/[<\u2028\u2029]/.test(m[1]!), 'no < nor U+2028/2029 inside a JSON block');
    JSON.parse(m[1]!);
  }
}

test('escapeHtml and jsonForScript neutralize markup, </script>, comments and line separators', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  const j = jsonForScript({ s: '</script><!--\u2028\u2029&' });
  assert.ok(!/[<>&\u2028\u2029]/.test(j));
  assert.deepEqual(JSON.parse(j), { s: '</script><!--\u2028\u2029&' });
});

test('a report of a trace with hostile file, device and path names contains none of them raw', () => {
  const input = scenario(FILE, OTHER, DEV, PATH);
  for (const interactive of [false, true]) {
    const html = renderReport({ ...input, interactive, title: `${HOSTILE[1]} title` });
    assertNoRaw(html.replace(/<script>!function\(t,e\)[\s\S]*?<\/script>\n<script>!function\(e,t\)[\s\S]*?<\/script>/, '<script></script>'));
    // The names are there, escaped: in the worst-findings words, the summary header, and the SVG text.
    assert.ok(html.includes(escapeHtml(FILE)), 'file name shown escaped');
    assert.ok(html.includes(escapeHtml(PATH)), 'trace path shown escaped');
    assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
    const svgText = [...html.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!).join('\n');
    assert.ok(svgText.includes('&lt;/script&gt;'), 'vega escapes SVG text (file names on the heatmap axis)');
    // And the embedded spec carries the name itself, for the interactive view.
    const spec = /<script type="application\/json" id="spec-where">(.*?)<\/script>/s.exec(html)!;
    assert.ok(JSON.stringify(JSON.parse(spec[1]!)).includes(JSON.stringify(FILE).slice(1, -1)));
  }
});

test('a summary-only report and the index page escape hostile names too', () => {
  const { summary } = scenario(FILE, OTHER, DEV, PATH);
  assertNoRaw(renderReport({ summary, data: null, interactive: false }));
  const batch: BatchSummary = {
    tool: 'pinscope', version: '0.1.0', params: { strategies: summary.params.strategies, lease_break_ns: 45e9, lenient: false },
    traces: [
      { path: PATH, status: 'ok', report: `${HOSTILE[1]}.html`, trace: summary.trace, strategies: summary.strategies },
      { path: `${HOSTILE[0]}/bad`, status: 'error', error: `${HOSTILE[1]}: line 1: bad` },
    ],
    ignored: [{ path: HOSTILE[2], reason: HOSTILE[0] } as never],
  };
  const html = renderIndex(batch, { [PATH]: `javascript:${HOSTILE[1]}` }, { interactive: false });
  assertNoRaw(html);
  assert.ok(!html.includes('href="javascript:'), 'a link with a scheme is made relative');
  assert.ok(html.includes('href="./javascript:&quot;&gt;'), 'and stays inside its attribute');
});
