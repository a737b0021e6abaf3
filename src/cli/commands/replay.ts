// pinscope replay <trace>: replay one trace under the strategies; a table
// (strategies as columns, kinds as rows) and one verdict line per
// strategy, or with --json exactly the summary of cli.md.
import { statSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import {
  commonOptions, EXIT_FAIL_ON, EXIT_OK, parseDuration, parseKinds, parseStrategies, printable, progressEnabled, runCommand, checkInputFile,
  UsageError,
} from '../common.js';
import { analyzeTrace } from '../../analysis/analyze.js';
import { formatBytes } from '../../analysis/words.js';
import {
  FINDING_KINDS, KIND_PAYER, type FindingKind, type ReplaySummary, type StrategyId, type StrategySummary,
} from '../../replay/types.js';

interface ReplayArgs {
  trace: string;
  strategy: string;
  'lease-break': string;
  lenient: boolean;
  json: boolean;
  findings: boolean;
  'fail-on'?: string;
  quiet: boolean;
  html?: string;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay <trace>',
  describe: 'replay a trace under the strategies and show where data is corrupted, lost, stalled or refused',
  builder: (y) =>
    y
      .positional('trace', { type: 'string', demandOption: true, describe: 'trace file (JSON Lines, JSON, gzip), or - for stdin' })
      .options(commonOptions)
      .option('findings', { type: 'boolean', default: false, describe: 'add every finding (with its causal chain) to the JSON' })
      .option('html', { type: 'string', describe: 'also write the HTML report to FILE (not -: stdout takes the table)' })
      .example('$0 replay trace.ndjson', 'table of findings under all nine strategies')
      .example('$0 replay trace.ndjson --strategy pin,notify,odp --lease-break 500ms', 'three strategies, short lease break')
      .example('$0 replay trace.json.gz --json --findings > out.json', 'the summary with every finding, as JSON')
      .example('$0 replay trace.ndjson --fail-on corruption,info_leak', 'exit 1 if any strategy corrupts or leaks data')
      .example('$0 replay trace.ndjson --html report.html', 'the table, and the HTML report')
      .example('cat trace.ndjson | $0 replay - --lenient', 'from stdin, skipping bad events') as never,
  handler: (argv) =>
    runCommand(async () => {
      const trace = argv.trace;
      checkInputFile(trace);
      const strategies = parseStrategies(argv.strategy);
      const leaseBreakNs = parseDuration(argv['lease-break']);
      const failOn = parseKinds(argv['fail-on']);
      if (argv.html === '-') throw new UsageError('--html: standard output takes the table (or --json); name a file');
      const progress = progressEnabled(argv.quiet) ? progressLine(trace) : null;
      const opts = {
        strategies, leaseBreakNs, lenient: argv.lenient, findings: argv.findings,
        ...(progress ? { onProgress: progress.update } : {}),
      };
      let summary: ReplaySummary;
      try {
        if (argv.html !== undefined) {
          // One replay feeds both: the report's collectors ride along. The
          // report modules (vega, vega-lite: ~0.6 s to load) only when asked for.
          const [{ analyzeForReport }, { writeReport }] = await Promise.all([
            import('../../report/collect.js'), import('../../report/page.js'),
          ]);
          const report = await analyzeForReport(trace, opts);
          summary = report.summary;
          await writeReport(argv.html, report);
        } else {
          summary = (await analyzeTrace(trace, opts)).summary;
        }
      } finally {
        progress?.done();
      }
      if (argv.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(formatTable(summary, Boolean(process.stdout.isTTY)));
      return failOnHit(summary, failOn) ? EXIT_FAIL_ON : EXIT_OK;
    }),
};

export function failOnHit(summary: ReplaySummary, kinds: FindingKind[]): boolean {
  return Object.values(summary.strategies).some((s) => s !== undefined && kinds.some((k) => s.counts[k] > 0));
}

function progressLine(path: string): { update: (b: number) => void; done: () => void } {
  let total = 0;
  try {
    total = path === '-' ? 0 : statSync(path).size;
  } catch {
    total = 0;
  }
  let last = -1;
  return {
    update: (b) => {
      const pct = total ? Math.floor((100 * b) / total) : -1;
      if (pct === last) return;
      last = pct;
      process.stderr.write(`\rreplaying ${pct >= 0 ? `${pct}%` : formatBytes(b)}   `);
    },
    done: () => {
      if (last !== -1) process.stderr.write('\r\x1b[K');
    },
  };
}

// ---- the readable table ----

export function humanNs(ns: number): string {
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${+(ns / 1e3).toFixed(1)}µs`;
  if (ns < 1e9) return `${+(ns / 1e6).toFixed(1)}ms`;
  return `${+(ns / 1e9).toFixed(1)}s`;
}

function cell(s: StrategySummary, k: FindingKind): string {
  const n = s.counts[k];
  if (n === 0) return '0';
  if (k === 'stall') return `${n} (${humanNs(s.stall_ns.total)})`;
  if (k === 'killed' || k === 'device_hang') return String(n);
  return `${n} (${formatBytes(s.bytes[k])})`;
}

export function formatTable(summary: ReplaySummary, tty: boolean): string {
  const ids = summary.params.strategies.filter((s) => summary.strategies[s]) as StrategyId[];
  const rows: string[][] = [['', ...ids]];
  for (const k of FINDING_KINDS) rows.push([k, ...ids.map((s) => cell(summary.strategies[s]!, k))]);
  rows.push(['stall p50/p99', ...ids.map((s) => {
    const st = summary.strategies[s]!.stall_ns;
    return st.count ? `${humanNs(st.p50)}/${humanNs(st.p99)}` : '-';
  })]);
  rows.push(['dropped events', ...ids.map((s) => String(summary.strategies[s]!.dropped_events))]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const dim = (t: string) => (tty ? `\x1b[2m${t}\x1b[0m` : t);
  const lines = rows.map((r, ri) =>
    r.map((v, c) => {
      const padded = c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!);
      return ri > 0 && c > 0 && (v === '0' || v === '-') ? dim(padded) : padded;
    }).join('  ').trimEnd());
  const t = summary.trace;
  const head = `${printable(t.path)}: ${t.events_replayed} events replayed` +
    (t.events_skipped ? `, ${t.events_skipped} skipped` : '') +
    `, lease break ${humanNs(summary.params.lease_break_ns)}\n\n`;
  const verdicts = ids.map((s) => `${s.padEnd(7)} ${verdict(summary.strategies[s]!)}`);
  return `${head}${lines.join('\n')}\n\n${verdicts.join('\n')}\n`;
}

/** Who pays under a strategy, worst first. */
export function verdict(s: StrategySummary): string {
  const payers = ['everyone', 'device user', 'filesystem', 'system', 'cost'] as const;
  const parts: string[] = [];
  for (const p of payers) {
    const kinds = FINDING_KINDS.filter((k) => KIND_PAYER[k] === p && s.counts[k] > 0);
    if (kinds.length === 0) continue;
    const what = kinds.map((k) => `${s.counts[k]} ${k}`).join(', ');
    parts.push(p === 'cost' ? `costs ${what}` : `${p} pays (${what})`);
  }
  return parts.length ? parts.join('; ') : 'nobody pays';
}
