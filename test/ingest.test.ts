// Every container gives the same events; detection is by content; meta is
// a header; gzip, stdin, stream-json and the byte scanner all agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { openTrace, type JsonFraming } from '../src/trace/open.js';
import { TraceInputError } from '../src/trace/errors.js';
import type { IndexedEvent } from '../src/trace/events.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'pinscope.js');

const META = { type: 'meta', format: 'pinscope-trace', version: 1, page_size: 8192, source: 'ingest test — é日本🚀' };
const EVENTS: Record<string, unknown>[] = [
  { type: 'device', ts: 0, dev: 'mlx5_0', odp: true, iommu: false },
  { type: 'file', ts: 0, file: '/mnt/pmem0/ünïcode {braces} "quoted" \\ back.dat', dax: true, size: 1048576 },
  { type: 'proc', ts: 0, pid: 42, comm: 'ib_write_bw 🚀', notify_response_ns: 2000000 },
  { type: 'mmap', ts: 10, pid: 42, addr: '0x7f0000000000', len: 1048576, file: '/mnt/pmem0/ünïcode {braces} "quoted" \\ back.dat', off: 0 },
  { type: 'pin', ts: 20, pid: 42, pin: 17, dev: 'mlx5_0', addr: '0x7f0000000000', len: 8192, longterm: true, write: true,
    extra: { nested: [1, { deep: '}' }], note: 'unknown fields are ignored' } },
  { type: 'dma', ts: 30, pin: 17, off: 0, len: 4096, dir: 'write', dur: 1500 },
  { type: 'mmu_notifier', ts: 40, pid: 42, start: 139637976727552, end: '0x7f0000002000', event: 'migrate' },
  { type: 'truncate', ts: 50, pid: 7, file: '/mnt/pmem0/ünïcode {braces} "quoted" \\ back.dat', size: 0 },
  { type: 'unpin', ts: 110, pin: 17 },
  { type: 'exit', ts: 120, pid: 42 },
];

interface Read { format: string; gzip: boolean; page: number; events: IndexedEvent[]; read: number }

async function readAll(path: string, framing: JsonFraming = 'scanner', lenient = false): Promise<Read> {
  const t = await openTrace(path, { lenient }, { jsonFraming: framing });
  const events: IndexedEvent[] = [];
  for await (const b of t.batches()) events.push(...b);
  return { format: t.format, gzip: t.gzip, page: t.header.page_size, events, read: t.stats.events_read };
}

/** Every container, as text, for the same meta + events. */
function containers(): Record<string, string> {
  const lines = [META, ...EVENTS].map((e) => JSON.stringify(e));
  const { type: _t, ...metaNoType } = META;
  return {
    ndjson: `${lines.join('\n')}\n`,
    'ndjson-crlf-blank': `\r\n${lines.join('\r\n\r\n')}\r\n\r\n`,
    'array-compact': JSON.stringify([META, ...EVENTS]),
    'array-pretty': JSON.stringify([META, ...EVENTS], null, 2),
    'object-meta-first': JSON.stringify({ meta: META, events: EVENTS }),
    'object-meta-after': JSON.stringify({ events: EVENTS, other: { x: [1, 2, '}]'] }, meta: metaNoType }, null, 1),
    'object-meta-in-events': JSON.stringify({ events: [META, ...EVENTS] }),
  };
}

const FORMAT_OF: Record<string, string> = {
  ndjson: 'ndjson', 'ndjson-crlf-blank': 'ndjson', 'array-compact': 'array', 'array-pretty': 'array',
  'object-meta-first': 'object', 'object-meta-after': 'object', 'object-meta-in-events': 'object',
};

test('every container (and its gzip) gives the same events, header and indexes; detection ignores the name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-ingest-'));
  try {
    const texts = containers();
    // Names deliberately lie about the content.
    await writeFile(join(dir, 'ref.json'), texts.ndjson!);
    const ref = await readAll(join(dir, 'ref.json'));
    assert.equal(ref.format, 'ndjson');
    assert.equal(ref.page, 8192);
    assert.equal(ref.events.length, EVENTS.length);
    assert.equal(ref.read, EVENTS.length, 'meta is a header, not an event');
    assert.deepEqual(ref.events.map((e) => e.index), EVENTS.map((_, i) => i));
    assert.equal((ref.events[3] as { addr: number }).addr, 0x7f0000000000, 'hex addresses are normalized to numbers');
    assert.equal((ref.events[6] as { end: number }).end, 0x7f0000002000);
    assert.equal((ref.events[5] as { dur?: number }).dur, 1500);
    assert.equal('longterm' in ref.events[8]!, false, 'defaults are not filled in');
    for (const [name, text] of Object.entries(texts)) {
      for (const gz of [false, true]) {
        const path = join(dir, `${name}${gz ? '.txt' : '.ndjson'}`);
        await writeFile(path, gz ? gzipSync(Buffer.from(text)) : text);
        const framings: JsonFraming[] = FORMAT_OF[name] === 'ndjson' ? ['scanner'] : ['scanner', 'stream-json'];
        for (const framing of framings) {
          const got = await readAll(path, framing);
          const what = `${name}${gz ? ' (gzip)' : ''} via ${framing}`;
          assert.equal(got.format, FORMAT_OF[name], what);
          assert.equal(got.gzip, gz, what);
          assert.equal(got.page, 8192, `${what}: page_size from meta`);
          assert.deepEqual(got.events, ref.events, what);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the object container reads meta that comes after events, from a file, before the first batch', async () => {
  const t = await openTrace(join(ROOT, 'test/fixtures/ingest/meta-after-page.json'), { lenient: false });
  assert.equal(t.format, 'object');
  assert.equal(t.header.page_size, 65536);
  let n = 0;
  for await (const b of t.batches()) n += b.length;
  assert.equal(n, 2);
});

function runCli(args: string[], input: Buffer | string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('standard input: every container through `pinscope validate -`', () => {
  const texts = containers();
  const n = EVENTS.length;
  // Each run starts the whole CLI: a few containers, plain and gzip, keep the test short.
  const cases: [string, boolean][] = [['ndjson', false], ['ndjson', true], ['array-pretty', false], ['object-meta-first', true]];
  for (const [name, gz] of cases) {
    const text = texts[name]!;
    {
      const r = runCli(['validate', '-'], gz ? gzipSync(Buffer.from(text)) : text);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, `ok -: ${n} events (${FORMAT_OF[name]}${gz ? ', gzip' : ''})\n`, name);
    }
  }
});

test('standard input: meta after events that changes page_size is refused with a clear message', () => {
  const r = runCli(['validate', '-'], JSON.stringify({ events: EVENTS, meta: { page_size: 65536 } }));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /put "meta" before "events"/);
  assert.match(r.stderr, /field 'page_size'/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  // The same meta with the default page size is fine.
  const ok = runCli(['validate', '-'], JSON.stringify({ events: EVENTS, meta: { page_size: 4096, version: 1 } }));
  assert.equal(ok.status, 0, ok.stderr);
});

test('a truncated gzip stream is fatal, even under --lenient', async () => {
  for (const lenient of [false, true]) {
    await assert.rejects(
      readAll(join(ROOT, 'test/fixtures/ingest/truncated.ndjson.gz'), 'scanner', lenient),
      (err: unknown) => err instanceof TraceInputError && err.reason === 'truncated_gzip' &&
        /truncated\.ndjson\.gz:byte \d+: gzip stream is truncated/.test(err.message),
    );
  }
});

test('framing errors in a JSON array are fatal and say line, byte and event index', async () => {
  for (const lenient of [false, true]) {
    await assert.rejects(readAll(join(ROOT, 'test/fixtures/ingest/missing-comma.json'), 'scanner', lenient), (err: unknown) => {
      assert.ok(err instanceof TraceInputError);
      assert.equal(err.reason, 'container');
      assert.equal(err.position.line, 4);
      assert.equal(err.position.index, 2);
      assert.equal(err.position.offset, 81);
      assert.match(err.message, /missing-comma\.json:line 4:byte 81: event 2: expected ',' or '\]' after an event, got '\{'/);
      return true;
    });
  }
  await assert.rejects(readAll(join(ROOT, 'test/fixtures/ingest/truncated-array.json')), (err: unknown) => {
    assert.ok(err instanceof TraceInputError);
    assert.match(err.message, /truncated-array\.json:line 4:byte \d+: event 2: unexpected end of input inside the array/);
    return true;
  });
});

test('an element the scanner framed but JSON.parse rejects is skippable under --lenient', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-ingest-'));
  try {
    const path = join(dir, 't.json');
    await writeFile(path, '[{"type":"device","ts":0,"dev":"a"},\n{"type":"proc","ts":01,"pid":1},\n{"type":"exit","ts":2,"pid":1}]');
    await assert.rejects(readAll(path), /t\.json:line 2:byte 37: event 1: malformed JSON/);
    const got = await readAll(path, 'scanner', true);
    assert.deepEqual(got.events.map((e) => e.type), ['device', 'exit']);
    assert.equal(got.read, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad meta headers are refused: page_size, version, format', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-ingest-'));
  try {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ type: 'meta', page_size: 3000 }, /field 'page_size': expected a power of two >= 512, got 3000/],
      [{ type: 'meta', page_size: 256 }, /field 'page_size': expected an integer >= 512, got 256/],
      [{ type: 'meta', version: 2 }, /field 'version': expected 1/],
      [{ type: 'meta', format: 'perfetto' }, /field 'format': expected "pinscope-trace"/],
    ];
    for (const [meta, re] of cases) {
      const path = join(dir, 'm.ndjson');
      await writeFile(path, `${JSON.stringify(meta)}\n{"type":"device","ts":0,"dev":"a"}\n`);
      await assert.rejects(openTrace(path, { lenient: true }), re);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a malformed meta value in the object container is an error, wherever it sits', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-ingest-'));
  try {
    for (const text of ['{"meta":{"page_size":01},"events":[]}', '{"events":[],"meta":{"page_size":01}}']) {
      const path = join(dir, 'm.json');
      await writeFile(path, text);
      // The meta value's own offset: 8 where it leads, 21 after "events".
      await assert.rejects(readAll(path, 'scanner', true), new RegExp(`m\\.json:line 1:byte ${text.indexOf('{"page')}: field 'meta': malformed JSON`));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('not a trace: empty input and non-JSON are one-line container errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-ingest-'));
  try {
    await writeFile(join(dir, 'empty'), '  \n');
    await writeFile(join(dir, 'text'), 'hello\n');
    await assert.rejects(openTrace(join(dir, 'empty'), { lenient: false }), /empty input/);
    await assert.rejects(openTrace(join(dir, 'text'), { lenient: false }), /text:byte 0: not a trace/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('progress is reported in input bytes (compressed for gzip) and bytes_read matches the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-ingest-'));
  try {
    const data = gzipSync(Buffer.from(containers().ndjson!));
    const path = join(dir, 't.gz');
    await writeFile(path, data);
    const seen: number[] = [];
    const t = await openTrace(path, { lenient: false, onProgress: (b) => seen.push(b) });
    for await (const _ of t.batches()) { /* drain */ }
    assert.equal(t.stats.bytes_read, data.length);
    assert.equal(seen[seen.length - 1], data.length);
    assert.equal(t.stats.first_ts, 0);
    assert.equal(t.stats.last_ts, 120);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a UTF-8 byte order mark is skipped by every container, and positions stay the file\'s own', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-bom-'));
  try {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const lines = EVENTS.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const want = (await readAll(await put(dir, 'plain.ndjson', Buffer.from(lines)))).events;
    for (const [name, body] of [
      ['a.ndjson', lines],
      ['a.json', JSON.stringify(EVENTS)],
      ['o.json', JSON.stringify({ events: EVENTS })],
    ] as const) {
      const path = await put(dir, name, Buffer.concat([bom, Buffer.from(body)]));
      assert.deepEqual((await readAll(path)).events, want, name);
      assert.deepEqual((await readAll(path, 'scanner')).events, want, `${name} gzip-free scanner`);
      const gz = await put(dir, name + '.gz', gzipSync(Buffer.concat([bom, Buffer.from(body)])));
      assert.deepEqual((await readAll(gz)).events, want, `${name}.gz`);
    }
    // A bad second element: its byte offset counts the BOM, as a hex dump of the file would.
    const bad = await put(dir, 'bad.json', Buffer.concat([bom, Buffer.from('[{"type":"device","ts":0,"dev":"a"},{"type":"exit","ts":"x","pid":1}]')]));
    await assert.rejects(readAll(bad), /bad\.json:line 1:byte 39: event 1: field 'ts'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a number too large for a double is range_overflow, named as such (JSON.parse reads 1e400 as Infinity)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-inf-'));
  try {
    const path = await put(dir, 'inf.ndjson', Buffer.from('{"type":"file","ts":0,"file":"/a","size":1e400}\n{"type":"file","ts":0,"file":"/b","size":-1e400}\n'));
    await assert.rejects(readAll(path), (err: unknown) => err instanceof TraceInputError && err.reason === 'range_overflow' &&
      /inf\.ndjson:line 1: event 0: field 'size': a number too large for a double/.test(err.message));
    const skipped: TraceInputError[] = [];
    const t = await openTrace(path, { lenient: true }, { onSkip: (e) => void skipped.push(e) });
    for await (const _ of t.batches()) { /* drain */ }
    assert.deepEqual(skipped.map((e) => [e.reason, e.detail]), [
      ['range_overflow', 'a number too large for a double (read as Infinity), far beyond 2^53 (the largest exact integer)'],
      ['bad_field', 'expected a non-negative integer, got -Infinity'],
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function put(dir: string, name: string, body: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, body);
  return path;
}
