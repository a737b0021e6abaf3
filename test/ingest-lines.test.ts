// JSON Lines means one JSON.parse per line. These tests hold the reader to
// that on inputs built to fool a faster reading (one array parse of a
// chunk's lines joined by ',': lines that merge, lines that split), and
// check the positions a batch recomputes on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonLines, readLineBatches } from '../src/trace/readers/jsonl.js';
import type { RawRecord } from '../src/trace/readers/record.js';
import { openTrace } from '../src/trace/open.js';
import { TraceInputError } from '../src/trace/errors.js';

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

async function collect(chunks: Buffer[]): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const b of readJsonLines(from(chunks))) out.push(...b);
  return out;
}

/** The meaning we promise: split on '\n', drop one trailing '\r', skip blank lines, JSON.parse each. */
function reference(buf: Buffer): RawRecord[] {
  const out: RawRecord[] = [];
  let offset = 0;
  let line = 1;
  for (const raw of buf.toString('utf8').split('\n')) {
    const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (s.trim() !== '') {
      try {
        out.push({ value: JSON.parse(s), line, offset });
      } catch (err) {
        out.push({ value: undefined, line, offset, bad: (err as Error).message });
      }
    }
    offset += Buffer.byteLength(raw) + 1;
    line++;
  }
  return out;
}

const EV = (ts: number) => `{"type":"exit","ts":${ts},"pid":7}`;

// Each of these, joined with ',' inside '[...]', parses; on their own some lines do not.
const FOOLING: [string, string[]][] = [
  ['a string that spans two lines, then two objects on one line', ['{"x":"a', '{y"}', `${EV(1)},${EV(2)}`]],
  ['an array that spans two lines, then two objects on one line', ['{"a":[{"x":1}', '{"y":2}]}', `${EV(3)},${EV(4)}`]],
  ['an object that spans two lines (second line starts with a key)', ['{"a":1', '"b":2}', `${EV(5)}, ${EV(6)}`]],
  ['a line that is only a closing brace', [`{"type":"exit","ts":1,"pid":7`, '}', EV(2)]],
  ['two objects on one line, nothing else odd', [EV(1), `${EV(2)} ,\t${EV(3)}`, EV(4)]],
  ['a value that is not an object', [EV(1), '[1]', '2', '"s"', 'null', EV(2)]],
  ['an object nested in a field', [EV(1), '{"type":"exit","ts":2,"pid":7,"x":{"y":1}}', EV(3)]],
  ['a "{" inside a string', [EV(1), '{"type":"proc","ts":2,"pid":7,"comm":"a{b"}', EV(3)]],
  ['blank and whitespace lines, CRLF', [EV(1), '', '  \t', `${EV(2)}\r`, EV(3)]],
  ['a line with leading whitespace', [EV(1), ` ${EV(2)}`, EV(3)]],
  ['non-ASCII before an error', ['{"type":"proc","ts":1,"pid":7,"comm":"🚀日本"}', '{"type":"exit","ts":2,', EV(3)]],
  ['plain clean lines (the fast path)', [EV(1), EV(2), '{"type":"proc","ts":3,"pid":7,"comm":"ü"}', EV(4)]],
];

test('JSON Lines: lines that merge or split in an array parse still mean one record per line', async () => {
  for (const [what, lines] of FOOLING) {
    for (const end of ['\n', '']) {
      const buf = Buffer.from(lines.join('\n') + end);
      const want = reference(buf);
      assert.deepEqual(await collect([buf]), want, `${what} (whole)`);
      for (const size of [1, 3, 7, 16, 1 << 20]) {
        assert.deepEqual(await collect(chunked(buf, size)), want, `${what} (chunks of ${size})`);
      }
    }
  }
});

test('JSON Lines: random mixes of good and fooling lines agree with one parse per line', async () => {
  let x = 12345;
  const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
  const pool = FOOLING.flatMap(([, l]) => l).concat(Array.from({ length: 40 }, (_, i) => EV(i)));
  for (let round = 0; round < 60; round++) {
    const lines = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => pool[Math.floor(rnd() * pool.length)]!);
    const buf = Buffer.from(`${lines.join(rnd() < 0.5 ? '\n' : '\r\n')}\n`);
    const want = reference(buf);
    assert.deepEqual(await collect(chunked(buf, 1 + Math.floor(rnd() * 200))), want, `round ${round}: ${lines.join(' | ')}`);
  }
});

test('JSON Lines batches: positions of a clean chunk are asked for lazily and are exact', async () => {
  const lines = Array.from({ length: 500 }, (_, i) => (i % 7 === 3 ? '{"type":"proc","ts":1,"pid":7,"comm":"日本"}' : EV(i)));
  const buf = Buffer.from(`${lines.join('\n')}\n`);
  const want = reference(buf);
  let k = 0;
  for await (const b of readLineBatches(from(chunked(buf, 4096)), false)) {
    for (let j = 0; j < b.values.length; j++, k++) {
      assert.deepEqual(b.values[j], want[k]!.value);
      assert.equal(b.line(j), want[k]!.line);
      assert.equal(b.offset(j), want[k]!.offset);
      assert.equal(b.bad(j), undefined);
    }
  }
  assert.equal(k, 500);
});

test('openTrace: an error deep in a clean JSON Lines file names its line, byte offset and event index', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinscope-lines-'));
  try {
    const lines = ['{"type":"meta","format":"pinscope-trace","version":1}', '{"type":"proc","ts":0,"pid":7,"comm":"w"}'];
    for (let i = 1; i <= 5000; i++) lines.push(EV(i));
    lines[4001] = '{"type":"exit","ts":1,"pid":7}'; // ts goes backwards at event 4000 (line 4002)
    const path = join(dir, 't.ndjson');
    await writeFile(path, `${lines.join('\n')}\n`);
    const offset = Buffer.byteLength(lines.slice(0, 4001).join('\n')) + 1;
    const trace = await openTrace(path, { lenient: false });
    await assert.rejects(async () => { for await (const _ of trace.batches()) { /* read */ } }, (err: unknown) => {
      assert.ok(err instanceof TraceInputError);
      assert.equal(err.reason, 'ts_backwards');
      assert.deepEqual(err.position, { file: path, line: 4002, offset, index: 4000 });
      return true;
    });
    // Lenient: the same event is skipped, the rest read.
    const lenient = await openTrace(path, { lenient: true });
    let n = 0;
    for await (const b of lenient.batches()) n += b.length;
    assert.equal(n, 5000);
    assert.deepEqual(lenient.stats.skipped_by_reason, { ts_backwards: 1 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
