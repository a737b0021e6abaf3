// The validator: every bad-input class with its position and field in the
// message, the lenient accounting, and the command's exit code and output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { openTrace } from '../src/trace/open.js';
import { TraceInputError } from '../src/trace/errors.js';
import { TraceValidator, Reject } from '../src/trace/validate.js';
import type { IndexedEvent } from '../src/trace/events.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIX = join(ROOT, 'test/fixtures/ingest');
const BIN = join(ROOT, 'bin', 'pinscope.js');

let dir = '';
async function tmp(): Promise<string> {
  if (!dir) dir = await mkdtemp(join(tmpdir(), 'pinscope-validate-'));
  return dir;
}
test.after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

async function readAll(path: string, lenient = false) {
  const t = await openTrace(path, { lenient });
  const events: IndexedEvent[] = [];
  for await (const b of t.batches()) events.push(...b);
  return { events, stats: t.stats };
}

/** Writes lines as a JSON Lines file and returns the first error (strict). */
async function firstError(lines: unknown[]): Promise<TraceInputError> {
  const path = join(await tmp(), 'case.ndjson');
  await writeFile(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  try {
    await readAll(path);
  } catch (err) {
    if (err instanceof TraceInputError) return err;
    throw err;
  }
  assert.fail(`no error for ${JSON.stringify(lines)}`);
}

const DEV = { type: 'device', ts: 0, dev: 'mlx5_0' };
const PIN = { type: 'pin', ts: 1, pid: 42, pin: 7, addr: '0x10000', len: 8192 };

test('the brief\'s example message, exactly', async () => {
  await assert.rejects(readAll(join(FIX, 'bad-size.ndjson')), (err: unknown) => {
    assert.ok(err instanceof TraceInputError);
    assert.equal(err.message, `${join(FIX, 'bad-size.ndjson')}:line 7: event 5: field 'size': expected a non-negative integer, got "abc"`);
    assert.equal(err.reason, 'bad_field');
    return true;
  });
});

// [name, lines, reason, line, index, field, message pattern]
const CASES: [string, unknown[], string, number, number, string | null, RegExp][] = [
  ['malformed JSON', [DEV, '{"type":"proc","ts":1,'], 'malformed_json', 2, 1, null, /malformed JSON/],
  ['not an object', [DEV, '[1,2]'], 'not_an_object', 2, 1, null, /expected an event object, got \[1,2\]/],
  ['missing type', [DEV, { ts: 1 }], 'missing_field', 2, 1, 'type', /missing; expected one of meta, device/],
  ['unknown type', [DEV, { type: 'teleport', ts: 1 }], 'unknown_type', 2, 1, 'type', /unknown event type "teleport"/],
  ['missing field', [DEV, { type: 'pin', ts: 1, pid: 42, pin: 7, addr: 4096 }], 'missing_field', 2, 1, 'len', /missing; expected an integer >= 1/],
  ['ill-typed field', [DEV, { ...PIN, len: '8192' }], 'bad_field', 2, 1, 'len', /expected an integer >= 1, got "8192"/],
  ['negative ts', [{ ...DEV, ts: -1 }], 'bad_field', 1, 0, 'ts', /expected a non-negative integer \(ns\), got -1/],
  ['bad bool', [{ ...DEV, odp: 'yes' }], 'bad_field', 1, 0, 'odp', /expected true or false, got "yes"/],
  ['bad enum', [DEV, PIN, { type: 'dma', ts: 2, pin: 7, off: 0, len: 1, dir: 'sideways' }], 'bad_field', 3, 2, 'dir', /expected one of "read", "write", got "sideways"/],
  ['bad hex address', [DEV, { ...PIN, addr: '0xZZ' }], 'bad_field', 2, 1, 'addr', /expected a hex string "0x\.\.\." or a non-negative integer/],
  ['address beyond 2^53', [DEV, { ...PIN, addr: '0x20000000000000' }], 'range_overflow', 2, 1, 'addr', /beyond 2\^53/],
  ['addr + len beyond 2^53', [DEV, { ...PIN, addr: 9007199254740000, len: 8192 }], 'range_overflow', 2, 1, 'len', /addr \+ len is beyond 2\^53/],
  ['dma beyond the pin', [DEV, PIN, { type: 'dma', ts: 2, pin: 7, off: 4096, len: 8192, dir: 'read' }], 'range_overflow', 3, 2, 'len', /off \+ len = 12288 is beyond the pin's len 8192/],
  ['notifier end <= start', [{ type: 'mmu_notifier', ts: 0, pid: 1, start: '0x2000', end: '0x1000', event: 'clear' }], 'range_overflow', 1, 0, 'end', /end 4096 is not after start 8192/],
  ['ts backwards', [DEV, { ...PIN, ts: 5 }, { type: 'unpin', ts: 4, pin: 7 }], 'ts_backwards', 3, 2, 'ts', /went backwards: 4 after 5/],
  ['dma without a live pin', [DEV, { type: 'dma', ts: 2, pin: 9, off: 0, len: 1, dir: 'read' }], 'no_live_pin', 2, 1, 'pin', /no live pin with handle 9/],
  ['unpin without a live pin', [DEV, PIN, { type: 'unpin', ts: 2, pin: 7 }, { type: 'unpin', ts: 3, pin: 7 }], 'no_live_pin', 4, 3, 'pin', /no live pin with handle 7/],
  ['exit releases pins', [DEV, PIN, { type: 'exit', ts: 2, pid: 42 }, { type: 'dma', ts: 3, pin: 7, off: 0, len: 1, dir: 'read' }], 'no_live_pin', 4, 3, 'pin', /no live pin/],
  ['pin reused', [DEV, PIN, { ...PIN, ts: 2 }], 'pin_reused', 3, 2, 'pin', /handle 7 is already a live pin/],
  ['file declared twice', [{ type: 'file', ts: 0, file: '/a', size: 0 }, { type: 'file', ts: 0, file: '/a', size: 0 }], 'file_redeclared', 2, 1, 'file', /declared twice/],
  ['file declared after use', [{ type: 'write', ts: 0, file: '/a', off: 0, len: 1 }, { type: 'file', ts: 1, file: '/a', size: 0 }], 'file_redeclared', 2, 1, 'file', /declared after being used/],
  ['dax and shmem', [{ type: 'file', ts: 0, file: '/a', size: 0, dax: true, shmem: true }], 'bad_field', 1, 0, 'shmem', /dax and shmem cannot both be true/],
  ['meta not first', [DEV, { type: 'meta', version: 1 }], 'meta_misplaced', 2, 1, 'type', /meta header may only be the first record/],
];

for (const [name, lines, reason, line, index, field, re] of CASES) {
  test(`error class: ${name}`, async () => {
    const err = await firstError(lines);
    assert.equal(err.reason, reason);
    assert.equal(err.position.line, line);
    assert.equal(err.position.index, index);
    assert.equal(err.field, field);
    assert.match(err.message, re);
    assert.ok(err.message.startsWith(`${join(dir, 'case.ndjson')}:line ${line}: event ${index}:`), err.message);
    if (field) assert.ok(err.message.includes(`field '${field}':`), err.message);
  });
}

test('after a pin is released by exit or unpin, its handle may be reused', async () => {
  const path = join(await tmp(), 'reuse.ndjson');
  await writeFile(path, [DEV, PIN, { type: 'exit', ts: 2, pid: 42 }, { ...PIN, ts: 3 }, { type: 'unpin', ts: 4, pin: 7 }, { ...PIN, ts: 5 }]
    .map((e) => JSON.stringify(e)).join('\n'));
  const { events } = await readAll(path);
  assert.equal(events.length, 6);
});

test('lenient: read = yielded + skipped, per reason; a skipped pin never becomes live', async () => {
  const { events, stats } = await readAll(join(FIX, 'many-bad.ndjson'), true);
  assert.deepEqual(events.map((e) => e.index), [0, 4, 9]);
  assert.equal(stats.events_read, 10);
  assert.equal(stats.events_skipped, 7);
  assert.equal(stats.events_read, events.length + stats.events_skipped);
  assert.deepEqual(stats.skipped_by_reason, { bad_field: 2, no_live_pin: 2, unknown_type: 1, ts_backwards: 1, malformed_json: 1 });
  assert.equal(stats.first_ts, 0);
  assert.equal(stats.last_ts, 8);
});

function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('pinscope validate: ok lines, first error per bad file, exit 2, no stack trace; --all-errors lists every bad event', () => {
  const good = join(FIX, 'good.ndjson');
  const bad = join(FIX, 'many-bad.ndjson');
  const r = runCli(['validate', good, bad, join(FIX, 'missing-comma.json')]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, `ok ${good}: 9 events (ndjson)\n`);
  const errLines = r.stderr.trimEnd().split('\n');
  assert.equal(errLines.length, 2, r.stderr);
  assert.equal(errLines[0], `pinscope: ${bad}:line 2: event 1: field 'len': expected an integer >= 1, got "4096"`);
  assert.match(errLines[1]!, /missing-comma\.json:line 4:byte 81: event 2: expected ','/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);

  const all = runCli(['validate', '--all-errors', bad]);
  assert.equal(all.status, 2);
  const lines = all.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 8, all.stderr);
  assert.match(lines[7]!, /7 of 10 events are bad/);
});

test('pinscope stats --json: counts, span, pins, files, processes', () => {
  const r = runCli(['stats', '--json', join(FIX, 'good.ndjson')]);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.events, 9);
  assert.deepEqual(s.by_type, { device: 1, dma: 1, exit: 1, file: 1, mmap: 1, pin: 1, truncate: 1, unpin: 1, write: 1 });
  assert.deepEqual(s.time, { first_ts: 0, last_ts: 120, duration_ns: 120 });
  assert.deepEqual(s.pins, { count: 1, longterm: 1, write: 1, max_live: 1, bytes: 8192, live_at_end: 0 });
  assert.deepEqual(s.files, { count: 2, dax: 1, shmem: 0, page_cache: 1 });
  assert.deepEqual(s.processes, { count: 2, exited: 1 });
  assert.equal(s.page_size, 4096);
  const bad = runCli(['stats', join(FIX, 'bad-size.ndjson')]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1);
});

test('pinscope stats <folder>: every trace under it; a bad one is reported and makes exit 2, the others still print', async () => {
  const d = join(await tmp(), 'folder');
  await mkdir(join(d, 'sub'), { recursive: true });
  await copyFile(join(FIX, 'good.ndjson'), join(d, 'sub', 'good.ndjson'));
  await copyFile(join(FIX, 'bad-size.ndjson'), join(d, 'bad.ndjson'));
  await writeFile(join(d, 'README.txt'), 'not a trace\n');
  const r = runCli(['stats', '--json', d]);
  assert.equal(r.status, 2);
  const all = JSON.parse(r.stdout) as { path: string; events: number }[];
  assert.deepEqual(all.map((s) => [s.path, s.events]), [[join(d, 'sub', 'good.ndjson'), 9]]);
  assert.match(r.stderr, /bad\.ndjson:line 7: event 5: field 'size'/);
});

// ---- the cheaper validator's own structures, checked against plain models ----


/** A small deterministic PRNG (mulberry32) so the random walks below are the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('live pins: a random walk of pin/dma/unpin/exit agrees with a Map model (growth, shrink, wrap-around, big handles)', () => {
  const rnd = rng(42);
  const v = new TraceValidator('walk.ndjson');
  const model = new Map<number, { pid: number; len: number }>();
  // Handles from a small range (reuse, collisions) and near 2^53 (the high bits folded into the slot).
  const handle = () => (rnd() < 0.7 ? Math.floor(rnd() * 600) : Number.MAX_SAFE_INTEGER - Math.floor(rnd() * 600) * 4294967296);
  let ts = 0;
  let peak = 0;
  for (let i = 0; i < 40000; i++) {
    ts += 1;
    const r = rnd();
    // Phases: grow to a few hundred live pins, then drain, so the table both grows and shrinks.
    const draining = Math.floor(i / 10000) % 2 === 1;
    const pin = handle();
    let ev: Record<string, unknown>;
    let want: string | null;
    if (r < (draining ? 0.1 : 0.45)) {
      const pid = 1 + Math.floor(rnd() * 5);
      const len = 4096 * (1 + Math.floor(rnd() * 4));
      ev = { type: 'pin', ts, pid, pin, addr: 4096, len };
      want = model.has(pin) ? 'pin_reused' : null;
      if (!want) model.set(pin, { pid, len });
    } else if (r < 0.7) {
      const off = 4096 * Math.floor(rnd() * 4);
      ev = { type: 'dma', ts, pin, off, len: 4096, dir: 'read' };
      const p = model.get(pin);
      want = !p ? 'no_live_pin' : off + 4096 > p.len ? 'range_overflow' : null;
    } else if (r < 0.995) {
      // Unpin a live pin most of the time (else the walk would rarely find one).
      const live = [...model.keys()];
      const h = live.length > 0 && rnd() < 0.9 ? live[Math.floor(rnd() * live.length)]! : pin;
      ev = { type: 'unpin', ts, pin: h };
      want = model.has(h) ? null : 'no_live_pin';
      model.delete(h);
    } else {
      const pid = 1 + Math.floor(rnd() * 5);
      ev = { type: 'exit', ts, pid };
      want = null;
      for (const [h, p] of model) if (p.pid === pid) model.delete(h);
    }
    const got = v.accept(ev, i);
    assert.equal(got instanceof Reject ? got.reason : null, want, `event ${i}: ${JSON.stringify(ev)}`);
    assert.equal(v.livePins, model.size, `live pins after event ${i}`);
    peak = Math.max(peak, model.size);
  }
  assert.ok(peak > 200, `the walk reached ${peak} live pins`);
});

test('hex addresses: exact up to 2^53 - 1, beyond it range_overflow, and anything HEX refuses is a bad_field', () => {
  const addr = (a: unknown, ts = 1) => new TraceValidator('hex.ndjson').accept({ type: 'munmap', ts, pid: 1, addr: a, len: 1 }, 0);
  const ok = (a: string, n: number) => {
    const r = addr(a);
    assert.ok(!(r instanceof Reject), `${a}: ${r instanceof Reject ? r.detail : ''}`);
    assert.equal((r as { addr: number }).addr, n, a);
  };
  ok('0x0', 0);
  ok('0xFF', 255);
  ok('0XaB', 0xab);
  ok('0x7f0000001000', 0x7f0000001000);
  ok('0x1ffffffffffffe', 2 ** 53 - 2); // with len 1, addr + len is 2^53 - 1
  ok('0x0000000000000000000000000000001', 1); // leading zeros do not count
  for (const big of ['0x20000000000000', '0x1fffffffffffff0', `0x${'f'.repeat(300)}`]) {
    const r = addr(big);
    assert.ok(r instanceof Reject, big);
    assert.equal(r.reason, 'range_overflow', big);
    assert.equal(r.field, 'addr', big);
    assert.match(r.detail, /^address 0x[0-9a-f]+ is beyond 2\^53/, big);
  }
  for (const bad of ['0x', '0x12g', ' 0x12', '0x12 ', '12', '0b101', 'x12', '0x-1', '0x1.8', '']) {
    const r = addr(bad);
    assert.ok(r instanceof Reject, JSON.stringify(bad));
    assert.equal(r.reason, 'bad_field', JSON.stringify(bad));
    assert.equal(r.detail, `expected a hex string "0x..." or a non-negative integer, got ${JSON.stringify(bad)}`);
  }
});

test('file names: many names that share a quick slot still tell declared, used-then-declared and twice-declared apart', () => {
  const v = new TraceValidator('files.ndjson');
  let ts = 0;
  let i = 0;
  const acc = (ev: Record<string, unknown>) => v.accept({ ts: ++ts, ...ev }, i++);
  // Names that differ only where the slot does not look (same length, same last characters): all one slot.
  const names = Array.from({ length: 40 }, (_, k) => `/d/${String.fromCharCode(65 + k)}x/${'m'.repeat(k % 3)}same.dat`.padEnd(30, '_'));
  // Even names are used first (writes), in an order that keeps evicting each other from the slot.
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < names.length; k += 2) {
      const r = acc({ type: 'write', file: names[(k * 7 + 2 * round) % names.length]!, off: 0, len: 1 });
      assert.ok(!(r instanceof Reject));
    }
  }
  const used = new Set<string>();
  for (let round = 0; round < 3; round++) for (let k = 0; k < names.length; k += 2) used.add(names[(k * 7 + 2 * round) % names.length]!);
  for (const n of names) {
    const r = acc({ type: 'file', file: n, size: 4096 });
    if (used.has(n)) {
      assert.ok(r instanceof Reject, n);
      assert.equal(r.reason, 'file_redeclared');
      assert.match(r.detail, /is declared after being used$/);
    } else assert.ok(!(r instanceof Reject), n);
  }
  for (const n of names) {
    if (used.has(n)) continue;
    assert.ok(!(acc({ type: 'truncate', file: n, size: 0 }) instanceof Reject));
    const r = acc({ type: 'file', file: n, size: 1 });
    assert.ok(r instanceof Reject);
    assert.match(r.detail, /is declared twice$/);
  }
  assert.ok(used.size > 5 && used.size < names.length);
});
