import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { createTraceWriter, eventJson, hexAddr, type WritableEvent } from '../src/trace/write.js';
import { openTrace } from '../src/trace/open.js';
import type { ContainerFormat } from '../src/trace/source.js';

const META = { type: 'meta', format: 'pinscope-trace', version: 1, page_size: 8192, source: 'write.test "quoted" </script>' };

// Addresses as numbers and as hex strings, odd strings, every common shape.
const EVENTS: WritableEvent[] = [
  { type: 'device', ts: 0, dev: 'mlx5_0', odp: true, iommu: true },
  { type: 'file', ts: 0, file: '/mnt/pmem/ä b"c\\.dat', size: 65536, dax: true },
  { type: 'proc', ts: 1, pid: 42, comm: 'ib_write_bw\n<x>', notify_response_ns: 2_000_000 },
  { type: 'mmap', ts: 2, pid: 42, addr: 0x7f00_0000_0000, len: 65536, file: '/mnt/pmem/ä b"c\\.dat', off: 0 },
  { type: 'pin', ts: 3, pid: 42, pin: 17, dev: 'mlx5_0', addr: '0x7f0000002000', len: 8192, longterm: true, write: true },
  { type: 'dma', ts: 4, pin: 17, off: 100, len: 5000, dir: 'write', dur: 1500 },
  { type: 'mmu_notifier', ts: 5, pid: 42, start: 0x7f00_0000_2000, end: 0x7f00_0000_4000, event: 'migrate' },
  { type: 'truncate', ts: 6, pid: 7, file: '/mnt/pmem/ä b"c\\.dat', size: 0 },
  { type: 'unpin', ts: 7, pin: 17 },
  { type: 'exit', ts: 8, pid: 42 },
];

/** What a reader gives back: addresses as numbers. */
function normalized(ev: WritableEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { ...ev };
  for (const k of ['addr', 'start', 'end']) if (typeof out[k] === 'string') out[k] = Number.parseInt(out[k] as string, 16);
  return out;
}

function collector(): { stream: PassThrough; bytes: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks) };
}

async function writeAll(out: Writable | string, format: ContainerFormat, gzip: boolean, events = EVENTS, meta: object | null = META) {
  const w = createTraceWriter(out, { format, gzip, ...(meta ? { meta: meta as Record<string, unknown> } : {}) });
  for (const ev of events) await w.write(ev);
  await w.close();
  return w.count;
}

test('hexAddr and compact JSON with type first and addresses in hex', () => {
  assert.equal(hexAddr(0x7f00_0000_0000), '0x7f0000000000');
  assert.equal(hexAddr(0), '0x0');
  const line = eventJson(EVENTS[3]!);
  assert.equal(line, '{"type":"mmap","ts":2,"pid":42,"addr":"0x7f0000000000","len":65536,"file":"/mnt/pmem/ä b\\"c\\\\.dat","off":0}');
  assert.match(eventJson(EVENTS[6]!), /"start":"0x7f0000002000","end":"0x7f0000004000"/);
  // A hex string stays as given, and the caller's object is not modified.
  assert.match(eventJson(EVENTS[4]!), /"addr":"0x7f0000002000"/);
  assert.equal(typeof EVENTS[3]!.addr, 'number');
});

for (const format of ['ndjson', 'array', 'object'] as const) {
  for (const gzip of [false, true]) {
    test(`round trip through openTrace: ${format}${gzip ? ' + gzip' : ''}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pinscope-write-'));
      try {
        const path = join(dir, `t.${format}${gzip ? '.gz' : ''}`);
        assert.equal(await writeAll(path, format, gzip), EVENTS.length);
        const raw = readFileSync(path);
        assert.equal(raw[0] === 0x1f && raw[1] === 0x8b, gzip);
        const text = (gzip ? gunzipSync(raw) : raw).toString('utf8');
        // Our own reading of the container.
        if (format === 'ndjson') {
          const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
          assert.deepEqual(lines[0], META);
          assert.deepEqual(lines.slice(1), EVENTS.map(normalizedHex));
        } else if (format === 'array') {
          const arr = JSON.parse(text);
          assert.deepEqual(arr[0], META);
          assert.deepEqual(arr.slice(1), EVENTS.map(normalizedHex));
        } else {
          const obj = JSON.parse(text);
          assert.deepEqual(Object.keys(obj), ['meta', 'events']);
          assert.deepEqual({ type: 'meta', ...obj.meta }, META);
          assert.deepEqual(obj.events, EVENTS.map(normalizedHex));
        }
        // The project's reader agrees.
        const t = await openTrace(path, { lenient: false });
        const got: Record<string, unknown>[] = [];
        for await (const batch of t.batches()) for (const { index: _i, ...ev } of batch) got.push(ev);
        assert.equal(t.format, format);
        assert.equal(t.gzip, gzip);
        assert.equal(t.header.page_size, 8192);
        assert.equal(t.header.source, META.source);
        assert.deepEqual(got, EVENTS.map(normalized));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

/** The same event as the writer puts it on disk: numbers in address fields become hex. */
function normalizedHex(ev: WritableEvent): Record<string, unknown> {
  return JSON.parse(eventJson(ev));
}

test('gzip output is the gzip of the plain output, and deterministic', async () => {
  const plain = collector();
  await writeAll(plain.stream, 'ndjson', false);
  const a = collector();
  await writeAll(a.stream, 'ndjson', true);
  const b = collector();
  await writeAll(b.stream, 'ndjson', true);
  assert.deepEqual(gunzipSync(a.bytes()), plain.bytes());
  assert.deepEqual(a.bytes(), b.bytes());
  // No mtime in the gzip header (bytes 4..7), so the same input gives the same file any day.
  assert.equal(a.bytes().readUInt32LE(4), 0);
});

test('a first meta event is the header; meta anywhere else is refused', async () => {
  const viaOption = collector();
  await writeAll(viaOption.stream, 'object', false);
  const viaEvent = collector();
  await writeAll(viaEvent.stream, 'object', false, [META, ...EVENTS], null);
  assert.deepEqual(viaEvent.bytes(), viaOption.bytes());

  const w = createTraceWriter(new PassThrough(), { format: 'ndjson', gzip: false });
  w.write(EVENTS[0]!);
  assert.throws(() => w.write(META), /meta must be the first event/);
});

test('no meta and no events still make valid containers', async () => {
  for (const [format, expected] of [['ndjson', ''], ['array', '[\n]\n'], ['object', '{"events":[\n]}\n']] as const) {
    const c = collector();
    assert.equal(await writeAll(c.stream, format, false, [], null), 0);
    assert.equal(c.bytes().toString(), expected);
    if (format !== 'ndjson') JSON.parse(expected);
  }
});

test('backpressure: a slow consumer makes write() return a promise, and nothing is lost or reordered', async () => {
  const chunks: Buffer[] = [];
  let waits = 0;
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb);
    },
  });
  const w = createTraceWriter(slow, { format: 'ndjson', gzip: false, meta: META });
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const p = w.write({ type: 'dma', ts: i, pin: 1, off: 0, len: 1, dir: 'read' });
    if (p) {
      waits++;
      await p;
    }
  }
  await w.close();
  assert.ok(waits > 0, 'the writer never waited for the consumer');
  const lines = Buffer.concat(chunks).toString().trimEnd().split('\n');
  assert.equal(lines.length, n + 1);
  assert.deepEqual(lines.slice(1).map((l) => JSON.parse(l).ts), Array.from({ length: n }, (_, i) => i));
});

test('a path that cannot be opened fails at once with ENOENT', () => {
  assert.throws(() => createTraceWriter('/nonexistent-dir/x.ndjson', { format: 'ndjson', gzip: false }), { code: 'ENOENT' });
});

test('a destination error reaches the caller', async () => {
  const broken = new Writable({
    write(_c, _e, cb) {
      cb(new Error('disk full'));
    },
  });
  const w = createTraceWriter(broken, { format: 'ndjson', gzip: false });
  await assert.rejects(async () => {
    for (let i = 0; i < 10_000; i++) await w.write({ type: 'unpin', ts: i, pin: i });
    await w.close();
  }, /disk full/);
});
