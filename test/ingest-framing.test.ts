// Framing at chunk boundaries: objects split anywhere (inside strings,
// escapes, multi-byte UTF-8) come out whole, with the right line and byte
// offset, from both the JSON Lines splitter and the JSON byte scanner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readJsonLines } from '../src/trace/readers/jsonl.js';
import { scannerReader, FrameScanner } from '../src/trace/readers/frame-scanner.js';
import type { RawRecord } from '../src/trace/readers/record.js';

const TRICKY = [
  { type: 'device', ts: 0, dev: 'mlx5_0' },
  { type: 'proc', ts: 1, pid: 7, comm: 'ü日本語🚀 "}" \\ {' },
  { type: 'file', ts: 2, file: '/srv/}]{[/\u00e9\u00e9.dat', size: 4096, extra: { a: [1, { b: '}' }], c: 'x' } },
  { type: 'write', ts: 3, file: '/srv/\\"q\\"', off: 0, len: 1 },
  { type: 'exit', ts: 4, pid: 7, comm: '🚀🚀🚀🚀🚀🚀🚀🚀' },
];

function chunked(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  let k = 0;
  while (i < buf.length) {
    const n = sizes[k++ % sizes.length]!;
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

async function collect(gen: AsyncGenerator<RawRecord[]>): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const b of gen) out.push(...b);
  return out;
}

/** Each record's offset points at its '{' and its line is the count of newlines before it, plus one. */
function checkPositions(buf: Buffer, recs: RawRecord[]): void {
  for (const r of recs) {
    assert.equal(buf[r.offset], 0x7b, `offset ${r.offset} points at '{'`);
    let line = 1;
    for (let i = 0; i < r.offset; i++) if (buf[i] === 0x0a) line++;
    assert.equal(r.line, line, `line of the record at byte ${r.offset}`);
  }
}

const SPLITS = [[1], [2], [3], [5], [7], [1, 4, 2, 9], [64], [1 << 20]];

test('JSON Lines: records survive every split, with lines and byte offsets', async () => {
  const text = `\r\n${TRICKY.map((e) => JSON.stringify(e)).join('\r\n\n')}\n`;
  const buf = Buffer.from(text);
  const whole = await collect(readJsonLines(from([buf])));
  assert.deepEqual(whole.map((r) => r.value), TRICKY);
  checkPositions(buf, whole);
  for (const sizes of SPLITS) {
    const got = await collect(readJsonLines(from(chunked(buf, sizes))));
    assert.deepEqual(got, whole, `chunks of ${sizes.join(',')}`);
  }
});

test('JSON array and object: the scanner frames across every split, with lines and byte offsets', async () => {
  const texts: ['array' | 'object', string][] = [
    ['array', JSON.stringify(TRICKY)],
    ['array', JSON.stringify(TRICKY, null, 2)],
    ['object', JSON.stringify({ events: TRICKY, meta: { page_size: 4096 } }, null, 1)],
    ['object', JSON.stringify({ meta: { page_size: 4096 }, skipped: ['}', { x: '🚀]' }], events: TRICKY })],
  ];
  for (const [container, text] of texts) {
    const buf = Buffer.from(text);
    const whole = await collect(scannerReader(container, 't')(from([buf])));
    const events = whole.filter((r) => !r.header);
    assert.deepEqual(events.map((r) => r.value), TRICKY, `${container}: ${text.slice(0, 30)}`);
    if (container === 'object') assert.deepEqual(whole.filter((r) => r.header).map((r) => r.value), [{ page_size: 4096 }]);
    checkPositions(buf, whole);
    for (const sizes of SPLITS) {
      const got = await collect(scannerReader(container, 't')(from(chunked(buf, sizes))));
      assert.deepEqual(got, whole, `${container}, chunks of ${sizes.join(',')}`);
    }
  }
});

test('the scanner frames non-object elements and reports them as values (the validator rejects them)', () => {
  const sc = new FrameScanner('array', 't');
  const out: RawRecord[] = [];
  sc.push(Buffer.from('[1, "two", [3], {"type":"exit","ts":1,"pid":2}, true]'), out);
  sc.end(out);
  assert.equal(sc.error, null);
  assert.deepEqual(out.map((r) => r.value), [1, 'two', [3], { type: 'exit', ts: 1, pid: 2 }, true]);
});

test('the scanner refuses trailing data and a second events array', () => {
  for (const [container, text, re] of [
    ['array', '[{"a":1}] x', /unexpected data after the end of the trace/],
    ['object', '{"events":[],"events":[]}', /two "events" keys/],
    ['object', '{"meta":{}}', /no "events" array/],
    ['array', '[{"a":1},]', /expected an event after ','/],
  ] as const) {
    const sc = new FrameScanner(container, 't');
    const out: RawRecord[] = [];
    sc.push(Buffer.from(text), out);
    sc.end(out);
    assert.match(sc.error?.message ?? '', re, text);
  }
});
