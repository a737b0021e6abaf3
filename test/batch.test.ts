// pinscope batch end to end, through the CLI as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempFolder } from './temp.js';

const BIN = new URL('../../bin/pinscope.js', import.meta.url).pathname;

// A DAX truncate with a live long-term RDMA pin and reuse by another file:
// corruption under `none`, so --fail-on corruption has something to match.
const DAX_STORY = [
  { type: 'device', ts: 0, dev: 'mlx5_0', odp: true },
  { type: 'file', ts: 0, file: '/mnt/pmem/a.dat', dax: true, size: 8192 },
  { type: 'file', ts: 0, file: '/mnt/pmem/b.dat', dax: true, size: 0 },
  { type: 'mmap', ts: 10, pid: 42, addr: '0x7f0000000000', len: 8192, file: '/mnt/pmem/a.dat', off: 0 },
  { type: 'pin', ts: 20, pid: 42, pin: 17, dev: 'mlx5_0', addr: '0x7f0000000000', len: 8192, longterm: true, write: true },
  { type: 'truncate', ts: 50, pid: 7, file: '/mnt/pmem/a.dat', size: 0 },
  { type: 'write', ts: 60, pid: 7, file: '/mnt/pmem/b.dat', off: 0, len: 8192 },
  { type: 'dma', ts: 70, pin: 17, off: 0, len: 4096, dir: 'write' },
  { type: 'unpin', ts: 110, pin: 17 },
];
const ndjson = (evs: object[]) => evs.map((e) => JSON.stringify(e)).join('\n') + '\n';

function pinscope(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function makeFolder(): string {
  const dir = tempFolder('pinscope-batch-');
  mkdirSync(join(dir, 'east'));
  mkdirSync(join(dir, 'west'));
  writeFileSync(join(dir, 'east', 'run.ndjson'), ndjson(DAX_STORY));
  // Same name in another folder; gzip and no telling extension.
  writeFileSync(join(dir, 'west', 'run.ndjson'), gzipSync(Buffer.from(ndjson(DAX_STORY.slice(0, 5)))));
  // A hostile file name, as an array container.
  writeFileSync(join(dir, 'west', '<img src=x onerror=alert(1)>.json'), JSON.stringify(DAX_STORY));
  // A broken trace: a dma on a pin that is not live.
  writeFileSync(join(dir, 'broken.ndjson'), ndjson([{ type: 'dma', ts: 5, pin: 99, off: 0, len: 4096, dir: 'read' }]));
  writeFileSync(join(dir, 'NOTES.md'), '# not a trace\n');
  return dir;
}

test('batch: broken trace listed, non-trace ignored, same names kept apart, exit 2', () => {
  const dir = makeFolder();
  const out = join(dir, 'out');
  const r = pinscope(['batch', dir, '--out', out, '--jobs', '2', '--quiet']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, '', 'no progress when stderr is not a TTY');
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.tool, 'pinscope');
  const paths = summary.traces.map((t: { path: string }) => t.path);
  assert.deepEqual(paths, [...paths].sort(), 'entries sorted by path');
  assert.equal(summary.traces.length, 4);
  const broken = summary.traces.find((t: { path: string }) => t.path.endsWith('broken.ndjson'));
  assert.equal(broken.status, 'error');
  assert.match(broken.error, /broken\.ndjson:.*line 1.*event 0.*'pin'/);
  assert.equal(broken.report, undefined);
  const v = pinscope(['validate', join(dir, 'broken.ndjson')]);
  assert.ok(v.stderr.includes(broken.error), `batch error equals validate's: ${v.stderr}`);
  assert.deepEqual(summary.ignored.map((f: { path: string }) => f.path), [join(dir, 'NOTES.md')]);
  const reports = summary.traces.filter((t: { status: string }) => t.status === 'ok').map((t: { report: string }) => t.report);
  assert.equal(new Set(reports).size, 3, 'one report per trace, unique names');
  for (const rep of reports) assert.ok(existsSync(join(out, rep)), rep);
  const index = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(!index.includes('<img src=x'), 'hostile file name escaped in the index');
  for (const rep of reports) assert.ok(index.includes(`href="${rep}"`) || index.includes(encodeURI(rep)), `index links ${rep}`);
  assert.ok(index.includes('broken.ndjson'), 'failed trace listed in the index');
});

test('batch entries equal replay --json; --lenient gives 0; --fail-on gives 1; jobs do not change results', () => {
  const dir = makeFolder();
  // Outputs outside the folder, so one run's reports are not the next run's input.
  const outs = tempFolder('pinscope-batch-out-');
  const a = pinscope(['batch', dir, '--out', join(outs, 'o1'), '--jobs', '1', '--json', '--lenient', '--quiet']);
  assert.equal(a.code, 0, a.stderr);
  const fromStdout = JSON.parse(a.stdout);
  const summary = JSON.parse(readFileSync(join(outs, 'o1', 'summary.json'), 'utf8'));
  assert.deepEqual(fromStdout, summary, '--json prints summary.json');
  for (const entry of summary.traces.filter((t: { status: string }) => t.status === 'ok')) {
    const replay = JSON.parse(execFileSync(process.execPath, [BIN, 'replay', entry.path, '--json', '--lenient'], { encoding: 'utf8' }));
    assert.deepEqual(entry.trace, replay.trace, entry.path);
    assert.deepEqual(entry.strategies, replay.strategies, entry.path);
  }
  const east = summary.traces.find((t: { path: string }) => t.path.endsWith(join('east', 'run.ndjson')));
  assert.equal(east.strategies.none.counts.corruption, 1);

  const b = pinscope(['batch', dir, '--out', join(outs, 'o2'), '--jobs', '2', '--lenient', '--quiet']);
  assert.equal(b.code, 0);
  assert.equal(readFileSync(join(outs, 'o2', 'summary.json'), 'utf8'), readFileSync(join(outs, 'o1', 'summary.json'), 'utf8'));

  const c = pinscope(['batch', dir, '--out', join(outs, 'o3'), '--lenient', '--quiet', '--fail-on', 'corruption']);
  assert.equal(c.code, 1);
  const d = pinscope(['batch', dir, '--out', join(outs, 'o4'), '--lenient', '--quiet', '--strategy', 'fail', '--fail-on', 'corruption']);
  assert.equal(d.code, 0, 'fail refuses the truncate: no corruption to match');
});

test('batch: bad usage exits 2 with one line', () => {
  const r = pinscope(['batch', '/nonexistent/folder', '--quiet']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pinscope: .*not a folder\n$/);
  const j = pinscope(['batch', tmpdir(), '--jobs', '0']);
  assert.equal(j.code, 2);
});

test('batch: a worker that crashes marks its trace failed and the rest go on', async () => {
  const { runBatch } = await import('../src/batch/run.js');
  const dir = tempFolder('pinscope-batch-crash-');
  for (const name of ['a.ndjson', 'crash.ndjson', 'z.ndjson']) writeFileSync(join(dir, name), ndjson(DAX_STORY));
  const out = tempFolder('pinscope-batch-crash-out-');
  const { summary, failed } = await runBatch({
    dir, out, jobs: 2, strategies: ['none', 'pin'], leaseBreakNs: 45e9, lenient: false,
    taskModule: new URL('./fixtures/batch/crashing-task.js', import.meta.url).href,
  });
  assert.equal(failed, 1);
  assert.deepEqual(summary.traces.map((t) => t.status), ['ok', 'error', 'ok']);
  assert.match(summary.traces[1]!.error!, /crash\.ndjson: worker crashed/);
  assert.equal(summary.traces[2]!.strategies!.none!.counts.corruption, 1);
});

test('batch: a progress bar on stderr when it is a terminal (under script(1)), none with --quiet', () => {
  const dir = makeFolder();
  const outs = tempFolder('pinscope-batch-tty-');
  const run = (extra: string) =>
    spawnSync('script', ['-qec', `${process.execPath} ${BIN} batch ${dir} --out ${join(outs, extra || 'bar')} --lenient ${extra}`, '/dev/null'], {
      encoding: 'utf8', timeout: 120_000,
    });
  const shown = run('');
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /traces .*\d+\/4 \| [\d,]+ events\/s \| ETA (\?|\d+s)/);
  assert.match(shown.stdout, /4\/4/);
  const quiet = run('--quiet');
  assert.equal(quiet.status, 0);
  assert.doesNotMatch(quiet.stdout, /events\/s/);
});

test('etaText', async () => {
  const { etaText } = await import('../src/cli/progress.js');
  assert.equal(etaText(0, 10, 5), '?');
  assert.equal(etaText(5, 10, 5), '5s');
  assert.equal(etaText(1, 100, 2), '3m18s');
});

test('a report the worker cannot write fails its trace with the reason, not as an internal error', async () => {
  const { default: runTraceTask } = await import('../src/batch/task.js');
  const dir = tempFolder('pinscope-batch-task-');
  const trace = join(dir, 't.ndjson');
  writeFileSync(trace, ndjson(DAX_STORY));
  writeFileSync(join(dir, 'afile'), '');
  const out = await runTraceTask({ path: trace, reportFile: join(dir, 'afile', 'r.html'), strategies: ['pin'], leaseBreakNs: 45e9, lenient: false });
  assert.deepEqual(out, { status: 'error', error: `${trace}: cannot write ${join(dir, 'afile', 'r.html')}: ${join(dir, 'afile')} is a file, not a folder` });
  const gone = await runTraceTask({ path: join(dir, 'missing.ndjson'), reportFile: join(dir, 'r.html'), strategies: ['pin'], leaseBreakNs: 45e9, lenient: false });
  assert.equal(gone.status, 'error');
  assert.doesNotMatch((gone as { error: string }).error, /internal error/);
});
