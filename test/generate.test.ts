import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { generateEvents, writeWorkload, WORKLOAD_NAMES, type WorkloadName } from '../src/generate/index.js';
import { openTrace } from '../src/trace/open.js';
import type { ContainerFormat } from '../src/trace/source.js';
import type { TraceEvent } from '../src/trace/events.js';

const BIN = new URL('../../bin/pinscope.js', import.meta.url).pathname;
const FORMATS: ContainerFormat[] = ['ndjson', 'array', 'object'];

async function bytes(workload: WorkloadName, events: number, seed: number, format: ContainerFormat = 'ndjson', gzip = false, pageSize = 4096) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeWorkload(out, { workload, events, seed, format, gzip, pageSize });
  return Buffer.concat(chunks);
}

/** The events of a generated file (meta dropped), whatever the container. */
function parse(buf: Buffer, format: ContainerFormat): { meta: Record<string, unknown>; events: Record<string, unknown>[] } {
  const text = buf.toString('utf8');
  if (format === 'ndjson') {
    const [meta, ...events] = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    return { meta, events };
  }
  const v = JSON.parse(text);
  if (format === 'array') return { meta: v[0], events: v.slice(1) };
  return { meta: v.meta, events: v.events };
}

// ---- our own validity checker (the rules of docs/trace-format.md), independent of src/trace/validate.ts ----

type Span = [number, number];
const overlap = (a: Span, b: Span) => a[0] < b[1] && b[0] < a[1];
/** Removes b from every span of the list. */
const cut = (list: Span[], b: Span): Span[] =>
  list.flatMap(([s, e]) => (overlap([s, e], b) ? ([[s, b[0]], [b[1], e]] as Span[]).filter(([x, y]) => y > x) : [[s, e] as Span]));

interface Mapping { span: Span; file?: string; off: number }

/**
 * Checks a generated trace against the format's rules and the generator's
 * promises: ts order, files declared once before use, live pins, DMA
 * inside its pin, pins only over mapped memory that has storage behind it.
 * Returns how much state it held at most, to show it stays bounded.
 */
function check(events: Record<string, unknown>[], page: number): { maxPins: number; maxFiles: number; types: Map<string, number> } {
  const addr = (v: unknown) => (typeof v === 'string' ? Number.parseInt(v, 16) : (v as number));
  let last = 0;
  const files = new Map<string, { size: number; holes: Span[] }>();
  const used = new Set<string>();
  const pins = new Map<number, { pid: number; len: number }>();
  const maps = new Map<number, Mapping[]>();
  const types = new Map<string, number>();
  let maxPins = 0;
  events.forEach((ev, i) => {
    const at = `event ${i} ${JSON.stringify(ev)}`;
    const type = ev.type as string;
    types.set(type, (types.get(type) ?? 0) + 1);
    assert.ok(Number.isSafeInteger(ev.ts) && (ev.ts as number) >= last, `ts order at ${at}`);
    last = ev.ts as number;
    const file = ev.file as string | undefined;
    if (type === 'file') {
      assert.ok(!files.has(file!) && !used.has(file!), `file declared twice or after use at ${at}`);
      assert.ok(!(ev.dax && ev.shmem), `dax and shmem at ${at}`);
      files.set(file!, { size: ev.size as number, holes: [] });
      return;
    }
    if (file !== undefined) {
      used.add(file);
      assert.ok(files.has(file), `file used before it is declared at ${at}`);
    }
    const f = file === undefined ? undefined : files.get(file)!;
    switch (type) {
      case 'mmap': {
        const a = addr(ev.addr);
        const list = maps.get(ev.pid as number) ?? [];
        assert.ok(!list.some((m) => overlap(m.span, [a, a + (ev.len as number)])), `mmap over a mapping at ${at}`);
        list.push({ span: [a, a + (ev.len as number)], file, off: (ev.off as number) ?? 0 });
        maps.set(ev.pid as number, list);
        break;
      }
      case 'munmap': {
        const a = addr(ev.addr);
        const list = maps.get(ev.pid as number) ?? [];
        maps.set(ev.pid as number, list.filter((m) => !overlap(m.span, [a, a + (ev.len as number)])));
        break;
      }
      case 'exit':
        maps.delete(ev.pid as number);
        for (const [h, p] of pins) if (p.pid === ev.pid) pins.delete(h);
        break;
      case 'pin': {
        assert.ok(!pins.has(ev.pin as number), `pin handle reused at ${at}`);
        const a = addr(ev.addr);
        const len = ev.len as number;
        assert.equal(a % page, 0, `unaligned pin at ${at}`);
        const m = (maps.get(ev.pid as number) ?? []).find((x) => x.span[0] <= a && a + len <= x.span[1]);
        assert.ok(m, `pin over unmapped memory at ${at}`);
        if (m.file !== undefined) {
          const fs = files.get(m.file)!;
          const off: Span = [a - m.span[0] + m.off, a - m.span[0] + m.off + len];
          assert.ok(off[1] <= fs.size, `pin past EOF at ${at}`);
          assert.ok(!fs.holes.some((h) => overlap(h, off)), `pin over a hole at ${at}`);
        }
        pins.set(ev.pin as number, { pid: ev.pid as number, len });
        maxPins = Math.max(maxPins, pins.size);
        break;
      }
      case 'dma': {
        const p = pins.get(ev.pin as number);
        assert.ok(p, `dma on no live pin at ${at}`);
        assert.ok((ev.len as number) >= 1 && (ev.off as number) + (ev.len as number) <= p.len, `dma outside its pin at ${at}`);
        break;
      }
      case 'unpin':
        assert.ok(pins.delete(ev.pin as number), `unpin of no live pin at ${at}`);
        break;
      case 'truncate':
        f!.size = ev.size as number;
        f!.holes = f!.holes.map(([s, e]) => [s, Math.min(e, f!.size)] as Span).filter(([s, e]) => e > s);
        break;
      case 'punch_hole': {
        const s = Math.ceil((ev.off as number) / page) * page;
        const e = Math.floor(((ev.off as number) + (ev.len as number)) / page) * page;
        if (e > s) f!.holes.push([s, e]);
        break;
      }
      case 'write': {
        const span: Span = [ev.off as number, (ev.off as number) + (ev.len as number)];
        f!.holes = f!.holes.flatMap((h) => cut([h], span));
        f!.size = Math.max(f!.size, span[1]);
        break;
      }
      case 'mmu_notifier':
        assert.ok(addr(ev.end) > addr(ev.start), `empty notifier range at ${at}`);
        break;
    }
  });
  return { maxPins, maxFiles: files.size, types };
}

// ---- tests ----

test('same arguments give the same bytes, for every workload, container and gzip', async () => {
  for (const w of WORKLOAD_NAMES) {
    for (const format of FORMATS) {
      for (const gzip of [false, true]) {
        const a = await bytes(w, 1500, 42, format, gzip);
        const b = await bytes(w, 1500, 42, format, gzip);
        assert.ok(a.length > 0);
        assert.ok(a.equals(b), `${w} ${format} gzip=${gzip} differs between runs`);
        if (gzip) assert.deepEqual(parse(gunzipSync(a), format), parse(await bytes(w, 1500, 42, format, false), format));
      }
    }
  }
});

test('a different seed gives different bytes', async () => {
  for (const w of WORKLOAD_NAMES) {
    const a = await bytes(w, 1000, 1);
    const b = await bytes(w, 1000, 2);
    assert.ok(!a.equals(b), `${w}: seeds 1 and 2 gave the same trace`);
    // Large seeds are folded, not truncated: 1 and 2^32 + 1 differ too.
    assert.ok(!a.equals(await bytes(w, 1000, 2 ** 32 + 1)), `${w}: seed 2^32+1 collides with 1`);
  }
});

test('exactly N events after one meta header, in every container', async () => {
  for (const w of WORKLOAD_NAMES) {
    for (const n of [0, 1, 7, 2345]) {
      for (const format of FORMATS) {
        const { meta, events } = parse(await bytes(w, n, 3, format), format);
        assert.equal(events.length, n, `${w} ${format} n=${n}`);
        assert.equal(meta.source, `pinscope generate ${w} seed 3`);
        assert.equal(meta.page_size, 4096);
        assert.ok(events.every((e) => e.type !== 'meta'));
      }
    }
  }
});

test('every workload is valid by our own checker, with bounded state', () => {
  for (const w of WORKLOAD_NAMES) {
    for (const [seed, page] of [[1, 4096], [9, 512], [5, 2 * 1024 * 1024]] as const) {
      const events = [...generateEvents({ workload: w, events: 30_000, seed, pageSize: page })];
      const json = events.map((e) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>);
      const { maxPins, maxFiles } = check(json, page);
      assert.ok(maxPins <= 64, `${w}: ${maxPins} live pins at once`);
      assert.ok(maxFiles <= 32, `${w}: ${maxFiles} files`);
    }
  }
});

test('every workload passes openTrace in strict mode, in every container', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pinscope-gen-'));
  try {
    for (const w of WORKLOAD_NAMES) {
      for (const format of FORMATS) {
        const gzip = format !== 'array';
        const path = join(dir, `${w}.${format}${gzip ? '.gz' : ''}`);
        await writeWorkload(path, { workload: w, events: 8000, seed: 11, format, gzip, pageSize: 16384 });
        const t = await openTrace(path, { lenient: false });
        let n = 0;
        for await (const b of t.batches()) n += b.length;
        assert.equal(n, 8000, `${w} ${format}`);
        assert.equal(t.stats.events_skipped, 0);
        assert.equal(t.header.page_size, 16384);
        assert.equal(t.format, format);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Addresses of generated events are numbers; page arithmetic on them. */
const pagesOf = (start: number, len: number, page: number): number[] => {
  const out: number[] = [];
  for (let p = Math.floor(start / page); p * page < start + len; p++) out.push(p);
  return out;
};

test('rdma-dax tells the seed story: a pinned DAX page truncated, reused by another file, then written by DMA', () => {
  const page = 4096;
  const events = [...generateEvents({ workload: 'rdma-dax', events: 2000, seed: 1 })];
  // Follow each live pin's file pages (all rdma-dax mappings are whole files at off 0).
  const mapOf = new Map<number, { addr: number; file: string }>();
  const pins = new Map<number, { file: string; pages: number[]; write: boolean }>();
  const freed = new Map<number, Set<string>>(); // pin -> files that grew after its pages were freed
  let stories = 0;
  for (const ev of events) {
    if (ev.type === 'mmap' && ev.file) mapOf.set(ev.pid, { addr: ev.addr, file: ev.file });
    if (ev.type === 'pin') {
      const m = mapOf.get(ev.pid)!;
      pins.set(ev.pin, { file: m.file, pages: pagesOf(ev.addr - m.addr, ev.len, page), write: ev.write === true });
    }
    if (ev.type === 'unpin') pins.delete(ev.pin);
    if (ev.type === 'truncate' || ev.type === 'punch_hole') {
      for (const [h, p] of pins) {
        const gone = ev.type === 'truncate'
          ? p.pages.some((x) => (x + 1) * page > ev.size)
          : p.pages.some((x) => x * page >= ev.off && (x + 1) * page <= ev.off + ev.len);
        if (p.file === ev.file && gone) freed.set(h, new Set());
      }
    }
    if (ev.type === 'write') for (const [h, s] of freed) if (pins.get(h)?.file !== ev.file) s.add(ev.file);
    if (ev.type === 'dma' && ev.dir === 'write' && (freed.get(ev.pin)?.size ?? 0) > 0) stories++;
  }
  assert.ok(stories >= 3, `only ${stories} DMA writes into reused DAX blocks`);
});

test('each workload exercises what it is named for', () => {
  const count = (w: WorkloadName, pred: (e: TraceEvent) => boolean) =>
    [...generateEvents({ workload: w, events: 5000, seed: 1 })].filter(pred).length;
  // rdma-dax: NICs with and without ODP, DAX files, long-term writable pins, truncates, hole punches, exits.
  assert.ok(count('rdma-dax', (e) => e.type === 'device' && e.odp === true) >= 1);
  assert.ok(count('rdma-dax', (e) => e.type === 'device' && e.odp === false) >= 1);
  assert.ok(count('rdma-dax', (e) => e.type === 'pin' && e.longterm === true && e.write === true) >= 20);
  assert.ok(count('rdma-dax', (e) => e.type === 'truncate') >= 10);
  assert.ok(count('rdma-dax', (e) => e.type === 'punch_hole') >= 3);
  assert.ok(count('rdma-dax', (e) => e.type === 'dma' && (e.dur ?? 0) > 0) >= 1000);
  // gpu-odp: migrations above all, munmaps of pinned ranges, processes that answer notifications.
  const migrate = count('gpu-odp', (e) => e.type === 'mmu_notifier' && e.event === 'migrate');
  const other = count('gpu-odp', (e) => e.type === 'mmu_notifier' && e.event !== 'migrate');
  assert.ok(migrate > other && other > 0, `migrate ${migrate}, other ${other}`);
  assert.ok(count('gpu-odp', (e) => e.type === 'munmap') >= 3);
  assert.ok(count('gpu-odp', (e) => e.type === 'proc' && e.notify_response_ns !== undefined) >= 1);
  assert.ok(count('gpu-odp', (e) => e.type === 'mmap' && e.file === undefined) >= 1);
  // pagecache: writeback windows, O_DIRECT short-term pins, COW pins of private mappings, shmem.
  assert.ok(count('pagecache', (e) => e.type === 'writeback' && e.phase === 'start') >= 20);
  assert.ok(count('pagecache', (e) => e.type === 'writeback' && e.phase === 'end') >= 20);
  assert.ok(count('pagecache', (e) => e.type === 'pin' && e.longterm === false) >= 50);
  assert.ok(count('pagecache', (e) => e.type === 'mmap' && e.shared === false) >= 1);
  assert.ok(count('pagecache', (e) => e.type === 'file' && e.shmem === true) >= 1);
  assert.ok(count('pagecache', (e) => e.type === 'truncate') >= 5);
  // mixed: a bit of everything.
  const mixedTypes = new Set([...generateEvents({ workload: 'mixed', events: 20_000, seed: 1 })].map((e) => e.type));
  for (const t of ['punch_hole', 'mmu_notifier', 'writeback', 'munmap', 'exit', 'truncate', 'write']) assert.ok(mixedTypes.has(t as never), t);
});

// ---- the command line ----

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'buffer' });
}

test('CLI: -o - writes the same bytes as the library, -o FILE with gzip inferred from .gz', () => {
  const r = cli('generate', 'pagecache', '--events', '300', '--seed', '5', '-o', '-');
  assert.equal(r.status, 0, r.stderr.toString());
  const dir = mkdtempSync(join(tmpdir(), 'pinscope-gencli-'));
  try {
    const path = join(dir, 'p.ndjson.gz');
    const g = cli('generate', 'pagecache', '-n', '300', '-s', '5', '-o', path);
    assert.equal(g.status, 0, g.stderr.toString());
    assert.deepEqual(gunzipSync(readFileSync(path)), r.stdout);
    const { meta, events } = parse(r.stdout, 'ndjson');
    assert.equal(events.length, 300);
    assert.equal(meta.source, 'pinscope generate pagecache seed 5');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: bad workload, --events, --seed, --page-size, --format or -o exit 2 with one line', () => {
  const cases: Array<[string[], RegExp]> = [
    [['generate', 'nope', '-n', '5', '-o', '-'], /unknown workload 'nope'; expected one of rdma-dax, gpu-odp, pagecache, mixed/],
    [['generate', 'mixed', '--events', 'many', '-o', '-'], /--events: expected an integer >= 0, got 'many'/],
    [['generate', 'mixed', '--events', '-5', '-o', '-'], /--events: expected an integer/],
    [['generate', 'mixed', '--events', '1.5', '-o', '-'], /--events: expected an integer/],
    [['generate', 'mixed', '--seed', 'x', '-o', '-'], /--seed: expected an integer/],
    // 2^32 would fold onto 2654435761 (0x9e3779b1) and repeat its trace.
    [['generate', 'mixed', '--seed', '4294967296', '-o', '-'], /--seed: expected an integer from 0 to 4294967295 \(the generator's 32-bit state\), got '4294967296'/],
    [['generate', 'mixed', '--page-size', '3000', '-o', '-'], /--page-size: expected a power of two/],
    [['generate', 'mixed', '--format', 'xml', '-o', '-'], /--format: expected one of ndjson, array, object/],
    [['generate', 'mixed', '-n', '5'], /-o FILE is required/],
    [['generate', 'mixed', '-n', '5', '-o', '/dev/null/x.ndjson'], /cannot write \/dev\/null\/x.ndjson: \/dev\/null is a file, not a folder/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    const err = r.stderr.toString();
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${err}`);
    assert.match(err, re);
    assert.equal(err.trimEnd().split('\n').length, 1, `not one line: ${err}`);
    assert.doesNotMatch(err, /\n\s+at /);
    assert.equal(r.stdout.length, 0);
  }
});

test('CLI: --help shows the workloads and examples', () => {
  const r = cli('generate', '--help');
  assert.equal(r.status, 0);
  const out = r.stdout.toString();
  for (const w of WORKLOAD_NAMES) assert.ok(out.includes(w), w);
  assert.match(out, /Examples:/);
});
