// The shipped example traces: valid, small, telling the story their meta says,
// and the generated ones exactly what `pinscope generate` makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { openTrace } from '../src/trace/open.js';
import type { IndexedEvent, MmapEvent, PinEvent } from '../src/trace/events.js';
import { writeWorkload, WORKLOAD_NAMES } from '../src/generate/index.js';

const TRACES = new URL('../../traces/', import.meta.url).pathname;

async function read(path: string) {
  const t = await openTrace(path, { lenient: false });
  const events: IndexedEvent[] = [];
  for await (const b of t.batches()) events.push(...b);
  return { t, events };
}

const shipped = () => [
  ...readdirSync(TRACES).filter((f) => statSync(TRACES + f).isFile()).map((f) => TRACES + f),
  ...readdirSync(TRACES + 'generated').map((f) => `${TRACES}generated/${f}`),
];

test('every shipped example trace is valid, small, and says in its meta what it shows', async () => {
  const files = shipped();
  for (const name of ['dax-truncate.ndjson', 'dax-truncate-array.json', 'dax-truncate-object.json', 'pagecache-writeback.ndjson.gz']) {
    assert.ok(files.includes(TRACES + name), `missing ${name}`);
  }
  for (const w of WORKLOAD_NAMES) assert.ok(files.includes(`${TRACES}generated/${w}.ndjson`), `missing generated/${w}.ndjson`);
  for (const f of files) {
    assert.ok(statSync(f).size < 300 * 1024, `${f} is not small`);
    const { t, events } = await read(f);
    assert.ok(events.length > 0, f);
    assert.ok((t.header.source ?? '').length > 20, `${f}: meta.source should say what the trace shows`);
  }
});

test('the dax-truncate story is the same in all three containers, meta after events in the object', async () => {
  const nd = await read(TRACES + 'dax-truncate.ndjson');
  const arr = await read(TRACES + 'dax-truncate-array.json');
  const obj = await read(TRACES + 'dax-truncate-object.json');
  assert.equal(nd.t.format, 'ndjson');
  assert.equal(arr.t.format, 'array');
  assert.equal(obj.t.format, 'object');
  assert.deepEqual(arr.events, nd.events);
  assert.deepEqual(obj.events, nd.events);
  const objText = readFileSync(TRACES + 'dax-truncate-object.json', 'utf8');
  assert.ok(objText.indexOf('"meta"') > objText.indexOf('"events"'), 'meta should come after events');
  assert.match(readFileSync(TRACES + 'dax-truncate-array.json', 'utf8'), /^\[\n {2}\{\n {4}"type"/, 'array should be pretty-printed');

  // pin of DAX pages -> truncate frees them -> write to another DAX file -> DMA write through the pin.
  const ev = nd.events;
  const pin = ev.find((e): e is PinEvent & { index: number } => e.type === 'pin' && e.longterm === true && e.write === true)!;
  const files = new Map(ev.flatMap((e) => (e.type === 'file' ? [[e.file, e] as const] : [])));
  const map = ev.find((e): e is MmapEvent & { index: number } => e.type === 'mmap' && e.pid === pin.pid)!;
  assert.ok(pin && map.file && files.get(map.file)?.dax);
  const trunc = ev.find((e) => e.type === 'truncate' && e.file === map.file && e.index > pin.index)!;
  assert.ok(trunc.type === 'truncate' && trunc.size < pin.addr - map.addr + pin.len, 'the truncate frees pinned pages');
  const reuse = ev.find((e) => e.type === 'write' && e.index > trunc.index && e.file !== map.file && files.get(e.file)?.dax === true);
  assert.ok(reuse, 'another DAX file grows right after');
  assert.ok(ev.some((e) => e.type === 'dma' && e.dir === 'write' && e.pin === pin.pin && e.index > reuse.index), 'DMA after reuse');
});

test('pagecache-writeback: gzip, an O_DIRECT DMA write inside a writeback window, a truncate under a short-term pin', async () => {
  const raw = readFileSync(TRACES + 'pagecache-writeback.ndjson.gz');
  assert.deepEqual([...raw.subarray(0, 2)], [0x1f, 0x8b]);
  const { t, events } = await read(TRACES + 'pagecache-writeback.ndjson.gz');
  assert.equal(t.gzip, true);
  const start = events.find((e) => e.type === 'writeback' && e.phase === 'start')!;
  const end = events.find((e) => e.type === 'writeback' && e.phase === 'end')!;
  const inWindow = events.filter((e) => e.type === 'dma' && e.dir === 'write' && e.index > start.index && e.index < end.index);
  assert.ok(inWindow.length > 0);
  const shortPins = events.filter((e) => e.type === 'pin' && e.longterm === false);
  assert.ok(shortPins.length >= 2);
  const trunc = events.find((e) => e.type === 'truncate')!;
  const last = shortPins.at(-1)!;
  assert.ok(trunc.index > last.index && !events.some((e) => e.type === 'unpin' && e.pin === (last as { pin: number }).pin && e.index < trunc.index));
});

test('traces/generated are byte for byte what `pinscope generate <w> --events 2000 --seed 1` writes', async () => {
  for (const w of WORKLOAD_NAMES) {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await writeWorkload(out, { workload: w, events: 2000, seed: 1 });
    assert.ok(Buffer.concat(chunks).equals(readFileSync(`${TRACES}generated/${w}.ndjson`)), `${w}: regenerate it (see docs/trace-format.md)`);
  }
});
