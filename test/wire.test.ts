// The wire codec that carries validated events to replay worker threads:
// what comes out must be exactly what went in (the fields of the format;
// unknown fields are not the replay's business), whatever the batching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTrace } from '../src/trace/open.js';
import { EVENT_SPECS, type IndexedEvent } from '../src/trace/events.js';
import { WireDecoder, WireEncoder } from '../src/trace/wire.js';
import { writeWorkload, type WorkloadName } from '../src/generate/index.js';
import { analyzeTrace } from '../src/analysis/analyze.js';
import { STRATEGY_IDS } from '../src/replay/types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The event as the format defines it: its type, its declared fields that are present, its index. */
function declared(ev: IndexedEvent): Record<string, unknown> {
  const o: Record<string, unknown> = { type: ev.type };
  for (const name of Object.keys(EVENT_SPECS[ev.type].fields)) {
    const v = (ev as unknown as Record<string, unknown>)[name];
    if (v !== undefined) o[name] = v;
  }
  o.index = ev.index;
  return o;
}

/** Without the fields that are undefined: the decoder writes every field of a type, an absent one undefined. */
function present(ev: IndexedEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(ev).filter(([, v]) => v !== undefined));
}

async function eventsOf(path: string): Promise<IndexedEvent[]> {
  const t = await openTrace(path, { lenient: true });
  const out: IndexedEvent[] = [];
  for await (const b of t.batches()) out.push(...b);
  return out;
}

/** Through the wire and WireDecoder.feed, copying each event while it is valid (as the replay copies what it keeps). */
function roundTrip(events: IndexedEvent[], batchSize: number): IndexedEvent[] {
  const enc = new WireEncoder();
  const dec = new WireDecoder();
  const out: IndexedEvent[] = [];
  const sink = { feed: (ev: IndexedEvent) => void out.push({ ...ev }) };
  for (let i = 0; i < events.length; i += batchSize) dec.feed(enc.encode(events.slice(i, i + batchSize)), sink);
  return out;
}

test('every shipped trace and every workload comes back from the wire field for field', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'pinscope-wire-'));
  try {
    const paths = (await readdir(join(ROOT, 'traces', 'scenarios'))).filter((f) => f.endsWith('.ndjson'))
      .map((f) => join(ROOT, 'traces', 'scenarios', f));
    paths.push(join(ROOT, 'traces', 'dax-truncate-object.json'), join(ROOT, 'traces', 'pagecache-writeback.ndjson.gz'));
    for (const w of ['mixed', 'rdma-dax', 'gpu-odp', 'pagecache'] as WorkloadName[]) {
      const p = join(tmp, `${w}.ndjson`);
      await writeWorkload(p, { workload: w, events: 5000, seed: 5 });
      paths.push(p);
    }
    const types = new Set<string>();
    for (const path of paths) {
      const events = await eventsOf(path);
      assert.ok(events.length > 0, path);
      for (const size of [1, 7, 1000]) {
        const back = roundTrip(events, size);
        assert.equal(back.length, events.length);
        back.forEach((ev, i) => assert.deepEqual(present(ev), declared(events[i]!), `${path} event ${i} (batches of ${size})`));
      }
      for (const ev of events) types.add(ev.type);
    }
    // Every body type of the format went through.
    assert.deepEqual([...types].sort(), Object.keys(EVENT_SPECS).filter((t) => t !== 'meta').sort());
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('absent optional fields come back undefined, in one shape per type; false, zero and huge addresses survive', () => {
  const events = [
    { type: 'pin', ts: 0, pid: 1, pin: 9, addr: 2 ** 52 + 4096, len: 1, longterm: false, index: 0 },
    { type: 'dma', ts: 1, pin: 9, off: 0, len: 1, dir: 'read', dur: 0, index: 1 },
    { type: 'mmu_notifier', ts: 2, pid: 1, start: 0, end: 4096, event: 'exclusive', comm: 'a"<b>', index: 2 },
  ] as unknown as IndexedEvent[];
  const back = roundTrip(events, 3);
  assert.deepEqual(back.map(present), events);
  // JSON (what a report or an export writes) leaves undefined out: the input's fields, in table order.
  assert.equal(JSON.stringify(back), JSON.stringify(events.map(declared)));
  assert.equal(back[0]!.type === 'pin' && back[0]!.dev, undefined);
  // Every field of the type, in table order, index last: all events of a type share one hidden class.
  for (const ev of back) {
    assert.deepEqual(Object.keys(ev), ['type', ...Object.keys(EVENT_SPECS[ev.type].fields), 'index']);
  }
});

test('the string table starts over past its bound, and decoding still names every string', () => {
  const events = Array.from({ length: 70_000 }, (_, i) => ({ type: 'proc', ts: i, pid: i, comm: `p${i}`, index: i })) as unknown as IndexedEvent[];
  const enc = new WireEncoder();
  const dec = new WireDecoder();
  let resets = 0;
  const out: IndexedEvent[] = [];
  for (let i = 0; i < events.length; i += 1000) {
    const b = enc.encode(events.slice(i, i + 1000));
    if (b.reset) resets++;
    dec.feed(b, { feed: (ev) => void out.push({ ...ev }) });
  }
  assert.equal(resets, 1);
  assert.deepEqual(out.map(present), events);
});

test('one parse, any number of replay threads: byte-identical results, lenient skips included', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'pinscope-wire-'));
  try {
    const path = join(tmp, 'mixed.ndjson');
    await writeWorkload(path, { workload: 'mixed', events: 6000, seed: 9 });
    // A bad line in the middle: skipped and counted under --lenient, the same for every split.
    const { readFile } = await import('node:fs/promises');
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines.splice(3000, 0, '{"type":"dma","ts":1,"pin":424242,"off":0,"len":1,"dir":"write"}');
    await writeFile(path, lines.join('\n'));
    const opts = { strategies: [...STRATEGY_IDS], leaseBreakNs: 1_000_000, lenient: true, findings: true };
    const one = JSON.stringify(await analyzeTrace(path, { ...opts, threads: 1 }));
    for (const threads of [2, 3, 10]) assert.equal(JSON.stringify(await analyzeTrace(path, { ...opts, threads })), one, `${threads} threads`);
    assert.equal(JSON.parse(one).summary.trace.events_skipped, 1);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('a failure inside a replay thread rejects the replay with its message, on either side of the split', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'pinscope-wire-'));
  try {
    const path = join(tmp, 'mixed.ndjson');
    await writeWorkload(path, { workload: 'mixed', events: 20000, seed: 2 });
    const module = new URL('./fixtures/analysis/failing-collector.js', import.meta.url).href;
    const [mine, theirs] = (await import('../src/analysis/split.js')).splitByCost([...STRATEGY_IDS], 2);
    // One strategy replayed by this thread, one by the worker.
    for (const only of [mine![0]!, theirs![0]!]) {
      const collectors = [{ name: 'fail', module, factory: 'failingCollector', options: { after: 3, only } }];
      await assert.rejects(
        analyzeTrace(path, { strategies: [...STRATEGY_IDS], leaseBreakNs: 1_000_000, lenient: false, threads: 2, collectors }),
        new RegExp(`collector gave up under ${only}`),
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('feed refills one object per type: a field absent from the next event of the type is undefined, not the last value', () => {
  const events = [
    { type: 'dma', ts: 10, pin: 1, off: 0, len: 4096, dir: 'write', dur: 500, index: 0 },
    { type: 'pin', ts: 11, pid: 7, pin: 2, dev: 'mlx5_0', addr: 2 ** 45, len: 8192, longterm: true, write: true, index: 1 },
    { type: 'dma', ts: 12, pin: 1, off: 4096, len: 100, dir: 'read', index: 2 },
  ] as unknown as IndexedEvent[];
  const dec = new WireDecoder();
  const seen: IndexedEvent[] = [];
  const copies: Record<string, unknown>[] = [];
  dec.feed(new WireEncoder().encode(events), { feed: (ev) => { seen.push(ev); copies.push(present({ ...ev })); } });
  assert.equal(seen[0], seen[2], 'the two dma events came in one object');
  assert.notEqual(seen[0], seen[1]);
  assert.deepEqual(copies[2], { type: 'dma', ts: 12, pin: 1, off: 4096, len: 100, dir: 'read', index: 2 });
  assert.deepEqual(copies[0], { type: 'dma', ts: 10, pin: 1, off: 0, len: 4096, dir: 'write', dur: 500, index: 0 });
  assert.equal(copies[1]!.addr, 2 ** 45);
});

test('a dma event every strategy skips or drops is not decoded: the replay answers from ts, pin and dir, and sees the rest', async () => {
  const { Replay } = await import('../src/replay/engine.js');
  const { SummaryBuilder } = await import('../src/analysis/summary.js');
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-wire-skip-'));
  try {
    const path = join(dir, 'mixed.ndjson');
    await writeWorkload(path, { workload: 'mixed', events: 20000, seed: 5 });
    const events = await eventsOf(path);
    const ids = ['pin', 'fail', 'iommu', 'refuse'] as const;
    const run = (viaWire: boolean) => {
      const sums = ids.map(() => new SummaryBuilder(false));
      const r = new Replay([...ids], { pageSize: 4096, leaseBreakNs: 45e9 }, sums.map((s) => [s]));
      let fed = 0;
      let offered = 0;
      if (viaWire) {
        const sink = {
          feed: (ev: IndexedEvent) => { fed++; r.feed(ev); },
          skipDma: (ts: number, pin: number, write: boolean) => { offered++; return r.skipDma(ts, pin, write); },
        };
        const enc = new WireEncoder();
        const dec = new WireDecoder();
        for (let i = 0; i < events.length; i += 1000) dec.feed(enc.encode(events.slice(i, i + 1000)), sink);
      } else for (const ev of events) r.feed(ev);
      r.finish();
      return { out: JSON.stringify(sums.map((s) => s.finish(r.lastTs ?? 0))), dropped: r.states.map((st) => st.dropped), fed, offered, lastTs: r.lastTs };
    };
    const direct = run(false);
    const wired = run(true);
    const dmas = events.filter((e) => e.type === 'dma').length;
    assert.equal(wired.out, direct.out, 'the same findings');
    assert.deepEqual(wired.dropped, direct.dropped, 'the same DMA dropped, counted undecoded');
    assert.ok(direct.dropped[3]! > 0, 'refuse drops the DMA of the pins it refused');
    assert.equal(wired.lastTs, direct.lastTs);
    assert.equal(wired.offered, dmas, 'every dma is offered before decoding');
    const skipped = events.length - wired.fed;
    assert.ok(skipped > dmas / 4, `DMA skipped undecoded: ${skipped} of ${dmas}`);
    assert.ok(skipped < dmas, 'some DMA still needs its strategies');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
