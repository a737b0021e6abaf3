// The report in a real browser: Debian's headless Chromium driven by
// playwright-core (no browser is ever downloaded). One browser for every
// check: the charts are drawn, nothing logs an error, nothing hostile runs,
// and the page reads the same with JavaScript off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { renderReport } from '../src/report/page.js';
import { renderIndex } from '../src/report/index-page.js';
import { analyzeForReport } from '../src/report/collect.js';
import { STRATEGY_IDS } from '../src/replay/types.js';
import type { BatchSummary } from '../src/batch/types.js';
import { scenario } from './report-fixture.js';

export const CHROMIUM = process.env.PINSCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Payloads that, if they ever ran, leave a trace the test can see.
const PWN_SCRIPT = '</script><script>window.__pwned=1;alert(1)</script>';
const PWN_ATTR = '"><img src=x onerror="window.__pwned=2;alert(2)">';
const HOSTILE_FILE = `/mnt/pmem/${PWN_SCRIPT}${PWN_ATTR}`;
const HOSTILE_DEV = `mlx5_${PWN_ATTR}`;
const HOSTILE_PATH = `traces/${PWN_SCRIPT}.ndjson`;

let dir = '';
let profile = '';
let ctx: BrowserContext | null = null;
const dialogs: string[] = [];
const errors: string[] = [];

before(async () => {
  // Missing browser: a failure with the fix, never a skip.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run .ci/install-chromium.sh (installs Debian's chromium)`);
  }
  dir = mkdtempSync(join(tmpdir(), 'pinscope-browser-'));
  profile = mkdtempSync(join(tmpdir(), 'pinscope-chromium-profile-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 900 },
  });
  ctx.on('page', watch);
});

after(async () => {
  await ctx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function watch(page: Page): void {
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  // Nothing may be fetched: every request but the page itself is a failure.
  page.on('request', (r) => {
    if (!r.url().startsWith('file://') && !r.url().startsWith('data:')) errors.push(`request to ${r.url()}`);
  });
}

async function open(html: string, name: string, js = true): Promise<Page> {
  const file = join(dir, name);
  writeFileSync(file, html);
  const page = await ctx!.newPage();
  if (!js) {
    const cdp = await ctx!.newCDPSession(page);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
  }
  dialogs.length = 0;
  errors.length = 0;
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return page;
}

/** Every chart container has a visible <svg> with marks. */
async function chartsDrawn(page: Page): Promise<{ id: string; w: number; h: number; marks: number; live: boolean }[]> {
  return page.$$eval('figure.chart', (figs) => figs.map((f) => {
    const svg = f.querySelector('svg');
    const r = svg?.getBoundingClientRect();
    return {
      id: f.id, w: r?.width ?? 0, h: r?.height ?? 0,
      marks: svg ? svg.querySelectorAll('g[class*="role-mark"] path, g[class*="role-mark"] text, g[class*="role-mark"] line').length : 0,
      live: f.getAttribute('data-live') === '1',
    };
  }));
}

function assertDrawn(charts: Awaited<ReturnType<typeof chartsDrawn>>, ids: string[], live: boolean): void {
  assert.deepEqual(charts.map((c) => c.id), ids.map((i) => `chart-${i}`));
  for (const c of charts) {
    assert.ok(c.w > 100 && c.h > 50, `${c.id} has size ${c.w}x${c.h}`);
    assert.ok(c.marks > 0, `${c.id} has marks`);
    assert.equal(c.live, live, `${c.id} live=${live}`);
  }
}

async function assertNothingRan(page: Page): Promise<void> {
  const pwned = await page.evaluate('window.__pwned ?? null');
  assert.equal(pwned, null, 'a hostile payload ran');
  assert.deepEqual(dialogs, [], 'no dialog');
  assert.equal(await page.locator('img').count(), 0, 'no injected <img>');
}

/** Run in the page (a string: this project compiles without the DOM lib). */
const ALL_LIVE = `document.querySelectorAll('figure.chart').length > 0
  && document.querySelectorAll('figure.chart[data-live="1"]').length === document.querySelectorAll('figure.chart').length`;

const ALL_CHARTS = ['who-pays', 'outcomes-count', 'outcomes-bytes', 'timeline', 'stalls', 'where'];

test('a hostile report: every chart drawn live, tooltips work, no errors, nothing hostile runs', async () => {
  const input = scenario(HOSTILE_FILE, `/mnt/pmem/${PWN_ATTR}`, HOSTILE_DEV, HOSTILE_PATH);
  const page = await open(renderReport({ ...input, title: `report ${PWN_SCRIPT}` }), 'hostile.html');
  await page.waitForFunction(ALL_LIVE, null, { timeout: 15_000 });
  assertDrawn(await chartsDrawn(page), ALL_CHARTS, true);
  await assertNothingRan(page);
  assert.deepEqual(errors, []);
  assert.equal(await page.title(), `report ${PWN_SCRIPT}`, 'the title is shown as text');
  // The worst-findings table shows the hostile file name as text.
  assert.ok((await page.locator('#worst').innerText()).includes(HOSTILE_FILE));
  // Hovering a point of who-pays shows a tooltip naming the strategy (as text).
  const point = page.locator('#chart-who-pays g[class*="role-mark"] path').first();
  await point.hover({ force: true });
  await page.waitForFunction("document.querySelector('.tip')?.style.display === 'block'", null, { timeout: 5000 });
  assert.match(await page.locator('.tip').innerText(), /strategy: /);
  await page.close();
});

test('with JavaScript off the static SVG charts and tables are all there', async () => {
  const input = scenario(HOSTILE_FILE, '/mnt/pmem/b.dat', HOSTILE_DEV, HOSTILE_PATH);
  const page = await open(renderReport(input), 'nojs.html', false);
  assertDrawn(await chartsDrawn(page), ALL_CHARTS, false);
  assert.ok(await page.locator('table.summary tbody tr').count() === 9);
  await assertNothingRan(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a real report of a shipped scenario, made by the engine, draws in the browser', async () => {
  const input = await analyzeForReport('traces/scenarios/dax-truncate-reuse.ndjson', {
    strategies: [...STRATEGY_IDS], leaseBreakNs: 45e9, lenient: false,
  });
  const page = await open(renderReport(input), 'real.html');
  await page.waitForFunction(ALL_LIVE, null, { timeout: 15_000 });
  const charts = await chartsDrawn(page);
  assert.ok(charts.length >= 4, charts.map((c) => c.id).join(','));
  assertDrawn(charts, charts.map((c) => c.id.replace(/^chart-/, '')), true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the batch index page: matrix, links and charts; hostile names inert', async () => {
  const sc = scenario(HOSTILE_FILE, '/mnt/pmem/b.dat', HOSTILE_DEV, HOSTILE_PATH);
  const batch: BatchSummary = {
    tool: 'pinscope', version: '0.1.0', params: { strategies: sc.summary.params.strategies, lease_break_ns: 45e9, lenient: false },
    traces: [
      { path: HOSTILE_PATH, status: 'ok', report: 'a.html', trace: sc.summary.trace, strategies: sc.summary.strategies },
      { path: 'traces/bad.ndjson', status: 'error', error: `traces/bad.ndjson: line 2: ${PWN_ATTR}` },
    ],
    ignored: [],
  };
  const page = await open(renderIndex(batch, {}), 'index.html');
  await page.waitForFunction(ALL_LIVE, null, { timeout: 15_000 });
  assertDrawn(await chartsDrawn(page), ['who-pays-batch', 'totals-count'], true);
  const a = page.locator('table.index a[href="a.html"]');
  assert.equal(await a.innerText(), HOSTILE_PATH.slice('traces/'.length));
  assert.equal(await a.getAttribute('title'), HOSTILE_PATH);
  await assertNothingRan(page);
  assert.deepEqual(errors, []);
  await page.close();
});
