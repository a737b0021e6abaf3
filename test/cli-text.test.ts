// Names from a hostile trace or folder (ESC sequences, newlines, C1 controls)
// never reach the terminal raw: readable output quotes them, messages escape
// them and stay one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURE, pinscope, tempFolder, TRACE } from './cli-run.js';

// Any control character but the newline that ends each line.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const ESC_NAME = 'x\u001b[31mred\u009b';

function hostileTrace(dir: string): string {
  const path = join(dir, 'hostile.ndjson');
  const lines = [
    { type: 'meta', format: 'pinscope-trace', version: 1, page_size: 4096, source: 'a\u001b]0;title\u0007\nsecond line' },
    { type: 'device', ts: 0, dev: `dev${ESC_NAME}` },
  ];
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

test('stats prints trace names with control characters JSON-quoted', () => {
  const dir = tempFolder();
  const r = pinscope(['stats', hostileTrace(dir)]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, RAW_CONTROL);
  assert.match(r.stdout, /source: "a\\u001b\]0;title\\u0007\\nsecond line"\n/);
  assert.ok(r.stdout.includes('devices     1: "devx\\u001b[31mred\\u009b" ('), r.stdout);
  assert.equal(r.stdout.split('\n').length, 10, 'nine lines: the newline in the source is escaped');
});

test('replay, validate and batch quote or escape a file name with control characters', () => {
  const dir = tempFolder();
  const good = join(dir, `${ESC_NAME}.ndjson`);
  copyFileSync(TRACE, good);
  const replay = pinscope(['replay', good, '--strategy', 'none']);
  assert.equal(replay.status, 0, replay.stderr);
  assert.doesNotMatch(replay.stdout, RAW_CONTROL);
  assert.ok(replay.stdout.startsWith(JSON.stringify(good).replace('\u009b', '\\u009b')), replay.stdout);

  const bad = join(dir, 'bad\nname.ndjson');
  writeFileSync(bad, '{"type":"pin"}\n');
  const val = pinscope(['validate', good, bad]);
  assert.equal(val.status, 2);
  assert.doesNotMatch(val.stdout + val.stderr, RAW_CONTROL);
  assert.equal(val.stdout.split('\n').length, 2, val.stdout);
  assert.equal(val.stderr.split('\n').length, 2, val.stderr);
  assert.ok(val.stderr.startsWith(`pinscope: ${dir}/bad\\nname.ndjson:line 1:`), val.stderr);

  const folder = join(dir, 'batch');
  mkdirSync(folder);
  copyFileSync(bad, join(folder, 'bad\u001b[2Jname.ndjson'));
  const batch = pinscope(['batch', folder, '--out', join(dir, 'out'), '--quiet']);
  assert.equal(batch.status, 2);
  assert.doesNotMatch(batch.stdout + batch.stderr, RAW_CONTROL);
  assert.match(batch.stdout, /failed: .*bad\\u001b\[2Jname\.ndjson:line 1:/);
});

test('export, import and report name an output path with control characters quoted', () => {
  const dir = tempFolder();
  const out = (ext: string) => join(dir, `out${ESC_NAME}.${ext}`);
  for (const [args, stream] of [
    [['export', TRACE, '-o', out('json')], 'stderr'],
    [['import', 'bpftrace', CAPTURE, '-o', out('ndjson')], 'stderr'],
    [['report', TRACE, '-o', out('html'), '--static'], 'stdout'],
  ] as const) {
    const r = pinscope([...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, RAW_CONTROL, args[0]);
    assert.ok(r[stream].includes(JSON.stringify(args[args.length - (args[0] === 'report' ? 2 : 1)]).replace('\u009b', '\\u009b')), `${args[0]}: ${r[stream]}`);
  }
});
