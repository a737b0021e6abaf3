// What `pinscope report` was given: a trace, a `replay --json` summary, or
// a batch summary.json. Summaries are told from traces by their first key
// (`{"tool": "pinscope"` — no trace container starts so), and are checked
// field by field: a summary is input, and bad input is a one-line error.
import { open, readFile } from 'node:fs/promises';
import { FINDING_KINDS, STRATEGY_IDS, type ReplaySummary, type StrategyId, type StrategySummary } from '../replay/types.js';
import type { BatchEntry, BatchSummary } from '../batch/types.js';

export type LoadedInput =
  | { kind: 'trace'; path: string }
  | { kind: 'summary'; summary: ReplaySummary }
  | { kind: 'batch'; batch: BatchSummary };

/** A summary file that does not hold what `replay --json` or `batch` writes. */
export class SummaryInputError extends Error {
  override readonly name = 'SummaryInputError';
}

const SUMMARY_START = /^\s*\{\s*"tool"\s*:\s*"pinscope"/;

export async function detectInput(path: string): Promise<LoadedInput> {
  if (path === '-') return { kind: 'trace', path };
  const fh = await open(path, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
  if (!SUMMARY_START.test(head)) return { kind: 'trace', path };
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new SummaryInputError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  const o = doc as Record<string, unknown>;
  if (Array.isArray(o.traces)) return { kind: 'batch', batch: checkBatch(path, o) };
  return { kind: 'summary', summary: checkSummary(path, o, '') };
}

function fail(path: string, field: string, expected: string): never {
  throw new SummaryInputError(`${path}: field '${field}': expected ${expected}`);
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function nonNeg(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

function checkStrategies(path: string, x: unknown, at: string): Partial<Record<StrategyId, StrategySummary>> {
  if (!isObj(x)) fail(path, `${at}strategies`, 'an object of strategy summaries');
  for (const [id, st] of Object.entries(x)) {
    const f = `${at}strategies.${id}`;
    if (!(STRATEGY_IDS as readonly string[]).includes(id)) fail(path, f, `a strategy id (${STRATEGY_IDS.join(', ')})`);
    if (!isObj(st)) fail(path, f, 'an object');
    for (const part of ['counts', 'bytes'] as const) {
      const m = st[part];
      if (!isObj(m)) fail(path, `${f}.${part}`, 'an object with the 14 finding kinds');
      for (const k of FINDING_KINDS) if (!nonNeg(m[k])) fail(path, `${f}.${part}.${k}`, 'a non-negative number');
    }
    const sn = st.stall_ns;
    if (!isObj(sn)) fail(path, `${f}.stall_ns`, 'an object {count, total, max, p50, p99}');
    for (const k of ['count', 'total', 'max', 'p50', 'p99']) if (!nonNeg(sn[k])) fail(path, `${f}.stall_ns.${k}`, 'a non-negative number');
    if (!nonNeg(st.dropped_events)) fail(path, `${f}.dropped_events`, 'a non-negative number');
  }
  return x as Partial<Record<StrategyId, StrategySummary>>;
}

function checkTrace(path: string, t: unknown, at: string): void {
  if (!isObj(t)) fail(path, `${at}trace`, 'an object');
  if (typeof t.path !== 'string') fail(path, `${at}trace.path`, 'a string');
  for (const k of ['events_read', 'events_replayed', 'events_skipped']) if (!nonNeg(t[k])) fail(path, `${at}trace.${k}`, 'a non-negative number');
  for (const k of ['first_ts', 'last_ts']) if (t[k] !== null && !nonNeg(t[k])) fail(path, `${at}trace.${k}`, 'a non-negative number or null');
  if (!isObj(t.skipped_by_reason)) fail(path, `${at}trace.skipped_by_reason`, 'an object');
  for (const [r, n] of Object.entries(t.skipped_by_reason)) if (!nonNeg(n)) fail(path, `${at}trace.skipped_by_reason.${r}`, 'a non-negative number');
  if (typeof t.format !== 'string') fail(path, `${at}trace.format`, 'a string');
}

function checkParams(path: string, p: unknown, needPageSize: boolean): void {
  if (!isObj(p)) fail(path, 'params', 'an object');
  if (!Array.isArray(p.strategies) || p.strategies.some((s) => !(STRATEGY_IDS as readonly string[]).includes(s as string))) {
    fail(path, 'params.strategies', 'a list of strategy ids');
  }
  if (!nonNeg(p.lease_break_ns)) fail(path, 'params.lease_break_ns', 'a non-negative number');
  if (needPageSize && !nonNeg(p.page_size)) fail(path, 'params.page_size', 'a positive number');
  if (typeof p.lenient !== 'boolean') fail(path, 'params.lenient', 'true or false');
}

export function checkSummary(path: string, o: Record<string, unknown>, at: string): ReplaySummary {
  if (o.tool !== 'pinscope') fail(path, 'tool', '"pinscope"');
  if (typeof o.version !== 'string') fail(path, 'version', 'a string');
  checkParams(path, o.params, true);
  checkTrace(path, o.trace, at);
  checkStrategies(path, o.strategies, at);
  return o as unknown as ReplaySummary;
}

function checkBatch(path: string, o: Record<string, unknown>): BatchSummary {
  if (typeof o.version !== 'string') fail(path, 'version', 'a string');
  checkParams(path, o.params, false);
  (o.traces as unknown[]).forEach((e, i) => {
    const at = `traces[${i}].`;
    if (!isObj(e)) fail(path, `traces[${i}]`, 'an object');
    if (typeof e.path !== 'string') fail(path, `${at}path`, 'a string');
    if (e.status !== 'ok' && e.status !== 'error') fail(path, `${at}status`, '"ok" or "error"');
    if (e.error !== undefined && typeof e.error !== 'string') fail(path, `${at}error`, 'a string');
    if (e.report !== undefined && typeof e.report !== 'string') fail(path, `${at}report`, 'a string');
    if (e.status === 'ok') {
      checkTrace(path, e.trace, at);
      checkStrategies(path, e.strategies, at);
    }
  });
  if (o.ignored !== undefined && !Array.isArray(o.ignored)) fail(path, 'ignored', 'a list');
  return { ignored: [], ...(o as object) } as unknown as BatchSummary;
}

/** A batch entry as a replay summary (page size unknown per trace in a batch summary: 4096 assumed). */
export function entrySummary(batch: BatchSummary, e: BatchEntry): ReplaySummary {
  return {
    tool: 'pinscope', version: batch.version,
    params: { ...batch.params, page_size: 4096 },
    trace: e.trace!, strategies: e.strategies!,
  };
}

export type Summarized = Extract<LoadedInput, { kind: 'summary' | 'batch' }>;

/** The strategies a summary input holds, in canonical order. */
export function heldStrategies(input: Summarized): StrategyId[] {
  const held = new Set<string>(input.kind === 'summary' ? Object.keys(input.summary.strategies) : input.batch.params.strategies);
  if (input.kind === 'batch') for (const e of input.batch.traces) for (const s of Object.keys(e.strategies ?? {})) held.add(s);
  return STRATEGY_IDS.filter((s) => held.has(s));
}

/** A summary input cut down to the strategies `keep` (the report shows nothing else). */
export function keepStrategies(input: Summarized, keep: StrategyId[]): Summarized {
  const pick = <V>(r: Partial<Record<StrategyId, V>>): Partial<Record<StrategyId, V>> =>
    Object.fromEntries(Object.entries(r).filter(([s]) => keep.includes(s as StrategyId)));
  const params = <P extends { strategies: StrategyId[] }>(p: P): P => ({ ...p, strategies: p.strategies.filter((s) => keep.includes(s)) });
  if (input.kind === 'summary') {
    const s = input.summary;
    return { ...input, summary: { ...s, params: params(s.params), strategies: pick(s.strategies) } };
  }
  const b = input.batch;
  const traces = b.traces.map((e) => (e.strategies ? { ...e, strategies: pick(e.strategies) } : e));
  return { ...input, batch: { ...b, params: params(b.params), traces } };
}
