#!/usr/bin/env node
// Screenshot of a pinscope HTML report in Debian's headless chromium
// (playwright-core drives it; no browser is downloaded). Used to make
// docs/report-screenshot.png:
//
//   npx tsc -p . && node bin/pinscope.js report traces/scenarios/dax-truncate-reuse.ndjson \
//     --title "pinscope: DAX truncate, block reused while an RDMA NIC still writes" -o /tmp/report.html
//   node scripts/screenshot.mjs /tmp/report.html docs/report-screenshot.png
//
// Options: --width N (default 1100), --height N (clip the page at N px; default: the whole page).
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const width = opt('width', 1100);
const height = opt('height', 0);
const [input, output] = args;
if (!input || !output) {
  process.stderr.write('usage: node scripts/screenshot.mjs REPORT.html OUT.png [--width N] [--height N]\n');
  process.exit(2);
}
const exe = process.env.PINSCOPE_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(exe)) {
  process.stderr.write(`screenshot: ${exe} is missing: run .ci/install-chromium.sh\n`);
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'pinscope-shot-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: exe, headless: true, viewport: { width, height: 900 }, deviceScaleFactor: 1,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await ctx.newPage();
  await page.goto(pathToFileURL(resolve(input)).href, { waitUntil: 'load' });
  // Interactive reports redraw their charts; wait for that (static ones have no data-live).
  await page.waitForFunction(`!window.vega || [...document.querySelectorAll('figure.chart')].every((f) => f.dataset.live === '1')`,
    null, { timeout: 15000 });
  const full = await page.evaluate('document.documentElement.scrollHeight');
  await page.screenshot({ path: output, fullPage: true, clip: { x: 0, y: 0, width, height: height > 0 ? Math.min(height, full) : full } });
  process.stdout.write(`screenshot: ${output} (${width}x${height > 0 ? Math.min(height, full) : full})\n`);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
