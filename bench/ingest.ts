// Ingest bench: events/s, MB/s and peak RSS of each reader and container,
// each measured in its own child process (so maxRSS is that run's), next
// to a bare JSON.parse-per-line loop over the same JSON Lines file.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';
import { openTrace } from '../src/trace/open.js';
import { READ, CHUNK } from '../src/trace/readers/bytes.js';
import { median, pct, type BenchSection, type BenchContext } from './section.js';

// ---------- a simple workload generator (realistic mix, compact JSON) ----------

/** xorshift32: deterministic and dependency free. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

class Writers {
  private parts: string[] = [];
  private size = 0;
  private first = true;
  constructor(private readonly outs: { nd: WriteStream; arr: WriteStream; obj: WriteStream; gz: ReturnType<typeof createGzip> }) {
    outs.arr.write('[\n');
    outs.obj.write('{"meta":{"format":"pinscope-trace","version":1,"page_size":4096,"source":"bench"},"events":[\n');
  }
  async add(line: string): Promise<void> {
    this.parts.push(line);
    this.size += line.length;
    if (this.size > 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const nd = `${this.parts.join('\n')}\n`;
    const arr = (this.first ? '' : ',\n') + this.parts.join(',\n');
    this.first = false;
    this.parts = [];
    this.size = 0;
    const w = (s: NodeJS.WritableStream, d: string) => (s.write(d) ? null : once(s, 'drain'));
    await Promise.all([w(this.outs.nd, nd), w(this.outs.gz, nd), w(this.outs.arr, arr), w(this.outs.obj, arr)]);
  }
  async end(): Promise<void> {
    await this.flush();
    this.outs.arr.end('\n]\n');
    this.outs.obj.end('\n]}\n');
    this.outs.nd.end();
    this.outs.gz.end();
    await Promise.all([once(this.outs.arr, 'finish'), once(this.outs.obj, 'finish'), once(this.outs.nd, 'finish'), once(this.outs.gz, 'close')]);
  }
}

export interface GeneratedTrace { ndjson: string; array: string; object: string; gzip: string }

/** Writes the same `n` events as JSON Lines, a JSON array, a JSON object and gzipped JSON Lines. */
export async function generateBenchTrace(dir: string, name: string, n: number, seed = 1): Promise<GeneratedTrace> {
  await mkdir(dir, { recursive: true });
  const paths = {
    ndjson: join(dir, `${name}.ndjson`), array: join(dir, `${name}.json`),
    object: join(dir, `${name}.obj.json`), gzip: join(dir, `${name}.ndjson.gz`),
  };
  const gz = createGzip({ level: 1 });
  const gzFile = createWriteStream(paths.gzip);
  gz.pipe(gzFile);
  const w = new Writers({ nd: createWriteStream(paths.ndjson), arr: createWriteStream(paths.array), obj: createWriteStream(paths.object), gz });
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  let ts = 0;
  let written = 0;
  const emit = async (o: Record<string, unknown>) => { written++; await w.add(JSON.stringify(o)); };
  const devs = ['mlx5_0', 'mlx5_1', 'nvidia0'];
  await emit({ type: 'device', ts, dev: 'mlx5_0', odp: true, iommu: true, remap: false, fault_tolerant: false });
  await emit({ type: 'device', ts, dev: 'mlx5_1', odp: false, iommu: true, remap: true, fault_tolerant: false });
  await emit({ type: 'device', ts, dev: 'nvidia0', odp: true, iommu: false, remap: false, fault_tolerant: true });
  const files: string[] = [];
  for (let i = 0; i < 32; i++) {
    const f = i % 4 === 0 ? `/mnt/pmem0/db/table${i}.dat` : i % 4 === 1 ? `/dev/shm/ring${i}` : `/srv/data/blob${i}.bin`;
    files.push(f);
    await emit({ type: 'file', ts, file: f, size: 1 << 24, ...(i % 4 === 0 ? { dax: true } : i % 4 === 1 ? { shmem: true } : {}) });
  }
  const pids = [4242, 4243, 4244, 4245, 7001, 7002];
  for (const pid of pids) await emit({ type: 'proc', ts, pid, comm: `worker-${pid}` });
  const live: { pin: number; pid: number; len: number }[] = [];
  let nextPin = 1;
  const base = 0x7f0000000000;
  while (written < n) {
    ts += 1 + Math.floor(rnd() * 5000);
    const r = rnd();
    const pid = pick(pids);
    if (r < 0.08) {
      const f = pick(files);
      await emit({ type: 'mmap', ts, pid, comm: `worker-${pid}`, addr: `0x${(base + Math.floor(rnd() * 4096) * 65536).toString(16)}`, len: 65536, file: f, off: Math.floor(rnd() * 256) * 4096, shared: true });
    } else if (r < 0.22 && live.length < 256) {
      const len = 4096 * (1 + Math.floor(rnd() * 16));
      const p = { pin: nextPin++, pid, len };
      live.push(p);
      await emit({ type: 'pin', ts, pid, comm: `worker-${pid}`, pin: p.pin, dev: pick(devs), addr: `0x${(base + Math.floor(rnd() * 4096) * 65536).toString(16)}`, len, longterm: rnd() < 0.7, write: rnd() < 0.8 });
    } else if (r < 0.62 && live.length > 0) {
      const p = pick(live);
      const off = Math.floor(rnd() * (p.len / 4096)) * 4096;
      await emit({ type: 'dma', ts, pin: p.pin, off, len: Math.min(4096 * (1 + Math.floor(rnd() * 4)), p.len - off), dir: rnd() < 0.5 ? 'read' : 'write', dur: Math.floor(rnd() * 20000) });
    } else if (r < 0.74 && live.length > 0) {
      const i = Math.floor(rnd() * live.length);
      const p = live[i]!;
      live[i] = live[live.length - 1]!;
      live.pop();
      await emit({ type: 'unpin', ts, pin: p.pin });
    } else if (r < 0.86) {
      await emit({ type: 'write', ts, pid, comm: `worker-${pid}`, file: pick(files), off: Math.floor(rnd() * 4096) * 4096, len: 4096 * (1 + Math.floor(rnd() * 8)) });
    } else if (r < 0.90) {
      await emit({ type: 'truncate', ts, pid, comm: `worker-${pid}`, file: pick(files), size: Math.floor(rnd() * 4096) * 4096 });
    } else if (r < 0.93) {
      await emit({ type: 'munmap', ts, pid, comm: `worker-${pid}`, addr: `0x${(base + Math.floor(rnd() * 4096) * 65536).toString(16)}`, len: 65536 });
    } else if (r < 0.96) {
      const off = Math.floor(rnd() * 4096) * 4096;
      await emit({ type: 'writeback', ts, file: pick(files), off, len: 65536, phase: 'start' });
      await emit({ type: 'writeback', ts: ts + 1, file: pick(files), off, len: 65536, phase: 'end' });
      ts += 1;
    } else if (r < 0.98) {
      await emit({ type: 'punch_hole', ts, pid, comm: `worker-${pid}`, file: pick(files), off: Math.floor(rnd() * 4096) * 4096, len: 8192 });
    } else {
      const start = base + Math.floor(rnd() * 4096) * 65536;
      await emit({ type: 'mmu_notifier', ts, pid, comm: `worker-${pid}`, start: `0x${start.toString(16)}`, end: `0x${(start + 8192).toString(16)}`, event: pick(['migrate', 'clear', 'protection_page'] as const) });
    }
  }
  await w.end();
  if (!gzFile.writableFinished) await once(gzFile, 'finish');
  return paths;
}

// ---------- one measurement (in a child process) ----------

type Mode = 'bare' | 'ndjson' | 'array-scanner' | 'array-stream-json' | 'object' | 'gzip-ndjson';

/**
 * The baseline: split on '\n' and JSON.parse each line, nothing else. Its
 * I/O is the reader's (readers/bytes.ts): the same file, read READ bytes at
 * a time and handed on in CHUNK pieces, so the two differ only in what
 * they do with the bytes.
 */
async function bareLoop(path: string): Promise<number> {
  const dec = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  let sink = 0;
  for await (const read of createReadStream(path, { highWaterMark: READ })) {
    const buf = read as Buffer;
    for (let i = 0; i < buf.length; i += CHUNK) {
      const text = rest + dec.write(buf.subarray(i, Math.min(buf.length, i + CHUNK)));
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        if (nl > start) { const o = JSON.parse(text.slice(start, nl)) as { ts: number }; sink += o.ts & 1; n++; }
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  }
  if (rest.trim()) { JSON.parse(rest); n++; }
  return n + (sink & 0);
}

async function child(mode: Mode, path: string): Promise<void> {
  const t0 = performance.now();
  let n = 0;
  if (mode === 'bare') n = await bareLoop(path);
  else {
    const trace = await openTrace(path, { lenient: false }, { jsonFraming: mode === 'array-stream-json' ? 'stream-json' : 'scanner' });
    for await (const b of trace.batches()) n += b.length;
  }
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ events: n, ms, maxRssKb: process.resourceUsage().maxRSS }));
}

interface Measured { events: number; ms: number; maxRssKb: number }

function measure(mode: Mode, path: string): Measured {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', mode, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench child ${mode} ${path} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Measured;
}

// ---------- the section ----------

/** `vsBare`: the median over rounds of the rate against the same round's bare loop; `rounds`: each of those ratios. */
interface Row { label: string; events: number; mb: number; ms: number; rssMb: number; rate: number; vsBare: number; rounds: number[] }

const LABELS: Record<Mode, string> = {
  bare: 'bare JSON.parse per line (baseline)',
  ndjson: 'JSON Lines',
  'array-scanner': 'JSON array, byte scanner (default)',
  'array-stream-json': 'JSON array, stream-json',
  object: 'JSON object {meta, events}, byte scanner',
  'gzip-ndjson': 'gzip JSON Lines',
};

function fileFor(mode: Mode, t: GeneratedTrace): string {
  return mode === 'array-scanner' || mode === 'array-stream-json' ? t.array : mode === 'object' ? t.object : mode === 'gzip-ndjson' ? t.gzip : t.ndjson;
}

function table(rows: Row[]): string {
  const out = ['| events | reader / container | events/s | MB/s | peak RSS (MB) | vs bare loop (median; rounds) |', '| ---: | --- | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    const each = r.rounds.length > 1 ? ` (${r.rounds.map((x) => pct(x)).join(', ')})` : '';
    out.push(`| ${r.events.toLocaleString('en-US')} | ${r.label} | ${Math.round(r.rate).toLocaleString('en-US')} | ${r.mb.toFixed(0)} | ${r.rssMb.toFixed(0)} | ${pct(r.vsBare)}${each} |`);
  }
  return out.join('\n');
}

async function writeDocSection(md: string): Promise<string> {
  const doc = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'performance.md');
  let text = '';
  try { text = await readFile(doc, 'utf8'); } catch { text = '# Performance\n'; }
  const start = text.search(/^## Ingest\s*$/m);
  if (start < 0) text = `${text.trimEnd()}\n\n${md}\n`;
  else {
    const after = text.slice(start + 1).search(/^## /m);
    const end = after < 0 ? text.length : start + 1 + after;
    text = `${text.slice(0, start)}${md}\n${after < 0 ? '' : `\n${text.slice(end)}`}`;
  }
  await writeFile(doc, text.replace(/\n{3,}/g, '\n\n'));
  return doc;
}

// What the profile says and what was tried; measured by hand (see each line), not by this bench.
const WHERE = [
  'How JSON Lines gets past the bare loop: a line that is one flat event object (known keys, integers, plain ASCII',
  'strings, true/false; nearly every line of a real or generated trace) is decoded straight from the read buffer by',
  'readers/flat-event.ts and never becomes a string: keys and enum values are matched by generated tries of constant',
  'bytes (built from EVENT_SPECS), numbers are accumulated digit by digit, and a generated `switch` builds each',
  'type\'s object literal. Anything else (an escape, a fraction, a negative number, nesting, an unknown key, a value of',
  'the wrong kind, non-ASCII) is declined and that line alone goes to `JSON.parse`, so every message about bad input',
  'is still `JSON.parse`\'s and the validator\'s. `perf` over 1.2M lines in a loop: about 430 ns per line against about',
  '1,000 ns for `JSON.parse` of the same line. Tests hold the decoder to `JSON.parse` on every type, on near-misses',
  'that must be declined, and on 20,000 random edits of clean lines (test/flat-event.test.ts).',
  '',
  'Fifth round (Nov 2026): strings and addresses. A string value used to be built per line by `Buffer#toString`',
  '(~150 ns each, a call into C++); file, device and process names repeat on every line, so the decoder now hashes',
  'a string while scanning it and returns the string it made last time for the same bytes (a table of 1,024, each',
  'hit checked byte for byte, so memory stays bounded), and a hex address is read as its number while scanning',
  '(what the validator made of it anyway; past 13 hex digits the line goes to `JSON.parse`). A string seen before',
  'also keeps its hash, which every `Map` keyed by it (the validator\'s file-name cache, the replay\'s files and',
  'devices) reuses. The first decoder a process makes is primed with sample lines of every type, so its type feedback covers',
  'every branch before TurboFan compiles it: unprimed, `scan` was compiled four times in a 1M-line read (a number',
  'past 2^31, an address given as a number, a line ending at a chunk\'s end), primed once. Instructions counted by',
  'cachegrind (`node --predictable`) for reading and validating 1M events: this bench\'s trace 7.58 G -> 6.76 G',
  '(-10.8%), the `mixed` workload 6.31 G -> 5.89 G (-6.7%).',
  '',
  'Validation: about 100 ns/event (one look at every field, ts order, the live-pin table, the file-name cache).',
  'The 1M rows lag the 4M rows by warm-up: until TurboFan has compiled the decoder and the validator, they run in',
  'the interpreter and baseline code: read 10,000 lines at a time, the first 10,000 took 61-76 ms and the next',
  '10,000 29-33 ms, against 5-12 ms for any 10,000 after the first 50,000 (three runs of this bench\'s 1M trace).',
  '',
  'JSON arrays and the object container still frame with the byte scanner and `JSON.parse` each element',
  '(readers/frame-scanner.ts works on decoded text); the flat decoder could serve them too, but their target is met.',
  '',
  'Earlier rounds, in brief: a batch is the parsed values with positions recomputed on demand (no per-record',
  'object); the unfinished line of a chunk is joined alone. Tried and dropped: one `JSON.parse` per chunk of lines',
  'joined into an array (no faster once made exact), 256 KiB pieces (20% slower), a generated `switch` calling each',
  'type\'s check (no change), an `index` slot in the decoded literal so the validator\'s store needs no new hidden',
  'class (-0.25% instructions: not worth a field that is not JSON.parse\'s).',
];

export const ingestSection: BenchSection = {
  name: 'ingest',
  async run(ctx: BenchContext): Promise<string> {
    const sizes = ctx.quick ? [50_000, 200_000] : [1_000_000, 4_000_000];
    const rows: Row[] = [];
    const summary: Record<number, Partial<Record<Mode, Row>>> = {};
    const t0 = Date.now();
    for (const n of sizes) {
      ctx.log(`ingest: generating ${n.toLocaleString('en-US')} events ...`);
      const t = await generateBenchTrace(ctx.tmpDir, `bench-${n}`, n);
      const big = n === sizes[sizes.length - 1];
      // The big size checks that memory stays flat; stream-json is only measured once, at the small size.
      const modes: Mode[] = big
        ? ['bare', 'ndjson', 'array-scanner', 'object', 'gzip-ndjson']
        : ['bare', 'ndjson', 'array-scanner', 'array-stream-json', 'object', 'gzip-ndjson'];
      // Rounds over all modes. A row shows the best time of its mode; "vs bare" is the median over rounds of the
      // ratio to the bare loop of the same round: the host's load drifts within minutes and moves a round's runs
      // together, so a round's ratio is steadier than the ratio of two unpaired best times.
      const rounds = 3;
      const got = new Map<Mode, Measured>();
      const ratios = new Map<Mode, number[]>();
      for (let r = 0; r < rounds; r++) {
        let bareRate = 0; // 'bare' is the first mode of every round
        for (const mode of modes) {
          if (r > 0 && mode === 'array-stream-json') continue; // slow; once is enough
          const m = measure(mode, fileFor(mode, t));
          const rate = m.events / m.ms;
          if (mode === 'bare') bareRate = rate;
          ratios.set(mode, [...(ratios.get(mode) ?? []), rate / bareRate]);
          const prev = got.get(mode);
          got.set(mode, prev ? { events: m.events, ms: Math.min(prev.ms, m.ms), maxRssKb: Math.max(prev.maxRssKb, m.maxRssKb) } : m);
        }
      }
      summary[n] = {};
      for (const mode of modes) {
        const m = got.get(mode)!;
        const file = fileFor(mode, t);
        const bytes = mode === 'gzip-ndjson' ? statSync(t.ndjson).size : statSync(file).size;
        const rate = m.events / (m.ms / 1000);
        const row: Row = {
          label: LABELS[mode], events: m.events, mb: bytes / 1e6 / (m.ms / 1000), ms: m.ms,
          rssMb: m.maxRssKb / 1024, rate, vsBare: median(ratios.get(mode)!), rounds: mode === 'bare' ? [] : ratios.get(mode)!,
        };
        rows.push(row);
        summary[n]![mode] = row;
        ctx.log(`ingest: ${n} ${mode}: ${Math.round(rate)} events/s, ${row.rssMb.toFixed(0)} MB RSS`);
      }
      await rm(t.ndjson); await rm(t.array); await rm(t.object); await rm(t.gzip);
    }
    const [small, large] = sizes as [number, number];
    const s = summary[small]!;
    const l = summary[large]!;
    // A target holds only when it holds at both sizes.
    const okJsonl = Math.min(s.ndjson?.vsBare ?? 0, l.ndjson?.vsBare ?? 0) >= 0.85;
    const okArray = Math.min(s['array-scanner']?.vsBare ?? 0, l['array-scanner']?.vsBare ?? 0) >= 0.6;
    const rssRatio = (l.ndjson!.rssMb) / (s.ndjson!.rssMb);
    const rssRatioArr = (l['array-scanner']!.rssMb) / (s['array-scanner']!.rssMb);
    const okRss = rssRatio < 1.25 && rssRatioArr < 1.25;
    const scannerVsStream = s['array-scanner']!.rate / s['array-stream-json']!.rate;
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const md = [
      '## Ingest',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/ingest.ts) on ${cpus().length} × ${cpu}, ` +
        `${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; the machine was shared with other work: single runs move by ±20% or more, so compare rows of one run.`,
      '',
      'Each row is one child process that opens a generated trace with `openTrace` (strict validation included) and',
      'reads every event; peak RSS is that process\'s `maxRSS`. The baseline is a bare loop over the same JSON Lines file that',
      'only splits on newlines and calls `JSON.parse` per line (no validation, no positions). MB/s counts decompressed bytes.',
      `Like for like: the bare loop does the reader's I/O (the same file, read ${READ / 1024} KiB at a time and handed on in ${CHUNK / 1024} KiB`,
      'pieces, the constants of readers/bytes.ts), so the two differ only in what they do with the bytes. (Until Nov 2026 the',
      'bare loop read 64 KiB at a time while the reader read 256 KiB: not the same I/O.) Rounds are interleaved, each run in its',
      'own child process; events/s, MB/s and RSS are the fastest of three runs of each mode (stream-json: one run, smaller',
      'size only), and "vs bare loop" is the median of the three rounds\' ratios to the bare loop of the same round (until',
      'the sixth round, Nov 2026, it was the ratio of the two fastest runs, which swung by a third with the host\'s load).',
      '',
      table(rows),
      '',
      'Targets:',
      '',
      `- JSON Lines >= 85% of the bare loop's event rate: ${(s.ndjson!.vsBare * 100).toFixed(0)}% at ${small.toLocaleString('en-US')} events, ${(l.ndjson!.vsBare * 100).toFixed(0)}% at ${large.toLocaleString('en-US')}: **${okJsonl ? 'met' : 'not met'}**.`,
      `- JSON array >= 60%: ${(s['array-scanner']!.vsBare * 100).toFixed(0)}% / ${(l['array-scanner']!.vsBare * 100).toFixed(0)}%: **${okArray ? 'met' : 'not met'}**.`,
      `- Peak RSS for ${large.toLocaleString('en-US')} events about the same as for ${small.toLocaleString('en-US')}: JSON Lines ×${rssRatio.toFixed(2)}, array ×${rssRatioArr.toFixed(2)}: **${okRss ? 'met' : 'not met'}**.`,
      '',
      `The byte scanner frames JSON arrays ${scannerVsStream.toFixed(1)}× as fast as stream-json, so it is the default;`,
      'stream-json stays selectable (`openTrace(path, opts, { jsonFraming: \'stream-json\' })`) for comparison.',
      `Bench time for this section: ${Math.round((Date.now() - t0) / 1000)} s.`,
      '',
      ...WHERE,
    ].join('\n');
    if (!ctx.quick) ctx.log(`ingest: wrote ${await writeDocSection(md)}`);
    return md;
  },
};

if (process.argv[2] === '--child' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await child(process.argv[3] as Mode, process.argv[4]!);
}
