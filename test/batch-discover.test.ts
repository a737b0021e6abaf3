import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { discoverTraces, sniffTrace } from '../src/batch/discover.js';
import { reportNames } from '../src/batch/report-names.js';
import { tempFolder } from './temp.js';

const ev = '{"type":"file","ts":0,"file":"/a","size":4096}\n';

test('sniffTrace recognises every container by content, whatever the name', () => {
  assert.equal(sniffTrace(Buffer.from(ev)), null);
  assert.equal(sniffTrace(Buffer.from('{"ts":0,"type":"pin","pid":1}')), null);
  assert.equal(sniffTrace(Buffer.from('[\n  {\n    "type": "meta", "version": 1\n  }\n]')), null);
  assert.equal(sniffTrace(Buffer.from('{ "events": [], "meta": {} }')), null);
  assert.equal(sniffTrace(gzipSync(Buffer.from(ev))), null);
  assert.equal(sniffTrace(gzipSync(Buffer.from(ev)).subarray(0, 30)), null, 'a partial gzip head still sniffs');
  assert.match(sniffTrace(Buffer.from('# notes\n'))!, /not JSON/);
  assert.match(sniffTrace(Buffer.from('{"name":"pkg","version":"1"}'))!, /not a trace/);
  assert.match(sniffTrace(Buffer.from('[1,2,3]'))!, /not a trace event/);
  assert.equal(sniffTrace(Buffer.alloc(0)), 'empty');
});

test('discoverTraces walks folders, sorts, lists what it ignored, and skips the output folder', async () => {
  const dir = tempFolder('pinscope-discover-');
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  mkdirSync(join(dir, 'reports'));
  writeFileSync(join(dir, 'b', 'x.ndjson'), ev);
  writeFileSync(join(dir, 'a', 'x.ndjson'), ev);
  writeFileSync(join(dir, 'a', 'capture.bin'), gzipSync(Buffer.from(ev)));
  writeFileSync(join(dir, 'README.md'), '# hi\n');
  writeFileSync(join(dir, 'reports', 'summary.json'), '{"tool":"pinscope"}');
  const found = await discoverTraces(dir, join(dir, 'reports'));
  assert.deepEqual(found.traces, [join(dir, 'a', 'capture.bin'), join(dir, 'a', 'x.ndjson'), join(dir, 'b', 'x.ndjson')]);
  assert.deepEqual(found.ignored.map((f) => f.path), [join(dir, 'README.md')]);
});

test('reportNames are unique even for the same name in two folders', () => {
  const names = reportNames(['a/x.ndjson', 'a--x.ndjson', 'b/x.ndjson', 'c/<script>.json', 'C/<script>.json']);
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length);
  assert.deepEqual(names.slice(0, 3), ['a--x.ndjson.html', 'a--x.ndjson~2.html', 'b--x.ndjson.html']);
  for (const n of names) assert.match(n, /^[A-Za-z0-9._~-]+\.html$/);
});

test('a gzip file cut short or corrupt is a trace (its replay names the gzip error), and a mistyped first event too', () => {
  const gz = gzipSync(Buffer.from(ev.repeat(200)));
  assert.equal(sniffTrace(gz.subarray(0, 10)), null, 'only the gzip header');
  assert.equal(sniffTrace(Buffer.concat([gz.subarray(0, 10), Buffer.from('garbage that is not deflate')])), null);
  // Not gzip of a trace: still ignored.
  assert.match(sniffTrace(gzipSync(Buffer.from('# notes\n')))!, /not JSON/);
  // An unknown type beside a ts is an event with a typo: validate says which.
  assert.equal(sniffTrace(Buffer.from('{"type":"pinn","ts":0}\n')), null);
  assert.equal(sniffTrace(Buffer.from('[{"ts":0,"type":"dmaa"}]')), null);
  assert.match(sniffTrace(Buffer.from('{"type":"module","name":"x"}'))!, /not a trace/);
});

test('discoverTraces reads a link to a file as the file and lists links it does not follow', async () => {
  const dir = tempFolder('pinscope-discover-links-');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'x.ndjson'), ev);
  symlinkSync(join(dir, 'sub', 'x.ndjson'), join(dir, 'link.ndjson'));
  symlinkSync(join(dir, 'sub'), join(dir, 'dirlink'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.ndjson'));
  symlinkSync(dir, join(dir, 'sub', 'loop'));
  const found = await discoverTraces(dir);
  assert.deepEqual(found.traces, [join(dir, 'link.ndjson'), join(dir, 'sub', 'x.ndjson')]);
  assert.deepEqual(found.ignored.map((f) => [f.path, f.reason]), [
    [join(dir, 'dangling.ndjson'), 'a symbolic link to nothing'],
    [join(dir, 'dirlink'), 'a symbolic link to a folder (not followed)'],
    [join(dir, 'sub', 'loop'), 'a symbolic link to a folder (not followed)'],
  ]);
});
