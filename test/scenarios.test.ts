// Hand-written scenario traces (traces/scenarios/) with the outcome the
// spec (shared/spec/model.md) gives for every strategy. The expectations
// live next to each trace in <name>.expect.json and are derived from the
// spec, not from the engine's output; <name>.md explains why.
//
// For each scenario and strategy this asserts the exact count of every one
// of the 14 kinds (a kind not listed must be 0), the bytes listed, the stall
// statistics and dropped events listed, and that each listed finding is
// matched by a distinct finding of the engine (causal chain included).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import {
  STRATEGY_IDS, FINDING_KINDS, DEFAULT_LEASE_BREAK_NS,
  type FindingKind, type FindingRecord, type ReplaySummary, type StrategyId, type StallStats,
} from '../src/replay/types.js';
import { EVENT_SPECS, type EventType } from '../src/trace/events.js';

const DIR = new URL('../../traces/scenarios/', import.meta.url);
const TRACE_EXT = '.ndjson';

interface ExpectedFinding {
  kind: FindingKind;
  ts?: number;
  bytes?: number;
  pid?: number;
  dev?: string;
  pin?: number;
  file?: string;
  page?: number;
  dur_ns?: number;
  /** The exact causal chain (event indices, oldest first). */
  cause?: number[];
  /** Event indices the causal chain must contain (where the spec fixes only part of it). */
  cause_includes?: number[];
}

interface ExpectedStrategy {
  /** Kinds not listed must count 0. */
  counts: Partial<Record<FindingKind, number>>;
  bytes?: Partial<Record<FindingKind, number>>;
  stall_ns?: Partial<StallStats>;
  dropped_events?: number;
  findings?: ExpectedFinding[];
}

interface Expectation {
  trace: string;
  lease_break_ns?: number;
  strategies: Record<StrategyId, ExpectedStrategy>;
}

function listDir(): string[] {
  return readdirSync(DIR).sort();
}

function scenarioNames(): string[] {
  return listDir().filter((f) => f.endsWith(TRACE_EXT)).map((f) => f.slice(0, -TRACE_EXT.length));
}

function readExpect(name: string): Expectation {
  return JSON.parse(readFileSync(new URL(`${name}.expect.json`, DIR), 'utf8')) as Expectation;
}

/** Trace events (meta header not counted), parsed. */
function readEvents(name: string): Record<string, unknown>[] {
  const text = readFileSync(new URL(`${name}${TRACE_EXT}`, DIR), 'utf8');
  const all = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return all.filter((e, i) => !(i === 0 && e.type === 'meta'));
}

// The engine is being written alongside; a computed specifier keeps this
// file compiling before src/analysis/analyze.ts exists (the tests then fail,
// they are not skipped).
type AnalyzeFn = (path: string, opts: Record<string, unknown>) => Promise<{ summary: ReplaySummary }>;
const ANALYZE_MODULE = '../src/analysis/analyze.js';
async function loadAnalyze(): Promise<AnalyzeFn> {
  const mod = (await import(ANALYZE_MODULE)) as { analyzeTrace: AnalyzeFn };
  return mod.analyzeTrace;
}

const summaries = new Map<string, Promise<ReplaySummary>>();
function summaryOf(name: string): Promise<ReplaySummary> {
  let p = summaries.get(name);
  if (!p) {
    const exp = readExpect(name);
    p = loadAnalyze().then((analyze) =>
      analyze(fileURLToPath(new URL(exp.trace, DIR)), {
        strategies: [...STRATEGY_IDS],
        leaseBreakNs: exp.lease_break_ns ?? DEFAULT_LEASE_BREAK_NS,
        lenient: false,
        findings: true,
      }).then((r) => r.summary),
    );
    summaries.set(name, p);
  }
  return p;
}

function matches(f: FindingRecord, e: ExpectedFinding): boolean {
  for (const key of ['kind', 'ts', 'bytes', 'pid', 'dev', 'pin', 'file', 'page', 'dur_ns'] as const) {
    if (e[key] !== undefined && f[key] !== e[key]) return false;
  }
  if (e.cause && JSON.stringify(f.cause) !== JSON.stringify(e.cause)) return false;
  if (e.cause_includes && !e.cause_includes.every((i) => f.cause.includes(i))) return false;
  return true;
}

test('every scenario trace has a sidecar .md and an .expect.json that names it (no orphans)', () => {
  const files = listDir();
  const names = scenarioNames();
  assert.ok(names.length >= 12, `expected at least 12 scenario traces, found ${names.length}`);
  for (const f of files) {
    const m = /^(.*?)(\.ndjson|\.md|\.expect\.json)$/.exec(f);
    assert.ok(m, `${f}: not a scenario trace, sidecar or expectation`);
    const base = m[1]!;
    assert.ok(files.includes(`${base}${TRACE_EXT}`), `${f} has no trace ${base}${TRACE_EXT}`);
    assert.ok(files.includes(`${base}.md`), `${base}${TRACE_EXT} has no sidecar ${base}.md`);
    assert.ok(files.includes(`${base}.expect.json`), `${base}${TRACE_EXT} has no ${base}.expect.json`);
  }
  for (const name of names) {
    const exp = readExpect(name);
    assert.equal(exp.trace, `${name}${TRACE_EXT}`, `${name}.expect.json names another trace`);
    assert.deepEqual(Object.keys(exp.strategies).sort(), [...STRATEGY_IDS].sort(), `${name}: every strategy needs an expectation`);
    for (const s of STRATEGY_IDS) {
      for (const k of Object.keys(exp.strategies[s].counts)) {
        assert.ok((FINDING_KINDS as readonly string[]).includes(k), `${name}/${s}: unknown kind ${k}`);
      }
    }
    const md = readFileSync(new URL(`${name}.md`, DIR), 'utf8');
    for (const s of STRATEGY_IDS) assert.ok(md.includes(`\`${s}\``), `${name}.md does not explain strategy \`${s}\``);
  }
});

// An independent check that the hand-written traces are valid for
// trace-format.md, so a disagreement with the engine is never a typo here.
describe('scenario traces are valid trace-format v1', () => {
  for (const name of scenarioNames()) {
    test(name, () => {
      const text = readFileSync(new URL(`${name}${TRACE_EXT}`, DIR), 'utf8');
      const first = JSON.parse(text.split('\n')[0]!) as Record<string, unknown>;
      assert.equal(first.type, 'meta', 'a scenario starts with a meta header');
      assert.equal(first.page_size, 4096);
      const events = readEvents(name);
      assert.ok(events.length >= 5 && events.length <= 40, `${name}: ${events.length} events, want 5..40`);
      const files = new Set<string>();
      const maps = new Map<number, { start: number; end: number }[]>();
      const pins = new Map<number, number>(); // handle -> len
      const addr = (v: unknown) => (typeof v === 'string' ? Number.parseInt(v, 16) : (v as number));
      let lastTs = 0;
      events.forEach((e, i) => {
        const where = `${name} event ${i} (${String(e.type)})`;
        const spec = EVENT_SPECS[e.type as EventType];
        assert.ok(spec && e.type !== 'meta', `${where}: unknown type`);
        for (const [field, fs] of Object.entries(spec.fields)) {
          if (fs.required) assert.ok(e[field] !== undefined, `${where}: missing ${field}`);
        }
        for (const k of Object.keys(e)) assert.ok(k === 'type' || k in spec.fields, `${where}: unexpected field ${k}`);
        assert.ok((e.ts as number) >= lastTs, `${where}: ts goes backwards`);
        lastTs = e.ts as number;
        switch (e.type) {
          case 'file':
            assert.ok(!files.has(e.file as string), `${where}: file declared twice`);
            files.add(e.file as string);
            break;
          case 'mmap': {
            if (e.file !== undefined) assert.ok(files.has(e.file as string), `${where}: file not declared`);
            const a = addr(e.addr);
            const list = maps.get(e.pid as number) ?? [];
            list.push({ start: a, end: a + (e.len as number) });
            maps.set(e.pid as number, list);
            break;
          }
          case 'pin': {
            assert.ok(!pins.has(e.pin as number), `${where}: live handle reused`);
            const a = addr(e.addr);
            const covered = (maps.get(e.pid as number) ?? []).some((m) => m.start <= a && a + (e.len as number) <= m.end);
            assert.ok(covered, `${where}: pin over unmapped addresses`);
            pins.set(e.pin as number, e.len as number);
            break;
          }
          case 'dma':
            assert.ok(pins.has(e.pin as number), `${where}: no live pin`);
            assert.ok((e.off as number) + (e.len as number) <= pins.get(e.pin as number)!, `${where}: outside the pin`);
            break;
          case 'unpin':
            assert.ok(pins.delete(e.pin as number), `${where}: no live pin`);
            break;
          case 'truncate':
          case 'punch_hole':
          case 'writeback':
            assert.ok(files.has(e.file as string), `${where}: file not declared`);
            break;
        }
      });
    });
  }
});

for (const name of scenarioNames()) {
  describe(`scenario ${name}`, () => {
    const exp = readExpect(name);
    test('every event is read and either replayed or skipped', async () => {
      const sum = await summaryOf(name);
      const t = sum.trace;
      assert.equal(t.events_read, readEvents(name).length);
      assert.equal(t.events_read, t.events_replayed + t.events_skipped);
      assert.equal(t.events_skipped, 0);
      assert.equal(sum.params.lease_break_ns, exp.lease_break_ns ?? DEFAULT_LEASE_BREAK_NS);
    });
    for (const s of STRATEGY_IDS) {
      test(s, async () => {
        const sum = await summaryOf(name);
        const got = sum.strategies[s];
        assert.ok(got, `no summary for strategy ${s}`);
        const want = exp.strategies[s];
        const findings = got.findings ?? [];
        const show = (k: FindingKind) => JSON.stringify(findings.filter((f) => f.kind === k));
        for (const k of FINDING_KINDS) {
          assert.equal(got.counts[k], want.counts[k] ?? 0, `${name}/${s}: count of ${k}; findings: ${show(k)}`);
        }
        for (const [k, b] of Object.entries(want.bytes ?? {}) as [FindingKind, number][]) {
          assert.equal(got.bytes[k], b, `${name}/${s}: bytes of ${k}; findings: ${show(k)}`);
        }
        for (const [k, v] of Object.entries(want.stall_ns ?? {}) as [keyof StallStats, number][]) {
          assert.equal(got.stall_ns[k], v, `${name}/${s}: stall_ns.${k}`);
        }
        if (want.dropped_events !== undefined) {
          assert.equal(got.dropped_events, want.dropped_events, `${name}/${s}: dropped_events`);
        }
        const used = new Set<FindingRecord>();
        for (const e of want.findings ?? []) {
          const hit = findings.find((f) => !used.has(f) && matches(f, e));
          assert.ok(hit, `${name}/${s}: no finding matches ${JSON.stringify(e)}; ${e.kind} findings: ${show(e.kind)}`);
          used.add(hit);
        }
      });
    }
  });
}

// The same answers through the command line (`replay --json --findings`),
// including a non-default --lease-break, and byte-identical on a rerun.
describe('scenarios through the CLI', () => {
  const BIN = fileURLToPath(new URL('../../bin/pinscope.js', import.meta.url));
  const ROOT = fileURLToPath(new URL('../../', import.meta.url));
  for (const name of ['dax-truncate-reuse', 'lease-break-boundary']) {
    test(`pinscope replay ${name} --json --findings`, () => {
      const exp = readExpect(name);
      const args = [BIN, 'replay', `traces/scenarios/${exp.trace}`, '--json', '--findings'];
      if (exp.lease_break_ns !== undefined) args.push('--lease-break', `${exp.lease_break_ns / 1e9}s`);
      const run = () => execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
      const out = run();
      assert.equal(run(), out, 'same trace and options must give byte-identical JSON');
      const sum = JSON.parse(out) as ReplaySummary;
      assert.equal(sum.params.lease_break_ns, exp.lease_break_ns ?? DEFAULT_LEASE_BREAK_NS);
      for (const s of STRATEGY_IDS) {
        const got = sum.strategies[s];
        assert.ok(got, `no summary for ${s}`);
        for (const k of FINDING_KINDS) {
          assert.equal(got.counts[k], exp.strategies[s].counts[k] ?? 0, `${name}/${s}: count of ${k} (CLI)`);
        }
        for (const e of exp.strategies[s].findings ?? []) {
          assert.ok((got.findings ?? []).some((f) => matches(f, e)), `${name}/${s}: CLI has no finding ${JSON.stringify(e)}`);
        }
      }
    });
  }
});
