// Replay bench: events/s and peak RSS of `analyzeTrace` with all nine
// strategies (2 worker threads) on the `mixed` workload, next to a bare
// JSON.parse-per-line loop over the same file in the same run. Each
// measurement runs in its own child process so maxRSS is that run's.
// Runs as a section of bench/run.ts, or alone: node dist/bench/replay.js [--quick]
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeTrace } from '../src/analysis/analyze.js';
import { writeWorkload } from '../src/generate/index.js';
import { STRATEGY_IDS } from '../src/replay/types.js';
import { median, pct, type BenchContext, type BenchSection } from './section.js';

interface ChildResult {
  secs: number;
  events: number;
  maxRssMiB: number;
}

async function bareLoop(path: string): Promise<number> {
  let n = 0;
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + (chunk as string)).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l) { JSON.parse(l); n++; }
  }
  if (rest) { JSON.parse(rest); n++; }
  return n;
}

async function child(mode: string, path: string, threads: number): Promise<void> {
  const t0 = process.hrtime.bigint();
  let events: number;
  if (mode === 'bare') events = await bareLoop(path);
  else {
    const r = await analyzeTrace(path, { strategies: [...STRATEGY_IDS], leaseBreakNs: 45e9, lenient: false, threads });
    events = r.summary.trace.events_read;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const out: ChildResult = { secs, events, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(out));
}

function measure(mode: string, path: string, threads = 2): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', mode, path, String(threads)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench child ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ChildResult;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ROUNDS = 5;

export const replaySection: BenchSection = {
  name: 'replay',
  async run(ctx: BenchContext): Promise<string> {
    const small = ctx.quick ? 100_000 : 1_000_000;
    const big = small * 4;
    const rows: string[] = [];
    const perEvents: Record<number, ChildResult> = {};
    const medianTwo: Record<number, string> = {};
    /** The 2-thread median itself, for the verdict (the table rounds it). */
    const medianTwoValue: Record<number, number> = {};
    /** The fastest 2-thread run's rate over the fastest bare run's: the same target read the other way. */
    const bestTwoValue: Record<number, number> = {};
    for (const n of [small, big]) {
      const path = join(ctx.tmpDir, `mixed-${n}.ndjson`);
      ctx.log(`replay: generating mixed ${fmt(n)} events`);
      await writeWorkload(path, { workload: 'mixed', events: n, seed: 1 });
      // Interleaved rounds: a row shows the fastest run of its mode, and
      // "vs bare" is the median over rounds of the ratio to the bare run of
      // the same round (the machine is shared: a neighbour's burst moves
      // adjacent runs together, so a pair's ratio is steadier than two bests).
      // Five rounds: with three, one neighbour's burst moved the median by several points.
      const rounds = ctx.quick ? 1 : ROUNDS;
      const runs: Record<'bare' | 'two' | 'one', ChildResult[]> = { bare: [], two: [], one: [] };
      for (let r = 0; r < rounds; r++) {
        runs.bare.push(measure('bare', path));
        runs.two.push(measure('replay', path, 2));
        if (n === small) runs.one.push(measure('replay', path, 1));
      }
      const rate = (r: ChildResult) => r.events / r.secs;
      const fastest = (xs: ChildResult[]) => xs.reduce((a, b) => (a.secs <= b.secs ? a : b));
      const ratiosOf = (xs: ChildResult[]) => xs.map((x, i) => rate(x) / rate(runs.bare[i]!)).sort((a, b) => a - b);
      const vsBare = (xs: ChildResult[]) => {
        const ratios = ratiosOf(xs);
        return ratios.length > 1 ? `${pct(median(ratios))} (${ratios.map((r) => pct(r)).join(', ')})` : pct(median(ratios));
      };
      const bare = fastest(runs.bare);
      const two = fastest(runs.two);
      perEvents[n] = two;
      medianTwo[n] = vsBare(runs.two);
      medianTwoValue[n] = median(ratiosOf(runs.two));
      bestTwoValue[n] = rate(two) / rate(bare);
      rows.push(`| ${fmt(n)} | bare JSON.parse loop | ${fmt(rate(bare))} | ${bare.maxRssMiB.toFixed(0)} | 100% |`);
      rows.push(`| ${fmt(n)} | replay, 9 strategies, 2 threads | ${fmt(rate(two))} | ${two.maxRssMiB.toFixed(0)} | ${medianTwo[n]} |`);
      if (runs.one.length) {
        const one = fastest(runs.one);
        rows.push(`| ${fmt(n)} | replay, 9 strategies, 1 thread | ${fmt(rate(one))} | ${one.maxRssMiB.toFixed(0)} | ${vsBare(runs.one)} |`);
      }
      ctx.log(`replay: ${fmt(n)} events done`);
    }
    const ratio = perEvents[big]!.maxRssMiB / perEvents[small]!.maxRssMiB;
    return [
      '## Replay',
      '',
      '`mixed` workload (`pinscope generate mixed --seed 1`), JSON Lines, all nine strategies; each run in its own process;',
      `${ctx.quick ? 1 : ROUNDS} rounds interleaved; events/s and RSS are the fastest run of each mode, "vs bare" the median (and each) of the`,
      'rounds\' ratios to the bare loop of the same round. "2 threads": this thread parses once and replays some',
      'strategies, one worker thread replays the rest from the wire.',
      '',
      '| events | run | events/s | peak RSS (MiB) | vs bare (median; rounds) |',
      '| ---: | --- | ---: | ---: | ---: |',
      ...rows,
      '',
      `Peak RSS at ${fmt(big)} events is ${ratio.toFixed(2)}x that at ${fmt(small)} (target <= 1.3x).`,
      `Event rate with 2 threads against the bare loop (target >= 40% at ${fmt(small)} events): median ${pct(medianTwoValue[small]!, 1)}` +
        ` at ${fmt(small)} events, ${pct(medianTwoValue[big]!, 1)} at ${fmt(big)}: **${medianTwoValue[small]! >= 0.4 ? 'met' : 'not met'}**` +
        ` (fastest run against fastest run: ${pct(bestTwoValue[small]!, 1)} at ${fmt(small)}, ${pct(bestTwoValue[big]!, 1)} at ${fmt(big)}).`,
    ].join('\n');
  },
};

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!, Number(process.argv[5] ?? 2));
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const tmp = await mkdtemp(join(tmpdir(), 'pinscope-bench-replay-'));
  try {
    const md = await replaySection.run({ tmpDir: tmp, quick: process.argv.includes('--quick'), log: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(`${md}\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
